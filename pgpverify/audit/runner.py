"""``audit run``: judge every file of the chosen projects into the store, resumably.

Per project: its ownership record and keys are fetched once and archived; its simple page
lists the files; each file's ``.asc`` is found as ``check`` finds it
(:func:`pgpverify.index.files.find_signature`). A file whose stored row has the same
listed sha256, the same ``.asc`` bytes and the same project keys is done and skipped, so
re-running the same command continues where a killed run stopped; anything else is
(re-)audited: the file is streamed (bounded) through SHA-256 and the verifier in one pass
(:func:`pgpverify.audit.judge.judge_file` verifies twice from that one read), never held
whole nor written, and its row and ``.asc`` are committed in one transaction. An ``.asc``
over the signature cap is a verdict (``malformed``), stored once like any other. A failure
for one file (network, page, key file) is counted and reported, and that file is left for
the next run.

``run_from_store`` re-judges every archived file offline at a new reference time.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

from pgpverify.audit.categories import Judgement, believable_upload_time, categorise
from pgpverify.audit.judge import (
    FileVerdicts,
    ProjectTrust,
    RecordedMathVerifier,
    judge_file,
    record_bytes,
)
from pgpverify.audit.store import AuditStore, FileRow, ProjectRow, digest
from pgpverify.errors import IndexResponseError, PgpVerifyError, ResponseTooLargeError
from pgpverify.index.files import ProjectPage, SignatureState, find_signature
from pgpverify.limits import DEFAULT_LIMITS, Limits
from pgpverify.trust.owners import OwnershipRecord
from pgpverify.verify import Reason

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from datetime import datetime

    from pgpverify.index.client import IndexClient
    from pgpverify.index.fetch import Readable
    from pgpverify.index.simple import ProjectFile

__all__ = ["AuditOptions", "AuditProgress", "AuditSummary", "run_audit", "run_from_store"]

#: the largest distribution file downloaded to be hashed (streamed: never held whole)
DEFAULT_MAX_FILE_BYTES = 512 << 20
#: what a hashing reader asks of the download at a time when draining it
_DRAIN_CHUNK = 1 << 20
#: other signers' keys remembered in a run: at most this many, each at most this big
_REMEMBERED_KEYS = 128
_REMEMBERED_KEY_BYTES = 256 << 10


@dataclass(frozen=True, slots=True)
class AuditOptions:
    """How a run judges and how hard it pulls."""

    grace_seconds: float = 24 * 3600.0
    #: only files uploaded at or after this time (epoch seconds); unknown times included
    since: float | None = None
    jobs: int = 1
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    limits: Limits = DEFAULT_LIMITS


@dataclass(slots=True)
class AuditProgress:
    """Counters a progress display reads (updated under a lock by the workers)."""

    projects_total: int = 0
    projects_done: int = 0
    files_seen: int = 0
    audited: int = 0
    skipped: int = 0
    failed: int = 0
    started: float = field(default_factory=time.monotonic)


@dataclass(frozen=True, slots=True)
class AuditSummary:
    """What a run did: counts, and one line per failure (file or project)."""

    projects: int
    audited: int
    skipped: int
    failures: tuple[str, ...]
    seconds: float

    def to_json(self) -> dict[str, object]:
        """JSON-ready dict."""
        return {
            "projects": self.projects,
            "audited": self.audited,
            "skipped": self.skipped,
            "failed": len(self.failures),
            "failures": list(self.failures),
            "seconds": round(self.seconds, 3),
        }


class _Run:
    def __init__(
        self,
        store: AuditStore,
        now: datetime,
        *,
        options: AuditOptions,
        progress: AuditProgress,
        report: Callable[[AuditProgress], None] | None,
        workdir: Path,
        stamp: float,
    ) -> None:
        self.store = store
        self.now = now
        self.stamp = stamp
        self.options = options
        self.progress = progress
        self.report = report
        self.workdir = workdir
        self.lock = threading.Lock()
        self.failures: list[str] = []
        #: other signers' published keys by fingerprint (None: not published), so files
        #: signed by one unlisted key cost one request for it, not one each
        self.keys: dict[str, bytes | None] = {}

    def count(self, what: str, failure: str | None = None) -> None:
        with self.lock:
            setattr(self.progress, what, getattr(self.progress, what) + 1)
            if failure is not None:
                self.failures.append(failure)
            if self.report is not None:
                self.report(self.progress)

    def project(self, client: IndexClient, name: str) -> None:
        try:
            published = client.project_keys(name)
            record = None if published.record is None else record_bytes(published.record)
            with self.lock:
                row = self.store.save_project(
                    name, record, published.certificates, fetched_at=self.now.timestamp()
                )
            trust = ProjectTrust(
                name, published.record, dict(published.certificates), limits=self.options.limits
            )
            page = ProjectPage.fetch(client, name)
        except PgpVerifyError as err:
            self.count("projects_done", f"{name}: {err}")
            return
        seen: set[str] = set()
        for entry in page.files:
            # a name listed twice is the first entry's, as check matches it
            if entry.filename in seen or entry.filename.endswith(".asc") or not self._wanted(entry):
                continue
            seen.add(entry.filename)
            with self.lock:
                self.progress.files_seen += 1
            try:
                self.file(client, page, entry, row, trust)
            except PgpVerifyError as err:
                self.count("failed", f"{name}/{entry.filename}: {err}")
        self.count("projects_done")

    def oversized(
        self, project: str, entry: ProjectFile, row: ProjectRow, err: ResponseTooLargeError
    ) -> None:
        """An ``.asc`` over the cap: a ``malformed`` verdict, stored once (not a failure).

        It will be as large next time, so it is judged, not left for another run; the
        bytes are not archived. A stored verdict for the same listing and keys is kept.
        """
        with self.lock:
            stored = self.store.file(project, entry.filename)
        if (
            stored is not None
            and stored.category == Reason.MALFORMED.value
            and stored.asc_digest is None
            and stored.keys_digest == row.keys_digest
            and stored.listed_sha256 == entry.sha256
            and stored.upload_time == entry.upload_time
        ):
            self.count("skipped")
            return
        out = _unjudged_row(
            project,
            entry,
            row.keys_digest,
            f"the signature file is malformed: {err}",
            self.stamp,
            self.now.timestamp(),
            unsigned=False,
        )
        with self.lock:
            self.store.save_file(out, None)
        self.count("audited")

    def published_key(self, client: IndexClient, fingerprint: str) -> bytes | None:
        """``_published_key``, remembered for the run (small keys, a bounded number)."""
        with self.lock:
            if fingerprint in self.keys:
                return self.keys[fingerprint]
        found = _published_key(client, fingerprint)
        if found is None or len(found) <= _REMEMBERED_KEY_BYTES:
            with self.lock:
                if len(self.keys) >= _REMEMBERED_KEYS:
                    self.keys.pop(next(iter(self.keys)))  # the oldest goes
                self.keys[fingerprint] = found
        return found

    def _wanted(self, entry: ProjectFile) -> bool:
        since = self.options.since
        return since is None or entry.upload_time is None or entry.upload_time >= since

    def file(
        self,
        client: IndexClient,
        page: ProjectPage,
        entry: ProjectFile,
        row: ProjectRow,
        trust: ProjectTrust,
    ) -> None:
        try:
            lookup = find_signature(client, page, entry)
        except ResponseTooLargeError as err:
            self.oversized(page.project, entry, row, err)
            return
        asc = lookup.data if lookup.state is SignatureState.SIGNED else None
        asc_digest = None if asc is None else digest(asc)
        with self.lock:
            stored = self.store.file(page.project, entry.filename)
        if (
            stored is not None
            and stored.keys_digest == row.keys_digest
            and stored.asc_digest == asc_digest
            and stored.listed_sha256 == entry.sha256
            and stored.upload_time == entry.upload_time
        ):
            self.count("skipped")
            return
        if asc is None:
            missing = lookup.state is SignatureState.MISSING
            message = (
                f"the index says {entry.filename} is signed but serves no signature at {lookup.url}"
                if missing
                else "the index publishes no signature for this file"
            )
            out = _unjudged_row(
                page.project,
                entry,
                row.keys_digest,
                message,
                self.stamp,
                self.now.timestamp(),
                unsigned=True,
            )
            with self.lock:
                self.store.save_file(out, None)
            self.count("audited")
            return
        with client.stream_listed(
            entry.url, page=page.url, max_bytes=self.options.max_file_bytes
        ) as download:
            if not download.found:
                raise IndexResponseError(
                    "the index lists this file but does not serve it", source=entry.url
                )
            # one pass: the verifier reads the file as it arrives, through SHA-256; what it
            # left unread is hashed after; nothing is kept, nothing written
            reader = HashingReader(download.body)

            def matches() -> bool:
                return entry.sha256 is None or entry.sha256 == reader.finish()

            verdicts = judge_file(
                cast("BinaryIO", reader),
                asc,
                trust,
                signature_name=lookup.url or entry.signature_url,
                upload_time=entry.upload_time,
                now=self.now,
                grace_seconds=self.options.grace_seconds,
                hash_matches=matches,
                lookup_key=lambda fpr: self.published_key(client, fpr),
            )
            sha256 = reader.finish()
        foreign = None
        with self.lock:
            if verdicts.foreign_key is not None:
                foreign = self.store.save_blob(verdicts.foreign_key)
            self.store.save_file(
                _signed_row(
                    project=page.project,
                    filename=entry.filename,
                    url=entry.url,
                    listed=entry.sha256,
                    sha256=sha256,
                    upload_time=entry.upload_time,
                    asc_digest=asc_digest,
                    keys=row.keys_digest,
                    verdicts=verdicts,
                    foreign=foreign,
                    judged_at=self.stamp,
                    reference_time=self.now.timestamp(),
                ),
                asc,
            )
        self.count("audited")


class HashingReader:
    """``read`` over a download that feeds SHA-256 with every byte it passes on.

    :meth:`finish` reads (and hashes) what is left, then gives the hex digest of the
    whole body, so the digest never depends on how much the verifier read.
    """

    def __init__(self, body: Readable) -> None:
        self._body = body
        self._sha = hashlib.sha256()
        self._digest: str | None = None

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes of the body (b"" once finished)."""
        if self._digest is not None:
            return b""
        data = self._body.read(size)
        self._sha.update(data)
        return data

    def finish(self) -> str:
        """The SHA-256 of the whole body (the rest is read and hashed first)."""
        if self._digest is None:
            while self.read(_DRAIN_CHUNK):
                pass
            self._digest = self._sha.hexdigest()
        return self._digest


def _published_key(client: IndexClient, fingerprint: str) -> bytes | None:
    """Another signer's key as the index publishes it.

    A key file that is not that key (another certificate, junk) counts as not published;
    a network failure propagates (the file is left for the next run).
    """
    try:
        return client.key(fingerprint)
    except IndexResponseError:
        return None


def _unjudged_row(  # noqa: PLR0917
    project: str,
    entry: ProjectFile,
    keys: str,
    message: str,
    stamp: float,
    now: float,
    *,
    unsigned: bool,
) -> FileRow:
    """A row with no signature verdict: unsigned, or a signature too large to judge.

    An unsigned file is categorised as every file is (``categorise``); an oversized
    signature file is ``malformed``, once, like any other verdict.
    """
    upload_time = believable_upload_time(entry.upload_time, now)
    if unsigned:
        judgement = categorise(
            signed=False,
            reason_now=None,
            reason_at_upload=None,
            upload_time=upload_time,
            signature_created=None,
            grace_seconds=0,
        )
    else:
        judgement = Judgement(
            Reason.MALFORMED.value, backsigned=None, upload_time_unknown=upload_time is None
        )
    return FileRow(
        project=project,
        filename=entry.filename,
        url=entry.url,
        listed_sha256=entry.sha256,
        sha256=None,
        upload_time=entry.upload_time,
        asc_digest=None,
        keys_digest=keys,
        category=judgement.category,
        backsigned=judgement.backsigned,
        upload_time_unknown=judgement.upload_time_unknown,
        signer_fingerprint=None,
        primary_fingerprint=None,
        signature_created=None,
        hash_algorithm=None,
        key_algorithm=None,
        key_bits=None,
        reason_at_upload=None,
        message_at_upload=None,
        reason_now=judgement.category,
        message_now=message,
        key_owner=None,
        foreign_key_digest=None,
        math="[]",
        judged_at=stamp,
        reference_time=now,
    )


def _signed_row(
    *,
    project: str,
    filename: str,
    url: str,
    listed: str | None,
    sha256: str | None,
    upload_time: float | None,
    asc_digest: str | None,
    keys: str,
    verdicts: FileVerdicts,
    foreign: str | None,
    judged_at: float,
    reference_time: float,
) -> FileRow:
    now, up = verdicts.now, verdicts.at_upload
    return FileRow(
        project=project,
        filename=filename,
        url=url,
        listed_sha256=listed,
        sha256=sha256,
        upload_time=upload_time,
        asc_digest=asc_digest,
        keys_digest=keys,
        category=verdicts.judgement.category,
        backsigned=verdicts.judgement.backsigned,
        upload_time_unknown=verdicts.judgement.upload_time_unknown,
        signer_fingerprint=now.signer_fingerprint,
        primary_fingerprint=now.primary_fingerprint,
        signature_created=verdicts.signature_created,
        **verdicts.details(),
        reason_at_upload=None if up is None else up.reason.value,
        message_at_upload=None if up is None else up.message,
        reason_now=now.reason.value,
        message_now=now.message,
        key_owner=verdicts.key_owner,
        foreign_key_digest=foreign,
        math=json.dumps(verdicts.math),
        judged_at=judged_at,
        reference_time=reference_time,
    )


def run_audit(
    store: AuditStore,
    clients: Callable[[], IndexClient],
    projects: Iterable[str],
    *,
    now: datetime,
    options: AuditOptions = AuditOptions(),
    report: Callable[[AuditProgress], None] | None = None,
    stamp: float | None = None,
) -> AuditSummary:
    """Audit ``projects`` into ``store``; ``clients()`` makes one IndexClient per worker.

    ``stamp`` (the wall clock, epoch seconds; default ``now``) is each row's ``judged_at``:
    ``merge`` keeps the row judged last.

    Projects are spread over ``options.jobs`` threads (an HTTP session is not shared
    between threads); at most ``2 * jobs`` projects are in flight, so memory stays flat
    over any number of projects. Raises only for a store that cannot be written.
    """
    names = list(dict.fromkeys(projects))
    progress = AuditProgress(projects_total=len(names))
    local = threading.local()

    def client() -> IndexClient:
        made: IndexClient | None = getattr(local, "client", None)
        if made is None:
            made = clients()
            local.client = made
        return made

    def work(name: str) -> None:
        run.project(client(), name)

    with tempfile.TemporaryDirectory(prefix="pgpverify-audit-") as workdir:
        run = _Run(
            store,
            now,
            options=options,
            progress=progress,
            report=report,
            workdir=Path(workdir),
            stamp=now.timestamp() if stamp is None else stamp,
        )
        jobs = max(1, options.jobs)
        if jobs == 1:
            for name in names:
                run.project(client(), name)
        else:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                pending: set[Future[None]] = set()
                for name in names:
                    if len(pending) >= 2 * jobs:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for future in done:
                            future.result()
                    pending.add(pool.submit(work, name))
                for future in pending:
                    future.result()
    return AuditSummary(
        projects=len(names),
        audited=progress.audited,
        skipped=progress.skipped,
        failures=tuple(run.failures),
        seconds=time.monotonic() - progress.started,
    )


def _recorded(row: FileRow) -> dict[tuple[int, str], tuple[bool, str | None]]:
    try:
        entries = json.loads(row.math)
        return {
            (int(i), str(fpr)): (bool(ok), None if form is None else str(form))
            for i, fpr, ok, form in entries
        }
    except (ValueError, TypeError):
        from pgpverify.audit.store import AuditStoreError

        raise AuditStoreError(
            f"file row {row.project}/{row.filename}: math is corrupt", source=str(row.filename)
        ) from None


def run_from_store(
    store: AuditStore,
    *,
    at: datetime,
    stamp: float,
    options: AuditOptions = AuditOptions(),
    report: Callable[[AuditProgress], None] | None = None,
) -> AuditSummary:
    """Re-judge every archived file at ``at`` from the store alone (no network).

    ``stamp`` (the wall clock, epoch seconds) is written as each row's ``judged_at``.

    The certificates, record, ``.asc`` and any other signer's key come from the archive;
    the math comes from what was recorded when the file was audited (the file itself is
    not kept). Unsigned files stay unsigned.
    """
    progress = AuditProgress()
    failures: list[str] = []
    trusts: dict[str, ProjectTrust] = {}
    with tempfile.TemporaryDirectory(prefix="pgpverify-audit-") as workdir:
        empty = Path(workdir) / "archived-file-not-kept"
        empty.write_bytes(b"")
        progress.projects_total = store.project_count(signed_only=True)
        last: str | None = None
        for row in store.files(signed_only=True):
            if last is not None and row.project != last:
                progress.projects_done += 1  # rows come by project
            last = row.project
            progress.files_seen += 1
            try:
                trust = trusts.get(row.project)
                if trust is None:
                    trust = _archived_trust(store, row.project, options.limits)
                    trusts[row.project] = trust
                assert row.asc_digest is not None
                asc = store.blob(row.asc_digest)
                foreign = (
                    None if row.foreign_key_digest is None else store.blob(row.foreign_key_digest)
                )
                verdicts = judge_file(
                    empty,
                    asc,
                    trust,
                    signature_name=row.url + ".asc",
                    upload_time=row.upload_time,
                    now=at,
                    grace_seconds=options.grace_seconds,
                    hash_matches=row.listed_sha256 is None or row.listed_sha256 == row.sha256,
                    foreign_key=foreign,
                    recorded=RecordedMathVerifier(
                        trust.keyring(), recorded=_recorded(row), sha256=row.sha256
                    ),
                )
            except PgpVerifyError as err:  # an archived blob missing or altered, say
                progress.failed += 1
                failures.append(f"{row.project}/{row.filename}: {err}")
            else:
                store.replace_file(
                    _signed_row(
                        project=row.project,
                        filename=row.filename,
                        url=row.url,
                        listed=row.listed_sha256,
                        sha256=row.sha256,
                        upload_time=row.upload_time,
                        asc_digest=row.asc_digest,
                        keys=row.keys_digest,
                        verdicts=verdicts,
                        foreign=row.foreign_key_digest,
                        judged_at=stamp,
                        reference_time=at.timestamp(),
                    )
                )
                progress.audited += 1
            if report is not None:
                report(progress)
    progress.projects_done = progress.projects_total
    if report is not None:
        report(progress)
    return AuditSummary(
        projects=progress.projects_total,
        audited=progress.audited,
        skipped=0,
        failures=tuple(failures),
        seconds=time.monotonic() - progress.started,
    )


def _archived_trust(store: AuditStore, project: str, limits: Limits) -> ProjectTrust:
    archived = store.project(project)
    if archived is None:
        return ProjectTrust(project, None, {}, limits=limits)
    record = None
    if archived.record_digest is not None:
        record = OwnershipRecord.from_bytes(
            store.blob(archived.record_digest), source=f"archived record of {project}"
        )
    certs = {fpr: store.blob(key) for fpr, key in archived.certificates.items()}
    return ProjectTrust(project, record, certs, limits=limits)
