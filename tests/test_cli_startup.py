"""Start-up cost of the command: what each path imports, and the exit without teardown.

Each check runs in a fresh interpreter (``sys.modules`` of the test process says nothing).
Costs are judged by what is imported, never by timing; ``bench/run.py`` has the figures.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
DEMO = VECTORS / "demo"
WHEEL = DEMO / "demo_pkg-1.0.0-py3-none-any.whl"
AT = "2025-06-01T00:00:00Z"

# Runs main(argv) and reports the exit status and which modules ended up imported.
# Modules the interpreter had before (site, an editable install's finder) do not count.
_CHILD = """
import sys
before = set(sys.modules)
import contextlib, io
before |= {"contextlib", "io"}
from pgpverify.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
    rc = main(sys.argv[1:])
new = sorted(set(sys.modules) - before)
import json
json.dump({"rc": rc, "modules": new, "out": out.getvalue()}, sys.__stdout__)
"""

#: what only a verification needs; --help and usage errors must import none of it
HEAVY = (
    "pgpy",
    "cryptography",
    "dataclasses",
    "typing",
    "pathlib",
    "datetime",
    "json",
    "inspect",
    "pgpverify.limits",
    "pgpverify.verify",
    "pgpverify.openpgp",
)


def imports_of(*argv):
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, *map(str, argv)],
        check=True,
        capture_output=True,
        text=True,
        env=_env(),
    )
    seen = json.loads(done.stdout)
    return seen["rc"], set(seen["modules"]), seen["out"]


def _env():
    env = dict(os.environ)
    env.pop("COVERAGE_PROCESS_START", None)
    return env


def test_cli_help_imports_only_argparse():
    rc, modules, out = imports_of("--help")
    assert rc == 0
    assert "usage: pgpverify" in out
    assert "argparse" in modules
    assert not {m for m in modules for h in HEAVY if m == h or m.startswith(h + ".")}


def test_cli_subcommand_help_imports_only_argparse():
    rc, modules, out = imports_of("verify", "--help")
    assert rc == 0
    assert "--keyring" in out
    assert not {m for m in modules if m in {"pgpy", "cryptography", "dataclasses", "typing"}}


@pytest.mark.parametrize(
    "argv",
    [
        ("verify", WHEEL),  # no keyring source
        ("verify", WHEEL, "--keyring", "k", "--lock", "l"),  # two sources
        ("verify", WHEEL, "--at", "yesterday", "--keyring", "k"),
        ("frobnicate",),
    ],
)
def test_cli_usage_error_imports_no_crypto(argv):
    rc, modules, _ = imports_of(*argv)
    assert rc == 2
    assert not {m for m in modules if m.split(".")[0] in {"pgpy", "cryptography"}}
    assert "dataclasses" not in modules


def test_cli_malformed_signature_imports_no_crypto(tmp_path):
    garbage = tmp_path / "garbage.asc"
    garbage.write_bytes(
        b"-----BEGIN PGP SIGNATURE-----\n\nnot base64!\n-----END PGP SIGNATURE-----\n"
    )
    rc, modules, out = imports_of(
        "verify", WHEEL, "--signature", garbage, "--keyring", DEMO / "keyring.asc", "--at", AT
    )
    assert rc == 1
    assert "malformed" in out
    assert not {m for m in modules if m.split(".")[0] in {"pgpy", "cryptography"}}


def test_cli_good_signature_imports_no_pathlib():
    # pathlib (with urllib.parse, ipaddress, fnmatch) costs about 2 ms of a one-signature
    # process; nothing on the offline verify path needs it
    rc, modules, out = imports_of(
        "verify", WHEEL, "--keyring", DEMO / "keyring.asc", "--at", AT, "--format", "json"
    )
    assert rc == 0, out
    assert json.loads(out)["status"] == "good"
    assert "pgpy" in modules  # the key-material decoder: it stays
    assert not {m for m in modules if m in {"pathlib", "urllib.parse", "mmap", "unicodedata"}}


def _command(*argv):
    return subprocess.run(
        [sys.executable, "-m", "pgpverify", *map(str, argv)],
        check=False,
        capture_output=True,
        text=True,
        env=_env(),
    )


def test_cli_entry_exits_with_full_output_through_a_pipe():
    # os._exit skips the interpreter's teardown: nothing written may be lost with it
    done = _command(
        "verify",
        WHEEL,
        "--keyring",
        DEMO / "keyring.asc",
        "--at",
        AT,
        "--project",
        "demo-pkg",
        "--owners",
        DEMO / "owners" / "demo-pkg.json",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("pgpverify: Good signature on ")
    assert done.stdout.endswith("\n")
    assert "pgpverify: Note: good signature" in done.stdout
    rejected = _command(
        "verify",
        DEMO / "tampered" / WHEEL.name,
        "--keyring",
        DEMO / "keyring.asc",
        "--at",
        AT,
        "--format",
        "json",
    )
    assert rejected.returncode == 1
    assert json.loads(rejected.stdout)["reason"] == "bad-signature"
    usage = _command("verify", WHEEL)
    assert usage.returncode == 2
    assert usage.stderr.startswith("pgpverify: error: ")
    helped = _command("--help")
    assert helped.returncode == 0
    assert helped.stdout.startswith("usage: pgpverify")


def test_cli_entry_output_complete_to_a_file(tmp_path):
    # a file is block-buffered: the flush before os._exit must write it all
    done = _command(
        "verify", WHEEL, "--keyring", DEMO / "keyring.asc", "--at", AT, "--format", "json"
    )
    assert done.returncode == 0
    assert json.loads(done.stdout)["status"] == "good"
    out = tmp_path / "out.json"
    with out.open("w") as stream:
        code = subprocess.run(
            [
                sys.executable,
                "-m",
                "pgpverify",
                "verify",
                str(WHEEL),
                "--keyring",
                str(DEMO / "keyring.asc"),
                "--at",
                AT,
                "--format",
                "json",
            ],
            stdout=stream,
            check=False,
            env=_env(),
        ).returncode
    assert code == 0
    assert json.loads(out.read_text())["status"] == "good"


def test_cli_entry_relaxes_the_gc_and_exits_with_the_status(monkeypatch):
    import gc

    from pgpverify import cli

    before = gc.get_threshold()
    seen = []
    monkeypatch.setattr(cli, "main", lambda: seen.append(gc.get_threshold()) or 3)
    monkeypatch.setattr(cli.os, "_exit", lambda code: (_ for _ in ()).throw(SystemExit(code)))
    try:
        with pytest.raises(SystemExit) as done:
            cli.entry()
    finally:
        gc.set_threshold(*before)
    assert done.value.code == 3
    assert seen == [(cli._GC_THRESHOLD, 10, 10)]
    assert cli._GC_THRESHOLD <= 100_000  # garbage stays bounded: collections still run
