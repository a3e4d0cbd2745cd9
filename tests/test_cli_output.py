"""cli.py's output paths: hostile text is escaped, odd streams never crash, bad FILEs.

In-process tests call ``main([...])``; the stream tests (an encoding the text does not
fit, a reader that went away, no stdout at all, a full disk) run ``python -m pgpverify``
in a real subprocess, since they are about the interpreter's own streams.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pgpverify import cli
from pgpverify.cli import main

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "vectors" / "demo"
WHEEL = "demo_pkg-1.0.0-py3-none-any.whl"
AT = "2025-06-01T00:00:00Z"
#: a maintainer name that would drive a terminal: an emoji, a C1 CSI that recolours the
#: line, a bidi override (an ownership record refuses it, naming the field)
HOSTILE_USER = "alice \U0001f984\x9b32m\u202egnp.exe"
#: a maintainer name as unusual as an ownership record lets through: an emoji (which
#: cp1252 cannot encode), a joined emoji sequence and a right-to-left script
UNUSUAL_USER = "alice \U0001f984 \U0001f469\u200d\U0001f4bb \u0639\u0644\u064a"


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def assert_no_raw_controls(text):
    for char in text:
        # the joiners (U+200C, U+200D) are kept, as textsafe keeps them: emoji sequences
        assert char in "\n\u200c\u200d" or (char.isprintable() and char not in "\u202e\x9b\x1b"), (
            repr(char)
        )


def one_error_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("pgpverify: error: ")
    assert_no_raw_controls(err)
    return lines[0]


def owners_named(tmp_path, user):
    record = json.loads((DEMO / "owners" / "demo-pkg.json").read_text())
    record["maintainers"][0]["user"] = user
    path = tmp_path / "owners.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


@pytest.fixture
def hostile_owners(tmp_path):
    return owners_named(tmp_path, HOSTILE_USER)


@pytest.fixture
def unusual_owners(tmp_path):
    return owners_named(tmp_path, UNUSUAL_USER)


def hostile_args(owners, *, fmt="text", where=DEMO):
    return [
        "verify",
        where / WHEEL,
        "--keyring",
        DEMO / "keyring.asc",
        "--at",
        AT,
        "--project",
        "demo-pkg",
        "--owners",
        owners,
        "--format",
        fmt,
    ]


def python_m(*args, env=None, **kwargs):
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(  # noqa: PLW1510 - callers check returncode themselves
        [sys.executable, "-m", "pgpverify", *map(str, args)],
        env=full_env,
        capture_output=kwargs.pop("capture_output", True),
        **kwargs,
    )


# -- hostile text is shown, never obeyed -----------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_cli_text_output_rejects_raw_bidi_and_c1_in_a_maintainer_name(capsys, hostile_owners, fmt):
    code, out, err = run(capsys, *hostile_args(hostile_owners, fmt=fmt))
    assert code == 2  # the record is refused, and the refusal shows the character escaped
    assert out == ""
    assert "maintainers[0]: 'user' has control characters (\\x9b)" in one_error_line(err)


def test_cli_text_output_prints_an_unusual_maintainer_name_as_written(capsys, unusual_owners):
    code, out, _ = run(capsys, *hostile_args(unusual_owners))
    assert code == 0
    assert_no_raw_controls(out)
    assert f"Signed by {UNUSUAL_USER} (Owner of demo-pkg)" in out


def test_cli_json_output_is_ascii_and_round_trips_an_unusual_name(capsys, unusual_owners):
    code, out, _ = run(capsys, *hostile_args(unusual_owners, fmt="json"))
    assert code == 0
    assert out.isascii()  # json's ensure_ascii: everything else is a \uXXXX escape
    assert json.loads(out)["maintainer"]["user"] == UNUSUAL_USER


def test_cli_text_output_rejects_a_file_name_that_forges_a_line(capsys, tmp_path):
    name = "demo\n\x1b[1Apgpverify: Good signature on x\u202e.whl"
    (tmp_path / name).write_bytes((DEMO / "tampered" / WHEEL).read_bytes())
    shutil.copy(DEMO / "tampered" / f"{WHEEL}.asc", tmp_path / f"{name}.asc")
    code, out, _ = run(
        capsys, "verify", tmp_path / name, "--keyring", DEMO / "keyring.asc", "--at", AT
    )
    assert code == 1
    assert_no_raw_controls(out)
    assert out.splitlines()[0] == (
        "pgpverify: REJECTED demo\\n\\x1b[1Apgpverify: Good signature on x\\u202e.whl: "
        "bad-signature"
    )
    assert sum("Good signature" in line for line in out.splitlines()) == 1


def test_cli_error_line_rejects_raw_controls_in_a_file_name(capsys, tmp_path):
    code, out, err = run(
        capsys, "verify", DEMO / WHEEL, "--keyring", tmp_path / "k\x1b]0;owned\x07\n.gpg"
    )
    assert code == 2
    assert out == ""
    assert "k\\x1b]0;owned\\x07\\n.gpg: keyring not found" in one_error_line(err)


def test_cli_warning_rejects_raw_controls(capsys):
    cli._warn("from a server: \x1b[31mred\u2066")
    _, err = capsys.readouterr()
    assert err == "pgpverify: warning: from a server: \\x1b[31mred\\u2066\n"


def test_cli_publish_refusal_rejects_raw_controls(capsys, tmp_path):
    keys, owners = tmp_path / "keys", tmp_path / "owners"
    keys.mkdir()
    owners.mkdir()
    shutil.copy(DEMO / "keyring.asc", keys / "demo.asc")
    (owners / "x\x1b[2J\u202e.json").write_text("{not json", encoding="utf-8")
    code = main(
        ["publish", "--keys", str(keys), "--owners", str(owners), "-o", str(tmp_path / "out")]
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in err
    assert_no_raw_controls(out + err)
    assert "x\\x1b[2J\\u202e.json" in err


def test_cli_unexpected_exception_is_one_clean_line(capsys, monkeypatch):
    def boom(*_args):
        msg = "boom \x1b[31m"
        raise ValueError(msg)

    monkeypatch.setattr(cli, "_verify_keyrings", boom)
    code, out, err = run(capsys, "verify", DEMO / WHEEL, "--keyring", DEMO / "keyring.asc")
    assert code == 2
    assert out == ""
    assert "internal error (ValueError: boom \\x1b[31m)" in one_error_line(err)


MANIFEST = json.loads((ROOT / "vectors" / "manifest.json").read_text(encoding="utf-8"))
OUTPUT_VECTORS = [v for v in MANIFEST["vectors"] if "/output-" in v["name"]]


def test_cli_output_vectors_exist_with_rejected_twins():
    names = {v["name"] for v in OUTPUT_VECTORS}
    assert {
        "good/output-hostile-user-id",
        "bad/output-hostile-user-id-wrong-file",
        "good/output-hostile-maintainer-name",
        "bad/output-hostile-maintainer-name-retired",
    } <= names


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("vector", OUTPUT_VECTORS, ids=lambda v: v["name"])
def test_cli_output_vectors_print_escaped(capsys, vector, fmt):
    where = ROOT / "vectors"
    args = [
        "verify",
        where / vector["file"],
        "--signature",
        where / vector["signature"],
        "--at",
        vector["at"],
        "--format",
        fmt,
    ]
    for ring in vector["keyrings"]:
        args += ["--keyring", where / ring]
    if vector["owners"] is not None:
        args += ["--project", vector["project"], "--owners", where / vector["owners"]]
    code, out, err = run(capsys, *args)
    assert code == (0 if vector["expected"] == "good" else 1)
    assert_no_raw_controls(out + err)
    if fmt == "json":
        assert out.isascii()
        doc = json.loads(out)
        assert doc["reason"] == vector["expected"]
        if doc["maintainer"] is not None:
            assert "\u200d" in doc["maintainer"]["user"]
    elif vector["expected"] == "good" and vector["owners"] is not None:
        assert (
            "Signed by alice \U0001f984 \U0001f469\u200d\U0001f4bb \u0639\u0644\u064a (Owner"
        ) in out


# -- FILE is a file ----------------------------------------------------------------------------


@pytest.mark.parametrize("file", [".", "/", "", "./", "..", "sub/"])
def test_cli_verify_rejects_a_directory_or_empty_file_argument(capsys, tmp_path, monkeypatch, file):
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "verify", file, "--keyring", DEMO / "keyring.asc")
    assert code == 2
    assert out == ""
    line = one_error_line(err)
    assert ("is a directory" in line) if file else ("argument FILE: empty path" in line)


@pytest.mark.parametrize("option", ["--signature", "--keyring", "--owners", "--lock"])
def test_cli_verify_rejects_an_empty_path_option(capsys, option):
    code, _, err = run(capsys, "verify", DEMO / WHEEL, option, "")
    assert code == 2
    assert "empty path" in one_error_line(err)


def test_cli_verify_rejects_a_directory_in_a_subprocess():
    done = python_m("verify", ".", "--keyring", DEMO / "keyring.asc", cwd=DEMO)
    assert done.returncode == 2
    assert done.stdout == b""
    assert done.stderr == (
        b"pgpverify: error: .: is a directory; give the signed file (e.g. dist/NAME.whl)\n"
    )


def test_cli_signature_given_as_file_gets_a_hint(capsys):
    code, out, err = run(
        capsys, "verify", DEMO / f"{WHEEL}.asc", "--keyring", DEMO / "keyring.asc", "--at", AT
    )
    assert code == 2
    assert out == ""
    line = one_error_line(err)
    assert f"{WHEEL}.asc.asc: signature file not found; hint: FILE " in line
    assert f"give the signed file ({DEMO / WHEEL})" in line


def test_cli_swapped_file_and_signature_get_a_hint(capsys):
    code, out, err = run(
        capsys,
        "verify",
        DEMO / f"{WHEEL}.asc",
        "--signature",
        DEMO / WHEEL,
        "--keyring",
        DEMO / "keyring.asc",
        "--at",
        AT,
    )
    assert code == 1
    assert "REJECTED" in out
    assert err.startswith("pgpverify: hint: FILE ")
    assert "swapped?" in err


def test_cli_armored_signature_without_asc_suffix_gets_a_hint(capsys, tmp_path):
    sig = tmp_path / "signature.txt"
    sig.write_bytes((DEMO / f"{WHEEL}.asc").read_bytes())
    shutil.copy(DEMO / f"{WHEEL}.asc", tmp_path / "signature.txt.asc")
    code, _, err = run(capsys, "verify", sig, "--keyring", DEMO / "keyring.asc", "--at", AT)
    assert code == 1
    assert "pgpverify: hint: FILE " in err
    assert "is a signature: give the signed file" in err


def test_cli_good_verdict_gets_no_hint(capsys):
    code, _, err = run(
        capsys, "verify", DEMO / WHEEL, "--keyring", DEMO / "keyring.asc", "--at", AT
    )
    assert code == 0
    assert err == ""


# -- streams: encodings, closed pipes, no stdout, a full disk ----------------------------------


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_cli_unencodable_output_keeps_the_verdict(unusual_owners, fmt):
    done = python_m(*hostile_args(unusual_owners, fmt=fmt), env={"PYTHONIOENCODING": "cp1252"})
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    text = done.stdout.decode("cp1252")
    assert ("\\U0001f984" if fmt == "text" else "\\ud83e\\udd84") in text


def test_cli_unencodable_error_keeps_exit_2(tmp_path):
    missing = tmp_path / "\U0001f984\u202e.whl"
    done = python_m(
        "verify", missing, "--keyring", DEMO / "keyring.asc", env={"PYTHONIOENCODING": "cp1252"}
    )
    assert done.returncode == 2
    err = done.stderr.decode("cp1252")
    assert "Traceback" not in err
    assert "\\U0001f984\\u202e.whl: file not found" in err


def test_cli_undecodable_file_name_is_escaped(tmp_path):
    name = os.fsdecode(b"\xff\x1b.whl")
    done = python_m("verify", tmp_path / name, "--keyring", DEMO / "keyring.asc")
    assert done.returncode == 2
    assert b"Traceback" not in done.stderr
    assert b"\\udcff\\x1b.whl: file not found" in done.stderr


@pytest.mark.parametrize(
    ("where", "fmt", "expected"),
    [(DEMO, "text", 0), (DEMO, "json", 0), (DEMO / "tampered", "text", 1)],
)
def test_cli_closed_stdout_keeps_the_verdict(unusual_owners, where, fmt, expected):
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte: every write is EPIPE
    try:
        done = python_m(
            *hostile_args(unusual_owners, fmt=fmt, where=where),
            stdout=write_end,
            stderr=subprocess.PIPE,
            capture_output=False,
        )
    finally:
        os.close(write_end)
    assert done.returncode == expected
    assert done.stderr == b"", done.stderr  # no traceback, no "Exception ignored"


def test_cli_closed_stderr_keeps_exit_2(tmp_path):
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = python_m(
            "verify",
            tmp_path / "nope.whl",
            "--keyring",
            DEMO / "keyring.asc",
            stdout=subprocess.PIPE,
            stderr=write_end,
            capture_output=False,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 2
    assert done.stdout == b""


@pytest.mark.skipif(
    shutil.which("bash") is None or shutil.which("head") is None, reason="needs bash and head"
)
@pytest.mark.parametrize(("where", "expected"), [(DEMO, 0), (DEMO / "tampered", 1)])
def test_cli_piped_into_head_keeps_the_verdict(where, expected):
    script = '"$@" | head -1; echo "rc=${PIPESTATUS[0]}" >&2'
    command = [
        sys.executable,
        "-m",
        "pgpverify",
        "verify",
        str(where / WHEEL),
        "--keyring",
        str(DEMO / "keyring.asc"),
        "--at",
        AT,
        "--format",
        "json",
    ]
    done = subprocess.run(
        ["bash", "-c", script, "bash", *command],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    assert done.stdout == b"{\n"
    assert done.stderr == f"rc={expected}\n".encode()


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_cli_without_stdout_keeps_the_verdict():
    script = '"$@" >&-; echo "rc=$?"'
    command = [
        sys.executable,
        "-m",
        "pgpverify",
        "verify",
        str(DEMO / "tampered" / WHEEL),
        "--keyring",
        str(DEMO / "keyring.asc"),
        "--at",
        AT,
    ]
    done = subprocess.run(
        ["bash", "-c", script, "bash", *command],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    assert done.stdout == b"rc=1\n"
    assert done.stderr == b""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_cli_full_disk_on_stdout_is_exit_2():
    with Path("/dev/full").open("wb") as full:
        done = python_m(
            "verify",
            DEMO / WHEEL,
            "--keyring",
            DEMO / "keyring.asc",
            "--at",
            AT,
            stdout=full,
            stderr=subprocess.PIPE,
            capture_output=False,
        )
    assert done.returncode == 2
    assert done.stderr.decode().splitlines() == [
        "pgpverify: error: cannot write the output: No space left on device",
    ]
