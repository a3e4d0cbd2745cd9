"""Key material: public-key packets decoded into ``cryptography`` keys, and the math.

This is the only module that imports PGPy, and it imports it lazily (``import pgpy`` costs
about 135 ms): ``--help``, usage errors and malformed signatures never pay for it. So is
``cryptography`` (:func:`_crypto`): a malformed signature file imports neither. PGPy's
private field classes (``pgpy.packet.fields.RSAPub`` ...) decode the algorithm-specific
fields; that API is not public, so ``pgpy`` is held to a 0.6.x range in pyproject.toml,
``tests/test_packaging.py`` fails loudly (naming the class or attribute) if a release
changes what is used here, and ``tests/test_keymaterial.py`` has one adapter test per
algorithm.

Every PGPy call sits inside one ``try`` and one ``warnings.catch_warnings()``: PGPy emits
warnings on import and on use, and raises IndexError, ValueError, TypeError ... on hostile
input. Nothing from PGPy leaks out: callers get :class:`PublicKey` or an error of ours.
Before PGPy sees a key, its framing is checked here (PGPy reads past a short MPI silently).
"""

from __future__ import annotations

import functools
import hashlib
import types
import warnings
from typing import Any

from pgpverify.errors import MalformedError, UnsupportedError
from pgpverify.openpgp._record import Record
from pgpverify.openpgp.constants import HashAlgo, PubKeyAlgo, pubkey_name
from pgpverify.openpgp.packets import read_mpis
from pgpverify.policy import RSA_EXPONENT_CEILING, RSA_MODULUS_CEILING


@functools.cache
def _crypto() -> Any:
    """``cryptography``, imported on first use (a malformed signature file never needs it).

    Importing it costs about a sixth of a one-signature run; the classes are looked up
    once and kept here.
    """
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import (
        Prehashed,
        encode_dss_signature,
    )

    return types.SimpleNamespace(
        InvalidSignature=InvalidSignature,
        UnsupportedAlgorithm=UnsupportedAlgorithm,
        hashes=hashes,
        dsa=dsa,
        ec=ec,
        ed25519=ed25519,
        padding=padding,
        rsa=rsa,
        Prehashed=Prehashed,
        encode_dss_signature=encode_dss_signature,
    )


__all__ = ["KeyPacket", "PublicKey", "decode_key", "parse_key_packet"]

#: Curve OIDs (RFC 9580 §9.2), as the octets that follow the OID length octet.
CURVES: dict[bytes, tuple[str, int]] = {
    bytes.fromhex("2A8648CE3D030107"): ("NIST P-256", 256),
    bytes.fromhex("2B81040022"): ("NIST P-384", 384),
    bytes.fromhex("2B81040023"): ("NIST P-521", 521),
    bytes.fromhex("2B2403030208010107"): ("brainpoolP256r1", 256),
    bytes.fromhex("2B240303020801010B"): ("brainpoolP384r1", 384),
    bytes.fromhex("2B240303020801010D"): ("brainpoolP512r1", 512),
    bytes.fromhex("2B06010401DA470F01"): ("Ed25519", 256),
    bytes.fromhex("2B060104019755010501"): ("Curve25519", 256),
    bytes.fromhex("2B8104000A"): ("secp256k1", 256),
}
#: ECDSA curves: their class in ``cryptography.hazmat.primitives.asymmetric.ec``, by name
_EC_CURVES: dict[str, str] = {
    "NIST P-256": "SECP256R1",
    "NIST P-384": "SECP384R1",
    "NIST P-521": "SECP521R1",
    "brainpoolP256r1": "BrainpoolP256R1",
    "brainpoolP384r1": "BrainpoolP384R1",
    "brainpoolP512r1": "BrainpoolP512R1",
    # gpg makes and checks ECDSA keys over secp256k1 (SEC 2 §2.4.1); PGPy knows its OID,
    # but the public key is built on cryptography's curve below, as for brainpool.
    "secp256k1": "SECP256K1",
}
_ECDSA_CURVES = frozenset(_EC_CURVES)

#: RSA public exponents accepted: odd, from 3 to 2**33 - 1. The bounds are those of the
#: RustCrypto ``rsa`` crate (rpgp's backend); OpenSSL refuses exponents over 64 bits for
#: moduli over 3072 bits and Go over 2**31 - 1, and every real key uses 65537 (or 3, 17,
#: 35, 41 from PGP 2). An even exponent is never RSA. A larger one only makes each
#: verification slower: a 3000-bit exponent costs 175 times 65537's.
#: These are the ceilings of every policy (pgpverify.policy); a Policy may only narrow them.
RSA_MIN_EXPONENT = 3
RSA_MAX_EXPONENT = RSA_EXPONENT_CEILING
#: OpenSSL refuses to verify with a larger modulus (``OPENSSL_RSA_MAX_MODULUS_BITS``).
RSA_MAX_MODULUS_BITS = RSA_MODULUS_CEILING

#: hash algorithms: their class in ``cryptography.hazmat.primitives.hashes``, by ID
_CRYPTO_HASHES: dict[int, str] = {
    HashAlgo.SHA1: "SHA1",
    HashAlgo.SHA224: "SHA224",
    HashAlgo.SHA256: "SHA256",
    HashAlgo.SHA384: "SHA384",
    HashAlgo.SHA512: "SHA512",
    HashAlgo.SHA3_256: "SHA3_256",
    HashAlgo.SHA3_512: "SHA3_512",
}


class KeyPacket(Record):
    """The framing of a v4 public-key or public-subkey packet (RFC 9580 §5.5.2).

    Cheap to build (no PGPy, no big integers): keyrings index every key packet with it.
    """

    __slots__ = ("algorithm", "body", "created", "fingerprint", "version")
    version: int
    created: int
    algorithm: int
    body: bytes
    fingerprint: bytes

    def __init__(
        self, *, version: int, created: int, algorithm: int, body: bytes, fingerprint: bytes
    ) -> None:
        self._set(
            version=version,
            created=created,
            algorithm=algorithm,
            body=body,
            fingerprint=fingerprint,
        )

    @property
    def key_id(self) -> bytes:
        """The low 64 bits of the v4 fingerprint."""
        return self.fingerprint[-8:]

    @property
    def hash_material(self) -> bytes:
        """The octets a signature over this key hashes (§5.2.4): 0x99, length, body."""
        return b"\x99" + len(self.body).to_bytes(2, "big") + self.body


def parse_key_packet(body: bytes) -> KeyPacket:
    """Frame a public-key packet body; only v4 keys are supported.

    Raises :class:`UnsupportedError` for other versions and :class:`MalformedError` for a
    packet too short to hold the v4 header or too long to fingerprint.
    """
    if not body:
        raise MalformedError("empty public-key packet")
    if body[0] != 4:
        raise UnsupportedError(f"version {body[0]} public key: only version 4 is supported")
    if len(body) < 7:
        raise MalformedError("truncated public-key packet")
    if len(body) > 0xFFFF:
        raise MalformedError("public-key packet longer than 65535 octets")
    created = int.from_bytes(body[1:5], "big")
    fpr = hashlib.sha1(
        b"\x99" + len(body).to_bytes(2, "big") + body, usedforsecurity=False
    ).digest()
    return KeyPacket(version=4, created=created, algorithm=body[5], body=body, fingerprint=fpr)


class PublicKey(Record):
    """Decoded key material of one key packet, ready to verify signatures.

    Equality, hash and ``repr`` leave out the ``cryptography`` key object.
    """

    __slots__ = ("_key", "_modulus", "algorithm", "bits", "curve", "exponent")
    algorithm: int
    #: bits of the modulus (RSA), of p (DSA, Elgamal), or of the curve's field order
    bits: int
    curve: str | None
    _key: Any
    #: the public exponent of an RSA key (None for other algorithms)
    exponent: int | None
    _modulus: int | None

    def __init__(
        self,
        *,
        algorithm: int,
        bits: int,
        curve: str | None,
        _key: Any,
        exponent: int | None = None,
        _modulus: int | None = None,
    ) -> None:
        self._set(
            algorithm=algorithm,
            bits=bits,
            curve=curve,
            _key=_key,
            exponent=exponent,
            # an RSA key's modulus, read once (public_numbers() converts it on every call)
            _modulus=_modulus,
        )

    def _names(self) -> tuple[str, ...]:
        return ("algorithm", "bits", "curve", "exponent")

    @property
    def name(self) -> str:
        """``RSA 3072``, ``ECDSA NIST P-256``, ``EdDSA (legacy) Ed25519``."""
        base = pubkey_name(self.algorithm)
        return f"{base} {self.curve}" if self.curve else f"{base} {self.bits}"

    @property
    def can_sign(self) -> bool:
        """Whether the algorithm is a signature algorithm pgpverify can check."""
        return self._key is not None

    def verify(self, hash_algo: int, digest: bytes, mpis: tuple[int, ...]) -> bool:
        """Check the signature values ``mpis`` over ``digest`` (RFC 9580 §5.2.3).

        Returns False for any mismatch, including values out of range; never raises for a
        bad signature.
        """
        hash_name = _CRYPTO_HASHES.get(hash_algo)
        if hash_name is None or self._key is None:
            return False
        c = _crypto()
        key = self._key
        try:
            if isinstance(key, c.ed25519.Ed25519PublicKey):  # the usual key: tried first
                # Legacy EdDSA (RFC 9580 §5.2.3.3): R and S as MPIs, each 32 octets; the
                # message signed is the digest itself.
                if len(mpis) != 2 or any(v >> 256 for v in mpis):
                    return False
                key.verify(mpis[0].to_bytes(32, "big") + mpis[1].to_bytes(32, "big"), digest)
                return True
            prehashed = c.Prehashed(getattr(c.hashes, hash_name)())
            if isinstance(key, c.rsa.RSAPublicKey):
                modulus = self._modulus
                if modulus is None:
                    modulus = key.public_numbers().n
                if len(mpis) != 1 or mpis[0] >= modulus:
                    return False
                sig = mpis[0].to_bytes((key.key_size + 7) // 8, "big")
                key.verify(sig, digest, c.padding.PKCS1v15(), prehashed)
            elif isinstance(key, c.dsa.DSAPublicKey):
                if len(mpis) != 2:
                    return False
                # FIPS 186-4 §4.6: the digest is truncated to the bit length of q; OpenSSL
                # does that for a prehashed digest longer than q.
                key.verify(c.encode_dss_signature(mpis[0], mpis[1]), digest, prehashed)
            elif isinstance(key, c.ec.EllipticCurvePublicKey):
                if len(mpis) != 2:
                    return False
                key.verify(c.encode_dss_signature(mpis[0], mpis[1]), digest, c.ec.ECDSA(prehashed))
            else:  # pragma: no cover - _decode only builds the types above
                return False
        except (c.InvalidSignature, ValueError, OverflowError, c.UnsupportedAlgorithm):
            return False
        return True


def _mpis(body: bytes, pos: int, count: int) -> tuple[list[int], int]:
    return read_mpis(body, pos, count, "key material")


def _curve_and_point(material: bytes) -> tuple[str, int, int]:
    """Check the OID and point framing of an EC key; return curve name, bits, end offset."""
    if not material:
        raise MalformedError("truncated EC key material")
    oid_len = material[0]
    if oid_len in (0, 0xFF) or 1 + oid_len > len(material):
        raise MalformedError("bad curve OID length in EC key material")
    oid = material[1 : 1 + oid_len]
    if oid not in CURVES:
        raise UnsupportedError(f"unsupported elliptic curve (OID {oid.hex().upper()})")
    name, bits = CURVES[oid]
    _, end = _mpis(material, 1 + oid_len, 1)
    return name, bits, end


def decode_key(packet: KeyPacket) -> PublicKey:
    """Decode ``packet``'s algorithm-specific fields with PGPy into a :class:`PublicKey`.

    Encryption-only algorithms decode with ``can_sign`` False (so their size can still be
    judged). Raises :class:`UnsupportedError` for an algorithm or curve that is not
    implemented, :class:`MalformedError` for key material that does not decode.
    """
    algo = packet.algorithm
    material = packet.body[6:]
    curve: str | None = None
    if algo in (PubKeyAlgo.RSA, PubKeyAlgo.RSA_SIGN, PubKeyAlgo.RSA_ENCRYPT):
        values, end = _mpis(material, 0, 2)
        bits = values[0].bit_length()
        _check_rsa(bits, values[1])
        field_name = "RSAPub"
    elif algo == PubKeyAlgo.DSA:
        values, end = _mpis(material, 0, 4)
        bits = values[0].bit_length()
        field_name = "DSAPub"
    elif algo in (PubKeyAlgo.ELGAMAL, PubKeyAlgo.ELGAMAL_SIGN):
        values, end = _mpis(material, 0, 3)
        bits = values[0].bit_length()
        field_name = ""
    elif algo == PubKeyAlgo.ECDSA:
        curve, bits, end = _curve_and_point(material)
        if curve not in _ECDSA_CURVES:
            raise UnsupportedError(f"ECDSA over {curve} is not supported")
        field_name = "ECDSAPub"
    elif algo == PubKeyAlgo.EDDSA_LEGACY:
        curve, bits, end = _curve_and_point(material)
        if curve != "Ed25519":
            raise UnsupportedError(f"EdDSA over {curve} is not supported")
        field_name = "EdDSAPub"
    elif algo == PubKeyAlgo.ECDH:
        curve, bits, end = _curve_and_point(material)
        return PublicKey(algorithm=algo, bits=bits, curve=curve, _key=None)
    else:
        raise UnsupportedError(f"public-key algorithm {pubkey_name(algo)} is not supported")
    if end != len(material):
        raise MalformedError("trailing octets after the key material")
    if not field_name or algo == PubKeyAlgo.RSA_ENCRYPT:
        return PublicKey(algorithm=algo, bits=bits, curve=curve, _key=None)
    key = _pgpy_decode(field_name, material, curve)
    rsa = field_name == "RSAPub"
    return PublicKey(
        algorithm=algo,
        bits=bits,
        curve=curve,
        _key=key,
        exponent=values[1] if rsa else None,
        _modulus=values[0] if rsa else None,
    )


def _check_rsa(bits: int, exponent: int) -> None:
    """Refuse an RSA key outside the sizes checked before PGPy or OpenSSL sees it."""
    if bits > RSA_MAX_MODULUS_BITS:
        raise UnsupportedError(
            f"RSA modulus of {bits} bits is over the {RSA_MAX_MODULUS_BITS}-bit maximum"
        )
    if not RSA_MIN_EXPONENT <= exponent <= RSA_MAX_EXPONENT or not exponent & 1:
        shown = (
            str(exponent) if exponent.bit_length() <= 64 else (f"of {exponent.bit_length()} bits")
        )
        raise UnsupportedError(
            f"RSA public exponent {shown} is outside the accepted range (odd, 3 to 2**33 - 1)"
        )


def _pgpy_decode(field_name: str, material: bytes, curve: str | None) -> Any:
    """Run one PGPy field decoder; the only place PGPy code is called.

    For ECDSA, PGPy decodes the point but its own brainpool curve classes are abstract
    under current ``cryptography`` releases (no ``group_order``), so the public key is
    built from PGPy's decoded coordinates on ``cryptography``'s curve of the same name.
    PGPy raises anything on hostile input; all of it becomes MalformedError.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from pgpy.packet import fields

            decoder = getattr(fields, field_name)()
            decoder.parse(bytearray(material))
            if curve in _EC_CURVES:
                ec = _crypto().ec
                numbers = ec.EllipticCurvePublicNumbers(
                    int(decoder.p.x), int(decoder.p.y), getattr(ec, _EC_CURVES[curve])()
                )
                return numbers.public_key()
            return decoder.__pubkey__()
        except Exception as err:
            raise MalformedError(f"key material does not decode: {type(err).__name__}") from err
