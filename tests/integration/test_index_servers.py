"""pgpverify against real index servers on 127.0.0.1 (no mocks on the HTTP path)."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from typing import TYPE_CHECKING

import requests
from fakeindex import DEMO, ROOT, WHEEL, demo_index

from pgpverify.cli import main

if TYPE_CHECKING:
    from pathlib import Path

AT = "2025-06-01T00:00:00Z"


def write_tree(directory: Path, *, signature: bool = True) -> None:
    """The demo index as static files: simple/, packages/ and the pgp/ tree."""
    for url, (_status, body, _ctype) in demo_index(signature=signature).documents.items():
        rel = url[len(ROOT) :]
        path = directory / (rel + "index.html" if rel.endswith("/") else rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)


def lone_wheel(tmp_path: Path, source: Path = DEMO / WHEEL) -> Path:
    """The wheel without its .asc beside it: the signature must come from the index."""
    where = tmp_path / f"download-{uuid.uuid4().hex[:8]}"
    where.mkdir()
    shutil.copy(source, where / WHEEL)
    return where / WHEEL


def verify(capsys, *args):
    code = main(["verify", *[str(a) for a in args], "--format", "json", "--at", AT])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, (json.loads(out) if out else None), err


def test_static_pep503_tree_good_then_offline_then_key_change(tmp_path, static_server, capsys):
    tree = tmp_path / "index"
    write_tree(tree)
    url = static_server(tree)
    cache = tmp_path / "cache"
    wheel = lone_wheel(tmp_path)

    code, doc, _ = verify(capsys, wheel, "--index-url", url + "simple/", "--cache-dir", cache)
    assert code == 0, doc
    assert doc["maintainer"] == {"user": "alice", "role": "Owner"}
    assert doc["signature"] == url + f"packages/{WHEEL}.asc"
    assert doc["keys_changed"] is None

    code, doc, _ = verify(
        capsys, wheel, "--index-url", url + "simple/", "--cache-dir", cache, "--offline"
    )
    assert code == 0, doc

    record_path = tree / "pgp" / "projects" / "demo-pkg.json"
    original = record_path.read_text()
    record = json.loads(original)
    record["maintainers"] = record["maintainers"][:1]

    def edit(text, later):
        record_path.write_text(text)
        # http.server's Last-Modified has one-second resolution: date the edit later so the
        # revalidation sees it (a real index changes files on a human time scale).
        stat = record_path.stat()
        os.utime(record_path, (stat.st_atime + later, stat.st_mtime + later))

    # two keys removed: narrowing, reported and remembered, not rejected
    edit(json.dumps(record), 10)
    code, doc, err = verify(
        capsys, wheel, "--index-url", url + "simple/", "--cache-dir", cache, "--fail-on-key-change"
    )
    assert code == 0, doc
    assert len(doc["keys_changed"]["removed"]) == 2
    assert doc["keys_changed"]["widens"] is False
    assert "CHANGED" in err
    # the same two keys back: widening, rejected until a run without the flag accepts it
    edit(original, 20)
    code, doc, err = verify(
        capsys, wheel, "--index-url", url + "simple/", "--cache-dir", cache, "--fail-on-key-change"
    )
    assert code == 1
    assert doc["reason"] == "keys-changed"
    assert len(doc["keys_changed"]["added"]) == 2
    assert "CHANGED" in err
    code, doc, _ = verify(capsys, wheel, "--index-url", url + "simple/", "--cache-dir", cache)
    assert code == 0
    assert doc["keys_changed"] is not None
    code, doc, _ = verify(
        capsys, wheel, "--index-url", url + "simple/", "--cache-dir", cache, "--fail-on-key-change"
    )
    assert code == 0, "accepted by the run without the flag"


def test_static_tree_tampered_and_unknown_project(tmp_path, static_server, capsys):
    tree = tmp_path / "index"
    write_tree(tree)
    url = static_server(tree)
    cache = tmp_path / "cache"
    tampered = lone_wheel(tmp_path, DEMO / "tampered" / WHEEL)
    code, doc, _ = verify(capsys, tampered, "--index-url", url + "simple/", "--cache-dir", cache)
    assert code == 1
    assert doc["reason"] == "bad-signature"

    other = tmp_path / "other_pkg-1.0-py3-none-any.whl"
    shutil.copy(DEMO / WHEEL, other)
    shutil.copy(DEMO / f"{WHEEL}.asc", other.with_name(other.name + ".asc"))
    code, doc, _ = verify(capsys, other, "--index-url", url + "simple/", "--cache-dir", cache)
    assert code == 1
    assert doc["reason"] == "unknown-key"
    assert "no ownership record for project other-pkg" in doc["message"]


def test_index_down_is_an_error_not_unknown_key(tmp_path, capsys):
    from conftest import free_port

    url = f"http://127.0.0.1:{free_port()}/simple/"
    code = main(
        ["verify", str(lone_wheel(tmp_path)), "--index-url", url, "--no-cache", "--retries", "0"]
    )
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.startswith("pgpverify: error: http://127.0.0.1:")
    assert len(err.strip().splitlines()) == 1


def test_pypiserver_upload_then_verify_with_static_pgp_tree(
    tmp_path, pypiserver, static_server, capsys
):
    with (DEMO / WHEEL).open("rb") as dist, (DEMO / f"{WHEEL}.asc").open("rb") as sig:
        answer = requests.post(
            pypiserver,
            data={":action": "file_upload", "name": "demo-pkg", "version": "1.0.0"},
            files={"content": (WHEEL, dist), "gpg_signature": (f"{WHEEL}.asc", sig)},
            timeout=30,
        )
    assert answer.status_code == 200, answer.text
    answer.close()
    keys_tree = tmp_path / "keys"
    write_tree(keys_tree)
    shutil.rmtree(keys_tree / "simple")
    shutil.rmtree(keys_tree / "packages")
    keys_url = static_server(keys_tree)
    cache = tmp_path / "cache"

    code, doc, _ = verify(
        capsys,
        lone_wheel(tmp_path),
        "--index-url",
        pypiserver + "simple/",
        "--keys-url",
        keys_url,
        "--cache-dir",
        cache,
    )
    assert code == 0, doc
    assert doc["signature"].startswith(pypiserver)
    assert doc["maintainer"]["user"] == "alice"

    tampered = lone_wheel(tmp_path, DEMO / "tampered" / WHEEL)
    code, doc, _ = verify(
        capsys,
        tampered,
        "--index-url",
        pypiserver + "simple/",
        "--keys-url",
        keys_url,
        "--cache-dir",
        cache,
    )
    assert code == 1
    assert doc["reason"] == "bad-signature"


def test_lock_from_a_real_index_then_verify_offline(tmp_path, static_server, capsys):
    tree = tmp_path / "index"
    write_tree(tree)
    url = static_server(tree)
    req = tmp_path / "requirements.txt"
    req.write_text("demo-pkg==1.0.0\n")
    lock = tmp_path / "pgpverify.lock"
    code = main(
        [
            "lock",
            "-r",
            str(req),
            "--index-url",
            url + "simple/",
            "-o",
            str(lock),
            "--cache-dir",
            str(tmp_path / "cache"),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "1 project(s)" in out
    text = lock.read_text()
    assert "demo-pkg" in text
    assert "BEGIN PGP PUBLIC KEY BLOCK" in text

    wheel = lone_wheel(tmp_path)
    shutil.copy(DEMO / f"{WHEEL}.asc", wheel.with_name(WHEEL + ".asc"))
    code, doc, _ = verify(capsys, wheel, "--lock", lock)
    assert code == 0, doc
    assert doc["maintainer"]["user"] == "alice"


def test_published_revocation_reaches_verifiers_over_http(tmp_path, static_server, capsys):
    """publish (CLI) -> pgp/ tree on a real server -> verify --index-url: key-revoked."""
    tree = tmp_path / "index"
    write_tree(tree)
    shutil.rmtree(tree / "pgp")  # the index's pgp/ tree comes from publish alone
    keys, owners = tmp_path / "keys", tmp_path / "owners"
    keys.mkdir()
    owners.mkdir()
    shutil.copy(DEMO / "keyring.asc", keys)
    shutil.copy(DEMO / "owners" / "demo-pkg.json", owners)  # lists dave's revoked key
    code = main(["publish", "--keys", str(keys), "--owners", str(owners), "-o", str(tree)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "1 project(s), 3 key(s)" in out
    assert "revoked: the primary key was revoked at 2024-06-01T00:00:00Z" in err
    url = static_server(tree)

    code, doc, _ = verify(
        capsys, lone_wheel(tmp_path), "--index-url", url + "simple/", "--no-cache"
    )
    assert code == 0, doc
    revoked = lone_wheel(tmp_path, DEMO / "revoked" / WHEEL)
    shutil.copy(DEMO / "revoked" / f"{WHEEL}.asc", revoked.with_name(WHEEL + ".asc"))
    code, doc, _ = verify(capsys, revoked, "--index-url", url + "simple/", "--no-cache")
    assert code == 1, doc
    assert doc["reason"] == "key-revoked"
    assert "revoked at 2024-06-01T00:00:00Z (compromised)" in doc["message"]


def test_text_from_the_index_is_escaped_for_the_terminal(tmp_path, static_server, capsys):
    """A record served by the index names a maintainer with a C1 CSI and a bidi override."""
    tree = tmp_path / "index"
    write_tree(tree)
    record_path = tree / "pgp" / "projects" / "demo-pkg.json"
    record = json.loads(record_path.read_text(encoding="utf-8"))
    record["maintainers"][0]["user"] = "alice\u009b2J\u202egnp.exe"
    record_path.write_text(json.dumps(record), encoding="utf-8")
    url = static_server(tree)
    code = main(
        [
            "verify",
            str(lone_wheel(tmp_path)),
            "--index-url",
            url + "simple/",
            "--no-cache",
            "--at",
            AT,
        ]
    )
    out, err = capsys.readouterr()
    # such a record is refused (a name must not disguise itself), and the refusal shows
    # the character escaped: nothing raw reaches the terminal
    assert code == 2, err
    assert "\u009b" not in out + err
    assert "\u202e" not in out + err
    assert "maintainers[0]: 'user' has control characters (\\x9b)" in err
