"""``check`` and ``install`` against real indexes on 127.0.0.1, and pip for real.

A static PEP 503 tree under ``python -m http.server``; a ``file:`` tree; ``pip download``
and ``pip install`` run for real (offline: the index is local), the install into a fresh
virtual environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from checkworld import ALICE, MALLORY, World, wheel
from conftest import free_port

from pgpverify.cli import main

AT = "2025-06-01T00:00:00Z"
ROOT = Path(__file__).resolve().parent.parent.parent


def check(capsys, *args):
    code = main(["check", *[str(a) for a in args], "--format", "json", "--at", AT, "--no-cache"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, json.loads(out), err


def _world() -> World:
    world = World()
    world.own("alpha", ALICE)
    world.own("beta", ALICE)
    world.own("gamma", ALICE)
    world.add("alpha", requires=("beta",))
    world.add("beta", signer=None)
    return world


def test_check_static_http_index(tmp_path, static_server, capsys):
    world = _world()
    tampered = world.add("gamma", signer=MALLORY)  # signed, by a key gamma never listed
    url = static_server(world.write(tmp_path / "index").parent) + "simple/"
    house = world.local(tmp_path / "house")
    (house / f"{world.dists[1].filename}.asc").write_bytes(ALICE.sign(world.dists[1].data))

    code, doc, _ = check(capsys, house, "--index-url", url)
    assert code == 1
    assert [(f["project"], f["status"], f["reason"]) for f in doc["files"]] == [
        ("alpha", "good", "good"),
        ("beta", "unsigned", "unsigned"),
        ("gamma", "rejected", "unknown-key"),
    ]
    assert doc["files"][0]["signature"].startswith(url.removesuffix("simple/"))
    assert doc["files"][0]["maintainer"] == "alice"

    code, doc, _ = check(
        capsys,
        house / world.dists[0].filename,
        house / tampered.filename,
        "--index-url",
        url,
        "--require-signatures",
        "--jobs",
        "1",
    )
    assert code == 1
    code, doc, _ = check(
        capsys, house / world.dists[1].filename, "--index-url", url, "--require-signatures"
    )
    assert (code, doc["files"][0]["status"]) == (1, "rejected")

    # a hash mismatch fails
    changed = tmp_path / "changed"
    changed.mkdir()
    (changed / tampered.filename).write_bytes(world.dists[0].data)
    code, doc, _ = check(capsys, changed, "--index-url", url)
    assert (code, doc["files"][0]["reason"]) == (1, "hash-mismatch")


def test_check_server_not_answering_is_a_per_file_error(tmp_path, static_server, capsys):
    world = _world()
    simple = world.write(tmp_path / "index")
    # alpha's page sends its files to a server that is not there (died)
    dead = f"http://127.0.0.1:{free_port()}/packages/"
    page = simple / "alpha" / "index.html"
    page.write_text(page.read_text().replace("../../packages/", dead))
    url = static_server(simple.parent) + "simple/"
    house = world.local(tmp_path / "house")

    code, doc, _ = check(capsys, house, "--index-url", url, "--retries", "0", "--timeout", "5")
    assert code == 2
    assert [f["status"] for f in doc["files"]] == ["error", "unsigned"]
    assert "127.0.0.1" in doc["files"][0]["message"]
    assert doc["totals"] == {"good": 0, "unsigned": 1, "rejected": 0, "error": 1}


def _fresh_venv(tmp_path: Path) -> Path:
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    return venv / ("Scripts" if os.name == "nt" else "bin") / "python"


def _install(python: Path, *args: object) -> subprocess.CompletedProcess[str]:
    # pgpverify runs under the fresh interpreter (so pip installs there), importing itself
    # and its dependencies from this checkout and its environment
    paths = [str(ROOT), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(paths),
        "PIP_NO_CACHE_DIR": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    return subprocess.run(
        [str(python), "-m", "pgpverify", "install", *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _installed(python: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = (
        "import importlib.metadata as m, json; print(json.dumps(sorted("
        "d.metadata['Name'] for d in m.distributions() if d.metadata['Name'] in "
        "('alpha', 'beta', 'gamma'))))"
    )
    done = subprocess.run(
        [str(python), "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_install_into_fresh_venv(tmp_path, static_server):
    world = _world()
    world.add("gamma", signer=MALLORY)
    url = static_server(world.write(tmp_path / "index").parent) + "simple/"
    python = _fresh_venv(tmp_path)
    reqs = tmp_path / "requirements.txt"

    # gamma's signature is rejected: nothing at all is installed
    reqs.write_text("alpha==1.0\ngamma\n")
    done = _install(python, "-r", reqs, "--index-url", url, "--no-cache", "--at", AT)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "nothing installed" in done.stderr
    assert _installed(python) == []

    # alpha (signed) and its dependency beta (unsigned, allowed): exactly those
    reqs.write_text("alpha==1.0\n")
    done = _install(
        python, "-r", reqs, "--index-url", url, "--no-cache", "--at", AT, "--format", "json"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    assert [(f["project"], f["status"]) for f in doc["files"]] == [
        ("alpha", "good"),
        ("beta", "unsigned"),
    ]
    assert _installed(python) == ["alpha", "beta"]


class _DocumentServer:
    """An in-process HTTP server over a FakeIndex's documents (paths under fakeindex.ROOT).

    ``die_after`` requests, it stops answering: every later connection is closed without a
    response, as a server that died mid-run.
    """

    def __init__(self, documents, die_after: int | None = None) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from fakeindex import ROOT as FAKE_ROOT

        served = {url[len(FAKE_ROOT) - 1 :]: doc for url, doc in documents.items()}
        state = {"count": 0}
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with lock:
                    state["count"] += 1
                    dead = die_after is not None and state["count"] > die_after
                if dead:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                status, body, ctype = served.get(self.path, (404, b"not found", "text/plain"))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def test_check_json_only_index_with_upload_times(tmp_path, capsys):
    world = World()
    world.own("alpha", ALICE)
    world.own("beta", ALICE)
    world.own("gamma", ALICE)
    world.add("alpha", upload_time="2024-03-01T11:00:00Z")  # signed an hour later
    world.add("beta", upload_time="2023-01-01T00:00:00.000000Z")  # signed a year later
    world.add("gamma", signer=None, upload_time="2024-01-01T00:00:00Z")
    house = world.local(tmp_path / "house")
    with _DocumentServer(world.fake(page="json").documents) as server:
        code, doc, _ = check(capsys, house, "--index-url", server.url + "simple/")
        assert code == 0
        assert [
            (f["project"], f["status"], f["backsigned"], f["upload_time"]) for f in doc["files"]
        ] == [
            ("alpha", "good", False, "2024-03-01T11:00:00Z"),
            ("beta", "good", True, "2023-01-01T00:00:00Z"),
            ("gamma", "unsigned", None, "2024-01-01T00:00:00Z"),
        ]
        assert any("backsigned" in w for w in doc["files"][1]["warnings"])
        code, doc, _ = check(
            capsys, house, "--index-url", server.url + "simple/", "--reject-backsigned"
        )
        assert code == 1
        assert [f["reason"] for f in doc["files"]] == ["good", "backsigned", "unsigned"]


def test_check_server_dying_mid_run_keeps_earlier_results(tmp_path, capsys):
    world = World()
    for name in ("alpha", "beta", "gamma"):
        world.own(name, ALICE)
        world.add(name)
    house = world.local(tmp_path / "house")
    # alpha needs 4 documents (record, key, page, .asc); then the server dies
    with _DocumentServer(world.fake(page="json").documents, die_after=4) as server:
        code, doc, _ = check(capsys, house, "--index-url", server.url + "simple/", "--retries", "0")
    assert code == 2
    assert [f["status"] for f in doc["files"]] == ["good", "error", "error"]
    assert all("127.0.0.1" in f["message"] for f in doc["files"][1:])


def test_check_pypiserver_with_static_pgp_tree(tmp_path, pypiserver, static_server, capsys):
    import requests

    world = World()
    for name in ("alpha", "beta", "gamma"):
        world.own(name, ALICE)
    world.add("alpha")
    world.add("beta", signer=None)
    world.add("gamma", signer=MALLORY)
    for dist in world.dists:
        files = {"content": (dist.filename, dist.data)}
        if dist.signature is not None:
            files["gpg_signature"] = (f"{dist.filename}.asc", dist.signature)
        answer = requests.post(
            pypiserver,
            data={":action": "file_upload", "name": dist.project, "version": "1.0"},
            files=files,
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        answer.close()
    keys = world.write(tmp_path / "keys").parent
    keys_url = static_server(keys)
    house = world.local(tmp_path / "house")
    code, doc, _ = check(
        capsys, house, "--index-url", pypiserver + "simple/", "--keys-url", keys_url
    )
    assert code == 1
    assert [(f["project"], f["status"], f["reason"]) for f in doc["files"]] == [
        ("alpha", "good", "good"),
        ("beta", "unsigned", "unsigned"),
        ("gamma", "rejected", "unknown-key"),
    ]
    assert doc["files"][0]["signature"].startswith(pypiserver)


# -- install through the gate (one pip pass), pip for real into --target -------------------


def _gated(tmp_path: Path, *args: object, env: dict[str, str] | None = None):
    """``pgpverify install ... -- --target T`` under this interpreter; (result, target)."""
    target = tmp_path / "target"
    environ = {
        **os.environ,
        "PIP_NO_CACHE_DIR": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        **(env or {}),
    }
    done = subprocess.run(
        [sys.executable, "-m", "pgpverify", "install", *map(str, args), "--", "--target", target],
        env=environ,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert "Traceback" not in done.stdout + done.stderr
    return done, target


def _installed_in(target: Path) -> list[str]:
    if not target.exists():
        return []
    return sorted(p.name.split("-")[0] for p in target.glob("*.dist-info"))


def test_install_gated_installs_exactly_the_checked_files(tmp_path, static_server):
    world = _world()
    url = static_server(world.write(tmp_path / "index").parent) + "simple/"
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("alpha==1.0\n")
    dest = tmp_path / "kept"
    evil = f"http://127.0.0.1:{free_port()}/simple/"
    # a newer beta, unsigned and on no index, where pip's own settings would find it
    links = tmp_path / "links"
    name, data = wheel("beta", "2.0")
    links.mkdir()
    (links / name).write_bytes(data)
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nfind-links = {links}\nextra-index-url = {evil}\n")
    done, target = _gated(
        tmp_path,
        "-r",
        reqs,
        "--index-url",
        url,
        "--no-cache",
        "--at",
        AT,
        "--format",
        "json",
        "--dest",
        dest,
        # pip's own sources are not taken from the environment: nothing bypasses the gate
        env={
            "PIP_INDEX_URL": evil,
            "PIP_EXTRA_INDEX_URL": evil,
            "PIP_FIND_LINKS": str(links),
            "PIP_CONFIG_FILE": str(config),
        },
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "two passes" not in done.stderr
    assert "Looking in indexes: http://127.0.0.1:" in done.stderr
    assert url not in done.stderr.split("Looking in indexes:")[1].splitlines()[0]
    doc = json.loads(done.stdout)
    assert [(f["project"], f["status"]) for f in doc["files"]] == [
        ("alpha", "good"),
        ("beta", "unsigned"),
    ]
    assert _installed_in(target) == ["alpha", "beta"]
    assert (target / "beta-1.0.dist-info").is_dir()
    assert sorted(p.name for p in dest.iterdir()) == sorted(d.filename for d in world.dists)
    assert "installed 2 checked file(s)" in done.stderr


def test_install_gated_installs_nothing_when_a_file_is_rejected(tmp_path, static_server):
    world = _world()
    gamma = world.add("gamma", signer=MALLORY)
    url = static_server(world.write(tmp_path / "index").parent) + "simple/"
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("alpha==1.0\ngamma\n")  # alpha is fetched (and good) first
    done, target = _gated(
        tmp_path, "-r", reqs, "--index-url", url, "--no-cache", "--at", AT, "--format", "json"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    assert [(f["project"], f["status"], f["reason"]) for f in doc["files"]] == [
        ("alpha", "good", "good"),
        ("gamma", "rejected", "unknown-key"),
    ]
    assert f"nothing installed: pip was stopped at {gamma.filename}" in done.stderr
    assert "pgpverify check -r" in done.stderr
    assert _installed_in(target) == []


def test_pip_downloads_every_distribution_before_installing_any(tmp_path, static_server):
    # what the gate relies on: pip fails on a download before it installs anything, even
    # files it downloaded earlier (here gamma's file is listed but not served)
    world = _world()
    gamma = world.add("gamma")
    root = world.write(tmp_path / "index").parent
    (root / "packages" / gamma.filename).unlink()
    url = static_server(root) + "simple/"
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("alpha==1.0\ngamma\n")
    target = tmp_path / "target"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "install", "--no-cache-dir"),
            *("--disable-pip-version-check", "-r", reqs, "--index-url", url, "--target", target),
        ],
        env={**os.environ, "PIP_CONFIG_FILE": os.devnull},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode != 0
    assert "alpha" in done.stdout + done.stderr  # alpha was collected (downloaded) first
    assert _installed_in(target) == []


def test_install_refuses_a_source_option_after_dashdash(tmp_path, capsys):
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("alpha\n")
    for extra in (["--extra-index-url", "http://127.0.0.1:9/simple/"], ["-f", str(tmp_path)]):
        code = main(
            ["install", "-r", str(reqs), "--index-url", "http://127.0.0.1:9/", "--", *extra]
        )
        _, err = capsys.readouterr()
        assert code == 2
        assert "another package source" in err


def test_install_requirements_with_an_extra_index_take_two_safe_passes(tmp_path, static_server):
    world = _world()
    url = static_server(world.write(tmp_path / "index").parent) + "simple/"
    other = World()
    other.add("alpha", "2.0", signer=MALLORY)  # newer, from a source the index does not list
    extra = static_server(other.write(tmp_path / "other").parent) + "simple/"
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(f"--extra-index-url {extra}\nalpha\n")
    done, target = _gated(
        tmp_path, "-r", reqs, "--index-url", url, "--no-cache", "--at", AT, "--format", "json"
    )
    assert "two passes" in done.stderr
    assert "--extra-index-url" in done.stderr
    assert done.returncode == 1, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    assert ("alpha", "rejected", "not-on-index") in [
        (f["project"], f["status"], f["reason"]) for f in doc["files"]
    ]
    assert _installed_in(target) == []


def test_install_gated_upstream_dying_mid_run_installs_nothing(tmp_path):
    world = World()
    for name in ("alpha", "beta", "gamma"):
        world.own(name, ALICE)
        world.add(name)
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("alpha\nbeta\ngamma\n")
    # the gate asks for alpha's page, file, record, key and signature; then the server dies
    with _DocumentServer(world.fake(page="json").documents, die_after=5) as server:
        done, target = _gated(
            tmp_path,
            "-r",
            reqs,
            "--index-url",
            server.url + "simple/",
            "--no-cache",
            "--retries",
            "0",
            "--timeout",
            "5",
            "--at",
            AT,
            "--format",
            "json",
        )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout.strip(), done.stderr
    doc = json.loads(done.stdout)
    assert [f["status"] for f in doc["files"]][:1] == ["good"]
    assert "error" in [f["status"] for f in doc["files"]]
    assert f"nothing installed: pip was stopped at {server.url}simple/beta/" in done.stderr
    assert _installed_in(target) == []


def test_install_gated_with_a_lock_file_requires_what_it_pins(tmp_path, static_server, capsys):
    # the lock pins alpha and beta (both owned by alice): beta, unsigned, is then refused
    # and pip is stopped at it; the lock file's index is the one pip goes through
    world = _world()
    url = static_server(world.write(tmp_path / "index").parent) + "simple/"
    lock = tmp_path / "pgpverify.lock"
    code = main(["lock", "alpha", "beta", "--index-url", url, "-o", str(lock), "--no-cache"])
    capsys.readouterr()
    assert code == 0
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("alpha==1.0\n")
    done, target = _gated(
        tmp_path, "-r", reqs, "--lock", lock, "--no-cache", "--at", AT, "--format", "json"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "two passes" not in done.stderr
    doc = json.loads(done.stdout)
    assert [(f["project"], f["status"]) for f in doc["files"]] == [
        ("alpha", "good"),
        ("beta", "rejected"),
    ]
    assert "pip was stopped at beta-1.0-py3-none-any.whl" in done.stderr
    assert _installed_in(target) == []
