"""Real servers on 127.0.0.1 for the integration tests: python -m http.server, pypiserver.

Each server is a subprocess on a free port, waited for until it answers, and stopped at
teardown (terminate, then kill); the tests talk to it over real HTTP.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            msg = f"server exited with {proc.returncode}: {out[-2000:]}"
            raise RuntimeError(msg)
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    msg = f"server at {url} did not start"
    raise RuntimeError(msg)


@contextlib.contextmanager
def running(argv: list[str], url: str, cwd: Path | None = None):
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait(url, proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


@pytest.fixture
def static_server():
    """Start ``python -m http.server`` on a directory; returns a function giving its URL."""
    stack = contextlib.ExitStack()

    def start(directory: Path) -> str:
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        stack.enter_context(
            running(
                [
                    sys.executable,
                    "-m",
                    "http.server",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--directory",
                    str(directory),
                ],
                url,
            )
        )
        return url

    with stack:
        yield start


@pytest.fixture
def pypiserver(tmp_path):
    """A pypiserver with uploads allowed without authentication; yields its root URL."""
    packages = tmp_path / "pypiserver-packages"
    packages.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    argv = [
        sys.executable,
        "-m",
        "pypiserver",
        "run",
        "-p",
        str(port),
        "-i",
        "127.0.0.1",
        "-a",
        ".",
        "-P",
        ".",
        "--overwrite",
        str(packages),
    ]
    with running(argv, url):
        yield url
