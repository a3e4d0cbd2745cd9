"""Where the certificates of one binary keyring are: a hint for finding offsets, in memory.

Loading a large keyring frames every packet (the Debian developer keyring: about 300,000,
most of them third-party certifications) to find the few key packets. A
:class:`KeyringIndex`, built by that full scan and persisted by
:mod:`pgpverify.index.keyidx` while the file is unchanged, lets a later run go straight to
the certificates a signature names.

The index is never trusted for more than offsets. Before anything it points at is used,
:func:`frame_span` frames the span in the keyring's own octets: whole packets, a public-key
packet first whose fingerprint (computed here) is the one asked for, no second primary
key, at most ``certificate_packets`` packets; the subkeys found there are the only proof
that the certificate holds a key. The packet counts used for the work caps are those
framed, not stored. Any claim that does not hold raises :class:`IndexMismatch`; the keyring
then drops the index and scans the file in full, and the caller judges again from
that scan (so a stale, corrupt or forged index changes no verdict). What an index cannot
prove is completeness (a certificate copy it leaves out); it is bound to the file by its
identity and a content check, and lives in the user's own cache directory.

Bytes only: the file is read and written in :mod:`pgpverify.index.keyidx`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pgpverify.errors import MalformedError, UnsupportedError
from pgpverify.openpgp.keymaterial import parse_key_packet
from pgpverify.openpgp.packets import Octets, Tag, frame

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["IndexMismatch", "KeyringIndex", "SpanFacts", "frame_span"]

#: a certificate record: primary fingerprint (20), span start (8), span end (8)
CERT_RECORD = 36
#: a key record: key ID (8), primary fingerprint (20)
KEY_RECORD = 28
_FPR = 20
_KEY_ID = 8


class IndexMismatch(Exception):  # noqa: N818 - a signal, caught by the keyring
    """What the index says does not hold in the keyring's octets: drop the index."""


class KeyringIndex:
    """Offsets of every certificate copy in one binary keyring, and who holds each key.

    ``certs`` and ``keys`` are tables of fixed-width records, sorted, looked up by binary
    search (nothing is unpacked for the certificates a run does not touch).
    ``certificates`` is the number of distinct primary fingerprints, ``packets`` the
    packets the full scan framed, ``warnings`` what it said (replayed on every use).
    A plain class, not a dataclass: it is loaded on every run (start-up cost).
    """

    __slots__ = ("certificates", "certs", "keys", "packets", "warnings")

    def __init__(
        self,
        *,
        certs: bytes,
        keys: bytes,
        certificates: int,
        packets: int,
        warnings: tuple[str, ...] = (),
    ) -> None:
        self.certs = certs
        self.keys = keys
        self.certificates = certificates
        self.packets = packets
        self.warnings = warnings

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KeyringIndex):
            return NotImplemented
        return (self.certs, self.keys, self.certificates, self.packets, self.warnings) == (
            other.certs,
            other.keys,
            other.certificates,
            other.packets,
            other.warnings,
        )

    def __hash__(self) -> int:
        return hash((self.certs, self.keys, self.certificates, self.packets, self.warnings))

    @classmethod
    def build(
        cls,
        spans: Iterable[tuple[bytes, int, int]],
        keys: Iterable[tuple[bytes, bytes]],
        *,
        packets: int,
        warnings: Iterable[str] = (),
    ) -> KeyringIndex:
        """From a scan: certificate spans (fingerprint, start, end), (key ID, primary)."""
        cert_rows = sorted(set(spans))
        key_rows = sorted(set(keys))
        certs = b"".join(
            fpr + start.to_bytes(8, "big") + end.to_bytes(8, "big") for fpr, start, end in cert_rows
        )
        table = b"".join(key_id + fpr for key_id, fpr in key_rows)
        return cls(
            certs=certs,
            keys=table,
            certificates=len({f for f, _, _ in cert_rows}),
            packets=packets,
            warnings=tuple(warnings),
        )

    def check(self) -> None:
        """Raise :class:`IndexMismatch` unless the tables are whole records.

        Out-of-order records only make lookups miss: a key found in no index is a full
        scan (:meth:`~pgpverify.openpgp.keyring.Keyring.add_indexed`).
        """
        if len(self.certs) % CERT_RECORD or len(self.keys) % KEY_RECORD:
            raise IndexMismatch("truncated record")

    def spans(self, fingerprint: bytes) -> list[tuple[int, int]]:
        """(start, end) of every copy of the certificate with this primary fingerprint."""
        lo, hi = _range(self.certs, CERT_RECORD, fingerprint)
        out = []
        for i in range(lo, hi):
            row = self.certs[i * CERT_RECORD : (i + 1) * CERT_RECORD]
            out.append((int.from_bytes(row[20:28], "big"), int.from_bytes(row[28:36], "big")))
        return out

    def primaries(self, key_id: bytes) -> list[bytes]:
        """Primary fingerprints the index says hold a key with this ID (or fingerprint)."""
        lo, hi = _range(self.keys, KEY_RECORD, key_id[-_KEY_ID:])
        return sorted(
            {self.keys[i * KEY_RECORD + _KEY_ID : (i + 1) * KEY_RECORD] for i in range(lo, hi)}
        )

    def fingerprints(self) -> list[bytes]:
        """Every primary fingerprint, sorted."""
        return sorted({self.certs[i : i + _FPR] for i in range(0, len(self.certs), CERT_RECORD)})


def _range(table: bytes, width: int, prefix: bytes) -> tuple[int, int]:
    """Indexes [lo, hi) of the records of ``table`` that start with ``prefix``."""
    n = len(table) // width
    size = len(prefix)
    lo, hi = 0, n
    while lo < hi:  # first record >= prefix
        mid = (lo + hi) // 2
        if table[mid * width : mid * width + size] < prefix:
            lo = mid + 1
        else:
            hi = mid
    first, hi = lo, n
    while lo < hi:  # first record > prefix
        mid = (lo + hi) // 2
        if table[mid * width : mid * width + size] <= prefix:
            lo = mid + 1
        else:
            hi = mid
    return first, lo


class SpanFacts:
    """What framing one certificate span proved: its packets and the keys it holds.

    ``keys``: key IDs and fingerprints of the primary key and every subkey that parses.
    """

    __slots__ = ("keys", "packets")

    def __init__(self, *, packets: int, keys: frozenset[bytes]) -> None:
        self.packets = packets
        self.keys = keys


def frame_span(
    data: Octets, start: int, end: int, fingerprint: bytes, *, max_packets: int
) -> SpanFacts:
    """Frame ``data[start:end]`` as one copy of certificate ``fingerprint``.

    Raises :class:`IndexMismatch` unless the span lies in the data, is whole packets,
    starts with a public-key packet of this fingerprint, holds no other primary key and at
    most ``max_packets`` packets, and ends where a scan would end the certificate.
    """
    if not 0 <= start < end <= len(data):
        raise IndexMismatch("span outside the keyring")
    keys: set[bytes] = set()
    pos = start
    count = 0
    try:
        while pos < end:
            tag, body, stop = frame(data, pos)
            count += 1
            if stop > end or count > max_packets:
                raise IndexMismatch("span does not frame")
            if pos == start:
                if tag != Tag.PUBLIC_KEY:
                    raise IndexMismatch("span does not start with a public key")
                key = parse_key_packet(bytes(data[body:stop]))
                if key.fingerprint != fingerprint:
                    raise IndexMismatch("span holds another certificate")
                keys.update((key.key_id, key.fingerprint))
            elif tag in (Tag.PUBLIC_KEY, Tag.SECRET_KEY):
                raise IndexMismatch("span holds a second primary key")
            elif tag == Tag.PUBLIC_SUBKEY:
                try:
                    sub = parse_key_packet(bytes(data[body:stop]))
                except (MalformedError, UnsupportedError):
                    pass  # not indexed by the scan either
                else:
                    keys.update((sub.key_id, sub.fingerprint))
            pos = stop
    except (MalformedError, UnsupportedError) as err:
        raise IndexMismatch(str(err)) from None
    if not _ends_a_certificate(data, end):
        raise IndexMismatch("span does not end where the certificate ends")
    return SpanFacts(packets=count, keys=frozenset(keys))


def _ends_a_certificate(data: Octets, end: int) -> bool:
    """Whether a scan would close a certificate at ``end``.

    A scan closes one at the end of the data, at the next primary key (public or secret),
    or where framing stops (trailing bytes that do not frame). A span that ends anywhere
    else leaves packets of its certificate out (a revocation cut off by a forged index).
    """
    if end == len(data):
        return True
    try:
        tag, _body, stop = frame(data, end)
    except MalformedError:
        return True
    return tag in (Tag.PUBLIC_KEY, Tag.SECRET_KEY) or tag == 0 or stop > len(data)
