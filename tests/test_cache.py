import contextlib
import dataclasses
import gc
import hashlib
import io
import os
import re
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from pgpverify.errors import CacheError, NetworkError, ResponseTooLargeError
from pgpverify.index import cache as cache_module
from pgpverify.index.cache import (
    CACHE_FILE_NAME,
    SCHEMA_VERSION,
    Cache,
    CachingFetcher,
    MemoryState,
    default_cache_dir,
)
from pgpverify.index.fetch import Download, Response
from pgpverify.trust.memory import TrustStatement
from pgpverify.trust.owners import Maintainer

URL = "https://index.test/pgp/projects/demo-pkg.json"
OTHER = "https://index.test/pgp/keys/AB.asc"
BODY = b'{"project": "demo-pkg", "maintainers": []}'
A = "A" * 40
B = "B" * 40
C = "C" * 40
T0 = 1_750_000_000.0


def statement(*keys, project="demo-pkg", user="alice", role="Owner", retired=()):
    entry = Maintainer(user=user, role=role, keys=tuple(keys), retired=tuple(retired))
    return TrustStatement.from_maintainers(project, [entry])


def known(cache, project="demo-pkg"):
    """The fingerprints remembered for a project; None unless KNOWN."""
    memory = cache.project_memory(project)
    return None if memory.statement is None else set(memory.statement.fingerprints)


class Clock:
    def __init__(self, now=T0):
        self.now = now

    def __call__(self):
        return self.now


class ScriptedFetcher:
    """url -> list of scripted answers (Response or exception), consumed in order."""

    def __init__(self, script=None):
        self.script = {url: list(answers) for url, answers in (script or {}).items()}
        self.calls = []

    def add(self, url, *answers):
        self.script.setdefault(url, []).extend(answers)

    def get(self, url, *, max_bytes, accept=None, etag=None, last_modified=None):
        self.calls.append(
            {
                "url": url,
                "max_bytes": max_bytes,
                "accept": accept,
                "etag": etag,
                "last_modified": last_modified,
            }
        )
        answers = self.script.get(url)
        if not answers:
            raise AssertionError(f"unscripted request for {url}")
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def ok(body=BODY, etag='"v1"', last_modified="Mon, 02 Jun 2025 10:00:00 GMT"):
    return Response(
        url=URL,
        status=200,
        body=body,
        content_type="application/json",
        etag=etag,
        last_modified=last_modified,
    )


def not_modified(etag=None, last_modified=None):
    return Response(url=URL, status=304, etag=etag, last_modified=last_modified)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def cache(tmp_path, clock):
    with Cache.open(tmp_path, clock=clock) as opened:
        yield opened


def fetcher_for(cache, clock, inner, **kw):
    return CachingFetcher(inner, cache, clock=clock, **kw)


def stored_cache(directory, clock, body=BODY):
    """A closed cache file holding one document and one key set."""
    with Cache.open(directory, clock=clock) as cache:
        cache.put(URL, ok(body), T0)
        cache.record_project_statement(statement(A), T0)


def raw(directory):
    return sqlite3.connect(directory / CACHE_FILE_NAME, isolation_level=None)


# -- the directory ---------------------------------------------------------------------------


def test_default_cache_dir_is_the_user_cache_dir():
    path = default_cache_dir()
    assert path.name == "pgpverify"
    assert str(path).startswith(os.environ["XDG_CACHE_HOME"])


def test_open_creates_the_directory_and_the_schema(tmp_path, clock):
    directory = tmp_path / "a" / "b"
    with Cache.open(directory, clock=clock) as cache:
        assert cache.path == directory / CACHE_FILE_NAME
        assert cache.warnings == []
    db = raw(directory)
    try:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
            str(cache_module.SCHEMA_VERSION),
        )
    finally:
        db.close()
    with Cache.open(directory, clock=clock) as again:
        assert again.warnings == []


def test_open_rejects_an_unwritable_directory(tmp_path, clock):
    directory = tmp_path / "ro"
    directory.mkdir()
    directory.chmod(0o500)
    try:
        if os.access(directory, os.W_OK):
            pytest.skip(
                "running as root: chmod 0500 does not stop root from writing, so the "
                "directory stays writable"
            )
        with pytest.raises(CacheError, match="not writable"):
            Cache.open(directory, clock=clock)
    finally:
        directory.chmod(0o700)


def test_open_rejects_a_directory_where_files_cannot_be_created(tmp_path, clock, monkeypatch):
    # What a read-only mount or an ACL does even to root; the chmod test above cannot.
    def refuse(**kw):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cache_module.tempfile, "TemporaryFile", refuse)
    with pytest.raises(CacheError) as err:
        Cache.open(tmp_path, clock=clock)
    assert str(err.value) == f"{tmp_path}: the cache directory is not writable (Permission denied)"
    assert not (tmp_path / CACHE_FILE_NAME).exists()


def test_open_rejects_a_directory_under_a_file(tmp_path, clock):
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(CacheError, match="cannot create the cache directory"):
        Cache.open(tmp_path / "file" / "cache", clock=clock)


def test_open_rejects_a_directory_that_is_a_file(tmp_path, clock):
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(CacheError, match="cannot create the cache directory"):
        Cache.open(tmp_path / "file", clock=clock)


def test_open_rejects_a_locked_cache_after_the_busy_timeout(tmp_path, clock, monkeypatch):
    stored_cache(tmp_path, clock)
    monkeypatch.setattr(cache_module, "_BUSY_TIMEOUT", 0.01)
    locker = raw(tmp_path)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        locked = re.escape("cannot use the cache (database is locked)")
        with pytest.raises(CacheError, match=locked):
            Cache.open(tmp_path, clock=clock)
        locker.execute("ROLLBACK")
    finally:
        locker.close()
    assert not (tmp_path / (CACHE_FILE_NAME + ".corrupt")).exists()


def test_open_rejects_a_cache_file_that_is_a_directory(tmp_path, clock):
    (tmp_path / CACHE_FILE_NAME).mkdir()
    with pytest.raises(CacheError, match="not a file"):
        Cache.open(tmp_path, clock=clock)


# -- documents -------------------------------------------------------------------------------


def test_first_fetch_stores(cache, clock):
    inner = ScriptedFetcher({URL: [ok()]})
    response = fetcher_for(cache, clock, inner).get(URL, max_bytes=1000, accept="a/b")
    assert response.status == 200
    assert response.body == BODY
    assert not response.from_cache
    assert inner.calls == [
        {"url": URL, "max_bytes": 1000, "accept": "a/b", "etag": None, "last_modified": None}
    ]
    stored = cache.get(URL)
    assert stored is not None
    assert (stored.status, stored.body, stored.etag, stored.fetched_at) == (200, BODY, '"v1"', T0)
    assert stored.content_type == "application/json"


def test_revalidation_sends_validators_and_304_serves_the_cached_body(cache, clock):
    inner = ScriptedFetcher({URL: [ok(), not_modified(etag='"v1"')]})
    fetcher = fetcher_for(cache, clock, inner)
    fetcher.get(URL, max_bytes=1000)
    clock.now += 3600
    response = fetcher.get(URL, max_bytes=1000)
    assert inner.calls[1]["etag"] == '"v1"'
    assert inner.calls[1]["last_modified"] == "Mon, 02 Jun 2025 10:00:00 GMT"
    assert response.status == 200
    assert response.found
    assert response.from_cache
    assert response.body == BODY
    assert response.content_type == "application/json"
    stored = cache.get(URL)
    assert stored is not None
    assert stored.fetched_at == T0 + 3600


def test_304_with_new_validators_updates_them(cache, clock):
    inner = ScriptedFetcher({URL: [ok(), not_modified(etag='"v2"'), not_modified()]})
    fetcher = fetcher_for(cache, clock, inner)
    fetcher.get(URL, max_bytes=1000)
    assert fetcher.get(URL, max_bytes=1000).etag == '"v2"'
    fetcher.get(URL, max_bytes=1000)
    assert inner.calls[2]["etag"] == '"v2"'


def test_200_replaces_the_cached_document(cache, clock):
    inner = ScriptedFetcher({URL: [ok(), ok(b"new", etag='"v2"'), not_modified()]})
    fetcher = fetcher_for(cache, clock, inner)
    fetcher.get(URL, max_bytes=1000)
    response = fetcher.get(URL, max_bytes=1000)
    assert (response.body, response.from_cache) == (b"new", False)
    assert fetcher.get(URL, max_bytes=1000).body == b"new"
    assert inner.calls[2]["etag"] == '"v2"'


def test_document_without_validators_is_fetched_unconditionally(cache, clock):
    inner = ScriptedFetcher({URL: [ok(etag=None, last_modified=None), ok(b"2")]})
    fetcher = fetcher_for(cache, clock, inner)
    fetcher.get(URL, max_bytes=1000)
    assert fetcher.get(URL, max_bytes=1000).body == b"2"
    assert (inner.calls[1]["etag"], inner.calls[1]["last_modified"]) == (None, None)


def test_caching_fetcher_rejects_304_to_an_unconditional_request(cache, clock):
    inner = ScriptedFetcher({URL: [not_modified()]})
    with pytest.raises(NetworkError, match="304"):
        fetcher_for(cache, clock, inner).get(URL, max_bytes=1000)
    assert cache.get(URL) is None


def test_caching_fetcher_rejects_an_unexpected_status(cache, clock):
    inner = ScriptedFetcher({URL: [Response(url=URL, status=500)]})
    with pytest.raises(NetworkError, match="500"):
        fetcher_for(cache, clock, inner).get(URL, max_bytes=1000)
    assert cache.get(URL) is None


def test_caller_validators_are_forwarded_and_304_returned_as_is(cache, clock):
    inner = ScriptedFetcher({URL: [ok(), not_modified()]})
    fetcher = fetcher_for(cache, clock, inner)
    fetcher.get(URL, max_bytes=1000)
    response = fetcher.get(URL, max_bytes=1000, etag='"mine"')
    assert response.status == 304
    assert (inner.calls[1]["etag"], inner.calls[1]["last_modified"]) == ('"mine"', None)


def test_cached_body_over_the_cap_is_a_miss_online(cache, clock):
    inner = ScriptedFetcher({URL: [ok(), ok(b"tiny")]})
    fetcher = fetcher_for(cache, clock, inner)
    fetcher.get(URL, max_bytes=1000)
    response = fetcher.get(URL, max_bytes=10)
    assert response.body == b"tiny"
    assert inner.calls[1]["etag"] is None


def test_caching_fetcher_rejects_a_body_over_the_cap_and_does_not_store_it(cache, clock):
    inner = ScriptedFetcher({URL: [ok(b"x" * 11)]})
    with pytest.raises(NetworkError, match="larger than 10 bytes"):
        fetcher_for(cache, clock, inner).get(URL, max_bytes=10)
    assert cache.get(URL) is None


# -- "not found" answers ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410])
def test_not_found_is_cached_for_the_ttl_only(cache, clock, status):
    gone = Response(url=URL, status=status)
    inner = ScriptedFetcher({URL: [gone, gone]})
    fetcher = fetcher_for(cache, clock, inner, negative_ttl=60)
    assert fetcher.get(URL, max_bytes=1000).status == status
    clock.now += 59
    again = fetcher.get(URL, max_bytes=1000)
    assert (again.status, again.from_cache, again.found) == (status, True, False)
    assert len(inner.calls) == 1
    assert cache.missing_is_fresh(URL, clock.now, 60)
    clock.now += 1
    assert not cache.missing_is_fresh(URL, clock.now, 60)
    assert fetcher.get(URL, max_bytes=1000).from_cache is False
    assert len(inner.calls) == 2
    assert inner.calls[1]["etag"] is None


def test_not_found_then_found(cache, clock):
    inner = ScriptedFetcher({URL: [Response(url=URL, status=404), ok()]})
    fetcher = fetcher_for(cache, clock, inner, negative_ttl=60)
    fetcher.get(URL, max_bytes=1000)
    clock.now += 61
    assert fetcher.get(URL, max_bytes=1000).body == BODY
    assert cache.get(URL).found


def test_zero_ttl_never_serves_a_cached_not_found(cache, clock):
    gone = Response(url=URL, status=404)
    inner = ScriptedFetcher({URL: [gone, gone]})
    fetcher = fetcher_for(cache, clock, inner, negative_ttl=0)
    fetcher.get(URL, max_bytes=1000)
    fetcher.get(URL, max_bytes=1000)
    assert len(inner.calls) == 2


def test_not_found_stamped_in_the_future_is_not_fresh(cache, clock):
    cache.put_missing(URL, 404, clock.now + 1000)
    assert not cache.missing_is_fresh(URL, clock.now, 300)
    inner = ScriptedFetcher({URL: [ok()]})
    assert fetcher_for(cache, clock, inner).get(URL, max_bytes=1000).status == 200


def test_not_found_replaces_a_stored_document(cache, clock):
    inner = ScriptedFetcher({URL: [ok(), Response(url=URL, status=410)]})
    fetcher_for(cache, clock, inner).get(URL, max_bytes=1000)
    fetcher_for(cache, clock, inner).get(URL, max_bytes=1000)
    assert inner.calls[1]["etag"] == '"v1"'
    offline = fetcher_for(cache, clock, None)
    assert offline.get(URL, max_bytes=1000).status == 410


def test_put_and_put_missing_reject_the_wrong_status(cache):
    with pytest.raises(ValueError):
        cache.put(URL, Response(url=URL, status=404), T0)
    with pytest.raises(ValueError):
        cache.put_missing(URL, 200, T0)


def test_caching_fetcher_rejects_a_bad_ttl(cache, clock):
    for ttl in (-1, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            fetcher_for(cache, clock, None, negative_ttl=ttl)


# -- network failures ------------------------------------------------------------------------


def test_network_error_propagates_and_is_not_cached(cache, clock):
    inner = ScriptedFetcher({URL: [NetworkError("timed out", source=URL), ok()]})
    fetcher = fetcher_for(cache, clock, inner)
    with pytest.raises(NetworkError, match="timed out"):
        fetcher.get(URL, max_bytes=1000)
    assert cache.get(URL) is None
    assert fetcher.get(URL, max_bytes=1000).body == BODY
    assert len(inner.calls) == 2


def test_network_error_is_not_answered_from_the_cache_online(cache, clock):
    inner = ScriptedFetcher({URL: [ok(), NetworkError("connection refused", source=URL)]})
    fetcher = fetcher_for(cache, clock, inner)
    fetcher.get(URL, max_bytes=1000)
    with pytest.raises(NetworkError, match="connection refused"):
        fetcher.get(URL, max_bytes=1000)
    assert cache.get(URL).body == BODY


def test_network_error_after_a_stale_not_found_is_not_a_not_found(cache, clock):
    inner = ScriptedFetcher({URL: [Response(url=URL, status=404), NetworkError("503")]})
    fetcher = fetcher_for(cache, clock, inner, negative_ttl=10)
    fetcher.get(URL, max_bytes=1000)
    clock.now += 11
    with pytest.raises(NetworkError):
        fetcher.get(URL, max_bytes=1000)


# -- offline ---------------------------------------------------------------------------------


def test_offline_serves_the_cached_document(cache, clock):
    fetcher_for(cache, clock, ScriptedFetcher({URL: [ok()]})).get(URL, max_bytes=1000)
    inner = ScriptedFetcher()
    clock.now += 10 * 365 * 86400
    for fetcher in (
        fetcher_for(cache, clock, inner, offline=True),
        fetcher_for(cache, clock, None),
    ):
        response = fetcher.get(URL, max_bytes=1000, etag='"whatever"')
        assert (response.status, response.body, response.from_cache) == (200, BODY, True)
    assert inner.calls == []


def test_offline_miss_is_a_clear_network_error(cache, clock):
    with pytest.raises(NetworkError) as err:
        fetcher_for(cache, clock, None).get(URL, max_bytes=1000)
    assert str(err.value) == f"{URL}: not in the cache (offline)"


def test_offline_serves_a_cached_not_found_whatever_its_age(cache, clock):
    cache.put_missing(URL, 404, T0)
    clock.now += 86400
    response = fetcher_for(cache, clock, None, negative_ttl=1).get(URL, max_bytes=1000)
    assert (response.status, response.from_cache) == (404, True)


def test_offline_cached_body_over_the_cap_is_an_error(cache, clock):
    cache.put(URL, ok(), T0)
    with pytest.raises(NetworkError, match="larger than 5 bytes"):
        fetcher_for(cache, clock, None).get(URL, max_bytes=5)


# -- corruption ------------------------------------------------------------------------------


def assert_rebuilt(directory, clock, why):
    with Cache.open(directory, clock=clock) as cache:
        assert len(cache.warnings) == 1
        warning = cache.warnings[0]
        assert warning.startswith(f"cache {directory / CACHE_FILE_NAME} was corrupt (")
        assert warning.endswith("); rebuilt")
        assert why in warning
        assert cache.get(URL) is None
        memory = cache.project_memory("demo-pkg")
        assert memory.state is MemoryState.LOST
        assert "the cache was rebuilt" in memory.problem
        cache.put(URL, ok(b"fresh"), T0)
        assert cache.get(URL).body == b"fresh"
    assert (directory / (CACHE_FILE_NAME + ".corrupt")).exists()
    with Cache.open(directory, clock=clock) as cache:
        assert cache.warnings == []
        assert cache.get(URL).body == b"fresh"


def test_cache_rejects_random_bytes(tmp_path, clock):
    (tmp_path / CACHE_FILE_NAME).write_bytes(os.urandom(8192))
    assert_rebuilt(tmp_path, clock, "not a database")


def test_cache_rejects_a_truncated_file(tmp_path, clock):
    stored_cache(tmp_path, clock, body=os.urandom(20000))
    path = tmp_path / CACHE_FILE_NAME
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert_rebuilt(tmp_path, clock, "malformed")


def test_cache_rejects_a_wrong_schema_version(tmp_path, clock):
    stored_cache(tmp_path, clock)
    db = raw(tmp_path)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.close()
    assert_rebuilt(tmp_path, clock, "unknown schema version '99'")


def test_cache_rejects_a_missing_schema_version(tmp_path, clock):
    stored_cache(tmp_path, clock)
    db = raw(tmp_path)
    db.execute("DELETE FROM meta")
    db.close()
    assert_rebuilt(tmp_path, clock, "no schema version")


def test_cache_rejects_a_database_of_someone_else(tmp_path, clock):
    db = raw(tmp_path)
    db.execute("CREATE TABLE documents (url TEXT)")
    db.close()
    assert_rebuilt(tmp_path, clock, "no schema version")


def test_cache_rejects_foreign_schema_objects(tmp_path, clock):
    stored_cache(tmp_path, clock)
    db = raw(tmp_path)
    db.execute("CREATE TRIGGER t AFTER INSERT ON documents BEGIN DELETE FROM meta; END")
    db.close()
    assert_rebuilt(tmp_path, clock, "unexpected schema object 't'")


def test_cache_rejects_a_changed_table(tmp_path, clock):
    stored_cache(tmp_path, clock)
    db = raw(tmp_path)
    db.execute("ALTER TABLE documents ADD COLUMN extra TEXT")
    db.close()
    assert_rebuilt(tmp_path, clock, "table documents has columns")


def test_cache_drops_a_body_whose_sha256_does_not_match(tmp_path, clock):
    stored_cache(tmp_path, clock)
    db = raw(tmp_path)
    db.execute("UPDATE documents SET body = ? WHERE url = ?", (b"evil", URL))
    db.close()
    inner = ScriptedFetcher({URL: [ok(b"good again", etag='"v2"')]})
    with Cache.open(tmp_path, clock=clock) as cache:
        assert cache.warnings == []
        response = fetcher_for(cache, clock, inner).get(URL, max_bytes=1000)
        assert response.body == b"good again"
        assert not response.from_cache
        assert inner.calls[0]["etag"] is None, "a corrupt entry's validators are not trusted"
        assert cache.warnings == [
            f"cache {cache.path}: the entry for {URL} was corrupt (sha256 mismatch); dropped"
        ]
        assert cache.get(URL).body == b"good again"


def test_cache_drops_a_corrupt_entry_offline(tmp_path, clock):
    stored_cache(tmp_path, clock)
    db = raw(tmp_path)
    db.execute("UPDATE documents SET sha256 = ? WHERE url = ?", ("0" * 64, URL))
    db.close()
    with Cache.open(tmp_path, clock=clock) as cache:
        with pytest.raises(NetworkError, match="not in the cache"):
            fetcher_for(cache, clock, None).get(URL, max_bytes=1000)
        assert "sha256 mismatch" in cache.warnings[0]
        assert fetcher_for(cache, clock, None).warnings is cache.warnings
    db = raw(tmp_path)
    try:
        assert db.execute("SELECT count(*) FROM documents").fetchone() == (0,)
    finally:
        db.close()


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("status", 200.5, "bad status"),
        ("status", 500, "bad status"),
        ("body", "text, not bytes", "bad body"),
        ("etag", b"\x00", "bad headers"),
        ("fetched_at", "yesterday", "bad time"),
        ("sha256", 5, "sha256 mismatch"),
    ],
)
def test_cache_drops_a_row_of_the_wrong_types(tmp_path, clock, column, value, problem):
    stored_cache(tmp_path, clock)
    db = raw(tmp_path)
    db.execute(f"UPDATE documents SET {column} = ?", (value,))
    db.close()
    with Cache.open(tmp_path, clock=clock) as cache:
        assert cache.get(URL) is None
        assert f"({problem}); dropped" in cache.warnings[0]
        assert cache.get(URL) is None


def test_cache_drops_a_not_found_with_a_body(tmp_path, clock):
    with Cache.open(tmp_path, clock=clock) as cache:
        cache.put_missing(URL, 404, T0)
    db = raw(tmp_path)
    db.execute(
        "UPDATE documents SET body = ?, sha256 = ?",
        (b"x", "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"),
    )
    db.close()
    with Cache.open(tmp_path, clock=clock) as cache:
        assert not cache.missing_is_fresh(URL, T0, 300)
        assert "bad body" in cache.warnings[0]


def test_database_error_on_a_read_rebuilds(cache, clock):
    cache.put(URL, ok(), T0)
    db = raw(cache.path.parent)
    db.execute("DROP TABLE documents")
    db.close()
    assert cache.get(URL) is None
    assert len(cache.warnings) == 1
    assert "no such table: documents" in cache.warnings[0]
    assert cache.warnings[0].endswith("); rebuilt")
    cache.put(URL, ok(b"after"), T0)
    assert cache.get(URL).body == b"after"


def test_database_error_on_a_write_rebuilds(cache, clock):
    db = raw(cache.path.parent)
    db.execute("DROP TABLE project_keys")
    db.close()
    cache.record_project_statement(statement(A), T0)
    assert "recording the trust statement of demo-pkg" in cache.warnings[0]
    assert cache.warnings[0].endswith("); rebuilt")
    assert cache.project_memory("demo-pkg").state is MemoryState.LOST
    cache.record_project_statement(statement(A), T0)
    assert known(cache) == {A}


def test_a_busy_cache_is_not_corrupt(cache, clock, monkeypatch):
    cache.put(URL, ok(), T0)
    locker = raw(cache.path.parent)
    try:
        locker.execute("PRAGMA busy_timeout = 0")
        locker.execute("BEGIN EXCLUSIVE")
        cache._conn.execute("PRAGMA busy_timeout = 10")
        cache.put(URL, ok(b"new"), T0)
        assert cache.get(URL) is None
        assert len(cache.warnings) == 2
        assert all("database is locked" in w and w.endswith("not cached") for w in cache.warnings)
        locker.execute("ROLLBACK")
    finally:
        locker.close()
    assert cache.get(URL).body == BODY
    assert not (cache.path.parent / (CACHE_FILE_NAME + ".corrupt")).exists()


def test_a_cache_that_cannot_be_rebuilt_is_disabled(cache, clock, monkeypatch):
    def refuse(path, clock, why):
        raise CacheError("no", source=str(path))

    monkeypatch.setattr(cache_module, "_rebuild", refuse)
    db = raw(cache.path.parent)
    db.execute("DROP TABLE documents")
    db.close()
    assert cache.get(URL) is None
    assert "could not be rebuilt" in cache.warnings[0]
    cache.put(URL, ok(), T0)
    assert cache.get(URL) is None
    cache.record_project_statement(statement(A, project="x"), T0)
    assert cache.project_memory("x").state is MemoryState.LOST


def test_open_fails_cleanly_when_the_rebuild_cannot_move_the_file(tmp_path, clock, monkeypatch):
    (tmp_path / CACHE_FILE_NAME).write_bytes(os.urandom(4096))

    def refuse(self, target):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(tmp_path), "replace", refuse)
    with pytest.raises(CacheError, match="cannot move the corrupt cache aside"):
        Cache.open(tmp_path, clock=clock)


# -- crashes ---------------------------------------------------------------------------------


def test_abandoned_write_transaction_leaves_the_old_entry(tmp_path, clock):
    stored_cache(tmp_path, clock)
    db = raw(tmp_path)
    db.execute("BEGIN IMMEDIATE")
    db.execute("UPDATE documents SET body = ?, sha256 = ? WHERE url = ?", (b"half", "x", URL))
    db.execute("DELETE FROM project_keys")
    db.close()  # no commit
    with Cache.open(tmp_path, clock=clock) as cache:
        assert cache.warnings == []
        assert cache.get(URL).body == BODY
        assert known(cache) == {A}


def test_process_killed_mid_write_leaves_the_old_entry(tmp_path, clock):
    stored_cache(tmp_path, clock)
    # A tiny page cache makes SQLite spill the half-written pages into the database file
    # before the commit: only the hot journal can restore the old entry.
    script = textwrap.dedent(f"""
        import os, sqlite3
        db = sqlite3.connect({str(tmp_path / CACHE_FILE_NAME)!r}, isolation_level=None)
        db.execute("PRAGMA cache_size = 1")
        db.execute("BEGIN IMMEDIATE")
        for i in range(200):
            db.execute("INSERT INTO documents VALUES (?, 200, ?, NULL, NULL, NULL, 0, 'x', NULL)",
                       (f"u{{i}}", os.urandom(4000)))
        db.execute("UPDATE documents SET body = x'00' WHERE url = ?", ({URL!r},))
        os._exit(9)
    """)
    result = subprocess.run([sys.executable, "-c", script], check=False, timeout=30)
    assert result.returncode == 9
    assert (tmp_path / (CACHE_FILE_NAME + "-journal")).exists()
    with Cache.open(tmp_path, clock=clock) as cache:
        assert cache.warnings == []
        assert cache.get(URL).body == BODY
        assert cache.get("u0") is None
    assert not (tmp_path / (CACHE_FILE_NAME + ".corrupt")).exists()


@pytest.mark.parametrize(
    ("exc", "corrupt"),
    [
        (sqlite3.DatabaseError("database disk image is malformed"), True),
        (sqlite3.OperationalError("no such table: documents"), True),
        (sqlite3.IntegrityError("NOT NULL constraint failed"), True),
        (sqlite3.OperationalError("database is locked"), False),
        (sqlite3.ProgrammingError("Cannot operate on a closed database."), False),
    ],
)
def test_corruption_is_told_from_busy_without_error_codes(exc, corrupt):
    # Python 3.10 has no sqlite_errorcode; exceptions built by hand have none either.
    assert getattr(exc, "sqlite_errorcode", None) is None
    assert cache_module._is_corruption(exc) is corrupt


def test_closed_cache_finds_and_stores_nothing(tmp_path, clock):
    cache = Cache.open(tmp_path, clock=clock)
    cache.put(URL, ok(), T0)
    cache.close()
    cache.close()
    assert cache.get(URL) is None
    cache.put(URL, ok(), T0)
    assert cache.project_memory("demo-pkg").state is MemoryState.LOST
    assert cache.remembered_certificate(A).state is MemoryState.LOST


def test_unclosed_cache_is_closed_when_collected(tmp_path, clock):
    cache = Cache.open(tmp_path, clock=clock)
    finalizer = cache._finalizer
    del cache
    gc.collect()
    assert not finalizer.alive


# -- trust memory ----------------------------------------------------------------------------


def test_first_sighting_is_never_seen(cache):
    assert cache.project_memory("demo-pkg").state is MemoryState.NEVER
    assert cache.remembered_certificate(A).state is MemoryState.NEVER
    assert cache.memory_lost() is None


def test_statement_is_remembered_whole(cache):
    retiring = statement(A, B, retired=[(B, 1_714_521_600)])
    cache.record_project_statement(retiring, T0)
    memory = cache.project_memory("demo-pkg")
    assert memory.state is MemoryState.KNOWN
    assert memory.statement == retiring
    assert memory.statement.signing() == {A: None, B: 1_714_521_600}
    assert (memory.first_seen, memory.last_seen) == (T0, T0)


def test_unchanged_statement_only_moves_last_seen(cache):
    cache.record_project_statement(statement(A, B), T0)
    cache.record_project_statement(statement(B, A, A), T0 + 10)
    (record,) = cache.statement_history("demo-pkg")
    assert (record.statement.fingerprints, record.first_seen, record.last_seen) == (
        (A, B),
        T0,
        T0 + 10,
    )


def test_changed_statement_goes_to_history(cache):
    cache.record_project_statement(statement(A, B), T0)
    cache.record_project_statement(statement(A, B, role="Viewer"), T0 + 5)
    cache.record_project_statement(statement(A, C), T0 + 9)
    history = cache.statement_history("demo-pkg")
    assert [
        (r.statement.grants[0].role, r.statement.fingerprints, r.first_seen, r.last_seen)
        for r in history
    ] == [
        ("Owner", (A, B), T0, T0),
        ("Viewer", (A, B), T0 + 5, T0 + 5),
        ("Owner", (A, C), T0 + 9, T0 + 9),
    ]
    assert known(cache) == {A, C}


def test_project_names_are_normalised(cache):
    cache.record_project_statement(statement(A, project="Demo_Pkg"), T0)
    assert known(cache, "demo.pkg") == {A}
    assert cache.project_memory("other").state is MemoryState.NEVER


def test_statement_survives_reopening(tmp_path, clock):
    stored_cache(tmp_path, clock)
    with Cache.open(tmp_path, clock=clock) as cache:
        assert known(cache) == {A}


@pytest.mark.parametrize(
    "stored", ["not json", '{"a": 1}', "[1, 2]", "[" * 100_000, '{"grants":[],"project":"other"}']
)
def test_corrupt_statement_is_lost_not_a_first_sighting(tmp_path, clock, stored):
    stored_cache(tmp_path, clock)
    db = raw(tmp_path)
    db.execute("UPDATE project_keys SET statement = ?", (stored,))
    db.close()
    with Cache.open(tmp_path, clock=clock) as cache:
        memory = cache.project_memory("demo-pkg")
        assert memory.state is MemoryState.LOST
        assert "the remembered trust statement of demo-pkg is corrupt" in memory.problem
        assert cache.statement_history("demo-pkg") == ()
        cache.record_project_statement(statement(B), T0 + 1)
        assert known(cache) == {B}


def test_corrupt_statement_times_are_lost(tmp_path, clock):
    stored_cache(tmp_path, clock)
    db = raw(tmp_path)
    db.execute("UPDATE project_keys SET last_seen = 'later'")
    db.close()
    with Cache.open(tmp_path, clock=clock) as cache:
        assert cache.project_memory("demo-pkg").state is MemoryState.LOST
        assert cache.statement_history("demo-pkg") == ()
        assert cache.warnings[-1].endswith(
            "a recorded trust statement of demo-pkg was corrupt; skipped"
        )


def test_rebuilt_cache_loses_memory_loudly(tmp_path, clock):
    stored_cache(tmp_path, clock)
    db = raw(tmp_path)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.close()
    with Cache.open(tmp_path, clock=clock) as cache:
        assert "unknown schema version '99'" in cache.memory_lost()
        for project in ("demo-pkg", "never-seen"):
            assert cache.project_memory(project).state is MemoryState.LOST
        assert cache.remembered_certificate(A).state is MemoryState.LOST
        cache.record_project_statement(statement(A), T0 + 1)
        cache.record_certificate(A, b"packets", T0 + 1)
        assert known(cache) == {A}
        assert cache.remembered_certificate(A).data == b"packets"
    with Cache.open(tmp_path, clock=clock) as cache:
        assert cache.memory_lost() is not None  # stays: other projects are still unknown


def test_unreadable_memory_is_lost_not_never(cache, monkeypatch):
    monkeypatch.setattr(cache, "_conn", _FailingConnection(cache._conn))
    assert cache.project_memory("demo-pkg").state is MemoryState.LOST
    assert cache.remembered_certificate(A).state is MemoryState.LOST
    assert cache.memory_lost() == "the cache cannot be read"
    assert not (cache.path.parent / (CACHE_FILE_NAME + ".corrupt")).exists()


class _FailingConnection:
    """A connection whose reads fail as a busy database does."""

    def __init__(self, inner):
        self.inner = inner

    def execute(self, *args):
        raise sqlite3.OperationalError("database is locked")

    def close(self):
        self.inner.close()


def test_certificate_memory_round_trip(cache):
    cache.record_certificate(A.lower(), b"\x99one", T0)
    assert cache.remembered_certificate(A).data == b"\x99one"
    cache.record_certificate(A, b"\x99one\x88two", T0 + 1)
    memory = cache.remembered_certificate(A)
    assert (memory.state, memory.data) == (MemoryState.KNOWN, b"\x99one\x88two")
    db = raw(cache.path.parent)
    assert db.execute("SELECT first_seen, last_seen FROM certificates").fetchall() == [(T0, T0 + 1)]
    db.close()


@pytest.mark.parametrize(
    ("column", "value"), [("packets", b"changed"), ("packets", "text"), ("sha256", "0" * 64)]
)
def test_corrupt_certificate_is_lost_not_a_first_sighting(cache, column, value):
    cache.record_certificate(A, b"\x99one", T0)
    db = raw(cache.path.parent)
    db.execute(f"UPDATE certificates SET {column} = ?", (value,))
    db.close()
    memory = cache.remembered_certificate(A)
    assert memory.state is MemoryState.LOST
    assert f"the remembered certificate {A} is corrupt" in memory.problem


# -- schema 1 ------------------------------------------------------------------------------

_V1 = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE documents (url TEXT PRIMARY KEY, status INTEGER NOT NULL,
        body BLOB NOT NULL, content_type TEXT, etag TEXT, last_modified TEXT,
        fetched_at REAL NOT NULL, sha256 TEXT NOT NULL)""",
    """CREATE TABLE project_keys (project TEXT PRIMARY KEY, fingerprints TEXT NOT NULL,
        first_seen REAL NOT NULL, last_seen REAL NOT NULL)""",
    """CREATE TABLE project_key_history (id INTEGER PRIMARY KEY AUTOINCREMENT,
        project TEXT NOT NULL, fingerprints TEXT NOT NULL, first_seen REAL NOT NULL,
        last_seen REAL NOT NULL, replaced_at REAL NOT NULL)""",
    "CREATE INDEX project_key_history_by_project ON project_key_history (project, id)",
)


def v1_cache(directory, rows):
    """A cache file as schema 1 wrote it, remembering fingerprint sets."""
    db = raw(directory)
    for statement_sql in _V1:
        db.execute(statement_sql)
    db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    db.execute(
        "INSERT INTO documents VALUES (?, 200, ?, NULL, NULL, NULL, ?, ?)",
        (URL, BODY, T0, hashlib.sha256(BODY).hexdigest()),
    )
    for project, fingerprints in rows:
        db.execute(
            "INSERT INTO project_keys VALUES (?, ?, ?, ?)", (project, fingerprints, T0, T0 + 1)
        )
    db.execute(
        "INSERT INTO project_key_history (project, fingerprints, first_seen, "
        "last_seen, replaced_at) VALUES ('demo-pkg', ?, 1, 2, 3)",
        (f'["{C}"]',),
    )
    db.close()


def test_schema_1_is_migrated_with_its_memory(tmp_path, clock):
    v1_cache(tmp_path, [("demo-pkg", f'["{A}", "{B}"]')])
    with Cache.open(tmp_path, clock=clock) as cache:
        assert cache.warnings == []
        assert cache.get(URL).body == BODY
        memory = cache.project_memory("demo-pkg")
        assert memory.state is MemoryState.KNOWN
        assert memory.statement.legacy
        assert memory.statement.fingerprints == (A, B)
        assert (memory.first_seen, memory.last_seen) == (T0, T0 + 1)
        assert [r.statement.fingerprints for r in cache.statement_history("demo-pkg")] == [
            (C,),
            (A, B),
        ]
        assert cache.memory_lost() is None
        assert cache.remembered_certificate(A).state is MemoryState.NEVER
    db = raw(tmp_path)
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
        str(SCHEMA_VERSION),
    )
    db.close()


def test_schema_1_with_a_corrupt_key_set_loses_it_loudly(tmp_path, clock):
    v1_cache(tmp_path, [("demo-pkg", "not json"), ("other", f'["{A}"]')])
    with Cache.open(tmp_path, clock=clock) as cache:
        assert cache.project_memory("other").statement.fingerprints == (A,)
        memory = cache.project_memory("demo-pkg")
        assert memory.state is MemoryState.LOST
        assert "a key set of demo-pkg was corrupt" in memory.problem


def test_schema_1_with_changed_tables_is_rebuilt(tmp_path, clock):
    v1_cache(tmp_path, [])
    db = raw(tmp_path)
    db.execute("ALTER TABLE project_keys ADD COLUMN extra TEXT")
    db.close()
    with Cache.open(tmp_path, clock=clock) as cache:
        assert "table project_keys has columns" in cache.warnings[0]
        assert cache.project_memory("demo-pkg").state is MemoryState.LOST


# -- credentials never reach the cache -------------------------------------------------------

SECRET = "s3cret-t0ken"
AUTHED = URL.replace("https://", f"https://alice:{SECRET}@")


def dump(directory):
    # closing(): sqlite3's own context manager never closes (Python 3.13 warns)
    with contextlib.closing(raw(directory)) as connection:
        return "\n".join(connection.iterdump())


def test_caching_fetcher_keys_documents_without_credentials(tmp_path, clock):
    inner = ScriptedFetcher({AUTHED: [ok(), not_modified(etag='"v1"')]})
    with Cache.open(tmp_path, clock=clock) as cache:
        fetcher = fetcher_for(cache, clock, inner)
        fetcher.get(AUTHED, max_bytes=1000)
        # the secret went to the transport, and the revalidation finds the same row
        assert fetcher.get(AUTHED, max_bytes=1000).from_cache
        assert [call["url"] for call in inner.calls] == [AUTHED, AUTHED]
        assert cache.get(URL) is not None
        cache.put_missing(OTHER.replace("https://", f"https://{SECRET}@"), 404, T0)
        assert cache.get(OTHER) is not None
    assert SECRET not in dump(tmp_path)
    assert "alice" not in dump(tmp_path)


def test_caching_fetcher_rejects_with_errors_that_name_no_credentials(cache, clock):
    inner = ScriptedFetcher({AUTHED: [Response(url=URL, status=302)]})
    errors = []
    for fetcher in (fetcher_for(cache, clock, inner), fetcher_for(cache, clock, None)):
        with pytest.raises(NetworkError) as caught:
            fetcher.get(AUTHED, max_bytes=1000)
        errors.append(str(caught.value))
    assert [e for e in errors if SECRET in e or "alice" in e] == []
    assert errors[1] == f"{URL}: not in the cache (offline)"


@pytest.mark.parametrize("bad", ["x" * 300, "nul\x00byte"])
def test_cache_open_rejects_an_unusable_directory_path_with_a_cache_error(tmp_path, bad):
    with Cache.open(tmp_path / "good", clock=lambda: 0.0):  # the good twin
        pass
    with pytest.raises(CacheError, match="cannot create the cache directory"):
        Cache.open(tmp_path / bad, clock=lambda: 0.0)


def test_statement_history_keeps_the_newest_entries_only(cache, monkeypatch):
    import pgpverify.index.cache as cache_module

    monkeypatch.setattr(cache_module, "HISTORY_KEPT", 3)
    statements = [statement(A, B), statement(A, C), statement(B, C)]
    for i in range(10):  # an index that flips its answer on every run
        cache.record_project_statement(statements[i % 3], T0 + i)
    history = cache.statement_history("demo-pkg")
    # three replaced statements, then the current one
    assert [r.first_seen for r in history] == [T0 + 6, T0 + 7, T0 + 8, T0 + 9]
    other = statement(A, project="other")
    cache.record_project_statement(other, T0)
    assert len(cache.statement_history("demo-pkg")) == 4  # per project


# -- one transaction per run -----------------------------------------------------------------


def _traced(cache):
    statements = []
    cache._conn.set_trace_callback(statements.append)
    return statements


def _run_of_writes(cache, clock):
    urls = [f"https://index.example/pgp/keys/{n}.asc" for n in range(3)]
    inner = ScriptedFetcher({url: [ok(body=url.encode())] for url in urls})
    inner.add(URL, Response(url=URL, status=404))
    fetcher = fetcher_for(cache, clock, inner)
    for url in [*urls, URL]:
        fetcher.get(url, max_bytes=1 << 20)
    cache.record_project_statement(statement(A), T0)
    cache.record_certificate(A, b"packets", T0)
    return urls


def test_cache_one_transaction_commits_once_per_run(tmp_path, clock):
    cache = Cache.open(tmp_path, clock=clock, one_transaction=True)
    statements = _traced(cache)
    urls = _run_of_writes(cache, clock)
    assert not any(s.startswith("COMMIT") for s in statements)  # nothing written to disk yet
    cache.close()
    assert cache.commits == 1
    assert [s for s in statements if s.startswith(("BEGIN", "COMMIT"))] == [
        "BEGIN IMMEDIATE",
        "COMMIT",
    ]
    with Cache.open(tmp_path, clock=clock) as again:
        assert [again.get(url).body for url in urls] == [url.encode() for url in urls]
        assert not again.get(URL).found
        assert known(again) == {A}
        assert again.remembered_certificate(A).data == b"packets"


def test_cache_without_one_transaction_commits_every_write(tmp_path, clock):
    with Cache.open(tmp_path, clock=clock) as cache:
        statements = _traced(cache)
        _run_of_writes(cache, clock)
        assert cache.commits == 6
        assert sum(s.startswith("COMMIT") for s in statements) == 6


def test_cache_one_transaction_rejects_a_failed_write_alone(tmp_path, clock):
    # a write that fails half-way is undone (its savepoint), the run's other writes stay
    cache = Cache.open(tmp_path, clock=clock, one_transaction=True)
    cache.put(URL, ok(), T0)
    conn = cache._conn

    def half_a_write():
        with cache._transaction(conn):
            conn.execute("DELETE FROM documents")
            conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', 'x')")

    with pytest.raises(sqlite3.IntegrityError):
        half_a_write()
    cache.close()
    with Cache.open(tmp_path, clock=clock) as again:
        assert again.get(URL).body == BODY


def test_cache_one_transaction_run_never_closed_leaves_the_file(tmp_path, clock):
    stored_cache(tmp_path, clock)
    cache = Cache.open(tmp_path, clock=clock, one_transaction=True)
    cache.put(URL, ok(b"new"), T0 + 1)
    cache._conn.rollback()  # the process died before close: SQLite rolls back the journal
    cache.close()
    assert cache.commits == 0
    with Cache.open(tmp_path, clock=clock) as again:
        assert again.get(URL).body == BODY


# -- HTTP freshness: Cache-Control max-age ---------------------------------------------------


def fresh_ok(max_age, body=BODY):
    return dataclasses.replace(ok(body), max_age=max_age)


def test_cache_serves_a_fresh_document_without_asking(cache, clock):
    inner = ScriptedFetcher({URL: [fresh_ok(60)]})
    fetcher = fetcher_for(cache, clock, inner)
    assert fetcher.get(URL, max_bytes=1000).body == BODY
    clock.now = T0 + 59
    again = fetcher.get(URL, max_bytes=1000)
    assert (again.body, again.from_cache) == (BODY, True)
    assert len(inner.calls) == 1  # no request while fresh


def test_cache_revalidates_once_stale_and_a_304_renews_freshness(cache, clock):
    inner = ScriptedFetcher({URL: [fresh_ok(60), dataclasses.replace(not_modified(), max_age=120)]})
    fetcher = fetcher_for(cache, clock, inner)
    fetcher.get(URL, max_bytes=1000)
    clock.now = T0 + 60  # max-age reached: ask again, conditionally
    assert fetcher.get(URL, max_bytes=1000).from_cache
    assert inner.calls[-1]["etag"] == '"v1"'
    clock.now = T0 + 60 + 119
    assert fetcher.get(URL, max_bytes=1000).from_cache
    assert len(inner.calls) == 2


@pytest.mark.parametrize("max_age", [None, 0])
def test_cache_rejects_freshness_the_server_did_not_give(cache, clock, max_age):
    inner = ScriptedFetcher({URL: [fresh_ok(max_age), not_modified()]})
    fetcher = fetcher_for(cache, clock, inner)
    fetcher.get(URL, max_bytes=1000)
    fetcher.get(URL, max_bytes=1000)
    assert len(inner.calls) == 2


def test_cache_rejects_freshness_over_the_cap(cache, clock):
    inner = ScriptedFetcher({URL: [fresh_ok(10**9), not_modified()]})
    fetcher = fetcher_for(cache, clock, inner)
    fetcher.get(URL, max_bytes=1000)
    assert cache.get(URL).fresh_until == T0 + cache_module.FRESHNESS_CAP
    clock.now = T0 + cache_module.FRESHNESS_CAP
    fetcher.get(URL, max_bytes=1000)
    assert len(inner.calls) == 2


def test_cache_rejects_freshness_when_the_clock_went_back(cache, clock):
    inner = ScriptedFetcher({URL: [fresh_ok(600), not_modified()]})
    fetcher = fetcher_for(cache, clock, inner)
    fetcher.get(URL, max_bytes=1000)
    clock.now = T0 - 1
    fetcher.get(URL, max_bytes=1000)
    assert len(inner.calls) == 2


def test_cache_freshness_is_not_used_when_the_caller_validates(cache, clock):
    inner = ScriptedFetcher({URL: [fresh_ok(600), not_modified(etag='"mine"')]})
    fetcher = fetcher_for(cache, clock, inner)
    fetcher.get(URL, max_bytes=1000)
    assert fetcher.get(URL, max_bytes=1000, etag='"mine"').status == 304
    assert len(inner.calls) == 2


def test_cache_rejects_a_corrupt_freshness_time(tmp_path, clock):
    stored_cache(tmp_path, clock)
    db = raw(tmp_path)
    db.execute("UPDATE documents SET fresh_until = 'soon'")
    db.close()
    with Cache.open(tmp_path, clock=clock) as cache:
        assert cache.get(URL) is None
        assert any("bad time" in w for w in cache.warnings)


def test_cache_schema_2_gains_freshness_in_place(tmp_path, clock):
    stored_cache(tmp_path, clock)
    db = raw(tmp_path)
    db.execute("BEGIN")
    db.execute("ALTER TABLE documents DROP COLUMN fresh_until")
    db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    db.execute("COMMIT")
    db.close()
    with Cache.open(tmp_path, clock=clock) as cache:
        assert not cache.warnings
        assert cache.get(URL).body == BODY
        assert cache.get(URL).fresh_until is None
        assert known(cache) == {A}
    db = raw(tmp_path)
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
        str(SCHEMA_VERSION),
    )
    db.close()


# -- streaming: distribution files pass through, never cached --------------------------------


class StreamingScript(ScriptedFetcher):
    """A ScriptedFetcher that also streams (its get answers, as a Download)."""

    def __init__(self, script=None):
        super().__init__(script)
        self.streamed = []

    @contextlib.contextmanager
    def stream(self, url, *, max_bytes):
        self.streamed.append((url, max_bytes))
        answer = self.get(url, max_bytes=max_bytes)
        yield Download(url=answer.url, status=answer.status, body=io.BytesIO(answer.body))


def test_caching_fetcher_streams_through_without_caching(cache, clock):
    inner = StreamingScript({URL: [ok(), ok()]})
    fetcher = fetcher_for(cache, clock, inner)
    for _ in range(2):  # asked twice: streamed twice, never answered from or stored in the cache
        with fetcher.stream(URL, max_bytes=1000) as download:
            assert download.body.read() == BODY
    assert inner.streamed == [(URL, 1000), (URL, 1000)]
    assert cache.get(URL) is None


def test_caching_fetcher_rejects_a_stream_offline(cache, clock):
    cache.put(URL, ok(), T0)  # even a cached copy: a file is never served from the cache
    with (
        pytest.raises(NetworkError, match="offline"),
        fetcher_for(cache, clock, None).stream(URL, max_bytes=1000),
    ):
        pass


def test_caching_fetcher_rejects_a_body_over_the_cap_as_response_too_large(cache, clock):
    inner = ScriptedFetcher({URL: [ok(b"x" * 11)]})
    with pytest.raises(ResponseTooLargeError, match="larger than 10 bytes"):
        fetcher_for(cache, clock, inner).get(URL, max_bytes=10)
    cache.put(URL, ok(), T0)
    with pytest.raises(ResponseTooLargeError, match="larger than 5 bytes"):
        fetcher_for(cache, clock, None).get(URL, max_bytes=5)
