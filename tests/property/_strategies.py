"""Shared material for the property tests: real OpenPGP inputs and mutation strategies.

Real inputs come from two places, both built once per session (at import time):

- hand-built v4 keys and signatures made with ``cryptography`` (deterministic framing,
  every algorithm the verifier checks), assembled octet by octet below;
- keys and detached signatures made by ``gpg`` in a throw-away GNUPGHOME (what real
  maintainers publish), when gpg is installed.

The mutation strategies derive hostile inputs from those good ones (flip, insert, delete,
truncate, splice), as style.md asks.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from pgpverify.errors import PgpVerifyError
from pgpverify.openpgp.armor import crc24

__all__ = [
    "SETTINGS",
    "Material",
    "PgpVerifyError",
    "armor",
    "material",
    "mutated",
    "packet",
]

CREATED = 1_700_000_000  # 2023-11-14, fixed so the material is deterministic in framing
SIGNED = 1_700_000_100
DOCUMENT = b"pgpverify property-test document\nsecond line\n"

P256_OID = bytes.fromhex("2A8648CE3D030107")
ED25519_OID = bytes.fromhex("2B06010401DA470F01")


# -- octet builders (RFC 9580 §3.2, §4.2, §5.2.3, §5.5.2) ----------------------------------


def mpi(value: int) -> bytes:
    return value.bit_length().to_bytes(2, "big") + value.to_bytes(
        (value.bit_length() + 7) // 8, "big"
    )


def packet(tag: int, body: bytes) -> bytes:
    """New-format packet with a five-octet length (valid for every body size)."""
    if len(body) < 192:
        return bytes([0xC0 | tag, len(body)]) + body
    return bytes([0xC0 | tag, 0xFF]) + len(body).to_bytes(4, "big") + body


def subpacket(kind: int, body: bytes, *, critical: bool = False) -> bytes:
    data = bytes([kind | (0x80 if critical else 0)]) + body
    assert len(data) < 192
    return bytes([len(data)]) + data


def armor(label: str, data: bytes) -> bytes:
    b64 = base64.b64encode(data).decode("ascii")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    crc = base64.b64encode(crc24(data).to_bytes(3, "big")).decode("ascii")
    text = "\n".join(
        [f"-----BEGIN PGP {label}-----", "", *lines, f"={crc}", f"-----END PGP {label}-----", ""]
    )
    return text.encode("ascii")


def key_body(algo: int, material: bytes, created: int = CREATED) -> bytes:
    return b"\x04" + created.to_bytes(4, "big") + bytes([algo]) + material


def fingerprint(body: bytes) -> bytes:
    return hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).digest()


def key_hash_material(body: bytes) -> bytes:
    return b"\x99" + len(body).to_bytes(2, "big") + body


@dataclass(frozen=True)
class _Signer:
    algo: int
    body: bytes
    private: object

    @property
    def fpr(self) -> bytes:
        return fingerprint(self.body)

    def sign(self, digest: bytes) -> bytes:
        key = self.private
        if isinstance(key, rsa.RSAPrivateKey):
            value = key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
            return mpi(int.from_bytes(value, "big"))
        if isinstance(key, ec.EllipticCurvePrivateKey):
            r, s = decode_dss_signature(key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()))))
            return mpi(r) + mpi(s)
        assert isinstance(key, ed25519.Ed25519PrivateKey)
        value = key.sign(digest)
        return mpi(int.from_bytes(value[:32], "big")) + mpi(int.from_bytes(value[32:], "big"))


def _rsa_signer() -> _Signer:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    nums = key.public_key().public_numbers()
    return _Signer(1, key_body(1, mpi(nums.n) + mpi(nums.e)), key)


def _p256_signer() -> _Signer:
    key = ec.generate_private_key(ec.SECP256R1())
    point = key.public_key().public_bytes(
        encoding=_serialization().Encoding.X962,
        format=_serialization().PublicFormat.UncompressedPoint,
    )
    material = bytes([len(P256_OID)]) + P256_OID + mpi(int.from_bytes(point, "big"))
    return _Signer(19, key_body(19, material), key)


def _ed25519_signer() -> _Signer:
    key = ed25519.Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(
        encoding=_serialization().Encoding.Raw, format=_serialization().PublicFormat.Raw
    )
    material = bytes([len(ED25519_OID)]) + ED25519_OID + mpi(int.from_bytes(b"\x40" + raw, "big"))
    return _Signer(22, key_body(22, material), key)


def _serialization():
    from cryptography.hazmat.primitives import serialization

    return serialization


def make_signature(
    signer: _Signer,
    sig_type: int,
    hashed_prefix: bytes,
    *,
    created: int = SIGNED,
    extra_hashed: bytes = b"",
    unhashed: bytes | None = None,
) -> bytes:
    """A v4 SHA-256 signature packet body over ``hashed_prefix`` (RFC 9580 §5.2.4)."""
    hashed = (
        subpacket(33, b"\x04" + signer.fpr)
        + subpacket(2, created.to_bytes(4, "big"))
        + extra_hashed
    )
    head = bytes([4, sig_type, signer.algo, 8]) + len(hashed).to_bytes(2, "big") + hashed
    digest = hashlib.sha256(
        hashed_prefix + head + b"\x04\xff" + len(head).to_bytes(4, "big")
    ).digest()
    if unhashed is None:
        unhashed = subpacket(16, signer.fpr[-8:])
    return head + len(unhashed).to_bytes(2, "big") + unhashed + digest[:2] + signer.sign(digest)


def make_certificate(primary: _Signer, subkey: _Signer | None = None) -> bytes:
    """A transferable public key: primary, user ID + self-sig, optional signing subkey."""
    uid = b"Property Test <property@example.org>"
    pmat = key_hash_material(primary.body)
    selfsig = make_signature(
        primary,
        0x13,
        pmat + b"\xb4" + len(uid).to_bytes(4, "big") + uid,
        created=CREATED,
        extra_hashed=subpacket(27, b"\x03"),
    )
    out = packet(6, primary.body) + packet(13, uid) + packet(2, selfsig)
    if subkey is not None:
        bmat = pmat + key_hash_material(subkey.body)
        back = make_signature(subkey, 0x19, bmat, created=CREATED)
        binding = make_signature(
            primary,
            0x18,
            bmat,
            created=CREATED,
            extra_hashed=subpacket(27, b"\x02"),
            unhashed=subpacket(32, back),
        )
        out += packet(14, subkey.body) + packet(2, binding)
    return out


# -- gpg-made material ----------------------------------------------------------------------


def _gpg_material() -> list[tuple[bytes, bytes]]:
    """(armored public key, armored detached signature over DOCUMENT) pairs made by gpg."""
    gpg = shutil.which("gpg")
    if gpg is None:
        return []
    home = tempfile.mkdtemp(prefix="pgpv-prop-")
    env = {**os.environ, "GNUPGHOME": home}
    base = [gpg, "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""]
    out: list[tuple[bytes, bytes]] = []
    try:
        doc = Path(home) / "doc.txt"
        doc.write_bytes(DOCUMENT)
        for uid, algo in (("Ed <ed@example.org>", "ed25519"), ("Rsa <rsa@example.org>", "rsa2048")):
            subprocess.run(
                [*base, "--quick-gen-key", uid, algo, "sign", "0"],
                env=env,
                check=True,
                capture_output=True,
                timeout=120,
            )
            key = subprocess.run(
                [*base, "--armor", "--export", uid],
                env=env,
                check=True,
                capture_output=True,
                timeout=60,
            ).stdout
            sig = subprocess.run(
                [*base, "--armor", "--local-user", uid, "--detach-sign", "--output", "-", str(doc)],
                env=env,
                check=True,
                capture_output=True,
                timeout=60,
            ).stdout
            out.append((key, sig))
    except (OSError, subprocess.SubprocessError):
        return out
    finally:
        subprocess.run(
            ["gpgconf", "--kill", "gpg-agent"],
            env=env,
            check=False,
            capture_output=True,
            timeout=30,
        )
        shutil.rmtree(home, ignore_errors=True)
    return out


@dataclass(frozen=True)
class Material:
    """Good inputs every mutation starts from."""

    #: binary signature packet bodies (tag 2), hand-built and gpg-made
    signature_bodies: tuple[bytes, ...]
    #: public-key packet bodies (tag 6 and 14)
    key_bodies: tuple[bytes, ...]
    #: framed certificates (binary), one per entry
    certificates: tuple[bytes, ...]
    #: whole signature files (armored or binary) that verify DOCUMENT with ``keyring``
    signature_files: tuple[bytes, ...]
    #: armored keyring holding every certificate
    keyring: bytes
    #: hand-built keys whose certificates are in ``keyring`` and may sign documents
    signers: tuple[_Signer, ...] = ()


def _bodies(data: bytes, tags: set[int]) -> list[bytes]:
    from pgpverify.openpgp.armor import decode_blocks, looks_armored
    from pgpverify.openpgp.packets import iter_packets

    binary = b"".join(b.data for b in decode_blocks(data)) if looks_armored(data) else data
    return [p.body for p in iter_packets(binary, max_packets=10_000) if p.tag in tags]


@functools.cache
def material() -> Material:
    rsa_key, p256_key, ed_key, ed_sub = (
        _rsa_signer(),
        _p256_signer(),
        _ed25519_signer(),
        _ed25519_signer(),
    )
    certs = [
        make_certificate(rsa_key),
        make_certificate(p256_key),
        make_certificate(ed_key, ed_sub),
    ]
    doc_sigs = [
        packet(2, make_signature(signer, 0x00, DOCUMENT)) for signer in (rsa_key, p256_key, ed_sub)
    ]
    sig_files = [armor("SIGNATURE", s) for s in doc_sigs] + [doc_sigs[0]]
    for key, sig in _gpg_material():
        certs.append(b"".join(b.data for b in _decode(key)))
        sig_files.append(sig)
    sig_bodies = [b for f in sig_files for b in _bodies(f, {2})]
    sig_bodies += [b for c in certs for b in _bodies(c, {2})]
    key_bodies = [b for c in certs for b in _bodies(c, {6, 14})]
    keyring = b"".join(armor("PUBLIC KEY BLOCK", c) for c in certs)
    return Material(
        signature_bodies=tuple(dict.fromkeys(sig_bodies)),
        key_bodies=tuple(dict.fromkeys(key_bodies)),
        certificates=tuple(certs),
        signature_files=tuple(sig_files),
        keyring=keyring,
        signers=(rsa_key, p256_key, ed_sub),
    )


def _decode(data: bytes):
    from pgpverify.openpgp.armor import decode_blocks

    return decode_blocks(data)


# -- mutation strategies --------------------------------------------------------------------


@st.composite
def _mutate(draw, base: bytes) -> bytes:
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "splice"]))
        if not data:
            data += draw(st.binary(min_size=1, max_size=8))
            continue
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[i] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0xC0, 0xFE, 0xFF]))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[i : i + draw(st.integers(1, 8))]
        elif op == "truncate":
            del data[i:]
        else:
            j = draw(st.integers(0, len(data)))
            data[i:i] = bytes(data[j : j + draw(st.integers(1, 64))])
    return bytes(data)


def mutated(bases: tuple[bytes, ...]) -> st.SearchStrategy[bytes]:
    """A mutation of one of ``bases`` (a few byte-level edits)."""
    return st.sampled_from(bases).flatmap(_mutate)


#: Bounded runs: the whole property suite stays under a minute.
SETTINGS = settings(
    max_examples=int(os.environ.get("PGPVERIFY_PROPERTY_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
