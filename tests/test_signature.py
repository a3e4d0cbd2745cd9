"""v4 signature packets (RFC 9580 §5.2.3): pgpverify.openpgp.signature."""

from __future__ import annotations

import pytest

from pgpverify.errors import LimitExceededError, MalformedError
from pgpverify.openpgp.signature import RevocationCode, SubpacketType, parse_signature

CREATED = 1_700_000_000
KEY_ID = bytes.fromhex("0123456789ABCDEF")
FPR = bytes.fromhex("00112233445566778899AABBCCDDEEFF01234567")
OTHER_FPR = bytes.fromhex("FFEEDDCCBBAA99887766554433221100FEDCBA98")


def mpi(value: int) -> bytes:
    return value.bit_length().to_bytes(2, "big") + value.to_bytes(
        (value.bit_length() + 7) // 8, "big"
    )


def sub(kind: int, body: bytes = b"", *, critical: bool = False, form: str = "auto") -> bytes:
    """One subpacket (§5.2.3.7) with a one-, two- or five-octet length."""
    data = bytes([kind | (0x80 if critical else 0)]) + body
    n = len(data)
    if form == "auto":
        form = "one" if n < 192 else "two"
    if form == "one":
        return bytes([n]) + data
    if form == "two":
        return bytes([((n - 192) >> 8) + 192, (n - 192) & 0xFF]) + data
    return b"\xff" + n.to_bytes(4, "big") + data


def created(ts: int = CREATED, **kw) -> bytes:
    return sub(SubpacketType.CREATION_TIME, ts.to_bytes(4, "big"), **kw)


def issuer(key_id: bytes = KEY_ID) -> bytes:
    return sub(SubpacketType.ISSUER_KEY_ID, key_id)


def issuer_fpr(fpr: bytes = FPR, version: int = 4) -> bytes:
    return sub(SubpacketType.ISSUER_FINGERPRINT, bytes([version]) + fpr)


def sig_body(
    *,
    version: int = 4,
    sig_type: int = 0x00,
    pubkey_algo: int = 1,
    hash_algo: int = 8,
    hashed: bytes | None = None,
    unhashed: bytes | None = None,
    left16: bytes = b"\xab\xcd",
    material: bytes | None = None,
) -> bytes:
    """Assemble a signature body octet by octet: the subject of every test below."""
    hashed = created() if hashed is None else hashed
    unhashed = issuer() if unhashed is None else unhashed
    material = mpi(0x1234567) if material is None else material
    return (
        bytes([version, sig_type, pubkey_algo, hash_algo])
        + len(hashed).to_bytes(2, "big")
        + hashed
        + len(unhashed).to_bytes(2, "big")
        + unhashed
        + left16
        + material
    )


# -- fields ----------------------------------------------------------------------------------


def test_signature_parses_the_fixed_fields():
    body = sig_body(sig_type=0x01, pubkey_algo=1, hash_algo=10, left16=b"\x12\x34")
    sig = parse_signature(body)
    assert (sig.sig_type, sig.pubkey_algo, sig.hash_algo) == (0x01, 1, 10)
    assert sig.created == CREATED
    assert sig.left16 == b"\x12\x34"
    assert sig.mpis == (0x1234567,)
    assert sig.packet == body
    assert sig.defects == ()
    assert sig.issuer_key_id == KEY_ID
    assert sig.issuer_fingerprint is None
    assert sig.embedded == ()


@pytest.mark.parametrize(("algo", "count"), [(1, 1), (3, 1), (17, 2), (19, 2), (22, 2)])
def test_signature_reads_the_mpis_of_each_algorithm(algo, count):
    values = (0xDEADBEEF, 0xC0FFEE)[:count]
    sig = parse_signature(sig_body(pubkey_algo=algo, material=b"".join(mpi(v) for v in values)))
    assert sig.mpis == values
    assert sig.raw_material == b"".join(mpi(v) for v in values)


def test_signature_keeps_raw_material_of_unknown_algorithms():
    sig = parse_signature(sig_body(pubkey_algo=99, material=b"\x01\x02\x03 opaque"))
    assert sig.mpis == ()
    assert sig.raw_material == b"\x01\x02\x03 opaque"


def test_signature_trailer_is_hashed_part_then_04_ff_and_length():
    hashed = created() + sub(SubpacketType.KEY_FLAGS, b"\x02")
    body = sig_body(hashed=hashed)
    sig = parse_signature(body)
    hashed_part = body[: 6 + len(hashed)]
    assert sig.hashed_part == hashed_part
    assert sig.hashed_part == bytes([4, 0, 1, 8]) + len(hashed).to_bytes(2, "big") + hashed
    assert sig.trailer == hashed_part + b"\x04\xff" + len(hashed_part).to_bytes(4, "big")


def test_signature_creation_time():
    sig = parse_signature(sig_body(hashed=created(1_234_567_890)))
    assert sig.created == 1_234_567_890


@pytest.mark.parametrize("form", ["one", "two", "five"])
def test_signature_reads_every_subpacket_length_form(form):
    notation = sub(SubpacketType.NOTATION, bytes(300 if form == "two" else 8), form=form)
    first = created(form="five") if form == "five" else created()
    sig = parse_signature(sig_body(hashed=first + notation))
    assert sig.created == CREATED
    assert [s.type for s in sig.subpackets] == [2, 20, 16]


def test_signature_issuer_key_id_from_the_unhashed_area():
    sig = parse_signature(sig_body(hashed=created(), unhashed=issuer()))
    assert sig.issuer_key_id == KEY_ID
    assert sig.issuer_key_ids == (KEY_ID,)
    [unhashed] = [s for s in sig.subpackets if not s.hashed]
    assert unhashed.type == SubpacketType.ISSUER_KEY_ID


def test_signature_hashed_issuer_key_id_wins_over_unhashed():
    other = bytes.fromhex("FEDCBA9876543210")
    sig = parse_signature(sig_body(hashed=created() + issuer(KEY_ID), unhashed=issuer(other)))
    assert sig.issuer_key_id == KEY_ID


def test_signature_issuer_fingerprint_only():
    sig = parse_signature(sig_body(hashed=created() + issuer_fpr(), unhashed=b""))
    assert sig.issuer_fingerprint == FPR
    assert sig.issuer_key_id is None
    assert sig.issuer_key_ids == (FPR[-8:],)


def test_signature_issuer_fingerprint_first_then_a_different_key_id():
    sig = parse_signature(sig_body(hashed=created() + issuer_fpr(), unhashed=issuer(KEY_ID)))
    assert sig.issuer_key_ids == (FPR[-8:], KEY_ID)


def test_signature_issuer_key_id_equal_to_fingerprint_is_listed_once():
    sig = parse_signature(sig_body(hashed=created() + issuer_fpr(), unhashed=issuer(FPR[-8:])))
    assert sig.issuer_key_ids == (FPR[-8:],)


def test_signature_hashed_issuer_fingerprint_wins_over_unhashed():
    sig = parse_signature(
        sig_body(hashed=created() + issuer_fpr(FPR), unhashed=issuer_fpr(OTHER_FPR))
    )
    assert sig.issuer_fingerprint == FPR


def test_signature_ignores_a_v5_issuer_fingerprint():
    sig = parse_signature(
        sig_body(
            hashed=created() + sub(SubpacketType.ISSUER_FINGERPRINT, b"\x05" + bytes(32)),
            unhashed=b"",
        )
    )
    assert sig.issuer_fingerprint is None
    assert sig.issuer_key_ids == ()


def test_signature_no_issuer_at_all():
    sig = parse_signature(sig_body(unhashed=b""))
    assert sig.issuer_key_ids == ()


@pytest.mark.parametrize(("flags", "expected"), [(b"\x03", 3), (b"\x02\x04", 2), (b"", 0)])
def test_signature_key_flags(flags, expected):
    sig = parse_signature(sig_body(hashed=created() + sub(SubpacketType.KEY_FLAGS, flags)))
    assert sig.key_flags == expected


def test_signature_key_flags_absent_is_none():
    assert parse_signature(sig_body()).key_flags is None


def test_signature_expiration_times():
    hashed = (
        created()
        + sub(SubpacketType.EXPIRATION_TIME, (3600).to_bytes(4, "big"))
        + sub(SubpacketType.KEY_EXPIRATION_TIME, (86400).to_bytes(4, "big"))
    )
    sig = parse_signature(sig_body(hashed=hashed))
    assert sig.expiration == 3600
    assert sig.key_expiration == 86400
    assert not sig.expired_at(CREATED + 3599)
    assert sig.expired_at(CREATED + 3600)


def test_signature_zero_expiration_never_expires():
    hashed = created() + sub(SubpacketType.EXPIRATION_TIME, bytes(4))
    sig = parse_signature(sig_body(hashed=hashed))
    assert sig.expiration == 0
    assert not sig.expired_at(2**40)


@pytest.mark.parametrize(
    "code",
    [
        RevocationCode.NO_REASON,
        RevocationCode.SUPERSEDED,
        RevocationCode.COMPROMISED,
        RevocationCode.RETIRED,
        RevocationCode.USER_ID_INVALID,
    ],
)
def test_signature_revocation_code(code):
    hashed = created() + sub(SubpacketType.REVOCATION_REASON, bytes([code]) + b"why")
    sig = parse_signature(sig_body(sig_type=0x20, hashed=hashed))
    assert sig.revocation_code == code


def test_signature_ignores_unhashed_fields_other_than_issuer_and_embedded():
    unhashed = (
        issuer()
        + created(CREATED + 5)
        + sub(SubpacketType.KEY_FLAGS, b"\x02")
        + sub(SubpacketType.EXPIRATION_TIME, (1).to_bytes(4, "big"))
        + sub(SubpacketType.REVOCATION_REASON, b"\x02")
    )
    sig = parse_signature(sig_body(hashed=created(), unhashed=unhashed))
    assert sig.created == CREATED
    assert sig.key_flags is None
    assert sig.expiration is None
    assert sig.revocation_code is None


# -- embedded signatures ---------------------------------------------------------------------


def _embedding(inner: bytes, *, hashed: bool = False) -> bytes:
    embedded = sub(SubpacketType.EMBEDDED_SIGNATURE, inner)
    if hashed:
        return sig_body(sig_type=0x18, hashed=created() + embedded, unhashed=issuer())
    return sig_body(sig_type=0x18, unhashed=issuer() + embedded)


def test_signature_embedded_signature_is_parsed():
    back = sig_body(sig_type=0x19, hashed=created(CREATED + 1), unhashed=issuer(FPR[-8:]))
    sig = parse_signature(_embedding(back))
    [inner] = sig.embedded
    assert inner.sig_type == 0x19
    assert inner.created == CREATED + 1
    assert inner.issuer_key_id == FPR[-8:]
    assert inner.packet == back


def test_signature_embedded_signature_in_the_hashed_area():
    back = sig_body(sig_type=0x19)
    assert len(parse_signature(_embedding(back, hashed=True)).embedded) == 1


def test_signature_nesting_up_to_the_limit_is_fine():
    body = sig_body(sig_type=0x19)
    for _ in range(2):
        body = _embedding(body)
    sig = parse_signature(body, depth=2)
    assert sig.embedded[0].embedded[0].sig_type == 0x19


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_signature_rejects_nesting_past_the_limit(depth):
    body = sig_body(sig_type=0x19)
    for _ in range(depth + 1):
        body = _embedding(body)
    with pytest.raises(LimitExceededError, match="nesting"):
        parse_signature(body, depth=depth)


def test_signature_rejects_deep_nesting_without_recursion_error():
    body = sig_body(sig_type=0x19)
    for _ in range(200):
        body = _embedding(body)
    with pytest.raises(LimitExceededError):
        parse_signature(body)


@pytest.mark.parametrize("depth", [0, 1, 3])
def test_signature_nesting_error_reports_the_configured_limit(depth):
    body = sig_body(sig_type=0x19)
    for _ in range(depth + 1):
        body = _embedding(body)
    with pytest.raises(LimitExceededError) as info:
        parse_signature(body, depth=depth)
    assert info.value.limit == depth


def test_signature_unreadable_embedded_signature_is_a_defect():
    sig = parse_signature(_embedding(b"\x03" + bytes(20)))
    assert sig.embedded == ()
    assert any("unreadable embedded signature" in d for d in sig.defects)
    assert any("version 3" in d for d in sig.defects)


# -- defects (well-framed but unacceptable) --------------------------------------------------


def test_signature_without_creation_time_has_a_defect():
    sig = parse_signature(sig_body(hashed=b""))
    assert sig.created is None
    assert sig.defects == ("no creation time in the hashed subpackets",)


def test_signature_with_creation_time_only_unhashed_has_a_defect():
    sig = parse_signature(sig_body(hashed=b"", unhashed=issuer() + created()))
    assert sig.created is None
    assert "no creation time in the hashed subpackets" in sig.defects


@pytest.mark.parametrize("kind", [1, 10, 36, 40, 100, 127])
def test_signature_unknown_critical_subpacket_is_a_defect(kind):
    sig = parse_signature(sig_body(hashed=created() + sub(kind, b"x", critical=True)))
    assert sig.defects == (f"unknown critical subpacket type {kind}",)


@pytest.mark.parametrize("kind", [1, 10, 36, 40, 100, 127])
def test_signature_unknown_non_critical_subpacket_is_fine(kind):
    sig = parse_signature(sig_body(hashed=created() + sub(kind, b"x")))
    assert sig.defects == ()
    assert sig.subpackets[1].type == kind
    assert not sig.subpackets[1].critical


def test_signature_critical_notation_is_a_defect():
    notation = sub(SubpacketType.NOTATION, bytes(8), critical=True)
    sig = parse_signature(sig_body(hashed=created() + notation))
    assert sig.defects == ("critical notation",)


def test_signature_critical_notation_is_a_defect_that_names_it():
    # as gpg --sig-notation '!crit@example.org=hello' and sq sign --notation '!...' make it
    name, value = b"crit@example.org", b"hello"
    body = b"\x80\x00\x00\x00" + len(name).to_bytes(2, "big") + len(value).to_bytes(2, "big")
    notation = sub(SubpacketType.NOTATION, body + name + value, critical=True)
    sig = parse_signature(sig_body(hashed=created() + notation))
    assert sig.defects == ('critical notation "crit@example.org"',)
    cut = sub(SubpacketType.NOTATION, body + name[:3], critical=True)  # name runs past the end
    assert parse_signature(sig_body(hashed=created() + cut)).defects == ("critical notation",)


def test_signature_critical_known_subpacket_is_fine():
    sig = parse_signature(sig_body(hashed=created(critical=True)))
    assert sig.defects == ()
    assert sig.subpackets[0].critical


# -- rejections ------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [2, 3, 5, 6])
def test_signature_rejects_other_versions(version):
    with pytest.raises(MalformedError, match=f"version {version} signature"):
        parse_signature(sig_body(version=version))


def test_signature_rejects_empty_body():
    with pytest.raises(MalformedError, match="empty"):
        parse_signature(b"")


def test_signature_rejects_every_truncation():
    body = sig_body(hashed=created() + issuer_fpr(), unhashed=issuer())
    for cut in range(len(body)):
        with pytest.raises(MalformedError):
            parse_signature(body[:cut])


def test_signature_rejects_hashed_area_past_the_packet():
    body = bytearray(sig_body())
    body[4:6] = (len(body)).to_bytes(2, "big")
    with pytest.raises(MalformedError, match="hashed area"):
        parse_signature(bytes(body))


def test_signature_rejects_unhashed_area_past_the_packet():
    body = bytearray(sig_body(hashed=b""))
    body[6:8] = (len(body)).to_bytes(2, "big")
    with pytest.raises(MalformedError, match="unhashed area"):
        parse_signature(bytes(body))


def test_signature_rejects_zero_length_subpacket():
    with pytest.raises(MalformedError, match="length zero"):
        parse_signature(sig_body(hashed=created() + b"\x00"))


def test_signature_rejects_subpacket_past_its_area():
    with pytest.raises(MalformedError, match="runs past"):
        parse_signature(sig_body(hashed=created() + b"\x09\x10abc"))


@pytest.mark.parametrize("tail", [b"\xc5", b"\xff\x00\x00"])
def test_signature_rejects_truncated_subpacket_length(tail):
    with pytest.raises(MalformedError, match="truncated signature subpacket length"):
        parse_signature(sig_body(hashed=created() + tail))


def test_signature_rejects_trailing_octets_after_mpis():
    with pytest.raises(MalformedError, match="trailing octets"):
        parse_signature(sig_body(material=mpi(5) + b"\x00"))


def test_signature_rejects_truncated_mpi():
    with pytest.raises(MalformedError, match="truncated MPI"):
        parse_signature(sig_body(pubkey_algo=17, material=mpi(5) + b"\x00\x20\x01"))


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        (SubpacketType.CREATION_TIME, b"\x00\x00\x01"),
        (SubpacketType.EXPIRATION_TIME, b"\x00\x00\x00\x00\x00"),
        (SubpacketType.KEY_EXPIRATION_TIME, b""),
        (SubpacketType.ISSUER_KEY_ID, b"1234567"),
        (SubpacketType.ISSUER_FINGERPRINT, b"\x04" + bytes(19)),
        (SubpacketType.ISSUER_FINGERPRINT, b""),
    ],
)
def test_signature_rejects_wrong_sized_subpacket(kind, body):
    with pytest.raises(MalformedError):
        parse_signature(sig_body(hashed=created() + sub(kind, body)))


def test_signature_rejects_more_subpackets_than_the_limit():
    hashed = created() + sub(100, b"x") * 9
    parse_signature(sig_body(hashed=hashed), max_subpackets=10)
    with pytest.raises(LimitExceededError) as info:
        parse_signature(sig_body(hashed=hashed + sub(100, b"y")), max_subpackets=10)
    assert info.value.limit == 10
