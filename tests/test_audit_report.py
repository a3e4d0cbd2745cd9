"""pgpverify.audit.report: keys from their archived certificates, findings, hostile stores."""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
from typing import TYPE_CHECKING

import pytest
from auditindex import EXPIRES, NOW, REVOKED, build_index, signer
from certbuild import (
    K0,
    Cert,
    certification,
    direct_key,
    key_revocation,
    signer_cert,
    uid_packet,
    w,
)

from pgpverify.audit.report import gather, key_dates, render_html, write_csv, write_json
from pgpverify.audit.runner import AuditOptions, run_audit
from pgpverify.audit.sources import MirrorFetcher, list_projects
from pgpverify.audit.store import AuditStore, AuditStoreError
from pgpverify.index.client import IndexClient
from pgpverify.index.localfs import path_to_url

if TYPE_CHECKING:
    from pathlib import Path


@contextlib.contextmanager
def _sqlite(path: Path):
    conn = sqlite3.connect(path)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    base = tmp_path_factory.mktemp("audit-report")
    root = base / "mirror"
    build_index(root)

    def make():
        return IndexClient(
            MirrorFetcher(root.resolve()), index_url=path_to_url(root / "simple"), allow_files=True
        )

    db = base / "audit.sqlite"
    with AuditStore(db) as store:
        summary = run_audit(store, make, list_projects(make()), now=NOW, options=AuditOptions())
    assert summary.failures == ()
    return db


def _copy(db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy.sqlite"
    with _sqlite(db) as src, _sqlite(copy) as dst:
        src.backup(dst)
    return copy


def _keys_by_project(db: Path) -> dict[str, dict]:
    with AuditStore(db, create=False) as store:
        data = gather(store)
    found = {}
    for item in data.keys.values():
        for project in item.projects:
            found[project] = item.to_json()
    return found


# -- keys used: expiry and revocation from the archived certificates -------------------------


def test_report_keys_give_expiry_and_revocation_dates_from_the_certificates(audited):
    keys = _keys_by_project(audited)
    assert keys["expired"]["state"] == "expired"
    assert keys["expired"]["expires"] == "2024-01-01T00:00:00Z"
    assert keys["expired"]["revoked"] is None
    assert keys["revoked"]["state"] == "revoked"
    assert keys["revoked"]["revoked"] == (
        "the primary key was revoked at 2024-06-01T00:00:00Z (compromised)"
    )
    assert keys["good-00"]["state"] == "valid"
    assert (keys["good-00"]["expires"], keys["good-00"]["revoked"]) == ("never", None)
    # a key known only as another project's signer comes from the archived foreign key
    assert keys["victim"]["expires"] == "never"


def test_report_keys_in_the_html_and_json(audited):
    with AuditStore(audited, create=False) as store:
        data = gather(store)
        out = io.StringIO()
        write_json(store, data, out)
    doc = json.loads(out.getvalue())
    assert {"expires", "revoked", "state"} <= set(doc["keys"][0])
    page = render_html(data, title="t", generated="now")
    assert "2024-01-01T00:00:00Z" in page
    assert "revoked at 2024-06-01T00:00:00Z" in page


def test_report_leaves_no_pygal_import_hook_behind(audited):
    # pygal puts a finder without find_spec on sys.meta_path: every later import in the
    # process warned (an error under -W error), in a library caller's process too
    import sys
    import warnings

    with AuditStore(audited, create=False) as store:
        data = gather(store)
    render_html(data, title="t", generated="now")
    assert not [f for f in sys.meta_path if type(f).__name__ == "PluginImportFixer"]
    sys.modules.pop("this_module_does_not_exist", None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ModuleNotFoundError):
            __import__("this_module_does_not_exist")


def test_key_dates_before_the_expiry_and_the_revocation():
    erin = signer("erin", expires=EXPIRES)
    early = key_dates(erin.cert, erin.fpr, EXPIRES - 1)
    assert (early.state, early.expires, early.revoked) == ("valid", "2024-01-01T00:00:00Z", None)
    rob = signer("rob", revoked=REVOKED)
    before = key_dates(rob.cert, rob.fpr, REVOKED - 1)
    assert (before.state, before.revoked) == ("valid", None)
    assert key_dates(rob.cert, rob.fpr, REVOKED).state == "revoked"


def test_key_dates_of_a_signing_subkey_certificate_give_the_primary_expiry():
    cert, primary, _ = signer_cert("sub-expiry", subkey=True)
    cert.components[0][1].append(direct_key(primary, K0 + 5, expires=EXPIRES))
    data = w.armor("PUBLIC KEY BLOCK", cert.octets())
    dates = key_dates(data, primary.fpr, EXPIRES + 1)
    assert (dates.state, dates.expires) == ("expired", "2024-01-01T00:00:00Z")


def _flip_last(packet: bytes) -> bytes:
    return packet[:-1] + bytes([packet[-1] ^ 1])


def test_key_dates_rejects_a_forged_revocation():
    primary = signer("forged-rev").primary
    uid = b"forged <forged@example.org>"
    good = (
        Cert(primary)
        .add(primary.packet(), key_revocation(primary, REVOKED, 2))
        .add(uid_packet(uid), certification(primary, uid, K0))
    )
    forged = (
        Cert(primary)
        .add(primary.packet(), _flip_last(key_revocation(primary, REVOKED, 2)))
        .add(uid_packet(uid), certification(primary, uid, K0))
    )
    assert key_dates(good.octets(), primary.fpr, REVOKED + 1).state == "revoked"
    twin = key_dates(forged.octets(), primary.fpr, REVOKED + 1)
    assert (twin.state, twin.revoked) == ("valid", None)


def test_key_dates_rejects_a_forged_newer_expiry():
    primary = signer("forged-exp").primary
    uid = b"forged <forged@example.org>"
    newer = certification(primary, uid, K0 + 10, expires=EXPIRES)
    good = (
        Cert(primary)
        .add(primary.packet())
        .add(uid_packet(uid), certification(primary, uid, K0), newer)
    )
    forged = (
        Cert(primary)
        .add(primary.packet())
        .add(uid_packet(uid), certification(primary, uid, K0), _flip_last(newer))
    )
    assert key_dates(good.octets(), primary.fpr, EXPIRES + 1).state == "expired"
    twin = key_dates(forged.octets(), primary.fpr, EXPIRES + 1)
    assert (twin.state, twin.expires) == ("valid", "never")


@pytest.mark.parametrize(
    "defect", ["empty", "truncated", "fingerprint-not-hex", "another-fingerprint"]
)
def test_key_dates_rejects_a_certificate_that_does_not_hold_the_key(defect):
    alice = signer("alice")
    assert key_dates(alice.cert, alice.fpr, REVOKED).state == "valid"
    data, fpr = {
        "empty": (b"", alice.fpr),
        "truncated": (alice.cert[: len(alice.cert) // 2], alice.fpr),
        "fingerprint-not-hex": (alice.cert, "not hex"),
        "another-fingerprint": (alice.cert, "00" * 20),
    }[defect]
    dates = key_dates(data, fpr, REVOKED)
    assert dates.state != "valid"
    assert (dates.expires, dates.revoked) == (None, None)


def test_report_rejects_an_altered_archived_certificate(audited, tmp_path):
    copy = _copy(audited, tmp_path)
    with AuditStore(copy) as store:
        project = store.project("revoked")
        assert project is not None
        (digest,) = project.certificates.values()
    with _sqlite(copy) as conn:
        conn.execute("UPDATE blobs SET data = ? WHERE digest = ?", (b"junk", digest))
    keys = _keys_by_project(copy)
    assert keys["revoked"]["state"] == "archived certificate missing or altered"
    assert keys["revoked"]["revoked"] is None


# -- findings per project -------------------------------------------------------------------


def test_report_lists_unsigned_files_per_project(audited):
    with AuditStore(audited, create=False) as store:
        data = gather(store)
    assert ("unsigned-1.0.tar.gz", "unsigned") in [
        f[:2] for f in data.projects["unsigned"].findings
    ]
    assert data.projects["good-00"].findings == []
    page = render_html(data, title="t", generated="now")
    assert "unsigned-1.0.tar.gz" in page


# -- a store crafted to break the report --------------------------------------------------


def test_report_rejects_a_store_with_an_unknown_category(audited, tmp_path):
    copy = _copy(audited, tmp_path)
    with _sqlite(copy) as conn:
        conn.execute("UPDATE files SET category = 'good<b>' WHERE project = 'good-00'")
    with AuditStore(copy) as store, pytest.raises(AuditStoreError, match="corrupt"):
        gather(store)


def test_report_escapes_hostile_names_in_the_charts_and_key_table(audited, tmp_path):
    copy = _copy(audited, tmp_path)
    with _sqlite(copy) as conn:
        conn.execute(
            "UPDATE files SET hash_algorithm = '<img src=x onerror=alert(1)>', "
            "key_algorithm = '</svg><iframe>', key_owner = '<b>x</b>', "
            "project = 'p<i>' WHERE project = 'victim'"
        )
    with AuditStore(copy) as store:
        data = gather(store)
        page = render_html(data, title="t", generated="now")
        out = io.StringIO()
        write_csv(store, out)
    assert "<img" not in page
    assert "<iframe" not in page
    assert "<b>x" not in page
    assert "<i>" not in page
    assert "&lt;img" in page


def test_report_survives_hostile_times_in_a_store(audited, tmp_path):
    copy = _copy(audited, tmp_path)
    with _sqlite(copy) as conn:
        conn.execute(
            "UPDATE files SET upload_time = 1e300, signature_created = -1e300, "
            "reference_time = 9e999 WHERE project = 'revoked'"
        )
    with AuditStore(copy) as store:
        data = gather(store)
        out = io.StringIO()
        write_json(store, data, out)
    doc = json.loads(out.getvalue())
    assert doc["by_year"]["unknown"]["revoked-since"] == 1
    row = next(f for f in doc["files"] if f["project"] == "revoked")
    assert (row["upload_time"], row["signature_created"]) == (None, None)
    render_html(data, title="t", generated="now")


def test_report_algorithms_by_year_name_hashes_and_keys_with_their_size(audited):
    with AuditStore(audited, create=False) as store:
        data = gather(store)
    counts = data.algorithms_by_year["2023"]
    assert counts["hash SHA1"] == 1
    hashes = sum(v for n, v in counts.items() if n.startswith("hash "))
    keys = sum(v for n, v in counts.items() if n.startswith("key "))
    assert hashes == keys  # one bar each a year, both summing to its signed files
    assert any(n.startswith("key ") and n.endswith(" 256") for n in counts)
    page = render_html(data, title="t", generated="now")
    assert "2023 hash" in page
    assert "2023 key" in page


def test_report_key_revoked_in_any_archived_copy_is_revoked(tmp_path):
    """A project fetched before the revocation must not hide the copy another one archived."""
    import dataclasses

    from pgpverify.audit.store import FileRow

    rob = signer("rob", revoked=REVOKED)
    uid = b"rob <rob@example.org>"
    before = (
        Cert(rob.primary)
        .add(rob.primary.packet())
        .add(uid_packet(uid), certification(rob.primary, uid, K0))
    )
    row = FileRow(
        project="a-old",
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
        signer_fingerprint=rob.fpr,
        primary_fingerprint=rob.fpr,
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
        reference_time=float(REVOKED + 1),
    )
    for copies, state in (([before.octets()], "valid"), ([before.octets(), rob.cert], "revoked")):
        with AuditStore(tmp_path / f"{state}.sqlite") as store:
            for i, cert in enumerate(copies):
                project = ("a-old", "b-new")[i]
                store.save_project(project, None, {rob.fpr: cert}, fetched_at=float(i))
                store.save_file(dataclasses.replace(row, project=project), b"sig")
            (key,) = gather(store).keys.values()
        assert key.state == state


def test_report_html_rejects_disguised_names(audited, tmp_path):
    copy = _copy(audited, tmp_path)
    with _sqlite(copy) as conn:
        conn.execute(
            "UPDATE files SET filename = 'evil\u202egz.tar', "
            "key_owner = 'mallory\u2066 <a@b>\u2069', "
            "message_now = 'line\nbreak\u200b' WHERE project = 'victim'"
        )
    with AuditStore(copy) as store:
        page = render_html(gather(store), title="t", generated="now")
    for hidden in ("\u202e", "\u2066", "\u2069", "\u200b"):
        assert hidden not in page
    assert "evil\\u202egz.tar" in page
    assert "line\\nbreak\\u200b" in page
    assert "caf\u00e9" in render_html(
        gather_one("caf\u00e9", tmp_path), title="t", generated="now"
    )  # accents are kept


def gather_one(project: str, tmp_path: Path):
    from pgpverify.audit.store import FileRow

    with AuditStore(tmp_path / "one.sqlite") as store:
        store.save_file(
            FileRow(
                project=project,
                filename="f",
                url="u",
                listed_sha256=None,
                sha256=None,
                upload_time=None,
                asc_digest=None,
                keys_digest="k",
                category="unsigned",
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
                reason_now="unsigned",
                message_now="",
                key_owner=None,
                foreign_key_digest=None,
                math="[]",
                judged_at=0.0,
                reference_time=0.0,
            ),
            None,
        )
        return gather(store)


def test_key_dates_give_a_signing_subkeys_own_revocation():
    from certbuild import subkey_revocation

    cert, primary, sub = signer_cert("sub-revoked", subkey=True)
    revocation = subkey_revocation(primary, sub, REVOKED)
    good = Cert(
        primary,
        [*cert.components[:-1], (cert.components[-1][0], [*cert.components[-1][1], revocation])],
    )
    forged = Cert(
        primary,
        [
            *cert.components[:-1],
            (cert.components[-1][0], [*cert.components[-1][1], _flip_last(revocation)]),
        ],
    )
    dates = key_dates(good.octets(), primary.fpr, REVOKED + 1, subkeys=[sub.fpr])
    assert dates.state == "revoked"
    assert dates.revoked is not None
    assert "subkey" in dates.revoked
    assert sub.fpr in dates.revoked
    # without the subkey named (no file signed by it), the primary alone is judged
    assert key_dates(good.octets(), primary.fpr, REVOKED + 1).state == "valid"
    twin = key_dates(forged.octets(), primary.fpr, REVOKED + 1, subkeys=[sub.fpr])
    assert (twin.state, twin.revoked) == ("valid", None)


def test_key_dates_give_a_signing_subkeys_own_expiry():
    from certbuild import binding

    cert, primary, sub = signer_cert("sub-expired", subkey=True)
    head = cert.components[-1][0]
    expiring = Cert(
        primary, [*cert.components[:-1], (head, [binding(primary, sub, K0 + 1, expires=EXPIRES)])]
    )
    dates = key_dates(expiring.octets(), primary.fpr, EXPIRES + 1, subkeys=[sub.fpr])
    assert dates.state.startswith("expired: the subkey expired at 2024-01-01T00:00:00Z")
    assert dates.expires == "never"  # the primary's own
    assert (
        key_dates(expiring.octets(), primary.fpr, EXPIRES - 1, subkeys=[sub.fpr]).state == "valid"
    )


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        (0, [0, 1]),
        (1, [0, 1]),
        (3, [0, 1, 2, 3]),
        (10, list(range(11))),
        (25, list(range(0, 28, 3))),
    ],
)
def test_report_chart_ticks_are_whole_file_counts(top, ticks):
    from pgpverify.audit.report import _count_ticks

    assert _count_ticks(top) == ticks
    assert ticks[-1] >= top
