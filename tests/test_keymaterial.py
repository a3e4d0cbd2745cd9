"""Key packets and key material (RFC 9580 §5.5.2, §5.2.3): pgpverify.openpgp.keymaterial.

One adapter test per algorithm: a key made with ``cryptography`` is encoded into a v4
public-key packet body by hand, decoded through PGPy by :func:`decode_key`, and must then
accept a signature ``cryptography`` made and reject a wrong digest or a wrong value. This
pins PGPy's private field decoders (``pgpy.packet.fields``), which are not public API.
"""

from __future__ import annotations

import functools
import hashlib
import os
import random
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

from pgpverify.errors import MalformedError, UnsupportedError
from pgpverify.openpgp.armor import decode_blocks
from pgpverify.openpgp.keymaterial import KeyPacket, decode_key, parse_key_packet
from pgpverify.openpgp.packets import Tag, iter_packets
from pgpverify.openpgp.signature import parse_signature
from tools import require_tool

CREATED = 1_600_000_000

OIDS = {
    "NIST P-256": bytes.fromhex("2A8648CE3D030107"),
    "NIST P-384": bytes.fromhex("2B81040022"),
    "NIST P-521": bytes.fromhex("2B81040023"),
    "brainpoolP256r1": bytes.fromhex("2B2403030208010107"),
    "brainpoolP384r1": bytes.fromhex("2B240303020801010B"),
    "brainpoolP512r1": bytes.fromhex("2B240303020801010D"),
    "Ed25519": bytes.fromhex("2B06010401DA470F01"),
    "Curve25519": bytes.fromhex("2B060104019755010501"),
    "secp256k1": bytes.fromhex("2B8104000A"),
}
EC_CURVES = {
    "NIST P-256": (ec.SECP256R1, hashes.SHA256, 8, 256),
    "NIST P-384": (ec.SECP384R1, hashes.SHA384, 9, 384),
    "NIST P-521": (ec.SECP521R1, hashes.SHA512, 10, 521),
    "brainpoolP256r1": (ec.BrainpoolP256R1, hashes.SHA256, 8, 256),
    "brainpoolP384r1": (ec.BrainpoolP384R1, hashes.SHA384, 9, 384),
    "brainpoolP512r1": (ec.BrainpoolP512R1, hashes.SHA512, 10, 512),
    "secp256k1": (ec.SECP256K1, hashes.SHA256, 8, 256),
}
HASH_IDS = {8: hashes.SHA256, 9: hashes.SHA384, 10: hashes.SHA512}


def mpi(value: int) -> bytes:
    return value.bit_length().to_bytes(2, "big") + value.to_bytes(
        (value.bit_length() + 7) // 8, "big"
    )


def key_body(algo: int, material: bytes, created: int = CREATED) -> bytes:
    return b"\x04" + created.to_bytes(4, "big") + bytes([algo]) + material


def oid_field(curve: str) -> bytes:
    oid = OIDS[curve]
    return bytes([len(oid)]) + oid


@dataclass(frozen=True)
class Case:
    """A key packet body with the private key that signs for it."""

    algo: int
    body: bytes
    private: Any
    hash_id: int
    bits: int
    curve: str | None
    name: str

    def sign(self, digest: bytes) -> tuple[int, ...]:
        key = self.private
        prehashed = Prehashed(HASH_IDS[self.hash_id]())
        if isinstance(key, rsa.RSAPrivateKey):
            return (int.from_bytes(key.sign(digest, padding.PKCS1v15(), prehashed), "big"),)
        if isinstance(key, dsa.DSAPrivateKey):
            return decode_dss_signature(key.sign(digest, prehashed))
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return decode_dss_signature(key.sign(digest, ec.ECDSA(prehashed)))
        raw = key.sign(digest)
        return int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")


def _rsa(algo: int) -> Case:
    key = _rsa_key()
    nums = key.public_key().public_numbers()
    name = "RSA 2048" if algo == 1 else "RSA (sign-only) 2048"
    return Case(algo, key_body(algo, mpi(nums.n) + mpi(nums.e)), key, 8, 2048, None, name)


@functools.cache
def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _dsa() -> Case:
    key = dsa.generate_private_key(key_size=2048)
    nums = key.public_key().public_numbers()
    params = nums.parameter_numbers
    material = mpi(params.p) + mpi(params.q) + mpi(params.g) + mpi(nums.y)
    return Case(17, key_body(17, material), key, 8, 2048, None, "DSA 2048")


def _ecdsa(curve: str) -> Case:
    cls, _, hash_id, bits = EC_CURVES[curve]
    key = ec.generate_private_key(cls())
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    material = oid_field(curve) + mpi(int.from_bytes(point, "big"))
    return Case(19, key_body(19, material), key, hash_id, bits, curve, f"ECDSA {curve}")


def _eddsa() -> Case:
    key = ed25519.Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    material = oid_field("Ed25519") + mpi(int.from_bytes(b"\x40" + raw, "big"))
    return Case(22, key_body(22, material), key, 8, 256, "Ed25519", "EdDSA (legacy) Ed25519")


@functools.cache
def signing_case(which: str) -> Case:
    if which == "RSA":
        return _rsa(1)
    if which == "RSA-sign-only":
        return _rsa(3)
    if which == "DSA":
        return _dsa()
    if which == "EdDSA":
        return _eddsa()
    return _ecdsa(which)


SIGNING = ["RSA", "RSA-sign-only", "DSA", "EdDSA", *EC_CURVES]


def _decode(body: bytes):
    return decode_key(parse_key_packet(body))


# -- adapter tests: one per signing algorithm ------------------------------------------------


@pytest.mark.parametrize("which", SIGNING)
def test_keymaterial_decodes_each_signing_algorithm(which):
    case = signing_case(which)
    key = _decode(case.body)
    assert key.algorithm == case.algo
    assert key.bits == case.bits
    assert key.curve == case.curve
    assert key.name == case.name
    assert key.can_sign


@pytest.mark.parametrize("which", SIGNING)
def test_keymaterial_verifies_a_signature_of_each_algorithm(which):
    case = signing_case(which)
    key = _decode(case.body)
    digest = hashlib.new(HASH_IDS[case.hash_id].name, b"the signed octets and the trailer").digest()
    values = case.sign(digest)
    assert key.verify(case.hash_id, digest, values) is True


@pytest.mark.parametrize("which", SIGNING)
def test_keymaterial_rejects_a_flipped_digest(which):
    case = signing_case(which)
    key = _decode(case.body)
    digest = hashlib.new(HASH_IDS[case.hash_id].name, b"document").digest()
    values = case.sign(digest)
    flipped = bytes([digest[0] ^ 0x01]) + digest[1:]
    assert key.verify(case.hash_id, flipped, values) is False


@pytest.mark.parametrize("which", SIGNING)
def test_keymaterial_rejects_a_wrong_signature_value(which):
    case = signing_case(which)
    key = _decode(case.body)
    digest = hashlib.new(HASH_IDS[case.hash_id].name, b"document").digest()
    values = case.sign(digest)
    for i in range(len(values)):
        wrong = tuple(v + 1 if j == i else v for j, v in enumerate(values))
        assert key.verify(case.hash_id, digest, wrong) is False


@pytest.mark.parametrize("which", SIGNING)
def test_keymaterial_rejects_out_of_range_values(which):
    case = signing_case(which)
    key = _decode(case.body)
    digest = hashlib.new(HASH_IDS[case.hash_id].name, b"document").digest()
    count = len(case.sign(digest))
    for values in ((), (0,) * count, (1 << 8192,) * count, (0, 0, 0)):
        assert key.verify(case.hash_id, digest, values) is False


@pytest.mark.parametrize("which", ["RSA", "EdDSA", "NIST P-256"])
@pytest.mark.parametrize("hash_id", [0, 1, 3, 102])
def test_keymaterial_verify_is_false_for_unusable_hash_ids(which, hash_id):
    case = signing_case(which)
    key = _decode(case.body)
    digest = hashlib.sha256(b"document").digest()
    assert key.verify(hash_id, digest, case.sign(digest)) is False


def test_keymaterial_rejects_a_signature_by_another_key():
    a, b = signing_case("NIST P-256"), _ecdsa("NIST P-256")
    digest = hashlib.sha256(b"document").digest()
    assert _decode(a.body).verify(8, digest, b.sign(digest)) is False


# -- encryption-only algorithms: decoded for their size, cannot sign -------------------------


def test_keymaterial_ecdh_curve25519():
    raw = (
        x25519.X25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    kdf = b"\x03\x01\x08\x07"
    material = oid_field("Curve25519") + mpi(int.from_bytes(b"\x40" + raw, "big")) + kdf
    key = _decode(key_body(18, material))
    assert (key.algorithm, key.bits, key.curve) == (18, 256, "Curve25519")
    assert key.name == "ECDH Curve25519"
    assert not key.can_sign
    assert key.verify(8, bytes(32), (1, 2)) is False


@pytest.mark.parametrize("curve", ["NIST P-256", "NIST P-384", "brainpoolP512r1"])
def test_keymaterial_ecdh_nist_and_brainpool(curve):
    cls = EC_CURVES[curve][0]
    point = (
        ec.generate_private_key(cls())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    material = oid_field(curve) + mpi(int.from_bytes(point, "big")) + b"\x03\x01\x08\x07"
    key = _decode(key_body(18, material))
    assert key.curve == curve
    assert key.bits == EC_CURVES[curve][3]
    assert not key.can_sign


@pytest.mark.parametrize(("algo", "bits"), [(16, 2048), (16, 1024), (20, 3072)])
def test_keymaterial_elgamal_size_only(algo, bits):
    # Elgamal is never a signing algorithm here; a fake group is enough to judge its size.
    rng = random.Random(bits)
    p = rng.getrandbits(bits) | (1 << (bits - 1)) | 1
    key = _decode(key_body(algo, mpi(p) + mpi(2) + mpi(rng.getrandbits(bits - 8))))
    assert key.algorithm == algo
    assert key.bits == bits
    assert key.curve is None
    assert not key.can_sign


def test_keymaterial_rsa_encrypt_only_cannot_sign():
    nums = _rsa_key().public_key().public_numbers()
    key = _decode(key_body(2, mpi(nums.n) + mpi(nums.e)))
    assert key.bits == 2048
    assert not key.can_sign


# -- unsupported -----------------------------------------------------------------------------


@pytest.mark.parametrize("algo", [25, 26, 27, 28, 99, 0, 255])
def test_keymaterial_rejects_unknown_algorithm(algo):
    with pytest.raises(UnsupportedError, match="not supported"):
        _decode(key_body(algo, bytes(40)))


def test_keymaterial_rejects_unsupported_curve_oid():
    case = signing_case("NIST P-256")
    body = case.body.replace(OIDS["NIST P-256"], bytes.fromhex("2A8648CE3D030199"))
    with pytest.raises(UnsupportedError, match="2A8648CE3D030199"):
        _decode(body)


@pytest.mark.parametrize(
    ("algo", "curve"), [(22, "secp256k1"), (19, "Ed25519"), (19, "Curve25519"), (22, "NIST P-256")]
)
def test_keymaterial_rejects_a_curve_the_algorithm_does_not_use(algo, curve):
    material = oid_field(curve) + mpi((0x04 << 512) | 12345)
    with pytest.raises(UnsupportedError, match="not supported"):
        _decode(key_body(algo, material))


@pytest.mark.parametrize("version", [2, 3, 5, 6])
def test_keymaterial_rejects_other_key_versions(version):
    body = bytes([version]) + signing_case("RSA").body[1:]
    with pytest.raises(UnsupportedError, match=f"version {version} public key"):
        parse_key_packet(body)


# -- malformed -------------------------------------------------------------------------------


@pytest.mark.parametrize("which", SIGNING)
def test_keymaterial_rejects_truncated_mpi(which):
    body = signing_case(which).body
    for cut in (len(body) - 1, len(body) - 17):
        with pytest.raises(MalformedError):
            _decode(body[:cut])


@pytest.mark.parametrize("which", SIGNING)
def test_keymaterial_rejects_trailing_octets(which):
    with pytest.raises(MalformedError, match="trailing octets"):
        _decode(signing_case(which).body + b"\x00")


@pytest.mark.parametrize("oid_len", [0, 0xFF, 60])
def test_keymaterial_rejects_bad_oid_length(oid_len):
    body = key_body(19, bytes([oid_len]) + OIDS["NIST P-256"])
    with pytest.raises(MalformedError, match="OID"):
        _decode(body)


def test_keymaterial_rejects_a_point_off_the_curve():
    case = signing_case("NIST P-256")
    point_len = 65
    body = case.body[:-point_len] + bytes([0x04]) + bytes(point_len - 2) + b"\x07"
    with pytest.raises(MalformedError, match="does not decode"):
        _decode(body)


def test_keymaterial_rejects_an_eddsa_point_without_prefix():
    case = signing_case("EdDSA")
    body = case.body[:-35] + mpi(int.from_bytes(b"\x41" + bytes(32), "big"))
    with pytest.raises(MalformedError):
        _decode(body)


def test_keymaterial_rejects_dsa_with_an_unusual_modulus_size():
    rng = random.Random(17)
    p = rng.getrandbits(1500) | (1 << 1499) | 1
    material = mpi(p) + mpi(rng.getrandbits(256) | 1) + mpi(2) + mpi(3)
    with pytest.raises(MalformedError):
        _decode(key_body(17, material))


@pytest.mark.parametrize(
    "body", [b"", b"\x04", b"\x04\x00\x00\x00\x00", b"\x04\x00\x00\x00\x00\x01"]
)
def test_keymaterial_rejects_a_packet_too_short(body):
    with pytest.raises(MalformedError):
        parse_key_packet(body)


def test_keymaterial_rejects_a_packet_too_long_to_fingerprint():
    with pytest.raises(MalformedError, match="65535"):
        parse_key_packet(key_body(1, bytes(0x10000)))


# -- framing and fingerprints ----------------------------------------------------------------


def test_keymaterial_key_packet_fields():
    case = signing_case("RSA")
    pkt = parse_key_packet(case.body)
    assert isinstance(pkt, KeyPacket)
    assert (pkt.version, pkt.created, pkt.algorithm) == (4, CREATED, 1)
    material = b"\x99" + len(case.body).to_bytes(2, "big") + case.body
    assert pkt.hash_material == material
    assert pkt.fingerprint == hashlib.sha1(material).digest()
    assert pkt.key_id == pkt.fingerprint[-8:]


def test_keymaterial_fingerprint_of_the_rfc_9580_sample_v4_key():
    # RFC 9580 Appendix A.3: the sample v4 Ed25519 (legacy) key, fingerprint
    # C959BDBAFA32A2F89A153B678CFDE12197965A9A.
    body = bytes.fromhex(
        "0453f35f0b16092b06010401da470f01010740"
        "3f098994bdd916ed4053197934e4a87c80733a1280d62f8010992e43ee3b2406"
    )
    pkt = parse_key_packet(body)
    assert pkt.fingerprint.hex().upper() == "C959BDBAFA32A2F89A153B678CFDE12197965A9A"
    key = decode_key(pkt)
    assert key.curve == "Ed25519"


# -- against gpg ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GpgKey:
    exported: bytes
    fingerprints: list[str]
    signature: bytes
    document: bytes


@pytest.fixture(scope="module")
def gpg_keys(tmp_path_factory) -> dict[str, GpgKey]:
    gpg = shutil.which("gpg")
    require_tool("gpg", gpg is not None)
    assert gpg is not None
    home = tmp_path_factory.mktemp("gnupg")
    home.chmod(0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    base = [gpg, "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""]

    def run(*args: str, data: bytes | None = None) -> bytes:
        return subprocess.run(
            [*base, *args], env=env, input=data, check=True, capture_output=True, timeout=120
        ).stdout

    document = b"a document gpg signs\n"
    (home / "doc").write_bytes(document)
    keys = {}
    try:
        for uid, algo, sub in (
            ("ed <ed@example.org>", "ed25519", "cv25519"),
            ("rsa <rsa@example.org>", "rsa2048", "rsa2048"),
            ("k1 <k1@example.org>", "secp256k1", "secp256k1"),
        ):
            run("--quick-gen-key", uid, algo, "sign,cert", "never")
            listing = run("--with-colons", "--list-keys", uid).decode()
            primary = next(
                line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")
            )
            run("--quick-add-key", primary, sub, "encr", "never")
            exported = run("--export", uid)
            shown = run(
                "--with-colons", "--import-options", "show-only", "--import", data=exported
            ).decode()
            fprs = [line.split(":")[9] for line in shown.splitlines() if line.startswith("fpr:")]
            signature = run(
                "--local-user", primary, "--detach-sign", "--output", "-", str(home / "doc")
            )
            keys[algo] = GpgKey(exported, fprs, signature, document)
    finally:
        subprocess.run(
            ["gpgconf", "--kill", "gpg-agent"],
            env=env,
            check=False,
            capture_output=True,
            timeout=30,
        )
    return keys


def _key_packets(data: bytes) -> list[KeyPacket]:
    return [
        parse_key_packet(p.body)
        for p in iter_packets(data, max_packets=100)
        if p.tag in (Tag.PUBLIC_KEY, Tag.PUBLIC_SUBKEY)
    ]


@pytest.mark.parametrize("algo", ["ed25519", "rsa2048", "secp256k1"])
def test_keymaterial_fingerprints_match_gpg(gpg_keys, algo):
    key = gpg_keys[algo]
    mine = [p.fingerprint.hex().upper() for p in _key_packets(key.exported)]
    assert len(mine) == 2
    assert mine == key.fingerprints


@pytest.mark.parametrize(
    ("algo", "names", "can_sign"),
    [
        ("ed25519", ["EdDSA (legacy) Ed25519", "ECDH Curve25519"], [True, False]),
        ("rsa2048", ["RSA 2048", "RSA 2048"], [True, True]),
        ("secp256k1", ["ECDSA secp256k1", "ECDH secp256k1"], [True, False]),
    ],
)
def test_keymaterial_decodes_gpg_keys(gpg_keys, algo, names, can_sign):
    decoded = [decode_key(p) for p in _key_packets(gpg_keys[algo].exported)]
    assert [k.name for k in decoded] == names
    assert [k.can_sign for k in decoded] == can_sign


@pytest.mark.parametrize("algo", ["ed25519", "rsa2048", "secp256k1"])
def test_keymaterial_verifies_a_gpg_signature(gpg_keys, algo):
    key = gpg_keys[algo]
    [pkt] = list(iter_packets(key.signature, max_packets=4))
    sig = parse_signature(pkt.body)
    primary = _key_packets(key.exported)[0]
    assert sig.issuer_key_ids[0] == primary.key_id
    ctx = hashlib.new({8: "sha256", 10: "sha512"}[sig.hash_algo])
    ctx.update(key.document)
    ctx.update(sig.trailer)
    digest = ctx.digest()
    assert digest[:2] == sig.left16
    material = decode_key(primary)
    assert material.verify(sig.hash_algo, digest, sig.mpis) is True
    assert material.verify(sig.hash_algo, digest[::-1], sig.mpis) is False


def test_keymaterial_armored_export_decodes_the_same(gpg_keys):
    key = gpg_keys["ed25519"]
    [block] = decode_blocks(
        b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n"
        + _b64_lines(key.exported)
        + b"-----END PGP PUBLIC KEY BLOCK-----\n"
    )
    assert block.data == key.exported


def _b64_lines(data: bytes) -> bytes:
    import base64

    b64 = base64.b64encode(data)
    return b"".join(b64[i : i + 64] + b"\n" for i in range(0, len(b64), 64))


# -- RSA sizes: exponent range and modulus cap (issue 8 §5) --------------------------------


def _rsa_with(exponent: int, modulus: int | None = None) -> bytes:
    n = modulus if modulus is not None else _rsa_key().public_key().public_numbers().n
    return key_body(1, mpi(n) + mpi(exponent))


@pytest.mark.parametrize("exponent", [3, 17, 35, 41, 65537, (1 << 33) - 1])
def test_keymaterial_accepts_rsa_exponents_in_range(exponent):
    assert _decode(_rsa_with(exponent)).bits == 2048


@pytest.mark.parametrize(
    ("exponent", "shown"),
    [
        (1, "exponent 1 "),
        (2, "exponent 2 "),
        (65536, "exponent 65536 "),  # even
        ((1 << 33) + 1, f"exponent {(1 << 33) + 1} "),
        ((1 << 64) - 1, "exponent 18446744073709551615 "),
        ((1 << 3000) + 1, "exponent of 3001 bits"),
    ],
)
def test_keymaterial_rejects_rsa_exponent_out_of_range(exponent, shown):
    # A good key's modulus with the exponent swapped: refused before PGPy sees it.
    with pytest.raises(UnsupportedError, match="outside the accepted range") as info:
        _decode(_rsa_with(exponent))
    assert shown in info.value.message


def test_keymaterial_rejects_rsa_modulus_over_16384_bits():
    good = _decode(_rsa_with(65537, (1 << 16383) | 1))
    assert good.bits == 16384
    with pytest.raises(UnsupportedError, match="16385 bits is over the 16384-bit maximum"):
        _decode(_rsa_with(65537, (1 << 16384) | 1))


def test_keymaterial_rejects_rsa_exponent_out_of_range_on_every_rsa_algorithm():
    for algo in (1, 2, 3):
        body = key_body(algo, mpi(_rsa_key().public_key().public_numbers().n) + mpi(1 << 40))
        with pytest.raises(UnsupportedError, match="outside the accepted range"):
            _decode(body)


def test_keymaterial_rejects_an_rsa_signature_value_not_below_the_modulus():
    # RFC 8017 §8.2.2: s must be below n. A good signature plus n (or n itself) is refused
    # by the comparison with the modulus read at decoding, without raising.
    private = _rsa_key()
    n = private.public_key().public_numbers().n
    material = _decode(_rsa_with(65537))
    digest = hashlib.sha256(b"document").digest()
    good = private.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
    value = int.from_bytes(good, "big")
    assert material.verify(8, digest, (value,))
    for bad in (value + n, n, n + 1):
        assert not material.verify(8, digest, (bad,))
