"""Verification with keys from an index or a lock file instead of local keyrings.

Each function gathers the trust inputs (ownership record and keys) for the file's
project, then hands them to :class:`pgpverify.Verifier`: the verdict, reasons, JSON and
exit codes are the ones of ``verify --keyring ... --owners ...``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pgpverify.errors import InputError
from pgpverify.index.client import IndexClient, project_from_filename
from pgpverify.limits import DEFAULT_LIMITS, Limits
from pgpverify.openpgp.keyring import Keyring
from pgpverify.verify import Outcome, Reason, VerificationResult, Verifier

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from pgpverify.index.cache import Cache
    from pgpverify.trust.lockfile import LockFile

__all__ = ["IndexVerification", "verify_from_index", "verify_from_lock"]


@dataclass(frozen=True, slots=True)
class IndexVerification:
    """The verdict, plus what a person should be told loudly about the index's answer."""

    result: VerificationResult
    warnings: list[str] = field(default_factory=list)


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


def verify_from_index(
    file: Path,
    *,
    client: IndexClient,
    at: datetime,
    signature: Path | None = None,
    project: str | None = None,
    cache: Cache | None = None,
    now: float | None = None,
    fail_on_key_change: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> IndexVerification:
    """Verify ``file`` with the ownership record and keys its index publishes.

    The project comes from the file name (wheel or sdist) unless ``project`` is given.
    Without ``signature``, ``FILE.asc`` is used if it exists locally, else the signature
    the project's simple page lists for the file. With a ``cache``, the project's
    declared key set is remembered: a change is reported (``keys_changed``) and, with
    ``fail_on_key_change``, rejects (and is not remembered, so it keeps failing until
    accepted by a run without the flag). ``now`` (the wall clock, seconds since the epoch)
    stamps what the cache remembers; it defaults to ``at``.
    """
    name = _project(file, project)
    warnings: list[str] = []
    published = client.project_keys(name)
    sig_data: bytes | None = None
    sig_name: str | None = None
    if signature is None and not file.with_name(file.name + ".asc").exists():
        found = client.signature_for(name, file.name)
        if found is None:
            raise InputError(
                f"no signature: {file.name}.asc is not here and the index lists no "
                f"signature for {file.name} on {client.page_url(name)}",
                source=str(file),
            )
        sig_name, sig_data = found
    record = published.record
    verifier = Verifier(
        published.keyring,
        owners=record,
        project=name if record is not None else None,
        limits=limits,
    )
    result = verifier.verify(file, signature, at=at, signature_data=sig_data,
                             signature_name=sig_name)
    result = dataclasses.replace(result, project=name)
    warnings.extend(
        f"the index lists key {fpr} for {name} but publishes no key file for it"
        for fpr in published.missing
    )
    if record is None:
        result = _unknown(
            result,
            f"the index has no ownership record for project {name} "
            f"({client.record_url(name)} not found): it publishes no keys for it",
        )
        return IndexVerification(result=result, warnings=warnings)
    if not published.certificates:
        result = _unknown(
            result, f"the index publishes no keys for project {name} (its record lists none "
            "that exist)",
        )
    if cache is not None:
        declared = sorted({k for m in record.maintainers for k in m.keys})
        previous = cache.known_project_keys(name)
        if previous is not None and frozenset(declared) != previous:
            added = sorted(set(declared) - previous)
            removed = sorted(previous - set(declared))
            result = dataclasses.replace(
                result, keys_changed={"added": added, "removed": removed}
            )
            warnings.append(
                f"THE KEYS OF {name} CHANGED since this machine last saw them: "
                f"added {', '.join(added) or 'none'}; removed {', '.join(removed) or 'none'}"
            )
            if fail_on_key_change:
                return IndexVerification(result=_keys_changed(result, name), warnings=warnings)
        cache.record_project_keys(name, declared, at.timestamp() if now is None else now)
    return IndexVerification(result=result, warnings=warnings)


def _keys_changed(result: VerificationResult, name: str) -> VerificationResult:
    message = (
        f"the declared keys of {name} changed since they were last seen "
        "(--fail-on-key-change); review the change, then run once without the flag to "
        "accept it"
    )
    if not result.ok:
        message = f"{result.message}; also, {message}"
    return dataclasses.replace(
        result, outcome=Outcome.REJECTED, reason=Reason.KEYS_CHANGED, message=message,
        maintainer=None,
    )


def verify_from_lock(
    file: Path,
    *,
    lock: LockFile,
    at: datetime,
    signature: Path | None = None,
    project: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> VerificationResult:
    """Verify ``file`` with the ownership and certificates a lock file pins (no network)."""
    name = _project(file, project)
    locked = lock.project(name)
    if locked is None:
        result = Verifier(Keyring(limits=limits), limits=limits).verify(file, signature, at=at)
        return _unknown(
            dataclasses.replace(result, project=name),
            f"the lock file pins nothing for project {name}",
        )
    owners = lock.ownership(name)
    verifier = Verifier(lock.keyring_for(name, limits=limits), owners=owners,
                        project=name if owners is not None else None, limits=limits)
    return verifier.verify(file, signature, at=at)

