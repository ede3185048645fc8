"""``zuora-pipeline browse`` as a user runs it: it serves on 127.0.0.1, stops on Ctrl-C with exit code
130, and says in one line what is wrong (port taken, no warehouse, no schema, the browser extra
not installed)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

CLI = str(Path(sys.executable).with_name("zuora-pipeline"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "ZUORA_PIPELINE_DATABASE_URL": url}


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


@pytest.fixture
def serving(sqlite_engine: sa.Engine) -> Iterator[tuple[subprocess.Popen[str], int, str]]:
    url = sqlite_engine.url.render_as_string(hide_password=False)
    port = _free_port()
    process = subprocess.Popen(
        [CLI, "browse", "--port", str(port)], env=_env(url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/customers", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.1)
    try:
        yield process, port, url
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_it_serves_on_loopback_and_stops_on_ctrl_c(serving: tuple[subprocess.Popen[str], int, str]) -> None:
    process, port, url = serving
    response = httpx.get(f"http://127.0.0.1:{port}/customers")
    assert "No customers yet" in response.text and response.headers["content-security-policy"]
    busy = subprocess.run(
        [CLI, "browse", "--port", str(port)], env=_env(url), capture_output=True, text=True, timeout=60, check=False
    )
    assert f"cannot listen on 127.0.0.1:{port}" in _one_line(busy)
    process.send_signal(signal.SIGINT)
    started = time.monotonic()
    _, err = process.communicate(timeout=10)
    assert process.returncode == 130 and time.monotonic() - started < 2
    assert "Traceback" not in err and f"http://127.0.0.1:{port}/" in err


def test_what_it_needs_is_said_in_one_line(tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'none.sqlite'}"
    run = [CLI, "browse", "--port", str(_free_port())]
    assert "there is no warehouse at" in _one_line(
        subprocess.run(run, env=_env(missing), capture_output=True, text=True, timeout=60, check=False)
    )
    empty = tmp_path / "empty.sqlite"
    sa.create_engine(f"sqlite:///{empty}").connect().close()
    assert "zuora-pipeline db upgrade" in _one_line(
        subprocess.run(run, env=_env(f"sqlite:///{empty}"), capture_output=True, text=True, timeout=60, check=False)
    )
    # Without the browser extra: the module it needs cannot be imported.
    probe = "import sys; sys.modules['jinja2'] = None; from zuora_pipeline.cli import main; main()"
    result = subprocess.run(
        [sys.executable, "-c", probe, "browse"],
        env=_env(missing),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "pip install 'zuora-pipeline[browser]'" in _one_line(result) and "jinja2" in result.stderr
    bad = subprocess.run(
        [*run, "--dagster-url", "not a url"], env=_env(missing), capture_output=True, text=True, timeout=60, check=False
    )
    assert bad.returncode == 2 and "is not an http(s) URL" in bad.stderr
