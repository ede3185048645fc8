"""One long-lived Graphviz ``dot -Tsvg`` process, fed one graph after another.

Starting ``dot`` costs more than laying out a 60-task workflow (~20 ms against ~5 ms, measured on
the 2-core dev machine): it loads its libraries and plugins each time. ``dot`` reads graphs from
its input one after another and writes each one's SVG as soon as it is laid out, so a server that
draws many diagrams (the workflow browser) keeps one process and exchanges graph for SVG. Every
SVG ends with ``</svg>`` and a newline, and no text inside can (texts are escaped), which frames
the answers. A process that dies, or does not answer within ``timeout_s``, is ended; the caller
then draws with a one-off ``dot`` run, which reports what went wrong.
"""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import threading
import time

END = b"</svg>\n"
TIMEOUT_S = 10.0


class DotProcessError(RuntimeError):
    """The long-lived ``dot`` could not draw this graph (it died, or took too long)."""


class DotProcess:
    def __init__(self, timeout_s: float = TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def svg(self, dot_text: str) -> bytes:
        with self._lock:
            process = self._running()
            try:
                return self._exchange(process, dot_text.encode())
            except (OSError, DotProcessError):
                self._end()
                raise DotProcessError("the long-lived Graphviz process did not answer") from None

    def close(self) -> None:
        with self._lock:
            self._end()

    def _running(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            binary = shutil.which("dot")
            if binary is None:
                raise DotProcessError("Graphviz is not installed (no `dot` on PATH)")
            # Warnings (a missing font) would fill an unread stderr pipe: they are dropped here
            # and a one-off run reports them when drawing fails.
            self._process = subprocess.Popen(
                [binary, "-Tsvg"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
            )
        return self._process

    def _exchange(self, process: subprocess.Popen[bytes], graph: bytes) -> bytes:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(graph if graph.endswith(b"\n") else graph + b"\n")
        process.stdin.flush()
        deadline = time.monotonic() + self.timeout_s
        out = bytearray()
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while not out.endswith(END):
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    raise DotProcessError("Graphviz took too long")
                chunk = os.read(process.stdout.fileno(), 1 << 16)
                if not chunk:
                    raise DotProcessError("Graphviz ended")
                out += chunk
        return bytes(out)

    def _end(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            for stream in (self._process.stdin, self._process.stdout):
                if stream is not None:
                    stream.close()
            self._process = None
