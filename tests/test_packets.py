"""Packet framing (RFC 9580 §4.2): pgpverify.openpgp.packets."""

from __future__ import annotations

import pytest

from pgpverify.errors import LimitExceededError, MalformedError
from pgpverify.openpgp.packets import Packet, Tag, frame, iter_packets


def _new(tag: int, body: bytes, form: str = "auto") -> bytes:
    """New-format header (§4.2.1) in the requested length form."""
    n = len(body)
    if form == "auto":
        form = "one" if n < 192 else "two" if n < 8384 else "five"
    if form == "one":
        assert n < 192
        length = bytes([n])
    elif form == "two":
        assert 192 <= n < 8384
        length = bytes([((n - 192) >> 8) + 192, (n - 192) & 0xFF])
    else:
        length = b"\xff" + n.to_bytes(4, "big")
    return bytes([0xC0 | tag]) + length + body


def _old(tag: int, body: bytes, ltype: int) -> bytes:
    """Old-format header (§4.2.2) with length type 0, 1 or 2."""
    size = {0: 1, 1: 2, 2: 4}[ltype]
    return bytes([0x80 | (tag << 2) | ltype]) + len(body).to_bytes(size, "big") + body


def _all(data: bytes, max_packets: int = 100) -> list[Packet]:
    return list(iter_packets(data, max_packets=max_packets))


# -- good framing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "size"),
    [
        ("one", 0),
        ("one", 1),
        ("one", 191),
        ("two", 192),
        ("two", 1000),
        ("two", 8383),
        ("five", 0),
        ("five", 8384),
        ("five", 70_000),
    ],
)
def test_packets_new_format_lengths(form, size):
    body = (bytes(range(256)) * (size // 256 + 1))[:size]
    data = _new(Tag.SIGNATURE, body, form)
    [pkt] = _all(data)
    assert pkt.tag == Tag.SIGNATURE
    assert pkt.body == body
    assert pkt.offset == 0
    assert pkt.name == "signature"


@pytest.mark.parametrize(("ltype", "size"), [(0, 0), (0, 255), (1, 256), (1, 65535), (2, 70_000)])
def test_packets_old_format_lengths(ltype, size):
    body = (bytes(range(256)) * (size // 256 + 1))[:size]
    data = _old(Tag.PUBLIC_KEY, body, ltype)
    [pkt] = _all(data)
    assert pkt.tag == Tag.PUBLIC_KEY
    assert pkt.body == body


def test_packets_two_octet_length_boundaries():
    # 0xC0 0x00 is 192; 0xDF 0xFF is 8383 (RFC 9580 §4.2.1.2).
    assert frame(b"\xc2\xc0\x00" + bytes(192), 0) == (2, 3, 195)
    assert frame(b"\xc2\xdf\xff" + bytes(8383), 0) == (2, 3, 3 + 8383)


def test_packets_old_format_tags_are_four_bits():
    data = _old(15, b"x", 0)
    [pkt] = _all(data)
    assert pkt.tag == 15


def test_packets_new_format_tags_are_six_bits():
    [pkt] = _all(_new(63, b"xyz"))
    assert pkt.tag == 63
    assert pkt.name == "unknown packet type 63"


def test_packets_sequence_keeps_offsets_and_order():
    parts = [_new(6, b"key"), _old(13, b"uid", 0), _new(2, b"s" * 300), _old(14, b"sub", 1)]
    data = b"".join(parts)
    pkts = _all(data)
    assert [p.tag for p in pkts] == [6, 13, 2, 14]
    offsets = [0]
    for part in parts[:-1]:
        offsets.append(offsets[-1] + len(part))
    assert [p.offset for p in pkts] == offsets
    assert [p.body for p in pkts] == [b"key", b"uid", b"s" * 300, b"sub"]


@pytest.mark.parametrize("where", ["before", "between", "after", "everywhere", "alone"])
@pytest.mark.parametrize("header", [_new, lambda tag, body: _old(tag, body, 0)])
def test_packets_marker_packets_are_ignored_wherever_they_appear(where, header):
    # RFC 9580 §5.8: a marker packet (tag 10, body "PGP") MUST be ignored when received.
    marker = header(Tag.MARKER, b"PGP")
    key, sig = _new(6, b"key"), _new(2, b"sig")
    data = {
        "before": marker + key + sig,
        "between": key + marker + sig,
        "after": key + sig + marker,
        "everywhere": marker + key + marker + marker + sig + marker,
        "alone": marker,
    }[where]
    pkts = _all(data)
    assert [(p.tag, p.body) for p in pkts] == (
        [] if where == "alone" else [(6, b"key"), (2, b"sig")]
    )


@pytest.mark.parametrize("body", [b"", b"PG", b"pgp", b"XYZ", b"PGPP"])
def test_packets_rejects_a_marker_with_another_body_by_yielding_it(body):
    # Not a marker: handed to the caller, which refuses it (a signature file) or skips it.
    pkts = _all(_new(Tag.MARKER, body) + _new(2, b"sig"))
    assert [(p.tag, p.body) for p in pkts] == [(Tag.MARKER, body), (2, b"sig")]


def test_packets_marker_packets_count_towards_the_limit():
    with pytest.raises(LimitExceededError):
        _all(_new(Tag.MARKER, b"PGP") * 3, max_packets=2)


def test_packets_frame_at_an_offset():
    data = _new(13, b"abc") + _new(2, b"defg")
    assert frame(data, 5) == (2, 7, 11)


def test_packets_empty_input_has_no_packets():
    assert _all(b"") == []


# -- rejections ------------------------------------------------------------------------------


@pytest.mark.parametrize("first", [0x00, 0x41, 0x7F])
def test_packets_rejects_a_first_octet_without_bit_7(first):
    with pytest.raises(MalformedError, match="not an OpenPGP packet"):
        _all(bytes([first]) + b"\x01x")


@pytest.mark.parametrize("o1", [224, 230, 254])
def test_packets_rejects_partial_body_length(o1):
    data = bytes([0xC0 | Tag.SIGNATURE, o1]) + bytes(64)
    with pytest.raises(MalformedError, match="partial body length"):
        _all(data)


def test_packets_rejects_indeterminate_length():
    data = bytes([0x80 | (Tag.SIGNATURE << 2) | 3]) + b"xyz"
    with pytest.raises(MalformedError, match="indeterminate"):
        _all(data)


@pytest.mark.parametrize(
    ("good", "header_len"),
    [
        (_new(2, bytes(10), "one"), 2),
        (_new(2, bytes(200), "two"), 3),
        (_new(2, bytes(10), "five"), 6),
        (_old(2, bytes(10), 0), 2),
        (_old(2, bytes(300), 1), 3),
        (_old(2, bytes(10), 2), 5),
    ],
)
def test_packets_rejects_truncated_header(good, header_len):
    for cut in range(1, header_len):
        with pytest.raises(MalformedError, match="truncated packet header"):
            _all(good[:cut])


@pytest.mark.parametrize(
    "good", [_new(2, bytes(10)), _new(2, bytes(500)), _old(6, bytes(10), 0), _old(6, bytes(10), 2)]
)
def test_packets_rejects_truncated_body(good):
    with pytest.raises(MalformedError, match="octets declared"):
        _all(good[:-1])


def test_packets_rejects_truncated_body_after_good_packets():
    good = _new(13, b"uid")
    bad = _new(2, bytes(20))[:-5]
    it = iter_packets(good + bad, max_packets=10)
    assert next(it).body == b"uid"
    with pytest.raises(MalformedError, match="offset 5"):
        next(it)


@pytest.mark.parametrize("header", [b"\xc0\x01", b"\x80\x01"])
def test_packets_rejects_reserved_tag_zero(header):
    with pytest.raises(MalformedError, match="reserved packet type 0"):
        _all(header + b"x")


def test_packets_rejects_a_huge_declared_length():
    data = b"\xc2\xff\xff\xff\xff\xff" + bytes(100)
    with pytest.raises(MalformedError, match="4294967295 octets declared"):
        _all(data)


def test_packets_error_names_the_source():
    with pytest.raises(MalformedError) as info:
        list(iter_packets(b"\x00", max_packets=1, source="sig.asc"))
    assert info.value.source == "sig.asc"
    assert str(info.value).startswith("sig.asc: ")


# -- limits ----------------------------------------------------------------------------------


def test_packets_count_at_the_limit_is_fine():
    data = _new(12, b"") * 5
    assert len(_all(data, max_packets=5)) == 5


@pytest.mark.parametrize("limit", [1, 5, 64])
def test_packets_rejects_more_packets_than_the_limit(limit):
    data = _new(12, b"") * (limit + 1)
    it = iter_packets(data, max_packets=limit)
    for _ in range(limit):
        next(it)
    with pytest.raises(LimitExceededError) as info:
        next(it)
    assert info.value.limit == limit
    assert isinstance(info.value, MalformedError)
    assert "number of packets" in str(info.value)


def test_packets_limit_is_checked_before_framing_junk():
    # The limit fires before the over-limit packet is framed (even if it would not parse).
    with pytest.raises(LimitExceededError):
        _all(_new(12, b"") + b"\x00\x00", max_packets=1)


@pytest.mark.parametrize("size", [0, 1, 191, 192, 8383, 8384, 70_000])
def test_encode_packet_frames_back_to_its_tag_and_body(size):
    from pgpverify.openpgp.packets import encode_packet, frame

    body = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    data = encode_packet(Tag.SIGNATURE, body)
    tag, start, end = frame(data, 0)
    assert (tag, data[start:end], end) == (Tag.SIGNATURE, body, len(data))
