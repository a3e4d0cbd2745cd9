"""The verdict on one file: is its detached signature good under the strict policy.

:class:`Verifier` never prints or exits, and reads the clock only when no reference time
is given. The document may be a path, bytes, a binary stream, or a :class:`DigestSet` the
caller fed while downloading; the algorithm policy is a :class:`pgpverify.policy.Policy`
and who may sign a :class:`pgpverify.policy.SignerPolicy`. A bad signature file is a
verdict (``malformed``); a missing document or an unreadable keyring raises
:class:`pgpverify.errors.InputError`.
"""

from __future__ import annotations

import enum
import hashlib
import io
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, BinaryIO, TypeAlias

from pgpverify.errors import (
    InputError,
    LimitExceededError,
    MalformedError,
    UnsupportedError,
    WorkLimitError,
)
from pgpverify.io import BINARY, binary_blocks, display_path, open_document, read_bounded
from pgpverify.isotime import format_utc
from pgpverify.limits import DEFAULT_LIMITS, Limits, WorkBudget
from pgpverify.openpgp._record import FrozenFields, Record
from pgpverify.openpgp.certificate import KeyVerdict
from pgpverify.openpgp.constants import (
    HashAlgo,
    SigType,
    hash_name,
    new_hash,
    pubkey_name,
)
from pgpverify.openpgp.packets import TAG_NAMES, Tag, iter_packets
from pgpverify.openpgp.signature import Signature, parse_signature
from pgpverify.policy import DEFAULT_POLICY, Policy, SignerPolicy

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from pgpverify.io import StrPath
    from pgpverify.openpgp.certificate import Certificate, CertificatePool, SigningKey
    from pgpverify.openpgp.keymaterial import KeyPacket, PublicKey
    from pgpverify.openpgp.keyring import Keyring
    from pgpverify.trust.owners import Maintainer, OwnershipRecord

__all__ = [
    "DigestSet",
    "Document",
    "Outcome",
    "Reason",
    "SignatureReport",
    "VerificationError",
    "VerificationResult",
    "Verifier",
]

CHUNK = 1 << 20

#: Document-signature hashes the default policy accepts (RFC 9580 §9.5); MD5, SHA-1 and
#: RIPEMD-160 are not. :attr:`pgpverify.policy.Policy.document_hashes` is the one used.
DOCUMENT_HASHES = DEFAULT_POLICY.document_hashes
_WEAK_HASHES = frozenset({HashAlgo.MD5, HashAlgo.SHA1, HashAlgo.RIPEMD160})
MIN_MODULUS_BITS = DEFAULT_POLICY.min_modulus_bits


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


#: How far a signature got, in the order of the README's policy table: a total order, so
#: with several signatures the reported reason never depends on their order in the file.
_RANK = {
    reason: rank
    for rank, reason in enumerate(
        (
            Reason.MALFORMED,
            Reason.UNKNOWN_KEY,
            Reason.WEAK_HASH,
            Reason.WEAK_KEY,
            Reason.BAD_SIGNATURE,
            Reason.KEY_REVOKED,
            Reason.KEY_NOT_YET_VALID,
            Reason.NOT_SIGNING_KEY,
            Reason.KEY_EXPIRED,
            Reason.SIGNATURE_EXPIRED,
            Reason.NOT_OWNER,
            Reason.GOOD,
        )
    )
}
#: The one table from the certificate judge's verdicts to reasons.
_KEY_REASONS = {
    KeyVerdict.REVOKED: Reason.KEY_REVOKED,
    KeyVerdict.NOT_YET_VALID: Reason.KEY_NOT_YET_VALID,
    KeyVerdict.NOT_SIGNING: Reason.NOT_SIGNING_KEY,
    KeyVerdict.EXPIRED: Reason.KEY_EXPIRED,
}
_SHA256 = int(HashAlgo.SHA256)
#: Text signatures (0x01): the canonical forms tried, in this order (see _TextForm).
TEXT_CANONICALIZATIONS = ("rfc9580", "sequoia", "gnupg", "gnupg-rfc2440")
#: Every form is tried, so a text signature verifies over any copy that differs from what
#: was signed in line endings or in trailing spaces, tabs, NULs and CRs at line ends (what
#: GnuPG's forms drop), whichever form matched the file at hand: the warning says it all.
TEXT_WARNING = (
    "this is a text-mode signature: it does not bind line endings or trailing spaces, tabs "
    "and NULs at line ends, so copies of the file that differ only in those verify too"
)


class VerificationError(Exception):
    """Raised by :meth:`Verifier.verify_or_raise` for a rejected file; carries the result."""

    def __init__(self, result: VerificationResult) -> None:
        self.result = result
        super().__init__(f"{result.file}: {result.reason.value}: {result.message}")


#: hashlib names a DigestSet takes, and their OpenPGP IDs (RFC 9580 §9.5)
_DIGEST_NAMES = {
    "sha224": HashAlgo.SHA224,
    "sha256": HashAlgo.SHA256,
    "sha384": HashAlgo.SHA384,
    "sha512": HashAlgo.SHA512,
    "sha3_256": HashAlgo.SHA3_256,
    "sha3_512": HashAlgo.SHA3_512,
}


class DigestSet:
    """A document hashed by the caller as it arrived: one hash state per algorithm.

    For callers that hash while downloading: feed every chunk to :meth:`update`, then give
    the set to :meth:`Verifier.verify` instead of the document. It holds hash *states*,
    not finished digests, because an OpenPGP signature hashes the document followed by its
    own trailer (RFC 9580 §5.2.4): the verifier continues a copy of each state.

    Only binary signatures (type 0x00) can be checked this way. A text signature (0x01)
    hashes a canonical form of the document that only its bytes give, and a signature
    whose hash algorithm the set lacks cannot be checked either: for those,
    :meth:`Verifier.verify` raises :class:`pgpverify.errors.InputError` (verify over the
    bytes, a stream or the path instead). ``algorithms`` are hashlib names
    (``sha256``, ``sha512``, ``sha384``, ``sha224``, ``sha3_256``, ``sha3_512``);
    ``sha256`` is always included (the result reports the file's SHA-256).
    """

    __slots__ = ("_states",)

    def __init__(self, algorithms: Iterable[str] = ("sha256", "sha512")) -> None:
        states: dict[int, Any] = {}
        for name in ("sha256", *algorithms):
            algo = _DIGEST_NAMES.get(name)
            if algo is None:
                msg = f"DigestSet: {name!r} is not one of {sorted(_DIGEST_NAMES)}"
                raise ValueError(msg)
            state = new_hash(algo)
            if state is None:  # pragma: no cover - a Python without SHA-3 (FIPS builds)
                msg = f"DigestSet: this Python cannot compute {name}"
                raise ValueError(msg)
            states[algo] = state
        self._states = states

    @classmethod
    def of(cls, data: bytes, algorithms: Iterable[str] = ("sha256", "sha512")) -> DigestSet:
        """A set that has hashed ``data``."""
        digests = cls(algorithms)
        digests.update(data)
        return digests

    def update(self, chunk: bytes) -> None:
        """Hash the next chunk of the document with every algorithm."""
        for state in self._states.values():
            state.update(chunk)

    @property
    def algorithms(self) -> tuple[str, ...]:
        """The hashlib names of the algorithms held."""
        return tuple(name for name, algo in _DIGEST_NAMES.items() if algo in self._states)

    def hexdigest(self, name: str) -> str:
        """The digest so far of algorithm ``name`` (a hashlib name), in hex."""
        return str(self._states[_DIGEST_NAMES[name]].copy().hexdigest())

    def _state(self, algo: int) -> Any:
        return self._states.get(algo)


#: What :meth:`Verifier.verify` checks a signature over: a path (``str`` or ``Path``),
#: the document's bytes, a binary stream open for reading, or a :class:`DigestSet`.
Document: TypeAlias = "Path | str | bytes | BinaryIO | DigestSet"


def _hex(value: bytes | None) -> str | None:
    return value.hex().upper() if value is not None else None


def _iso(ts: int | None) -> str | None:
    return None if ts is None else format_utc(ts)


class SignatureReport(Record):
    """The judgement of one signature packet of the signature file.

    Immutable, with equality and a hash (a :class:`Record`: no dataclass code generation
    at import).
    """

    __slots__ = (
        "created",
        "hash_algorithm",
        "index",
        "issuer",
        "key_algorithm",
        "key_bits",
        "message",
        "primary_fingerprint",
        "reason",
        "signature_type",
        "signer_fingerprint",
        "text_canonicalization",
        "valid_math",
    )
    index: int
    reason: Reason
    message: str
    signature_type: str | None
    hash_algorithm: str | None
    key_algorithm: str | None
    key_bits: int | None
    issuer: str | None
    signer_fingerprint: str | None
    primary_fingerprint: str | None
    created: str | None
    #: whether the math was checked and held (None: not checked)
    valid_math: bool | None
    #: text signatures whose math held: which canonical form of the file matched
    #: (one of TEXT_CANONICALIZATIONS)
    text_canonicalization: str | None

    def __init__(
        self,
        index: int,
        reason: Reason,
        message: str,
        *,
        signature_type: str | None = None,
        hash_algorithm: str | None = None,
        key_algorithm: str | None = None,
        key_bits: int | None = None,
        issuer: str | None = None,
        signer_fingerprint: str | None = None,
        primary_fingerprint: str | None = None,
        created: str | None = None,
        valid_math: bool | None = None,
        text_canonicalization: str | None = None,
    ) -> None:
        _init = object.__setattr__
        _init(self, "index", index)
        _init(self, "reason", reason)
        _init(self, "message", message)
        _init(self, "signature_type", signature_type)
        _init(self, "hash_algorithm", hash_algorithm)
        _init(self, "key_algorithm", key_algorithm)
        _init(self, "key_bits", key_bits)
        _init(self, "issuer", issuer)
        _init(self, "signer_fingerprint", signer_fingerprint)
        _init(self, "primary_fingerprint", primary_fingerprint)
        _init(self, "created", created)
        _init(self, "valid_math", valid_math)
        _init(self, "text_canonicalization", text_canonicalization)

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
            "text_canonicalization": self.text_canonicalization,
        }


@dataclass(init=False, repr=False, eq=False)
class VerificationResult(FrozenFields):
    """The verdict on one file. Use ``result.ok``; there is deliberately no ``__bool__``.

    A frozen dataclass (``dataclasses.replace`` works) whose methods are written, not
    generated at import (:class:`FrozenFields`); keyword arguments only.
    """

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
    #: what the verdict does not cover (a text signature does not bind line endings)
    warnings: tuple[str, ...] = ()

    __bool__ = None

    def __init__(  # one per verification: written out, not FrozenFields' generic one
        self,
        *,
        outcome: Outcome,
        reason: Reason,
        message: str,
        file: str,
        sha256: str | None,
        signature_file: str,
        signer_fingerprint: str | None = None,
        primary_fingerprint: str | None = None,
        created: str | None = None,
        project: str | None = None,
        maintainer: Maintainer | None = None,
        signatures: tuple[SignatureReport, ...] = (),
        warnings: tuple[str, ...] = (),
    ) -> None:
        _init = object.__setattr__
        _init(self, "outcome", outcome)
        _init(self, "reason", reason)
        _init(self, "message", message)
        _init(self, "file", file)
        _init(self, "sha256", sha256)
        _init(self, "signature_file", signature_file)
        _init(self, "signer_fingerprint", signer_fingerprint)
        _init(self, "primary_fingerprint", primary_fingerprint)
        _init(self, "created", created)
        _init(self, "project", project)
        _init(self, "maintainer", maintainer)
        _init(self, "signatures", signatures)
        _init(self, "warnings", warnings)

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
            "warnings": list(self.warnings),
            "signatures": [s.to_json() for s in self.signatures],
        }


class _Attempt:
    """One (signature, candidate key) pair on its way through the steps."""

    __slots__ = (
        "canonicalization",
        "cert",
        "index",
        "key",
        "maintainer",
        "material",
        "message",
        "reason",
        "sig",
        "valid_math",
    )

    def __init__(
        self,
        index: int,
        sig: Signature | None,
        cert: Certificate | None = None,
        key: SigningKey | None = None,
    ) -> None:
        self.index = index
        self.sig = sig
        self.reason: Reason | None = None
        self.message = ""
        self.cert = cert
        self.key = key
        self.material: PublicKey | None = None
        self.valid_math: bool | None = None
        self.canonicalization: str | None = None
        self.maintainer: Maintainer | None = None

    def reject(self, reason: Reason, message: str) -> _Attempt:
        self.reason = reason
        self.message = message
        return self

    def report(self) -> SignatureReport:
        sig = self.sig
        reason = self.reason or Reason.GOOD
        if sig is None:  # it did not parse: nothing else is known
            return SignatureReport(
                self.index,
                reason,
                self.message,
                valid_math=self.valid_math,
                text_canonicalization=self.canonicalization,
            )
        material, key, cert = self.material, self.key, self.cert
        return SignatureReport(
            self.index,
            reason,
            self.message,
            signature_type=f"0x{sig.sig_type:02X}",
            hash_algorithm=hash_name(sig.hash_algo),
            key_algorithm=(pubkey_name(sig.pubkey_algo) if material is None else material.name),
            key_bits=None if material is None else material.bits,
            issuer=_issuer_text(sig),
            signer_fingerprint=None if key is None else key.packet.fingerprint.hex().upper(),
            primary_fingerprint=None if cert is None else cert.fingerprint.hex().upper(),
            created=None if sig.created is None else format_utc(sig.created),
            valid_math=self.valid_math,
            text_canonicalization=self.canonicalization,
        )


def _issuer_text(sig: Signature) -> str | None:
    if sig.issuer_fingerprint is not None:
        return _hex(sig.issuer_fingerprint)
    return _hex(sig.issuer_key_id)


#: packets that start an inline-signed message (gpg --sign, sq sign): what a user most
#: often gives as the signature by mistake
_INLINE = frozenset({Tag.ONE_PASS_SIGNATURE, Tag.COMPRESSED, Tag.LITERAL})
_DETACH = "make a detached signature with 'gpg --armor --detach-sign' or 'sq sign --detached'"


def _not_detached(label: str) -> str:
    """Why an armored block labelled ``label`` is no detached signature, in one line."""
    if label == "SIGNED MESSAGE":
        return f"a clear-signed message (PGP SIGNED MESSAGE) is not a detached signature; {_DETACH}"
    if label == "MESSAGE":
        return f"a PGP MESSAGE (inline-signed or encrypted) is not a detached signature; {_DETACH}"
    return f"a PGP {label} is not a detached signature"


def _not_allowed(tag: int) -> str:
    name = TAG_NAMES.get(tag, f"type {tag}")
    if tag in _INLINE:
        return (
            f"a {name} packet is not allowed in a detached signature (an inline-signed "
            f"message?); {_DETACH}"
        )
    return f"a {name} packet is not allowed in a detached signature"


def _byte_order_mark(data: bytes) -> str | None:
    if data[:1] not in (b"\xef", b"\xfe", b"\xff"):
        return None  # the armor module is imported only where a signature is armored
    from pgpverify.openpgp.armor import byte_order_mark

    return byte_order_mark(data)


def _first_is_signature(chunk: bytes) -> None:
    """Name the first packet of ``chunk`` when it is no signature, before framing it.

    gpg --sign writes a compressed packet of indeterminate length (an old-format header),
    which framing would report as such; what the user needs to hear is what the file is.
    """
    first = chunk[0] if chunk else 0
    if not first & 0x80:
        return  # framing says why
    tag = first & 0x3F if first & 0x40 else (first >> 2) & 0x0F
    if tag not in (Tag.SIGNATURE, Tag.MARKER, 0):
        raise MalformedError(_not_allowed(tag))


class _TextForm:
    """One canonical form of a text document, hashed as it streams (RFC 9580 §5.2.1.2).

    One instance per canonicalisation, each with one hash context per hash algorithm;
    memory is bounded whatever the input (no line is ever held whole).
    """

    __slots__ = ("contexts",)

    def __init__(self, algos: Iterable[int]) -> None:
        self.contexts: dict[int, Any] = {algo: new_hash(algo) for algo in algos}

    def _emit(self, data: bytes) -> None:
        if data:
            for ctx in self.contexts.values():
                ctx.update(data)

    def feed(self, chunk: bytes) -> None:
        raise NotImplementedError

    def end(self) -> None:
        raise NotImplementedError


class _LineEndings(_TextForm):
    """Line endings to CRLF, nothing else changed, across chunk edges.

    ``rfc9580``: LF and CRLF end a line, a lone CR is data (RFC 9580 §5.2.1.2 read
    literally). ``sequoia``: a lone CR ends a line too (sequoia-openpgp's text hashing, sq).
    """

    __slots__ = ("_cr", "_lone_cr")

    def __init__(self, algos: Iterable[int], *, lone_cr: bool) -> None:
        super().__init__(algos)
        self._cr = False
        self._lone_cr = lone_cr

    def feed(self, chunk: bytes) -> None:
        if self._cr:
            chunk = b"\r" + chunk
            self._cr = False
        if chunk.endswith(b"\r"):
            chunk = chunk[:-1]
            self._cr = True
        chunk = chunk.replace(b"\r\n", b"\n")
        if self._lone_cr:
            chunk = chunk.replace(b"\r", b"\n")
        self._emit(chunk.replace(b"\n", b"\r\n"))

    def end(self) -> None:
        if self._cr:
            self._emit(b"\r\n" if self._lone_cr else b"\r")


class _GnuPGText(_TextForm):
    """GnuPG's text filter (g10/textfilter.c), which gpg --textmode and gpgv use.

    Lines end at LF. Each line loses its trailing run of ``trim`` octets (CR; with
    ``--rfc2440-text`` also space and tab; and NUL, because GnuPG's trim_trailing_chars
    finds a NUL octet in its C string of characters to trim) and, if it ended with LF, gets
    CRLF; the last line without LF gets no line ending. So a file ending in a lone CR, CR
    runs before LF, or a binary file signed in text mode hash differently than in the RFC
    reading.

    Work is linear with no per-line Python step: inside a chunk, short trailing runs go
    by ``bytes.replace`` (one octet of every run per round), longer ones in one regular
    expression pass over the *reversed* octets, where each run follows its LF (LF then a
    run of ``trim``: a literal first, so no backtracking whatever the input). A trailing
    run at a chunk's end is held back until the next octet says whether it was trailing;
    past ``_HELD_MAX`` octets it is hashed into copies of the contexts instead (kept if
    the line goes on, dropped at the line's end), so a long run costs no memory.
    """

    __slots__ = ("_ends", "_held", "_runs", "_spec", "_trim")
    _HELD_MAX = 1 << 16

    def __init__(self, algos: Iterable[int], *, trim: bytes) -> None:
        super().__init__(algos)
        self._trim = trim
        self._runs = re.compile(b"\n[" + re.escape(trim) + b"]+")
        self._ends = [bytes([c]) + b"\n" for c in trim]
        self._held = b""
        self._spec: dict[int, Any] | None = None

    def _hold(self, run: bytes) -> None:
        if not run:
            return
        if self._spec is None:
            self._held += run
            if len(self._held) <= self._HELD_MAX:
                return
            self._spec = {algo: ctx.copy() for algo, ctx in self.contexts.items()}
            run, self._held = self._held, b""
        for ctx in self._spec.values():
            ctx.update(run)

    def _release(self) -> None:
        """The held run was not trailing: it is part of the line."""
        if self._spec is not None:
            self.contexts, self._spec = self._spec, None
        elif self._held:
            self._emit(self._held)
            self._held = b""

    def _drop(self) -> None:
        self._held = b""
        self._spec = None

    def feed(self, chunk: bytes) -> None:
        trim = self._trim
        last = chunk.rfind(b"\n")
        tail = chunk[last + 1 :]
        if last >= 0:
            first = chunk.find(b"\n")
            head = chunk[:first].rstrip(trim)
            if head:
                self._release()
            else:
                self._drop()
            lines = self._strip_runs(chunk[first : last + 1])
            self._emit(head + lines.replace(b"\n", b"\r\n"))
        body = tail.rstrip(trim)
        if body:
            self._release()
            self._emit(body)
        self._hold(tail[len(body) :])

    def _strip_runs(self, lines: bytes) -> bytes:
        """Drop the run of trim octets before each LF of ``lines``."""
        for _ in range(3):
            found = [end for end in self._ends if end in lines]
            if not found:
                return lines
            for end in found:
                lines = lines.replace(end, b"\n")
        if any(end in lines for end in self._ends):
            lines = self._runs.sub(b"\n", lines[::-1])[::-1]
        return lines

    def end(self) -> None:
        self._drop()


def _text_forms(algos: set[int]) -> dict[str, _TextForm]:
    """A fresh form per entry of TEXT_CANONICALIZATIONS, each hashing with ``algos``."""
    forms: dict[str, _TextForm] = {
        "rfc9580": _LineEndings(algos, lone_cr=False),
        "sequoia": _LineEndings(algos, lone_cr=True),
        "gnupg": _GnuPGText(algos, trim=b"\r\x00"),
        "gnupg-rfc2440": _GnuPGText(algos, trim=b" \t\r\x00"),
    }
    assert tuple(forms) == TEXT_CANONICALIZATIONS
    return forms


@dataclass(slots=True)
class Verifier:
    """Verifies detached signatures against a keyring and, optionally, who may sign.

    ``project`` goes with a signer policy: ``owners`` (an ownership record) or ``signers``
    (any :class:`pgpverify.policy.SignerPolicy`, e.g. a lock file). With them, a good
    signature is accepted only if the signer policy allows its primary key to sign
    ``project`` when it signed. ``policy`` is the algorithm policy (default: the README's).
    """

    keyring: Keyring
    owners: OwnershipRecord | None = None
    project: str | None = None
    limits: Limits = DEFAULT_LIMITS
    policy: Policy = DEFAULT_POLICY
    signers: SignerPolicy | None = None
    #: equal certificates in other keyrings judged once (a check run's projects each have
    #: a keyring, often with the same certificates): see
    #: :class:`pgpverify.openpgp.certificate.CertificatePool`, one per thread
    certificates: CertificatePool | None = None

    def __post_init__(self) -> None:
        if self.owners is not None and self.signers is not None:
            msg = "give owners or signers, not both"
            raise ValueError(msg)
        if self.signers is None:
            self.signers = self.owners
        if (self.signers is None) != (self.project is None):
            msg = "project and owners (or signers) must be given together"
            raise ValueError(msg)

    def verify_or_raise(
        self,
        document: Document,
        signature: Path | str | bytes | None = None,
        *,
        at: datetime | None = None,
        name: str | None = None,
    ) -> VerificationResult:
        """Like :meth:`verify`, but raise :class:`VerificationError` unless the file is good."""
        result = self.verify(document, signature, at=at, name=name)
        if not result.ok:
            raise VerificationError(result)
        return result

    def verify(
        self,
        document: Document,
        signature: Path | str | bytes | None = None,
        *,
        at: datetime | None = None,
        name: str | None = None,
        signature_data: bytes | None = None,
        signature_name: str | None = None,
    ) -> VerificationResult:
        """Judge the detached ``signature`` over ``document`` at reference time ``at``.

        ``document`` is a path (``Path`` or ``str``; a regular file or a pipe), the
        document's bytes, a binary stream (read to its end, not closed), or a
        :class:`DigestSet` (binary signatures only; see there). ``signature`` is a path or
        the signature's bytes (armored or binary); for a path document it defaults to
        ``FILE.asc``, otherwise it is required. ``at`` defaults to now. ``name`` names the
        document in the result (default: the path, the stream's name, ``<bytes>``,
        ``<digests>``). ``signature_data`` and ``signature_name`` are the older spelling of
        bytes given as ``signature`` and of the name they get in the result.

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

        The work is bounded whatever the keyrings hold (threat model: an attacker wrote
        them): at most ``Limits.candidates`` certificates per signature and
        ``Limits.decoded_packets`` certificate packets decoded in (4), and
        ``Limits.public_key_operations`` for (6) and (7) together. A signature whose
        judgement reaches a cap before a decision is rejected (``malformed``, the message
        names the cap), never accepted.
        """
        if at is None:
            at = datetime.now(timezone.utc)
        if at.tzinfo is None:
            msg = "the reference time must be timezone-aware"
            raise ValueError(msg)
        now = int(at.timestamp())
        if isinstance(signature, (bytes, bytearray, memoryview)):
            signature_data, signature = bytes(signature), None
        doc, file_name, sig_path, owned = _open_document(document, name, signature, signature_data)
        sig_name = signature_name or (sig_path if sig_path is not None else "<bytes>")
        try:
            # (1) limits
            try:
                if signature_data is None:
                    assert sig_path is not None
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
                return self._malformed(file_name, sig_name, doc, err.message)
            # (2) armor, (3) packets
            try:
                attempts = self._parse(sig_bytes)
            except MalformedError as err:
                return self._malformed(file_name, sig_name, doc, err.message)
            # (4) issuer -> certificate, (5) algorithm policy; the certificates decoded and,
            # from (6) on, every public-key operation are paid from one budget (Limits),
            # spent by the signatures in the order of their octets, never of their place in
            # the file: which one a tight budget lets through does not depend on the order
            budget = WorkBudget.of(self.limits)
            candidates: list[_Attempt] = []
            for attempt in attempts if len(attempts) == 1 else sorted(attempts, key=_work_order):
                if attempt.reason is None:
                    candidates.extend(self._candidates(attempt, budget))
            # (6) hash the document, check the math
            checked = [a for a in candidates if a.reason is None]
            if isinstance(doc, DigestSet):
                sha256 = self._check_digests(doc, checked, budget, file_name)
            else:
                try:
                    sha256 = self._hash_and_check(doc, checked, budget)
                except OSError as err:
                    raise InputError(
                        f"cannot read: {err.strerror or err}", source=file_name
                    ) from None
        finally:
            if owned:
                assert not isinstance(doc, DigestSet)
                doc.close()
        # (7) certificate, (8) signature expiration and ownership
        for attempt in candidates:
            if attempt.reason is None:
                self._judge(attempt, now, budget)
        return self._result(file_name, sig_name, sha256, attempts, candidates)

    # -- steps ---------------------------------------------------------------------------

    def _malformed(
        self, file: str, sig_name: str, doc: BinaryIO | DigestSet, message: str
    ) -> VerificationResult:
        if isinstance(doc, DigestSet):
            sha256 = doc.hexdigest("sha256")
        else:
            sha = hashlib.sha256()
            try:
                for chunk in iter(lambda: doc.read(CHUNK), b""):
                    sha.update(chunk)
            except OSError as err:
                raise InputError(f"cannot read: {err.strerror or err}", source=file) from None
            sha256 = sha.hexdigest()
        return VerificationResult(
            outcome=Outcome.REJECTED,
            reason=Reason.MALFORMED,
            message=f"the signature file is malformed: {message}",
            file=file,
            sha256=sha256,
            signature_file=sig_name,
            project=self.project,
        )

    def _parse(self, data: bytes) -> list[_Attempt]:
        if not data.strip():
            raise MalformedError("the signature file is empty")
        mark = _byte_order_mark(data)
        if mark is not None:
            raise MalformedError(
                f"the file starts with a {mark} byte order mark (a text editor's); OpenPGP "
                "armor is ASCII: save it without the mark"
            )
        binary = []
        for block in binary_blocks(data):  # (2) armor, or one binary block
            # GnuPG's gpg --enarmor writes an ARMORED FILE; gpgv and sqv read its packets
            if block.label not in (BINARY, "SIGNATURE", "ARMORED FILE"):
                # before the block's own error: a clear-signed message is broken armor
                raise MalformedError(_not_detached(block.label))
            if block.error is not None:
                raise MalformedError(f"armored block at line {block.line + 1}: {block.error}")
            binary.append(block.data)
        attempts: list[_Attempt] = []
        for chunk in binary:
            _first_is_signature(chunk)
            for pkt in iter_packets(chunk, max_packets=self.limits.signature_packets):
                if pkt.tag != Tag.SIGNATURE:
                    raise MalformedError(_not_allowed(pkt.tag))
                if len(attempts) >= self.limits.signature_packets:
                    raise MalformedError(
                        f"more than {self.limits.signature_packets} signature packets"
                    )
                attempts.append(self._parse_one(len(attempts), pkt.body))
        if not attempts:
            # only marker packets (RFC 9580 §5.8), which are ignored: nothing was signed
            raise MalformedError("the signature file holds no signature packet")
        return attempts

    def _parse_one(self, index: int, body: bytes) -> _Attempt:
        try:
            sig = parse_signature(
                body, max_subpackets=self.limits.subpackets, depth=self.limits.nesting
            )
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

    def _candidates(self, attempt: _Attempt, budget: WorkBudget) -> list[_Attempt]:
        """(4) one attempt per certificate holding the issuer, each through (5).

        The issuer fingerprint when the signature has one, else its key IDs. More holders
        than ``Limits.candidates`` (many certificates sharing one subkey) and the
        signature is rejected before any certificate is decoded; so it is when decoding
        them would pass ``Limits.decoded_packets`` for the run.
        """
        sig = attempt.sig
        assert sig is not None
        ids = sig.issuer_key_ids
        if not ids:
            return [attempt.reject(Reason.UNKNOWN_KEY, "the signature names no issuer")]
        if sig.issuer_fingerprint is not None:
            ids = (sig.issuer_fingerprint,)
        keyring = self.keyring
        most = max(keyring.holder_count(key_id) for key_id in ids)
        if most > self.limits.candidates:  # counted, not listed: may be 200,000
            return [
                attempt.reject(
                    Reason.MALFORMED,
                    f"work cap reached: {most} certificates hold key "
                    f"{_issuer_text(sig)}, over the limit of {self.limits.candidates} "
                    "candidates per signature; the signature is not judged",
                )
            ]
        if len(ids) == 1:  # sorted, each once
            holders = keyring.holders(ids[0])
        else:
            holders = sorted({fpr for key_id in ids for fpr in keyring.holders(key_id)})
        if len(holders) > self.limits.candidates:
            return [
                attempt.reject(
                    Reason.MALFORMED,
                    f"work cap reached: {len(holders)} certificates hold key "
                    f"{_issuer_text(sig)}, over the limit of {self.limits.candidates} "
                    "candidates per signature; the signature is not judged",
                )
            ]
        try:
            for holder in holders:
                budget.decode(keyring.decode_cost(holder))
        except WorkLimitError as err:
            _work_capped(attempt, err)
            return [attempt]
        found: list[_Attempt] = []
        seen: set[tuple[bytes, bytes]] = set()
        pool = self.certificates
        for holder in holders:
            if pool is None:
                cert = keyring.certificate(holder)
            else:
                cert = keyring.certificate(holder, pool=pool)
            if cert is None:
                continue
            for key_id in ids:
                key = cert.find_key(key_id)
                if key is None:
                    continue
                pair = (holder, key.packet.fingerprint)
                if pair in seen:
                    continue
                seen.add(pair)
                found.append(
                    self._policy(_Attempt(index=attempt.index, sig=sig, cert=cert, key=key))
                )
        if not found:
            return [
                attempt.reject(
                    Reason.UNKNOWN_KEY,
                    f"no key {_issuer_text(sig)} in the keyring",
                )
            ]
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
        accepted = self.policy.document_hashes
        if sig.hash_algo in _WEAK_HASHES or (
            sig.hash_algo in accepted and not _computable(sig.hash_algo)
        ):
            return attempt.reject(
                Reason.WEAK_HASH, f"{hash_name(sig.hash_algo)} is too weak for a signature"
            )
        if sig.hash_algo not in accepted:
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
        weak = _weak(material, self.policy)
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
            weak = _weak(primary, self.policy)
            if weak:
                return attempt.reject(Reason.WEAK_KEY, f"the primary key is too weak: {weak}")
        return attempt

    def _check_digests(
        self, digests: DigestSet, attempts: list[_Attempt], budget: WorkBudget, file_name: str
    ) -> str:
        """(6) over a caller's DigestSet: check each attempt; return the file's SHA-256."""
        states = _digest_states(digests, attempts, file_name)
        for attempt in attempts:
            _check_math_within(attempt, states, {}, budget)
        return digests.hexdigest("sha256")

    def _hash_and_check(self, doc: BinaryIO, attempts: list[_Attempt], budget: WorkBudget) -> str:
        """(6) stream the document once; check each attempt; return the file's SHA-256.

        One context per hash algorithm for the bytes as they are, and for text signatures
        one per algorithm and canonical form (TEXT_CANONICALIZATIONS), all fed from the
        same chunks: text signatures made by gpg, by gpg --rfc2440-text and by sq verify
        as those tools verify them. Raises OSError when the stream does.
        """
        sha256 = hashlib.sha256()
        binary: dict[int, Any] = {_SHA256: sha256}
        text_algos: set[int] = set()
        for attempt in attempts:
            sig = attempt.sig
            assert sig is not None
            if sig.sig_type == SigType.TEXT:
                text_algos.add(sig.hash_algo)
            elif sig.hash_algo not in binary:
                binary[sig.hash_algo] = new_hash(sig.hash_algo)
        contexts = list(binary.values())
        forms = _text_forms(text_algos) if text_algos else {}
        if not forms and len(contexts) == 1:  # the usual file: one hash of the bytes
            for chunk in iter(lambda: doc.read(CHUNK), b""):
                sha256.update(chunk)
        else:
            for chunk in iter(lambda: doc.read(CHUNK), b""):
                for ctx in contexts:
                    ctx.update(chunk)
                for form in forms.values():
                    form.feed(chunk)
            for form in forms.values():
                form.end()
        for attempt in attempts:
            _check_math_within(attempt, binary, forms, budget)
        return str(sha256.hexdigest())

    def _revoker(self, fingerprint: bytes, budget: WorkBudget) -> KeyPacket | None:
        """(7) the primary key of a designated revoker in the keyrings (RFC 9580 §5.2.3.23).

        Its certificate is paid from the run's decoding budget like a candidate's; its
        own state is not judged (GnuPG's check_revocation_keys does not either): a
        revocation it made only ever rejects.
        """
        budget.decode(self.keyring.decode_cost(fingerprint))
        cert = self.keyring.certificate(fingerprint)
        return None if cert is None else cert.primary.packet

    def _judge(self, attempt: _Attempt, now: int, budget: WorkBudget) -> None:
        """(7) certificate at signing time and now, (8) expiration and ownership."""
        sig, cert, key = attempt.sig, attempt.cert, attempt.key
        assert sig is not None
        assert cert is not None
        assert key is not None
        assert sig.created is not None
        # (7) also rejects a signature that claims to be made after ``now``
        try:
            judgement = cert.judge(
                key,
                sig.created,
                now,
                budget=budget,
                policy=self.policy,
                revokers=lambda fpr: self._revoker(fpr, budget),
            )
        except WorkLimitError as err:
            _work_capped(attempt, err)
            return
        if judgement is not None:
            attempt.reject(_KEY_REASONS[judgement.verdict], judgement.message)
            return
        if sig.expired_at(now):
            assert sig.expiration is not None
            attempt.reject(
                Reason.SIGNATURE_EXPIRED,
                f"the signature expired at {_iso(sig.created + sig.expiration)}",
            )
            return
        # (8) who may sign: the signer policy (an ownership record, a lock file ...)
        if self.signers is not None and self.project is not None:
            primary = _hex(cert.fingerprint)
            assert primary is not None
            verdict = self.signers.judge_signer(self.project, primary, sig.created)
            if verdict.refusal is not None:
                attempt.reject(Reason.NOT_OWNER, verdict.refusal)
                return
            attempt.maintainer = verdict.maintainer

    def _result(
        self,
        file: str,
        sig_name: str,
        sha256: str,
        attempts: list[_Attempt],
        candidates: list[_Attempt],
    ) -> VerificationResult:
        # Per signature packet: the one that got furthest among its candidate keys.
        if len(attempts) == 1 and len(candidates) <= 1:  # the usual file: nothing to rank
            best = candidates[0] if candidates else attempts[0]
            report = best.report()
            reports: tuple[SignatureReport, ...] = (report,)
        else:
            by_index: dict[int, list[_Attempt]] = {}
            for cand in candidates:
                by_index.setdefault(cand.index, []).append(cand)
            per_sig = [max(by_index.get(a.index, [a]), key=_rank) for a in attempts]
            reports = tuple(a.report() for a in per_sig)
            place = max(range(len(per_sig)), key=lambda i: _rank(per_sig[i]))
            best, report = per_sig[place], reports[place]
        reason = best.reason or Reason.GOOD
        if reason is Reason.GOOD:
            who = (
                f" by {best.maintainer.user} ({best.maintainer.role} of {self.project})"
                if best.maintainer is not None
                else ""
            )
            message = f"good signature from key {report.signer_fingerprint}{who}"
        else:
            message = best.message
        warnings: tuple[str, ...] = ()
        if best.canonicalization is not None:
            warnings = (TEXT_WARNING,)
        return VerificationResult(
            outcome=Outcome.GOOD if reason is Reason.GOOD else Outcome.REJECTED,
            reason=reason,
            message=message,
            file=file,
            sha256=sha256,
            signature_file=sig_name,
            signer_fingerprint=report.signer_fingerprint,
            primary_fingerprint=report.primary_fingerprint,
            created=report.created if best.cert is not None else None,
            project=self.project,
            maintainer=best.maintainer,
            signatures=reports,
            warnings=warnings,
        )


def _open_document(
    document: Document,
    name: str | None,
    signature: StrPath | None,
    signature_data: bytes | None,
) -> tuple[BinaryIO | DigestSet, str, str | None, bool]:
    """(1) the document as a stream or digest set, and what the result calls it.

    Returns the stream or set, its name, the signature's path as pathlib would write it
    (None: given as bytes) and whether the stream is ours to close.
    """
    sig_path = None if signature is None else display_path(signature)
    owned = False
    doc: BinaryIO | DigestSet
    if isinstance(document, DigestSet):
        doc, file_name = document, name or "<digests>"
    elif isinstance(document, bytes):
        doc, file_name = io.BytesIO(document), name or "<bytes>"
    elif isinstance(document, (str, os.PathLike)):
        path = display_path(document)
        doc, file_name, owned = open_document(path), name or path, True
        if sig_path is None and signature_data is None:
            # after the open: a file has a name ("." and "/" have none, and are directories)
            sig_path = path + ".asc"
    elif callable(getattr(document, "read", None)):
        if isinstance(getattr(document, "encoding", None), str):  # io.TextIOBase
            msg = "the document stream is a text stream: open it in binary mode ('rb')"
            raise TypeError(msg)
        doc = document
        stream_name = getattr(document, "name", None)
        file_name = name or (stream_name if isinstance(stream_name, str) else "<stream>")
    else:
        msg = f"cannot verify a {type(document).__name__}: give a path, bytes, a binary stream"
        raise TypeError(msg + " or a DigestSet")
    if sig_path is None and signature_data is None:
        if owned:
            assert not isinstance(doc, DigestSet)
            doc.close()
        msg = "a signature is needed: only a path document has a default (FILE.asc)"
        raise ValueError(msg)
    return doc, file_name, sig_path, owned


def _digest_states(digests: DigestSet, attempts: list[_Attempt], file_name: str) -> dict[int, Any]:
    """(6) over a DigestSet: the state each signature needs, or an InputError if it has none.

    A text signature's canonical forms need the bytes; a hash the set lacks cannot be made.
    """
    states: dict[int, Any] = {}
    for attempt in attempts:
        sig = attempt.sig
        assert sig is not None
        if sig.sig_type == SigType.TEXT:
            raise InputError(
                f"signature {attempt.index} is a text signature (0x01): it can only be "
                "checked over the document's bytes, not a digest set",
                source=file_name,
            )
        state = digests._state(sig.hash_algo)  # noqa: SLF001 - DigestSet's own module
        if state is None:
            raise InputError(
                f"signature {attempt.index} uses {hash_name(sig.hash_algo)}, which the digest "
                f"set lacks (it holds {', '.join(digests.algorithms)})",
                source=file_name,
            )
        states[sig.hash_algo] = state
    return states


def _rank(attempt: _Attempt) -> tuple[int, bytes, bytes, bytes]:
    """How far ``attempt`` got; ties broken by what the signature is, never by its place."""
    sig = attempt.sig
    return (
        _RANK[attempt.reason or Reason.GOOD],
        b"" if attempt.key is None else attempt.key.packet.fingerprint,
        b"" if sig is None else sig.hashed_part,
        b"" if sig is None else sig.packet,
    )


def _work_order(attempt: _Attempt) -> bytes:
    """The order the signatures of a file spend the run's work budget in: their octets."""
    return b"" if attempt.sig is None else attempt.sig.packet


def _work_capped(attempt: _Attempt, err: WorkLimitError) -> None:
    """A work cap reached before a decision: the attempt is rejected, never accepted."""
    attempt.reject(
        Reason.MALFORMED, f"work cap reached: {err.message}; the signature is not accepted"
    )


def _check_math_within(
    attempt: _Attempt, binary: dict[int, Any], forms: dict[str, _TextForm], budget: WorkBudget
) -> None:
    """(6) for one attempt, rejected if the run's work budget runs out first."""
    try:
        _check_math(attempt, binary, forms, budget)
    except WorkLimitError as err:
        _work_capped(attempt, err)


def _check_math(
    attempt: _Attempt, binary: dict[int, Any], forms: dict[str, _TextForm], budget: WorkBudget
) -> None:
    """(6) §5.2.4: hash prefix and signature values over each form the signature allows.

    A text signature is good if any canonical form verifies; each distinct digest costs
    one public-key operation at most (usually all forms of a file are equal).
    """
    sig, material = attempt.sig, attempt.material
    assert sig is not None
    assert material is not None
    if sig.sig_type != SigType.TEXT:  # one digest, one check at most
        ctx = binary[sig.hash_algo].copy()
        ctx.update(sig.trailer)
        digest = ctx.digest()
        if digest[:2] == sig.left16:
            budget.spend()
            if material.verify(sig.hash_algo, digest, sig.mpis):
                attempt.valid_math = True
                return
            why = "the signature does not verify"
        else:
            why = "the hash prefix does not match"
        attempt.valid_math = False
        attempt.reject(Reason.BAD_SIGNATURE, f"{why}: the file or the signature was altered")
        return
    bases = [(name, form.contexts[sig.hash_algo]) for name, form in forms.items()]
    prefix_held = False
    verdicts: dict[bytes, bool] = {}
    for name, base in bases:
        ctx = base.copy()
        ctx.update(sig.trailer)
        digest = ctx.digest()
        if digest[:2] != sig.left16:
            continue
        prefix_held = True
        if digest not in verdicts:
            budget.spend()
            verdicts[digest] = material.verify(sig.hash_algo, digest, sig.mpis)
        if verdicts[digest]:
            attempt.valid_math = True
            attempt.canonicalization = name
            return
    attempt.valid_math = False
    why = "the signature does not verify" if prefix_held else "the hash prefix does not match"
    attempt.reject(
        Reason.BAD_SIGNATURE,
        f"{why} in any text canonicalisation: the file or the signature was altered",
    )


#: hash algorithm -> whether this Python computes it (asked once: it builds a hash object)
_COMPUTABLE: dict[int, bool] = {}


def _computable(algo: int) -> bool:
    found = _COMPUTABLE.get(algo)
    if found is None:
        found = _COMPUTABLE[algo] = new_hash(algo) is not None
    return found


def _weak(material: PublicKey, policy: Policy = DEFAULT_POLICY) -> str | None:
    """Why ``policy`` refuses the key ``material`` (RFC 9580 §9.1, §9.2), or None."""
    return policy.key_problem(material)
