"""The local cache: documents fetched from an index, and the key sets seen per project.

One SQLite file, ``<directory>/cache.sqlite3`` (:func:`default_cache_dir` by default):

``meta``
    ``key``/``value`` text pairs; ``schema_version`` must be :data:`SCHEMA_VERSION`.
``documents``
    one row per URL: the last answer (200 with its body, or a 404/410 "missing" entry), its
    validators (``etag``, ``last_modified``), ``fetched_at`` and the ``sha256`` of the body.
``project_keys``
    per normalized project name, the trust statement last accepted (users, roles, primary
    fingerprints, retirement dates: :class:`~pgpverify.trust.memory.TrustStatement` as
    canonical JSON), when it was first and last seen.
``project_key_history``
    every statement a project's ``project_keys`` row held before it changed, oldest first
    (the newest :data:`HISTORY_KEPT` per project).
``certificates``
    per primary fingerprint, the union of every copy of its certificate seen
    (:func:`~pgpverify.trust.memory.union_certificate`), with its sha256: certificates only
    grow, so a revocation once seen is never lost to an older copy.

Schema 1 (fingerprints only, no certificates) is migrated in place: each remembered key
set becomes a "legacy" statement (compared by fingerprint until the next accepted run).
A memory that existed and can no longer be read is never a first sighting: rebuilding a
corrupt file, or dropping a corrupt row, records ``memory_lost`` in ``meta``, and
:meth:`Cache.project_memory` then answers LOST (not NEVER) for every project without a row.

Threat model: the cache is a convenience and a memory, not a trust anchor. Every write is
one SQLite transaction (rollback journal), so a crash leaves the previous entry or the new
one, never half of one. What is read back is checked before use: the file must pass
``PRAGMA quick_check`` and carry our schema version, every body must match its sha256, every
field its type. Anything else is corruption: the entry is dropped, or the whole file moved
aside to ``cache.sqlite3.corrupt`` and rebuilt empty, with a line in :attr:`Cache.warnings`;
it is never trusted. No :mod:`sqlite3` exception leaves this module; a cache that cannot be
used at all raises :class:`~pgpverify.errors.CacheError`.

:class:`CachingFetcher` puts the cache in front of any :class:`~pgpverify.index.fetch.Fetcher`:
conditional requests for documents it holds, "not found" answers remembered for a short
time, and an explicit offline mode. A server that did not answer is a
:class:`~pgpverify.errors.NetworkError`, never a "not found" and never silently a stale copy.

Nothing here reads the clock: ``now`` comes in as a parameter, or as ``clock()``.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import json
import math
import os
import sqlite3
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeGuard, final

import platformdirs
from packaging.utils import canonicalize_name

from pgpverify.errors import CacheError, NetworkError, ResponseTooLargeError
from pgpverify.index.fetch import Download, Fetcher, Response, open_stream
from pgpverify.trust.memory import StatementFormatError, TrustStatement
from pgpverify.urls import without_credentials

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

__all__ = [
    "CACHE_FILE_NAME",
    "HISTORY_KEPT",
    "SCHEMA_VERSION",
    "Cache",
    "CachedDocument",
    "CachingFetcher",
    "CertificateMemory",
    "MemoryState",
    "ProjectMemory",
    "StatementRecord",
    "default_cache_dir",
]

#: Version of the tables below; a file with any other version is rebuilt (1 and 2 are
#: upgraded in place: 2 -> 3 adds ``documents.fresh_until``).
SCHEMA_VERSION = 3
#: The longest a server's ``Cache-Control: max-age`` keeps a document from being asked
#: again: a key or record changed on the index (a revocation) is seen within a day.
FRESHNESS_CAP = 86400.0
#: The cache file inside the cache directory.
CACHE_FILE_NAME = "cache.sqlite3"
#: Replaced trust statements kept per project (``project_key_history``), newest first.
HISTORY_KEPT = 256

#: Statuses stored as "missing" (negative) entries.
_MISSING = frozenset({404, 410})
#: Seconds to wait for another process's write lock before giving up.
_BUSY_TIMEOUT = 5.0
#: SQLite's files beside the database (rollback journal, WAL).
_SIDE_FILES = ("-journal", "-wal", "-shm")

_TABLES: dict[str, tuple[str, ...]] = {
    "meta": ("key", "value"),
    "documents": (
        "url",
        "status",
        "body",
        "content_type",
        "etag",
        "last_modified",
        "fetched_at",
        "sha256",
        "fresh_until",
    ),
    "project_keys": ("project", "statement", "first_seen", "last_seen"),
    "project_key_history": (
        "id",
        "project",
        "statement",
        "first_seen",
        "last_seen",
        "replaced_at",
    ),
    "certificates": ("fingerprint", "packets", "sha256", "first_seen", "last_seen"),
}
#: Schema 1's memory tables, migrated by :func:`_migrate_v1`.
_TABLES_V1: dict[str, tuple[str, ...]] = {
    "project_keys": ("project", "fingerprints", "first_seen", "last_seen"),
    "project_key_history": (
        "id",
        "project",
        "fingerprints",
        "first_seen",
        "last_seen",
        "replaced_at",
    ),
}

_CERTIFICATES_TABLE = """CREATE TABLE certificates (
        fingerprint TEXT PRIMARY KEY,
        packets BLOB NOT NULL,
        sha256 TEXT NOT NULL,
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL
    )"""
_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE documents (
        url TEXT PRIMARY KEY,
        status INTEGER NOT NULL,
        body BLOB NOT NULL,
        content_type TEXT,
        etag TEXT,
        last_modified TEXT,
        fetched_at REAL NOT NULL,
        sha256 TEXT NOT NULL,
        fresh_until REAL
    )""",
    """CREATE TABLE project_keys (
        project TEXT PRIMARY KEY,
        statement TEXT NOT NULL,
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL
    )""",
    """CREATE TABLE project_key_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        project TEXT NOT NULL,
        statement TEXT NOT NULL,
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL,
        replaced_at REAL NOT NULL
    )""",
    "CREATE INDEX project_key_history_by_project ON project_key_history (project, id)",
    _CERTIFICATES_TABLE,
)
#: Schema objects we create; anything else in sqlite_master (a trigger, a view) is foreign.
_OBJECTS = frozenset(
    {("table", name) for name in _TABLES}
    | {("index", "project_key_history_by_project"), ("table", "sqlite_sequence")}
)

#: Primary result codes that say "not now" or "not here" rather than "this file is bad":
#: PERM ABORT BUSY LOCKED NOMEM READONLY INTERRUPT IOERR FULL CANTOPEN PROTOCOL NOLFS AUTH.
_ENVIRONMENT_CODES = frozenset({3, 4, 5, 6, 7, 8, 9, 10, 13, 14, 15, 22, 23})


def default_cache_dir() -> Path:
    """The per-user cache directory (``~/.cache/pgpverify`` on Linux)."""
    return platformdirs.user_cache_path("pgpverify")


@dataclass(frozen=True, slots=True)
class CachedDocument:
    """One cached answer: a 200 with its body, or a 404/410 remembered as missing."""

    url: str
    status: int
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    #: when the answer was received (or last revalidated), seconds since the epoch
    fetched_at: float
    #: until when the server said it stays fresh (``Cache-Control: max-age``, at most
    #: :data:`FRESHNESS_CAP`); None: revalidate before every use
    fresh_until: float | None = None

    def is_fresh(self, now: float) -> bool:
        """Whether a 200 entry may be used at ``now`` without asking the server.

        Never when the clock is before ``fetched_at`` (it went back).
        """
        return (
            self.found
            and self.fresh_until is not None
            and self.fetched_at <= now < self.fresh_until
        )

    @property
    def found(self) -> bool:
        """Whether this is a stored document (200), not a missing entry (404/410)."""
        return self.status == 200

    def to_response(self) -> Response:
        """This entry as a Response marked ``from_cache``."""
        return Response(
            url=self.url,
            status=self.status,
            body=self.body,
            content_type=self.content_type,
            etag=self.etag,
            last_modified=self.last_modified,
            from_cache=True,
        )


class MemoryState(enum.Enum):
    """What the cache can say about a project's statement or a key's certificate."""

    #: nothing was ever recorded (and no memory was lost since this file was created)
    NEVER = "never"
    #: recorded, and read back intact
    KNOWN = "known"
    #: there may have been a record, but it cannot be read: never a first sighting
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class ProjectMemory:
    """The trust statement remembered for a project (``statement`` when KNOWN)."""

    state: MemoryState
    statement: TrustStatement | None = None
    first_seen: float | None = None
    last_seen: float | None = None
    #: why a LOST memory cannot be read
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class CertificateMemory:
    """Every packet remembered for a primary fingerprint (binary ``data`` when KNOWN)."""

    state: MemoryState
    data: bytes | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class StatementRecord:
    """One statement a project made, and the period this machine saw it."""

    statement: TrustStatement
    first_seen: float
    last_seen: float


class _CorruptError(Exception):
    """Internal: the file cannot be trusted; the message says what was found."""


@final
class Cache:
    """The SQLite cache file. Open it with :meth:`open`; close it (or use ``with``).

    ``warnings`` collects one line per problem met and repaired (a corrupt file rebuilt, a
    corrupt entry dropped, a write that failed), for the caller to show.
    """

    def __init__(
        self,
        path: Path,
        connection: sqlite3.Connection,
        *,
        clock: Callable[[], float],
        warnings: list[str] | None = None,
        one_transaction: bool = False,
    ) -> None:
        self.path = path
        self.warnings: list[str] = warnings if warnings is not None else []
        #: transactions committed (with ``one_transaction``: at most one, at close)
        self.commits = 0
        self._one_transaction = one_transaction
        self._clock = clock
        self._conn: sqlite3.Connection | None = None
        self._finalizer: weakref.finalize[[sqlite3.Connection], Cache] | None = None
        self._attach(connection)

    # -- opening, checking, rebuilding ---------------------------------------------------

    @classmethod
    def open(
        cls,
        directory: Path | str,
        *,
        clock: Callable[[], float],
        one_transaction: bool = False,
    ) -> Cache:
        """Open (creating or rebuilding as needed) ``<directory>/cache.sqlite3``.

        With ``one_transaction`` (a command's run), every write of the run goes into one
        transaction committed by :meth:`close` (one ``fdatasync`` of the journal and one of
        the file, instead of two per write); each write is still all-or-nothing inside it
        (a savepoint), and a run that never closes the cache leaves the file as it was.
        The write lock is held from the first write to the close.

        Raises CacheError when the directory cannot be created or written, or the file
        cannot be opened even after a rebuild.
        """
        directory = Path(directory)
        _check_directory(directory)
        path = directory / CACHE_FILE_NAME
        if path.exists() and not path.is_file():
            raise CacheError("exists but is not a file", source=str(path))
        warnings: list[str] = []
        try:
            connection = _open_checked(path, clock)
        except _CorruptError as corrupt:
            connection = _rebuild(path, clock, str(corrupt))
            warnings.append(f"cache {path} was corrupt ({corrupt}); rebuilt")
        return cls(
            path, connection, clock=clock, warnings=warnings, one_transaction=one_transaction
        )

    def close(self) -> None:
        """Commit the run's writes (``one_transaction``) and close the connection.

        Later calls find nothing and store nothing.
        """
        conn = self._conn
        if conn is not None and self._one_transaction and conn.in_transaction:
            try:
                conn.commit()
            except sqlite3.Error as exc:
                self.warnings.append(
                    f"cache {self.path}: saving this run's entries failed ({exc}); not cached"
                )
            else:
                self.commits += 1
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
        self._conn = None

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _attach(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        # Closes the connection even when the caller forgets to (no ResourceWarning).
        self._finalizer = weakref.finalize(self, _close_quietly, connection)

    def _failed(self, exc: sqlite3.Error, doing: str) -> None:
        """Handle a sqlite3 error met while ``doing``: rebuild on corruption, else warn."""
        if not _is_corruption(exc):
            self.warnings.append(f"cache {self.path}: {doing} failed ({exc}); not cached")
            return
        if self._conn is not None:  # nothing of this run is committed to a corrupt file
            with contextlib.suppress(sqlite3.Error):
                self._conn.rollback()
        self.close()
        why = f"{doing}: {exc}"
        try:
            connection = _rebuild(self.path, self._clock, why)
        except CacheError as err:
            self.warnings.append(
                f"cache {self.path} was corrupt ({why}) and could not be rebuilt ({err}); "
                "continuing without it"
            )
            return
        self._attach(connection)
        self.warnings.append(f"cache {self.path} was corrupt ({why}); rebuilt")

    @contextlib.contextmanager
    def _transaction(self, conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        """One write: all of it or nothing.

        Its own transaction (``with conn`` commits, or rolls back on any exception), or,
        with ``one_transaction``, a savepoint in the run's transaction (begun by the first
        write, committed by :meth:`close`).
        """
        if not self._one_transaction:
            with conn:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
            self.commits += 1
            return
        if not conn.in_transaction:
            conn.execute("BEGIN IMMEDIATE")
        conn.execute("SAVEPOINT pgpverify_write")
        try:
            yield conn
        except BaseException:
            with contextlib.suppress(sqlite3.Error):  # the error that got here is the one
                conn.execute("ROLLBACK TO pgpverify_write")
                conn.execute("RELEASE pgpverify_write")
            raise
        conn.execute("RELEASE pgpverify_write")

    def _query(self, sql: str, params: tuple[object, ...], doing: str) -> list[tuple[object, ...]]:
        """Rows of a read; [] when the cache is closed or the read failed (handled)."""
        conn = self._conn
        if conn is None:
            return []
        try:
            return [tuple(row) for row in conn.execute(sql, params).fetchall()]
        except sqlite3.Error as exc:
            self._failed(exc, doing)
            return []

    def _execute(self, sql: str, params: tuple[object, ...], doing: str) -> None:
        """One write statement in its own transaction; failures are handled and warned."""
        conn = self._conn
        if conn is None:
            return
        try:
            with self._transaction(conn):
                conn.execute(sql, params)
        except sqlite3.Error as exc:
            self._failed(exc, doing)

    # -- documents -----------------------------------------------------------------------

    def get(self, url: str) -> CachedDocument | None:
        """The cached answer for ``url``, checked (types, sha256); None when absent or bad.

        A corrupt entry is dropped and warned about, never returned. Entries are keyed by
        the URL without credentials (none is ever stored).
        """
        url = without_credentials(url)
        rows = self._query(
            "SELECT status, body, content_type, etag, last_modified, fetched_at, sha256, "
            "fresh_until FROM documents WHERE url = ?",
            (url,),
            f"reading {url}",
        )
        if not rows:
            return None
        document, problem = _document(url, rows[0])
        if document is None:
            self.warnings.append(
                f"cache {self.path}: the entry for {url} was corrupt ({problem}); dropped"
            )
            self.forget(url)
        return document

    def put(self, url: str, response: Response, now: float) -> None:
        """Store a complete 200 answer for ``url``, replacing what was there."""
        if response.status != 200:
            raise ValueError(f"only a 200 answer is stored as a document, not {response.status}")
        fresh_until = None
        if response.max_age is not None and math.isfinite(response.max_age):
            fresh_until = float(now) + max(0.0, min(response.max_age, FRESHNESS_CAP))
        self._store(
            url,
            status=200,
            body=response.body,
            content_type=response.content_type,
            etag=response.etag,
            last_modified=response.last_modified,
            now=now,
            fresh_until=fresh_until,
        )

    def put_missing(self, url: str, status: int, now: float) -> None:
        """Remember that ``url`` answered 404 or 410 at ``now`` (replaces a stored body)."""
        if status not in _MISSING:
            raise ValueError(f"a missing entry is a 404 or 410, not {status}")
        self._store(
            url,
            status=status,
            body=b"",
            content_type=None,
            etag=None,
            last_modified=None,
            now=now,
            fresh_until=None,
        )

    def missing_is_fresh(self, url: str, now: float, ttl: float) -> bool:
        """Whether ``url`` has a missing entry younger than ``ttl`` seconds at ``now``."""
        document = self.get(url)
        return document is not None and not document.found and _fresh(document, now, ttl)

    def forget(self, url: str) -> None:
        """Drop the entry for ``url``, if any."""
        url = without_credentials(url)
        self._execute("DELETE FROM documents WHERE url = ?", (url,), f"dropping {url}")

    def _store(
        self,
        url: str,
        *,
        status: int,
        body: bytes,
        content_type: str | None,
        etag: str | None,
        last_modified: str | None,
        now: float,
        fresh_until: float | None,
    ) -> None:
        url = without_credentials(url)  # a secret is never a cache key
        body = bytes(body)
        self._execute(
            "INSERT OR REPLACE INTO documents (url, status, body, content_type, etag, "
            "last_modified, fetched_at, sha256, fresh_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                url,
                status,
                body,
                content_type,
                etag,
                last_modified,
                float(now),
                hashlib.sha256(body).hexdigest(),
                fresh_until,
            ),
            f"storing {url}",
        )

    # -- trust memory ---------------------------------------------------------------------

    def memory_lost(self) -> str | None:
        """Why memory recorded in this file was lost (a rebuild, a dropped row), or None.

        A cache that cannot answer is itself an answer: "unreadable".
        """
        rows = self._query_or_none(
            "SELECT value FROM meta WHERE key = 'memory_lost'",
            (),
            "reading the meta table",
        )
        if rows is None:
            return "the cache cannot be read"
        if not rows:
            return None
        return str(rows[0][0])

    def project_memory(self, project: str) -> ProjectMemory:
        """The statement remembered for ``project``: NEVER, KNOWN or LOST (never guessed)."""
        name = canonicalize_name(project)
        rows = self._query_or_none(
            "SELECT statement, first_seen, last_seen FROM project_keys WHERE project = ?",
            (name,),
            f"reading the trust statement of {name}",
        )
        if rows is None:
            return ProjectMemory(MemoryState.LOST, problem="the cache cannot be read")
        if not rows:
            lost = self.memory_lost()
            if lost is not None:
                return ProjectMemory(MemoryState.LOST, problem=lost)
            return ProjectMemory(MemoryState.NEVER)
        entry = _statement_row(rows[0], name)
        if entry is None:
            why = f"the remembered trust statement of {name} is corrupt"
            self.warnings.append(f"cache {self.path}: {why}")
            return ProjectMemory(MemoryState.LOST, problem=why)
        return ProjectMemory(MemoryState.KNOWN, entry.statement, entry.first_seen, entry.last_seen)

    def record_project_statement(self, statement: TrustStatement, now: float) -> None:
        """Remember ``statement`` as accepted at ``now``; the one it replaces goes to history.

        A corrupt row is replaced (its loss was reported when it was read).
        """
        name = statement.project
        encoded = statement.to_json()
        conn = self._conn
        if conn is None:
            return
        try:
            with self._transaction(conn):
                row = conn.execute(
                    "SELECT statement, first_seen, last_seen FROM project_keys WHERE project = ?",
                    (name,),
                ).fetchone()
                previous = None if row is None else _statement_row(tuple(row), name)
                if previous is not None and previous.statement == statement:
                    conn.execute(
                        "UPDATE project_keys SET last_seen = ? WHERE project = ?",
                        (max(float(now), previous.last_seen), name),
                    )
                    return
                if previous is not None:
                    conn.execute(
                        "INSERT INTO project_key_history (project, statement, first_seen, "
                        "last_seen, replaced_at) VALUES (?, ?, ?, ?, ?)",
                        (
                            name,
                            previous.statement.to_json(),
                            previous.first_seen,
                            previous.last_seen,
                            float(now),
                        ),
                    )
                    # an index that changes its answer on every run must not grow the file
                    # without end: the newest HISTORY_KEPT replaced statements are kept
                    conn.execute(
                        "DELETE FROM project_key_history WHERE project = ? AND id NOT IN "
                        "(SELECT id FROM project_key_history WHERE project = ? "
                        "ORDER BY id DESC LIMIT ?)",
                        (name, name, HISTORY_KEPT),
                    )
                conn.execute(
                    "INSERT OR REPLACE INTO project_keys VALUES (?, ?, ?, ?)",
                    (name, encoded, float(now), float(now)),
                )
        except sqlite3.Error as exc:
            self._failed(exc, f"recording the trust statement of {name}")

    def statement_history(self, project: str) -> tuple[StatementRecord, ...]:
        """Every statement recorded for ``project``, oldest first, the current one last."""
        name = canonicalize_name(project)
        rows = self._query(
            "SELECT statement, first_seen, last_seen FROM project_key_history "
            "WHERE project = ? ORDER BY id",
            (name,),
            f"reading the statement history of {name}",
        )
        rows += self._query(
            "SELECT statement, first_seen, last_seen FROM project_keys WHERE project = ?",
            (name,),
            f"reading the trust statement of {name}",
        )
        history = []
        for row in rows:
            entry = _statement_row(row, name)
            if entry is None:
                self.warnings.append(
                    f"cache {self.path}: a recorded trust statement of {name} was corrupt; skipped"
                )
                continue
            history.append(entry)
        return tuple(history)

    def remembered_certificate(self, fingerprint: str) -> CertificateMemory:
        """Every packet remembered for ``fingerprint``: NEVER, KNOWN or LOST."""
        fpr = fingerprint.upper()
        rows = self._query_or_none(
            "SELECT packets, sha256 FROM certificates WHERE fingerprint = ?",
            (fpr,),
            f"reading the certificate {fpr}",
        )
        if rows is None:
            return CertificateMemory(MemoryState.LOST, problem="the cache cannot be read")
        if not rows:
            lost = self.memory_lost()
            if lost is not None:
                return CertificateMemory(MemoryState.LOST, problem=lost)
            return CertificateMemory(MemoryState.NEVER)
        packets, digest = rows[0]
        if not isinstance(packets, bytes) or hashlib.sha256(packets).hexdigest() != digest:
            why = f"the remembered certificate {fpr} is corrupt"
            self.warnings.append(f"cache {self.path}: {why}")
            return CertificateMemory(MemoryState.LOST, problem=why)
        return CertificateMemory(MemoryState.KNOWN, data=packets)

    def record_certificate(self, fingerprint: str, packets: bytes, now: float) -> None:
        """Remember ``packets`` (a union that includes what was remembered) for ``fingerprint``."""
        fpr = fingerprint.upper()
        data = bytes(packets)
        self._execute(
            "INSERT INTO certificates VALUES (?, ?, ?, ?, ?) ON CONFLICT (fingerprint) DO "
            "UPDATE SET packets = excluded.packets, sha256 = excluded.sha256, "
            "last_seen = excluded.last_seen",
            (fpr, data, hashlib.sha256(data).hexdigest(), float(now), float(now)),
            f"recording the certificate {fpr}",
        )

    def _query_or_none(
        self,
        sql: str,
        params: tuple[object, ...],
        doing: str,
    ) -> list[tuple[object, ...]] | None:
        """Rows of a read; None when the cache is closed or the read failed (handled)."""
        conn = self._conn
        if conn is None:
            return None
        try:
            return [tuple(row) for row in conn.execute(sql, params).fetchall()]
        except sqlite3.Error as exc:
            self._failed(exc, doing)
            return None


class CachingFetcher:
    """A :class:`~pgpverify.index.fetch.Fetcher` that keeps answers in a :class:`Cache`.

    Online: a cached document is revalidated (If-None-Match / If-Modified-Since) and a 304
    serves it (as status 200, ``from_cache=True``); a 200 replaces it; a 404/410 is
    remembered for ``negative_ttl`` seconds, during which the server is not asked again.
    A NetworkError from ``inner`` propagates: it is never cached, never turned into "not
    found", and never answered with a cached copy (offline mode is explicit).

    Offline (``offline=True`` or no ``inner``): the cache only; a URL not in it is a
    NetworkError. A cached body larger than the caller's ``max_bytes`` is a miss online
    and an error offline.

    When the caller passes its own ``etag``/``last_modified``, it keeps its own copy: they
    are forwarded unchanged, and a 304 is returned to it as a 304.
    """

    def __init__(
        self,
        inner: Fetcher | None,
        cache: Cache,
        *,
        clock: Callable[[], float],
        offline: bool = False,
        negative_ttl: float = 300.0,
    ) -> None:
        if not math.isfinite(negative_ttl) or negative_ttl < 0:
            raise ValueError(f"negative_ttl must be a finite number >= 0, not {negative_ttl}")
        self.inner = inner
        self.cache = cache
        self.offline = offline or inner is None
        self.negative_ttl = negative_ttl
        self._clock = clock

    @property
    def warnings(self) -> list[str]:
        """The cache's warnings."""
        return self.cache.warnings

    def get(
        self,
        url: str,
        *,
        max_bytes: int,
        accept: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Response:
        """GET ``url`` through the cache (see the class docstring).

        Credentials in ``url`` go to the inner fetcher only: the cache key, the stored row
        and every error name the URL without them.
        """
        sent, url = url, without_credentials(url)
        cached = self.cache.get(url)
        if self.offline or self.inner is None:
            return _offline_answer(url, cached, max_bytes)
        if cached is not None and not cached.found:
            if _fresh(cached, self._clock(), self.negative_ttl):
                return cached.to_response()
            cached = None
        if cached is not None and len(cached.body) > max_bytes:
            cached = None
        caller_validates = etag is not None or last_modified is not None
        if cached is not None and not caller_validates and cached.is_fresh(self._clock()):
            # the server said it stays fresh (Cache-Control: max-age), as pip's cache reads it
            return cached.to_response()
        if cached is not None and not caller_validates:
            etag, last_modified = cached.etag, cached.last_modified
        response = self.inner.get(
            sent, max_bytes=max_bytes, accept=accept, etag=etag, last_modified=last_modified
        )
        return self._handle(url, response, cached, max_bytes, caller_validates=caller_validates)

    @contextlib.contextmanager
    def stream(self, url: str, *, max_bytes: int) -> Iterator[Download]:
        """Stream ``url`` from the inner fetcher, never through the cache.

        A large download (a distribution file) is read once and not kept: it is neither
        looked up nor stored here. Offline, nothing can be streamed (NetworkError).
        """
        if self.offline or self.inner is None:
            raise NetworkError(
                "not in the cache (offline): a file is never cached",
                source=without_credentials(url),
            )
        with open_stream(self.inner, url, max_bytes=max_bytes) as download:
            yield download

    def _handle(
        self,
        url: str,
        response: Response,
        cached: CachedDocument | None,
        max_bytes: int,
        *,
        caller_validates: bool,
    ) -> Response:
        if response.status == 200:
            if len(response.body) > max_bytes:
                raise ResponseTooLargeError(f"response larger than {max_bytes} bytes", source=url)
            self.cache.put(url, response, self._clock())
            return response
        if response.status in _MISSING:
            self.cache.put_missing(url, response.status, self._clock())
            return response
        if response.status != 304:
            raise NetworkError(f"unexpected HTTP status {response.status}", source=url)
        if caller_validates:
            return response
        if cached is None or (cached.etag is None and cached.last_modified is None):
            raise NetworkError(
                "the server answered 304 Not Modified to an unconditional request", source=url
            )
        refreshed = Response(
            url=url,
            status=200,
            body=cached.body,
            content_type=cached.content_type,
            etag=response.etag or cached.etag,
            last_modified=response.last_modified or cached.last_modified,
            max_age=response.max_age,  # a 304 carries the answer's new freshness
        )
        self.cache.put(url, refreshed, self._clock())
        return Response(
            url=url,
            status=200,
            body=refreshed.body,
            content_type=refreshed.content_type,
            etag=refreshed.etag,
            last_modified=refreshed.last_modified,
            from_cache=True,
        )


# -- helpers -------------------------------------------------------------------------------


def _offline_answer(url: str, cached: CachedDocument | None, max_bytes: int) -> Response:
    if cached is None:
        raise NetworkError("not in the cache (offline)", source=url)
    if cached.found and len(cached.body) > max_bytes:
        raise ResponseTooLargeError(
            f"the cached copy is larger than {max_bytes} bytes (offline)", source=url
        )
    return cached.to_response()


def _fresh(document: CachedDocument, now: float, ttl: float) -> bool:
    # An entry stamped in the future (the clock went back) is not fresh.
    return 0 <= now - document.fetched_at < ttl


def _check_directory(directory: Path) -> None:
    """Create ``directory`` if needed and prove it writable, or raise CacheError."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise CacheError(
            f"cannot create the cache directory ({exc.strerror or exc})", source=str(directory)
        ) from exc
    except ValueError as exc:  # a NUL byte in the path
        raise CacheError(
            f"cannot create the cache directory ({exc})", source=str(directory)
        ) from exc
    if not directory.is_dir():
        raise CacheError("the cache directory is not a directory", source=str(directory))
    if not os.access(directory, os.W_OK | os.X_OK):
        raise CacheError("the cache directory is not writable", source=str(directory))
    try:
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise CacheError(
            f"the cache directory is not writable ({exc.strerror or exc})", source=str(directory)
        ) from exc


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE in _transaction).
    return sqlite3.connect(path, timeout=_BUSY_TIMEOUT, isolation_level=None)


def _open_checked(path: Path, clock: Callable[[], float]) -> sqlite3.Connection:
    """Open and check ``path``; raise _CorruptError (file bad) or CacheError (unusable)."""
    try:
        connection = _connect(path)
    except sqlite3.Error as exc:
        raise CacheError(f"cannot open the cache ({exc})", source=str(path)) from exc
    try:
        _check_schema(connection, clock)
    except sqlite3.Error as exc:
        connection.close()
        if _is_corruption(exc):
            raise _CorruptError(str(exc)) from exc
        raise CacheError(f"cannot use the cache ({exc})", source=str(path)) from exc
    except BaseException:
        connection.close()
        raise
    return connection


def _check_schema(connection: sqlite3.Connection, clock: Callable[[], float]) -> None:
    connection.execute("PRAGMA trusted_schema = OFF")
    connection.execute("PRAGMA synchronous = FULL")
    result = connection.execute("PRAGMA quick_check").fetchall()
    if [tuple(row) for row in result] != [("ok",)]:
        raise _CorruptError(f"quick_check: {result[0][0] if result else 'no answer'}")
    with connection:
        connection.execute("BEGIN IMMEDIATE")
        objects = {
            (str(kind), str(name))
            for kind, name in connection.execute("SELECT type, name FROM sqlite_master")
            if not str(name).startswith("sqlite_autoindex_")
        }
        if not objects:
            for statement in _SCHEMA:
                connection.execute(statement)
            connection.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [("schema_version", str(SCHEMA_VERSION)), ("created_at", repr(clock()))],
            )
            return
        if ("table", "meta") not in objects:
            raise _CorruptError("no schema version")
        row = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            raise _CorruptError("no schema version")
        if row[0] == "1":
            objects = _migrate_v1(connection, objects, clock)
        elif row[0] == "2":
            _migrate_v2(connection)
        elif row[0] != str(SCHEMA_VERSION):
            raise _CorruptError(f"unknown schema version {row[0]!r}")
        foreign = objects - _OBJECTS
        if foreign:
            raise _CorruptError(f"unexpected schema object {min(foreign)[1]!r}")
        for table, columns in _TABLES.items():
            found = tuple(
                str(info[1]) for info in connection.execute(f"PRAGMA table_info({table})")
            )
            if found != columns:
                raise _CorruptError(f"table {table} has columns {', '.join(found) or 'none'}")


def _migrate_v1(
    connection: sqlite3.Connection,
    objects: set[tuple[str, str]],
    clock: Callable[[], float],
) -> set[tuple[str, str]]:
    """Upgrade a schema 1 file in the open transaction; return its schema objects after.

    Schema 1 remembered fingerprint sets: each becomes a legacy statement (keys added or
    removed are still noticed; roles and retirements are recorded from the next accepted
    run). A key set that does not decode is dropped and ``memory_lost`` recorded, so that
    project is not taken for a first sighting.
    """
    for table, columns in _TABLES_V1.items():
        found = tuple(str(info[1]) for info in connection.execute(f"PRAGMA table_info({table})"))
        if found != columns:
            raise _CorruptError(f"table {table} has columns {', '.join(found) or 'none'}")
    lost: list[str] = []
    for table in _TABLES_V1:
        connection.execute(f"ALTER TABLE {table} RENAME COLUMN fingerprints TO statement")
        # table names come from _TABLES_V1, never from input
        select = f"SELECT rowid, project, statement FROM {table}"  # noqa: S608
        rows = connection.execute(select).fetchall()
        for rowid, project, value in rows:
            fprs = _fingerprint_list(value)
            if fprs is None or not isinstance(project, str):
                connection.execute(
                    f"DELETE FROM {table} WHERE rowid = ?",  # noqa: S608
                    (rowid,),
                )
                lost.append(str(project))
                continue
            statement = TrustStatement.from_fingerprints(project, fprs)
            connection.execute(
                f"UPDATE {table} SET statement = ? WHERE rowid = ?",  # noqa: S608
                (statement.to_json(), rowid),
            )
    connection.execute(_CERTIFICATES_TABLE)
    _migrate_v2(connection)
    connection.execute("INSERT OR REPLACE INTO meta VALUES ('migrated_from', '1')")
    if lost:
        _mark_lost(
            connection,
            clock,
            f"a key set of {min(lost)} was corrupt when the cache was upgraded from schema 1",
        )
    return {*objects, ("table", "certificates")}


def _migrate_v2(connection: sqlite3.Connection) -> None:
    """Upgrade schema 2 to 3 in the open transaction: documents get ``fresh_until``."""
    columns = [str(info[1]) for info in connection.execute("PRAGMA table_info(documents)")]
    if "fresh_until" not in columns:
        connection.execute("ALTER TABLE documents ADD COLUMN fresh_until REAL")
    connection.execute(
        "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),)
    )


def _mark_lost(connection: sqlite3.Connection, clock: Callable[[], float], why: str) -> None:
    """Record in ``meta`` that remembered statements or certificates were lost, and why."""
    from pgpverify.isotime import format_utc

    connection.execute(
        "INSERT OR REPLACE INTO meta VALUES ('memory_lost', ?)",
        (f"{why} (at {format_utc(clock())})",),
    )


def _rebuild(path: Path, clock: Callable[[], float], why: str) -> sqlite3.Connection:
    """Move the bad file aside (deleting SQLite's side files) and start an empty cache.

    The new file records ``memory_lost``: what the old one remembered is gone, and no
    project or key it knew is taken for a first sighting.
    """
    aside = path.with_name(path.name + ".corrupt")
    try:
        if path.exists():
            path.replace(aside)
        for suffix in _SIDE_FILES:
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    except OSError as exc:
        raise CacheError(
            f"cannot move the corrupt cache aside ({why}; {exc.strerror or exc})", source=str(path)
        ) from exc
    try:
        connection = _open_checked(path, clock)
    except _CorruptError as exc:
        raise CacheError(f"the rebuilt cache is unusable ({exc})", source=str(path)) from exc
    try:
        with connection:
            connection.execute("BEGIN IMMEDIATE")
            _mark_lost(connection, clock, f"the cache was rebuilt: {why}")
    except sqlite3.Error as exc:
        connection.close()
        raise CacheError(f"cannot use the rebuilt cache ({exc})", source=str(path)) from exc
    return connection


def _close_quietly(connection: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.Error):
        connection.close()


def _is_corruption(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` says the file is bad (rebuild it), not that it is busy or unwritable."""
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if isinstance(code, int):
        return code & 0xFF not in _ENVIRONMENT_CODES
    if isinstance(exc, sqlite3.OperationalError):
        return "no such" in str(exc)
    return isinstance(exc, (sqlite3.IntegrityError, sqlite3.DataError)) or (
        type(exc) is sqlite3.DatabaseError
    )


def _document(url: str, row: tuple[object, ...]) -> tuple[CachedDocument | None, str]:
    """The checked entry, or None and what is wrong with the row."""
    status, body, content_type, etag, last_modified, fetched_at, digest, fresh_until = row
    if not isinstance(status, int) or (status != 200 and status not in _MISSING):
        return None, "bad status"
    if not isinstance(body, bytes) or (status != 200 and body):
        return None, "bad body"
    if not (
        _is_optional_text(content_type)
        and _is_optional_text(etag)
        and _is_optional_text(last_modified)
    ):
        return None, "bad headers"
    if not _is_time(fetched_at) or not (fresh_until is None or _is_time(fresh_until)):
        return None, "bad time"
    if not isinstance(digest, str) or hashlib.sha256(body).hexdigest() != digest:
        return None, "sha256 mismatch"
    return CachedDocument(
        url=url,
        status=status,
        body=body,
        content_type=content_type,
        etag=etag,
        last_modified=last_modified,
        fetched_at=float(fetched_at),
        fresh_until=None if fresh_until is None else float(fresh_until),
    ), ""


def _is_optional_text(value: object) -> TypeGuard[str | None]:
    return value is None or isinstance(value, str)


def _is_time(value: object) -> TypeGuard[int | float]:
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool) and (math.isfinite(value))
    )


def _normalize_fingerprints(fingerprints: Iterable[str]) -> tuple[str, ...]:
    """Upper-case, space-free, de-duplicated, sorted."""
    return tuple(sorted({"".join(f.split()).upper() for f in fingerprints} - {""}))


def _fingerprint_list(value: object) -> tuple[str, ...] | None:
    """A schema 1 key set (JSON list of fingerprints), or None when it is corrupt."""
    if not isinstance(value, str):
        return None
    try:
        decoded = json.loads(value)
    except (ValueError, RecursionError):
        return None
    if not isinstance(decoded, list) or not all(isinstance(f, str) for f in decoded):
        return None
    return _normalize_fingerprints(decoded)


def _statement_row(row: tuple[object, ...], name: str) -> StatementRecord | None:
    """A checked (statement, first_seen, last_seen) row of ``name``; None when corrupt."""
    text, first_seen, last_seen = row[:3]
    if not (_is_time(first_seen) and _is_time(last_seen)):
        return None
    try:
        statement = TrustStatement.from_json(text)
    except StatementFormatError:
        return None
    if statement.project != name:
        return None
    return StatementRecord(statement, float(first_seen), float(last_seen))
