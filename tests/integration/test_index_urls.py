"""Index URLs end to end over real HTTP on 127.0.0.1: credentials, the pgp/ root, --timeout.

The servers here are in-process ``http.server`` trees: one index that demands Basic
authentication and records what each request carried, one "files" host on another port
(another origin), and one that trickles its answers a byte at a time.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import pytest
from fakeindex import ROOT, WHEEL, demo_index
from test_index_servers import lone_wheel

from pgpverify.cli import main

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

AT = "2025-06-01T00:00:00Z"
SECRET = "s3cret-t0ken"
ENVIRONMENT = ("PIP_INDEX_URL", "PIP_CONFIG_FILE", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        handler: type[SimpleHTTPRequestHandler],
        directory: Path,
        auth: str | None,
        drip: float | None,
    ) -> None:
        self.seen: list[tuple[str, str | None]] = []
        self.auth = auth
        self.drip = drip
        self.stopping = threading.Event()
        super().__init__(("127.0.0.1", 0), functools.partial(handler, directory=str(directory)))


class _Handler(SimpleHTTPRequestHandler):
    server: _Server

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass

    def do_GET(self):
        self.server.seen.append((self.path, self.headers.get("Authorization")))
        if self.server.drip is not None:
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return
                if self.server.stopping.wait(self.server.drip):
                    return
            return
        if self.server.auth is not None and self.headers.get("Authorization") != self.server.auth:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="index"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()


@contextlib.contextmanager
def serve(
    directory: Path, *, auth: str | None = None, drip: float | None = None
) -> Iterator[_Server]:
    server = _Server(_Handler, directory, auth, drip)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def url_of(server: _Server, userinfo: str = "") -> str:
    return f"http://{userinfo}127.0.0.1:{server.server_address[1]}/"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def write_tree(directory: Path, *, files_url: str | None = None, at_root: bool = False) -> None:
    """The demo index as files; its page may link the wheel on another host, or sit at /."""
    for url, (_status, body, _ctype) in demo_index().documents.items():
        rel = url[len(ROOT) :]
        data = body
        if rel == "simple/demo-pkg/":
            if files_url is not None:
                data = body.replace(b"../../packages/", files_url.encode() + b"packages/")
            if at_root:
                rel, data = "demo-pkg/", data.replace(b"../../packages/", b"../packages/")
        path = directory / (rel + "index.html" if rel.endswith("/") else rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def run(capsys, *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def stored_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())


# -- credentials -------------------------------------------------------------------------------


def test_cli_credentials_go_to_the_index_only_and_are_written_nowhere(
    tmp_path, capsys, monkeypatch
):
    index_tree, files_tree = tmp_path / "index", tmp_path / "files"
    with serve(files_tree) as files:
        write_tree(index_tree, files_url=url_of(files))
        write_tree(files_tree)  # the files host serves packages/ (and, unasked, the rest)
        with serve(index_tree, auth=basic("alice", SECRET)) as index:
            index_url = url_of(index, f"alice:{SECRET}@") + "simple/"
            cache, lock = tmp_path / "cache", tmp_path / "pgpverify.lock"
            wheel = lone_wheel(tmp_path)
            common = ("--index-url", index_url, "--cache-dir", cache, "--at", AT)
            outputs = [
                run(capsys, "verify", wheel, *common, "--format", "json"),
                run(capsys, "verify", wheel, *common),
                run(
                    capsys,
                    "lock",
                    "demo-pkg",
                    "--index-url",
                    index_url,
                    "--cache-dir",
                    cache,
                    "-o",
                    lock,
                ),
                # errors: a wrong password (401), an unusable URL, a page with no such file
                run(
                    capsys,
                    "verify",
                    wheel,
                    "--index-url",
                    index_url.replace(SECRET, SECRET + "-wrong"),
                    "--no-cache",
                ),
                run(
                    capsys,
                    "verify",
                    wheel,
                    "--index-url",
                    f"https://alice:{SECRET}@/simple/",
                    "--no-cache",
                ),
                run(capsys, "verify", wheel, *common, "--project", "nothing-here"),
            ]
            monkeypatch.setenv("PIP_INDEX_URL", url_of(index, f"{SECRET}@") + "simple/")
            outputs.append(run(capsys, "verify", wheel, "--no-cache", "--at", AT))
    codes = [code for code, _, _ in outputs]
    assert codes == [0, 0, 0, 2, 2, 2, 2], outputs
    good = json.loads(outputs[0][1])
    assert good["signature"] == url_of(files) + f"packages/{WHEEL}.asc"
    assert "HTTP 401" in outputs[3][2]
    assert f"http://alice:****@127.0.0.1:{index.server_address[1]}/" in outputs[3][2]
    assert "unusable index URL" in outputs[4][2]
    assert "https://alice:****@/simple/" in outputs[4][2]
    assert f"http://****@127.0.0.1:{index.server_address[1]}/" in outputs[6][2]

    written = " ".join(out + err for _, out, err in outputs) + lock.read_text()
    assert SECRET not in written
    assert "alice:****@" in lock.read_text()
    assert SECRET.encode() not in stored_bytes(cache)
    # sent with every request to the index's origin, never to the files host
    assert index.seen
    assert {auth for _, auth in index.seen} <= {
        basic("alice", SECRET),
        basic("alice", SECRET + "-wrong"),
        basic(SECRET, ""),
    }
    assert any(path.endswith(".asc") for path, _ in files.seen)
    assert [auth for _, auth in files.seen if auth is not None] == []


# -- the pgp/ root of an index at the host's root ----------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/"])
def test_cli_index_at_the_host_root_finds_its_pgp_tree(tmp_path, capsys, suffix):
    tree = tmp_path / "index"
    write_tree(tree, at_root=True)
    with serve(tree) as index:
        index_url = url_of(index).rstrip("/") + suffix
        code, out, err = run(
            capsys,
            "verify",
            lone_wheel(tmp_path),
            "--index-url",
            index_url,
            "--no-cache",
            "--at",
            AT,
            "--format",
            "json",
        )
    assert code == 0, err
    assert json.loads(out)["maintainer"] == {"user": "alice", "role": "Owner"}
    paths = [path for path, _ in index.seen]
    assert "/pgp/projects/demo-pkg.json" in paths
    assert "/demo-pkg/" in paths


# -- --timeout bounds each document's whole download ---------------------------------------------


def test_cli_timeout_cuts_off_an_index_that_trickles(tmp_path, capsys):
    with serve(tmp_path, drip=0.05) as index:  # 1000 bytes at 20 a second: 50 s
        started = time.monotonic()
        code, _, err = run(
            capsys,
            "verify",
            lone_wheel(tmp_path),
            "--index-url",
            url_of(index) + "simple/",
            "--no-cache",
            "--timeout",
            "0.5",
            "--retries",
            "2",
        )
        took = time.monotonic() - started
    assert code == 2
    assert err.startswith("pgpverify: error: http://127.0.0.1:")
    assert err.rstrip().endswith("timeout: the download took more than 0.5 s in all (--timeout)")
    assert took < 3
    assert len(index.seen) == 1  # a spent budget is not retried


def test_cli_timeout_help_says_it_bounds_the_whole_download(capsys):
    assert main(["verify", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "one document's whole download" in text
    assert "the waits between retries aside" in text
