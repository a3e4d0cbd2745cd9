"""ASCII armor (RFC 9580 §6): pgpverify.openpgp.armor."""

from __future__ import annotations

import base64
import random

import pytest

from pgpverify.errors import MalformedError
from pgpverify.openpgp.armor import crc24, decode_blocks, encode, looks_armored

DATA = bytes(range(256)) * 3 + b"\x04\x00"  # 770 octets: several body lines, padding "=="


def _crc24_bitwise(data: bytes) -> int:
    """The reference CRC-24 of RFC 9580 §6.1.1, one bit at a time."""
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def _checksum(data: bytes) -> bytes:
    return b"=" + base64.b64encode(crc24(data).to_bytes(3, "big"))


def _armor(
    data: bytes = DATA,
    *,
    label: bytes = b"SIGNATURE",
    headers: tuple[bytes, ...] = (b"Comment: made for a test",),
    checksum: bytes | None = None,
    eol: bytes = b"\n",
    width: int = 64,
    blank: bool = True,
) -> bytes:
    b64 = base64.b64encode(data)
    lines = [b"-----BEGIN PGP " + label + b"-----", *headers]
    if blank:
        lines.append(b"")
    lines += [b64[i : i + width] for i in range(0, len(b64), width)]
    lines.append(_checksum(data) if checksum is None else checksum)
    lines.append(b"-----END PGP " + label + b"-----")
    return eol.join(lines) + eol


# -- crc24 -----------------------------------------------------------------------------------


def test_crc24_of_nothing_is_the_initial_value():
    assert crc24(b"") == 0xB704CE


def test_crc24_check_value():
    # CRC-24/OPENPGP check value from the CRC catalogue (input "123456789").
    assert crc24(b"123456789") == 0x21CF02


@pytest.mark.parametrize("size", [1, 2, 3, 17, 255, 1000])
def test_crc24_matches_the_bitwise_definition(size):
    data = random.Random(size).randbytes(size)
    assert crc24(data) == _crc24_bitwise(data)


# -- decode_blocks: good input ---------------------------------------------------------------


def test_armor_decodes_a_block():
    [block] = decode_blocks(_armor())
    assert block.label == "SIGNATURE"
    assert block.data == DATA
    assert block.error is None
    assert block.line == 1  # index of the first line after BEGIN


@pytest.mark.parametrize("eol", [b"\n", b"\r\n"])
def test_armor_accepts_lf_and_crlf(eol):
    [block] = decode_blocks(_armor(eol=eol))
    assert block.data == DATA


def test_armor_accepts_trailing_whitespace_on_lines():
    text = _armor().replace(b"\n", b" \t\n")
    [block] = decode_blocks(text)
    assert block.data == DATA


@pytest.mark.parametrize(
    "headers",
    [
        (),
        (b"Version: GnuPG v2",),
        (b"Version: x", b"Comment: y", b"Hash: SHA256", b"Charset: utf-8"),
        # an empty value is still a header (RFC 9580 §6.2.2; gpgv and sqv agree)
        (b"Version: ",),
        (b"Comment:",),
        (b"Version: ", b"Comment:\t", b"Hash: SHA256"),
    ],
)
def test_armor_skips_headers(headers):
    [block] = decode_blocks(_armor(headers=headers))
    assert block.data == DATA
    assert block.error is None


@pytest.mark.parametrize("line", [b"Version:x", b": value", b"Bad Key: v", b"K\x7fey: v"])
def test_armor_rejects_a_header_line_that_is_not_key_colon_space(line):
    # derived from a good block: a line that is no header ends the headers and is body
    [block] = decode_blocks(_armor(headers=(line,)))
    assert block.error == "invalid base64 in armor body"


def test_armor_encode_round_trips_an_empty_header_value():
    text = encode(DATA, "SIGNATURE", headers=(("Comment", ""),))
    assert b"\nComment: \n" in text
    [block] = decode_blocks(text)
    assert block.data == DATA


def test_armor_tolerates_a_missing_blank_line_after_no_headers():
    [block] = decode_blocks(_armor(headers=(), blank=False))
    assert block.data == DATA


def test_armor_ignores_text_before_and_after():
    text = b"Here is my signature:\n\n" + _armor() + b"\nThanks,\n-- \nalice\n"
    [block] = decode_blocks(text)
    assert block.data == DATA


def test_armor_accepts_a_missing_checksum():
    # RFC 9580 §6.1: the CRC is optional and SHOULD NOT be emitted.
    text = _armor().replace(_checksum(DATA) + b"\n", b"")
    assert b"\n=" not in text
    [block] = decode_blocks(text)
    assert block.data == DATA
    assert block.error is None


@pytest.mark.parametrize("width", [4, 64, 76, 2000])
def test_armor_accepts_any_line_width(width):
    [block] = decode_blocks(_armor(width=width))
    assert block.data == DATA


def test_armor_decodes_several_blocks_in_order():
    first, second = DATA, b"\x99\x00\x01x"
    text = _armor(first) + b"junk between\n" + _armor(second, label=b"PUBLIC KEY BLOCK")
    blocks = decode_blocks(text)
    assert [(b.label, b.data, b.error) for b in blocks] == [
        ("SIGNATURE", first, None),
        ("PUBLIC KEY BLOCK", second, None),
    ]
    assert blocks[1].line > blocks[0].line


def test_armor_reports_the_label_of_a_signed_message_block():
    # A clearsigned message's first BEGIN line has no base64 body of its own; the
    # verifier rejects it by label, so the label must come through as is.
    text = b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nhello\n" + _armor()
    blocks = decode_blocks(text)
    assert blocks[0].label == "SIGNED MESSAGE"
    assert blocks[0].error is not None
    assert blocks[-1].label == "SIGNATURE"
    assert blocks[-1].data == DATA


def test_armor_keeps_a_good_block_after_a_broken_one():
    broken = _armor(checksum=b"=AAAA")
    blocks = decode_blocks(broken + _armor())
    assert blocks[0].error is not None
    assert blocks[1].error is None
    assert blocks[1].data == DATA


# -- decode_blocks: rejections ---------------------------------------------------------------


def test_armor_rejects_input_without_begin():
    with pytest.raises(MalformedError, match="no OpenPGP armor"):
        decode_blocks(b"just some text\nno armor here\n")


def test_armor_rejects_a_truncated_begin_line():
    with pytest.raises(MalformedError):
        decode_blocks(_armor().replace(b"SIGNATURE-----\n", b"SIGNATURE\n"))


@pytest.mark.parametrize(
    "label", [b"SIG-NATURE", b"SIG\tNATURE", b"SIG\x7fNATURE", b"SIGN\xc3\xa9", b"S" * 65]
)
def test_armor_rejects_a_label_with_a_dash_control_octet_or_over_64_octets(label):
    good = _armor()
    assert decode_blocks(good)[0].label == "SIGNATURE"
    bad = good.replace(b"PGP SIGNATURE-----", b"PGP " + label + b"-----")
    with pytest.raises(MalformedError, match="no OpenPGP armor"):
        decode_blocks(bad)


def test_armor_accepts_a_label_of_64_printable_octets():
    label = b"A B!~" + b"S" * 59
    block = decode_blocks(_armor().replace(b"PGP SIGNATURE-----", b"PGP " + label + b"-----"))
    assert block[0].label == label.decode()
    assert block[0].error is None


def test_armor_rejects_bad_crc():
    good = _checksum(DATA)
    bad = b"=" + base64.b64encode((crc24(DATA) ^ 1).to_bytes(3, "big"))
    [block] = decode_blocks(_armor().replace(good, bad))
    assert block.data == b""
    assert block.error is not None
    assert "CRC-24" in block.error


def test_armor_rejects_crc_of_other_data():
    [block] = decode_blocks(_armor(checksum=_checksum(DATA[:-1])))
    assert block.error is not None
    assert "checksum" in block.error


def test_armor_rejects_invalid_checksum_line():
    [block] = decode_blocks(_armor(checksum=b"=!!!!"))
    assert block.error is not None
    assert block.data == b""


@pytest.mark.parametrize("junk", [b"*", b"\xff", b"-", b"_", b"\x00"])
def test_armor_rejects_invalid_base64(junk):
    text = bytearray(_armor())
    body_start = text.index(b"\n\n") + 2
    text[body_start + 10 : body_start + 11] = junk
    [block] = decode_blocks(bytes(text))
    assert block.error == "invalid base64 in armor body"
    assert block.data == b""


def test_armor_rejects_base64_with_bad_padding():
    text = _armor().replace(_checksum(DATA) + b"\n", b"")
    # Remove one base64 character: the body length is no longer a multiple of 4.
    lines = text.split(b"\n")
    lines[3] = lines[3][:-1]
    [block] = decode_blocks(b"\n".join(lines))
    assert block.error == "invalid base64 in armor body"


@pytest.mark.parametrize("keep", [b"\n=", b"\n-----END", b"-----END"])
def test_armor_rejects_truncation_without_end(keep):
    # Cut before the checksum line, or right after it with no trailing newline.
    text = _armor()
    cut = text[: text.index(keep)]
    [block] = decode_blocks(cut)
    assert block.error is not None
    assert "no END line" in block.error
    assert block.data == b""


def test_armor_rejects_end_with_another_label():
    text = _armor().replace(b"END PGP SIGNATURE", b"END PGP MESSAGE")
    [block] = decode_blocks(text)
    assert block.error is not None
    assert "closes" in block.error


def test_armor_rejects_a_begin_inside_a_block():
    text = _armor()
    cut = text[: text.index(b"-----END")]
    blocks = decode_blocks(cut + _armor())
    assert blocks[0].error == "BEGIN line inside an armored block"
    assert blocks[1].data == DATA


def test_armor_rejects_data_after_the_checksum():
    text = _armor().replace(_checksum(DATA) + b"\n", _checksum(DATA) + b"\nQUJD\n")
    [block] = decode_blocks(text)
    assert block.error == "data after the armor checksum line"


# Regression: a blank line between the checksum and END was once "data after the checksum"
# (gpg --dearmor accepts it).
@pytest.mark.parametrize("blank", [b"\n", b" \n", b"\r\n\r\n"])
def test_armor_accepts_a_blank_line_after_the_checksum(blank):
    text = _armor().replace(_checksum(DATA) + b"\n", _checksum(DATA) + b"\n" + blank)
    [block] = decode_blocks(text)
    assert block.error is None
    assert block.data == DATA


def test_armor_rejects_an_empty_block():
    [block] = decode_blocks(b"-----BEGIN PGP SIGNATURE-----\n\n-----END PGP SIGNATURE-----\n")
    assert block.error == "empty armored block"


# -- looks_armored ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"-----BEGIN PGP SIGNATURE-----\n", True),
        (b"\r\n  \t-----BEGIN PGP SIGNATURE-----\n", True),
        (b"some text first", True),
        (b"", True),
        (b"\x89\x02\x33", False),  # old-format signature packet header
        (b"\xc2\x75\x04", False),  # new-format signature packet header
        (b"\n\n\xc6\x33", False),
    ],
)
def test_looks_armored(data, expected):
    assert looks_armored(data) is expected


def test_looks_armored_is_false_for_binary_of_a_real_block():
    [block] = decode_blocks(_armor(b"\xc2\x01\x04"))
    assert looks_armored(block.data) is False


def _residue(m: int) -> int:
    """x**m mod P, bit by bit (RFC 9580 §6.1's generator)."""
    value = 1 << m
    while value.bit_length() > 24:
        value ^= 0x1864CFB << (value.bit_length() - 25)
    return value


def test_crc24_fold_constants_are_the_residues_they_claim():
    from pgpverify.openpgp.armor import _FOLDS

    assert [m for m, _, _ in _FOLDS] == [4096, 2048, 1024, 512, 256, 128]
    for m, mask, powers in _FOLDS:
        assert mask == (1 << m) - 1
        assert sum(1 << p for p in powers) == _residue(m)


@pytest.mark.parametrize(
    "size", [159, 160, 161, 300, 445, 1023, 1024, 1025, 2047, 2048, 3000, 5000, 10_000]
)
def test_crc24_folded_and_in_blocks_matches_the_bitwise_definition(size):
    data = random.Random(size).randbytes(size)
    assert crc24(data) == _crc24_bitwise(data)
    assert crc24(b"\xff" * size) == _crc24_bitwise(b"\xff" * size)
    assert crc24(bytes(size)) == _crc24_bitwise(bytes(size))


def test_byte_order_mark_names_the_encoding():
    from pgpverify.openpgp.armor import byte_order_mark

    assert byte_order_mark(b"\xef\xbb\xbf-----BEGIN PGP SIGNATURE-----") == "UTF-8"
    assert byte_order_mark(b"\xff\xfe-\x00") == "UTF-16"
    assert byte_order_mark(b"\xfe\xff\x00-") == "UTF-16"
    assert byte_order_mark(b"-----BEGIN PGP SIGNATURE-----") is None
    assert byte_order_mark(b"\xc2\x01") is None  # a binary signature
