"""Packet framing (RFC 9580 §4.2): old and new format headers, every packet's raw bytes kept.

Framing never interprets packet bodies, with one exception: a marker packet (tag 10, body
"PGP", §5.8) "MUST be ignored when received", so :func:`iter_packets` never yields one,
wherever it sits. A tag-10 packet with another body is not a marker and is yielded for the
caller to refuse (gpgv refuses it in a signature file too). Partial body lengths
(§4.2.1.4) are only legal for data packets, which never belong in a detached signature or
a certificate, so they are rejected as malformed rather than reassembled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from pgpverify.errors import LimitExceededError, MalformedError
from pgpverify.openpgp._record import Record

if TYPE_CHECKING:
    import mmap
    from collections.abc import Iterator

__all__ = [
    "MARKER_BODY",
    "TAG_NAMES",
    "Octets",
    "Packet",
    "Tag",
    "encode_packet",
    "frame",
    "iter_packets",
    "read_mpis",
]


#: What packets are framed from: bytes, or a read-only memory map of a large keyring.
#: (A string: mmap, a C extension, is imported only where a large keyring is mapped.)
Octets: TypeAlias = "bytes | mmap.mmap"


class Tag:
    """Packet type IDs used here (RFC 9580 §5)."""

    SIGNATURE = 2
    ONE_PASS_SIGNATURE = 4
    SECRET_KEY = 5
    PUBLIC_KEY = 6
    SECRET_SUBKEY = 7
    COMPRESSED = 8
    MARKER = 10
    LITERAL = 11
    TRUST = 12
    USER_ID = 13
    PUBLIC_SUBKEY = 14
    USER_ATTRIBUTE = 17
    PADDING = 21


#: The body of a marker packet (RFC 9580 §5.8): the three octets "PGP".
MARKER_BODY = b"PGP"

TAG_NAMES = {
    1: "public-key encrypted session key",
    2: "signature",
    3: "symmetric-key encrypted session key",
    4: "one-pass signature",
    5: "secret key",
    6: "public key",
    7: "secret subkey",
    8: "compressed data",
    9: "symmetrically encrypted data",
    10: "marker",
    11: "literal data",
    12: "trust",
    13: "user ID",
    14: "public subkey",
    17: "user attribute",
    18: "encrypted and integrity protected data",
    20: "AEAD encrypted data",
    21: "padding",
}


class Packet(Record):
    """One framed packet: its type, its body, and where it started in the input."""

    __slots__ = ("body", "offset", "tag")
    tag: int
    body: bytes
    offset: int

    def __init__(self, tag: int, body: bytes, offset: int) -> None:
        _init = object.__setattr__  # one per packet framed: no keyword dict, no loop
        _init(self, "tag", tag)
        _init(self, "body", body)
        _init(self, "offset", offset)

    @property
    def name(self) -> str:
        """The packet type's name for messages."""
        return TAG_NAMES.get(self.tag, f"unknown packet type {self.tag}")


def frame(data: Octets, pos: int, source: str | None = None) -> tuple[int, int, int]:
    """Frame the packet whose header starts at ``pos``: (tag, body start, body end).

    Raises :class:`MalformedError` for a header that does not parse or a body that runs
    past the end of ``data``. Kept free of allocations: keyrings frame every packet.
    """
    end = len(data)
    first = data[pos]
    if not first & 0x80:
        raise MalformedError(
            f"not an OpenPGP packet at offset {pos} (octet 0x{first:02X})", source=source
        )
    if first & 0x40:
        tag = first & 0x3F
        if pos + 1 >= end:
            raise MalformedError(f"truncated packet header at offset {pos}", source=source)
        o1 = data[pos + 1]
        if o1 < 192:
            length, hdr = o1, 2
        elif o1 < 224:
            if pos + 2 >= end:
                raise MalformedError(f"truncated packet header at offset {pos}", source=source)
            length, hdr = ((o1 - 192) << 8) + data[pos + 2] + 192, 3
        elif o1 == 255:
            if pos + 5 >= end:
                raise MalformedError(f"truncated packet header at offset {pos}", source=source)
            length = (
                (data[pos + 2] << 24) | (data[pos + 3] << 16) | (data[pos + 4] << 8) | data[pos + 5]
            )
            hdr = 6
        else:
            raise MalformedError(
                f"partial body length in a {TAG_NAMES.get(tag, f'type {tag}')} packet "
                f"at offset {pos}",
                source=source,
            )
    else:
        tag = (first >> 2) & 0x0F
        ltype = first & 0x03
        if ltype == 3:
            raise MalformedError(f"indeterminate-length packet at offset {pos}", source=source)
        if ltype == 0:
            if pos + 1 >= end:
                raise MalformedError(f"truncated packet header at offset {pos}", source=source)
            length, hdr = data[pos + 1], 2
        elif ltype == 1:
            if pos + 2 >= end:
                raise MalformedError(f"truncated packet header at offset {pos}", source=source)
            length, hdr = (data[pos + 1] << 8) | data[pos + 2], 3
        else:
            if pos + 4 >= end:
                raise MalformedError(f"truncated packet header at offset {pos}", source=source)
            length = (
                (data[pos + 1] << 24) | (data[pos + 2] << 16) | (data[pos + 3] << 8) | data[pos + 4]
            )
            hdr = 5
    if tag == 0:
        raise MalformedError(f"reserved packet type 0 at offset {pos}", source=source)
    start = pos + hdr
    stop = start + length
    if stop > end:
        raise MalformedError(
            f"truncated {TAG_NAMES.get(tag, f'type {tag}')} packet at offset {pos}: "
            f"{length} octets declared, {end - start} present",
            source=source,
        )
    return tag, start, stop


def iter_packets(data: bytes, *, max_packets: int, source: str | None = None) -> Iterator[Packet]:
    """Frame ``data`` into packets, in order.

    Marker packets (§5.8) are skipped, but count towards ``max_packets``. Raises
    :class:`MalformedError` at the first header that does not parse or runs past the end
    of the data; packets yielded before it are sound, so a caller reading a keyring can
    keep them and skip the rest as trailing junk.
    """
    pos = 0
    end = len(data)
    count = 0
    while pos < end:
        count += 1
        if count > max_packets:
            raise LimitExceededError("number of packets", max_packets, source=source)
        tag, start, stop = frame(data, pos, source)
        body = data[start:stop]
        if tag != Tag.MARKER or body != MARKER_BODY:
            yield Packet(tag=tag, body=body, offset=pos)
        pos = stop


def read_mpis(data: bytes, pos: int, count: int, what: str) -> tuple[list[int], int]:
    """Read ``count`` MPIs (RFC 9580 §3.2) from ``data`` at ``pos``; return them and the end.

    Raises :class:`MalformedError` ("truncated MPI in <what>") when one runs past the end.
    """
    values = []
    for _ in range(count):
        if pos + 2 > len(data):
            raise MalformedError(f"truncated MPI in {what}")
        size = (int.from_bytes(data[pos : pos + 2], "big") + 7) // 8
        if pos + 2 + size > len(data):
            raise MalformedError(f"truncated MPI in {what}")
        values.append(int.from_bytes(data[pos + 2 : pos + 2 + size], "big"))
        pos += 2 + size
    return values, pos


def encode_packet(tag: int, body: bytes) -> bytes:
    """A new-format packet header (RFC 9580 §4.2.1) and ``body``: what :func:`frame` reads."""
    n = len(body)
    if n < 192:
        length = bytes([n])
    elif n < 8384:
        n -= 192
        length = bytes([(n >> 8) + 192, n & 0xFF])
    else:
        length = b"\xff" + n.to_bytes(4, "big")
    return bytes([0xC0 | tag]) + length + body
