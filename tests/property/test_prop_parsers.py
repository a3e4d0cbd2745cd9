"""Every parser returns a value or raises the project's own error, never anything else.

Each parser is fed (a) random bytes and (b) good inputs mutated a few octets at a time.
An IndexError, ValueError, struct.error, RecursionError or a warning (``-W error``) fails
the test; so does a hang, through hypothesis' per-test time budget.
"""

from __future__ import annotations

import contextlib

import pytest
from _strategies import SETTINGS, armor, material, mutated
from hypothesis import given
from hypothesis import strategies as st

from pgpverify.errors import LimitExceededError, MalformedError, PgpVerifyError, UnsupportedError
from pgpverify.limits import Limits
from pgpverify.openpgp.armor import ArmorBlock, decode_blocks, looks_armored
from pgpverify.openpgp.certificate import parse_certificate
from pgpverify.openpgp.keymaterial import PublicKey, decode_key, parse_key_packet
from pgpverify.openpgp.keyring import Keyring
from pgpverify.openpgp.packets import Packet, iter_packets
from pgpverify.openpgp.signature import Signature, parse_signature

AT = 1_900_000_000  # 2030: after every key in the material, gpg-made ones included

MAT = material()
SIG_BODIES = MAT.signature_bodies
KEY_BODIES = MAT.key_bodies
CERTS = MAT.certificates
ARMORED = (*tuple(armor("SIGNATURE", b) for b in SIG_BODIES[:3]), MAT.keyring)


def _armor_text() -> st.SearchStrategy[bytes]:
    """Line soup: armor lines, headers, base64, checksums, in any order."""
    line = st.one_of(
        st.sampled_from(
            [
                b"-----BEGIN PGP SIGNATURE-----",
                b"-----END PGP SIGNATURE-----",
                b"-----BEGIN PGP PUBLIC KEY BLOCK-----",
                b"-----END PGP PUBLIC KEY BLOCK-----",
                b"-----BEGIN PGP SIGNED MESSAGE-----",
                b"-----BEGIN PGP -----",
                b"Version: x",
                b"Hash: SHA256",
                b"",
                b"=",
                b"=AAAA",
                b"=====",
                b"iQ==",
                b"AAAA",
                b"\r",
            ]
        ),
        st.binary(max_size=40),
        st.text(alphabet="ABCDEFabcdef0123456789+/=", max_size=80).map(str.encode),
    )
    sep = st.sampled_from([b"\n", b"\r\n"])
    return st.lists(st.tuples(line, sep), max_size=30).map(
        lambda pairs: b"".join(a + b for a, b in pairs)
    )


# -- armor -----------------------------------------------------------------------------------


def _check_armor(data: bytes) -> None:
    looks_armored(data)
    try:
        blocks = decode_blocks(data)
    except MalformedError:
        return
    assert blocks
    for block in blocks:
        assert isinstance(block, ArmorBlock)
        assert (block.error is None) == bool(block.data)


@SETTINGS
@given(st.binary(max_size=2048))
def test_armor_random_bytes(data):
    _check_armor(data)


@SETTINGS
@given(_armor_text())
def test_armor_line_soup(data):
    _check_armor(data)


@SETTINGS
@given(mutated(ARMORED))
def test_armor_mutated(data):
    _check_armor(data)


# -- packets ---------------------------------------------------------------------------------


def _check_packets(data: bytes, max_packets: int = 64) -> list[Packet]:
    out: list[Packet] = []
    try:
        for pkt in iter_packets(data, max_packets=max_packets):
            assert 1 <= pkt.tag <= 63
            assert data[pkt.offset] & 0x80
            out.append(pkt)
    except LimitExceededError:
        assert len(out) == max_packets
    except MalformedError:
        pass
    return out


@SETTINGS
@given(st.binary(max_size=2048), st.integers(1, 64))
def test_packets_random_bytes(data, max_packets):
    _check_packets(data, max_packets)


@SETTINGS
@given(mutated(CERTS + MAT.signature_files[-1:]))
def test_packets_mutated(data):
    _check_packets(data, 10_000)


# -- signature -------------------------------------------------------------------------------


def _check_signature(body: bytes, depth: int = 2) -> None:
    try:
        sig = parse_signature(body, max_subpackets=16, depth=depth)
    except MalformedError:
        return
    assert isinstance(sig, Signature)
    assert sig.trailer.startswith(b"\x04")
    assert sig.packet == body
    sig.issuer_key_ids  # noqa: B018 - a property that must not raise
    sig.expired_at(AT)


@SETTINGS
@given(st.binary(max_size=1024))
def test_signature_random_bytes(body):
    _check_signature(body)


@SETTINGS
@given(st.binary(max_size=512).map(lambda b: b"\x04" + b))
def test_signature_random_v4_bytes(body):
    _check_signature(body)


@SETTINGS
@given(mutated(SIG_BODIES), st.integers(0, 3))
def test_signature_mutated(body, depth):
    _check_signature(body, depth)


# -- key material ----------------------------------------------------------------------------


def _check_key(body: bytes) -> None:
    try:
        key = decode_key(parse_key_packet(body))
    except (MalformedError, UnsupportedError):
        return
    assert isinstance(key, PublicKey)
    assert key.bits >= 0
    assert isinstance(key.name, str)
    digest = bytes(32)
    for mpis in ((), (0,), (1, 1), (2**300, 5), (1 << 4096,)):
        assert key.verify(8, digest, mpis) is False


@SETTINGS
@given(st.binary(max_size=600))
def test_keymaterial_random_bytes(body):
    _check_key(body)


@SETTINGS
@given(
    st.sampled_from([1, 2, 3, 16, 17, 18, 19, 20, 22, 25, 27, 99]),
    st.binary(max_size=300),
)
def test_keymaterial_random_material(algo, material_bytes):
    _check_key(b"\x04\x65\x00\x00\x00" + bytes([algo]) + material_bytes)


@SETTINGS
@given(mutated(KEY_BODIES))
def test_keymaterial_mutated(body):
    _check_key(body)


# -- certificate -----------------------------------------------------------------------------


def _check_certificate(data: bytes) -> None:
    packets = _check_packets(data, 10_000)
    try:
        cert = parse_certificate(packets, max_subpackets=64, nesting=2)
    except (MalformedError, UnsupportedError):
        return
    assert len(cert.fingerprint) == 20
    for sig in cert.self_signatures(AT):
        assert sig.created is not None
    keys = [cert.primary.packet, *(c.packet for c in cert.subkeys.values())]
    for key in keys:
        found = cert.find_key(key.key_id)
        assert found is not None
        cert.judge(found, AT - 1000, AT)
        with contextlib.suppress(MalformedError, UnsupportedError):
            cert.material(found)


@SETTINGS
@given(st.binary(max_size=1024))
def test_certificate_random_bytes(data):
    _check_certificate(data)


@SETTINGS
@given(mutated(CERTS))
def test_certificate_mutated(data):
    _check_certificate(data)


# -- keyring ---------------------------------------------------------------------------------


def _check_keyring(data: bytes, limits: Limits | None = None) -> None:
    ring = Keyring(limits=limits) if limits is not None else Keyring()
    try:
        ring.add_bytes(data, source="fuzz")
    except PgpVerifyError:
        return
    for fpr in ring.fingerprints:
        for cert in ring.lookup(fpr[-8:]):
            assert cert.fingerprint in ring.fingerprints
    assert all(isinstance(w, str) for w in ring.warnings)


@SETTINGS
@given(st.binary(max_size=2048))
def test_keyring_random_bytes(data):
    _check_keyring(data)


@SETTINGS
@given(mutated((MAT.keyring, *CERTS)))
def test_keyring_mutated(data):
    _check_keyring(data)


@SETTINGS
@given(mutated(CERTS), st.integers(1, 8), st.integers(1, 4))
def test_keyring_mutated_small_limits(data, packets, subpackets):
    _check_keyring(
        data,
        Limits(
            keyring_packets=packets * 3,
            certificate_packets=packets,
            subpackets=subpackets,
            certificates=2,
            nesting=1,
        ),
    )


@pytest.mark.parametrize("cert", range(len(CERTS)))
def test_keyring_loads_every_good_certificate(cert):
    ring = Keyring()
    ring.add_bytes(CERTS[cert], source="good")
    assert ring.warnings == []
    [fpr] = ring.fingerprints
    assert ring.certificate(fpr) is not None


# -- round trips -----------------------------------------------------------------------------


@SETTINGS
@given(
    st.binary(min_size=1, max_size=600),
    st.booleans(),
    st.sampled_from([b"\n", b"\r\n"]),
    st.integers(4, 120).map(lambda w: w - w % 4),
)
def test_armor_round_trip(data, with_crc, eol, width):
    text = armor("PUBLIC KEY BLOCK", data)
    lines = text.split(b"\n")
    body = b"".join(lines[2:-3])
    lines = [lines[0], b"", *(body[i : i + width] for i in range(0, len(body), width))]
    if with_crc:
        lines.append(text.split(b"\n")[-3])
    text = eol.join([*lines, b"-----END PGP PUBLIC KEY BLOCK-----", b""])
    [block] = decode_blocks(b"prefix text\n" + text + b"suffix")
    assert block.error is None
    assert block.data == data
    assert block.label == "PUBLIC KEY BLOCK"


def _header(tag: int, size: int, form: str) -> bytes:
    if form == "old":
        ltype = 0 if size < 256 else 1 if size < 65536 else 2
        return bytes([0x80 | ((tag & 0x0F) << 2) | ltype]) + size.to_bytes(1 << ltype, "big")
    if form == "five" or size >= 8384:
        return bytes([0xC0 | tag, 0xFF]) + size.to_bytes(4, "big")
    if size < 192:
        return bytes([0xC0 | tag, size])
    return bytes([0xC0 | tag, ((size - 192) >> 8) + 192, (size - 192) & 0xFF])


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.integers(1, 63), st.binary(max_size=9000), st.sampled_from(["old", "new", "five"])
        ),
        max_size=5,
    )
)
def test_packets_round_trip(parts):
    expected = []
    data = b""
    for tag, body, form in parts:
        if form == "old":
            tag = tag & 0x0F or 1
        expected.append((tag, body, len(data)))
        data += _header(tag, len(body), form) + body
    got = [(p.tag, p.body, p.offset) for p in iter_packets(data, max_packets=10)]
    assert got == expected
