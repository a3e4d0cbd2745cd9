"""A small OpenPGP *writer* for test vectors (RFC 9580), with control over every byte.

Test tooling only: it is not part of the pgpverify package and never imports it, so the
vectors are not produced by the code they test. It writes v4 key packets, user IDs,
self-signatures, bindings, back-signatures, revocations and document signatures, every
subpacket chosen by the caller (hashed or unhashed, critical bit), and ASCII armor.

Every signature is deterministic: RSA PKCS#1 v1.5 computed with ``pow``; DSA with a ``k``
derived from the key and the digest; ECDSA with RFC 6979 (``deterministic_signing``);
Ed25519 is deterministic by design. Keys are loaded from ``vectors/private/*.pem``.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

if TYPE_CHECKING:
    from pathlib import Path

# -- constants (RFC 9580 §9) ------------------------------------------------------------------

RSA, DSA, ECDSA, EDDSA_LEGACY, ED25519_NATIVE = 1, 17, 19, 22, 27
MD5, SHA1, RIPEMD160, SHA256, SHA384, SHA512, SHA224 = 1, 2, 3, 8, 9, 10, 11

BINARY, TEXT, STANDALONE, POSITIVE_CERT = 0x00, 0x01, 0x02, 0x13
SUBKEY_BINDING, PRIMARY_BINDING, DIRECT_KEY = 0x18, 0x19, 0x1F
KEY_REVOCATION, SUBKEY_REVOCATION, TIMESTAMP = 0x20, 0x28, 0x40

TAG_SIGNATURE, TAG_ONE_PASS, TAG_PUBLIC_KEY, TAG_LITERAL = 2, 4, 6, 11
TAG_USER_ID, TAG_PUBLIC_SUBKEY = 13, 14

FLAG_CERTIFY, FLAG_SIGN, FLAG_ENCRYPT_COMMS, FLAG_ENCRYPT_STORAGE, FLAG_AUTH = (
    0x01,
    0x02,
    0x04,
    0x08,
    0x20,
)

_HASH_NAMES = {
    MD5: "md5",
    SHA1: "sha1",
    RIPEMD160: "ripemd160",
    SHA256: "sha256",
    SHA384: "sha384",
    SHA512: "sha512",
    SHA224: "sha224",
}
_CRYPTO_HASHES: dict[int, type[hashes.HashAlgorithm]] = {
    SHA1: hashes.SHA1,
    SHA224: hashes.SHA224,
    SHA256: hashes.SHA256,
    SHA384: hashes.SHA384,
    SHA512: hashes.SHA512,
}
# DER DigestInfo prefixes for EMSA-PKCS1-v1_5 (RFC 8017 §9.2 note 1; RIPEMD-160 from RFC 4880).
_DIGEST_INFO = {
    MD5: "3020300c06082a864886f70d020505000410",
    SHA1: "3021300906052b0e03021a05000414",
    RIPEMD160: "3021300906052b2403020105000414",
    SHA224: "302d300d06096086480165030402040500041c",
    SHA256: "3031300d060960864801650304020105000420",
    SHA384: "3041300d060960864801650304020205000430",
    SHA512: "3051300d060960864801650304020305000440",
}
CURVE_OIDS: dict[str, bytes] = {
    "secp256r1": bytes.fromhex("2a8648ce3d030107"),
    "secp384r1": bytes.fromhex("2b81040022"),
    "secp521r1": bytes.fromhex("2b81040023"),
    "brainpoolP256r1": bytes.fromhex("2b2403030208010107"),
    "brainpoolP384r1": bytes.fromhex("2b240303020801010b"),
    "brainpoolP512r1": bytes.fromhex("2b240303020801010d"),
    "secp256k1": bytes.fromhex("2b8104000a"),
}
ED25519_LEGACY_OID = bytes.fromhex("2b06010401da470f01")


def new_hash(algo: int) -> Any:
    """A hashlib object for an OpenPGP hash algorithm id."""
    return hashlib.new(_HASH_NAMES[algo])


# -- encoding primitives ----------------------------------------------------------------------


def mpi(value: int | bytes) -> bytes:
    """RFC 9580 §3.2 multiprecision integer."""
    if isinstance(value, bytes):
        value = int.from_bytes(value, "big")
    bits = value.bit_length()
    return struct.pack(">H", bits) + value.to_bytes((bits + 7) // 8, "big")


def packet(tag: int, body: bytes, *, old_format: bool = False) -> bytes:
    """One packet with an RFC 9580 §4.2 header (new format unless ``old_format``)."""
    n = len(body)
    if old_format:
        if n < 256:
            return bytes([0x80 | (tag << 2), n]) + body
        if n < 65536:
            return bytes([0x80 | (tag << 2) | 1]) + struct.pack(">H", n) + body
        return bytes([0x80 | (tag << 2) | 2]) + struct.pack(">I", n) + body
    head = bytes([0xC0 | tag])
    if n < 192:
        return head + bytes([n]) + body
    if n < 8384:
        n -= 192
        return head + bytes([(n >> 8) + 192, n & 0xFF]) + body
    return head + b"\xff" + struct.pack(">I", n) + body


def _subpacket_length(n: int) -> bytes:
    if n < 192:
        return bytes([n])
    if n < 8384:
        n -= 192
        return bytes([(n >> 8) + 192, n & 0xFF])
    return b"\xff" + struct.pack(">I", n)


# -- keys -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """A v4 public key packet body plus the private key that signs for it (if any)."""

    algo: int
    created: int
    material: bytes
    private: Any = None
    curve: str | None = None

    @property
    def body(self) -> bytes:
        return bytes([4]) + struct.pack(">I", self.created) + bytes([self.algo]) + self.material

    @property
    def fingerprint(self) -> bytes:
        return hashlib.sha1(self.frame()).digest()

    @property
    def fpr(self) -> str:
        return self.fingerprint.hex().upper()

    @property
    def key_id(self) -> bytes:
        return self.fingerprint[-8:]

    def frame(self) -> bytes:
        """The key as hashed into signatures: 0x99, two-octet length, body (§5.2.4)."""
        return b"\x99" + struct.pack(">H", len(self.body)) + self.body

    def packet(self, *, subkey: bool = False) -> bytes:
        return packet(TAG_PUBLIC_SUBKEY if subkey else TAG_PUBLIC_KEY, self.body)

    def sign_digest(self, hash_algo: int, digest: bytes) -> bytes:
        """The algorithm-specific signature fields (§5.2.3) over ``digest``."""
        priv = self.private
        if self.algo == RSA:
            nums = priv.private_numbers()
            n = nums.public_numbers.n
            k = (n.bit_length() + 7) // 8
            t = bytes.fromhex(_DIGEST_INFO[hash_algo]) + digest
            em = int.from_bytes(b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t, "big")
            # RSASP1 with the CRT (RFC 8017 §5.2.1): the same value as pow(em, d, n), faster
            m1, m2 = pow(em, nums.dmp1, nums.p), pow(em, nums.dmq1, nums.q)
            s = m2 + nums.q * ((nums.iqmp * (m1 - m2)) % nums.p)
            return mpi(s)
        if self.algo == DSA:
            return mpi_pair(*dsa_sign(priv, digest))
        if self.algo == ECDSA:
            der = priv.sign(
                digest,
                ec.ECDSA(Prehashed(_CRYPTO_HASHES[hash_algo]()), deterministic_signing=True),
            )
            return mpi_pair(*decode_dss_signature(der))
        if self.algo == EDDSA_LEGACY:
            raw = priv.sign(digest)
            return mpi(raw[:32]) + mpi(raw[32:])
        if self.algo == ED25519_NATIVE:
            return bytes(priv.sign(digest))
        raise ValueError(f"cannot sign with algorithm {self.algo}")


def mpi_pair(r: int, s: int) -> bytes:
    return mpi(r) + mpi(s)


def dsa_sign(priv: dsa.DSAPrivateKey, digest: bytes) -> tuple[int, int]:
    """FIPS 186-4 DSA with a deterministic nonce derived from x and the digest."""
    nums = priv.private_numbers()
    pn = nums.public_numbers.parameter_numbers
    p, q, g, x = pn.p, pn.q, pn.g, nums.x
    qbits = q.bit_length()
    z = int.from_bytes(digest, "big")
    if len(digest) * 8 > qbits:
        z >>= len(digest) * 8 - qbits
    counter = 0
    while True:
        seed = x.to_bytes(64, "big") + digest + counter.to_bytes(4, "big")
        k = int.from_bytes(hashlib.sha512(seed).digest() * 2, "big") % (q - 1) + 1
        r = pow(g, k, p) % q
        s = pow(k, -1, q) * (z + x * r) % q
        if r and s:
            return r, s
        counter += 1


def key_from_private(priv: Any, created: int) -> Key:
    """The v4 public key for a `cryptography` private key."""
    if isinstance(priv, rsa.RSAPrivateKey):
        pub = priv.public_key().public_numbers()
        return Key(RSA, created, mpi(pub.n) + mpi(pub.e), priv)
    if isinstance(priv, dsa.DSAPrivateKey):
        pubd = priv.public_key().public_numbers()
        pn = pubd.parameter_numbers
        return Key(DSA, created, mpi(pn.p) + mpi(pn.q) + mpi(pn.g) + mpi(pubd.y), priv)
    if isinstance(priv, ec.EllipticCurvePrivateKey):
        name = priv.curve.name
        oid = CURVE_OIDS[name]
        point = priv.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return Key(ECDSA, created, bytes([len(oid)]) + oid + mpi(point), priv, name)
    if isinstance(priv, ed25519.Ed25519PrivateKey):
        raw = priv.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        oid = ED25519_LEGACY_OID
        return Key(EDDSA_LEGACY, created, bytes([len(oid)]) + oid + mpi(b"\x40" + raw), priv)
    raise TypeError(type(priv).__name__)


def native_ed25519_key(priv: ed25519.Ed25519PrivateKey, created: int) -> Key:
    """A v4 key of algorithm 27 (RFC 9580 Ed25519, 32 raw octets)."""
    raw = priv.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return Key(ED25519_NATIVE, created, raw, priv)


def load_or_create(path: Path, make: Any) -> Any:
    """Load a PEM private key, creating it with ``make()`` once if the file is missing."""
    if not path.exists():
        priv = make()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            priv.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


# -- subpackets (§5.2.3.7) ----------------------------------------------------------------------


@dataclass(frozen=True)
class Sub:
    """One signature subpacket; ``critical`` sets bit 7 of the type octet."""

    type: int
    data: bytes
    critical: bool = False

    def encode(self) -> bytes:
        kind = self.type | (0x80 if self.critical else 0)
        return _subpacket_length(len(self.data) + 1) + bytes([kind]) + self.data


def created(t: int) -> Sub:
    return Sub(2, struct.pack(">I", t))


def sig_expires(seconds: int) -> Sub:
    return Sub(3, struct.pack(">I", seconds))


def key_expires(seconds: int) -> Sub:
    return Sub(9, struct.pack(">I", seconds))


def issuer(key: Key) -> Sub:
    return Sub(16, key.key_id)


def issuer_fpr(key: Key) -> Sub:
    return Sub(33, b"\x04" + key.fingerprint)


def key_flags(flags: int) -> Sub:
    return Sub(27, bytes([flags]))


def revocation_reason(code: int, text: bytes = b"") -> Sub:
    return Sub(29, bytes([code]) + text)


def embedded(sig_body: bytes) -> Sub:
    return Sub(32, sig_body)


def notation(name: bytes, value: bytes, *, critical: bool = False) -> Sub:
    flags = b"\x80\x00\x00\x00"  # human-readable
    return Sub(20, flags + struct.pack(">HH", len(name), len(value)) + name + value, critical)


def primary_uid() -> Sub:
    return Sub(25, b"\x01")


# -- signatures (§5.2.3, §5.2.4) ----------------------------------------------------------------


@dataclass
class SigSpec:
    """Everything about one v4 signature; ``None`` fields take the honest value."""

    sig_type: int
    hash_algo: int = SHA256
    hashed: list[Sub] = field(default_factory=list)
    unhashed: list[Sub] = field(default_factory=list)
    left16: bytes | None = None
    pubkey_algo: int | None = None
    corrupt: bool = False


def default_subpackets(signer: Key, t: int) -> tuple[list[Sub], list[Sub]]:
    """What GnuPG writes: creation time and issuer fingerprint hashed, key ID unhashed."""
    return [created(t), issuer_fpr(signer)], [issuer(signer)]


def sign(signer: Key, spec: SigSpec, hashed_data: bytes) -> bytes:
    """A v4 signature packet *body* over ``hashed_data`` (already framed/canonicalised)."""
    algo = spec.pubkey_algo if spec.pubkey_algo is not None else signer.algo
    hashed = b"".join(s.encode() for s in spec.hashed)
    unhashed = b"".join(s.encode() for s in spec.unhashed)
    head = bytes([4, spec.sig_type, algo, spec.hash_algo]) + struct.pack(">H", len(hashed))
    head += hashed
    trailer = b"\x04\xff" + struct.pack(">I", len(head))
    h = new_hash(spec.hash_algo)
    h.update(hashed_data + head + trailer)
    digest = h.digest()
    if signer.private is None:
        fields = mpi(int.from_bytes(hashlib.sha256(digest).digest(), "big"))
    else:
        fields = signer.sign_digest(spec.hash_algo, digest)
    if spec.corrupt:
        # flip one bit in the middle of the last MPI's value
        pos = len(fields) - max(2, len(fields) // 4)
        fields = fields[:pos] + bytes([fields[pos] ^ 0x10]) + fields[pos + 1 :]
    left16 = spec.left16 if spec.left16 is not None else digest[:2]
    return head + struct.pack(">H", len(unhashed)) + unhashed + left16 + fields


def v3_signature(signer: Key, sig_type: int, t: int, hash_algo: int, data: bytes) -> bytes:
    """A v3 signature body (RFC 9580 §5.2.2) over ``data``."""
    h = new_hash(hash_algo)
    h.update(data + bytes([sig_type]) + struct.pack(">I", t))
    digest: bytes = h.digest()
    return (
        bytes([3, 5, sig_type])
        + struct.pack(">I", t)
        + signer.key_id
        + bytes([signer.algo, hash_algo])
        + digest[:2]
        + signer.sign_digest(hash_algo, digest)
    )


def uid_frame(uid: bytes) -> bytes:
    return b"\xb4" + struct.pack(">I", len(uid)) + uid


def canonical_text(data: bytes) -> bytes:
    """Line endings to CRLF (§5.2.1.2)."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


# -- ASCII armor (§6) ---------------------------------------------------------------------------


def crc24(data: bytes) -> int:
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def armor(
    label: str,
    data: bytes,
    *,
    headers: tuple[tuple[str, str], ...] = (),
    crc: bool = True,
    bad_crc: bool = False,
    eol: str = "\n",
    width: int = 64,
) -> bytes:
    """An ASCII-armored block; the options produce the variants the armor tests need."""
    b64 = base64.b64encode(data).decode("ascii")
    lines = [f"-----BEGIN PGP {label}-----"]
    lines += [f"{k}: {v}" for k, v in headers]
    lines.append("")
    lines += [b64[i : i + width] for i in range(0, len(b64), width)]
    if crc:
        value = crc24(data) ^ (0x000001 if bad_crc else 0)
        lines.append("=" + base64.b64encode(value.to_bytes(3, "big")).decode("ascii"))
    lines.append(f"-----END PGP {label}-----")
    return (eol.join(lines) + eol).encode("ascii")
