"""ASCII armor (RFC 9580 §6), decoded line by line.

No regular expression is applied to the whole input, and no pattern can backtrack: the
input is split into lines once and every line is looked at a bounded number of times, so
decoding is linear in the input size whatever an attacker puts in it (PGPy's armor regex
is exponential on crafted input).

Rules (RFC 9580 §6.2): text before the first and after the last block is ignored; LF or
CRLF line endings; armor headers ``Key: Value`` (the value may be empty) end with a blank
line; the CRC-24 line (``=XXXX``) is optional, but when present it must match; the base64
body is strict.
"""

from __future__ import annotations

import base64
import binascii

from pgpverify.errors import MalformedError
from pgpverify.openpgp._record import Record

__all__ = ["ArmorBlock", "byte_order_mark", "crc24", "decode_blocks", "looks_armored"]

_BEGIN = b"-----BEGIN PGP "
_END = b"-----END PGP "
_DASHES = b"-----"
_CRC24_INIT = 0xB704CE
_CRC24_POLY = 0x1864CFB
_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
#: what a label (``SIGNATURE``) may hold: printable ASCII but the dash
_LABEL_OCTETS = bytes(c for c in range(32, 127) if c != 0x2D)


class ArmorBlock(Record):
    """One armored block: its label (``SIGNATURE``, ``PUBLIC KEY BLOCK`` ...) and bytes.

    ``error`` is set, and ``data`` empty, when the block itself is broken (bad CRC, bad
    base64, no END line); callers decide whether that is fatal (a signature file) or a
    block to skip with a warning (a keyring).
    """

    __slots__ = ("data", "error", "label", "line")
    label: str
    data: bytes
    line: int
    error: str | None

    def __init__(self, *, label: str, data: bytes, line: int, error: str | None = None) -> None:
        _init = object.__setattr__  # one per signature verified: no keyword dict, no loop
        _init(self, "label", label)
        _init(self, "data", data)
        _init(self, "line", line)
        _init(self, "error", error)


def _step(crc: int) -> int:
    """The register after shifting one zero octet through it, bit by bit (§6.1)."""
    for _ in range(8):
        crc <<= 1
        if crc & 0x1000000:
            crc ^= _CRC24_POLY
    return crc & 0xFFFFFF


def _linear(base: list[int]) -> tuple[int, ...]:
    """All 256 entries from the 8 single-bit ones: a CRC table is linear (T[a^b] = T[a]^T[b]).

    256 XORs instead of 2,048 shift steps per table: it is built at import, on every run.
    """
    table = [0] * 256
    for i in range(1, 256):
        low = i & -i
        table[i] = table[i ^ low] ^ base[low.bit_length() - 1]
    return tuple(table)


_CRC24_TABLE = _linear([_step(1 << (bit + 16)) for bit in range(8)])


def _shifted(table: tuple[int, ...]) -> tuple[int, ...]:
    """The table one zero octet later: ``T'[x]`` is ``T[x]`` followed by a zero octet."""
    step = _CRC24_TABLE
    return _linear(
        [((t << 8) & 0xFFFFFF) ^ step[t >> 16] for t in (table[1 << bit] for bit in range(8))]
    )


#: Three octets at a time ("slicing by 3"): the register is exactly three octets wide, so
#: after XORing three data octets into it, each register octet reaches the new value
#: through its own table (two, one or no zero octets after it) and nothing else is left.
_CRC24_T1 = _shifted(_CRC24_TABLE)
_CRC24_T2 = _shifted(_CRC24_T1)


def crc24(data: bytes) -> int:
    """CRC-24 of RFC 9580 §6.1.

    Block by block (linear in the input whatever its size): a short block through the
    tables, three octets per step; a longer one as one polynomial, folded (see _fold),
    ~2x faster for an armored RSA signature (~400 octets, checked on every verification).
    """
    if len(data) < _FOLD_MIN:
        return _by_table(_CRC24_INIT, data)
    if len(data) <= _FOLD_BLOCK:
        return _fold(_CRC24_INIT, data)
    crc = _CRC24_INIT
    view = memoryview(data)
    for start in range(0, len(data), _FOLD_BLOCK):
        block = view[start : start + _FOLD_BLOCK]
        crc = _by_table(crc, block) if len(block) < _FOLD_MIN else _fold(crc, block)
    return crc


def _by_table(crc: int, data: bytes | memoryview) -> int:
    """The register after ``data``, through the tables three octets per step.

    About three times faster than one table lookup per octet in pure Python.
    """
    t0, t1, t2 = _CRC24_TABLE, _CRC24_T1, _CRC24_T2
    whole = len(data) - len(data) % 3
    octets = iter(data[:whole])
    for a, b, c in zip(octets, octets, octets, strict=False):  # one iterator, by three
        crc = t2[(crc >> 16) ^ a] ^ t1[((crc >> 8) & 0xFF) ^ b] ^ t0[(crc & 0xFF) ^ c]
    for byte in data[whole:]:
        crc = ((crc << 8) & 0xFFFFFF) ^ t0[(crc >> 16) ^ byte]
    return crc


#: Octets per block (so a fold never shifts integers longer than ~8,200 bits), and the
#: shortest block worth folding.
_FOLD_BLOCK = 1024
_FOLD_MIN = 160
#: x**m mod P for the fold widths m (RFC 9580 §6.1's generator P = 0x1864CFB), each as
#: the powers of x it holds; tests/test_armor.py derives them bit by bit.
_FOLDS = tuple(
    (m, (1 << m) - 1, tuple(bit for bit in range(24) if residue >> bit & 1))
    for m, residue in (
        (4096, 0xC5BF56),
        (2048, 0x3D145A),
        (1024, 0xDEF23C),
        (512, 0x7DB43E),
        (256, 0xCB800E),
        (128, 0x6243DA),
    )
)


def _fold(crc: int, data: bytes | memoryview) -> int:
    """The register after ``data``, computed as (crc * x**8n + D * x**24) mod P over GF(2).

    The polynomial is one Python integer; each fold replaces its part above x**m by that
    part times (x**m mod P), a few shifts and XORs of long integers (C loops), until what
    is left has at most 128 + 24 bits; its top 16 octets then go through the tables.
    """
    value = (crc << (8 * len(data))) ^ (int.from_bytes(data, "big") << 24)
    size = value.bit_length()
    for m, mask, powers in _FOLDS:
        while size > m + 24:
            high = value >> m
            value &= mask
            for power in powers:
                value ^= high << power
            size = value.bit_length()
    return _by_table(0, (value >> 24).to_bytes(16, "big")) ^ (value & 0xFFFFFF)


_BOMS = ((b"\xef\xbb\xbf", "UTF-8"), (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


def byte_order_mark(data: bytes) -> str | None:
    """``UTF-8`` or ``UTF-16`` when ``data`` starts with that byte order mark, else None.

    A text editor's mark before armor (Windows Notepad writes one): armor is ASCII, so
    gpgv and sqv refuse such a file, and so does pgpverify, saying why (read as binary,
    its first octet would be taken for a packet header of some unknown type).
    """
    for mark, name in _BOMS:
        if data.startswith(mark):
            return name
    return None


def looks_armored(data: bytes) -> bool:
    """Whether ``data`` should be read as armor rather than binary packets.

    Binary OpenPGP always starts with a packet header, whose first octet has bit 7 set
    (RFC 9580 §4.2); armor is ASCII text.
    """
    stripped = data.lstrip(b" \t\r\n")
    return not stripped or not stripped[0] & 0x80


def _label(line: bytes, prefix: bytes) -> str | None:
    """``SIGNATURE`` for ``-----BEGIN PGP SIGNATURE-----``; None if not such a line."""
    if not (line.startswith(prefix) and line.endswith(_DASHES)):
        return None
    inner = line[len(prefix) : -len(_DASHES)]
    if not inner or len(inner) > 64 or inner.translate(None, _LABEL_OCTETS):
        return None  # empty, too long, or an octet outside printable ASCII without "-"
    return inner.decode("ascii")


def _is_header(line: bytes) -> bool:
    """Whether ``line`` is an armor header ``Key: Value`` (RFC 9580 §6.2.2).

    The value may be empty: ``Version: `` or ``Comment:`` (trailing blanks are already
    stripped) is a header, as gpgv and sqv read it. No base64 body line has a colon.
    """
    key, sep, value = line.partition(b":")
    return (
        bool(sep)
        and bool(key)
        and all(33 <= c < 127 for c in key)
        and (not value or value.startswith(b" "))
    )


def decode_blocks(data: bytes) -> list[ArmorBlock]:
    """Every armored block in ``data``, in order; broken blocks carry ``error``.

    Raises :class:`MalformedError` only when no BEGIN line is found at all.
    """
    lines = data.split(b"\n")
    blocks: list[ArmorBlock] = []
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i].rstrip(b" \t\r")
        label = _label(line, _BEGIN)
        if label is None:
            i += 1
            continue
        block, i = _decode_one(lines, i + 1, label)
        blocks.append(block)
    if not blocks:
        raise MalformedError("no OpenPGP armor found (no '-----BEGIN PGP ...-----' line)")
    return blocks


def _decode_one(lines: list[bytes], start: int, label: str) -> tuple[ArmorBlock, int]:
    """Decode the block whose BEGIN line precedes ``start``; return it and the next index."""
    n = len(lines)
    i = start
    # Armor headers (RFC 9580 §6.2.2), then a blank line. Armor writers that emit no
    # headers still emit the blank line, but a body line never looks like "Key: Value",
    # so a missing blank line is tolerated the way GnuPG does.
    while i < n:
        line = lines[i].rstrip(b" \t\r")
        if not line:
            i += 1
            break
        if _is_header(line):
            i += 1
            continue
        break
    body: list[bytes] = []
    crc_line: bytes | None = None
    while i < n:
        line = lines[i].strip(b" \t\r")
        i += 1
        if line.startswith(b"-"):  # only then can it be an END or BEGIN line
            end_label = _label(line, _END)
            if end_label is not None:
                if end_label != label:
                    return (
                        _broken(label, start, f"END PGP {end_label} closes BEGIN PGP {label}"),
                        i,
                    )
                return _finish(label, start, body, crc_line), i
            if _label(line, _BEGIN) is not None:
                return _broken(label, start, "BEGIN line inside an armored block"), i - 1
        if not line:
            continue
        if crc_line is not None:
            return _broken(label, start, "data after the armor checksum line"), i
        if line.startswith(b"=") and len(line) == 5:
            crc_line = line[1:]
            continue
        body.append(line)
    return _broken(label, start, "truncated armor: no END line"), n


def _broken(label: str, line: int, error: str) -> ArmorBlock:
    return ArmorBlock(label=label, data=b"", line=line, error=error)


def _finish(label: str, line: int, body: list[bytes], crc_line: bytes | None) -> ArmorBlock:
    joined = b"".join(body)
    if joined.translate(None, _B64_ALPHABET):  # any octet left is not base64
        return _broken(label, line, "invalid base64 in armor body")
    try:
        data = base64.b64decode(joined, validate=True)
    except (binascii.Error, ValueError):
        return _broken(label, line, "invalid base64 in armor body")
    if not data:
        return _broken(label, line, "empty armored block")
    if crc_line is not None:
        try:
            expected = base64.b64decode(crc_line, validate=True)
        except (binascii.Error, ValueError):
            return _broken(label, line, "invalid armor checksum line")
        if len(expected) != 3 or int.from_bytes(expected, "big") != crc24(data):
            return _broken(label, line, "armor checksum (CRC-24) does not match")
    return ArmorBlock(label=label, data=data, line=line)


_LINE_WIDTH = 64


def encode(data: bytes, label: str, headers: tuple[tuple[str, str], ...] = ()) -> bytes:
    """Armor ``data`` as one ``-----BEGIN PGP <label>-----`` block (RFC 9580 §6.2).

    Output is deterministic: LF line endings, the given armor headers in order, a blank
    line, base64 in lines of 64 characters, the CRC-24 line (§6.1), the END line and a
    final LF. :func:`decode_blocks` reads it back. Raises ValueError for a label or header
    that could not be read back as written (dashes or control characters in the label,
    ``:`` in a header key, a line break anywhere).
    """
    label_octets = label.encode("ascii", "replace")
    if _label(_BEGIN + label_octets + _DASHES, _BEGIN) != label:
        raise ValueError(f"not a valid armor label: {label!r}")
    out = [_BEGIN + label_octets + _DASHES]
    for key, value in headers:
        line = f"{key}: {value}".encode()
        if not _is_header(line) or any(c < 32 or c == 127 for c in line):
            raise ValueError(f"not a valid armor header: {key!r}: {value!r}")
        out.append(line)
    out.append(b"")
    body = base64.b64encode(data)
    out += [body[i : i + _LINE_WIDTH] for i in range(0, len(body), _LINE_WIDTH)]
    out.append(b"=" + base64.b64encode(crc24(data).to_bytes(3, "big")))
    out.append(_END + label_octets + _DASHES)
    return b"\n".join(out) + b"\n"


__all__ += ["encode"]
