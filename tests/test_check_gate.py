"""pgpverify.check.gate: pages rewritten for pip, files served only once checked.

The gate runs for real on 127.0.0.1 over an in-memory index (fakeindex); "pip" is a small
script that fetches the paths a test gives and writes each answer as soon as it has it,
so a script killed by the gate shows which answers it got.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest
from checkworld import ALICE, MALLORY, World
from fakeindex import INDEX_URL, FakeIndex

from pgpverify.check import gate as gate_module
from pgpverify.check.gate import Gate, likely_file, render_page, servable
from pgpverify.check.gatepip import Listener, TopRequirement
from pgpverify.check.model import Status
from pgpverify.check.run import FileChecker, IndexTrust
from pgpverify.index.client import IndexClient
from pgpverify.index.files import ProjectPage
from pgpverify.index.simple import parse_project_page
from pgpverify.limits import Limits

AT = datetime(2025, 6, 1, tzinfo=timezone.utc)
GATE = "http://127.0.0.1:1/t0k3n/files/"

#: "pip": GET each path (relative to the gate's token root, or absolute when it starts with
#: '/') with http.client, one JSON line per answer, flushed at once; "RAW:" sends bytes
_FETCH = r"""
import http.client, json, sys, time
base, out = sys.argv[1], sys.argv[2]
host, rest = base.split("//", 1)[1].split("/", 1)
root = "/" + rest.rsplit("simple/", 1)[0]
with open(out, "w", encoding="utf-8") as log:
    for path in sys.argv[3:]:
        if path.startswith("SLEEP:"):
            time.sleep(float(path[6:]))
            continue
        conn = http.client.HTTPConnection(host, timeout=30)
        if path.startswith("RAW:"):
            conn.connect()
            conn.sock.sendall(path[4:].replace("ROOT/", root).encode())
            answer = conn.sock.recv(65536).split(b" ", 2)[1].decode()
            log.write(json.dumps([path, int(answer), ""]) + "\n")
        else:
            conn.request("GET", path if path.startswith("/") else root + path)
            response = conn.getresponse()
            body = response.read()
            log.write(json.dumps([path, response.status, body.decode("latin-1")]) + "\n")
        log.flush()
        conn.close()
"""


def _world() -> World:
    world = World()
    for name in ("alpha", "beta", "gamma"):
        world.own(name, ALICE)
    world.add("alpha")
    world.add("beta", signer=None)
    world.add("gamma", signer=MALLORY)
    return world


def _run(tmp_path, index: FakeIndex, paths, *, limits=None, checker=None, prefetch=(), **kw):
    """Serve ``index`` through a gate to the fetch script; (gate, answers, exit status)."""
    client = IndexClient(index, index_url=INDEX_URL, limits=limits or Limits())
    checker = checker or FileChecker(IndexTrust(client), at=AT)
    listener = Listener()
    downloads = tmp_path / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    gate = Gate(client, checker, listener=listener, download_dir=downloads, **kw)
    out = downloads.parent / "answers.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-c", _FETCH, listener.index_url, str(out), *paths],
        start_new_session=True,
    )
    gate.prefetch(list(prefetch))
    try:
        code = gate.serve(process)
    finally:
        listener.close()
    answers = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    return gate, {path: (status, body) for path, status, body in answers}, code


def _hostile_page() -> ProjectPage:
    sha = "ab" * 32
    body = f"""<html><body>
<a href="https://elsewhere.test/f/alpha-1.0-py3-none-any.whl#sha256={sha}"
   data-requires-python="&gt;=3.8&quot;&gt;&lt;script&gt;">alpha-1.0-py3-none-any.whl</a>
<a href="../../packages/alpha-1.0.tar.gz">alpha-1.0.tar.gz</a>
<a href="../../packages/x">../../alpha-2.0.tar.gz</a>
<a href="../../packages/y">alpha/../../alpha-2.1.tar.gz</a>
<a href="../../packages/z">.alpha-2.2.tar.gz</a>
<a href="../../packages/beta-1.0-py3-none-any.whl">beta-1.0-py3-none-any.whl</a>
<a href="../../packages/alpha-1.0-py3-none-any.whl.asc">alpha-1.0-py3-none-any.whl.asc</a>
<a href="../../packages/a.metadata">alpha-1.0-py3-none-any.whl.metadata</a>
<a href="../../packages/v#sha256=not-hex">alpha-3.0-py3-none-any.whl</a>
<a href="../../packages/u" data-yanked="broken &quot;release&quot;">alpha-0.9-py3-none-any.whl</a>
<a href="https://elsewhere.test/again">alpha-1.0-py3-none-any.whl</a>
<a href="../../packages/w">alpha-1.0-py3-none-any.exe</a>
</body></html>"""
    files = parse_project_page(body.encode(), url=INDEX_URL + "alpha/", content_type="text/html")
    return ProjectPage(project="alpha", url=INDEX_URL + "alpha/", files=tuple(files))


def test_render_page_links_only_back_to_the_gate():
    page = _hostile_page()
    entries = servable(page)
    body = render_page("alpha", entries, "/t0k3n/files/")
    assert b"elsewhere" not in body
    assert b"<script>" not in body
    served = parse_project_page(
        body, url="http://127.0.0.1:1/t0k3n/simple/alpha/", content_type="text/html"
    )
    assert [f.filename for f in served] == [
        "alpha-1.0-py3-none-any.whl",
        "alpha-1.0.tar.gz",
        "alpha-3.0-py3-none-any.whl",
        "alpha-0.9-py3-none-any.whl",
    ]
    assert all(f.url == GATE + "alpha/" + f.filename for f in served)
    assert [f.sha256 for f in served] == ["ab" * 32, None, None, None]
    assert served[0].requires_python == '>=3.8"><script>'
    assert served[3].yanked == 'broken "release"'
    assert [f.yanked for f in served[:3]] == [None, None, None]
    # the first entry of a name wins: the later duplicate pointing elsewhere is not used
    assert entries["alpha-1.0-py3-none-any.whl"].url.startswith("https://elsewhere.test/f/")


def test_servable_rejects_files_of_another_project_and_unplain_names():
    entries = servable(_hostile_page())
    for bad in (
        "../../alpha-2.0.tar.gz",
        "alpha/../../alpha-2.1.tar.gz",
        ".alpha-2.2.tar.gz",
        "beta-1.0-py3-none-any.whl",
        "alpha-1.0-py3-none-any.whl.asc",
        "alpha-1.0-py3-none-any.whl.metadata",
        "alpha-1.0-py3-none-any.exe",
    ):
        assert bad not in entries


def test_likely_file_picks_what_pip_would():
    from packaging.tags import Tag

    tags = {Tag("py3", "none", "any"): 5, Tag("cp311", "cp311", "linux_x86_64"): 0}
    page = ProjectPage(
        project="alpha",
        url=INDEX_URL + "alpha/",
        files=tuple(
            parse_project_page(
                b"""
<a href="a">alpha-1.0-py3-none-any.whl</a>
<a href="b">alpha-1.0-cp311-cp311-linux_x86_64.whl</a>
<a href="c">alpha-2.0.tar.gz</a>
<a href="d">alpha-2.0-cp27-cp27m-win32.whl</a>
<a href="e" data-yanked="">alpha-3.0-py3-none-any.whl</a>
<a href="f" data-requires-python="&lt;3">alpha-4.0-py3-none-any.whl</a>
<a href="g">alpha-5.0rc1-py3-none-any.whl</a>
""",
                url=INDEX_URL + "alpha/",
                content_type="text/html",
            )
        ),
    )
    entries = servable(page)

    def pick(spec=""):
        chosen = likely_file(entries, tags=tags, python="3.11.7", specifier=spec)
        return chosen.filename if chosen is not None else None

    assert pick() == "alpha-2.0.tar.gz"
    assert pick("<2") == "alpha-1.0-cp311-cp311-linux_x86_64.whl"
    assert pick("==5.0rc1") == "alpha-5.0rc1-py3-none-any.whl"
    assert pick(">9") is None
    assert pick("not a specifier") == "alpha-2.0.tar.gz"


@pytest.mark.parametrize("held", [True, False])
def test_gate_serves_pages_and_checked_files(tmp_path, monkeypatch, held):
    if not held:  # every file goes to disk: served and kept the same
        monkeypatch.setattr(gate_module, "MEMORY_FILE_BYTES", 10)
    world = _world()
    alpha, beta, _ = world.dists
    gate, answers, code = _run(
        tmp_path,
        world.fake(page="json"),
        [
            "simple/alpha/",
            f"files/alpha/{alpha.filename}",
            "simple/beta/",
            f"files/beta/{beta.filename}",
            "/wrong-token/simple/alpha/",
            "simple/Alpha/",
            "simple/alpha",
            "simple/nothing-here/",
            "files/alpha/alpha-9.0-py3-none-any.whl",
            f"files/beta/{alpha.filename}",
            "/",
            "simple/" + "a" * 3000 + "/",
            "RAW:POST ROOT/simple/alpha/ HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
            "RAW:GET ROOT/simple/alpha/ HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
        ],
    )
    assert code == 0
    status, page = answers["simple/alpha/"]
    assert status == 200
    assert f"/files/alpha/{alpha.filename}#sha256={alpha.sha256}" in page
    assert answers[f"files/alpha/{alpha.filename}"] == (200, alpha.data.decode("latin-1"))
    assert answers[f"files/beta/{beta.filename}"][0] == 200
    assert answers["simple/nothing-here/"][0] == 200  # an empty page: pip finds nothing
    for path in (
        "/wrong-token/simple/alpha/",
        "simple/Alpha/",
        "simple/alpha",
        "files/alpha/alpha-9.0-py3-none-any.whl",
        f"files/beta/{alpha.filename}",
        "/",
    ):
        assert answers[path][0] == 404, path
    assert answers["simple/" + "a" * 3000 + "/"][0] == 414
    assert [status for path, (status, _) in answers.items() if path.startswith("RAW:")] == [
        501,
        400,
    ]
    report = gate.report()
    assert [(f.project, f.status) for f in report] == [
        ("alpha", Status.GOOD),
        ("beta", Status.UNSIGNED),
    ]
    assert gate.stopped is None
    on_disk = sorted(p.name for p in (tmp_path / "downloads").rglob("*.whl"))
    assert on_disk == ([] if held else sorted([alpha.filename, beta.filename]))
    assert gate.keep(tmp_path / "kept") == sorted([alpha.filename, beta.filename])
    assert (tmp_path / "kept" / alpha.filename).read_bytes() == alpha.data


def test_gate_rejects_a_wrongly_signed_file_by_stopping_pip_first(tmp_path):
    world = _world()
    alpha, _, gamma = world.dists
    gate, answers, code = _run(
        tmp_path,
        world.fake(page="json"),
        [
            "simple/alpha/",
            f"files/alpha/{alpha.filename}",
            "simple/gamma/",
            f"files/gamma/{gamma.filename}",
            "simple/beta/",
        ],
    )
    assert code != 0  # killed
    # the script never got an answer for gamma's file, and asked nothing after it
    assert set(answers) == {"simple/alpha/", f"files/alpha/{alpha.filename}", "simple/gamma/"}
    assert gate.stopped is not None
    assert gate.stopped.project == "gamma"
    assert [(f.project, f.status, f.reason) for f in gate.report()] == [
        ("alpha", Status.GOOD, "good"),
        ("gamma", Status.REJECTED, "unknown-key"),
    ]
    assert gate.keep(tmp_path / "kept") == [alpha.filename]


def test_gate_rejects_a_tampered_file(tmp_path):
    world = _world()
    alpha = world.dists[0]
    index = world.fake(page="json")
    index.put(INDEX_URL.replace("simple/", "packages/") + alpha.filename, alpha.data + b"x")
    gate, answers, code = _run(tmp_path, index, ["simple/alpha/", f"files/alpha/{alpha.filename}"])
    assert code != 0
    assert f"files/alpha/{alpha.filename}" not in answers
    (verdict,) = gate.report()
    assert (verdict.status, verdict.reason) == (Status.REJECTED, "hash-mismatch")


def test_gate_rejects_a_page_over_the_size_limit(tmp_path):
    world = _world()
    index = world.fake(page="json")
    gate, answers, code = _run(
        tmp_path, index, ["simple/alpha/", "simple/beta/"], limits=Limits(page_bytes=64)
    )
    assert code != 0
    assert answers == {}
    (verdict,) = gate.report()
    assert verdict.status is Status.ERROR
    assert verdict.file == INDEX_URL + "alpha/"
    assert "64 bytes" in verdict.message


def test_gate_prefetch_downloads_each_file_once_and_reports_only_what_pip_fetched(tmp_path):
    world = _world()
    alpha = world.dists[0]
    index = world.fake(page="json")
    gate, answers, code = _run(
        tmp_path,
        index,
        ["SLEEP:0.3", "simple/alpha/", f"files/alpha/{alpha.filename}"],
        prefetch=[TopRequirement("alpha", ""), TopRequirement("beta", "")],
    )
    assert code == 0
    assert answers[f"files/alpha/{alpha.filename}"][0] == 200
    file_url = INDEX_URL.replace("simple/", "packages/") + alpha.filename
    assert index.requests.count(file_url) == 1
    assert index.requests.count(INDEX_URL + "alpha/") == 1
    # beta was prefetched (page and file) but pip never asked: not in the report
    assert INDEX_URL.replace("simple/", "packages/") + world.dists[1].filename in index.requests
    assert [f.project for f in gate.report()] == ["alpha"]


class _SlowChecker:
    """A FileChecker that takes its time: pip must still get its answer."""

    def __init__(self, inner: FileChecker, seconds: float) -> None:
        self.inner = inner
        self.seconds = seconds
        self.warnings: list[str] = []

    def check(self, path, page, sha256, data=None):
        time.sleep(self.seconds)
        return self.inner.check(path, page, sha256, data)


@pytest.mark.parametrize("heartbeat", [0.02])
def test_gate_heartbeat_keeps_a_slow_check_answered(tmp_path, heartbeat):
    world = _world()
    alpha = world.dists[0]
    index = world.fake(page="json")
    client = IndexClient(index, index_url=INDEX_URL)
    slow = _SlowChecker(FileChecker(IndexTrust(client), at=AT), 0.3)
    _, answers, code = _run(
        tmp_path,
        index,
        ["simple/alpha/", f"files/alpha/{alpha.filename}"],
        checker=slow,
        heartbeat=heartbeat,
    )
    assert code == 0
    assert answers[f"files/alpha/{alpha.filename}"] == (200, alpha.data.decode("latin-1"))


def test_file_store_keeps_files_by_sha256(tmp_path):
    import hashlib

    from pgpverify.check.gate import FileStore

    store = FileStore(tmp_path / "files", max_bytes=2500)
    blobs = [bytes([n]) * 1000 for n in range(3)]
    digests = [hashlib.sha256(b).hexdigest() for b in blobs]
    assert store.get(digests[0]) is None
    for digest, blob in zip(digests, blobs, strict=True):
        store.put(digest, blob)
    assert [store.get(d) for d in digests] == blobs
    assert store.get("../" + digests[0]) is None
    store.put("not-a-sha256", blobs[0])
    assert sorted(p.name for p in (tmp_path / "files").iterdir()) == sorted(digests)
    # the oldest goes first once the store holds more than max_bytes
    os.utime(tmp_path / "files" / digests[1], (1, 1))
    store.prune()
    assert store.get(digests[1]) is None
    assert store.get(digests[0]) == blobs[0]


def test_file_store_rejects_a_file_whose_bytes_changed(tmp_path):
    import hashlib

    from pgpverify.check.gate import FileStore

    store = FileStore(tmp_path / "files")
    blob = b"wheel bytes" * 100
    digest = hashlib.sha256(blob).hexdigest()
    store.put(digest, blob)
    (tmp_path / "files" / digest).write_bytes(blob[:-1] + b"X")  # tampered on disk
    assert store.get(digest) is None
    assert not (tmp_path / "files" / digest).exists()
    # a store that cannot be written is no error: nothing is kept
    (tmp_path / "ro").write_text("a file where the directory should be")
    FileStore(tmp_path / "ro" / "files").put(digest, blob)


def test_gate_with_a_store_downloads_each_file_once_across_runs(tmp_path):
    from pgpverify.check.gate import FileStore

    world = _world()
    alpha = world.dists[0]
    index = world.fake(page="json")
    file_url = INDEX_URL.replace("simple/", "packages/") + alpha.filename
    paths = ["simple/alpha/", f"files/alpha/{alpha.filename}"]
    store = FileStore(tmp_path / "files")
    verdicts = []
    for run in range(2):
        gate, answers, code = _run(tmp_path / f"run{run}", index, paths, store=store)
        assert code == 0
        assert answers[paths[1]] == (200, alpha.data.decode("latin-1"))
        verdicts.append(
            [(f.status, f.reason, f.sha256, f.signer_fingerprint) for f in gate.report()]
        )
    assert index.requests.count(file_url) == 1
    assert verdicts[0] == verdicts[1]
    # a stored copy that no longer matches the index's sha256 is never served
    (tmp_path / "files" / alpha.sha256).write_bytes(b"tampered")
    gate, answers, code = _run(tmp_path / "run2", index, paths, store=store)
    assert code == 0
    assert answers[paths[1]] == (200, alpha.data.decode("latin-1"))
    assert index.requests.count(file_url) == 2
