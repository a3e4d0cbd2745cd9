"""The verdict on one file: is its detached signature good under the strict policy.

:class:`Verifier` never prints, exits or reads the clock: the reference time is a
parameter. A bad signature file is a verdict (``malformed``); a missing document or an
unreadable keyring raises :class:`pgpverify.errors.InputError`.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from pgpverify.errors import InputError, LimitExceededError, MalformedError, UnsupportedError
from pgpverify.isotime import format_utc
from pgpverify.limits import DEFAULT_LIMITS, Limits
from pgpverify.openpgp.armor import decode_blocks, looks_armored
from pgpverify.openpgp.constants import (
    HashAlgo,
    PubKeyAlgo,
    SigType,
    hash_name,
    new_hash,
    pubkey_name,
)
from pgpverify.openpgp.keyring import read_bounded
from pgpverify.openpgp.packets import Tag, iter_packets
from pgpverify.openpgp.signature import Signature, parse_signature

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from pgpverify.openpgp.certificate import Certificate, SigningKey
    from pgpverify.openpgp.keymaterial import PublicKey
    from pgpverify.openpgp.keyring import Keyring
    from pgpverify.trust.owners import Maintainer, OwnershipRecord

__all__ = [
    "Outcome",
    "Reason",
    "SignatureReport",
    "VerificationError",
    "VerificationResult",
    "Verifier",
]

CHUNK = 1 << 20

#: Document-signature hashes accepted (RFC 9580 §9.5); MD5, SHA-1 and RIPEMD-160 are not.
DOCUMENT_HASHES = frozenset(
    {HashAlgo.SHA224, HashAlgo.SHA256, HashAlgo.SHA384, HashAlgo.SHA512, HashAlgo.SHA3_256,
     HashAlgo.SHA3_512}
)
_WEAK_HASHES = frozenset({HashAlgo.MD5, HashAlgo.SHA1, HashAlgo.RIPEMD160})
#: Algorithms whose strength is the size of a modulus or group: at least 2048 bits.
_MODULUS_ALGOS = frozenset(
    {PubKeyAlgo.RSA, PubKeyAlgo.RSA_SIGN, PubKeyAlgo.RSA_ENCRYPT, PubKeyAlgo.DSA,
     PubKeyAlgo.ELGAMAL, PubKeyAlgo.ELGAMAL_SIGN}
)
MIN_MODULUS_BITS = 2048


class Outcome(enum.Enum):
    """The overall verdict."""

    GOOD = "good"
    REJECTED = "rejected"


class Reason(enum.Enum):
    """Why a signature was accepted or rejected; the value is the JSON/CLI spelling."""

    GOOD = "good"
    BAD_SIGNATURE = "bad-signature"
    UNKNOWN_KEY = "unknown-key"
    KEY_EXPIRED = "key-expired"
    KEY_REVOKED = "key-revoked"
    KEY_NOT_YET_VALID = "key-not-yet-valid"
    NOT_SIGNING_KEY = "not-signing-key"
    SIGNATURE_EXPIRED = "signature-expired"
    WEAK_HASH = "weak-hash"
    WEAK_KEY = "weak-key"
    MALFORMED = "malformed"
    NOT_OWNER = "not-owner"
    #: index mode with --fail-on-key-change: the project's declared keys changed
    KEYS_CHANGED = "keys-changed"


#: How far a signature got through the steps below; the best rejected one is reported.
_RANK = {
    Reason.MALFORMED: 0,
    Reason.UNKNOWN_KEY: 1,
    Reason.WEAK_HASH: 2,
    Reason.WEAK_KEY: 2,
    Reason.BAD_SIGNATURE: 3,
    Reason.NOT_SIGNING_KEY: 4,
    Reason.KEY_NOT_YET_VALID: 4,
    Reason.KEY_EXPIRED: 4,
    Reason.KEY_REVOKED: 4,
    Reason.SIGNATURE_EXPIRED: 5,
    Reason.NOT_OWNER: 6,
    Reason.KEYS_CHANGED: 6,
    Reason.GOOD: 7,
}


class VerificationError(Exception):
    """Raised by :meth:`Verifier.verify_or_raise` for a rejected file; carries the result."""

    def __init__(self, result: VerificationResult) -> None:
        self.result = result
        super().__init__(f"{result.file}: {result.reason.value}: {result.message}")


def _hex(value: bytes | None) -> str | None:
    return value.hex().upper() if value is not None else None


def _iso(ts: int | None) -> str | None:
    return None if ts is None else format_utc(ts)


@dataclass(frozen=True, slots=True)
class SignatureReport:
    """The judgement of one signature packet of the signature file."""

    index: int
    reason: Reason
    message: str
    signature_type: str | None = None
    hash_algorithm: str | None = None
    key_algorithm: str | None = None
    key_bits: int | None = None
    issuer: str | None = None
    signer_fingerprint: str | None = None
    primary_fingerprint: str | None = None
    created: str | None = None
    #: whether the math was checked and held (None: not checked)
    valid_math: bool | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "index": self.index,
            "reason": self.reason.value,
            "message": self.message,
            "signature_type": self.signature_type,
            "hash_algorithm": self.hash_algorithm,
            "key_algorithm": self.key_algorithm,
            "key_bits": self.key_bits,
            "issuer": self.issuer,
            "signer_fingerprint": self.signer_fingerprint,
            "primary_fingerprint": self.primary_fingerprint,
            "created": self.created,
            "valid_math": self.valid_math,
        }


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The verdict on one file. Use ``result.ok``; there is deliberately no ``__bool__``."""

    outcome: Outcome
    reason: Reason
    message: str
    file: str
    sha256: str | None
    signature_file: str
    signer_fingerprint: str | None = None
    primary_fingerprint: str | None = None
    created: str | None = None
    project: str | None = None
    maintainer: Maintainer | None = None
    signatures: tuple[SignatureReport, ...] = ()
    #: index mode: how the project's declared key set changed since it was last seen
    #: (``{"added": [...], "removed": [...], "previously_seen": ISO time}``), else None
    keys_changed: dict[str, Any] | None = None

    __bool__ = None

    @property
    def ok(self) -> bool:
        """True only for a good signature under the whole policy."""
        return self.outcome is Outcome.GOOD

    def to_json(self) -> dict[str, Any]:
        """The ``--format json`` object."""
        return {
            "status": self.outcome.value,
            "reason": self.reason.value,
            "message": self.message,
            "file": self.file,
            "signature": self.signature_file,
            "sha256": self.sha256,
            "signer_fingerprint": self.signer_fingerprint,
            "primary_fingerprint": self.primary_fingerprint,
            "created": self.created,
            "project": self.project,
            "maintainer": (
                {"user": self.maintainer.user, "role": self.maintainer.role}
                if self.maintainer is not None
                else None
            ),
            "keys_changed": self.keys_changed,
            "signatures": [s.to_json() for s in self.signatures],
        }


@dataclass(slots=True)
class _Attempt:
    """One (signature, candidate key) pair on its way through the steps."""

    index: int
    sig: Signature | None
    reason: Reason | None = None
    message: str = ""
    cert: Certificate | None = None
    key: SigningKey | None = None
    material: PublicKey | None = None
    valid_math: bool | None = None
    maintainer: Maintainer | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def reject(self, reason: Reason, message: str) -> _Attempt:
        self.reason = reason
        self.message = message
        return self

    def report(self) -> SignatureReport:
        sig = self.sig
        reason = self.reason or Reason.GOOD
        return SignatureReport(
            index=self.index,
            reason=reason,
            message=self.message,
            signature_type=(
                None if sig is None else f"0x{sig.sig_type:02X}"
            ),
            hash_algorithm=None if sig is None else hash_name(sig.hash_algo),
            key_algorithm=(
                self.material.name if self.material is not None
                else (None if sig is None else pubkey_name(sig.pubkey_algo))
            ),
            key_bits=None if self.material is None else self.material.bits,
            issuer=None if sig is None else _issuer_text(sig),
            signer_fingerprint=None if self.key is None else _hex(self.key.packet.fingerprint),
            primary_fingerprint=None if self.cert is None else _hex(self.cert.fingerprint),
            created=None if sig is None else _iso(sig.created),
            valid_math=self.valid_math,
        )


def _issuer_text(sig: Signature) -> str | None:
    if sig.issuer_fingerprint is not None:
        return _hex(sig.issuer_fingerprint)
    return _hex(sig.issuer_key_id)


class _TextCanonicalizer:
    """Line endings to CRLF for text signatures (RFC 9580 §5.2.1.2), across chunk edges."""

    __slots__ = ("_cr",)

    def __init__(self) -> None:
        self._cr = False

    def feed(self, chunk: bytes) -> bytes:
        if self._cr:
            chunk = b"\r" + chunk
            self._cr = False
        if chunk.endswith(b"\r"):
            chunk = chunk[:-1]
            self._cr = True
        return chunk.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")

    def end(self) -> bytes:
        return b"\r" if self._cr else b""


@dataclass(slots=True)
class Verifier:
    """Verifies detached signatures against a keyring and, optionally, an ownership record.

    ``project`` and ``owners`` go together: with them, a good signature is accepted only
    if its primary key is listed for an Owner or Maintainer of ``project``.
    """

    keyring: Keyring
    owners: OwnershipRecord | None = None
    project: str | None = None
    limits: Limits = DEFAULT_LIMITS

    def __post_init__(self) -> None:
        if (self.owners is None) != (self.project is None):
            msg = "project and owners must be given together"
            raise ValueError(msg)

    def verify_or_raise(
        self, file: Path, signature: Path | None = None, *, at: datetime
    ) -> VerificationResult:
        """Like :meth:`verify`, but raise :class:`VerificationError` unless the file is good."""
        result = self.verify(file, signature, at=at)
        if not result.ok:
            raise VerificationError(result)
        return result

    def verify(
        self,
        file: Path,
        signature: Path | None = None,
        *,
        at: datetime,
        signature_data: bytes | None = None,
        signature_name: str | None = None,
    ) -> VerificationResult:
        """Judge ``signature`` (default ``FILE.asc``) over ``file`` at reference time ``at``.

        ``signature_data`` gives the signature's bytes instead (fetched from an index;
        ``signature_name``, e.g. its URL, names it in the result).

        Steps, each block below labelled with its number:
          (1) limits: the signature file is read with a size cap; the document is streamed
          (2) armor (RFC 9580 §6) or binary
          (3) signature packets only, each a v4 0x00/0x01 signature without defects (§5.2)
          (4) issuer -> certificate and signing key (§5.2.3.12, §5.2.3.35)
          (5) algorithm policy: hash and key algorithms and sizes (§9)
          (6) hash the document once per algorithm, check prefix and math (§5.2.4)
          (7) certificate valid at the signature time and at ``at`` (§10.1, §5.2.3)
          (8) signature expiration, then ownership -> result
        The math (6) comes before the certificate (7): until it holds, the creation time
        that (7) judges is only a claim.
        """
        if at.tzinfo is None:
            msg = "the reference time must be timezone-aware"
            raise ValueError(msg)
        now = int(at.timestamp())
        try:
            doc = file.open("rb")
        except FileNotFoundError:
            raise InputError("file not found", source=str(file)) from None
        except IsADirectoryError:
            raise InputError("is a directory, not a file", source=str(file)) from None
        except OSError as err:
            raise InputError(f"cannot read: {err.strerror or err}", source=str(file)) from None
        # after the open: a file has a name ("." and "/" have none, and are directories)
        sig_path = signature if signature is not None else file.with_name(file.name + ".asc")
        sig_name = signature_name or str(sig_path)
        with doc:
            # (1) limits
            try:
                if signature_data is None:
                    sig_bytes = read_bounded(
                        sig_path, self.limits.signature_bytes, "signature file"
                    )
                elif len(signature_data) > self.limits.signature_bytes:
                    raise LimitExceededError(
                        "size of the signature file", self.limits.signature_bytes
                    )
                else:
                    sig_bytes = signature_data
            except MalformedError as err:
                return self._malformed(file, sig_name, doc, err.message)
            # (2) armor, (3) packets
            try:
                attempts = self._parse(sig_bytes)
            except MalformedError as err:
                return self._malformed(file, sig_name, doc, err.message)
            # (4) issuer -> certificate, (5) algorithm policy
            candidates: list[_Attempt] = []
            for attempt in attempts:
                if attempt.reason is None:
                    candidates.extend(self._candidates(attempt))
            # (6) hash the document, check the math
            sha256 = self._hash_and_check(doc, [a for a in candidates if a.reason is None])
        # (7) certificate, (8) signature expiration and ownership
        for attempt in candidates:
            if attempt.reason is None:
                self._judge(attempt, now)
        return self._result(file, sig_name, sha256, attempts, candidates)

    # -- steps ---------------------------------------------------------------------------

    def _malformed(
        self, file: Path, sig_name: str, doc: BinaryIO, message: str
    ) -> VerificationResult:
        sha = hashlib.sha256()
        for chunk in iter(lambda: doc.read(CHUNK), b""):
            sha.update(chunk)
        return VerificationResult(
            outcome=Outcome.REJECTED,
            reason=Reason.MALFORMED,
            message=f"the signature file is malformed: {message}",
            file=str(file),
            sha256=sha.hexdigest(),
            signature_file=sig_name,
            project=self.project,
        )

    def _parse(self, data: bytes) -> list[_Attempt]:
        if not data.strip():
            raise MalformedError("the signature file is empty")
        if looks_armored(data):
            blocks = decode_blocks(data)
            binary = []
            for block in blocks:
                if block.error is not None:
                    raise MalformedError(f"armored block at line {block.line + 1}: {block.error}")
                if block.label != "SIGNATURE":
                    raise MalformedError(f"a PGP {block.label} is not a detached signature")
                binary.append(block.data)
        else:
            binary = [data]
        attempts: list[_Attempt] = []
        for chunk in binary:
            for pkt in iter_packets(chunk, max_packets=self.limits.signature_packets):
                if pkt.tag != Tag.SIGNATURE:
                    raise MalformedError(
                        f"a {pkt.name} packet is not allowed in a detached signature"
                    )
                if len(attempts) >= self.limits.signature_packets:
                    raise MalformedError(
                        f"more than {self.limits.signature_packets} signature packets"
                    )
                attempts.append(self._parse_one(len(attempts), pkt.body))
        return attempts

    def _parse_one(self, index: int, body: bytes) -> _Attempt:
        try:
            sig = parse_signature(body, max_subpackets=self.limits.subpackets,
                                  depth=self.limits.nesting)
        except MalformedError as err:
            return _Attempt(index=index, sig=None).reject(Reason.MALFORMED, err.message)
        attempt = _Attempt(index=index, sig=sig)
        if sig.sig_type not in (SigType.BINARY, SigType.TEXT):
            from pgpverify.openpgp.constants import SIG_TYPE_NAMES

            name = SIG_TYPE_NAMES.get(sig.sig_type, "unknown")
            return attempt.reject(
                Reason.MALFORMED,
                f"signature type 0x{sig.sig_type:02X} ({name}) is not a document signature",
            )
        if sig.defects:
            return attempt.reject(Reason.MALFORMED, "; ".join(sig.defects))
        return attempt

    def _candidates(self, attempt: _Attempt) -> list[_Attempt]:
        """(4) one attempt per certificate holding the issuer, each through (5)."""
        sig = attempt.sig
        assert sig is not None
        ids = sig.issuer_key_ids
        if not ids:
            return [attempt.reject(Reason.UNKNOWN_KEY, "the signature names no issuer")]
        found: list[_Attempt] = []
        seen: set[tuple[bytes, bytes]] = set()
        for key_id in ids:
            for cert in self.keyring.lookup(key_id):
                key = cert.find_key(key_id)
                if key is None:
                    continue
                fpr = key.packet.fingerprint
                if sig.issuer_fingerprint is not None and fpr != sig.issuer_fingerprint:
                    continue
                if (cert.fingerprint, fpr) in seen:
                    continue
                seen.add((cert.fingerprint, fpr))
                found.append(self._policy(_Attempt(index=attempt.index, sig=sig, cert=cert,
                                                   key=key)))
        if not found:
            return [attempt.reject(
                Reason.UNKNOWN_KEY,
                f"no key {_issuer_text(sig)} in the keyring",
            )]
        return found

    def _policy(self, attempt: _Attempt) -> _Attempt:
        """(5) hash algorithm, then the signing key's and the primary key's algorithm."""
        sig, cert, key = attempt.sig, attempt.cert, attempt.key
        assert sig is not None
        assert cert is not None
        assert key is not None
        try:
            attempt.material = cert.material(key)
        except UnsupportedError as err:
            return attempt.reject(Reason.WEAK_KEY, f"the signing key is unusable: {err.message}")
        except MalformedError as err:
            return attempt.reject(
                Reason.NOT_SIGNING_KEY, f"the signing key does not decode: {err.message}"
            )
        if sig.hash_algo in _WEAK_HASHES or (
            sig.hash_algo in DOCUMENT_HASHES and new_hash(sig.hash_algo) is None
        ):
            return attempt.reject(
                Reason.WEAK_HASH, f"{hash_name(sig.hash_algo)} is too weak for a signature"
            )
        if sig.hash_algo not in DOCUMENT_HASHES:
            return attempt.reject(
                Reason.WEAK_HASH, f"{hash_name(sig.hash_algo)} is not an accepted hash algorithm"
            )
        material = attempt.material
        if not material.can_sign:
            return attempt.reject(
                Reason.NOT_SIGNING_KEY, f"{material.name} is not a signing algorithm"
            )
        if sig.pubkey_algo != material.algorithm:
            return attempt.reject(
                Reason.BAD_SIGNATURE,
                f"the signature claims {pubkey_name(sig.pubkey_algo)} but the key is "
                f"{material.name}",
            )
        weak = _weak(material)
        if weak:
            return attempt.reject(Reason.WEAK_KEY, f"the signing key is too weak: {weak}")
        if not key.is_primary:
            try:
                primary = cert.primary_material()
            except UnsupportedError as err:
                return attempt.reject(
                    Reason.WEAK_KEY, f"the primary key is unusable: {err.message}"
                )
            except MalformedError as err:
                return attempt.reject(
                    Reason.NOT_SIGNING_KEY, f"the primary key does not decode: {err.message}"
                )
            weak = _weak(primary)
            if weak:
                return attempt.reject(Reason.WEAK_KEY, f"the primary key is too weak: {weak}")
        return attempt

    def _hash_and_check(self, doc: BinaryIO, attempts: list[_Attempt]) -> str:
        """(6) stream the document once; one context per (hash, text mode); check each."""
        contexts: dict[tuple[int, bool], Any] = {(HashAlgo.SHA256, False): hashlib.sha256()}
        for attempt in attempts:
            assert attempt.sig is not None
            mode = (attempt.sig.hash_algo, attempt.sig.sig_type == SigType.TEXT)
            if mode not in contexts:
                contexts[mode] = new_hash(mode[0])
        binary = [ctx for (_, text), ctx in contexts.items() if not text]
        text = [ctx for (_, text), ctx in contexts.items() if text]
        canon = _TextCanonicalizer() if text else None
        try:
            for chunk in iter(lambda: doc.read(CHUNK), b""):
                for ctx in binary:
                    ctx.update(chunk)
                if canon is not None:
                    converted = canon.feed(chunk)
                    for ctx in text:
                        ctx.update(converted)
        except OSError as err:
            raise InputError(f"cannot read: {err.strerror or err}", source=doc.name) from None
        if canon is not None:
            tail = canon.end()
            for ctx in text:
                ctx.update(tail)
        for attempt in attempts:
            sig, material = attempt.sig, attempt.material
            assert sig is not None
            assert material is not None
            ctx = contexts[(sig.hash_algo, sig.sig_type == SigType.TEXT)].copy()
            ctx.update(sig.trailer)
            digest = ctx.digest()
            attempt.valid_math = digest[:2] == sig.left16 and material.verify(
                sig.hash_algo, digest, sig.mpis
            )
            if not attempt.valid_math:
                why = (
                    "the hash prefix does not match"
                    if digest[:2] != sig.left16
                    else "the signature does not verify"
                )
                attempt.reject(
                    Reason.BAD_SIGNATURE, f"{why}: the file or the signature was altered"
                )
        return str(contexts[(HashAlgo.SHA256, False)].hexdigest())

    def _judge(self, attempt: _Attempt, now: int) -> None:
        """(7) certificate at signing time and now, (8) expiration and ownership."""
        sig, cert, key = attempt.sig, attempt.cert, attempt.key
        assert sig is not None
        assert cert is not None
        assert key is not None
        assert sig.created is not None
        judgement = cert.judge(key, sig.created, now)
        if judgement is not None:
            attempt.reject(Reason(judgement.reason), judgement.message)
            return
        if sig.created > now:
            attempt.reject(
                Reason.KEY_NOT_YET_VALID,
                f"the signature claims a creation time after the reference time "
                f"({_iso(sig.created)})",
            )
            return
        if sig.expired_at(now):
            assert sig.expiration is not None
            attempt.reject(
                Reason.SIGNATURE_EXPIRED,
                f"the signature expired at {_iso(sig.created + sig.expiration)}",
            )
            return
        if self.owners is not None and self.project is not None:
            if not self.owners.is_for(self.project):
                attempt.reject(
                    Reason.NOT_OWNER,
                    f"the ownership record is for project {self.owners.project!r}, "
                    f"not {self.project!r}",
                )
                return
            primary = _hex(cert.fingerprint)
            assert primary is not None
            maintainer = self.owners.signer(primary)
            if maintainer is None:
                attempt.reject(
                    Reason.NOT_OWNER,
                    f"key {primary} is not listed for an Owner or Maintainer of "
                    f"{self.owners.project}",
                )
                return
            retired = self.owners.retired_at(primary)
            if retired is not None and sig.created >= retired:
                attempt.reject(
                    Reason.NOT_OWNER,
                    f"key {primary} of {maintainer.user} was retired for "
                    f"{self.owners.project} at {_iso(retired)}; this signature was made "
                    f"after that",
                )
                return
            attempt.maintainer = maintainer

    def _result(
        self,
        file: Path,
        sig_name: str,
        sha256: str,
        attempts: list[_Attempt],
        candidates: list[_Attempt],
    ) -> VerificationResult:
        # Per signature packet: the one that got furthest among its candidate keys.
        by_index: dict[int, list[_Attempt]] = {}
        for cand in candidates:
            by_index.setdefault(cand.index, []).append(cand)
        per_sig = [max(by_index.get(a.index, [a]), key=_rank) for a in attempts]
        best = max(per_sig, key=_rank)  # max() keeps the first of equals
        reason = best.reason or Reason.GOOD
        report = best.report()
        if reason is Reason.GOOD:
            who = (
                f" by {best.maintainer.user} ({best.maintainer.role} of {self.project})"
                if best.maintainer is not None
                else ""
            )
            message = f"good signature from key {report.signer_fingerprint}{who}"
        else:
            message = best.message
        return VerificationResult(
            outcome=Outcome.GOOD if reason is Reason.GOOD else Outcome.REJECTED,
            reason=reason,
            message=message,
            file=str(file),
            sha256=sha256,
            signature_file=sig_name,
            signer_fingerprint=report.signer_fingerprint,
            primary_fingerprint=report.primary_fingerprint,
            created=report.created if best.cert is not None else None,
            project=self.project,
            maintainer=best.maintainer,
            signatures=tuple(a.report() for a in per_sig),
        )


def _rank(attempt: _Attempt) -> int:
    return _RANK[attempt.reason or Reason.GOOD]


def _weak(material: PublicKey) -> str | None:
    if material.algorithm in _MODULUS_ALGOS and material.bits < MIN_MODULUS_BITS:
        return f"{material.name} bits is under {MIN_MODULUS_BITS}"
    return None
