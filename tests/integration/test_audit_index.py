"""``pgpverify audit`` against a real static index on 127.0.0.1 (PEP 691 pages) and a mirror.

The index has every category (tests/auditindex.py). A run killed with SIGKILL mid-way and
run again audits every file exactly once, with the totals of an uninterrupted run; shards
1/2 and 2/2 merged equal a run without shards; ``--from-store`` after the index is gone
gives the same totals.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from auditindex import build_index, expected_totals
from conftest import free_port, running


@contextlib.contextmanager
def _sqlite(path, **kwargs):
    """sqlite3's own context manager commits but never closes (Python 3.13 warns)."""
    conn = sqlite3.connect(path, **kwargs)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


AT = "2025-06-01T00:00:00Z"
SERVER = Path(__file__).resolve().parent / "pep691_server.py"


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = tmp_path_factory.mktemp("audit-http") / "www"
    files = build_index(root)
    return root, files


def serve(root: Path, delay: float = 0.0):
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    argv = [sys.executable, str(SERVER), str(port), str(root), "--delay", str(delay)]
    return running(argv, url), url + "simple/"


def cli(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "pgpverify", *argv],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


def report(db: Path) -> dict:
    done = cli("audit", "report", "--db", str(db), "--json", "-")
    return json.loads(done.stdout)


def nonzero(totals: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in totals.items() if v}


def test_audit_over_http_every_category(index, tmp_path):
    root, files = index
    server, url = serve(root)
    with server:
        cli(
            "audit",
            "run",
            "--index-url",
            url,
            "--db",
            str(tmp_path / "a.sqlite"),
            "--all",
            "--at",
            AT,
            "--jobs",
            "3",
            "--max-rps",
            "500",
        )
    doc = report(tmp_path / "a.sqlite")
    assert nonzero(doc["totals"]) == expected_totals(files)
    by_file = {f["file"]: f for f in doc["files"]}
    assert by_file["undated-1.0.tar.gz"]["upload_time_unknown"] is True
    assert by_file["backsigned-1.0.tar.gz"]["backsigned"] is True


def test_audit_killed_with_sigkill_resumes_exactly_once(index, tmp_path):
    root, files = index
    db = tmp_path / "killed.sqlite"
    server, url = serve(root, delay=0.02)
    with server:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pgpverify",
                "audit",
                "run",
                "--index-url",
                url,
                "--db",
                str(db),
                "--all",
                "--at",
                AT,
                "--jobs",
                "1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        done = 0
        while time.monotonic() < deadline and proc.poll() is None:
            if db.exists():
                try:
                    with _sqlite(db, timeout=1) as conn:
                        done = conn.execute("SELECT count(*) FROM files").fetchone()[0]
                except sqlite3.Error:
                    done = 0
                if done >= 5:
                    break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        assert 5 <= done < len(files)
        # a store left by a killed run can be reported on
        partial = report(db)
        assert 5 <= len(partial["files"]) < len(files)
        resumed = cli(
            "audit",
            "run",
            "--index-url",
            url,
            "--db",
            str(db),
            "--all",
            "--at",
            AT,
            "--format",
            "json",
        )
        whole = tmp_path / "whole.sqlite"
        cli("audit", "run", "--index-url", url, "--db", str(whole), "--all", "--at", AT)
    summary = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert summary["skipped"] >= done
    assert summary["audited"] + summary["skipped"] == len(files)
    with _sqlite(db) as conn:
        keys = conn.execute("SELECT project, filename FROM files").fetchall()
    assert len(keys) == len(set(keys)) == len(files)
    assert report(db)["totals"] == report(whole)["totals"]


def test_audit_shards_merged_equal_one_run_and_from_store_without_the_index(index, tmp_path):
    root, files = index
    server, url = serve(root)
    with server:
        for k in (1, 2):
            cli(
                "audit",
                "run",
                "--index-url",
                url,
                "--db",
                str(tmp_path / f"s{k}.sqlite"),
                "--all",
                "--at",
                AT,
                "--shard",
                f"{k}/2",
            )
        cli(
            "audit",
            "run",
            "--index-url",
            url,
            "--db",
            str(tmp_path / "one.sqlite"),
            "--all",
            "--at",
            AT,
        )
    cli(
        "audit",
        "merge",
        str(tmp_path / "s1.sqlite"),
        str(tmp_path / "s2.sqlite"),
        "-o",
        str(tmp_path / "all.sqlite"),
    )
    merged, one = report(tmp_path / "all.sqlite"), report(tmp_path / "one.sqlite")
    assert merged["totals"] == one["totals"]
    key = lambda f: (f["project"], f["file"])  # noqa: E731
    assert sorted(merged["files"], key=key) == sorted(one["files"], key=key)
    # the index is gone (the server stopped): the archive alone gives the same totals
    cli("audit", "run", "--from-store", "--db", str(tmp_path / "one.sqlite"), "--at", AT)
    assert report(tmp_path / "one.sqlite")["totals"] == one["totals"]
    assert nonzero(one["totals"]) == expected_totals(files)


def test_audit_mirror_equals_the_index(index, tmp_path):
    root, _ = index
    server, url = serve(root)
    with server:
        cli(
            "audit",
            "run",
            "--index-url",
            url,
            "--db",
            str(tmp_path / "h.sqlite"),
            "--all",
            "--at",
            AT,
        )
    cli(
        "audit",
        "run",
        "--mirror",
        str(root),
        "--db",
        str(tmp_path / "m.sqlite"),
        "--all",
        "--at",
        AT,
    )
    assert report(tmp_path / "h.sqlite")["totals"] == report(tmp_path / "m.sqlite")["totals"]


def test_audit_unreachable_index_is_incomplete_not_a_traceback(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/simple/"
    done = cli(
        "audit",
        "run",
        "--index-url",
        url,
        "--db",
        str(tmp_path / "a.sqlite"),
        "demo-pkg",
        "--retries",
        "0",
        "--timeout",
        "2",
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "not audited: demo-pkg" in done.stderr
