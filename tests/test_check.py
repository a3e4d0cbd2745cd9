"""pgpverify.check: every file of a wheelhouse against an index, a lock file, or keyrings."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import pytest
from checkworld import ALICE, MALLORY, World
from fakeindex import INDEX_URL, ROOT

from pgpverify.check import (
    CheckPolicy,
    IndexTrust,
    KeyringTrust,
    LockTrust,
    Status,
    check_files,
)
from pgpverify.errors import NetworkError
from pgpverify.index.client import IndexClient
from pgpverify.index.localfs import FileFetcher, SchemeFetcher, path_to_url
from pgpverify.trust.lockfile import LockFile, build_lock
from pgpverify.trust.owners import OwnershipRecord

AT = datetime(2025, 6, 1, tzinfo=timezone.utc)


def _world() -> World:
    world = World()
    world.own("alpha", ALICE)
    world.own("beta", ALICE)
    return world


def _run(world, tmp_path, *dists, page="json", policy=None, jobs=1, index=None):
    index = index if index is not None else world.fake(page=page)
    client = IndexClient(index, index_url=INDEX_URL)
    house = world.local(tmp_path / "house", *dists)
    report = check_files([house], trust=IndexTrust(client), at=AT, policy=policy, jobs=jobs)
    return report, index


def _one(report):
    (item,) = report.files
    return item


@pytest.mark.parametrize("page", ["json", "html"])
def test_check_good_signature_from_index(tmp_path, page):
    world = _world()
    world.add("alpha")
    report, _ = _run(world, tmp_path, page=page)
    item = _one(report)
    assert (item.status, item.reason, item.maintainer, item.role) == (
        Status.GOOD,
        "good",
        "alice",
        "Owner",
    )
    assert item.primary_fingerprint == ALICE.fpr
    assert item.signature == ROOT + f"packages/{item.file.rsplit('/', 1)[-1]}.asc"
    assert report.ok
    assert report.exit_code == 0


def test_check_unsigned_is_allowed_and_reported(tmp_path):
    world = _world()
    world.add("alpha", signer=None)
    report, index = _run(world, tmp_path)
    item = _one(report)
    assert (item.status, item.reason) == (Status.UNSIGNED, "unsigned")
    assert report.ok
    assert report.totals["unsigned"] == 1
    # "gpg-sig": false: no probe
    assert not any("/packages/" in url and url.endswith(".asc") for url in index.requests)


def test_check_rejects_unsigned_under_require_signatures(tmp_path):
    world = _world()
    world.add("alpha", signer=None)
    report, _ = _run(world, tmp_path, policy=CheckPolicy(require_signatures=True))
    item = _one(report)
    assert (item.status, item.reason) == (Status.REJECTED, "unsigned")
    assert report.exit_code == 1


def test_check_rejects_unsigned_of_a_project_required_by_name(tmp_path):
    world = _world()
    world.add("alpha", signer=None)
    world.add("beta", signer=None)
    policy = CheckPolicy(require_signatures_for=frozenset({"beta"}))
    report, _ = _run(world, tmp_path, policy=policy)
    assert [(f.project, f.status) for f in report.files] == [
        ("alpha", Status.UNSIGNED),
        ("beta", Status.REJECTED),
    ]


def test_check_never_uses_asc_next_to_local_file(tmp_path):
    world = _world()
    unsigned = world.add("alpha", signer=None)
    house = world.local(tmp_path / "house")
    (house / f"{unsigned.filename}.asc").write_bytes(ALICE.sign(unsigned.data))
    client = IndexClient(world.fake(), index_url=INDEX_URL)
    report = check_files([house], trust=IndexTrust(client), at=AT)
    assert _one(report).status is Status.UNSIGNED
    # ... unless --signatures-dir names that directory
    report = check_files([house], trust=IndexTrust(client), at=AT, signatures_dir=house)
    assert _one(report).status is Status.GOOD


def test_check_rejects_hash_mismatch(tmp_path):
    world = _world()
    dist = world.add("alpha")
    index = world.fake()
    house = world.local(tmp_path / "house")
    # the local copy differs from the index's in one byte; the index's signature is good
    # over the index's bytes only
    data = bytearray(dist.data)
    data[-1] ^= 1
    (house / dist.filename).write_bytes(bytes(data))
    report = check_files([house], trust=IndexTrust(IndexClient(index, index_url=INDEX_URL)), at=AT)
    item = _one(report)
    assert (item.status, item.reason) == (Status.REJECTED, "hash-mismatch")
    assert dist.sha256 in item.message


def test_check_rejects_file_not_on_index(tmp_path):
    world = _world()
    world.add("alpha")
    stray = World()
    stray.add("alpha", "2.0")
    stray.local(tmp_path / "house")
    report, _ = _run(world, tmp_path)
    assert [(f.version, f.reason) for f in report.files] == [
        ("1.0", "good"),
        ("2.0", "not-on-index"),
    ]
    assert report.exit_code == 1


def test_check_rejects_signature_by_unlisted_key_even_when_unsigned_is_allowed(tmp_path):
    world = _world()
    world.add("alpha", signer=MALLORY)
    report, _ = _run(world, tmp_path)
    item = _one(report)
    assert item.status is Status.REJECTED
    assert item.reason == "unknown-key"  # the index publishes only alice's key for alpha


def test_check_rejects_tampered_signature(tmp_path):
    world = _world()
    dist = world.add("alpha")
    other = world.add("beta")
    dist.signature = other.signature  # a good signature, over another file
    report, _ = _run(world, tmp_path)
    assert [(f.project, f.reason) for f in report.files] == [
        ("alpha", "bad-signature"),
        ("beta", "good"),
    ]


def test_check_signature_promised_but_missing_is_an_error(tmp_path):
    world = _world()
    dist = world.add("alpha")
    dist.signature = None  # gpg-sig stays "true"
    report, _ = _run(world, tmp_path)
    item = _one(report)
    assert (item.status, item.reason) == (Status.ERROR, "signature-missing")
    assert report.exit_code == 2


def test_check_listed_asc_link_is_used_when_the_index_says_nothing(tmp_path):
    world = _world()
    dist = world.add("alpha", gpg_sig=None, listed_sig=True)
    report, _ = _run(world, tmp_path, dist, page="html")
    assert _one(report).status is Status.GOOD


def test_check_probe_404_is_unsigned_when_the_index_says_nothing(tmp_path):
    world = _world()
    dist = world.add("alpha", signer=None, gpg_sig=None)
    report, index = _run(world, tmp_path, dist, page="html")
    assert _one(report).status is Status.UNSIGNED
    assert ROOT + f"packages/{dist.filename}.asc" in index.requests


def test_check_network_failure_names_the_file_and_keeps_the_others(tmp_path):
    world = _world()
    broken = world.add("alpha")
    world.add("beta")
    index = world.fake()
    url = ROOT + f"packages/{broken.filename}.asc"
    index.documents[url] = NetworkError("connection reset by peer", source=url)
    report, _ = _run(world, tmp_path, index=index)
    assert [(f.project, f.status) for f in report.files] == [
        ("alpha", Status.ERROR),
        ("beta", Status.GOOD),
    ]
    assert "connection reset" in report.files[0].message
    assert report.exit_code == 2


def test_check_backsigned_is_flagged_and_fails_under_reject_backsigned(tmp_path):
    world = _world()
    world.add("alpha", upload_time="2023-01-01T00:00:00Z")  # signed 2024-03-01
    report, _ = _run(world, tmp_path)
    item = _one(report)
    assert (item.status, item.backsigned) == (Status.GOOD, True)
    assert any("backsigned" in w for w in item.warnings)
    report, _ = _run(world, tmp_path, policy=CheckPolicy(reject_backsigned=True))
    item = _one(report)
    assert (item.status, item.reason, item.backsigned) == (Status.REJECTED, "backsigned", True)


def test_check_signature_within_grace_is_not_backsigned(tmp_path):
    world = _world()
    world.add("alpha", upload_time="2024-03-01T11:00:00Z")  # an hour before signing
    report, _ = _run(world, tmp_path, policy=CheckPolicy(reject_backsigned=True))
    item = _one(report)
    assert (item.status, item.backsigned, item.upload_time) == (
        Status.GOOD,
        False,
        "2024-03-01T11:00:00Z",
    )
    report, _ = _run(
        world, tmp_path, policy=CheckPolicy(reject_backsigned=True, backsign_grace=1800)
    )
    assert _one(report).reason == "backsigned"


def test_check_rejects_key_expired_at_upload_time(tmp_path):
    from certbuild import K0, Cert, certification, key, uid_packet, w
    from checkworld import Signer

    year = 365 * 86400
    primary = key("check-expiring")
    uid = b"expiring <expiring@example.org>"
    # self-signed with a one-year expiry, then (two years later) again without one
    cert = (
        Cert(primary)
        .add(primary.packet())
        .add(
            uid_packet(uid),
            certification(primary, uid, K0, expires=K0 + year),
            certification(primary, uid, K0 + 2 * year),
        )
    )
    signer = Signer("expiring", primary, primary.fpr, w.armor("PUBLIC KEY BLOCK", cert.octets()))
    world = World()
    world.own("alpha", signer)
    # signed while the key was valid; uploaded after it expired, before it was extended
    world.add("alpha", signer=signer, t=K0 + year // 2, upload_time="2021-06-01T00:00:00Z")
    report, _ = _run(world, tmp_path)
    item = _one(report)
    assert (item.status, item.reason) == (Status.REJECTED, "key-expired")
    assert item.message.startswith("as of the upload (2021-06-01T00:00:00Z)")
    # the good twin: uploaded while the key was valid
    world.dists[0].upload_time = "2020-08-01T00:00:00Z"
    report, _ = _run(world, tmp_path)
    assert _one(report).status is Status.GOOD


def test_check_same_result_for_any_jobs(tmp_path):
    world = _world()
    for n in range(6):
        world.add("alpha", f"1.{n}", signer=(ALICE, MALLORY, None)[n % 3])
        world.add("beta", f"2.{n}", upload_time="2023-01-01T00:00:00Z")
    one, _ = _run(world, tmp_path, jobs=1)
    eight, _ = _run(world, tmp_path, jobs=8)
    assert one == eight
    assert len(one.files) == 12


def test_check_lock_trust_requires_pinned_projects_unless_allowed(tmp_path):
    world = _world()
    world.add("alpha", signer=None)
    world.add("beta", signer=None)
    records = [OwnershipRecord.from_bytes(world.record(p)) for p in ("alpha", "beta")]
    lock = build_lock(records, dict(world.keys), index_url=INDEX_URL)
    allowed = LockFile(
        index_url=lock.index_url,
        certificates=lock.certificates,
        projects={
            **lock.projects,
            "beta": dataclasses.replace(lock.projects["beta"], unsigned="allowed"),
        },
    )
    client = IndexClient(world.fake(), index_url=INDEX_URL)
    house = world.local(tmp_path / "house")
    report = check_files(
        [house],
        trust=LockTrust(allowed, client),
        at=AT,
        policy=CheckPolicy(require_signatures_for=frozenset({"beta"})),
    )
    assert [(f.project, f.status) for f in report.files] == [
        ("alpha", Status.REJECTED),
        ("beta", Status.UNSIGNED),
    ]


def test_check_lock_trust_verifies_with_pinned_keys(tmp_path):
    world = _world()
    world.add("alpha")
    records = [OwnershipRecord.from_bytes(world.record("alpha"))]
    lock = build_lock(records, dict(world.keys), index_url=INDEX_URL)
    client = IndexClient(world.fake(), index_url=INDEX_URL)
    report = check_files([world.local(tmp_path / "h")], trust=LockTrust(lock, client), at=AT)
    assert _one(report).status is Status.GOOD


def test_check_keyring_trust_rejects_project_without_a_given_record(tmp_path):
    world = _world()
    world.add("alpha")
    world.add("beta")
    house = world.local(tmp_path / "house")
    sigs = tmp_path / "sigs"
    sigs.mkdir()
    for d in world.dists:
        (sigs / f"{d.filename}.asc").write_bytes(d.signature)
    keyring = tmp_path / "ring.asc"
    keyring.write_bytes(ALICE.key_file)
    alpha = OwnershipRecord.from_bytes(world.record("alpha"))
    report = check_files(
        [house], trust=KeyringTrust((keyring,), (alpha,)), at=AT, signatures_dir=sigs, jobs=2
    )
    assert [(f.project, f.reason) for f in report.files] == [
        ("alpha", "good"),
        ("beta", "not-owner"),
    ]
    assert "no ownership record was given" in report.files[1].message


def test_check_file_index_tree(tmp_path):
    world = _world()
    world.add("alpha")
    world.add("beta", signer=None)
    simple = world.write(tmp_path / "index")
    client = IndexClient(
        SchemeFetcher(FileFetcher()), index_url=path_to_url(simple), allow_files=True
    )
    report = check_files([world.local(tmp_path / "house")], trust=IndexTrust(client), at=AT)
    assert [f.status for f in report.files] == [Status.GOOD, Status.UNSIGNED]


def test_check_unreadable_and_unnamed_files_are_errors_not_crashes(tmp_path):
    world = _world()
    world.add("alpha")
    house = world.local(tmp_path / "house")
    odd = tmp_path / "not-a-distribution.txt"
    odd.write_text("x")
    report, _ = _run(world, tmp_path)
    client = IndexClient(world.fake(), index_url=INDEX_URL)
    report = check_files(
        [house, odd, tmp_path / "missing-1.0-py3-none-any.whl"], trust=IndexTrust(client), at=AT
    )
    assert [f.status for f in report.files] == [Status.GOOD, Status.ERROR, Status.ERROR]
    assert report.exit_code == 2


def test_check_signature_checked_out_with_crlf_line_endings(tmp_path):
    """Windows: git's autocrlf rewrites a committed .asc with CRLF: it still verifies."""
    world = _world()
    dist = world.add("alpha")
    house = world.local(tmp_path / "house")
    sigs = tmp_path / "sigs"
    sigs.mkdir()
    crlf = dist.signature.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert crlf.count(b"\r\n") > 3
    (sigs / f"{dist.filename}.asc").write_bytes(crlf)
    keyring = tmp_path / "ring.asc"
    keyring.write_bytes(ALICE.key_file.replace(b"\n", b"\r\n"))
    report = check_files([house], trust=KeyringTrust((keyring,)), at=AT, signatures_dir=sigs)
    assert _one(report).status is Status.GOOD
    # the wheel itself rewritten (a text-mode checkout) no longer matches its signature
    (house / dist.filename).write_bytes(dist.data.replace(b"\n", b"\r\n"))
    report = check_files([house], trust=KeyringTrust((keyring,)), at=AT, signatures_dir=sigs)
    assert _one(report).reason == "bad-signature"


def test_check_reports_progress_for_every_file(tmp_path):
    world = _world()
    for n in range(5):
        world.add("alpha", f"1.{n}", signer=(ALICE, None)[n % 2])
    client = IndexClient(world.fake(), index_url=INDEX_URL)
    seen = []
    report = check_files(
        [world.local(tmp_path / "house")],
        trust=IndexTrust(client),
        at=AT,
        jobs=3,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert len(report.files) == 5
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert seen[-1] == (5, 5)


def test_check_rejects_oversized_signature_as_an_error_of_that_file(tmp_path):
    world = _world()
    big = world.add("alpha")
    world.add("beta")
    index = world.fake()
    index.put(ROOT + f"packages/{big.filename}.asc", b"A" * (1 << 20 | 1))
    report, _ = _run(world, tmp_path, index=index)
    assert [f.status for f in report.files] == [Status.ERROR, Status.GOOD]
    assert "larger than" in report.files[0].message


def test_check_rejects_page_that_does_not_parse_for_its_project_only(tmp_path):
    world = _world()
    world.add("alpha")
    world.add("beta")
    index = world.fake()
    index.put(INDEX_URL + "alpha/", b"{not json", "application/vnd.pypi.simple.v1+json")
    report, _ = _run(world, tmp_path, index=index)
    assert [f.status for f in report.files] == [Status.ERROR, Status.GOOD]
    assert "not valid JSON" in report.files[0].message


def test_check_rejects_link_from_remote_page_to_a_local_file(tmp_path):
    world = _world()
    dist = world.add("alpha", gpg_sig=None, listed_sig=True)
    secret = tmp_path / "secret.asc"
    secret.write_bytes(dist.signature)
    index = world.fake(page="json")
    doc = {
        "files": [
            {
                "filename": dist.filename,
                "url": f"../../packages/{dist.filename}",
                "hashes": {"sha256": dist.sha256},
            },
            {"filename": f"{dist.filename}.asc", "url": secret.as_uri()},
        ]
    }
    import json

    index.put(INDEX_URL + "alpha/", json.dumps(doc).encode(), "application/json")
    client = IndexClient(SchemeFetcher(FileFetcher(), index), index_url=INDEX_URL, allow_files=True)
    report = check_files([world.local(tmp_path / "house")], trust=IndexTrust(client), at=AT)
    item = _one(report)
    assert item.status is Status.ERROR
    assert "local file is never followed" in item.message


def test_check_with_cache_reports_a_changed_trust_statement(tmp_path):
    from pgpverify.index.cache import Cache

    world = _world()
    world.add("alpha")
    house = world.local(tmp_path / "house")
    with Cache.open(tmp_path / "cache", clock=lambda: 1_750_000_000.0) as cache:
        client = IndexClient(world.fake(), index_url=INDEX_URL)
        first = check_files([house], trust=IndexTrust(client, cache, now=1.0), at=AT)
        assert first.ok
        assert first.warnings == ()
        world.own("alpha", MALLORY, user="mallory", role="Maintainer")
        client = IndexClient(world.fake(), index_url=INDEX_URL)
        second = check_files([house], trust=IndexTrust(client, cache, now=2.0), at=AT)
    assert second.ok  # alice still signed it; the change is reported, loudly
    assert any("TRUST STATEMENT OF alpha CHANGED" in w for w in second.warnings)


def test_check_rejects_a_widened_trust_statement_under_fail_on_key_change(tmp_path):
    from pgpverify.index.cache import Cache

    world = _world()
    world.add("alpha")
    world.add("beta", signer=None)
    house = world.local(tmp_path / "house")
    flag = CheckPolicy(fail_on_key_change=True)
    with Cache.open(tmp_path / "cache", clock=lambda: 1_750_000_000.0) as cache:
        client = IndexClient(world.fake(), index_url=INDEX_URL)
        first = check_files([house], trust=IndexTrust(client, cache, now=1.0), at=AT, policy=flag)
        assert first.ok  # a first sighting is no change
        # the good twin: the same statement again passes under the flag
        again = check_files([house], trust=IndexTrust(client, cache, now=2.0), at=AT, policy=flag)
        assert again.ok
        world.own("alpha", MALLORY, user="mallory", role="Maintainer")
        client = IndexClient(world.fake(), index_url=INDEX_URL)
        wider = check_files([house], trust=IndexTrust(client, cache, now=3.0), at=AT, policy=flag)
        alpha, beta = wider.files
        assert (alpha.status, alpha.reason) == (Status.REJECTED, "keys-changed")
        assert "alpha changed since it was last seen" in alpha.message
        assert beta.status is Status.UNSIGNED  # the other project is untouched
        assert wider.exit_code == 1
        assert any("TRUST STATEMENT OF alpha CHANGED" in w for w in wider.warnings)
        # not remembered: it keeps failing until a run without the flag accepts it
        still = check_files([house], trust=IndexTrust(client, cache, now=4.0), at=AT, policy=flag)
        assert still.files[0].reason == "keys-changed"
        accepted = check_files([house], trust=IndexTrust(client, cache, now=5.0), at=AT)
        assert accepted.ok
        after = check_files([house], trust=IndexTrust(client, cache, now=6.0), at=AT, policy=flag)
        assert after.ok


def test_check_narrowed_trust_statement_passes_under_fail_on_key_change(tmp_path):
    from pgpverify.index.cache import Cache

    world = _world()
    world.own("alpha", MALLORY, user="mallory", role="Maintainer")
    world.add("alpha")
    house = world.local(tmp_path / "house")
    flag = CheckPolicy(fail_on_key_change=True)
    with Cache.open(tmp_path / "cache", clock=lambda: 1_750_000_000.0) as cache:
        client = IndexClient(world.fake(), index_url=INDEX_URL)
        assert check_files([house], trust=IndexTrust(client, cache, now=1.0), at=AT, policy=flag).ok
        world.owners["alpha"] = [o for o in world.owners["alpha"] if o[0] != "mallory"]
        client = IndexClient(world.fake(), index_url=INDEX_URL)
        narrower = check_files(
            [house], trust=IndexTrust(client, cache, now=2.0), at=AT, policy=flag
        )
    assert narrower.ok  # reported, not rejected
    assert any("TRUST STATEMENT OF alpha CHANGED" in w for w in narrower.warnings)


def test_file_checker_gives_check_files_verdicts_one_file_at_a_time(tmp_path):
    # install's gate checks each file as pip asks for it: the same verdicts as check_files
    from pgpverify.check.run import FileChecker
    from pgpverify.index.files import ProjectPage, sha256_file

    world = _world()
    world.own("gamma", ALICE)
    world.add("alpha", upload_time="2024-03-01T11:00:00Z")
    world.add("alpha", "2.0", upload_time="2023-01-01T00:00:00Z")  # backsigned
    world.add("beta", signer=None)
    world.add("gamma", signer=MALLORY)
    world.add("delta")  # no ownership record at all
    index = world.fake(page="json")
    policy = CheckPolicy(require_signatures_for=frozenset({"beta"}), reject_backsigned=True)
    house = world.local(tmp_path / "house")
    client = IndexClient(index, index_url=INDEX_URL)
    whole = check_files([house], trust=IndexTrust(client), at=AT, policy=policy)
    checker = FileChecker(IndexTrust(client), at=AT, policy=policy)
    one_by_one = []
    for path in sorted(house.iterdir()):
        page = ProjectPage.fetch(client, path.name.split("-")[0])
        one_by_one.append(checker.check(path, page, sha256_file(path)))
    assert one_by_one == list(whole.files)
    assert [(f.status, f.reason) for f in one_by_one] == [
        (Status.GOOD, "good"),
        (Status.REJECTED, "backsigned"),
        (Status.REJECTED, "unsigned"),
        (Status.REJECTED, "unknown-key"),
        (Status.REJECTED, "unknown-key"),
    ]
    # a file whose name is not of the page's project is an error, not a verdict on another
    stray = checker.check(house / world.dists[0].filename, ProjectPage.fetch(client, "beta"), "0")
    assert stray.status is Status.ERROR
