"""CLI tests call main([...]) and check exit codes, stdout (text and JSON) and stderr."""

import json
import shutil
from pathlib import Path

import pytest

from pgpverify.cli import main

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
DEMO = VECTORS / "demo"
WHEEL = "demo_pkg-1.0.0-py3-none-any.whl"
AT = "2025-06-01T00:00:00Z"
REASONS = {
    "good",
    "bad-signature",
    "unknown-key",
    "key-expired",
    "key-revoked",
    "key-not-yet-valid",
    "not-signing-key",
    "signature-expired",
    "weak-hash",
    "weak-key",
    "malformed",
    "not-owner",
}


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def demo_args(*, where=DEMO, fmt="text", owners=True):
    args = ["verify", where / WHEEL, "--keyring", DEMO / "keyring.asc", "--at", AT, "--format", fmt]
    if owners:
        args += ["--project", "demo-pkg", "--owners", DEMO / "owners" / "demo-pkg.json"]
    return args


def one_error_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("pgpverify: error: ")
    return lines[0]


# -- good path and its rejections ----------------------------------------------------------


def test_cli_good_signature_text(capsys):
    code, out, err = run(capsys, *demo_args())
    assert code == 0, out + err
    assert out.startswith(f"pgpverify: Good signature on {WHEEL}\n")
    assert "Signature made 20" in out
    assert "Signed by alice (Owner of demo-pkg)" in out


def test_cli_good_signature_json(capsys):
    code, out, _ = run(capsys, *demo_args(fmt="json"))
    assert code == 0
    doc = json.loads(out)
    assert doc["status"] == "good"
    assert doc["reason"] == "good"
    assert doc["project"] == "demo-pkg"
    assert doc["maintainer"] == {"user": "alice", "role": "Owner"}
    assert len(doc["signer_fingerprint"]) == 40
    assert doc["signer_fingerprint"] == doc["signer_fingerprint"].upper()
    assert doc["created"].endswith("Z")
    assert len(doc["sha256"]) == 64
    assert doc["signatures"][0]["reason"] == "good"
    assert doc["signatures"][0]["valid_math"] is True


@pytest.mark.parametrize(
    ("case", "reason"),
    [("tampered", "bad-signature"), ("revoked", "key-revoked"), ("not-owner", "not-owner")],
)
def test_cli_rejections_json(capsys, case, reason):
    code, out, _ = run(capsys, *demo_args(where=DEMO / case, fmt="json"))
    assert code == 1
    doc = json.loads(out)
    assert doc["status"] == "rejected"
    assert doc["reason"] == reason
    assert doc["message"]
    assert doc["primary_fingerprint"]
    assert doc["created"]
    assert doc["maintainer"] is None


@pytest.mark.parametrize(
    ("case", "reason"),
    [("tampered", "bad-signature"), ("revoked", "key-revoked"), ("not-owner", "not-owner")],
)
def test_cli_rejections_text(capsys, case, reason):
    code, out, _ = run(capsys, *demo_args(where=DEMO / case))
    assert code == 1
    assert out.startswith(f"pgpverify: REJECTED {WHEEL}: {reason}\n")
    assert "Reason: " in out


GPG_TEXT = VECTORS / "external" / "gpg-text"


@pytest.mark.parametrize(
    ("stem", "data", "form"),
    [
        ("lone-cr-at-end", "lone-cr-at-end.txt", "gnupg"),
        ("crlf", "crlf.txt", "rfc9580"),
        ("trailing-whitespace-rfc2440", "trailing-whitespace.txt", "gnupg-rfc2440"),
    ],
)
def test_cli_text_signature_names_its_form_and_warns(capsys, stem, data, form):
    args = [
        "verify",
        GPG_TEXT / "data" / data,
        "--signature",
        GPG_TEXT / f"{stem}.asc",
        "--keyring",
        GPG_TEXT / "textmode.pub.asc",
        "--at",
        AT,
    ]
    code, out, _ = run(capsys, *args, "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["signatures"][0]["text_canonicalization"] == form
    [warning] = doc["warnings"]
    assert "does not bind line endings" in warning
    # every form is tried, so whichever matched, trailing whitespace is not bound either
    assert "trailing spaces, tabs and NULs at line ends" in warning
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert f"pgpverify: Warning: {warning}\n" in out


def test_cli_binary_signature_has_no_text_warning(capsys):
    code, out, _ = run(capsys, *demo_args(fmt="json"))
    assert code == 0
    doc = json.loads(out)
    assert doc["warnings"] == []
    assert doc["signatures"][0]["text_canonicalization"] is None


def test_cli_signature_option_overrides_default(capsys, tmp_path):
    wheel = tmp_path / WHEEL
    shutil.copy(DEMO / WHEEL, wheel)
    sig = tmp_path / "elsewhere.sig"
    shutil.copy(DEMO / f"{WHEEL}.asc", sig)
    code, _, err = run(capsys, "verify", wheel, "--keyring", DEMO / "keyring.asc", "--at", AT)
    assert code == 2
    assert "not found" in one_error_line(err)
    code, _, _ = run(
        capsys, "verify", wheel, "--signature", sig, "--keyring", DEMO / "keyring.asc", "--at", AT
    )
    assert code == 0


def test_cli_malformed_signature_json(capsys, tmp_path):
    wheel = tmp_path / WHEEL
    shutil.copy(DEMO / WHEEL, wheel)
    (tmp_path / f"{WHEEL}.asc").write_bytes(b"\x00garbage\xff" * 10)
    code, out, _ = run(
        capsys, "verify", wheel, "--keyring", DEMO / "keyring.asc", "--format", "json"
    )
    assert code == 1
    doc = json.loads(out)
    assert doc["reason"] == "malformed"
    assert doc["signer_fingerprint"] is None


def test_cli_empty_keyring_is_unknown_key(capsys, tmp_path):
    empty = tmp_path / "empty.gpg"
    empty.write_bytes(b"")
    code, out, err = run(
        capsys, "verify", DEMO / WHEEL, "--keyring", empty, "--format", "json", "--at", AT
    )
    assert code == 1
    assert json.loads(out)["reason"] == "unknown-key"
    assert "keyring is empty" in err


def test_cli_junk_keyring_block_warns_and_keeps_good_keys(capsys, tmp_path):
    ring = tmp_path / "ring.asc"
    junk = b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!!\n-----END PGP PUBLIC KEY BLOCK-----\n"
    ring.write_bytes(junk + (DEMO / "keyring.asc").read_bytes() + b"\ntrailing junk\n")
    code, _, err = run(capsys, "verify", DEMO / WHEEL, "--keyring", ring, "--at", AT)
    assert code == 0
    assert "warning:" in err
    assert "invalid base64" in err


def test_cli_json_reason_is_always_from_the_closed_set(capsys):
    for case in ("", "tampered", "revoked", "not-owner"):
        _, out, _ = run(capsys, *demo_args(where=DEMO / case if case else DEMO, fmt="json"))
        assert json.loads(out)["reason"] in REASONS


# -- usage and I/O errors: exit 2, one line on stderr, nothing on stdout ------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "required"),
        (["verify"], "required"),
        (["verify", "x.whl"], "no keyring source"),
        (["verify", "x.whl", "--keyring", "k", "--lock", "l"], "only one keyring source"),
        (["verify", "x.whl", "--index-url", "u", "--lock", "l"], "only one keyring source"),
        (["verify", "x.whl", "--index-url", "u", "--owners", "o"], "--owners goes with"),
        (["verify", "x.whl", "--index-url", "u", "--no-cache", "--offline"], "needs the cache"),
        (["verify", "x.whl", "--index-url", "u", "--timeout", "soon"], "not a number"),
        (["lock"], "nothing to lock"),
        (["publish", "--keys", "k"], "required"),
        (["frobnicate"], "invalid choice"),
        (["verify", "x.whl", "--keyring", "k", "--project", "p"], "must be given together"),
        (["verify", "x.whl", "--keyring", "k", "--owners", "o.json"], "must be given together"),
        (["verify", "x.whl", "--keyring", "k", "--at", "yesterday"], "not an ISO 8601 time"),
        (["verify", "x.whl", "--keyring", "k", "--format", "xml"], "invalid choice"),
    ],
)
def test_cli_usage_errors(capsys, args, message):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    assert message in one_error_line(err)


def test_cli_missing_file(capsys, tmp_path):
    code, out, err = run(capsys, "verify", tmp_path / "nope.whl", "--keyring", DEMO / "keyring.asc")
    assert code == 2
    assert out == ""
    assert "nope.whl: file not found" in one_error_line(err)


def test_cli_missing_keyring(capsys, tmp_path):
    code, _, err = run(capsys, "verify", DEMO / WHEEL, "--keyring", tmp_path / "nope.gpg")
    assert code == 2
    assert "nope.gpg: keyring not found" in one_error_line(err)


def test_cli_directory_as_file(capsys, tmp_path):
    code, _, err = run(capsys, "verify", tmp_path, "--keyring", DEMO / "keyring.asc")
    assert code == 2
    one_error_line(err)


def test_cli_keybox_is_refused(capsys, tmp_path):
    kbx = tmp_path / "pubring.kbx"
    kbx.write_bytes(b"\x00\x00\x00\x20\x01\x01\x00\x02KBXf" + b"\x00" * 20)
    code, _, err = run(capsys, "verify", DEMO / WHEEL, "--keyring", kbx)
    assert code == 2
    assert "keybox" in one_error_line(err)


@pytest.mark.parametrize(
    "content",
    [b"{not json", b'{"project": "demo-pkg"}', b'{"project": "demo-pkg", "maintainers": 3}'],
)
def test_cli_bad_owners_file(capsys, tmp_path, content):
    owners = tmp_path / "owners.json"
    owners.write_bytes(content)
    code, out, err = run(
        capsys,
        "verify",
        DEMO / WHEEL,
        "--keyring",
        DEMO / "keyring.asc",
        "--project",
        "demo-pkg",
        "--owners",
        owners,
    )
    assert code == 2
    assert out == ""
    assert "owners.json" in one_error_line(err)


def test_cli_help_exits_zero(capsys):
    code, out, _ = run(capsys, "verify", "--help")
    assert code == 0
    assert "--keyring" in out


def test_cli_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.startswith("pgpverify ")


def test_cli_usage_error_does_not_import_pgpy(capsys):
    import subprocess
    import sys

    code = (
        "import sys; from pgpverify.cli import main; "
        "rc = main(['verify', 'x.whl']); "
        "sys.exit(10 + rc if 'pgpy' not in sys.modules else 99)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert proc.returncode == 12, proc.stderr


# -- verify --lock ------------------------------------------------------------------------------


@pytest.fixture
def demo_lock(tmp_path):
    from fakeindex import split_keyring

    from pgpverify.trust.lockfile import build_lock, write_lock
    from pgpverify.trust.owners import OwnershipRecord

    record = OwnershipRecord.from_file(DEMO / "owners" / "demo-pkg.json")
    lock = build_lock([record], split_keyring(DEMO / "keyring.asc"), index_url=None)
    path = tmp_path / "pgpverify.lock"
    write_lock(path, lock)
    return path


def test_cli_verify_with_lock_file(capsys, demo_lock):
    code, out, _ = run(
        capsys, "verify", DEMO / WHEEL, "--lock", demo_lock, "--at", AT, "--format", "json"
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["maintainer"] == {"user": "alice", "role": "Owner"}
    assert doc["project"] == "demo-pkg"


def test_cli_verify_with_lock_file_rejects_a_revoked_maintainer(capsys, demo_lock):
    code, out, _ = run(
        capsys,
        "verify",
        DEMO / "revoked" / WHEEL,
        "--lock",
        demo_lock,
        "--at",
        AT,
        "--format",
        "json",
    )
    assert code == 1
    assert json.loads(out)["reason"] == "key-revoked"


def test_cli_tampered_lock_file_is_refused(capsys, demo_lock):
    text = demo_lock.read_text()
    fpr = "DBB45D692413FC66E3CB87089B617AE7AD1F8C84"
    assert text.count(fpr) == 2  # listed for alice, and as a certificate's name
    demo_lock.write_text(text.replace(fpr, "DBB45D692413FC66E3CB87089B617AE7AD1F8C85", 1))
    code, out, err = run(capsys, "verify", DEMO / WHEEL, "--lock", demo_lock, "--at", AT)
    assert code == 2
    assert out == ""
    assert "pgpverify.lock" in one_error_line(err)


def test_cli_lock_without_the_project_is_unknown_key(capsys, demo_lock, tmp_path):
    other = tmp_path / "other_pkg-1.0-py3-none-any.whl"
    shutil.copy(DEMO / WHEEL, other)
    shutil.copy(DEMO / f"{WHEEL}.asc", other.with_name(other.name + ".asc"))
    code, out, _ = run(capsys, "verify", other, "--lock", demo_lock, "--at", AT, "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["reason"] == "unknown-key"
    assert "pins nothing for project other-pkg" in doc["message"]


@pytest.fixture
def fake_index_client(monkeypatch):
    """``lock`` and ``verify --index-url`` talk to the in-memory demo index."""
    from fakeindex import INDEX_URL, demo_index

    from pgpverify import cli
    from pgpverify.index.client import IndexClient

    index = demo_index()
    monkeypatch.setattr(cli, "_client", lambda *_args: IndexClient(index, index_url=INDEX_URL))
    return index


@pytest.mark.parametrize(
    ("names", "requirements"),
    [
        (["Demo_Pkg", "demo-pkg"], ""),
        (["DEMO.PKG"], "demo_pkg==1.0\nDemo-Pkg\n"),
        (["demo-pkg"], ""),
    ],
)
def test_cli_lock_normalises_project_names_before_deduplicating(
    capsys, tmp_path, fake_index_client, names, requirements
):
    args = [
        "lock",
        *names,
        "--index-url",
        "https://index.test/simple/",
        "--no-cache",
        "-o",
        tmp_path / "pgpverify.lock",
    ]
    if requirements:
        (tmp_path / "requirements.txt").write_text(requirements)
        args += ["-r", tmp_path / "requirements.txt"]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    assert "1 project(s), 3 key(s)" in out
    requests = [u for u in fake_index_client.requests if "/pgp/projects/" in u]
    assert requests == ["https://index.test/pgp/projects/demo-pkg.json"]
    code, out, _ = run(
        capsys,
        "verify",
        DEMO / WHEEL,
        "--lock",
        tmp_path / "pgpverify.lock",
        "--at",
        AT,
        "--format",
        "json",
    )
    assert code == 0, out


@pytest.mark.parametrize("name", ["demo pkg", "demo-", "../demo", "", "dém o", "demo\x1b[31m"])
def test_cli_lock_rejects_invalid_project_name(capsys, tmp_path, fake_index_client, name):
    code, _, err = run(
        capsys,
        "lock",
        name,
        "--index-url",
        "https://index.test/simple/",
        "--no-cache",
        "-o",
        tmp_path / "pgpverify.lock",
    )
    assert code == 2
    assert "not a project name" in one_error_line(err)
    assert not fake_index_client.requests
    assert not (tmp_path / "pgpverify.lock").exists()


def publish_demo(capsys, tmp_path, edit):
    """Run ``publish`` on the demo keyring and the demo record as changed by ``edit``."""
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "all.asc").write_bytes((DEMO / "keyring.asc").read_bytes())
    owners = tmp_path / "owners"
    owners.mkdir()
    record = json.loads((DEMO / "owners" / "demo-pkg.json").read_text())
    edit(record)
    (owners / "demo-pkg.json").write_text(json.dumps(record))
    return run(capsys, "publish", "--keys", keys, "--owners", owners, "-o", tmp_path / "out")


def test_cli_publish_refusal_lists_every_problem(capsys, tmp_path):
    def add_zed(record):
        record["maintainers"].append({"user": "zed", "role": "Owner", "keys": ["F" * 40]})

    code, _, err = publish_demo(capsys, tmp_path, add_zed)
    assert code == 1
    assert "1 problem(s)" in err
    assert "F" * 40 in err
    assert not (tmp_path / "out" / "pgp").exists()


def test_cli_publish_distributes_a_revoked_key_with_a_warning(capsys, tmp_path):
    code, out, err = publish_demo(capsys, tmp_path, lambda _record: None)
    assert code == 0
    assert "1 project(s), 3 key(s)" in out
    dave = "11B543008E037F93A69E40E5F64134C69A45844B"
    assert f"key {dave} (" in err
    assert "revoked: the primary key was revoked at 2024-06-01T00:00:00Z (compromised)" in err
    assert (tmp_path / "out" / "pgp" / "keys" / f"{dave}.asc").is_file()


def test_cli_publish_writes_the_tree(capsys, tmp_path):
    def drop_dave(record):
        record["maintainers"] = [m for m in record["maintainers"] if m["user"] != "dave"]

    code, out, _ = publish_demo(capsys, tmp_path, drop_dave)
    assert code == 0
    assert "1 project(s), 2 key(s)" in out
    assert json.loads((tmp_path / "out" / "pgp" / "index.json").read_text()) == {
        "projects": ["demo-pkg"]
    }


# -- trust memory: --fail-on-key-change and lock regeneration (issue 8 §2) ------------------

RECORD_URL = "https://index.test/pgp/projects/demo-pkg.json"
ALICE = "DBB45D692413FC66E3CB87089B617AE7AD1F8C84"
DAVE = "11B543008E037F93A69E40E5F64134C69A45844B"


def set_record(index, edit=None):
    """Serve the demo record, changed by ``edit`` (a function of the record) if given."""
    record = json.loads((DEMO / "owners" / "demo-pkg.json").read_text())
    if edit is not None:
        edit(record)
    index.put(RECORD_URL, json.dumps(record).encode(), "application/json")


def retire_alice(record):
    record["maintainers"][0]["keys"] = [{"fingerprint": ALICE, "retired": "2024-01-01"}]


def index_args(tmp_path, *extra, where=DEMO):
    return [
        "verify",
        where / WHEEL,
        "--index-url",
        "https://index.test/simple/",
        "--cache-dir",
        tmp_path / "cache",
        "--at",
        AT,
        *extra,
    ]


def test_cli_fail_on_key_change_rejects_an_un_retired_key(capsys, tmp_path, fake_index_client):
    set_record(fake_index_client, retire_alice)
    code, out, _ = run(capsys, *index_args(tmp_path))
    assert code == 1
    assert "not-owner" in out
    set_record(fake_index_client)  # the index forgets the retirement
    code, out, err = run(capsys, *index_args(tmp_path, "--fail-on-key-change"))
    assert code == 1
    assert "REJECTED demo_pkg-1.0.0-py3-none-any.whl: keys-changed" in out
    assert (
        f"retirement-removed user 'alice' key {ALICE} (2024-01-01T00:00:00Z -> none) [widens]"
    ) in out
    assert "THE TRUST STATEMENT OF demo-pkg CHANGED" in err
    code, out, _ = run(capsys, *index_args(tmp_path, "--fail-on-key-change", "--format", "json"))
    doc = json.loads(out)
    assert (code, doc["reason"], doc["keys_changed"]["widens"]) == (1, "keys-changed", True)
    # a run without the flag reports and accepts it; then the flag passes
    code, out, _ = run(capsys, *index_args(tmp_path))
    assert code == 0
    assert "KEYS CHANGED since last seen" in out
    code, out, _ = run(capsys, *index_args(tmp_path, "--fail-on-key-change"))
    assert code == 0
    assert "KEYS CHANGED" not in out


def test_cli_fail_on_key_change_reports_a_narrowing_change_and_accepts_it(
    capsys, tmp_path, fake_index_client
):
    set_record(fake_index_client)
    assert run(capsys, *index_args(tmp_path))[0] == 0
    set_record(fake_index_client, lambda r: r["maintainers"].pop())  # dave leaves
    code, out, _ = run(capsys, *index_args(tmp_path, "--fail-on-key-change", "--format", "json"))
    doc = json.loads(out)
    assert code == 0
    assert doc["keys_changed"]["removed"] == [DAVE]
    assert doc["keys_changed"]["widens"] is False
    assert {c["kind"] for c in doc["keys_changed"]["changes"]} == {"key-removed", "user-removed"}


def test_cli_fail_on_key_change_with_an_unreadable_memory_is_an_error(
    capsys, tmp_path, fake_index_client
):
    set_record(fake_index_client)
    assert run(capsys, *index_args(tmp_path))[0] == 0
    (tmp_path / "cache" / "cache.sqlite3").write_bytes(b"not a database" * 100)
    code, out, err = run(capsys, *index_args(tmp_path, "--fail-on-key-change"))
    assert code == 2
    assert out == ""
    assert "the trust memory of demo-pkg cannot be read" in err
    assert "the cache was rebuilt" in err
    # without the flag: a loud report, never a quiet first sighting
    code, out, _ = run(capsys, *index_args(tmp_path))
    assert code == 0
    assert "memory-unreadable" in out


def lock_args(tmp_path, *extra):
    return [
        "lock",
        "demo-pkg",
        "--index-url",
        "https://index.test/simple/",
        "--no-cache",
        "-o",
        tmp_path / "pgpverify.lock",
        *extra,
    ]


def verify_lock(capsys, tmp_path, where=DEMO):
    code, out, _ = run(
        capsys,
        "verify",
        where / WHEEL,
        "--lock",
        tmp_path / "pgpverify.lock",
        "--at",
        AT,
        "--format",
        "json",
    )
    return code, json.loads(out)["reason"]


def test_cli_lock_regeneration_says_what_changed(capsys, tmp_path, fake_index_client):
    set_record(fake_index_client)
    code, out, _ = run(capsys, *lock_args(tmp_path))
    assert code == 0
    assert "change(s)" not in out  # a first lock has nothing to compare with
    code, out, _ = run(capsys, *lock_args(tmp_path))
    assert "pgpverify: no change(s) from the previous" in out
    set_record(fake_index_client, retire_alice)
    code, out, _ = run(capsys, *lock_args(tmp_path))
    assert code == 0
    assert "pgpverify: 1 change(s) from the previous" in out
    assert (
        f"demo-pkg: retirement added user 'alice' key {ALICE} (none -> 2024-01-01T00:00:00Z)"
    ) in out
    assert verify_lock(capsys, tmp_path) == (1, "not-owner")


def test_cli_lock_rejects_dropping_a_retirement_the_previous_lock_held(
    capsys, tmp_path, fake_index_client
):
    set_record(fake_index_client, retire_alice)
    assert run(capsys, *lock_args(tmp_path))[0] == 0
    before = (tmp_path / "pgpverify.lock").read_bytes()
    set_record(fake_index_client)
    code, out, err = run(capsys, *lock_args(tmp_path))
    assert code == 1
    assert f"demo-pkg: retirement removed user 'alice' key {ALICE}" in out
    assert "[WEAKENS: refused without --allow-weakening]" in out
    assert "lock refused: 1 change(s) drop a retirement or revocation" in err
    assert (tmp_path / "pgpverify.lock").read_bytes() == before
    assert verify_lock(capsys, tmp_path) == (1, "not-owner")
    code, out, _ = run(capsys, *lock_args(tmp_path, "--allow-weakening"))
    assert code == 0
    assert verify_lock(capsys, tmp_path) == (0, "good")


def test_cli_lock_keeps_a_revocation_the_previous_lock_held(capsys, tmp_path, fake_index_client):
    from fakeindex import without_key_revocation

    set_record(fake_index_client)
    assert run(capsys, *lock_args(tmp_path))[0] == 0
    assert verify_lock(capsys, tmp_path, DEMO / "revoked") == (1, "key-revoked")
    fake_index_client.put(f"https://index.test/pgp/keys/{DAVE}.asc", without_key_revocation(DAVE))
    code, out, _ = run(capsys, *lock_args(tmp_path))
    assert code == 0
    assert "no change(s)" in out
    assert verify_lock(capsys, tmp_path, DEMO / "revoked") == (1, "key-revoked")
    code, out, _ = run(capsys, *lock_args(tmp_path, "--allow-weakening"))
    assert code == 0
    assert f"certificate {DAVE}: 1 packet(s) the previous lock held are dropped" in out
    assert verify_lock(capsys, tmp_path, DEMO / "revoked") == (0, "good")


def test_cli_lock_help_names_allow_weakening(capsys):
    code, out, _ = run(capsys, "lock", "--help")
    assert code == 0
    assert "--allow-weakening" in out
    assert "previous lock" in out


@pytest.mark.parametrize("source", [["--no-cache"], ["--keyring", DEMO / "keyring.asc"]])
def test_cli_fail_on_key_change_rejects_a_run_without_memory(capsys, tmp_path, source):
    args = ["verify", DEMO / WHEEL, "--fail-on-key-change", *source]
    if source == ["--no-cache"]:
        args += ["--index-url", "https://index.test/simple/"]
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    assert "--fail-on-key-change" in one_error_line(err)
