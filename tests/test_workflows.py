import dataclasses
import json
import shutil
import sqlite3
from datetime import datetime, timezone

import pytest
from fakeindex import (
    DEMO,
    INDEX_URL,
    ROOT,
    WHEEL,
    FakeIndex,
    demo_index,
    split_keyring,
    without_key_revocation,
)

from pgpverify import Reason
from pgpverify.errors import CacheError, InputError, LimitExceededError
from pgpverify.index.cache import CACHE_FILE_NAME, Cache, MemoryState
from pgpverify.index.client import IndexClient
from pgpverify.limits import Limits
from pgpverify.workflows import KEYS_CHANGED, verify_from_index

AT = datetime(2025, 6, 1, tzinfo=timezone.utc)
ALICE = "DBB45D692413FC66E3CB87089B617AE7AD1F8C84"


@pytest.fixture
def wheel(tmp_path):
    """The demo wheel alone in a directory: its signature must come from the index."""
    path = tmp_path / WHEEL
    shutil.copy(DEMO / WHEEL, path)
    return path


def run(wheel, index, **kw):
    return verify_from_index(wheel, client=IndexClient(index, index_url=INDEX_URL), at=AT, **kw)


@pytest.mark.parametrize("page", ["html", "json"])
def test_index_good_signature_fetched_from_the_page(wheel, page):
    outcome = run(wheel, demo_index(page=page))
    assert outcome.result.ok, outcome.result.message
    assert outcome.result.maintainer.user == "alice"
    assert outcome.result.project == "demo-pkg"
    assert outcome.result.signature_file == ROOT + f"packages/{WHEEL}.asc"
    assert outcome.warnings == []


def test_index_local_signature_wins(wheel):
    index = demo_index()
    index.put(ROOT + f"packages/{WHEEL}.asc", b"garbage")
    shutil.copy(DEMO / f"{WHEEL}.asc", wheel.with_name(WHEEL + ".asc"))
    assert run(wheel, index).result.ok


def test_index_tampered_file_is_bad_signature(tmp_path):
    path = tmp_path / WHEEL
    shutil.copy(DEMO / "tampered" / WHEEL, path)
    assert run(path, demo_index()).result.reason is Reason.BAD_SIGNATURE


def test_index_signer_not_in_the_record_is_unknown_key(wheel):
    result = run(wheel, demo_index(), signature=DEMO / "not-owner" / f"{WHEEL}.asc").result
    assert result.reason is Reason.UNKNOWN_KEY


def test_index_without_ownership_record_says_so(wheel):
    index = demo_index()
    del index.documents[ROOT + "pgp/projects/demo-pkg.json"]
    result = run(wheel, index).result
    assert result.reason is Reason.UNKNOWN_KEY
    assert "no ownership record for project demo-pkg" in result.message


def test_index_record_without_published_keys_says_so(wheel):
    index = demo_index()
    for url in [u for u in index.documents if "/pgp/keys/" in u]:
        del index.documents[url]
    outcome = run(wheel, index)
    assert outcome.result.reason is Reason.UNKNOWN_KEY
    assert "publishes no keys for project demo-pkg" in outcome.result.message
    assert len(outcome.warnings) == 3


def test_index_malformed_signature_stays_malformed_without_record(wheel):
    index = demo_index()
    del index.documents[ROOT + "pgp/projects/demo-pkg.json"]
    index.put(ROOT + f"packages/{WHEEL}.asc", b"\x00junk")
    assert run(wheel, index).result.reason is Reason.MALFORMED


def test_index_unsigned_file_is_an_input_error(wheel):
    with pytest.raises(InputError, match="index lists no signature"):
        run(wheel, demo_index(signature=False))


def test_index_project_option_overrides_the_file_name(tmp_path):
    path = tmp_path / "renamed.bin"
    shutil.copy(DEMO / WHEEL, path)
    shutil.copy(DEMO / f"{WHEEL}.asc", tmp_path / "renamed.bin.asc")
    assert run(path, demo_index(), project="Demo_Pkg").result.ok


def test_index_retired_key_in_published_record(wheel):
    index = demo_index()
    record = json.loads(index.documents[ROOT + "pgp/projects/demo-pkg.json"][1])
    record["maintainers"][0]["keys"] = [{"fingerprint": ALICE, "retired": "2024-01-01"}]
    index.put(ROOT + "pgp/projects/demo-pkg.json", json.dumps(record).encode(), "application/json")
    result = run(wheel, index).result
    assert result.reason is Reason.NOT_OWNER
    assert "retired" in result.message


# -- trust memory (a real SQLite cache) ------------------------------------------------------

RECORD_URL = ROOT + "pgp/projects/demo-pkg.json"
BOB = "36FF105B8A4F39B79348ACB434B57E55CBEE8D98"
DAVE = "11B543008E037F93A69E40E5F64134C69A45844B"
LATER = 1_760_000_000.0


@pytest.fixture
def cache(tmp_path):
    with Cache.open(tmp_path / "cache", clock=lambda: LATER) as opened:
        yield opened


def record_of(index):
    return json.loads(index.documents[RECORD_URL][1])


def with_record(index, record):
    index.put(RECORD_URL, json.dumps(record).encode(), "application/json")
    return index


def edited(edit):
    """The demo index with its record changed by ``edit`` (a function of the record)."""
    index = demo_index()
    record = record_of(index)
    edit(record)
    return with_record(index, record)


def retire_alice(when):
    def edit(record):
        record["maintainers"][0]["keys"] = [{"fingerprint": ALICE, "retired": when}]

    return edit


def test_index_first_sight_records_the_statement(wheel, cache):
    outcome = run(wheel, demo_index(), cache=cache)
    assert outcome.result.ok
    assert outcome.keys_changed is None
    memory = cache.project_memory("demo-pkg")
    assert memory.state is MemoryState.KNOWN
    assert memory.statement.signers() == {("alice", ALICE), ("bob", BOB), ("dave", DAVE)}
    assert cache.remembered_certificate(ALICE).state is MemoryState.KNOWN


def test_index_key_change_is_reported_loudly(wheel, cache):
    run(wheel, edited(lambda r: r["maintainers"][0]["keys"].append("1" * 40)), cache=cache)
    outcome = run(wheel, demo_index(), cache=cache)
    assert outcome.result.ok
    change = outcome.keys_changed
    assert (change["added"], change["removed"], change["widens"]) == ([], ["1" * 40], False)
    assert [c["kind"] for c in change["changes"]] == ["key-removed"]
    assert any("THE TRUST STATEMENT OF demo-pkg CHANGED" in w for w in outcome.warnings)
    assert outcome.to_json()["keys_changed"] == change
    assert "keys_changed" not in outcome.result.to_json()
    # remembered: the next run is quiet
    assert run(wheel, demo_index(), cache=cache).keys_changed is None


def test_index_key_added_rejects_with_fail_on_key_change_and_is_not_accepted(wheel, cache):
    def drop_dave(record):
        del record["maintainers"][2]

    run(wheel, edited(drop_dave), cache=cache)
    before = cache.project_memory("demo-pkg").statement
    result = run(wheel, demo_index(), cache=cache, fail_on_key_change=True)
    assert result.reason == KEYS_CHANGED
    assert not result.ok
    assert result.to_json()["maintainer"] is None
    assert result.keys_changed["added"] == [DAVE]
    assert result.keys_changed["widens"] is True
    # the verifier's own verdict stays what it was: the index layer rejects
    assert result.result.ok
    assert cache.project_memory("demo-pkg").statement == before
    again = run(wheel, demo_index(), cache=cache, fail_on_key_change=True)
    assert again.reason == KEYS_CHANGED
    # accepted by a run without the flag
    assert run(wheel, demo_index(), cache=cache).result.ok
    assert run(wheel, demo_index(), cache=cache, fail_on_key_change=True).ok


def test_index_narrowing_change_is_reported_not_rejected(wheel, cache):
    run(wheel, demo_index(), cache=cache)
    narrower = edited(retire_alice("2025-01-01"))
    result = run(wheel, narrower, cache=cache, fail_on_key_change=True)
    assert result.ok
    assert [c["kind"] for c in result.keys_changed["changes"]] == ["retirement-added"]
    assert result.keys_changed["widens"] is False
    assert cache.project_memory("demo-pkg").statement.signing()[ALICE] is not None


def test_index_rejects_un_retiring_a_key_with_fail_on_key_change(wheel, cache):
    # honest: alice retired her key in 2024-01 (the demo wheel was signed 2024-03)
    honest = run(wheel, edited(retire_alice("2024-01-01")), cache=cache).result
    assert honest.reason is Reason.NOT_OWNER
    # tampered: the index forgets the retirement
    result = run(wheel, demo_index(), cache=cache, fail_on_key_change=True)
    assert result.reason == KEYS_CHANGED
    (change,) = result.keys_changed["changes"]
    assert (change["kind"], change["fingerprint"], change["widens"]) == (
        "retirement-removed",
        ALICE,
        True,
    )
    # moved later is a widening too
    later = run(wheel, edited(retire_alice("2024-06-01")), cache=cache, fail_on_key_change=True)
    assert later.reason == KEYS_CHANGED
    assert later.keys_changed["changes"][0]["kind"] == "retirement-later"


def test_index_rejects_promoting_a_user_who_could_not_sign(wheel, cache):
    def viewer(record):
        record["maintainers"][0]["role"] = "Viewer"

    honest = run(wheel, edited(viewer), cache=cache).result
    assert honest.reason is Reason.NOT_OWNER
    result = run(wheel, demo_index(), cache=cache, fail_on_key_change=True)
    assert result.reason == KEYS_CHANGED
    kinds = {(c["kind"], c["widens"]) for c in result.keys_changed["changes"]}
    assert ("role-changed", True) in kinds


def test_index_older_certificate_cannot_hide_a_seen_revocation(tmp_path, cache):
    revoked = tmp_path / "revoked" / WHEEL
    revoked.parent.mkdir()
    shutil.copy(DEMO / "revoked" / WHEEL, revoked)
    shutil.copy(DEMO / "revoked" / f"{WHEEL}.asc", revoked.with_name(f"{WHEEL}.asc"))
    assert run(revoked, demo_index(), cache=cache).result.reason is Reason.KEY_REVOKED
    older = demo_index()
    older.put(ROOT + f"pgp/keys/{DAVE}.asc", without_key_revocation(DAVE))
    # the twin: without memory, the older copy verifies
    assert run(revoked, older).result.ok
    outcome = run(revoked, older, cache=cache, fail_on_key_change=True)
    assert outcome.result.reason is Reason.KEY_REVOKED
    assert outcome.keys_changed is None
    assert any(f"served key {DAVE} without 1 packet(s)" in w for w in outcome.warnings)


def test_index_revocation_seen_once_stays_when_the_key_file_disappears(tmp_path, cache):
    revoked = tmp_path / "revoked" / WHEEL
    revoked.parent.mkdir()
    shutil.copy(DEMO / "revoked" / WHEEL, revoked)
    shutil.copy(DEMO / "revoked" / f"{WHEEL}.asc", revoked.with_name(f"{WHEEL}.asc"))
    run(revoked, demo_index(), cache=cache)
    index = demo_index()
    del index.documents[ROOT + f"pgp/keys/{DAVE}.asc"]
    assert run(revoked, index, cache=cache).result.reason is Reason.KEY_REVOKED


def test_index_lost_memory_is_an_error_with_fail_on_key_change(wheel, tmp_path):
    directory = tmp_path / "lost"
    with Cache.open(directory, clock=lambda: LATER) as cache:
        run(wheel, demo_index(), cache=cache)
    db = sqlite3.connect(directory / CACHE_FILE_NAME)
    db.execute("UPDATE project_keys SET statement = 'garbage'")
    db.commit()
    db.close()
    with Cache.open(directory, clock=lambda: LATER) as cache:
        with pytest.raises(CacheError, match="trust memory of demo-pkg cannot be read"):
            run(wheel, demo_index(), cache=cache, fail_on_key_change=True)
        outcome = run(wheel, demo_index(), cache=cache)
        assert outcome.result.ok
        (change,) = outcome.keys_changed["changes"]
        assert (change["kind"], change["widens"]) == ("memory-unreadable", True)
        assert run(wheel, demo_index(), cache=cache, fail_on_key_change=True).ok


def test_index_rebuilt_cache_is_not_a_first_sighting(wheel, tmp_path):
    directory = tmp_path / "rebuilt"
    with Cache.open(directory, clock=lambda: LATER) as cache:
        run(wheel, demo_index(), cache=cache)
    (directory / CACHE_FILE_NAME).write_bytes(b"\x00" * 4096)
    with (
        Cache.open(directory, clock=lambda: LATER) as cache,
        pytest.raises(CacheError, match=r"cannot be read \(the cache was rebuilt"),
    ):
        run(wheel, demo_index(), cache=cache, fail_on_key_change=True)


def test_index_corrupt_certificate_memory_is_an_error_with_fail_on_key_change(wheel, cache):
    run(wheel, demo_index(), cache=cache)
    db = sqlite3.connect(cache.path)
    db.execute("UPDATE certificates SET sha256 = 'x' WHERE fingerprint = ?", (BOB,))
    db.commit()
    db.close()
    with pytest.raises(CacheError, match=f"remembered certificate {BOB} cannot be read"):
        run(wheel, demo_index(), cache=cache, fail_on_key_change=True)
    outcome = run(wheel, demo_index(), cache=cache)
    assert outcome.result.ok
    assert any(f"certificate {BOB} cannot be read" in w for w in outcome.warnings)
    assert cache.remembered_certificate(BOB).state is MemoryState.KNOWN


def test_index_rejects_a_remembered_certificate_over_the_limits(wheel, cache):
    run(wheel, demo_index(), cache=cache)
    tight = dataclasses.replace(Limits(), certificate_packets=4)
    with pytest.raises(LimitExceededError):
        run(wheel, demo_index(), cache=cache, limits=tight)


# -- the trust memory keeps only what the key made (no sticky denial of service) -----------


def forged_copies(fpr, count, *, salt=0):
    """``fpr``'s key file with ``count`` forged self-certifications after its user ID.

    Each is the key's own self-certification with its signature value changed: well-formed,
    issuer the primary key, right hash prefix, wrong math (one public-key operation each).
    """
    from pgpverify.openpgp.armor import decode_blocks
    from pgpverify.openpgp.packets import Tag, iter_packets

    (block,) = decode_blocks(split_keyring(DEMO / "keyring.asc")[fpr])
    items = [(p.tag, p.body) for p in iter_packets(block.data, max_packets=1000)]
    at = next(i for i, (tag, body) in enumerate(items) if tag == Tag.SIGNATURE and body[1] == 0x13)
    real = items[at][1]
    forged = [
        (Tag.SIGNATURE, real[:-3] + (salt * 1000 + n).to_bytes(3, "big")) for n in range(count)
    ]
    items[at + 1 : at + 1] = forged
    return b"".join(
        bytes([0xC0 | tag, 0xFF]) + len(body).to_bytes(4, "big") + body for tag, body in items
    )


def test_index_memory_rejects_forged_signatures_so_junk_cannot_accumulate(wheel, cache):
    honest = run(wheel, demo_index(), cache=cache)
    assert honest.result.ok
    size = len(cache.remembered_certificate(ALICE).data)
    # room for what alice's key holds and 10 more packets: two hostile runs of 8 each used
    # to fill the memory past the cap, and the key then failed forever
    tight = dataclasses.replace(Limits(), certificate_packets=20)
    for salt in (1, 2, 3):
        hostile = demo_index()
        hostile.put(ROOT + f"pgp/keys/{ALICE}.asc", forged_copies(ALICE, 8, salt=salt))
        outcome = run(wheel, hostile, cache=cache, limits=tight)
        assert outcome.result.ok, outcome.result.message
        assert any(f"key {ALICE}" in w and "8 signature(s)" in w for w in outcome.warnings)
        assert len(cache.remembered_certificate(ALICE).data) == size
    assert run(wheel, demo_index(), cache=cache, limits=tight).result.ok


# -- library callers get the project's errors, never a ValueError or OSError ---------------


@pytest.mark.parametrize("path", [".", "/", "", "./"])
def test_index_rejects_a_path_without_a_name_with_an_input_error(path):
    from pathlib import Path

    with pytest.raises(InputError, match="not a file name"):
        run(Path(path), demo_index(), project="demo-pkg")


def test_index_rejects_an_over_long_file_name_with_an_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot look for"):
        run(tmp_path / ("a" * 300 + ".whl"), demo_index(), project="demo-pkg")


def test_demo_index_publishes_retired_keys_of_a_record():
    record = {
        "project": "demo-pkg",
        "maintainers": [
            {
                "user": "alice",
                "role": "Owner",
                "keys": [{"fingerprint": ALICE, "retired": "2024-01-01"}, BOB],
            }
        ],
    }
    index = demo_index(record=record)
    assert ROOT + f"pgp/keys/{ALICE}.asc" in index.documents
    assert ROOT + f"pgp/keys/{BOB}.asc" in index.documents


# -- one memory per project name, whichever index answers ----------------------------------

MALLORY = "88199D93B4210BBED4A2245EDD771D2D3E8DF380"
MIRROR = "https://mirror.test/"


def on_mirror(index):
    """The same documents served by another index (another host)."""
    moved = FakeIndex()
    for url, doc in index.documents.items():
        moved.documents[url.replace(ROOT, MIRROR)] = doc
    return moved


def run_mirror(wheel, index, **kw):
    client = IndexClient(on_mirror(index), index_url=MIRROR + "simple/")
    return verify_from_index(wheel, client=client, at=AT, **kw)


def test_index_memory_of_another_index_for_the_same_project_is_compared(wheel, cache):
    assert run(wheel, demo_index(), cache=cache).result.ok
    # another index serves the same name with one more signer (dependency confusion)
    record = record_of(demo_index())
    record["maintainers"].append({"user": "mallory", "role": "Maintainer", "keys": [MALLORY]})
    result = run_mirror(wheel, demo_index(record=record), cache=cache, fail_on_key_change=True)
    assert result.reason == KEYS_CHANGED
    assert result.keys_changed["added"] == [MALLORY]
    # the twin: the same statement from the mirror is no change at all
    same = run_mirror(wheel, demo_index(), cache=cache, fail_on_key_change=True)
    assert same.ok
    assert same.keys_changed is None


def test_index_revocation_seen_on_one_index_holds_on_another(tmp_path, cache):
    revoked = tmp_path / "revoked" / WHEEL
    revoked.parent.mkdir()
    shutil.copy(DEMO / "revoked" / WHEEL, revoked)
    shutil.copy(DEMO / "revoked" / f"{WHEEL}.asc", revoked.with_name(f"{WHEEL}.asc"))
    assert run(revoked, demo_index(), cache=cache).result.reason is Reason.KEY_REVOKED
    older = demo_index()
    older.put(ROOT + f"pgp/keys/{DAVE}.asc", without_key_revocation(DAVE))
    assert run_mirror(revoked, older).result.ok  # the twin: no memory
    assert run_mirror(revoked, older, cache=cache).result.reason is Reason.KEY_REVOKED


# -- --fail-on-key-change: every widening kind rejects, every narrowing one is reported ----


def _entry(record, user):
    return next(m for m in record["maintainers"] if m["user"] == user)


def _drop_user(user):
    def edit(record):
        record["maintainers"] = [m for m in record["maintainers"] if m["user"] != user]

    return edit


def _set(user, **fields):
    def edit(record):
        _entry(record, user).update(fields)

    return edit


def _add(user, role, keys):
    def edit(record):
        record["maintainers"].append({"user": user, "role": role, "keys": keys})

    return edit


def _retire(user, fpr, when):
    def edit(record):
        _entry(record, user)["keys"] = [{"fingerprint": fpr, "retired": when}]

    return edit


def _same(record):
    return record


KIND_CASES = {
    # name: (before, after, a kind it must report, whether it widens)
    "key-added": (_drop_user("dave"), _same, "key-added", True),
    "key-removed": (_same, _set("dave", keys=[]), "key-removed", False),
    "user-added-who-signs": (_same, _add("mallory", "Maintainer", [ALICE]), "user-added", True),
    "user-added-viewer": (_same, _add("carol", "Viewer", [ALICE]), "user-added", False),
    "user-removed": (_same, _drop_user("bob"), "user-removed", False),
    "viewer-promoted": (_set("alice", role="Viewer"), _same, "role-changed", True),
    "owner-demoted-to-viewer": (_same, _set("alice", role="Viewer"), "role-changed", False),
    "owner-to-maintainer": (_same, _set("alice", role="Maintainer"), "role-changed", False),
    "key-listed-by-another": (_same, _set("bob", keys=[BOB, ALICE]), "key-listed", True),
    "key-unlisted": (_set("bob", keys=[BOB, ALICE]), _same, "key-unlisted", False),
    "retirement-added": (_same, _retire("alice", ALICE, "2025-01-01"), "retirement-added", False),
    "retirement-removed": (
        _retire("alice", ALICE, "2025-01-01"),
        _same,
        "retirement-removed",
        True,
    ),
    "retirement-later": (
        _retire("alice", ALICE, "2025-01-01"),
        _retire("alice", ALICE, "2025-02-01"),
        "retirement-later",
        True,
    ),
    "retirement-earlier": (
        _retire("alice", ALICE, "2025-02-01"),
        _retire("alice", ALICE, "2025-01-01"),
        "retirement-earlier",
        False,
    ),
    "retirement-at-the-epoch-removed": (
        _retire("alice", ALICE, "1970-01-01"),
        _same,
        "retirement-removed",
        True,
    ),
}


@pytest.mark.parametrize("case", sorted(KIND_CASES))
def test_index_fail_on_key_change_rejects_widening_and_reports_narrowing(wheel, cache, case):
    before, after, kind, wider = KIND_CASES[case]
    run(wheel, edited(before), cache=cache)
    accepted = cache.project_memory("demo-pkg").statement
    outcome = run(wheel, edited(after), cache=cache, fail_on_key_change=True)
    changed = outcome.keys_changed
    assert changed is not None
    assert kind in [c["kind"] for c in changed["changes"]]
    assert changed["widens"] is wider
    assert any("CHANGED" in w for w in outcome.warnings)
    memory = cache.project_memory("demo-pkg").statement
    if wider:
        assert outcome.reason == KEYS_CHANGED
        assert not outcome.ok
        assert memory == accepted  # not remembered: it keeps failing until accepted
    else:
        assert outcome.reason != KEYS_CHANGED
        assert memory != accepted  # remembered: the next run is quiet
        again = run(wheel, edited(after), cache=cache, fail_on_key_change=True)
        assert again.keys_changed is None


def test_index_user_removed_then_re_added_is_a_widening(wheel, cache):
    run(wheel, demo_index(), cache=cache)
    removed = run(wheel, edited(_drop_user("bob")), cache=cache, fail_on_key_change=True)
    assert removed.ok  # narrowing: reported and remembered
    back = run(wheel, demo_index(), cache=cache, fail_on_key_change=True)
    assert back.reason == KEYS_CHANGED
    assert {c["kind"] for c in back.keys_changed["changes"]} == {"key-added", "user-added"}


def test_index_and_lock_reference_time_defaults_to_now(wheel):
    from pgpverify.trust.lockfile import build_lock
    from pgpverify.workflows import verify_from_lock

    client = IndexClient(demo_index(), index_url=INDEX_URL)
    outcome = verify_from_index(wheel, client=client)
    assert outcome.ok
    now = verify_from_index(wheel, client=client, at=datetime.now(timezone.utc))
    assert outcome.result.to_json() == now.result.to_json()
    revoked = DEMO / "revoked" / WHEEL
    assert verify_from_index(revoked, client=client).result.reason is Reason.KEY_REVOKED
    keys = client.project_keys("demo-pkg")
    lock = build_lock([keys.record], keys.certificates, index_url=INDEX_URL)
    assert verify_from_lock(DEMO / WHEEL, lock=lock).ok


def test_index_and_lock_take_str_paths(wheel):
    # the library takes a str wherever it takes a path (the CLI passes str)
    from pgpverify.trust.lockfile import build_lock
    from pgpverify.workflows import verify_from_lock

    client = IndexClient(demo_index(), index_url=INDEX_URL)
    signature = str(DEMO / f"{WHEEL}.asc")
    outcome = verify_from_index(str(wheel), client=client, signature=signature, at=AT)
    assert outcome.ok
    assert outcome.result.file == str(wheel)
    keys = client.project_keys("demo-pkg")
    lock = build_lock([keys.record], keys.certificates, index_url=INDEX_URL)
    tampered = str(DEMO / "tampered" / WHEEL)
    assert verify_from_lock(str(DEMO / WHEEL), lock=lock, at=AT).ok
    assert verify_from_lock(tampered, lock=lock, at=AT).reason is Reason.BAD_SIGNATURE


# -- a warm run honours HTTP freshness, and writes the cache once -----------------------------


def test_index_warm_run_within_max_age_asks_nothing_and_commits_once(wheel, tmp_path):
    from pgpverify.index.cache import CachingFetcher

    index = demo_index()
    plain_get = index.get

    def fresh_get(url, **kw):  # the server says: fresh for five minutes
        return dataclasses.replace(plain_get(url, **kw), max_age=300.0)

    index.get = fresh_get
    verdicts, requests, commits = [], [], []
    for now in (LATER, LATER + 299):
        with Cache.open(
            tmp_path / "cache", clock=lambda now=now: now, one_transaction=True
        ) as cache:
            before = len(index.requests)
            fetcher = CachingFetcher(index, cache, clock=lambda now=now: now)
            outcome = verify_from_index(
                wheel,
                client=IndexClient(fetcher, index_url=INDEX_URL),
                at=AT,
                cache=cache,
            )
            verdicts.append(outcome.result.reason)
            requests.append(len(index.requests) - before)
        commits.append(cache.commits)
    assert verdicts == [Reason.GOOD, Reason.GOOD]
    assert requests[0] > 0
    assert requests[1] == 0  # every document still fresh: not one request
    assert commits == [1, 1]


def _revocation_certificate(label, forged=False):
    """Dave's key revocation alone, as gpg --gen-revoke (a PUBLIC KEY BLOCK) or sq (a
    SIGNATURE block) writes a revocation certificate; appended to his older key file."""
    from pgpverify.openpgp.armor import decode_blocks, encode
    from pgpverify.openpgp.packets import Tag, encode_packet, iter_packets

    (block,) = decode_blocks(split_keyring(DEMO / "keyring.asc")[DAVE])
    rev = next(
        p.body
        for p in iter_packets(block.data, max_packets=1000)
        if p.tag == Tag.SIGNATURE and p.body[1] == 0x20
    )
    if forged:
        rev = rev[:-1] + bytes([rev[-1] ^ 1])
    older = without_key_revocation(DAVE)
    return encode(older, "PUBLIC KEY BLOCK") + encode(encode_packet(Tag.SIGNATURE, rev), label)


@pytest.mark.parametrize("label", ["SIGNATURE", "PUBLIC KEY BLOCK"])
def test_index_rejects_key_revoked_by_a_revocation_certificate_in_its_key_file(
    tmp_path, cache, label
):
    # what `verify --keyring` does with the same file, with or without the trust memory,
    # and the revocation is remembered: a later key file without it cannot hide it
    revoked = tmp_path / "revoked" / WHEEL
    revoked.parent.mkdir()
    shutil.copy(DEMO / "revoked" / WHEEL, revoked)
    shutil.copy(DEMO / "revoked" / f"{WHEEL}.asc", revoked.with_name(f"{WHEEL}.asc"))
    index = demo_index()
    index.put(ROOT + f"pgp/keys/{DAVE}.asc", _revocation_certificate(label))
    assert run(revoked, index).result.reason is Reason.KEY_REVOKED
    outcome = run(revoked, index, cache=cache)
    assert outcome.result.reason is Reason.KEY_REVOKED
    assert not any("does not merge" in w for w in outcome.warnings)
    older = demo_index()
    older.put(ROOT + f"pgp/keys/{DAVE}.asc", without_key_revocation(DAVE))
    assert run(revoked, older, cache=cache).result.reason is Reason.KEY_REVOKED
    # the twin: a forged revocation certificate revokes nothing and is not remembered
    forged = demo_index()
    forged.put(ROOT + f"pgp/keys/{DAVE}.asc", _revocation_certificate(label, forged=True))
    with Cache.open(tmp_path / "fresh", clock=lambda: LATER) as fresh:
        assert run(revoked, forged, cache=fresh).result.ok
        assert run(revoked, older, cache=fresh).result.ok
