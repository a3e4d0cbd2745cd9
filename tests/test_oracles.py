"""Differential test: gpgv and sqv say on every vector what the manifest records for them.

The manifest's ``oracles`` field records each oracle's good/bad verdict, and its
``oracle_note`` explains every case where that differs from pgpverify's expected verdict.
This test fails, listing the vectors, when an installed oracle says something else. An
oracle that is not installed is skipped, except under CI=true on Linux (or with
PGPVERIFY_REQUIRE_ORACLES=1) where that is a failure.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

from tools import require_tool, tools_required

VECTORS = Path(__file__).resolve().parent.parent / "vectors"


def _load_report():
    spec = importlib.util.spec_from_file_location(
        "vectors_oracle_report", VECTORS / "oracle_report.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


report = _load_report()
MANIFEST = report.load_manifest()


def _require(oracle):
    require_tool(oracle, report.installed(oracle))


@pytest.mark.parametrize(
    ("environ", "platform", "required"),
    [
        ({"CI": "true"}, "linux", True),
        ({"CI": "true"}, "darwin", False),
        ({"CI": "true"}, "win32", False),
        ({}, "linux", False),
        ({"PGPVERIFY_REQUIRE_ORACLES": "1"}, "darwin", True),
        ({"CI": "true", "PGPVERIFY_REQUIRE_ORACLES": "0"}, "linux", False),
    ],
)
def test_tools_required_only_on_linux_ci_or_when_asked(environ, platform, required):
    assert tools_required(environ, platform) is required


@pytest.mark.oracle
@pytest.mark.parametrize("oracle", report.ORACLES)
def test_oracle_verdicts_match_manifest(oracle):
    _require(oracle)
    got = report.run_all(oracle, MANIFEST)
    differ = [
        f"{v['name']}: manifest records {v['oracles'][oracle]}, {oracle} says {got[v['name']]}"
        for v in MANIFEST
        if got[v["name"]] != v["oracles"][oracle]
    ]
    assert not differ, "\n".join(differ)


@pytest.mark.oracle
def test_dearmor_reads_every_block_and_skips_junk():
    one = report.dearmor(b"-----BEGIN PGP X-----\n\nAAEC\n=AAAA\n-----END PGP X-----\n")
    assert one == b"\x00\x01\x02"
    two = report.dearmor(
        b"junk\n-----BEGIN PGP X-----\nH: v\n\n!!\n-----END PGP X-----\n"
        b"-----BEGIN PGP X-----\r\n\r\nAw==\r\n-----END PGP X-----\r\n"
    )
    assert two == b"\x03"
    assert report.dearmor(b"\x99binary") == b"\x99binary"


@pytest.mark.oracle
@pytest.mark.parametrize("oracle", report.ORACLES)
def test_readme_agreement_counts_are_current(oracle):
    _require(oracle)
    readme = (VECTORS / "README.md").read_text(encoding="utf-8")
    assert f"**{len(MANIFEST)} vectors**" in readme
    got = report.run_all(oracle, MANIFEST)
    assert f"- {report.agreement_line(oracle, MANIFEST, got)}\n" in readme, (
        "update vectors/README.md from `python vectors/oracle_report.py`"
    )


@pytest.mark.oracle
def test_gpgv_key_state_notes_match_its_status_output():
    # A note that explains gpgv's good by the key's state (it exits 0 and only warns) must
    # see the warning: a REVKEYSIG or EXPKEYSIG line. Otherwise gpgv never saw the
    # revocation or expiry (it read another copy, or dropped the signature), which the note
    # must say instead.
    _require("gpgv")
    spec = importlib.util.spec_from_file_location(
        "vectors_oracle_notes", VECTORS / "oracle_notes.py"
    )
    assert spec is not None
    assert spec.loader is not None
    notes = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(notes)
    claimed = [
        v
        for v in MANIFEST
        if v["oracles"]["gpgv"] == "good" and v.get("oracle_note", "").startswith(notes.GPGV_STATE)
    ]
    assert claimed
    wrong = [
        v["name"]
        for v in claimed
        if not report.gpgv_status(v) & {"REVKEYSIG", "EXPKEYSIG", "EXPSIG"}
    ]
    assert not wrong, wrong
