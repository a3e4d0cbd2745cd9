"""Judge one audited file: two verdicts with the same code as ``verify``, then a category.

The verdicts come from :class:`pgpverify.Verifier` (the code ``pgpverify verify`` runs),
over the project's ownership record and published keys: as of now, and as of the upload
time (the later of the upload and the signature's own creation time, so a signature made
within the grace period is judged as of when it was made). A signer the record does not
list is looked up by its issuer fingerprint among the index's published keys
(``pgp/keys/<FPR>.asc``): a key published for someone else makes the file ``not-owner``
(and names whose key it is); a key nobody published leaves it ``unknown-key``.

The math of each (signature packet, key) pair is recorded, so ``run --from-store`` can
re-judge everything after it (algorithms, certificate at a new reference time, ownership)
without the file, which is never kept: :class:`RecordedMathVerifier` takes the recorded
outcome in place of hashing the document. A pair with no recorded outcome is
``bad-signature`` there: never accepted on trust.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from packaging.utils import canonicalize_name

from pgpverify.audit.categories import Judgement, believable_upload_time, categorise
from pgpverify.errors import PgpVerifyError
from pgpverify.isotime import parse_iso8601
from pgpverify.limits import DEFAULT_LIMITS, Limits
from pgpverify.openpgp.constants import HashAlgo, SigType, new_hash
from pgpverify.openpgp.keyring import Keyring
from pgpverify.trust.owners import OwnershipRecord
from pgpverify.verify import (
    CHUNK,
    Reason,
    VerificationResult,
    Verifier,
    _check_math_within,
    _text_forms,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from pathlib import Path

    from pgpverify.limits import WorkBudget

__all__ = [
    "FileVerdicts",
    "ProjectTrust",
    "RecordedMathVerifier",
    "judge_file",
    "record_bytes",
]

_FPR_HEX = 40


def record_bytes(record: OwnershipRecord) -> bytes:
    """A record as canonical JSON (the form the store archives and re-reads)."""
    from pgpverify.isotime import format_utc

    maintainers = []
    for m in record.maintainers:
        keys: list[Any] = []
        for fpr in m.keys:
            dates = [at for key, at in m.retired if key == fpr]
            if not dates:
                keys.append(fpr)
            keys.extend({"fingerprint": fpr, "retired": format_utc(at)} for at in dates)
        maintainers.append({"user": m.user, "role": m.role, "keys": keys})
    doc = {"project": record.project, "maintainers": maintainers}
    return json.dumps(doc, sort_keys=True, ensure_ascii=True).encode()


@dataclass(slots=True)
class ProjectTrust:
    """What a project's files are judged against: its record and its published keys."""

    project: str
    record: OwnershipRecord | None
    certificates: dict[str, bytes]
    limits: Limits = DEFAULT_LIMITS
    _keyring: Keyring | None = field(default=None, init=False, repr=False)

    def keyring(self, extra: bytes | None = None) -> Keyring:
        """The published keys (plus ``extra``, a key published for someone else)."""
        if extra is None and self._keyring is not None:
            return self._keyring
        ring = Keyring(limits=self.limits)
        for fpr, data in sorted(self.certificates.items()):
            ring.add_bytes(data, source=f"pgp/keys/{fpr}.asc")
        if extra is not None:
            ring.add_bytes(extra, source="key of another signer")
        else:
            self._keyring = ring
        return ring

    def owners(self) -> OwnershipRecord:
        """The record, or an empty one (nobody may sign) when the index has none."""
        if self.record is not None:
            return self.record
        return OwnershipRecord(project=str(canonicalize_name(self.project)), maintainers=())


@dataclass(slots=True)
class RecordedMathVerifier(Verifier):
    """A Verifier that takes step (6), the math, from an earlier run's record.

    ``recorded`` maps (signature index, signing key fingerprint) to whether the math held
    (and in which text canonicalisation). Everything else runs as in ``verify``.
    """

    recorded: dict[tuple[int, str], tuple[bool, str | None]] = field(default_factory=dict)
    sha256: str | None = None

    def _hash_and_check(self, doc: BinaryIO, attempts: list[Any], budget: WorkBudget) -> str:
        del doc, budget
        for attempt in attempts:
            key = attempt.key
            fpr = None if key is None else key.packet.fingerprint.hex().upper()
            found = self.recorded.get((attempt.index, fpr or ""))
            if found is None:
                attempt.valid_math = None
                attempt.reject(
                    Reason.BAD_SIGNATURE,
                    "the store holds no checked math for this signature and key "
                    "(the file is not archived): not accepted",
                )
                continue
            valid, form = found
            attempt.valid_math = valid
            if valid:
                attempt.canonicalization = form
            else:
                attempt.reject(
                    Reason.BAD_SIGNATURE, "the signature did not verify when the file was audited"
                )
        return self.sha256 or ""


@dataclass(slots=True)
class _Hashed:
    """One document's hash states, taken by the first verify and kept for the others."""

    binary: dict[int, Any] | None = None
    forms: dict[str, Any] = field(default_factory=dict)
    sha256: str = ""


@dataclass(slots=True)
class OnePassVerifier(Verifier):
    """A Verifier that reads a streamed document once for all of :func:`judge_file`.

    The first verify hashes the stream with every algorithm (and text form) that any
    signature packet of ``signature`` names, not only those whose key is known: a key
    found afterwards (one the index publishes for another signer) is checked against the
    same states. Every later verify (now, at upload, with that key) checks its math
    against the kept states without reading. Copies made with ``dataclasses.replace``
    share the states. The math itself is :class:`Verifier`'s, unchanged.
    """

    signature: bytes = b""
    hashed: _Hashed = field(default_factory=_Hashed)

    def _hash_and_check(self, doc: BinaryIO, attempts: list[Any], budget: WorkBudget) -> str:
        kept = self.hashed
        if kept.binary is None:
            sigs = [attempt.sig for attempt in attempts]
            with contextlib.suppress(PgpVerifyError):  # a malformed one: the verdict says so
                sigs += [attempt.sig for attempt in self._parse(self.signature)]
            binary_algos: set[int] = {int(HashAlgo.SHA256)}
            text_algos: set[int] = set()
            for sig in sigs:
                if sig is not None and new_hash(sig.hash_algo) is not None:
                    is_text = sig.sig_type == SigType.TEXT
                    (text_algos if is_text else binary_algos).add(sig.hash_algo)
            binary: dict[int, Any] = {algo: new_hash(algo) for algo in binary_algos}
            forms = _text_forms(text_algos) if text_algos else {}
            for chunk in iter(lambda: doc.read(CHUNK), b""):
                for ctx in binary.values():
                    ctx.update(chunk)
                for form in forms.values():
                    form.feed(chunk)
            for form in forms.values():
                form.end()
            kept.binary, kept.forms = binary, forms
            kept.sha256 = str(binary[HashAlgo.SHA256].hexdigest())
        for attempt in attempts:
            _check_math_within(attempt, kept.binary, kept.forms, budget)
        return kept.sha256


@dataclass(frozen=True, slots=True)
class FileVerdicts:
    """Both verdicts on one signed file, its category and the details a report lists."""

    now: VerificationResult
    at_upload: VerificationResult | None
    judgement: Judgement
    signature_created: float | None
    #: (index, signing key fingerprint, math held, canonicalisation) for each pair checked
    math: list[tuple[int, str, bool, str | None]]
    #: a key published for another signer that this file was judged with, and whose it is
    foreign_key: bytes | None = None
    key_owner: str | None = None

    def details(self) -> dict[str, Any]:
        """Hash and key algorithm and key size of the signature the verdict is about."""
        chosen = None
        for report in self.now.signatures:
            if (
                report.reason is self.now.reason
                and report.primary_fingerprint == self.now.primary_fingerprint
            ):
                chosen = report
                break
        if chosen is None and self.now.signatures:
            chosen = self.now.signatures[0]
        if chosen is None:
            return {"hash_algorithm": None, "key_algorithm": None, "key_bits": None}
        return {
            "hash_algorithm": chosen.hash_algorithm,
            "key_algorithm": chosen.key_algorithm,
            "key_bits": chosen.key_bits,
        }


def _seconds(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return parse_iso8601(text).timestamp()
    except ValueError:
        return None


def _issuer_fingerprints(result: VerificationResult) -> list[str]:
    found = []
    for report in result.signatures:
        issuer = report.issuer
        if (
            report.reason is Reason.UNKNOWN_KEY
            and issuer is not None
            and len(issuer) == _FPR_HEX
            and issuer not in found
        ):
            found.append(issuer)
    return found


def _math(*results: VerificationResult | None) -> list[tuple[int, str, bool, str | None]]:
    seen: dict[tuple[int, str], tuple[bool, str | None]] = {}
    for result in results:
        if result is None:
            continue
        for r in result.signatures:
            if r.valid_math is not None and r.signer_fingerprint is not None:
                seen[(r.index, r.signer_fingerprint)] = (r.valid_math, r.text_canonicalization)
    return [(i, fpr, ok, form) for (i, fpr), (ok, form) in sorted(seen.items())]


def key_owner(data: bytes, fingerprint: str, *, limits: Limits = DEFAULT_LIMITS) -> str:
    """Whose key this is, for a report: its user IDs (as text) and fingerprint."""
    ring = Keyring(limits=limits)
    try:
        ring.add_bytes(data, source=fingerprint)
        cert = ring.certificate(bytes.fromhex(fingerprint))
    except (PgpVerifyError, ValueError):
        cert = None
    uids = [] if cert is None else [u.decode("utf-8", "replace") for u in list(cert.userids)[:3]]
    return f"{', '.join(uids) or 'no user ID'} ({fingerprint})"


def judge_file(
    document: Path | bytes | BinaryIO,
    signature: bytes,
    trust: ProjectTrust,
    *,
    signature_name: str,
    upload_time: float | None,
    now: datetime,
    grace_seconds: float,
    hash_matches: bool | Callable[[], bool] = True,
    lookup_key: Callable[[str], bytes | None] | None = None,
    foreign_key: bytes | None = None,
    recorded: RecordedMathVerifier | None = None,
) -> FileVerdicts:
    """Verify ``document`` twice and categorise it (see the module docstring).

    ``lookup_key`` fetches an issuer's published key by fingerprint (live runs);
    ``foreign_key`` gives the one found before (``--from-store``); ``recorded`` replaces the
    math with an earlier run's outcome. A stream ``document`` is read once, by the first
    verify (:class:`OnePassVerifier`), and may be read no further; ``hash_matches`` may
    then be a function, asked after every verify (when the caller has hashed the rest).
    """
    from datetime import datetime, timezone

    one_pass = None
    if recorded is None and callable(getattr(document, "read", None)):
        one_pass = OnePassVerifier(trust.keyring(), signature=signature)

    def verifier(extra: bytes | None) -> Verifier:
        ring = trust.keyring(extra)
        kept = recorded if recorded is not None else one_pass  # what it learnt stays
        if kept is not None:
            return dataclasses.replace(
                kept,
                keyring=ring,
                owners=trust.owners(),
                project=trust.owners().project,
                limits=trust.limits,
            )
        return Verifier(
            ring, owners=trust.owners(), project=trust.owners().project, limits=trust.limits
        )

    def verify(v: Verifier, at: datetime) -> VerificationResult:
        return v.verify(document, at=at, signature_data=signature, signature_name=signature_name)

    upload_time = believable_upload_time(upload_time, now.timestamp())
    judge = verifier(foreign_key)
    result_now = verify(judge, now)
    owner: str | None = None
    extra = foreign_key
    if foreign_key is None and lookup_key is not None and result_now.reason is Reason.UNKNOWN_KEY:
        for fpr in _issuer_fingerprints(result_now)[:4]:
            data = lookup_key(fpr)
            if data is None:
                continue
            extra = data
            judge = verifier(data)
            result_now = verify(judge, now)
            break
    if extra is not None and result_now.primary_fingerprint is not None:
        owner = key_owner(extra, result_now.primary_fingerprint, limits=trust.limits)
    created = _seconds(result_now.created)
    result_up: VerificationResult | None = None
    if upload_time is not None:
        at_upload = max(upload_time, created) if created is not None else upload_time
        result_up = verify(judge, datetime.fromtimestamp(at_upload, timezone.utc))
    judgement = categorise(
        signed=True,
        reason_now=result_now.reason.value,
        reason_at_upload=None if result_up is None else result_up.reason.value,
        upload_time=upload_time,
        signature_created=created,
        grace_seconds=grace_seconds,
        hash_matches=hash_matches if isinstance(hash_matches, bool) else hash_matches(),
    )
    return FileVerdicts(
        now=result_now,
        at_upload=result_up,
        judgement=judgement,
        signature_created=created,
        math=_math(result_now, result_up),
        foreign_key=extra,
        key_owner=owner,
    )
