"""``pgpverify check`` / ``install`` on the command line (in process, main([...]))."""

from __future__ import annotations

import codecs
import json
import shutil
import xml.etree.ElementTree as ET

import pytest
from checkworld import ALICE, MALLORY, World

from pgpverify.check import pip as pip_runner
from pgpverify.cli import main
from pgpverify.index.localfs import path_to_url

AT = "2025-06-01T00:00:00Z"


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture
def world():
    world = World()
    world.own("alpha", ALICE)
    world.own("beta", ALICE)
    world.add("alpha")
    world.add("beta", signer=None)
    return world


@pytest.fixture
def tree(world, tmp_path):
    """(wheelhouse, index URL) of the world as a local PEP 503 tree."""
    simple = world.write(tmp_path / "index")
    return world.local(tmp_path / "house"), path_to_url(simple)


def test_cli_check_file_index_json(capsys, tree, tmp_path):
    house, index = tree
    code, out, _ = run(
        capsys, "check", house, "--index-url", index, "--no-cache", "--at", AT, "--format", "json"
    )
    assert code == 0
    assert out.isascii()
    doc = json.loads(out)
    assert doc["ok"] is True
    assert doc["totals"] == {"good": 1, "unsigned": 1, "rejected": 0, "error": 0}
    assert [f["status"] for f in doc["files"]] == ["good", "unsigned"]
    # issue 10's shape, field for field, plus the two README documents (signed_at, warnings)
    issue = {
        "file",
        "project",
        "version",
        "sha256",
        "status",
        "reason",
        "message",
        "signer_fingerprint",
        "primary_fingerprint",
        "maintainer",
        "role",
        "signature",
        "upload_time",
        "backsigned",
    }
    assert set(doc) == {"ok", "files", "totals", "warnings"}
    assert set(doc["totals"]) == {"good", "unsigned", "rejected", "error"}
    for item in doc["files"]:
        assert set(item) == issue | {"signed_at", "warnings"}
    good, unsigned = doc["files"]
    assert good["signer_fingerprint"] == good["primary_fingerprint"] == ALICE.fpr
    assert (good["maintainer"], good["role"]) == ("alice", "Owner")
    assert good["signature"].endswith(".asc")
    assert unsigned["signature"] is None
    assert unsigned["backsigned"] is None


def test_cli_check_index_as_a_directory_path(capsys, world, tmp_path):
    simple = world.write(tmp_path / "index")
    house = world.local(tmp_path / "house")
    code, out, _ = run(capsys, "check", house, "--index-url", simple, "--no-cache", "--at", AT)
    assert code == 0
    assert "OK: 2 file(s): 1 good, 1 unsigned" in out


def test_cli_check_rejects_unsigned_under_require_signatures(capsys, tree):
    house, index = tree
    code, out, _ = run(
        capsys,
        "check",
        house,
        "--index-url",
        index,
        "--no-cache",
        "--at",
        AT,
        "--require-signatures",
    )
    assert code == 1
    assert "REJECTED beta-1.0-py3-none-any.whl: unsigned" in out
    code, _, _ = run(
        capsys,
        "check",
        house,
        "--index-url",
        index,
        "--no-cache",
        "--at",
        AT,
        "--require-signatures-for",
        "Alpha",
    )
    assert code == 0


def test_cli_check_junit_xml_and_github(capsys, tree, tmp_path, monkeypatch):
    house, index = tree
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    junit = tmp_path / "junit.xml"
    code, out, _ = run(
        capsys,
        "check",
        house,
        "--index-url",
        index,
        "--no-cache",
        "--at",
        AT,
        "--format",
        "github",
        "--junit-xml",
        junit,
    )
    assert code == 0
    assert out.splitlines()[0].startswith("::warning file=")  # beta is unsigned
    assert out.splitlines()[-1].startswith("::notice title=pgpverify check::OK")
    suite = ET.fromstring(junit.read_bytes())[0]
    assert [c.attrib["name"] for c in suite] == [
        "alpha-1.0-py3-none-any.whl",
        "beta-1.0-py3-none-any.whl",
    ]
    assert "### pgpverify check: OK" in summary.read_text()


def test_cli_check_keyrings_offline(capsys, world, tmp_path):
    house = world.local(tmp_path / "house")
    sigs = tmp_path / "sigs"
    sigs.mkdir()
    alpha = world.dists[0]
    (sigs / f"{alpha.filename}.asc").write_bytes(alpha.signature)
    ring = tmp_path / "ring.asc"
    ring.write_bytes(ALICE.key_file + MALLORY.key_file)
    owners = tmp_path / "alpha.json"
    owners.write_bytes(world.record("alpha"))
    code, out, _ = run(
        capsys,
        "check",
        house,
        "--keyring",
        ring,
        "--owners",
        owners,
        "--signatures-dir",
        sigs,
        "--at",
        AT,
        "--quiet",
    )
    assert code == 0
    assert out.strip() == "OK: 2 file(s): 1 good, 1 unsigned, 0 rejected, 0 error(s)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check"], "nothing to check"),
        (["install"], "install needs -r"),
        (["check", ".", "--keyring", "k.asc"], "--keyring needs --signatures-dir"),
        (
            ["check", ".", "--owners", "o.json", "--index-url", "https://x.test/simple/"],
            "--owners goes with --keyring",
        ),
        (["check", ".", "--jobs", "0", "--index-url", "https://x.test/simple/"], "--jobs"),
        (
            ["check", ".", "--keyring", "k", "--lock", "l", "--signatures-dir", "."],
            "one source of trust",
        ),
        (
            ["check", ".", "--fail-on-key-change", "--keyring", "k", "--signatures-dir", "."],
            "--fail-on-key-change goes with an index",
        ),
        (
            [
                "check",
                ".",
                "--fail-on-key-change",
                "--no-cache",
                "--index-url",
                "https://x.test/simple/",
            ],
            "--fail-on-key-change needs the cache",
        ),
    ],
)
def test_cli_check_rejects_usage_errors(capsys, args, message):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    assert message in err
    assert len(err.strip().splitlines()) == 1


def _fake_pip(monkeypatch, world, calls):
    def download(requirements, dest, **kwargs):
        calls.append(("download", [str(r) for r in requirements], kwargs.get("index_url")))
        world.local(dest)

    def install(wheelhouse, requirements, extra=(), **_):
        calls.append(("install", requirements.read_text(), list(extra)))

    monkeypatch.setattr(pip_runner, "download", download)
    monkeypatch.setattr(pip_runner, "install", install)
    monkeypatch.setattr(pip_runner, "start_install", lambda *_, **__: None)


def test_cli_install_pins_exactly_the_checked_files(capsys, world, tree, tmp_path, monkeypatch):
    _, index = tree
    calls = []
    _fake_pip(monkeypatch, world, calls)
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("alpha\nbeta\n")
    dest = tmp_path / "kept"
    code, _, err = run(
        capsys,
        "install",
        "-r",
        reqs,
        "--index-url",
        index,
        "--no-cache",
        "--at",
        AT,
        "--dest",
        dest,
        "--",
        "--target",
        tmp_path / "t",
    )
    assert code == 0, err
    (_, pinned, extra) = calls[1]
    alpha, beta = world.dists
    assert pinned == (
        f"alpha==1.0 --hash=sha256:{alpha.sha256}\nbeta==1.0 --hash=sha256:{beta.sha256}\n"
    )
    assert extra == ["--target", str(tmp_path / "t")]
    assert sorted(p.name for p in dest.iterdir()) == [alpha.filename, beta.filename]


def test_cli_install_installs_nothing_when_a_file_is_rejected(
    capsys, world, tree, tmp_path, monkeypatch
):
    _, index = tree
    calls = []
    _fake_pip(monkeypatch, world, calls)
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("alpha\nbeta\n")
    code, _, err = run(
        capsys,
        "install",
        "-r",
        reqs,
        "--index-url",
        index,
        "--no-cache",
        "--at",
        AT,
        "--require-signatures",
    )
    assert code == 1
    assert [c[0] for c in calls] == ["download"]
    assert "nothing installed" in err


def test_cli_install_pip_failure_is_an_error(capsys, tree, tmp_path, monkeypatch):
    _, index = tree
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("alpha\n")
    monkeypatch.setattr(pip_runner.sys, "executable", shutil.which("false") or "/bin/false")
    code, _, err = run(capsys, "install", "-r", reqs, "--index-url", index, "--no-cache")
    assert code == 2
    assert "pip download failed" in err


def test_pinned_requirements_rejects_names_that_are_not_requirements():
    import dataclasses

    from pgpverify.check.model import CheckReport, FileCheck, Status
    from pgpverify.errors import InputError

    good = FileCheck(
        file="a-1.0.tar.gz",
        status=Status.GOOD,
        reason="good",
        message="",
        project="a",
        version="1.0",
        sha256="ab" * 32,
    )
    assert pip_runner.pinned_requirements(CheckReport(files=(good,))) == (
        f"a==1.0 --hash=sha256:{'ab' * 32}\n"
    )
    for bad in (
        {"project": "a\n--index-url http://evil"},
        {"version": "1.0 --no-deps"},
        {"sha256": "x" * 64},
    ):
        item = dataclasses.replace(good, **bad)
        with pytest.raises(InputError, match="cannot pin"):
            pip_runner.pinned_requirements(CheckReport(files=(item,)))


class _Terminal:
    """A stderr that says it is a terminal (what tqdm writes is kept)."""

    def __init__(self):
        self.parts = []

    def isatty(self):
        return True

    def write(self, text):
        self.parts.append(text)
        return len(text)

    def flush(self):
        pass


def test_cli_check_progress_bar_on_a_terminal_only(capsys, tree, monkeypatch):
    house, index = tree
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    code, out, _ = run(capsys, "check", house, "--index-url", index, "--no-cache", "--at", AT)
    assert code == 0
    shown = "".join(terminal.parts)
    assert "pgpverify check" in shown
    assert "/2 [" in shown  # tqdm's count of the files
    assert "OK: 2 file(s)" in out  # the table and totals still go to stdout
    terminal.parts.clear()
    code, _, _ = run(
        capsys, "check", house, "--index-url", index, "--no-cache", "--at", AT, "--quiet"
    )
    assert code == 0
    assert "pgpverify check" not in "".join(terminal.parts)


def test_cli_check_no_progress_bar_when_not_a_terminal(capsys, tree, monkeypatch):
    house, index = tree
    monkeypatch.setattr("pgpverify.cli._progress_state", [])
    code, _, err = run(capsys, "check", house, "--index-url", index, "--no-cache", "--at", AT)
    assert code == 0
    assert "pgpverify check" not in err
    assert "\r" not in err


def test_cli_check_rejects_widened_keys_under_fail_on_key_change(capsys, world, tmp_path):
    house = world.local(tmp_path / "house")
    cache = tmp_path / "cache"

    def check(*extra):
        index = path_to_url(world.write(tmp_path / "index"))
        return run(
            capsys,
            "check",
            house,
            "--index-url",
            index,
            "--cache-dir",
            cache,
            "--at",
            AT,
            "--format",
            "json",
            *extra,
        )

    code, out, _ = check("--fail-on-key-change")
    assert code == 0
    world.own("alpha", MALLORY, user="mallory", role="Maintainer")
    shutil.rmtree(tmp_path / "index")
    code, out, _ = check("--fail-on-key-change")
    assert code == 1
    doc = json.loads(out)
    assert [(f["project"], f["status"], f["reason"]) for f in doc["files"]] == [
        ("alpha", "rejected", "keys-changed"),
        ("beta", "unsigned", "unsigned"),
    ]
    assert any("TRUST STATEMENT OF alpha CHANGED" in w for w in doc["warnings"])
    code, _, _ = check()  # without the flag: reported, accepted
    assert code == 0
    code, _, _ = check("--fail-on-key-change")
    assert code == 0


_FAKE_PIP = """
import json, sys
argv = sys.argv[1:]
with open(argv[argv.index("-r") + 1], encoding="utf-8") as stream:
    pins = stream.read()
with open(sys.argv[0] + ".seen", "w", encoding="utf-8") as out:
    json.dump({"argv": argv, "pins": pins}, out)
sys.exit(3 if "--fail" in argv else 0)
"""


@pytest.fixture
def fake_pip(tmp_path, monkeypatch):
    """pip replaced by a script that records its arguments and the pins it read."""
    import sys

    script = tmp_path / "fakepip.py"
    script.write_text(_FAKE_PIP)
    monkeypatch.setattr(pip_runner, "_pip", lambda: [sys.executable, str(script)])
    return tmp_path / "fakepip.py.seen"


def test_pending_install_reads_the_pins_written_after_the_check(fake_pip, tmp_path):
    import sys

    pending = pip_runner.start_install(tmp_path, ["--target", "t"], output=sys.stderr)
    if pending is None:
        pytest.skip("no /dev/fd here: install runs after the check")
    assert not fake_pip.exists()  # waiting for its requirements
    pending.finish("alpha==1.0 --hash=sha256:" + "ab" * 32 + "\n")
    seen = json.loads(fake_pip.read_text())
    assert seen["pins"] == "alpha==1.0 --hash=sha256:" + "ab" * 32 + "\n"
    argv = seen["argv"]
    assert argv[:6] == [
        "install",
        "--no-index",
        "--no-deps",
        "--require-hashes",
        "--find-links",
        str(tmp_path),
    ]
    assert argv[-2:] == ["--target", "t"]
    pending.cancel()  # after finish: nothing to do


def test_pending_install_rejects_a_failed_check_by_killing_pip_unread(fake_pip, tmp_path):
    import sys
    import time

    # an extra requirement after '--' must not be installed either: pip never gets past
    # reading its requirements file
    pending = pip_runner.start_install(tmp_path, ["./other.whl"], output=sys.stderr)
    if pending is None:
        pytest.skip("no /dev/fd here: install runs after the check")
    time.sleep(0.2)
    pending.cancel()
    pending.cancel()
    assert not fake_pip.exists()
    with pytest.raises(ValueError, match="already finished or cancelled"):
        pending.finish("alpha==1.0\n")


def test_pending_install_rejects_a_pip_failure(fake_pip, tmp_path):
    import sys

    from pgpverify.errors import InputError

    pending = pip_runner.start_install(tmp_path, ["--fail"], output=sys.stderr)
    if pending is None:
        pytest.skip("no /dev/fd here: install runs after the check")
    with pytest.raises(InputError, match="pip install failed"):
        pending.finish("alpha==1.0\n")


def test_pending_install_rejects_extra_requirements_when_pgpverify_dies(world, tmp_path):
    # pgpverify killed mid-check (no cancel): pip reads an end of file instead of the pins;
    # an unhashed requirement given after '--' must still not be installed
    import os
    import sys

    house = world.local(tmp_path / "house")
    target = tmp_path / "target"
    pending = pip_runner.start_install(
        house, ["--quiet", "--target", str(target), "alpha"], output=sys.stderr
    )
    if pending is None:
        pytest.skip("no /dev/fd here: install runs after the check")
    process = pending._process
    os.close(pending._pipe)  # what the kernel does when pgpverify dies
    assert process.wait(timeout=120) != 0
    assert not target.exists() or list(target.iterdir()) == []
    pending._process = None


def test_pending_install_hands_over_pins_larger_than_a_pipe(fake_pip, tmp_path):
    import sys

    pending = pip_runner.start_install(tmp_path, output=sys.stderr)
    if pending is None:
        pytest.skip("no /dev/fd here: install runs after the check")
    pins = "".join(f"p{n}==1.0 --hash=sha256:{'cd' * 32}\n" for n in range(5000))  # 400 KB
    pending.finish(pins)
    assert json.loads(fake_pip.read_text())["pins"] == pins


def test_cli_check_signatures_dir_rejects_a_file_name_too_long_for_its_asc(capsys, world, tmp_path):
    # found by the CLI fuzzer: a distribution file whose name is valid but too long once
    # ".asc" is added made the --signatures-dir lookup raise ENAMETOOLONG: "internal error"
    house = world.local(tmp_path / "house")
    alpha = world.dists[0]
    long_name = alpha.filename.replace("-none-any.whl", "-none-" + "a" * 250)[:251] + ".whl"
    (house / alpha.filename).rename(house / long_name)
    sigs = tmp_path / "sigs"
    sigs.mkdir()
    ring = tmp_path / "ring.asc"
    ring.write_bytes(ALICE.key_file)
    code, out, err = run(
        capsys, "check", house, "--keyring", ring, "--signatures-dir", sigs, "--at", AT
    )
    assert "internal error" not in err
    assert code == 0, err
    assert f"UNSIGNED {long_name}: unsigned: no signature in --signatures-dir" in out


@pytest.mark.parametrize("kind", ["directory", "device", "dangling link"])
def test_cli_check_signatures_dir_rejects_a_signature_that_is_not_a_file(
    capsys, world, tmp_path, kind
):
    # something stands where the signature belongs: an error for that file, not
    # "unsigned" (which passes unless signatures are required), and a device is never read
    house = world.local(tmp_path / "house")
    alpha = world.dists[0]
    sigs = tmp_path / "sigs"
    sigs.mkdir()
    where = sigs / f"{alpha.filename}.asc"
    if kind == "directory":
        where.mkdir()
    elif kind == "device":
        where.symlink_to("/dev/zero")
    else:
        where.symlink_to(sigs / "gone.asc")
    ring = tmp_path / "ring.asc"
    ring.write_bytes(ALICE.key_file)
    code, out, err = run(
        capsys, "check", house, "--keyring", ring, "--signatures-dir", sigs, "--at", AT
    )
    assert "internal error" not in err
    assert code == 2, out + err
    assert "the signature there is not a regular file: not read" in out + err
    assert f"UNSIGNED {alpha.filename}" not in out


def test_cli_install_rejects_a_requirements_file_in_a_symlink_loop(capsys, tree, tmp_path):
    # found by the CLI fuzzer: the install gate's requirements scan resolved the path, and
    # a symbolic link loop raised RuntimeError (Python < 3.13): "internal error"
    _, index_url = tree
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop.name)
    code, _, err = run(capsys, "install", "-r", loop, "--index-url", index_url)
    assert code == 2
    assert "internal error" not in err
    assert "cannot read requirements file: a loop of symbolic links" in err


@pytest.mark.parametrize(
    "data",
    [
        b"d\xe9mo==1\n",  # Latin-1 under a UTF-8 locale
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00\x9a\x9b",  # a wheel given as -r
        b"# -*- coding: no-such-codec -*-\ndemo\n",
        codecs.BOM_UTF16_LE + b"d\x00\x00\xd8",  # a lone surrogate after the mark
    ],
)
@pytest.mark.parametrize("command", ["check", "install"])
def test_cli_check_rejects_a_requirements_file_pip_cannot_decode(
    capsys, tmp_path, monkeypatch, command, data
):
    # found by the CLI fuzzer: pip stopped on such a file with its own traceback, printed
    # through ours; refused before pip starts (pip here would fail: it must not start)
    monkeypatch.setattr("sys.executable", "/nonexistent/python")
    requirements = tmp_path / "requirements.txt"
    requirements.write_bytes(data)
    ring = tmp_path / "ring.asc"
    ring.write_bytes(ALICE.key_file)
    code, _, err = run(
        capsys, command, "-r", requirements, "--keyring", ring, "--signatures-dir", tmp_path
    )
    assert code == 2
    assert "not text pip can read" in err
    assert "cannot run pip" not in err


@pytest.mark.parametrize(
    "case",
    [
        ("requirements.txt", b"PK\x03\x04junk\n", "line 1 holds \\x03, which pip would print raw"),
        ("requirements.txt", b"ok==1\ndemo \x1b[31m==1\n", "line 2 holds \\x1b"),
        ("requirements.txt", "demo\u202e==1\n".encode(), "line 1 holds \\u202e"),
        ("req\x1b[31m.txt", b"demo==1\n", "a requirements file name with \\x1b"),
        ("https:", b"demo==1\n", "as a URL: give a local file"),
        ("FILE:x", b"demo==1\n", "as a URL: give a local file"),
    ],
)
def test_cli_check_rejects_a_requirements_file_pip_would_echo_raw(
    capsys, tmp_path, monkeypatch, case
):
    # found by the CLI fuzzer: pip shows the line it cannot parse raw under its error (and
    # names the file raw), so an escape sequence in either reached the terminal; a name
    # pip takes for a URL (pgpverify made a path of it) stopped pip with a traceback
    name, data, message = case
    monkeypatch.setattr("sys.executable", "/nonexistent/python")
    monkeypatch.chdir(tmp_path)  # pip takes only a relative "https:..." for a URL
    (tmp_path / name).write_bytes(data)
    ring = tmp_path / "ring.asc"
    ring.write_bytes(ALICE.key_file)
    code, _, err = run(capsys, "check", "-r", name, "--keyring", ring, "--signatures-dir", tmp_path)
    assert code == 2
    assert message in err
    assert "\x1b" not in err
    assert "\x03" not in err


@pytest.mark.parametrize("extra", ["--\x1b[31mx", "\u202erequests", "--target=a\nb"])
def test_cli_install_rejects_a_pip_argument_pip_would_echo_raw(capsys, tree, extra):
    # found by the CLI fuzzer: pip printed "no such option: --\x1b[31mx" raw
    _, index_url = tree
    code, _, err = run(capsys, "install", "-r", "r.txt", "--index-url", index_url, "--", extra)
    assert code == 2
    assert "an argument after '--' holds \\" in err
    assert "\x1b" not in err
    assert "\u202e" not in err


def test_cli_check_download_takes_the_retries(capsys, world, tmp_path, monkeypatch):
    # pip's own default tried an unreachable index six times (some 8 s) under --retries 0
    calls = []

    def download(requirements, dest, **kwargs):
        calls.append(kwargs.get("retries"))
        world.local(dest)

    monkeypatch.setattr(pip_runner, "download", download)
    requirements = tmp_path / "r.txt"
    requirements.write_text("alpha\n")
    ring = tmp_path / "ring.asc"
    ring.write_bytes(ALICE.key_file)
    argv = ["check", "-r", requirements, "--keyring", ring, "--signatures-dir", tmp_path]
    run(capsys, *argv, "--retries", "0")
    assert calls == [0]
