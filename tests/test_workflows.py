import json
import shutil
from datetime import datetime, timezone

import pytest
from fakeindex import DEMO, INDEX_URL, ROOT, WHEEL, demo_index

from pgpverify import Reason
from pgpverify.errors import InputError
from pgpverify.index.client import IndexClient
from pgpverify.workflows import verify_from_index

AT = datetime(2025, 6, 1, tzinfo=timezone.utc)
ALICE = "DBB45D692413FC66E3CB87089B617AE7AD1F8C84"


class MemoryKeyCache:
    """The key-set memory of the cache, in memory (the SQLite one has its own tests)."""

    def __init__(self, known=None):
        self.known = dict(known or {})

    def known_project_keys(self, project):
        return self.known.get(project)

    def record_project_keys(self, project, fingerprints, now):
        self.known[project] = frozenset(fingerprints)


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


def test_index_first_sight_records_the_key_set(wheel):
    cache = MemoryKeyCache()
    outcome = run(wheel, demo_index(), cache=cache)
    assert outcome.result.ok
    assert outcome.result.keys_changed is None
    assert ALICE in cache.known["demo-pkg"]


def test_index_key_change_is_reported_loudly(wheel):
    cache = MemoryKeyCache({"demo-pkg": frozenset({ALICE, "1" * 40})})
    outcome = run(wheel, demo_index(), cache=cache)
    assert outcome.result.ok
    change = outcome.result.keys_changed
    assert change["removed"] == ["1" * 40]
    assert len(change["added"]) == 2
    assert any("CHANGED" in w for w in outcome.warnings)
    assert outcome.result.to_json()["keys_changed"] == change
    # remembered: the next run is quiet
    assert run(wheel, demo_index(), cache=cache).result.keys_changed is None


def test_index_key_change_rejects_with_fail_on_key_change_and_is_not_accepted(wheel):
    before = frozenset({ALICE})
    cache = MemoryKeyCache({"demo-pkg": before})
    result = run(wheel, demo_index(), cache=cache, fail_on_key_change=True).result
    assert not result.ok
    assert result.reason is Reason.KEYS_CHANGED
    assert result.maintainer is None
    assert cache.known["demo-pkg"] == before
    again = run(wheel, demo_index(), cache=cache, fail_on_key_change=True).result
    assert again.reason is Reason.KEYS_CHANGED


def test_index_retired_key_in_published_record(wheel):
    index = demo_index()
    record = json.loads(index.documents[ROOT + "pgp/projects/demo-pkg.json"][1])
    record["maintainers"][0]["keys"] = [{"fingerprint": ALICE, "retired": "2024-01-01"}]
    index.put(ROOT + "pgp/projects/demo-pkg.json", json.dumps(record).encode(),
              "application/json")
    result = run(wheel, index).result
    assert result.reason is Reason.NOT_OWNER
    assert "retired" in result.message
