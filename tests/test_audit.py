"""pgpverify.audit: categories, store, runner, shards, merge, from-store, export, report."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import sqlite3
import tracemalloc
from typing import TYPE_CHECKING

import pytest
from auditindex import NOW, SIGNED, build_index, expected_totals, signature, signer
from certbuild import w

from pgpverify.audit import runner as runner_module
from pgpverify.audit.categories import CATEGORIES, categorise
from pgpverify.audit.export import export_signatures, safe_component
from pgpverify.audit.judge import ProjectTrust, judge_file
from pgpverify.audit.report import ReportData, gather, render_html, write_csv, write_json
from pgpverify.audit.runner import AuditOptions, run_audit, run_from_store
from pgpverify.audit.sources import (
    MirrorFetcher,
    TokenBucket,
    in_shard,
    list_projects,
    mirror_root,
    parse_shard,
)
from pgpverify.audit.store import AuditStore, AuditStoreError
from pgpverify.errors import NetworkError
from pgpverify.index.client import IndexClient
from pgpverify.index.localfs import path_to_url
from pgpverify.limits import DEFAULT_LIMITS
from pgpverify.trust.owners import OwnershipRecord


@contextlib.contextmanager
def _sqlite(path, **kwargs):
    """sqlite3's own context manager commits but never closes (Python 3.13 warns)."""
    conn = sqlite3.connect(path, **kwargs)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    root = tmp_path_factory.mktemp("audit") / "mirror"
    files = build_index(root)
    return root, files


def clients_for(root: Path):
    def make():
        return IndexClient(
            MirrorFetcher(root.resolve()), index_url=path_to_url(root / "simple"), allow_files=True
        )

    return make


def audit(root: Path, db: Path, projects=None, **options):
    make = clients_for(root)
    names = list_projects(make()) if projects is None else projects
    with AuditStore(db) as store:
        return run_audit(store, make, names, now=NOW, options=AuditOptions(**options))


def totals(db: Path) -> dict[str, int]:
    with AuditStore(db, create=False) as store:
        data = gather(store)
    return {k: v for k, v in data.totals.items() if v}


def rows(db: Path) -> dict[tuple[str, str], tuple]:
    with AuditStore(db, create=False) as store:
        return {
            (r.project, r.filename): (
                r.category,
                r.reason_now,
                r.reason_at_upload,
                r.backsigned,
                r.asc_digest,
            )
            for r in store.files()
        }


# -- categories ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def audited(mirror, tmp_path_factory):
    root, files = mirror
    db = tmp_path_factory.mktemp("db") / "audit.sqlite"
    summary = audit(root, db)
    assert summary.failures == ()
    return db, files


def test_audit_every_category_of_the_fixture(audited):
    db, files = audited
    want = {(f.project, f.filename): f.category for f in files}
    got = {key: value[0] for key, value in rows(db).items()}
    assert got == want
    assert totals(db) == expected_totals(files)


@pytest.mark.parametrize(
    "category",
    [
        "good",
        "good-backsigned",
        "expired-since",
        "revoked-since",
        "unsigned",
        "not-owner",
        "unknown-key",
        "bad-signature",
        "weak-hash",
        "hash-mismatch",
    ],
)
def test_audit_category(audited, category):
    db, files = audited
    assert category in CATEGORIES
    assert any(f.category == category for f in files)
    assert totals(db)[category] == sum(1 for f in files if f.category == category)


def test_audit_not_owner_names_whose_key(audited):
    db, _ = audited
    with AuditStore(db) as store:
        row = store.file("victim", "victim-1.0.tar.gz")
    assert row is not None
    assert row.category == "not-owner"
    assert row.key_owner is not None
    assert "mallory" in row.key_owner
    assert row.foreign_key_digest is not None


def test_audit_upload_time_unknown_is_never_backsigned_or_not(audited):
    db, _ = audited
    with AuditStore(db) as store:
        row = store.file("undated", "undated-1.0.tar.gz")
    assert row is not None
    assert row.upload_time_unknown is True
    assert row.backsigned is None
    assert row.reason_at_upload is None


def test_categorise_backsigned_only_with_an_upload_time():
    common = {
        "signed": True,
        "reason_now": "good",
        "reason_at_upload": None,
        "signature_created": 10_000_000.0,
        "grace_seconds": 86400,
    }
    assert categorise(upload_time=None, **common).category == "good"
    assert categorise(upload_time=None, **common).backsigned is None
    late = categorise(upload_time=1.0, **common)
    assert (late.category, late.backsigned) == ("good-backsigned", True)
    on_time = categorise(upload_time=10_000_000.0 - 3600, **common)
    assert (on_time.category, on_time.backsigned) == ("good", False)


def test_categorise_rejects_revoked_as_revoked_since_only_if_good_at_upload():
    base = {"signed": True, "upload_time": 0.0, "signature_created": 10.0, "grace_seconds": 86400}
    assert (
        categorise(reason_now="key-revoked", reason_at_upload="good", **base).category
        == "revoked-since"
    )
    assert (
        categorise(reason_now="key-revoked", reason_at_upload="key-revoked", **base).category
        == "key-revoked"
    )
    assert (
        categorise(reason_now="key-expired", reason_at_upload="good", **base).category
        == "expired-since"
    )


# -- the store: resume, idempotence, re-audit, corruption ------------------------------------


def test_audit_rerun_skips_everything_done(mirror, tmp_path):
    root, files = mirror
    db = tmp_path / "a.sqlite"
    first = audit(root, db)
    again = audit(root, db)
    assert first.audited == len(files)
    assert (again.audited, again.skipped) == (0, len(files))


@pytest.mark.parametrize(("kill_at", "jobs"), [(1, 1), (7, 1), (20, 1), (29, 1), (7, 3)])
def test_audit_resumes_after_a_run_killed_mid_way(mirror, tmp_path, monkeypatch, kill_at, jobs):
    root, files = mirror
    db = tmp_path / "a.sqlite"
    real = AuditStore.save_file
    calls = {"n": 0}

    def dying(self, row, signature):
        calls["n"] += 1
        if calls["n"] == kill_at:
            raise KeyboardInterrupt  # the process dies between two files
        if calls["n"] > kill_at:
            raise KeyboardInterrupt  # other threads die with it
        real(self, row, signature)

    monkeypatch.setattr(AuditStore, "save_file", dying)
    with pytest.raises(KeyboardInterrupt):
        audit(root, db, jobs=jobs)
    monkeypatch.setattr(AuditStore, "save_file", real)
    with AuditStore(db) as store:
        done = store.count()
    assert done == kill_at - 1
    resumed = audit(root, db)
    assert (resumed.audited, resumed.skipped) == (len(files) - done, done)
    reference = tmp_path / "b.sqlite"
    audit(root, reference)
    assert rows(db) == rows(reference)


def test_audit_reaudits_a_file_whose_signature_changed(tmp_path):
    root = tmp_path / "mirror"
    files = build_index(root)
    db = tmp_path / "a.sqlite"
    audit(root, db)
    tampered = next(f for f in files if f.project == "good-00")
    asc = root / "packages" / "good-00" / (tampered.filename + ".asc")
    other = next(f for f in files if f.project == "tampered")
    asc.write_bytes(other.asc)
    again = audit(root, db)
    assert again.audited == 1
    assert rows(db)[("good-00", tampered.filename)][0] == "bad-signature"


def test_audit_reaudits_a_project_whose_keys_changed(tmp_path):
    root = tmp_path / "mirror"
    build_index(root)
    db = tmp_path / "a.sqlite"
    audit(root, db)
    record = root / "pgp" / "projects" / "victim.json"
    doc = json.loads(record.read_text())
    other = json.loads((root / "pgp" / "projects" / "other.json").read_text())
    doc["maintainers"] += other["maintainers"]
    record.write_text(json.dumps(doc))
    again = audit(root, db)
    assert again.audited == 1
    assert rows(db)[("victim", "victim-1.0.tar.gz")][0] == "good"


def test_audit_store_rejects_a_corrupt_file(tmp_path):
    db = tmp_path / "junk.sqlite"
    db.write_bytes(b"this is not a database" * 100)
    with pytest.raises(AuditStoreError):
        AuditStore(db).close()


def test_audit_store_rejects_another_schema(tmp_path):
    db = tmp_path / "a.sqlite"
    AuditStore(db).close()
    with _sqlite(db) as conn:
        conn.execute("UPDATE meta SET value='99' WHERE key='schema'")
    with pytest.raises(AuditStoreError, match="schema"):
        AuditStore(db).close()


def test_audit_store_rejects_an_altered_blob(audited, tmp_path):
    db, _ = audited
    copy = tmp_path / "copy.sqlite"
    with _sqlite(db) as src, _sqlite(copy) as dst:
        src.backup(dst)
    with _sqlite(copy) as conn:
        conn.execute("UPDATE blobs SET data = x'00'")
    with AuditStore(copy) as store:
        summary = run_from_store(store, at=NOW, stamp=0.0)
    assert summary.audited == 0
    assert summary.failures
    assert all("altered" in failure for failure in summary.failures)


def test_audit_store_rejects_a_corrupt_row(audited, tmp_path):
    db, _ = audited
    copy = tmp_path / "copy.sqlite"
    with _sqlite(db) as src, _sqlite(copy) as dst:
        src.backup(dst)
    with _sqlite(copy) as conn:
        conn.execute("UPDATE files SET key_bits = 'many'")
    with AuditStore(copy) as store, pytest.raises(AuditStoreError, match="corrupt"):
        gather(store)


def test_audit_store_missing_is_an_error(tmp_path):
    with pytest.raises(AuditStoreError, match="no such"):
        AuditStore(tmp_path / "none.sqlite", create=False)


# -- shards and merge ------------------------------------------------------------------------


def test_audit_shards_partition_the_projects_exactly():
    names = [f"project-{i}" for i in range(2000)]
    for count in (1, 2, 3, 7):
        parts = [{n for n in names if in_shard(n, k, count)} for k in range(count)]
        assert sum(len(p) for p in parts) == len(names)
        assert set().union(*parts) == set(names)
    assert in_shard("Demo_Pkg", 0, 5) == in_shard("demo-pkg", 0, 5)


def test_audit_parse_shard_rejects_bad_values():
    assert parse_shard("1/2") == (0, 2)
    for bad in ("0/2", "3/2", "x/2", "1", "1/0", "-1/2"):
        with pytest.raises(ValueError):
            parse_shard(bad)


def test_audit_shards_merged_equal_an_unsharded_run(mirror, tmp_path):
    root, _ = mirror
    names = list_projects(clients_for(root)())
    whole = tmp_path / "whole.sqlite"
    audit(root, whole, names)
    shards = []
    for k in range(2):
        db = tmp_path / f"shard{k}.sqlite"
        audit(root, db, [n for n in names if in_shard(n, k, 2)])
        shards.append(db)
    merged = tmp_path / "merged.sqlite"
    with AuditStore(merged) as out:
        for db in shards:
            with AuditStore(db, create=False) as shard:
                out.merge_from(shard)
    assert rows(merged) == rows(whole)
    assert totals(merged) == totals(whole)
    with AuditStore(merged) as out, AuditStore(shards[0], create=False) as shard:
        assert out.merge_from(shard) == 0  # merging again adds nothing


# -- from the store ------------------------------------------------------------------------


def test_audit_from_store_gives_the_same_totals_without_the_index(tmp_path):
    root = tmp_path / "mirror"
    build_index(root)
    db = tmp_path / "a.sqlite"
    audit(root, db)
    before = totals(db)
    import shutil

    shutil.rmtree(root)
    with AuditStore(db) as store:
        summary = run_from_store(store, at=NOW, stamp=0.0)
    assert summary.failures == ()
    assert totals(db) == before


def test_audit_from_store_rejudges_at_another_time(audited, tmp_path):
    db, _ = audited
    copy = tmp_path / "copy.sqlite"
    with _sqlite(db) as src, _sqlite(copy) as dst:
        src.backup(dst)
    from datetime import datetime, timezone

    with AuditStore(copy) as store:
        run_from_store(store, at=datetime(2023, 6, 1, tzinfo=timezone.utc), stamp=0.0)
    got = rows(copy)
    assert got[("expired", "expired-1.0.tar.gz")][0] == "good"
    assert got[("revoked", "revoked-1.0.tar.gz")][0] == "good"


def test_audit_from_store_rejects_math_it_never_checked(audited, tmp_path):
    db, _ = audited
    copy = tmp_path / "copy.sqlite"
    with _sqlite(db) as src, _sqlite(copy) as dst:
        src.backup(dst)
    with _sqlite(copy) as conn:
        conn.execute("UPDATE files SET math = '[]'")
    with AuditStore(copy) as store:
        run_from_store(store, at=NOW, stamp=0.0)
    got = totals(copy)
    assert "good" not in got
    assert got["bad-signature"] >= 20


# -- export --------------------------------------------------------------------------------


def test_audit_export_writes_every_archived_signature(audited, tmp_path):
    db, files = audited
    with AuditStore(db) as store:
        summary = export_signatures(store, tmp_path / "out")
    signed = [f for f in files if f.asc is not None]
    assert (summary.written, summary.refused) == (len(signed), ())
    for item in signed:
        assert (tmp_path / "out" / item.project / (item.filename + ".asc")).read_bytes() == item.asc
    with AuditStore(db) as store:
        assert export_signatures(store, tmp_path / "out").unchanged == len(signed)


@pytest.mark.parametrize(
    "name",
    [
        "../evil",
        "/etc/passwd",
        "a/b",
        "a\\b",
        "C:evil",
        "..",
        "CON",
        "nul.tar.gz",
        "COM1.txt",
        "x\x00y",
        "x\ny",
        "trailing.",
        "x" * 300,
        "",
    ],
)
def test_audit_export_rejects_hostile_file_names(audited, tmp_path, name):
    db, _ = audited
    assert safe_component(name) is not None
    copy = tmp_path / "copy.sqlite"
    with _sqlite(db) as src, _sqlite(copy) as dst:
        src.backup(dst)
    with _sqlite(copy) as conn:
        conn.execute("UPDATE files SET filename = ? WHERE project = 'good-00'", (name,))
    out = tmp_path / "deep" / "out"
    with AuditStore(copy) as store:
        summary = export_signatures(store, out)
    assert len(summary.refused) == 1
    written = {p.relative_to(out).parts[0] for p in out.rglob("*.asc")}
    assert "good-00" not in written
    assert not (tmp_path / "deep" / "evil.asc").exists()
    assert not (tmp_path / "evil.asc").exists()


# -- sources -------------------------------------------------------------------------------


def test_audit_mirror_rejects_paths_outside(tmp_path):
    root = tmp_path / "m"
    (root / "simple").mkdir(parents=True)
    (tmp_path / "secret").write_text("x")
    fetcher = MirrorFetcher(mirror_root(root))
    with pytest.raises(NetworkError, match="outside"):
        fetcher.get(path_to_url(tmp_path / "secret"), max_bytes=100)
    with pytest.raises(NetworkError, match="outside"):
        fetcher.get(path_to_url(root) + "simple/../../secret", max_bytes=100)


def test_audit_mirror_accepts_bandersnatch_layout(tmp_path):
    build_index(tmp_path / "web")
    assert mirror_root(tmp_path) == (tmp_path / "web").resolve()


def test_audit_lists_projects_from_pgp_index_without_a_root_page(tmp_path):
    root = tmp_path / "mirror"
    build_index(root)
    (root / "simple" / "index.html").unlink()
    (root / "simple" / "index.v1_json").unlink()
    names = list_projects(clients_for(root)())
    assert names == sorted(json.loads((root / "pgp" / "index.json").read_text())["projects"])


def test_audit_token_bucket_paces_requests():
    clock = {"t": 0.0}
    waits = []

    def sleep(s):
        waits.append(s)
        clock["t"] += s

    bucket = TokenBucket(2.0, burst=1, clock=lambda: clock["t"], sleep=sleep)
    for _ in range(5):
        bucket.take()
    assert clock["t"] == pytest.approx(2.0)


def test_audit_since_skips_older_uploads(mirror, tmp_path):
    root, files = mirror
    db = tmp_path / "a.sqlite"
    summary = audit(root, db, since=NOW.timestamp())
    undated = [f for f in files if f.upload_time is None]
    assert summary.audited == len(undated)


def test_audit_network_failure_leaves_the_file_for_the_next_run(mirror, tmp_path, monkeypatch):
    root, files = mirror
    db = tmp_path / "a.sqlite"
    real = runner_module.judge_file

    def failing(*args, **kwargs):
        raise NetworkError("connection reset", source="test")

    monkeypatch.setattr(runner_module, "judge_file", failing)
    first = audit(root, db)
    signed = [f for f in files if f.asc is not None]
    assert len(first.failures) == len(signed)
    monkeypatch.setattr(runner_module, "judge_file", real)
    second = audit(root, db)
    assert (second.audited, second.failures) == (len(signed), ())


# -- report --------------------------------------------------------------------------------


def test_audit_report_json_has_every_category_and_the_files(audited, tmp_path):
    import io

    db, files = audited
    with AuditStore(db) as store:
        out = io.StringIO()
        write_json(store, gather(store), out)
    doc = json.loads(out.getvalue())
    assert set(doc["totals"]) == set(CATEGORIES)
    assert len(doc["files"]) == len(files)
    needed = {
        "project",
        "file",
        "category",
        "sha256",
        "upload_time",
        "signature_created",
        "signer_fingerprint",
        "primary_fingerprint",
        "reason_at_upload",
        "reason_now",
    }
    assert needed <= set(doc["files"][0])
    assert doc["backsigned"]["count"] == 1


def test_audit_report_for_an_empty_store(tmp_path):
    import io

    with AuditStore(tmp_path / "empty.sqlite") as store:
        data = gather(store)
        out = io.StringIO()
        write_json(store, data, out)
    doc = json.loads(out.getvalue())
    assert doc["files"] == []
    assert all(v == 0 for v in doc["totals"].values())
    page = render_html(data, title="t", generated="now")
    assert "<svg" in page


def test_audit_report_csv_quotes_formulas(audited, tmp_path):
    import csv
    import io

    db, _ = audited
    copy = tmp_path / "copy.sqlite"
    with _sqlite(db) as src, _sqlite(copy) as dst:
        src.backup(dst)
    with _sqlite(copy) as conn:
        conn.execute("UPDATE files SET filename = '=HYPERLINK(1)' WHERE project = 'good-00'")
    with AuditStore(copy) as store:
        out = io.StringIO()
        write_csv(store, out)
    cells = [row[1] for row in csv.reader(io.StringIO(out.getvalue()))]
    assert "'=HYPERLINK(1)" in cells
    assert "=HYPERLINK(1)" not in cells


def test_audit_report_html_escapes_names_from_the_index(audited, tmp_path):
    db, _ = audited
    copy = tmp_path / "copy.sqlite"
    with _sqlite(db) as src, _sqlite(copy) as dst:
        src.backup(dst)
    with _sqlite(copy) as conn:
        conn.execute(
            "UPDATE files SET filename = '<script>alert(1)</script>', "
            "message_now = '<img src=x onerror=alert(1)>' WHERE project = 'tampered'"
        )
    with AuditStore(copy) as store:
        page = render_html(gather(store), title="t", generated="now")
    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_audit_report_large_store_stays_consistent():
    data = ReportData()
    from pgpverify.audit.store import FileRow

    for i in range(20_000):
        data.add(
            FileRow(
                project=f"p{i % 500}",
                filename=f"f{i}",
                url="u",
                listed_sha256=None,
                sha256=None,
                upload_time=1.6e9 + i * 1000,
                asc_digest="d",
                keys_digest="k",
                category="good" if i % 3 else "unknown-key",
                backsigned=i % 10 == 0,
                upload_time_unknown=False,
                signer_fingerprint="A" * 40,
                primary_fingerprint="A" * 40,
                signature_created=1.6e9,
                hash_algorithm="SHA256",
                key_algorithm="EdDSA",
                key_bits=256,
                reason_at_upload="good",
                message_at_upload="",
                reason_now="good",
                message_now="",
                key_owner=None,
                foreign_key_digest=None,
                math="[]",
                judged_at=0,
                reference_time=0,
            )
        )
    assert data.files == 20_000
    assert sum(data.totals.values()) == 20_000
    assert data.backsigned == 2000
    page = render_html(data, title="t", generated="now")
    assert page.count("<svg") == 2


def test_audit_foreign_key_file_that_is_another_key_counts_as_unpublished(tmp_path):
    root = tmp_path / "mirror"
    files = build_index(root)
    victim = next(f for f in files if f.project == "victim")
    keys = sorted((root / "pgp" / "keys").glob("*.asc"))
    mallory = json.loads((root / "pgp" / "projects" / "other.json").read_text())
    mallory_fpr = mallory["maintainers"][0]["keys"][0]
    other_key = next(k for k in keys if k.stem != mallory_fpr)
    (root / "pgp" / "keys" / f"{mallory_fpr}.asc").write_bytes(other_key.read_bytes())
    db = tmp_path / "a.sqlite"
    summary = audit(root, db, ["victim"])
    assert summary.failures == ()
    assert rows(db)[("victim", victim.filename)][0] == "unknown-key"


def test_audit_a_file_listed_twice_is_audited_once(tmp_path):
    root = tmp_path / "mirror"
    build_index(root)
    page = root / "simple" / "good-00" / "index.v1_json"
    doc = json.loads(page.read_text())
    twin = dict(doc["files"][0], url="../../packages/good-01/good_01-1.0.tar.gz")
    doc["files"].append(twin)
    page.write_text(json.dumps(doc))
    db = tmp_path / "a.sqlite"
    first = audit(root, db, ["good-00"])
    again = audit(root, db, ["good-00"])
    assert (first.audited, again.audited, again.skipped) == (1, 0, 1)
    assert rows(db)[("good-00", "good_00-1.0.tar.gz")][0] == "good"


def test_audit_store_pages_rows_while_they_are_rewritten(tmp_path):
    import dataclasses

    from pgpverify.audit.store import FileRow

    base = FileRow(
        project="p",
        filename="f",
        url="u",
        listed_sha256=None,
        sha256=None,
        upload_time=None,
        asc_digest="d",
        keys_digest="k",
        category="good",
        backsigned=None,
        upload_time_unknown=True,
        signer_fingerprint=None,
        primary_fingerprint=None,
        signature_created=None,
        hash_algorithm=None,
        key_algorithm=None,
        key_bits=None,
        reason_at_upload=None,
        message_at_upload=None,
        reason_now="good",
        message_now="",
        key_owner=None,
        foreign_key_digest=None,
        math="[]",
        judged_at=0.0,
        reference_time=0.0,
    )
    with AuditStore(tmp_path / "a.sqlite") as store:
        for i in range(1234):
            store.save_file(
                dataclasses.replace(base, project=f"p{i % 7}", filename=f"f{i:05d}"), b"sig"
            )
        seen = []
        for row in store.files():
            seen.append((row.project, row.filename))
            store.replace_file(dataclasses.replace(row, category="unknown-key"))
        assert len(seen) == len(set(seen)) == 1234
        assert seen == sorted(seen)
        assert {r.category for r in store.files()} == {"unknown-key"}
        assert store.project_count() == 7


def test_audit_lists_projects_from_the_html_root_page(tmp_path):
    root = tmp_path / "mirror"
    build_index(root)
    (root / "simple" / "index.v1_json").unlink()
    (root / "simple" / "index.html").write_text(
        '<html><body><a href="a/">Good_00</a><a href="b/">not a name!</a>'
        '<a href="c/">victim</a></body></html>'
    )
    assert list_projects(clients_for(root)()) == ["good-00", "victim"]


def test_audit_reaudits_a_file_whose_listed_sha256_changed(tmp_path):
    root = tmp_path / "mirror"
    build_index(root)
    db = tmp_path / "a.sqlite"
    audit(root, db)
    page = root / "simple" / "good-01" / "index.v1_json"
    doc = json.loads(page.read_text())
    doc["files"][0]["hashes"]["sha256"] = "ab" * 32
    page.write_text(json.dumps(doc))
    again = audit(root, db)
    assert (again.audited, again.failures) == (1, ())
    assert rows(db)[("good-01", "good_01-1.0.tar.gz")][0] == "hash-mismatch"


# -- hostile index answers and crafted stores ---------------------------------------------


def _set_upload_time(root: Path, project: str, value: object) -> None:
    page = root / "simple" / project / "index.v1_json"
    doc = json.loads(page.read_text())
    doc["files"][0]["upload-time"] = value
    page.write_text(json.dumps(doc))


def test_audit_rejects_an_upload_time_after_now_as_unknown(tmp_path):
    root = tmp_path / "mirror"
    build_index(root)
    db = tmp_path / "a.sqlite"
    audit(root, db, ["backsigned", "unsigned"])
    assert rows(db)[("backsigned", "backsigned-1.0.tar.gz")][0] == "good-backsigned"
    # the index dates the upload after now (and after the signature): not believed
    for project in ("backsigned", "unsigned"):
        _set_upload_time(root, project, "2030-01-01T00:00:00Z")
    again = audit(root, db, ["backsigned", "unsigned"])
    assert (again.audited, again.failures) == (2, ())
    with AuditStore(db) as store:
        row = store.file("backsigned", "backsigned-1.0.tar.gz")
        unsigned = store.file("unsigned", "unsigned-1.0.tar.gz")
        data = gather(store)
    assert row is not None
    assert unsigned is not None
    assert (row.category, row.upload_time_unknown, row.backsigned) == ("good", True, None)
    assert row.reason_at_upload is None
    assert unsigned.upload_time_unknown is True
    assert "2030" not in data.by_year
    assert data.backsigned == 0
    assert audit(root, db, ["backsigned", "unsigned"]).skipped == 2  # stored as listed


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "9999-12-31T23:59:59Z",
        "2023-13-01T00:00:00Z",
        "2023-03-01T00:00:00+99:00",
        12345,
        None,
        ["x"],
    ],
)
def test_audit_survives_hostile_upload_times(tmp_path, value):
    root = tmp_path / "mirror"
    build_index(root)
    _set_upload_time(root, "good-00", value)
    db = tmp_path / "a.sqlite"
    summary = audit(root, db, ["good-00"])
    assert summary.failures == ()
    category = rows(db)[("good-00", "good_00-1.0.tar.gz")][0]
    # an upload before the signature was made is backsigned; nothing else moves it
    assert category in {"good", "good-backsigned"}
    with AuditStore(db) as store:
        render_html(gather(store), title="t", generated="now")


def test_audit_merge_rejects_a_crafted_store_and_merges_nothing(audited, tmp_path):
    db, files = audited
    crafted = tmp_path / "crafted.sqlite"
    with _sqlite(db) as src, _sqlite(crafted) as dst:
        src.backup(dst)
    with _sqlite(crafted) as conn:
        conn.execute("UPDATE files SET category = 'totally-fine' WHERE project = 'victim'")
    merged = tmp_path / "merged.sqlite"
    with (
        AuditStore(merged) as out,
        AuditStore(crafted, create=False) as shard,
        pytest.raises(AuditStoreError, match="corrupt"),
    ):
        out.merge_from(shard)
    with AuditStore(merged) as out:
        assert (out.count(), out.projects()) == (0, [])
    with AuditStore(merged) as out, AuditStore(db, create=False) as shard:
        assert out.merge_from(shard) == len(files)  # its good twin merges whole


def test_audit_merge_rejects_corrupt_project_certificates(audited, tmp_path):
    db, _ = audited
    crafted = tmp_path / "crafted.sqlite"
    with _sqlite(db) as src, _sqlite(crafted) as dst:
        src.backup(dst)
    with _sqlite(crafted) as conn:
        conn.execute("UPDATE projects SET certificates = '[1, 2]' WHERE project = 'victim'")
    merged = tmp_path / "merged.sqlite"
    with (
        AuditStore(merged) as out,
        AuditStore(crafted, create=False) as shard,
        pytest.raises(AuditStoreError, match="corrupt"),
    ):
        out.merge_from(shard)
    with AuditStore(merged) as out:
        assert out.count() == 0


@pytest.mark.parametrize(
    "name", ["evil\u202egz.tar", "a\u200bb.tar.gz", "x\u2028y", "\u2066x\u2069.tar.gz"]
)
def test_audit_export_rejects_disguised_file_names(audited, tmp_path, name):
    db, _ = audited
    assert safe_component("caf\u00e9-1.0.tar.gz") is None  # accents are fine
    assert safe_component(name) is not None
    copy = tmp_path / "copy.sqlite"
    with _sqlite(db) as src, _sqlite(copy) as dst:
        src.backup(dst)
    with _sqlite(copy) as conn:
        conn.execute("UPDATE files SET filename = ? WHERE project = 'good-00'", (name,))
    with AuditStore(copy) as store:
        summary = export_signatures(store, tmp_path / "out")
    assert len(summary.refused) == 1
    assert not (tmp_path / "out" / "good-00").exists()


@pytest.mark.parametrize(
    ("names", "refused"),
    [
        (["GOOD_00-1.0.TAR.GZ"], 1),  # differs from good_00-1.0.tar.gz in case only
        (["caf\u00e9-1.0.tar.gz", "cafe\u0301-1.0.tar.gz"], 1),  # NFC and NFD of one name
        (["good_00-1.0.zip", "caf\u00e9-2.0.tar.gz"], 0),  # the good twin: distinct names
    ],
)
def test_audit_export_rejects_names_that_fold_together(audited, tmp_path, names, refused):
    import dataclasses

    db, _ = audited
    copy = tmp_path / "copy.sqlite"
    with _sqlite(db) as src, _sqlite(copy) as dst:
        src.backup(dst)
    with AuditStore(copy) as store:
        other = store.file("good-01", "good_01-1.0.tar.gz")
        assert other is not None
        for name in names:
            store.save_file(dataclasses.replace(other, project="good-00", filename=name), None)
        signed = sum(1 for r in store.files() if r.asc_digest is not None)
        summary = export_signatures(store, tmp_path / "out")
    assert len(summary.refused) == refused
    assert all("case-insensitive" in why for why in summary.refused)
    assert summary.written == signed - refused
    assert len(list((tmp_path / "out" / "good-00").glob("*.asc"))) == 1 + len(names) - refused


def test_audit_looks_up_an_unlisted_signers_key_once_a_run(tmp_path, monkeypatch):
    import hashlib

    from auditindex import SIGNED, UPLOAD, signature, signer

    root = tmp_path / "mirror"
    build_index(root)
    mallory = signer("mallory")
    page = root / "simple" / "victim" / "index.v1_json"
    doc = json.loads(page.read_text())
    for n in range(2, 6):  # four more files of victim, signed by mallory (not listed)
        name = f"victim-1.{n}.tar.gz"
        data = f"contents of {name}\n".encode()
        (root / "packages" / "victim" / name).write_bytes(data)
        (root / "packages" / "victim" / (name + ".asc")).write_bytes(
            signature(mallory, data, SIGNED)
        )
        doc["files"].append(
            {
                "filename": name,
                "url": f"../../packages/victim/{name}",
                "hashes": {"sha256": hashlib.sha256(data).hexdigest()},
                "upload-time": "2023-03-01T00:00:00Z",
            }
        )
    page.write_text(json.dumps(doc))
    assert UPLOAD < SIGNED
    asked: list[str] = []
    real = MirrorFetcher.get

    def counting(self, url, **kwargs):
        if "/pgp/keys/" in url:
            asked.append(url)
        return real(self, url, **kwargs)

    monkeypatch.setattr(MirrorFetcher, "get", counting)
    db = tmp_path / "a.sqlite"
    summary = audit(root, db, ["victim", "stranger"])
    assert summary.failures == ()
    categories = [v[0] for k, v in rows(db).items() if k[0] == "victim"]
    assert categories == ["not-owner"] * 5
    mallory_asked = [u for u in asked if mallory.fpr in u]
    assert len(mallory_asked) == 1  # not one per file
    assert rows(db)[("stranger", "stranger-1.0.tar.gz")][0] == "unknown-key"


# -- streaming: the file goes through the hash and the verifier once, never held -------------


class GetOnly:
    """The mirror without ``stream``: each file is fetched whole (the in-memory path)."""

    def __init__(self, inner):
        self.inner = inner

    def get(self, url, **kwargs):
        return self.inner.get(url, **kwargs)


def replace_file(root: Path, project: str, data: bytes, asc: bytes | None) -> str:
    """Put ``data`` (and ``asc``) in place of the project's file; the pages list its sha256."""
    packages = root / "packages" / project
    (wheel,) = [p for p in packages.iterdir() if not p.name.endswith(".asc")]
    old = hashlib.sha256(wheel.read_bytes()).hexdigest()
    new = hashlib.sha256(data).hexdigest()
    wheel.write_bytes(data)
    if asc is not None:
        (packages / (wheel.name + ".asc")).write_bytes(asc)
    for page in (root / "simple" / project).iterdir():
        page.write_text(page.read_text().replace(old, new))
    return new


def file_rows(db: Path) -> list:
    with AuditStore(db, create=False) as store:
        return list(store.files())


def test_audit_streams_a_large_file_in_flat_memory(tmp_path):
    root = tmp_path / "mirror"
    build_index(root)
    size = 64 << 20
    data = bytes(range(256)) * (size // 256)
    asc = signature(signer("alice"), data, SIGNED)
    digest = replace_file(root, "good-00", data, asc)
    del data
    projects = ["good-00", "victim", "tampered"]  # good, a key looked up later, bad math
    tracemalloc.start()
    try:
        summary = audit(root, tmp_path / "streamed.sqlite", projects)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert summary.failures == ()
    assert peak < 16 << 20, f"peak {peak / 2**20:.1f} MiB for a {size >> 20} MiB file"
    streamed = file_rows(tmp_path / "streamed.sqlite")
    big = next(r for r in streamed if r.project == "good-00")
    assert (big.category, big.sha256, big.listed_sha256) == ("good", digest, digest)

    # the in-memory path (a fetcher without stream) gives exactly the same rows
    def whole():
        return IndexClient(
            GetOnly(MirrorFetcher(root.resolve())),
            index_url=path_to_url(root / "simple"),
            allow_files=True,
        )

    with AuditStore(tmp_path / "whole.sqlite") as store:
        run_audit(store, whole, projects, now=NOW)
    assert file_rows(tmp_path / "whole.sqlite") == streamed
    assert {r.project: r.category for r in streamed} == {
        "good-00": "good",
        "victim": "not-owner",
        "tampered": "bad-signature",
    }


def test_audit_rejects_a_file_larger_than_the_cap_as_a_failure(tmp_path):
    root = tmp_path / "mirror"
    build_index(root)
    summary = audit(root, tmp_path / "a.sqlite", ["good-00", "good-01"], max_file_bytes=20)
    assert summary.audited == 0
    assert [f.split(":")[0] for f in summary.failures] == [
        "good-00/good_00-1.0.tar.gz",
        "good-01/good_01-1.0.tar.gz",
    ]
    assert all("larger than 20 bytes" in f for f in summary.failures)
    good = audit(root, tmp_path / "b.sqlite", ["good-00"], max_file_bytes=100)  # good twin
    assert (good.audited, good.failures) == (1, ())


def test_audit_rejects_an_oversized_signature_as_malformed_once(tmp_path):
    root = tmp_path / "mirror"
    files = build_index(root)
    item = next(f for f in files if f.project == "good-00")
    asc = root / "packages" / "good-00" / (item.filename + ".asc")
    good = asc.read_bytes()
    asc.write_bytes(good + b"\n" * (DEFAULT_LIMITS.signature_bytes + 1 - len(good)))
    db = tmp_path / "a.sqlite"
    first = audit(root, db, ["good-00", "good-01"])
    assert (first.audited, first.failures) == (2, ())
    row = next(r for r in file_rows(db) if r.project == "good-00")
    assert (row.category, row.reason_now, row.asc_digest) == ("malformed", "malformed", None)
    assert f"larger than {DEFAULT_LIMITS.signature_bytes} bytes" in row.message_now
    assert totals(db) == {"good": 1, "malformed": 1}
    again = audit(root, db, ["good-00", "good-01"])  # a verdict, not a failure: not redone
    assert (again.audited, again.skipped, again.failures) == (0, 2, ())
    asc.write_bytes(good)  # the good twin: a signature within the cap is judged again
    fixed = audit(root, db, ["good-00"])
    assert fixed.audited == 1
    assert totals(db) == {"good": 2}


@pytest.mark.parametrize(("sig_type", "hash_algo"), [(w.BINARY, w.SHA512), (w.TEXT, w.SHA384)])
def test_judge_file_streamed_checks_a_key_found_later_with_its_own_hash(sig_type, hash_algo):
    # the first verify knows no key for mallory's signature; the states it hashed for every
    # algorithm the .asc names are what the verify with her published key checks against
    alice, mallory = signer("alice"), signer("mallory")
    record = OwnershipRecord.from_bytes(
        json.dumps(
            {
                "project": "demo",
                "maintainers": [{"user": "alice", "role": "Owner", "keys": [alice.fpr]}],
            }
        ).encode(),
        source="demo",
    )
    trust = ProjectTrust("demo", record, {alice.fpr: alice.cert})
    data = b"line one\r\nline two"
    spec = w.SigSpec(sig_type, hash_algo, *w.default_subpackets(mallory.primary, SIGNED))
    asc = w.armor("SIGNATURE", w.packet(w.TAG_SIGNATURE, w.sign(mallory.primary, spec, data)))
    read = []

    class Counted(io.BytesIO):
        def read(self, size=-1):
            chunk = super().read(size)
            read.append(len(chunk))
            return chunk

    for doc, expected in ((data, "not-owner"), (data + b"!", "bad-signature")):  # good twin
        read.clear()
        kwargs = {
            "signature_name": "demo-1.0.tar.gz.asc",
            "upload_time": SIGNED,
            "now": NOW,
            "grace_seconds": 86400.0,
            "lookup_key": lambda _: mallory.cert,
        }
        streamed = judge_file(Counted(doc), asc, trust, **kwargs)
        whole = judge_file(doc, asc, trust, **kwargs)
        assert streamed.now.reason.value == whole.now.reason.value == expected
        assert streamed.at_upload.reason.value == whole.at_upload.reason.value == expected
        assert streamed.math == whole.math
        assert streamed.judgement == whole.judgement
        assert sum(read) == len(doc)  # three verifies, one read
