"""``pgpverify audit``: run, report, merge, export-signatures through main([...])."""

from __future__ import annotations

import json

import pytest
from auditindex import build_index, expected_totals

from pgpverify.cli import main

AT = "2025-06-01T00:00:00Z"


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-audit") / "mirror"
    return root, build_index(root)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_audit_run_report_merge_export(index, tmp_path, capsys):
    root, files = index
    db = tmp_path / "a.sqlite"
    code, out, err = run(
        capsys, "audit", "run", "--mirror", str(root), "--db", str(db), "--all", "--at", AT
    )
    assert code == 0, err
    assert f"{len(files)} file(s) audited" in out
    code, out, _ = run(
        capsys,
        "audit",
        "run",
        "--mirror",
        str(root),
        "--db",
        str(db),
        "--all",
        "--at",
        AT,
        "--format",
        "json",
    )
    summary = json.loads(out)
    assert (summary["audited"], summary["skipped"]) == (0, len(files))
    report = tmp_path / "r.json"
    code, _, err = run(
        capsys,
        "audit",
        "report",
        "--db",
        str(db),
        "--json",
        str(report),
        "--csv",
        str(tmp_path / "r.csv"),
        "--html",
        str(tmp_path / "r.html"),
    )
    assert code == 0, err
    doc = json.loads(report.read_text())
    assert {k: v for k, v in doc["totals"].items() if v} == expected_totals(files)
    assert (tmp_path / "r.html").read_text().count("<svg") == 2
    assert len((tmp_path / "r.csv").read_text().splitlines()) == len(files) + 1
    code, out, _ = run(
        capsys, "audit", "export-signatures", "--db", str(db), str(tmp_path / "sigs")
    )
    assert code == 0
    assert len(list((tmp_path / "sigs").rglob("*.asc"))) == sum(1 for f in files if f.asc)


def test_cli_audit_shards_from_job_completion_index(index, tmp_path, capsys, monkeypatch):
    root, files = index
    stores = []
    for k in range(2):
        monkeypatch.setenv("JOB_COMPLETION_INDEX", str(k))
        monkeypatch.setenv("JOB_COMPLETION_COUNT", "2")
        db = tmp_path / f"s{k}.sqlite"
        code, _, err = run(
            capsys, "audit", "run", "--mirror", str(root), "--db", str(db), "--all", "--at", AT
        )
        assert code == 0, err
        stores.append(str(db))
    monkeypatch.delenv("JOB_COMPLETION_INDEX")
    merged = tmp_path / "all.sqlite"
    code, out, _ = run(capsys, "audit", "merge", *stores, "-o", str(merged))
    assert code == 0
    assert f"{len(files)} file(s)" in out
    code, out, _ = run(capsys, "audit", "report", "--db", str(merged), "--json", "-")
    assert len(json.loads(out)["files"]) == len(files)


def test_cli_audit_from_store(index, tmp_path, capsys):
    root, files = index
    db = tmp_path / "a.sqlite"
    run(capsys, "audit", "run", "--mirror", str(root), "--db", str(db), "--all", "--at", AT)
    code, out, err = run(capsys, "audit", "run", "--from-store", "--db", str(db), "--at", AT)
    assert code == 0, err
    signed = sum(1 for f in files if f.asc)
    assert f"{signed} file(s) audited" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["audit", "run", "--mirror", "M", "--db", "D"],
        ["audit", "run", "--mirror", "M", "--db", "D", "--all", "x"],
        ["audit", "run", "--from-store", "--db", "D", "--all"],
        ["audit", "run", "--mirror", "M", "--db", "D", "--all", "--shard", "3/2"],
        ["audit", "run", "--mirror", "M", "--db", "D", "--all", "--jobs", "0"],
        ["audit", "run", "--db", "D", "--all"],
        ["audit", "run", "--mirror", "M", "--db", "D", "not a name!"],
    ],
)
def test_cli_audit_rejects_bad_usage(argv, capsys):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("pgpverify: error:")
    assert len(err.strip().splitlines()) == 1


def test_cli_audit_rejects_a_corrupt_store(tmp_path, capsys):
    db = tmp_path / "junk.sqlite"
    db.write_bytes(b"\x00garbage" * 1000)
    for argv in (
        ["audit", "report", "--db", str(db)],
        ["audit", "run", "--from-store", "--db", str(db)],
        ["audit", "export-signatures", "--db", str(db), str(tmp_path / "o")],
        ["audit", "merge", str(db), "-o", str(tmp_path / "m.sqlite")],
    ):
        code, _, err = run(capsys, *argv)
        assert code == 2
        assert "Traceback" not in err
        assert len(err.strip().splitlines()) == 1


def test_cli_audit_json_logs_each_failure_then_the_summary(tmp_path, capsys):
    root = tmp_path / "m"
    build_index(root)
    (root / "pgp" / "projects" / "good-00.json").write_text("{not json")
    code, out, _ = run(
        capsys,
        "audit",
        "run",
        "--mirror",
        str(root),
        "--db",
        str(tmp_path / "a.sqlite"),
        "good-00",
        "good-01",
        "--format",
        "json",
    )
    assert code == 1
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["event"] for e in events] == ["failure", "summary"]
    assert events[0]["message"].startswith("good-00: ")
    assert events[1]["audited"] == 1


def test_cli_audit_rejects_an_oversized_signature_as_malformed(tmp_path, capsys):
    root = tmp_path / "m"
    files = build_index(root)
    item = next(f for f in files if f.project == "good-00")
    asc = root / "packages" / "good-00" / (item.filename + ".asc")
    asc.write_bytes(item.asc + b"\n" * (2 << 20))  # over Limits.signature_bytes (1 MiB)
    db = tmp_path / "a.sqlite"
    code, _, err = run(
        capsys, "audit", "run", "--mirror", str(root), "--db", str(db), "good-00", "--at", AT
    )
    assert code == 0, err
    code, out, _ = run(capsys, "audit", "report", "--db", str(db), "--json", "-")
    (row,) = json.loads(out)["files"]
    assert row["category"] == "malformed"


def test_cli_audit_rejects_a_missing_store(tmp_path, capsys):
    code, _, err = run(capsys, "audit", "report", "--db", str(tmp_path / "none.sqlite"))
    assert code == 2
    assert "no such audit store" in err


def test_cli_audit_rejects_a_mirror_without_simple(tmp_path, capsys):
    code, _, err = run(
        capsys,
        "audit",
        "run",
        "--mirror",
        str(tmp_path),
        "--db",
        str(tmp_path / "a.sqlite"),
        "--all",
    )
    assert code == 2
    assert "not a PEP 503 mirror" in err


def test_cli_audit_empty_store_report(tmp_path, capsys):
    db = tmp_path / "e.sqlite"
    from pgpverify.audit.store import AuditStore

    AuditStore(db).close()
    code, out, _ = run(capsys, "audit", "report", "--db", str(db))
    assert code == 0
    assert "good " in out


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


def test_cli_audit_progress_bar_on_a_terminal_only(index, tmp_path, capsys, monkeypatch):
    root, files = index
    monkeypatch.setattr("pgpverify.cli._PROGRESS_SECONDS", 0)  # every update drawn
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    code, out, _ = run(
        capsys,
        "audit",
        "run",
        "--mirror",
        str(root),
        "--db",
        str(tmp_path / "a.sqlite"),
        "--all",
        "--at",
        AT,
    )
    shown = "".join(terminal.parts)
    assert code == 0, shown
    assert "pgpverify audit" in shown
    assert f"/{len({f.project for f in files})} [" in shown  # tqdm's count of projects
    assert "files/s" in shown
    assert "audited" in out  # the summary still goes to stdout
    terminal.parts.clear()
    code, _, _ = run(
        capsys, "audit", "run", "--from-store", "--db", str(tmp_path / "a.sqlite"), "--at", AT
    )
    assert code == 0
    assert "pgpverify audit" in "".join(terminal.parts)


def test_cli_audit_no_progress_bar_when_not_a_terminal(index, tmp_path, capsys):
    root, _ = index
    code, _, err = run(
        capsys,
        "audit",
        "run",
        "--mirror",
        str(root),
        "--db",
        str(tmp_path / "a.sqlite"),
        "--all",
        "--at",
        AT,
    )
    assert code == 0
    assert "project/s" not in err
    assert "\r" not in err


def test_cli_audit_run_rejects_a_project_name_too_long_for_the_mirror(index, tmp_path, capsys):
    # found by the CLI fuzzer: looking the name up under simple/ raised ENAMETOOLONG, which
    # came out as an "internal error"; no file can have that name, so the mirror has no
    # such project
    root, _ = index
    db = tmp_path / "a.sqlite"
    code, out, err = run(capsys, "audit", "run", "--mirror", str(root), "--db", str(db), "x" * 300)
    assert code == 0, err
    assert "internal error" not in err
    assert "0 failed" in out + err


@pytest.mark.parametrize("rate", ["1e-300", "0.0001", "0", "nan", "inf", "100001"])
def test_cli_audit_run_rejects_a_rate_out_of_range(index, tmp_path, capsys, rate):
    # found by the CLI fuzzer: --max-rps 1e-300 made the token bucket sleep 1e300 s
    # (OverflowError: "internal error"); 0.0001 waited 10000 s between requests
    root, _ = index
    db = tmp_path / "a.sqlite"
    argv = ["audit", "run", "--mirror", str(root), "--db", str(db), "--all", "--max-rps", rate]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "--max-rps must be between 0.01 and 100000" in err
