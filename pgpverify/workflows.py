"""Verification with keys from an index or a lock file instead of local keyrings.

Each function gathers the trust inputs (ownership record and keys) for the file's
project, then hands them to :class:`pgpverify.Verifier`: the verdict, reasons, JSON and
exit codes are the ones of ``verify --keyring ... --owners ...``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pgpverify.errors import CacheError, InputError, LimitExceededError, MalformedError
from pgpverify.index.client import IndexClient, ProjectKeys, project_from_filename
from pgpverify.index.verdict import KEYS_CHANGED, IndexVerification
from pgpverify.io import BINARY, binary_blocks
from pgpverify.isotime import format_utc
from pgpverify.limits import DEFAULT_LIMITS, Limits, WorkBudget
from pgpverify.openpgp.keyring import Keyring
from pgpverify.openpgp.packets import Tag, encode_packet, frame, iter_packets
from pgpverify.trust.memory import (
    Change,
    ChangeKind,
    GrownCertificate,
    TrustStatement,
    compare,
    grow_certificate,
    union_certificate,
    widens,
)
from pgpverify.verify import Reason, VerificationResult, Verifier

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from pgpverify.index.cache import Cache
    from pgpverify.io import StrPath
    from pgpverify.trust.lockfile import LockFile

__all__ = ["KEYS_CHANGED", "IndexVerification", "verify_from_index", "verify_from_lock"]


def _paths(file: StrPath, signature: StrPath | None) -> tuple[Path, Path | None]:
    """The file and signature paths as ``Path`` (callers may give ``str``)."""
    from pathlib import Path

    return Path(file), None if signature is None else Path(signature)


def _project(file: Path, project: str | None) -> str:
    if project is not None:
        from packaging.utils import canonicalize_name

        return str(canonicalize_name(project))
    return project_from_filename(file.name)[0]


def _unknown(result: VerificationResult, message: str) -> VerificationResult:
    """Keep a ``malformed`` verdict; otherwise the distinct "nothing published" message."""
    if result.reason is not Reason.UNKNOWN_KEY:
        return result
    return dataclasses.replace(result, message=message)


def _reference(at: datetime | None) -> datetime:
    """The reference time: ``at``, or now (as the CLI's default ``--at``)."""
    from datetime import datetime, timezone

    return datetime.now(timezone.utc) if at is None else at


def verify_from_index(
    file: StrPath,
    *,
    client: IndexClient,
    at: datetime | None = None,
    signature: StrPath | None = None,
    project: str | None = None,
    cache: Cache | None = None,
    now: float | None = None,
    fail_on_key_change: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> IndexVerification:
    """Verify ``file`` with the ownership record and keys its index publishes.

    The project comes from the file name (wheel or sdist) unless ``project`` is given.
    Without ``signature``, ``FILE.asc`` is used if it exists locally, else the signature
    the project's simple page lists for the file. With a ``cache``, the project's trust
    statement (users, roles, keys, retirements) and every certificate packet seen are
    remembered: certificates are used as the union of what was seen and what is served
    (:func:`remembered_keyring`); any change of statement is reported (``keys_changed``),
    and with ``fail_on_key_change`` one that widens who may sign or when rejects
    (``keys-changed``; it is not remembered, so it keeps failing until accepted by a run
    without the flag), while a narrowing one is reported and remembered. A memory that
    cannot be read is never a first sighting (:func:`recall_statement`). ``at`` (the
    reference time) defaults to now; ``now`` (the wall clock, seconds since the epoch)
    stamps what the cache remembers, and defaults to ``at``.
    """
    file, signature = _paths(file, signature)
    at = _reference(at)
    name = _project(file, project)
    warnings: list[str] = []
    published = client.project_keys(name)
    fetched = _index_signature(file, signature, name, client)
    stamp = at.timestamp() if now is None else now
    record = published.record
    keyring = published.keyring
    recalled: StatementRecall | None = None
    if cache is not None and record is not None:
        statement = TrustStatement.from_record(record)
        recalled = recall_statement(cache, statement, fail_on_key_change=fail_on_key_change)
        keyring = remembered_keyring(
            cache,
            statement,
            published,
            client,
            now=stamp,
            fail_on_key_change=fail_on_key_change,
            warnings=warnings,
            limits=limits,
        )
    verifier = Verifier(
        keyring, owners=record, project=name if record is not None else None, limits=limits
    )
    result = verifier.verify(
        file,
        signature,
        at=at,
        signature_data=fetched[1] if fetched else None,
        signature_name=fetched[0] if fetched else None,
    )
    result = _nothing_published(dataclasses.replace(result, project=name), published, client)
    warnings.extend(
        f"the index lists key {fpr} for {name} but publishes no key file for it"
        for fpr in published.missing
    )
    if cache is not None and recalled is not None:
        return _judge_recall(
            result,
            recalled,
            cache,
            now=stamp,
            fail_on_key_change=fail_on_key_change,
            warnings=warnings,
        )
    return IndexVerification(result=result, warnings=warnings)


def _index_signature(
    file: Path,
    signature: Path | None,
    name: str,
    client: IndexClient,
) -> tuple[str, bytes] | None:
    """The signature to fetch from the index (its URL and bytes), or None to read locally.

    None when ``signature`` is given or ``FILE.asc`` exists beside ``file``. A path that
    cannot have a signature beside it (``.``, ``/``, a name too long) is an InputError.
    """
    if signature is not None:
        return None
    try:
        beside = file.with_name(file.name + ".asc")
        here = beside.exists()
    except ValueError:
        raise InputError(
            "not a file name (a directory or an empty path?)", source=str(file)
        ) from None
    except OSError as err:
        raise InputError(
            f"cannot look for {file.name}.asc beside it: {err.strerror or err}", source=str(file)
        ) from None
    if here:
        return None
    found = client.signature_for(name, file.name)
    if found is None:
        raise InputError(
            f"no signature: {file.name}.asc is not here and the index lists no "
            f"signature for {file.name} on {client.page_url(name)}",
            source=str(file),
        )
    return found


def _nothing_published(
    result: VerificationResult,
    published: ProjectKeys,
    client: IndexClient,
) -> VerificationResult:
    """An ``unknown-key`` verdict says when the index publishes no record, or no keys."""
    name = result.project or ""
    if published.record is None:
        return _unknown(
            result,
            f"the index has no ownership record for project {name} "
            f"({client.record_url(name)} not found): it publishes no keys for it",
        )
    if not published.certificates:
        return _unknown(
            result,
            f"the index publishes no keys for project {name} (its record lists none that exist)",
        )
    return result


def _judge_recall(
    result: VerificationResult,
    recalled: StatementRecall,
    cache: Cache,
    *,
    now: float,
    fail_on_key_change: bool,
    warnings: list[str],
) -> IndexVerification:
    """Report a changed statement; reject a widening one under ``fail_on_key_change``.

    The statement is remembered unless it was rejected (it keeps failing until a run
    without the flag accepts it).
    """
    if not recalled.changes:
        cache.record_project_statement(recalled.statement, now)
        return IndexVerification(result=result, warnings=warnings)
    warnings.append(recalled.message())
    rejected = fail_on_key_change and recalled.widens
    if not rejected:
        cache.record_project_statement(recalled.statement, now)
    return IndexVerification(
        result=result,
        warnings=warnings,
        keys_changed=recalled.to_json(),
        key_change_rejected=rejected,
    )


@dataclass(frozen=True, slots=True)
class StatementRecall:
    """A project's statement now, and how it differs from the one this machine accepted."""

    statement: TrustStatement
    changes: tuple[Change, ...]
    #: whether the change lets a key sign that could not, or for longer
    widens: bool
    #: when the previous statement was last seen (seconds since the epoch), if known
    previous_seen: float | None = None

    def to_json(self) -> dict[str, Any]:
        """``keys_changed``: fingerprints added and removed, and every change."""
        return {
            "added": [c.fingerprint for c in self.changes if c.kind is ChangeKind.KEY_ADDED],
            "removed": [c.fingerprint for c in self.changes if c.kind is ChangeKind.KEY_REMOVED],
            "widens": self.widens,
            "changes": [change.to_json() for change in self.changes],
            "previously_seen": (
                None if self.previous_seen is None else format_utc(self.previous_seen)
            ),
        }

    def message(self) -> str:
        """The loud warning: every change, one after the other."""
        name = self.statement.project
        since = (
            "" if self.previous_seen is None else f" (last seen {format_utc(self.previous_seen)})"
        )
        what = "; ".join(change.describe() for change in self.changes)
        return (
            f"THE TRUST STATEMENT OF {name} CHANGED since this machine last saw it{since}: {what}"
        )


def recall_statement(
    cache: Cache,
    statement: TrustStatement,
    *,
    fail_on_key_change: bool,
) -> StatementRecall:
    """Compare ``statement`` with the one ``cache`` remembers for its project.

    A memory that cannot be read is not a first sighting: under ``fail_on_key_change`` it
    is a :class:`CacheError`; otherwise it is reported as a widening change.
    """
    from pgpverify.index.cache import MemoryState

    memory = cache.project_memory(statement.project)
    if memory.state is MemoryState.NEVER:
        return StatementRecall(statement, (), widens=False)
    if memory.state is MemoryState.LOST or memory.statement is None:
        if fail_on_key_change:
            raise CacheError(
                f"the trust memory of {statement.project} cannot be read ({memory.problem}): "
                "cannot tell whether its keys changed (--fail-on-key-change); review them, "
                "then run once without the flag to accept them"
            )
        lost = Change(ChangeKind.MEMORY_UNREADABLE, widens=True, after=memory.problem)
        return StatementRecall(statement, (lost,), widens=True)
    before = memory.statement
    changes = compare(before, statement)
    wider = widens(before, statement) or any(c.widens for c in changes)
    return StatementRecall(statement, changes, widens=wider, previous_seen=memory.last_seen)


def remembered_keyring(
    cache: Cache,
    statement: TrustStatement,
    published: ProjectKeys,
    client: IndexClient,
    *,
    now: float,
    fail_on_key_change: bool,
    warnings: list[str],
    limits: Limits,
) -> Keyring:
    """The keys ``statement`` lists, each the union of what was seen and what is served.

    Certificates only grow: a packet once seen (a revocation, a newer self-signature) stays
    in use when the index serves an older copy, which is said in ``warnings``. Of what is
    served, only the signatures the primary key made are remembered
    (:func:`~pgpverify.trust.memory.grow_certificate`, within one work budget for the run):
    forged ones are used for this verdict only, so they cannot pile up. A certificate memory
    that cannot be read is a :class:`CacheError` under ``fail_on_key_change``; otherwise a
    warning, and the served copy alone is used. A union over ``limits`` is a
    LimitExceededError: never a silently shortened certificate.
    """
    from pgpverify.index.cache import MemoryState

    ring = Keyring(limits=limits)
    budget = WorkBudget.of(limits)
    for fpr in statement.fingerprints:
        memory = cache.remembered_certificate(fpr)
        seen = memory.data if memory.state is MemoryState.KNOWN else None
        if memory.state is MemoryState.LOST:
            if fail_on_key_change:
                raise CacheError(
                    f"the remembered certificate {fpr} cannot be read ({memory.problem}); "
                    "run once without --fail-on-key-change to accept what the index serves"
                )
            warnings.append(
                f"the remembered certificate {fpr} cannot be read "
                f"({memory.problem}): using the copy the index serves"
            )
        served = published.certificates.get(fpr)
        copies = _binary_copies(served, seen or b"") if served is not None else []
        if not seen and not copies:
            continue
        try:
            grown = grow_certificate(seen, copies, fingerprint=fpr, limits=limits, budget=budget)
            fresh = union_certificate(copies, fingerprint=fpr, limits=limits) if copies else b""
        except LimitExceededError:
            raise
        except MalformedError as err:
            # Not one clean certificate: the memory stays as it was, and the verifier gets
            # the remembered packets first, then the served file.
            warnings.append(
                f"the key file for {fpr} does not merge with what was seen "
                f"({err.message}); not remembered"
            )
            if seen:
                ring.add_bytes(seen, source=f"remembered certificate {fpr}")
            if served is not None:
                ring.add_bytes(served, source=client.key_url(fpr))
            continue
        warnings.extend(
            _growth_warnings(
                fpr, grown, dropped=(_count(grown.used) - _count(fresh) if seen and copies else 0)
            )
        )
        if grown.remembered != seen:
            cache.record_certificate(fpr, grown.remembered, now)
        ring.add_bytes(grown.used, source=client.key_url(fpr))
    return ring


def _growth_warnings(fpr: str, grown: GrownCertificate, *, dropped: int) -> list[str]:
    """What a person should know about how a served key file grew the remembered one."""
    out = []
    if dropped:
        out.append(
            f"the index served key {fpr} without {dropped} packet(s) this machine saw "
            "before (an older copy?); they are kept and used"
        )
    if grown.forged:
        out.append(
            f"the index served key {fpr} with {grown.forged} signature(s) its primary "
            "key did not make (forged or corrupt); not remembered"
        )
    if grown.unchecked:
        out.append(
            f"{grown.unchecked} new signature(s) on key {fpr} were not checked (a work "
            "cap was reached); not remembered this time"
        )
    return out


def _binary_copies(data: bytes, seen: bytes = b"") -> list[bytes]:
    """The binary certificates in a key file (armored blocks that decode, or the bytes).

    A block of signatures only is a revocation certificate (``gpg --gen-revoke`` writes a
    PUBLIC KEY BLOCK, sq a SIGNATURE block): it becomes a copy of the certificate, the
    primary key packet of a block that starts with one (else of ``seen``, the remembered
    certificate), then those signatures, so that its key revocation is judged, and
    remembered, as a keyring judges it (never dropped because the memory merges
    certificates only).
    """
    try:
        blocks = binary_blocks(data)
    except MalformedError:
        return []
    copies = []
    loose = []
    head = _primary_packet(seen)
    for block in blocks:
        if block.error is not None:
            continue
        if block.label in (BINARY, "PUBLIC KEY BLOCK", "ARMORED FILE", "SIGNATURE"):
            shape = _shape(block.data)
            if shape and shape[0] and all(tag == Tag.SIGNATURE for tag in shape[0]):
                loose.append(block.data)
                continue
            if shape and shape[0][:1] == [Tag.PUBLIC_KEY]:
                head = shape[1]
            if block.label != "SIGNATURE":
                copies.append(block.data)
    return copies + ([head + sigs for sigs in loose] if head else [])


def _shape(data: bytes) -> tuple[list[int], bytes] | None:
    """The tags of the packets in ``data`` and its first packet; None if it does not frame."""
    tags: list[int] = []
    first = b""
    try:
        for pkt in iter_packets(data, max_packets=len(data) + 1):
            if not tags:
                first = encode_packet(pkt.tag, pkt.body)
            tags.append(pkt.tag)
    except MalformedError:
        return None
    return tags, first


def _primary_packet(certificate: bytes) -> bytes:
    """The primary key packet a (remembered) certificate starts with, else ``b""``."""
    try:
        tag, _, stop = frame(certificate, 0) if certificate else (0, 0, 0)
    except MalformedError:
        return b""
    return certificate[:stop] if tag == Tag.PUBLIC_KEY else b""


def _count(certificate: bytes) -> int:
    return sum(1 for _ in iter_packets(certificate, max_packets=len(certificate) + 1))


def verify_from_lock(
    file: StrPath,
    *,
    lock: LockFile,
    at: datetime | None = None,
    signature: StrPath | None = None,
    project: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> VerificationResult:
    """Verify ``file`` with the ownership and certificates a lock file pins (no network).

    ``at`` (the reference time) defaults to now.
    """
    file, signature = _paths(file, signature)
    at = _reference(at)
    name = _project(file, project)
    locked = lock.project(name)
    if locked is None:
        result = Verifier(Keyring(limits=limits), limits=limits).verify(file, signature, at=at)
        return _unknown(
            dataclasses.replace(result, project=name),
            f"the lock file pins nothing for project {name}",
        )
    owners = lock.ownership(name)
    verifier = Verifier(
        lock.keyring_for(name, limits=limits),
        owners=owners,
        project=name if owners is not None else None,
        limits=limits,
    )
    return verifier.verify(file, signature, at=at)
