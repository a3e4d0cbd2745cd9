"""``check``: verify every distribution file a job is about to install, in one process.

Steps (issue 10's rules):
  (1) the files: each PATH, a directory read as the distribution files in it (by name)
  (2) each file hashed once (sha256), in ``jobs`` threads
  (3) per project, in the calling thread (the cache and the HTTP session are not shared
      across threads): the trust inputs (index keys, with the trust memory when a cache is
      given; a lock file's pins; offline keyrings and records) and, from an index, the
      project page: each file is matched to its entry by name and sha256
      (``hash-mismatch``, ``not-on-index``) and its signature discovered
      (:mod:`pgpverify.index.files`). A ``.asc`` on the local disk is read only from
      ``signatures_dir``, never from beside the file.
  (4) verification in ``jobs`` threads, one project's files in one thread with that
      project's keyring (a keyring is not shared between threads): the verdict at ``at``;
      for a good signature whose upload time the index gives, backsigned or not, and, when
      not backsigned, the certificate judged again as of the upload (or the signature, if
      later) time, so a key that was expired or not yet bound then does not pass today.
  (5) the policy: unsigned passes unless required (flags, or a lock that pins the project
      without ``unsigned = "allowed"``, which in turn overrides the flags); a rejected
      signature always fails; backsigned fails under ``reject_backsigned``.

A failure on one file or project (network, a page that does not parse, a file that cannot
be read) is that file's ``error``; every other file is still checked and reported. Trust
inputs given by the caller that do not load (a keyring, a record) raise, as ``verify`` does.
Nothing here prints or reads the clock: ``at`` is the reference time.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pgpverify.check.model import DISTRIBUTION_SUFFIXES, CheckReport, FileCheck, Status
from pgpverify.errors import InputError, PgpVerifyError
from pgpverify.index.client import project_from_filename
from pgpverify.index.files import (
    DEFAULT_BACKSIGN_GRACE,
    Match,
    ProjectPage,
    SignatureState,
    find_signature,
    is_backsigned,
    match_file,
    sha256_file,
)
from pgpverify.isotime import format_utc, parse_iso8601
from pgpverify.limits import DEFAULT_LIMITS, Limits
from pgpverify.openpgp.certificate import CertificatePool
from pgpverify.openpgp.keyring import Keyring
from pgpverify.trust.owners import OwnershipRecord
from pgpverify.verify import Reason, VerificationResult, Verifier

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from datetime import datetime
    from pathlib import Path

    from pgpverify.index.cache import Cache
    from pgpverify.index.client import IndexClient
    from pgpverify.trust.lockfile import LockFile

__all__ = [
    "DISTRIBUTION_SUFFIXES",
    "CheckPolicy",
    "FileChecker",
    "IndexTrust",
    "KeyringTrust",
    "LockTrust",
    "check_files",
    "distribution_files",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckPolicy:
    """What passes: unsigned files unless required, backsigned ones unless rejected."""

    require_signatures: bool = False
    #: PEP 503-normalized names of projects that must be signed
    require_signatures_for: frozenset[str] = frozenset()
    reject_backsigned: bool = False
    #: seconds after the upload within which a signature counts as made at release
    backsign_grace: float = DEFAULT_BACKSIGN_GRACE
    #: from an index with a cache: a project whose trust statement widened since this
    #: machine last accepted it fails all its files (``keys-changed``), and is not
    #: remembered, so it keeps failing until a run without the flag accepts it
    fail_on_key_change: bool = False


@dataclass(frozen=True, slots=True)
class IndexTrust:
    """Keys, records, file entries and signatures from one index (and its trust memory)."""

    client: IndexClient
    cache: Cache | None = None
    #: wall clock (seconds since the epoch) stamping what the trust memory records
    now: float | None = None


@dataclass(frozen=True, slots=True)
class LockTrust:
    """Keys and records a lock file pins; entries and signatures from ``client`` if any."""

    lock: LockFile
    client: IndexClient | None = None


@dataclass(frozen=True, slots=True)
class KeyringTrust:
    """Offline: keyrings and ownership records (one per project); signatures from a dir."""

    keyrings: tuple[Path, ...]
    owners: tuple[OwnershipRecord, ...] = ()


TrustSource = IndexTrust | LockTrust | KeyringTrust


@dataclass(slots=True)
class _Item:
    """One file on its way through the steps."""

    order: int
    path: Path
    project: str | None = None
    version: str | None = None
    sha256: str | None = None
    verdict: FileCheck | None = None
    sig_path: Path | None = None
    #: the file's bytes when the caller holds them (install's gate): not read from ``path``
    data: bytes | None = None
    sig_data: bytes | None = None
    sig_name: str | None = None
    upload_time: float | None = None
    warnings: list[str] = field(default_factory=list)

    def finish(self, status: Status, reason: str, message: str, **extra: object) -> None:
        self.verdict = FileCheck(
            file=str(self.path),
            status=status,
            reason=reason,
            message=message,
            project=self.project,
            version=self.version,
            sha256=self.sha256,
            signature=self.sig_name,
            upload_time=None if self.upload_time is None else format_utc(self.upload_time),
            warnings=tuple(self.warnings),
            **extra,  # type: ignore[arg-type]
        )

    def error(self, err: PgpVerifyError) -> None:
        self.finish(Status.ERROR, "error", str(err))


@dataclass(slots=True)
class _Project:
    """One project's trust inputs for step (4)."""

    name: str
    owners: OwnershipRecord | None
    #: builds the keyring in the verifying thread (or returns one built in step 3)
    keyring: Callable[[], Keyring]
    #: True: signatures required (a lock pins it); False: unsigned allowed by the lock
    lock_says: bool | None = None
    #: the message for ``unknown-key`` when nothing is published for the project
    unknown: str | None = None
    #: why every file fails (``keys-changed``): a widening change under fail_on_key_change
    key_change: str | None = None
    items: list[_Item] = field(default_factory=list)


def distribution_files(path: Path) -> list[Path]:
    """``path`` itself, or the distribution files directly in a directory, by name."""
    if not path.is_dir():
        return [path]
    found = [
        child
        for child in path.iterdir()
        if not child.name.startswith(".")
        and child.name.lower().endswith(DISTRIBUTION_SUFFIXES)
        and child.is_file()
    ]
    return sorted(found, key=lambda p: p.name)


def check_files(
    paths: Sequence[Path],
    *,
    trust: TrustSource,
    at: datetime,
    policy: CheckPolicy | None = None,
    signatures_dir: Path | None = None,
    jobs: int = 1,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[int, int], None] | None = None,
) -> CheckReport:
    """Check every file in ``paths`` (files, or directories of them) at time ``at``.

    The verdicts are the same for any ``jobs``: the order of the report is the order of
    ``paths`` (a directory's files by name), and each project's files are verified by one
    thread with that project's keyring. ``progress(done, total)`` is called as files are
    decided, from any thread (one call at a time).
    """
    if jobs < 1:
        msg = "jobs must be at least 1"
        raise ValueError(msg)
    policy = policy if policy is not None else CheckPolicy()
    items = _collect(paths)
    # (2) hash each file once, when an index entry must be matched; otherwise the verifier's
    # own pass over the file gives the sha256 (and unsigned files are hashed alone)
    if isinstance(trust, IndexTrust) or (isinstance(trust, LockTrust) and trust.client):
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(_hash, items))
    # (3) trust inputs, entries and signatures, per project
    warnings: list[str] = []
    projects = _prepare(
        items, trust, signatures_dir=signatures_dir, policy=policy, warnings=warnings, limits=limits
    )
    # (4) verification, one project per task
    units = _units(projects, trust, jobs)
    counter = _Progress(len(items), progress)
    counter.advance(sum(1 for item in items if item.verdict is not None))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(lambda unit: _verify_unit(unit, policy, at, limits, counter), units))
    verdicts = [item.verdict for item in sorted(items, key=lambda i: i.order)]
    assert all(v is not None for v in verdicts)
    return CheckReport(
        files=tuple(v for v in verdicts if v is not None), warnings=tuple(dict.fromkeys(warnings))
    )


def _collect(paths: Iterable[Path]) -> list[_Item]:
    """(1) the files, once each, in order."""
    items: list[_Item] = []
    seen: set[str] = set()
    for given in paths:
        try:
            files = distribution_files(given)
        except OSError as err:
            item = _Item(len(items), given)
            item.error(PgpVerifyError(f"cannot list: {err.strerror or err}", source=str(given)))
            items.append(item)
            continue
        for path in files:
            # a file named twice is one file (abspath: resolve() reads every link on the way)
            key = os.path.normcase(os.path.abspath(path))  # noqa: PTH100
            if key in seen:
                continue
            seen.add(key)
            item = _Item(len(items), path)
            try:
                item.project, item.version = project_from_filename(path.name)
            except PgpVerifyError as err:
                item.error(err)
            items.append(item)
    return items


def _hash(item: _Item) -> None:
    if item.verdict is not None:
        return
    try:
        item.sha256 = sha256_file(item.path)
    except (OSError, ValueError) as err:
        why = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        item.error(PgpVerifyError(f"cannot read: {why}", source=str(item.path)))


def _prepare(
    items: list[_Item],
    trust: TrustSource,
    *,
    signatures_dir: Path | None,
    policy: CheckPolicy,
    warnings: list[str],
    limits: Limits,
) -> list[_Project]:
    """(3) per project: trust inputs, then each file's entry and signature."""
    by_project: dict[str, list[_Item]] = {}
    for item in items:
        if item.verdict is None and item.project is not None:
            by_project.setdefault(item.project, []).append(item)
    projects: list[_Project] = []
    for name in sorted(by_project):
        try:
            project = _trust_for(name, trust, warnings, limits, policy)
        except PgpVerifyError as err:
            for item in by_project[name]:
                item.error(err)
            continue
        client = trust.client if isinstance(trust, (IndexTrust, LockTrust)) else None
        page: ProjectPage | None = None
        if client is not None:
            try:
                page = ProjectPage.fetch(client, name)
            except PgpVerifyError as err:
                for item in by_project[name]:
                    item.error(err)
                continue
        for item in by_project[name]:
            _locate(item, client, page, signatures_dir)
            if item.verdict is None:
                project.items.append(item)
                continue
            if item.verdict.status is Status.UNSIGNED:
                _unsigned_policy(item, project, policy)
            _key_change(item, project)
        projects.append(project)
    return projects


def _trust_for(
    name: str,
    trust: TrustSource,
    warnings: list[str],
    limits: Limits,
    policy: CheckPolicy,
) -> _Project:
    if isinstance(trust, KeyringTrust):
        owners = None
        unknown = None
        if trust.owners:
            owners = next((r for r in trust.owners if r.is_for(name)), None)
            if owners is None:
                # records were given, none for this project: nobody may sign it
                owners = OwnershipRecord(project=name, maintainers=())
                unknown = f"no ownership record was given for project {name} (--owners)"
        paths = trust.keyrings
        return _Project(
            name, owners, lambda: Keyring.from_files(paths, limits=limits), unknown=unknown
        )
    if isinstance(trust, LockTrust):
        locked = trust.lock.project(name)
        if locked is None:
            ring = Keyring(limits=limits)
            return _Project(
                name, None, lambda: ring, unknown=f"the lock file pins nothing for project {name}"
            )
        lock_says: bool | None = locked.unsigned is None
        if not locked.maintainers and locked.unsigned is None:
            lock_says = None
        ring = trust.lock.keyring_for(name, limits=limits)
        owners = trust.lock.ownership(name)
        return _Project(name, owners, lambda: ring, lock_says=lock_says)
    return _index_trust(name, trust, warnings, limits, policy.fail_on_key_change)


def _index_trust(
    name: str,
    trust: IndexTrust,
    warnings: list[str],
    limits: Limits,
    fail_on_key_change: bool,
) -> _Project:
    from pgpverify.trust.memory import TrustStatement
    from pgpverify.workflows import recall_statement, remembered_keyring

    client = trust.client
    published = client.project_keys(name)
    warnings.extend(
        f"the index lists key {fpr} for {name} but publishes no key file for it"
        for fpr in published.missing
    )
    record = published.record
    ring = published.keyring
    if record is None:
        return _Project(
            name,
            None,
            lambda: ring,
            unknown=(
                f"the index has no ownership record for project {name} "
                f"({client.record_url(name)} not found): it publishes no keys for it"
            ),
        )
    key_change = None
    if trust.cache is not None:
        stamp = trust.now if trust.now is not None else 0.0
        statement = TrustStatement.from_record(record)
        recalled = recall_statement(trust.cache, statement, fail_on_key_change=fail_on_key_change)
        ring = remembered_keyring(
            trust.cache,
            statement,
            published,
            client,
            now=stamp,
            fail_on_key_change=fail_on_key_change,
            warnings=warnings,
            limits=limits,
        )
        if recalled.changes:
            warnings.append(recalled.message())
        if fail_on_key_change and recalled.widens:
            key_change = (
                f"the trust statement of {name} changed since it was last seen, "
                "widening who may sign or when (--fail-on-key-change); review the "
                "change, then run once without the flag to accept it"
            )
        else:
            trust.cache.record_project_statement(recalled.statement, stamp)
    unknown = None
    if not published.certificates:
        unknown = (
            f"the index publishes no keys for project {name} (its record lists none that exist)"
        )
    return _Project(name, record, lambda: ring, unknown=unknown, key_change=key_change)


def _locate(
    item: _Item,
    client: IndexClient | None,
    page: ProjectPage | None,
    signatures_dir: Path | None,
) -> None:
    """The file's index entry (name, sha256, upload time) and its signature."""
    entry = None
    if page is not None:
        assert item.sha256 is not None
        match, entry = match_file(page, item.path.name, item.sha256)
        if match is Match.NOT_ON_INDEX:
            where = page.url if page.files else f"{page.url} (no such page)"
            item.finish(
                Status.REJECTED, "not-on-index", f"{item.path.name} is not listed on {where}"
            )
            return
        assert entry is not None
        item.upload_time = entry.upload_time
        if match is Match.HASH_MISMATCH:
            item.finish(
                Status.REJECTED,
                "hash-mismatch",
                f"its sha256 {item.sha256} differs from the index's {entry.sha256} for {entry.url}",
            )
            return
        if match is Match.NO_INDEX_HASH:
            item.warnings.append(
                f"the index gives no sha256 for {item.path.name}: matched by name only"
            )
    if signatures_dir is not None:
        local = signatures_dir / (item.path.name + ".asc")
        try:
            present = local.is_file()
        except OSError as err:
            if err.errno != errno.ENAMETOOLONG:
                item.error(
                    InputError(f"cannot look up its signature: {err.strerror}", source=str(local))
                )
                return
            present = False  # a file name with ".asc" too long for any file: none there
        if present:
            item.sig_path, item.sig_name = local, str(local)
            return
        if os.path.lexists(local):
            # a directory, a device, a FIFO or a dangling link where the signature belongs:
            # not "unsigned" (something is there), and never read (a device would not end)
            item.error(
                InputError("the signature there is not a regular file: not read", source=str(local))
            )
            return
    if client is None or page is None or entry is None:
        if item.sha256 is None:
            _hash(item)  # the pin for install; no verification pass will give it
            if item.verdict is not None:
                return
        item.finish(
            Status.UNSIGNED,
            "unsigned",
            "no signature in --signatures-dir"
            if signatures_dir is not None
            else "no signature source",
        )
        return
    try:
        found = find_signature(client, page, entry)
    except PgpVerifyError as err:
        item.error(err)
        return
    item.sig_name = found.url
    if found.state is SignatureState.SIGNED:
        item.sig_data = found.data
    elif found.state is SignatureState.MISSING:
        item.finish(
            Status.ERROR,
            "signature-missing",
            f"the index says {item.path.name} is signed ({found.how}) but {found.url} is not found",
        )
    else:
        item.sig_name = None
        item.finish(
            Status.UNSIGNED,
            "unsigned",
            f"the index has no signature for {item.path.name} ({found.how})",
        )


def _unsigned_policy(item: _Item, project: _Project, policy: CheckPolicy) -> None:
    """(5) unsigned: allowed and reported, or rejected when signatures are required.

    A lock file's ``unsigned = "allowed"`` overrides the flags for its project; a lock that
    pins a project's keys without it requires a signature.
    """
    assert item.verdict is not None
    why = None
    if project.lock_says is not False:
        if policy.require_signatures:
            why = "signatures are required (--require-signatures)"
        elif project.name in policy.require_signatures_for:
            why = f"signatures are required for {project.name} (--require-signatures-for)"
        elif project.lock_says:
            why = "the lock file pins keys for it and does not allow it unsigned"
    if why is not None:
        item.verdict = dataclasses.replace(
            item.verdict, status=Status.REJECTED, message=f"{item.verdict.message}; {why}"
        )


_Unit = tuple["Callable[[], Keyring] | None", list[tuple[_Project, _Item]]]


def _key_change(item: _Item, project: _Project) -> None:
    """A widening change of the project's trust statement fails the file (``keys-changed``).

    Whatever the file's own verdict, but an error stays an error; a rejection keeps its
    message first.
    """
    if project.key_change is None or item.verdict is None:
        return
    verdict = item.verdict
    if verdict.status is Status.ERROR:
        return
    message = (
        project.key_change
        if verdict.status is not Status.REJECTED
        else f"{verdict.message}; also, {project.key_change}"
    )
    item.verdict = dataclasses.replace(
        verdict, status=Status.REJECTED, reason="keys-changed", message=message
    )


def _units(projects: list[_Project], trust: TrustSource, jobs: int) -> list[_Unit]:
    """Tasks for step (4): a keyring is used by one thread only.

    From an index or a lock, one task per project with its own keyring; offline keyrings
    are shared by every project, so each of ``jobs`` tasks loads its own copy.
    """
    if not isinstance(trust, KeyringTrust):
        return [(None, [(p, item) for item in p.items]) for p in projects if p.items]
    pairs = [(p, item) for p in projects for item in p.items]
    if not pairs:
        return []
    load = pairs[0][0].keyring
    return [(load, pairs[k::jobs]) for k in range(min(jobs, len(pairs)))]


class _Progress:
    """Files decided so far, reported to the caller's callback under a lock."""

    def __init__(self, total: int, callback: Callable[[int, int], None] | None) -> None:
        self.total = total
        self.done = 0
        self._callback = callback
        self._lock = threading.Lock()

    def advance(self, count: int = 1) -> None:
        if self._callback is None or not count:
            return
        with self._lock:
            self.done += count
            self._callback(self.done, self.total)


def _verify_unit(
    unit: _Unit, policy: CheckPolicy, at: datetime, limits: Limits, counter: _Progress
) -> None:
    load, pairs = unit
    shared = load() if load is not None else None
    rings: dict[str, Keyring] = {}
    for project, item in pairs:
        ring = shared
        if ring is None:
            ring = rings.get(project.name) or rings.setdefault(project.name, project.keyring())
        try:
            _verify_item(item, project, ring, policy=policy, at=at, limits=limits)
        except PgpVerifyError as err:
            item.error(err)
        _key_change(item, project)
        counter.advance()


def _verify_item(
    item: _Item,
    project: _Project,
    ring: Keyring,
    *,
    policy: CheckPolicy,
    at: datetime,
    limits: Limits,
) -> None:
    """(4) the verdict at ``at``, the upload-time judgement, and (5) backsigning."""
    result = _verify(item, project, ring, at, limits)
    if item.sha256 is not None and result.sha256 not in (None, item.sha256):
        item.finish(Status.ERROR, "error", "the file changed while it was being checked")
        return
    if item.sha256 is None:
        item.sha256 = result.sha256
    extra = _signer(result)
    if not result.ok:
        item.finish(Status.REJECTED, result.reason.value, _message(result, project), **extra)
        return
    item.warnings.extend(result.warnings)
    signed = parse_iso8601(result.created).timestamp() if result.created else None
    extra["signed_at"] = result.created
    backsigned = (
        None if signed is None else is_backsigned(signed, item.upload_time, policy.backsign_grace)
    )
    extra["backsigned"] = backsigned
    if backsigned is False and item.upload_time is not None and signed is not None:
        from datetime import datetime, timezone

        then = datetime.fromtimestamp(max(item.upload_time, signed), timezone.utc)
        earlier = _verify(item, project, ring, then, limits)
        if not earlier.ok:
            item.finish(
                Status.REJECTED,
                earlier.reason.value,
                f"as of the upload ({format_utc(then.timestamp())}): {_message(earlier, project)}",
                **extra,
            )
            return
    if backsigned:
        assert item.upload_time is not None
        assert signed is not None
        late = (
            f"backsigned: the signature was made {_hours(signed - item.upload_time)} after "
            f"the upload ({format_utc(item.upload_time)}), more than the "
            f"{_hours(policy.backsign_grace)} grace: it shows a maintainer vouched for the "
            "file later, not that it is what they released"
        )
        if policy.reject_backsigned:
            item.finish(Status.REJECTED, "backsigned", f"{late} (--reject-backsigned)", **extra)
            return
        item.warnings.append(late)
    item.finish(Status.GOOD, "good", result.message, **extra)


#: each thread's certificate pool: the projects' keyrings often hold the same
#: certificates, judged once per thread (a certificate's caches are not thread-safe)
_POOLS = threading.local()


def _verify(
    item: _Item, project: _Project, ring: Keyring, at: datetime, limits: Limits
) -> VerificationResult:
    owners = project.owners
    pool = getattr(_POOLS, "pool", None)
    if pool is None:
        pool = _POOLS.pool = CertificatePool()
    verifier = Verifier(
        ring,
        owners=owners,
        project=project.name if owners else None,
        limits=limits,
        certificates=pool,
    )
    return verifier.verify(
        item.path if item.data is None else item.data,
        item.sig_path,
        at=at,
        name=str(item.path),
        signature_data=item.sig_data,
        signature_name=item.sig_name,
    )


def _signer(result: VerificationResult) -> dict[str, object]:
    return {
        "signer_fingerprint": result.signer_fingerprint,
        "primary_fingerprint": result.primary_fingerprint,
        "maintainer": result.maintainer.user if result.maintainer else None,
        "role": result.maintainer.role if result.maintainer else None,
    }


def _message(result: VerificationResult, project: _Project) -> str:
    if result.reason is Reason.UNKNOWN_KEY and project.unknown is not None:
        return project.unknown
    if result.reason is Reason.NOT_OWNER and project.unknown is not None:
        return f"{result.message}; {project.unknown}"
    return result.message


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h"


class FileChecker:
    """Steps (3)-(5) of :func:`check_files` for files that arrive one at a time.

    ``install``'s gate (:mod:`pgpverify.check.gate`) downloads each file pip asks for and
    checks it here before pip gets it: the same rules and code as ``check``. The project's
    trust inputs are loaded once (and remembered in the trust memory, with a cache); the
    file is matched by name and sha256 to the page the caller fetched; its signature is
    discovered and verified; the unsigned, backsigned and key-change policies apply. Not
    thread-safe: one thread calls it (the client, its cache and the keyrings stay there).
    """

    def __init__(
        self,
        trust: TrustSource,
        *,
        at: datetime,
        policy: CheckPolicy | None = None,
        signatures_dir: Path | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self._trust = trust
        self._at = at
        self._policy = policy if policy is not None else CheckPolicy()
        self._signatures_dir = signatures_dir
        self._limits = limits
        self._projects: dict[str, _Project | PgpVerifyError] = {}
        self._rings: dict[str, Keyring] = {}
        #: run-wide notes, as :attr:`CheckReport.warnings` (in order, each once)
        self.warnings: list[str] = []

    def check(
        self, path: Path, page: ProjectPage, sha256: str, data: bytes | None = None
    ) -> FileCheck:
        """The verdict on ``path`` (a file listed on ``page``, whose sha256 is given).

        ``data``: the file's bytes, when the caller holds them (``path`` then only names
        the file: its name is matched to the page, and the report shows it).
        """
        item = _Item(0, path, sha256=sha256, data=data)
        try:
            item.project, item.version = project_from_filename(path.name)
            if item.project != page.project:
                raise PgpVerifyError(f"the file is not of project {page.project}", source=path.name)
            project = self._project(item.project)
        except PgpVerifyError as err:
            item.error(err)
            assert item.verdict is not None
            return item.verdict
        client = self._trust.client if isinstance(self._trust, (IndexTrust, LockTrust)) else None
        _locate(item, client, page, self._signatures_dir)
        if item.verdict is None:
            try:
                _verify_item(
                    item,
                    project,
                    self._ring(project),
                    policy=self._policy,
                    at=self._at,
                    limits=self._limits,
                )
            except PgpVerifyError as err:
                item.error(err)
        elif item.verdict.status is Status.UNSIGNED:
            _unsigned_policy(item, project, self._policy)
        _key_change(item, project)
        assert item.verdict is not None
        return item.verdict

    def _project(self, name: str) -> _Project:
        known = self._projects.get(name)
        if known is None:
            warnings: list[str] = []
            try:
                known = _trust_for(name, self._trust, warnings, self._limits, self._policy)
            except PgpVerifyError as err:
                known = err
            self._projects[name] = known
            self.warnings.extend(w for w in warnings if w not in self.warnings)
        if isinstance(known, PgpVerifyError):
            raise known
        return known

    def _ring(self, project: _Project) -> Keyring:
        ring = self._rings.get(project.name)
        if ring is None:
            ring = self._rings[project.name] = project.keyring()
        return ring
