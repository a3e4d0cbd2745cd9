"""The audit store: one SQLite file that is both the audit's progress and its archive.

Threat model: the store is written by us but may be truncated by a killed run, copied
between machines, or corrupt; anything SQLite refuses is an :class:`AuditStoreError` (one
line, never a traceback). Every write is one transaction: a file's row commits together
with the bytes of its ``.asc`` (content-addressed in ``blobs``), so a run killed at any
point leaves whole rows only, and re-running continues without losing or doubling any.

Tables (schema version in ``meta``):

- ``blobs(digest, data)``: every ``.asc``, certificate and ownership record used, by sha256;
- ``projects(project, record_digest, keys_digest, certificates, fetched_at)``: what the
  index published for a project when it was last audited (``certificates``: JSON
  ``{fingerprint: digest}``); ``keys_digest`` covers the record and every certificate;
- ``files(project, filename, ...)``: one row per audited file with both verdicts and its
  category (see :mod:`pgpverify.audit.categories`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, final

from pgpverify.audit.categories import CATEGORIES
from pgpverify.errors import PgpVerifyError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

__all__ = ["SCHEMA_VERSION", "AuditStore", "AuditStoreError", "FileRow", "ProjectRow"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blobs (digest TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS projects (
    project TEXT PRIMARY KEY,
    record_digest TEXT,
    keys_digest TEXT NOT NULL,
    certificates TEXT NOT NULL,
    fetched_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    project TEXT NOT NULL,
    filename TEXT NOT NULL,
    url TEXT NOT NULL,
    listed_sha256 TEXT,
    sha256 TEXT,
    upload_time REAL,
    asc_digest TEXT,
    keys_digest TEXT NOT NULL,
    category TEXT NOT NULL,
    backsigned INTEGER,
    upload_time_unknown INTEGER NOT NULL,
    signer_fingerprint TEXT,
    primary_fingerprint TEXT,
    signature_created REAL,
    hash_algorithm TEXT,
    key_algorithm TEXT,
    key_bits INTEGER,
    reason_at_upload TEXT,
    message_at_upload TEXT,
    reason_now TEXT NOT NULL,
    message_now TEXT NOT NULL,
    key_owner TEXT,
    foreign_key_digest TEXT,
    math TEXT NOT NULL,
    judged_at REAL NOT NULL,
    reference_time REAL NOT NULL,
    PRIMARY KEY (project, filename)
);
"""


class AuditStoreError(PgpVerifyError):
    """The audit store cannot be opened, read or written (corrupt, locked, another schema)."""


@dataclass(frozen=True, slots=True)
class ProjectRow:
    """What the index published for a project, as the store archived it."""

    project: str
    record_digest: str | None
    keys_digest: str
    #: primary fingerprint -> blob digest of its certificate
    certificates: dict[str, str]
    fetched_at: float


@dataclass(frozen=True, slots=True)
class FileRow:
    """One audited file: both verdicts, the category and every detail (``files`` table)."""

    project: str
    filename: str
    url: str
    listed_sha256: str | None
    sha256: str | None
    upload_time: float | None
    asc_digest: str | None
    keys_digest: str
    category: str
    backsigned: bool | None
    upload_time_unknown: bool
    signer_fingerprint: str | None
    primary_fingerprint: str | None
    signature_created: float | None
    hash_algorithm: str | None
    key_algorithm: str | None
    key_bits: int | None
    reason_at_upload: str | None
    message_at_upload: str | None
    reason_now: str
    message_now: str
    #: for a not-owner signer the index publishes a key for: whose key it is (user IDs)
    key_owner: str | None
    #: blob digest of that key, so ``--from-store`` judges it the same way
    foreign_key_digest: str | None
    #: JSON list of [signature index, signing key fingerprint, math held, canonicalisation]
    #: for each pair checked: what ``--from-store`` re-judges from (the file is not kept)
    math: str
    judged_at: float
    reference_time: float


_FILE_COLUMNS = tuple(f.name for f in fields(FileRow))
_BOOLS = ("backsigned", "upload_time_unknown")


def digest(data: bytes) -> str:
    """The content address of a blob: lowercase hex sha256."""
    return hashlib.sha256(data).hexdigest()


@final
class AuditStore:
    """An open audit store (WAL mode). Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        if not create and not path.is_file():
            raise AuditStoreError("no such audit store", source=str(path))
        try:
            self._db = sqlite3.connect(
                str(path), timeout=30.0, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as err:
            raise AuditStoreError(f"cannot open: {err}", source=str(path)) from None
        try:
            self._setup()
        except AuditStoreError:
            self._db.close()
            raise

    def _setup(self) -> None:
        with self._errors("cannot open"):
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            with self.transaction():
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                row = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
                if row is None:
                    self._db.execute(
                        "INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
                    )
                elif row[0] != str(SCHEMA_VERSION):
                    raise AuditStoreError(
                        f"audit store schema {row[0]!r}, this pgpverify reads schema "
                        f"{SCHEMA_VERSION}",
                        source=str(self.path),
                    )
            self._check_columns()

    def _check_columns(self) -> None:
        found = [r[1] for r in self._db.execute("PRAGMA table_info(files)")]
        if tuple(found) != _FILE_COLUMNS:
            raise AuditStoreError(
                "the files table is not the one this pgpverify writes", source=str(self.path)
            )

    def __enter__(self) -> AuditStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database (the WAL is checkpointed by SQLite)."""
        with contextlib.suppress(sqlite3.Error):
            self._db.close()

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as err:
            raise AuditStoreError(f"{what}: {err}", source=str(self.path)) from None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT; rolled back on any error)."""
        with self._errors("cannot write"):
            self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise
        with self._errors("cannot commit"):
            self._db.execute("COMMIT")

    # -- blobs ---------------------------------------------------------------------------

    def _put_blob(self, data: bytes) -> str:
        key = digest(data)
        self._db.execute("INSERT OR IGNORE INTO blobs VALUES (?, ?)", (key, data))
        return key

    def blob(self, key: str) -> bytes:
        """The archived bytes with this digest (AuditStoreError when missing or altered)."""
        with self._errors("cannot read"):
            row = self._db.execute("SELECT data FROM blobs WHERE digest=?", (key,)).fetchone()
        if row is None or not isinstance(row[0], bytes) or digest(row[0]) != key:
            raise AuditStoreError(
                f"archived blob {key} is missing or altered", source=str(self.path)
            )
        return row[0]

    # -- projects ------------------------------------------------------------------------

    def save_project(
        self,
        project: str,
        record: bytes | None,
        certificates: dict[str, bytes],
        *,
        fetched_at: float,
    ) -> ProjectRow:
        """Archive what the index publishes for ``project`` (one transaction)."""
        with self.transaction(), self._errors("cannot write"):
            record_digest = self._put_blob(record) if record is not None else None
            certs = {fpr: self._put_blob(data) for fpr, data in sorted(certificates.items())}
            row = ProjectRow(
                project, record_digest, keys_digest(record_digest, certs), certs, fetched_at
            )
            self._db.execute(
                "INSERT OR REPLACE INTO projects VALUES (?, ?, ?, ?, ?)",
                (
                    project,
                    record_digest,
                    row.keys_digest,
                    json.dumps(certs, sort_keys=True),
                    fetched_at,
                ),
            )
        return row

    def save_blob(self, data: bytes) -> str:
        """Archive bytes on their own (one transaction); their digest."""
        with self.transaction(), self._errors("cannot write"):
            return self._put_blob(data)

    def project(self, project: str) -> ProjectRow | None:
        """The archived publication of ``project``, if any."""
        with self._errors("cannot read"):
            row = self._db.execute("SELECT * FROM projects WHERE project=?", (project,)).fetchone()
        return None if row is None else self._project_row(row)

    def projects(self) -> list[ProjectRow]:
        """Every archived project, by name."""
        with self._errors("cannot read"):
            rows = self._db.execute("SELECT * FROM projects ORDER BY project").fetchall()
        return [self._project_row(r) for r in rows]

    def _project_row(self, row: tuple[Any, ...]) -> ProjectRow:
        try:
            certs = json.loads(row[3])
            if not isinstance(certs, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in certs.items()
            ):
                raise TypeError
            return ProjectRow(str(row[0]), row[1], str(row[2]), certs, float(row[4]))
        except (TypeError, ValueError):
            raise AuditStoreError(
                f"project row {row[0]!r} is corrupt", source=str(self.path)
            ) from None

    # -- files ---------------------------------------------------------------------------

    def save_file(self, row: FileRow, signature: bytes | None) -> None:
        """Archive one file's verdicts and its ``.asc`` in one transaction."""
        with self.transaction(), self._errors("cannot write"):
            if signature is not None:
                self._put_blob(signature)
            self._insert_file(row)

    def _insert_file(self, row: FileRow) -> None:
        values = {name: getattr(row, name) for name in _FILE_COLUMNS}  # asdict deep-copies
        for name in _BOOLS:
            if values[name] is not None:
                values[name] = int(values[name])
        marks = ", ".join("?" for _ in _FILE_COLUMNS)
        self._db.execute(
            f"INSERT OR REPLACE INTO files VALUES ({marks})",  # noqa: S608
            [values[c] for c in _FILE_COLUMNS],
        )

    def file(self, project: str, filename: str) -> FileRow | None:
        """The stored row of one file, if it was audited."""
        with self._errors("cannot read"):
            row = self._db.execute(
                "SELECT * FROM files WHERE project=? AND filename=?", (project, filename)
            ).fetchone()
        return None if row is None else self._file_row(row)

    def files(self, *, signed_only: bool = False) -> Iterator[FileRow]:
        """Every stored row, by project and file name, a page of 500 at a time.

        Each page is read whole before its rows are yielded (keyset pagination), so the
        caller may write to the store while iterating, and memory stays flat.
        """
        after = ("", "")
        where = "AND asc_digest IS NOT NULL " if signed_only else ""
        while True:
            with self._errors("cannot read"):
                batch = self._db.execute(
                    f"SELECT * FROM files WHERE (project, filename) > (?, ?) {where}"  # noqa: S608
                    "ORDER BY project, filename LIMIT 500",
                    after,
                ).fetchall()
            if not batch:
                return
            for row in batch:
                yield self._file_row(row)
            after = (batch[-1][0], batch[-1][1])

    def project_count(self, *, signed_only: bool = False) -> int:
        """How many projects have files in the store."""
        where = " WHERE asc_digest IS NOT NULL" if signed_only else ""
        with self._errors("cannot read"):
            row = self._db.execute(f"SELECT count(DISTINCT project) FROM files{where}").fetchone()  # noqa: S608
        return int(row[0])

    def count(self) -> int:
        """How many files the store holds."""
        with self._errors("cannot read"):
            return int(self._db.execute("SELECT count(*) FROM files").fetchone()[0])

    def _file_row(self, row: tuple[Any, ...]) -> FileRow:
        values = dict(zip(_FILE_COLUMNS, row, strict=True))
        for name in _BOOLS:
            if values[name] is not None:
                values[name] = bool(values[name])
        try:
            result = FileRow(**values)
            _check_types(result)
        except (TypeError, ValueError):
            raise AuditStoreError(
                f"file row {values.get('project')!r}/{values.get('filename')!r} is corrupt",
                source=str(self.path),
            ) from None
        return result

    def replace_file(self, row: FileRow) -> None:
        """Overwrite one file's verdicts (``--from-store`` re-judging; one transaction)."""
        with self.transaction(), self._errors("cannot write"):
            self._insert_file(row)

    # -- merge ---------------------------------------------------------------------------

    def merge_from(self, other: AuditStore) -> int:
        """Add another store's blobs, projects and files (one transaction); files added.

        A file in both keeps the row judged last; a project the publication fetched last.
        """
        added = 0
        with self.transaction(), self._errors("cannot merge"):
            for key, data in _rows(other, "SELECT digest, data FROM blobs"):
                if not isinstance(data, bytes) or digest(data) != key:
                    raise AuditStoreError(f"archived blob {key} is altered", source=str(other.path))
                self._db.execute("INSERT OR IGNORE INTO blobs VALUES (?, ?)", (key, data))
            for project in other.projects():
                mine = self.project(project.project)
                if mine is None or mine.fetched_at <= project.fetched_at:
                    self._db.execute(
                        "INSERT OR REPLACE INTO projects VALUES (?, ?, ?, ?, ?)",
                        (
                            project.project,
                            project.record_digest,
                            project.keys_digest,
                            json.dumps(project.certificates, sort_keys=True),
                            project.fetched_at,
                        ),
                    )
            for row in other.files():
                mine_row = self.file(row.project, row.filename)
                if mine_row is None:
                    added += 1
                if mine_row is None or mine_row.judged_at <= row.judged_at:
                    self._insert_file(row)
        return added


def _rows(store: AuditStore, query: str) -> Iterator[tuple[Any, ...]]:
    with store._errors("cannot read"):  # noqa: SLF001 - same class family
        cursor = store._db.execute(query)  # noqa: SLF001
        while True:
            batch = cursor.fetchmany(200)
            if not batch:
                return
            yield from batch


def keys_digest(record_digest: str | None, certificates: dict[str, str]) -> str:
    """One digest over a project's record and certificates: re-audit its files when it moves."""
    text = json.dumps([record_digest, sorted(certificates.items())])
    return digest(text.encode())


_OPTIONAL_TEXT = (
    "listed_sha256",
    "sha256",
    "asc_digest",
    "signer_fingerprint",
    "primary_fingerprint",
    "hash_algorithm",
    "key_algorithm",
    "reason_at_upload",
    "message_at_upload",
    "key_owner",
    "foreign_key_digest",
)
_TEXT = (
    "project",
    "filename",
    "url",
    "keys_digest",
    "category",
    "reason_now",
    "message_now",
    "math",
)
_OPTIONAL_NUMBER = ("upload_time", "signature_created")


def _check_types(row: FileRow) -> None:
    """A row read back must have the types it was written with (a corrupt store does not).

    Its category must be one a report counts: a crafted store cannot add report rows.
    """
    ok = (
        all(isinstance(getattr(row, n), str) for n in _TEXT)
        and all(getattr(row, n) is None or isinstance(getattr(row, n), str) for n in _OPTIONAL_TEXT)
        and all(
            getattr(row, n) is None or isinstance(getattr(row, n), (int, float))
            for n in _OPTIONAL_NUMBER
        )
        and (row.key_bits is None or isinstance(row.key_bits, int))
        and row.category in CATEGORIES
        and isinstance(row.judged_at, (int, float))
        and isinstance(row.reference_time, (int, float))
    )
    if not ok:
        raise TypeError
