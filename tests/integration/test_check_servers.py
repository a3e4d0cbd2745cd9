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

from checkworld import ALICE, MALLORY, World
from conftest import free_port

from pgpverify.cli import main

AT = "2025-06-01T00:00:00Z"
ROOT = Path(__file__).resolve().parent.parent.parent


def check(capsys, *args):
    code = main(["check", *[str(a) for a in args], "--format", "json", "--at", AT,
                 "--no-cache"])
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
        ("alpha", "good", "good"), ("beta", "unsigned", "unsigned"),
        ("gamma", "rejected", "unknown-key")]
    assert doc["files"][0]["signature"].startswith(url.removesuffix("simple/"))
    assert doc["files"][0]["maintainer"] == "alice"

    code, doc, _ = check(capsys, house / world.dists[0].filename, house / tampered.filename,
                         "--index-url", url, "--require-signatures", "--jobs", "1")
    assert code == 1
    code, doc, _ = check(capsys, house / world.dists[1].filename, "--index-url", url,
                         "--require-signatures")
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
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True,
                   capture_output=True)
    return venv / ("Scripts" if os.name == "nt" else "bin") / "python"


def _install(python: Path, *args: object) -> subprocess.CompletedProcess[str]:
    # pgpverify runs under the fresh interpreter (so pip installs there), importing itself
    # and its dependencies from this checkout and its environment
    paths = [str(ROOT), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "PIP_NO_CACHE_DIR": "1",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return subprocess.run([str(python), "-m", "pgpverify", "install", *map(str, args)],
                          env=env, capture_output=True, text=True, check=False)


def _installed(python: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = ("import importlib.metadata as m, json; print(json.dumps(sorted("
            "d.metadata['Name'] for d in m.distributions() if d.metadata['Name'] in "
            "('alpha', 'beta', 'gamma'))))")
    done = subprocess.run([str(python), "-c", code], env=env, capture_output=True, text=True,
                          check=True)
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
    assert done.returncode == 1, done.stderr
    assert "nothing installed" in done.stderr
    assert _installed(python) == []

    # alpha (signed) and its dependency beta (unsigned, allowed): exactly those
    reqs.write_text("alpha==1.0\n")
    done = _install(python, "-r", reqs, "--index-url", url, "--no-cache", "--at", AT,
                    "--format", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert [(f["project"], f["status"]) for f in doc["files"]] == [
        ("alpha", "good"), ("beta", "unsigned")]
    assert _installed(python) == ["alpha", "beta"]
