"""Hosts made of Linux network namespaces, for the multi-host test (root only).

Each host is a namespace whose one address sits on every link it has; a link is a veth pair
between two hosts with point-to-point addresses. There is no bridge and no forwarding, so a host
reaches exactly the hosts it is linked to. Processes run in a host through ``ip netns exec``, in
process groups of their own; ``close`` ends every process of every host (the groups first, then
whatever a namespace still holds), deletes the namespaces (their veths go with them) and the
work directory, and is safe to call after any failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Host:
    name: str
    netns: str
    address: str


class Hosts:
    def __init__(self, addresses: Mapping[str, str], links: Sequence[tuple[str, str]], work: Path) -> None:
        self.token = uuid.uuid4().hex[:6]
        self.work = work
        self.logs = work / "logs"
        self.hosts = {name: Host(name, f"zp{self.token}-{name}", address) for name, address in addresses.items()}
        self.links = list(links)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._host_of: dict[str, str] = {}
        self._made: list[str] = []

    def __getitem__(self, name: str) -> Host:
        return self.hosts[name]

    # -- network --------------------------------------------------------------------------

    def build(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        for host in self.hosts.values():
            _ip("netns", "add", host.netns)
            self._made.append(host.netns)
            _ip("-n", host.netns, "link", "set", "lo", "up")
        number = {name: index for index, name in enumerate(self.hosts)}
        for a, b in self.links:
            # Interface names hold 15 characters: "v", the token, the numbers of both ends.
            end_a, end_b = f"v{self.token}{number[a]}{number[b]}", f"v{self.token}{number[b]}{number[a]}"
            host_a, host_b = self.hosts[a], self.hosts[b]
            other_end = ("peer", "name", end_b, "netns", host_b.netns)
            _ip("link", "add", end_a, "netns", host_a.netns, "type", "veth", *other_end)
            for host, end, peer in ((host_a, end_a, host_b), (host_b, end_b, host_a)):
                _ip("-n", host.netns, "addr", "add", host.address, "peer", f"{peer.address}/32", "dev", end)
                _ip("-n", host.netns, "link", "set", end, "up")

    def routes_to(self, name: str, address: str) -> bool:
        """Whether the host has a route to ``address`` at all."""
        done = subprocess.run(
            ["ip", "-n", self.hosts[name].netns, "route", "get", address], capture_output=True, text=True
        )
        return done.returncode == 0

    # -- processes ------------------------------------------------------------------------

    def command(self, name: str, args: Sequence[str], *, user: str | None = None) -> list[str]:
        as_user = ["runuser", "-u", user, "--"] if user else []
        return ["ip", "netns", "exec", self.hosts[name].netns, *as_user, *args]

    def run(
        self,
        name: str,
        args: Sequence[str],
        env: Mapping[str, str],
        *,
        user: str | None = None,
        timeout: float = 120,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            self.command(name, args, user=user),
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.work,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"{name}$ {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def start(
        self, key: str, name: str, args: Sequence[str], env: Mapping[str, str], *, user: str | None = None
    ) -> subprocess.Popen[bytes]:
        """A long-running process on the host, in a process group of its own; output in logs/KEY.log."""
        with open(self.logs / f"{key}.log", "ab") as log:
            process = subprocess.Popen(
                self.command(name, args, user=user),
                env=dict(env),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.work,
                start_new_session=True,
            )
        self.processes[key] = process
        self._host_of[key] = name
        return process

    def log(self, key: str, tail: int = 4000) -> str:
        path = self.logs / f"{key}.log"
        return path.read_text(errors="replace")[-tail:] if path.exists() else ""

    def stop(self, key: str, *, grace_s: float = 10.0) -> None:
        process = self.processes.pop(key, None)
        if process is not None:
            _end_group(process, grace_s)

    def crash(self, name: str) -> None:
        """Every process of the host killed at once, as when the host goes down."""
        for pid in self._pids(name):
            _kill(pid, signal.SIGKILL)
        for key in [k for k, host in self._host_of.items() if host == name and k in self.processes]:
            self.stop(key, grace_s=0)

    def _pids(self, name: str) -> list[int]:
        done = subprocess.run(["ip", "netns", "pids", self.hosts[name].netns], capture_output=True, text=True)
        return [int(p) for p in done.stdout.split()]

    def close(self) -> None:
        # Every group asked to stop at once, then whatever is left of them killed.
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and any(_running(p) for p in self.processes.values()):
            time.sleep(0.1)
        for key in list(self.processes):
            self.stop(key, grace_s=0)
        for host in self.hosts.values():
            if host.netns in self._made:
                for pid in self._pids(host.name):
                    _kill(pid, signal.SIGKILL)
        for netns in self._made:
            subprocess.run(["ip", "netns", "del", netns], capture_output=True)
        self._made.clear()
        shutil.rmtree(self.work, ignore_errors=True)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def _kill(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def _running(process: subprocess.Popen[bytes]) -> bool:
    return process.poll() is None or _group_alive(process.pid)


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group is still running (zombies left to their reaper aside)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _end_group(process: subprocess.Popen[bytes], grace_s: float) -> None:
    """SIGTERM to the group, SIGKILL to what is left after ``grace_s``; the leader reaped."""
    if grace_s > 0:
        _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and _running(process):
            time.sleep(0.1)
    _signal_group(process, signal.SIGKILL)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
