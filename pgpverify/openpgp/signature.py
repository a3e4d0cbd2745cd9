"""Strict v4 signature packet parser (RFC 9580 §5.2.3) and the hash input of a signature.

The hashed area is kept as the received octets: the hash input is computed over exactly
those bytes (§5.2.4), never over a re-serialisation, so a parser that reads a subpacket
differently from the signer cannot change what is verified.

Structural problems raise :class:`MalformedError`. Problems that make a well-framed
signature unacceptable to a strict verifier (no hashed creation time, an unknown critical
subpacket, a critical notation) are recorded in :attr:`Signature.defects`: a document
signature with a defect is ``malformed``; a self-signature with one is ignored.
"""

from __future__ import annotations

from pgpverify.errors import LimitExceededError, MalformedError
from pgpverify.openpgp._record import Record
from pgpverify.openpgp.constants import PubKeyAlgo, SigType
from pgpverify.openpgp.packets import read_mpis

__all__ = [
    "RevocationCode",
    "Signature",
    "SubpacketType",
    "parse_signature",
]


class SubpacketType:
    """Signature subpacket type IDs (RFC 9580 §5.2.3.7)."""

    CREATION_TIME = 2
    EXPIRATION_TIME = 3
    EXPORTABLE = 4
    TRUST = 5
    REGEX = 6
    REVOCABLE = 7
    KEY_EXPIRATION_TIME = 9
    PREFERRED_SYMMETRIC = 11
    REVOCATION_KEY = 12
    ISSUER_KEY_ID = 16
    NOTATION = 20
    PREFERRED_HASH = 21
    PREFERRED_COMPRESSION = 22
    KEYSERVER_PREFERENCES = 23
    PREFERRED_KEYSERVER = 24
    PRIMARY_USER_ID = 25
    POLICY_URI = 26
    KEY_FLAGS = 27
    SIGNERS_USER_ID = 28
    REVOCATION_REASON = 29
    FEATURES = 30
    SIGNATURE_TARGET = 31
    EMBEDDED_SIGNATURE = 32
    ISSUER_FINGERPRINT = 33
    PREFERRED_AEAD = 34
    INTENDED_RECIPIENT = 35
    ATTESTED_CERTIFICATIONS = 37
    KEY_BLOCK = 38
    PREFERRED_AEAD_CIPHERSUITES = 39


#: Subpacket types RFC 9580 defines. A critical subpacket of any other type makes the
#: signature unacceptable (§5.2.3.7: "the receiving implementation MUST treat it as an error").
KNOWN_SUBPACKETS = frozenset(
    {
        2,
        3,
        4,
        5,
        6,
        7,
        9,
        11,
        12,
        16,
        20,
        21,
        22,
        23,
        24,
        25,
        26,
        27,
        28,
        29,
        30,
        31,
        32,
        33,
        34,
        35,
        37,
        38,
        39,
    }
)


class RevocationCode:
    """Reason for revocation codes (RFC 9580 §5.2.3.31)."""

    NO_REASON = 0
    SUPERSEDED = 1
    COMPROMISED = 2
    RETIRED = 3
    USER_ID_INVALID = 32


#: Number of MPIs in a v4 signature, by public-key algorithm (RFC 9580 §5.2.3).
_SIGNATURE_MPIS = {
    PubKeyAlgo.RSA: 1,
    PubKeyAlgo.RSA_SIGN: 1,
    PubKeyAlgo.RSA_ENCRYPT: 1,
    PubKeyAlgo.DSA: 2,
    PubKeyAlgo.ECDSA: 2,
    PubKeyAlgo.EDDSA_LEGACY: 2,
    PubKeyAlgo.ELGAMAL_SIGN: 2,
}


class Subpacket(Record):
    """One signature subpacket as received."""

    __slots__ = ("body", "critical", "hashed", "type")
    type: int
    critical: bool
    hashed: bool
    body: bytes

    def __init__(self, *, type: int, critical: bool, hashed: bool, body: bytes) -> None:  # noqa: A002
        _init = object.__setattr__
        _init(self, "type", type)
        _init(self, "critical", critical)
        _init(self, "hashed", hashed)
        _init(self, "body", body)


class Signature(Record):
    """A parsed v4 signature packet. Every field is as received; nothing is verified yet.

    An immutable :class:`Record` (no dataclass code generation at import).
    """

    __slots__ = (
        "created",
        "defects",
        "embedded",
        "expiration",
        "hash_algo",
        "hashed_part",
        "issuer_fingerprint",
        "issuer_key_id",
        "key_expiration",
        "key_flags",
        "left16",
        "mpis",
        "packet",
        "pubkey_algo",
        "raw_material",
        "revocation_code",
        "revocation_keys",
        "sig_type",
        "subpacket_octets",
    )
    sig_type: int
    pubkey_algo: int
    hash_algo: int
    #: the exact octets hashed after the signed data: version .. end of hashed subpackets
    hashed_part: bytes
    #: every subpacket as received, hashed ones first: (type octet with the critical bit,
    #: hashed, body); :attr:`subpackets` gives them as :class:`Subpacket` records
    subpacket_octets: tuple[tuple[int, bool, bytes], ...]
    left16: bytes
    mpis: tuple[int, ...]
    #: raw signature material for algorithms without MPIs or not known here
    raw_material: bytes
    created: int | None
    expiration: int | None
    key_expiration: int | None
    key_flags: int | None
    issuer_key_id: bytes | None
    issuer_fingerprint: bytes | None
    revocation_code: int | None
    embedded: tuple[Signature, ...]
    defects: tuple[str, ...]
    packet: bytes
    #: v4 fingerprints of the keys this (direct-key) signature designates as revokers of
    #: its key (§5.2.3.23 Revocation Key, hashed only)
    revocation_keys: tuple[bytes, ...]

    def __init__(
        self,
        *,
        sig_type: int,
        pubkey_algo: int,
        hash_algo: int,
        hashed_part: bytes,
        subpacket_octets: tuple[tuple[int, bool, bytes], ...],
        left16: bytes,
        mpis: tuple[int, ...],
        raw_material: bytes,
        created: int | None,
        expiration: int | None,
        key_expiration: int | None,
        key_flags: int | None,
        issuer_key_id: bytes | None,
        issuer_fingerprint: bytes | None,
        revocation_code: int | None,
        embedded: tuple[Signature, ...],
        defects: tuple[str, ...],
        packet: bytes,
        revocation_keys: tuple[bytes, ...] = (),
    ) -> None:
        _init = object.__setattr__
        _init(self, "sig_type", sig_type)
        _init(self, "pubkey_algo", pubkey_algo)
        _init(self, "hash_algo", hash_algo)
        _init(self, "hashed_part", hashed_part)
        _init(self, "subpacket_octets", subpacket_octets)
        _init(self, "left16", left16)
        _init(self, "mpis", mpis)
        _init(self, "raw_material", raw_material)
        _init(self, "created", created)
        _init(self, "expiration", expiration)
        _init(self, "key_expiration", key_expiration)
        _init(self, "key_flags", key_flags)
        _init(self, "issuer_key_id", issuer_key_id)
        _init(self, "issuer_fingerprint", issuer_fingerprint)
        _init(self, "revocation_code", revocation_code)
        _init(self, "embedded", embedded)
        _init(self, "defects", defects)
        _init(self, "packet", packet)
        _init(self, "revocation_keys", revocation_keys)

    @property
    def subpackets(self) -> tuple[Subpacket, ...]:
        """Every subpacket as received, hashed ones first (built on request)."""
        return tuple(
            Subpacket(type=kind & 0x7F, critical=bool(kind & 0x80), hashed=hashed, body=body)
            for kind, hashed, body in self.subpacket_octets
        )

    @property
    def trailer(self) -> bytes:
        """The v4 hash trailer (§5.2.4): hashed part, 0x04 0xFF, its length in four octets."""
        return self.hashed_part + b"\x04\xff" + len(self.hashed_part).to_bytes(4, "big")

    @property
    def issuer_key_ids(self) -> tuple[bytes, ...]:
        """Key IDs this signature names as issuer, strongest claim first."""
        ids: list[bytes] = []
        if self.issuer_fingerprint is not None:
            ids.append(self.issuer_fingerprint[-8:])
        if self.issuer_key_id is not None and self.issuer_key_id not in ids:
            ids.append(self.issuer_key_id)
        return tuple(ids)

    def expired_at(self, when: int) -> bool:
        """Whether the signature's own expiration time (§5.2.3.18) is at or before ``when``."""
        if self.created is None or not self.expiration:
            return False
        return self.created + self.expiration <= when


def _subpackets(area: bytes, *, hashed: bool, max_count: int) -> list[tuple[int, bool, bytes]]:
    """The subpackets of one area: (type octet with the critical bit, hashed, body)."""
    out: list[tuple[int, bool, bytes]] = []
    pos = 0
    end = len(area)
    while pos < end:
        if len(out) >= max_count:
            raise LimitExceededError("number of signature subpackets", max_count)
        o1 = area[pos]
        if o1 < 192:
            length, hdr = o1, 1
        elif o1 < 255:
            if pos + 1 >= end:
                raise MalformedError("truncated signature subpacket length")
            length, hdr = ((o1 - 192) << 8) + area[pos + 1] + 192, 2
        else:
            if pos + 4 >= end:
                raise MalformedError("truncated signature subpacket length")
            length, hdr = int.from_bytes(area[pos + 1 : pos + 5], "big"), 5
        if length == 0:
            raise MalformedError("signature subpacket of length zero")
        start = pos + hdr
        stop = start + length
        if stop > end:
            raise MalformedError("signature subpacket runs past its area")
        out.append((area[start], hashed, area[start + 1 : stop]))
        pos = stop
    return out


def _notation_name(body: bytes) -> str:
    """`` "name@domain"``: a notation subpacket's name (§5.2.3.24), at most 64 characters.

    ``""`` when it is empty or does not frame. Shown, never obeyed: output escapes it.
    """
    if len(body) < 8:
        return ""
    size = int.from_bytes(body[4:6], "big")
    if not size or 8 + size > len(body):
        return ""
    name = body[8 : 8 + min(size, 64)].decode("utf-8", "replace")
    return f' "{name}"'


def _fixed(body: bytes, size: int, name: str) -> bytes:
    if len(body) != size:
        raise MalformedError(f"{name} subpacket has {len(body)} octets, expected {size}")
    return body


def parse_signature(
    body: bytes, *, max_subpackets: int = 512, depth: int = 2, _level: int = 0
) -> Signature:
    """Parse a signature packet body; only version 4 is accepted (RFC 9580 §5.2.3).

    ``depth`` caps the nesting of embedded signatures (a back-signature inside a binding
    is level 1). Raises :class:`MalformedError` for anything that does not frame,
    including versions other than 4 (the message names the version).
    """
    if not body:
        raise MalformedError("empty signature packet")
    version = body[0]
    if version != 4:
        raise MalformedError(f"version {version} signature: only version 4 is supported")
    if len(body) < 6:
        raise MalformedError("truncated signature packet")
    sig_type, pubkey_algo, hash_algo = body[1], body[2], body[3]
    hashed_len = int.from_bytes(body[4:6], "big")
    hashed_end = 6 + hashed_len
    if hashed_end + 2 > len(body):
        raise MalformedError("signature hashed area runs past the packet")
    unhashed_len = int.from_bytes(body[hashed_end : hashed_end + 2], "big")
    unhashed_end = hashed_end + 2 + unhashed_len
    if unhashed_end + 2 > len(body):
        raise MalformedError("signature unhashed area runs past the packet")
    subs = _subpackets(body[6:hashed_end], hashed=True, max_count=max_subpackets)
    subs += _subpackets(body[hashed_end + 2 : unhashed_end], hashed=False, max_count=max_subpackets)
    left16 = body[unhashed_end : unhashed_end + 2]
    material = body[unhashed_end + 2 :]
    mpis: tuple[int, ...] = ()
    count = _SIGNATURE_MPIS.get(pubkey_algo)
    if count is not None:
        values, pos = read_mpis(material, 0, count, "signature")
        if pos != len(material):
            raise MalformedError("trailing octets after the signature MPIs")
        mpis = tuple(values)

    created = expiration = key_expiration = key_flags = revocation_code = None
    issuer_key_id = issuer_fingerprint = None
    embedded: list[Signature] = []
    defects: list[str] = []
    revokers: list[bytes] = []
    for kind, hashed, sub in subs:
        t = kind & 0x7F
        if kind & 0x80:
            if t not in KNOWN_SUBPACKETS:
                defects.append(f"unknown critical subpacket type {t}")
            if t == SubpacketType.NOTATION:
                defects.append(f"critical notation{_notation_name(sub)}")
        if t == SubpacketType.ISSUER_KEY_ID:
            key_id = _fixed(sub, 8, "issuer key ID")
            if issuer_key_id is None or hashed:
                issuer_key_id = key_id
        elif t == SubpacketType.ISSUER_FINGERPRINT:
            if len(sub) < 1:
                raise MalformedError("empty issuer fingerprint subpacket")
            if sub[0] == 4:
                fpr = _fixed(sub, 21, "v4 issuer fingerprint")[1:]
                if issuer_fingerprint is None or hashed:
                    issuer_fingerprint = fpr
        elif t == SubpacketType.EMBEDDED_SIGNATURE:
            if _level + 1 > depth:
                raise LimitExceededError("nesting of embedded signatures", depth)
            try:
                embedded.append(
                    parse_signature(
                        sub, max_subpackets=max_subpackets, depth=depth, _level=_level + 1
                    )
                )
            except LimitExceededError:
                raise
            except MalformedError as err:
                defects.append(f"unreadable embedded signature: {err.message}")
        elif not hashed:
            # RFC 9580 §5.2.3.7: only the issuer and embedded signatures are taken from
            # the unhashed area; anything else there is unauthenticated and ignored.
            continue
        elif t == SubpacketType.CREATION_TIME:
            created = int.from_bytes(_fixed(sub, 4, "creation time"), "big")
        elif t == SubpacketType.EXPIRATION_TIME:
            expiration = int.from_bytes(_fixed(sub, 4, "signature expiration time"), "big")
        elif t == SubpacketType.KEY_EXPIRATION_TIME:
            key_expiration = int.from_bytes(_fixed(sub, 4, "key expiration time"), "big")
        elif t == SubpacketType.KEY_FLAGS:
            key_flags = sub[0] if sub else 0
        elif t == SubpacketType.REVOCATION_REASON:
            revocation_code = sub[0] if sub else None
        elif t == SubpacketType.REVOCATION_KEY and len(sub) == 22 and sub[0] & 0x80:
            revokers.append(sub[2:])  # class, algorithm, then a v4 fingerprint
    if created is None:
        defects.append("no creation time in the hashed subpackets")
    return Signature(
        sig_type=sig_type,
        pubkey_algo=pubkey_algo,
        hash_algo=hash_algo,
        hashed_part=body[:hashed_end],
        subpacket_octets=tuple(subs),
        left16=left16,
        mpis=mpis,
        raw_material=material,
        created=created,
        expiration=expiration,
        key_expiration=key_expiration,
        key_flags=key_flags,
        issuer_key_id=issuer_key_id,
        issuer_fingerprint=issuer_fingerprint,
        revocation_code=revocation_code,
        embedded=tuple(embedded),
        defects=tuple(defects),
        packet=body,
        revocation_keys=tuple(revokers),
    )


def is_document_signature(sig: Signature) -> bool:
    """Whether ``sig`` is a binary (0x00) or text (0x01) document signature."""
    return sig.sig_type in (SigType.BINARY, SigType.TEXT)
