"""Keyrings: many certificates, indexed by key ID and fingerprint, decoded on demand.

Loading a keyring only frames packets and fingerprints key packets (one SHA-1 per key);
no signature is parsed and no key material is decoded. A lookup decodes just the
certificate the issuer points to (the Debian developer keyring, 28 MB with 905
certificates, loads in a fraction of what parsing every certificate costs).

Junk is skipped, never fatal: a broken armored block, packets before the first public
key, a certificate that does not parse, or trailing bytes that do not frame each produce a
warning and the good certificates still load.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

from pgpverify.errors import (
    KeyringError,
    LimitExceededError,
    MalformedError,
    UnsupportedError,
)
from pgpverify.io import display_path, read_bounded
from pgpverify.limits import DEFAULT_LIMITS, Limits
from pgpverify.openpgp.armor import byte_order_mark, decode_blocks, looks_armored
from pgpverify.openpgp.certificate import Certificate, CertificatePool, parse_certificate
from pgpverify.openpgp.constants import SigType
from pgpverify.openpgp.keymaterial import parse_key_packet
from pgpverify.openpgp.keyring_index import IndexMismatch, KeyringIndex, frame_span
from pgpverify.openpgp.packets import (
    MARKER_BODY,
    Octets,
    Packet,
    Tag,
    encode_packet,
    frame,
    iter_packets,
)
from pgpverify.openpgp.signature import parse_signature

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from pgpverify.index.keyidx import KeyringIndexStore
    from pgpverify.io import StrPath
    from pgpverify.openpgp.keyring_index import SpanFacts

__all__ = ["Keyring", "read_bounded"]

_MAP_THRESHOLD = 1 << 20
#: ARMORED FILE: what gpg --enarmor writes (gpgv and sqv read the keys in it)
_KEY_BLOCK_LABELS = frozenset({"PUBLIC KEY BLOCK", "PRIVATE KEY BLOCK", "ARMORED FILE"})


def _map_binary(path: StrPath, limit: int) -> Octets | None:
    """Memory-map a large binary keyring (no 28 MB copy); None to read it the usual way."""
    try:
        with open(path, "rb") as fh:  # noqa: PTH123 - a str or a Path (no pathlib import)
            size = os.fstat(fh.fileno()).st_size
            if size > limit:
                raise LimitExceededError("size of the keyring", limit, source=display_path(path))
            if size < _MAP_THRESHOLD:
                return None
            import mmap  # only for a large keyring: a C extension a small one never needs

            mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError:
        return None  # read_bounded() reports it
    if not mapped[0] & 0x80 or _is_keybox(mapped[:12]):
        mapped.close()
        return None
    return mapped


def _size(path: StrPath) -> int:
    """The size of a regular file, 0 for anything else (reading it reports the error)."""
    try:
        found = os.stat(path)  # noqa: PTH116 - a str or a Path (no pathlib import)
    except (OSError, ValueError):
        return 0
    return found.st_size if stat.S_ISREG(found.st_mode) else 0


def _is_keybox(data: bytes) -> bool:
    """GnuPG's keybox format (``pubring.kbx``): a first blob of type 1 with magic ``KBXf``."""
    return len(data) >= 12 and data[4] == 1 and data[8:12] == b"KBXf"


class Keyring:
    """Certificates from one or more keyring files, merged by primary fingerprint.

    A plain slotted class, not a dataclass (code generation at import, on every run).
    """

    __slots__ = (
        "_asked",
        "_brought",
        "_by_key_id",
        "_decoded",
        "_facts",
        "_framed",
        "_indexes",
        "_loaded",
        "_loose",
        "_merged",
        "_packets",
        "limits",
        "warnings",
    )

    def __init__(self, limits: Limits = DEFAULT_LIMITS, warnings: list[str] | None = None) -> None:
        self.limits = limits
        self.warnings: list[str] = [] if warnings is None else warnings
        #: primary fingerprint -> spans (data, start, end) of each copy of the certificate
        self._packets: dict[bytes, list[tuple[Octets, int, int]]] = {}
        #: key ID and fingerprint (of a primary or subkey) -> the primary fingerprint
        #: holding it, or a set of them once a second certificate holds it (a set, so
        #: that indexing stays linear when thousands of certificates share one subkey)
        self._by_key_id: dict[bytes, bytes | set[bytes]] = {}
        self._decoded: dict[bytes, Certificate | None] = {}
        #: primary fingerprint -> packets in all its copies so far (the certificate cap
        #: counts the merged certificate: N copies of a certificate are N times its
        #: packets)
        self._merged: dict[bytes, int] = {}
        #: octets of every file and block added so far (Limits.keyring_total_bytes)
        self._loaded = 0
        #: packets framed in every file and block added so far (Limits.keyring_packets)
        self._framed = 0
        #: binary keyrings known through a persisted index (:meth:`add_indexed`), not
        #: scanned
        self._indexes: list[tuple[Octets, KeyringIndex]] = []
        #: keys already looked up in the indexes, and the certificates brought in from them
        self._asked: set[bytes] = set()
        self._brought: set[bytes] = set()
        #: (id of the keyring's data, primary fingerprint) -> what framing its copies
        #: proved
        self._facts: dict[tuple[int, bytes], SpanFacts] = {}
        #: issuer key ID -> bodies of the key revocations (0x20) found outside any
        #: certificate: revocation certificates, as ``gpg --gen-revoke`` (a PUBLIC KEY
        #: BLOCK of one signature) and ``sq key generate --rev-cert`` (a SIGNATURE block)
        #: write them, appended to a keyring
        self._loose: dict[bytes, list[bytes]] = {}

    def __repr__(self) -> str:
        return f"Keyring({len(self._packets)} certificates)"

    @classmethod
    def from_bytes(
        cls, data: bytes, *, source: str = "<bytes>", limits: Limits = DEFAULT_LIMITS
    ) -> Keyring:
        """A keyring from ``data`` (armored or binary, several blocks), named ``source``.

        Junk is skipped with a warning in ``warnings``, as from a file.
        """
        ring = cls(limits=limits)
        ring.add_bytes(data, source=source)
        return ring

    @classmethod
    def from_files(
        cls,
        paths: Iterable[StrPath],
        *,
        limits: Limits = DEFAULT_LIMITS,
        index: KeyringIndexStore | None = None,
        rescan: bool = False,
    ) -> Keyring:
        """Load every file in ``paths`` (armored or binary, several blocks each).

        Before any file is read, their number is checked against ``Limits.keyring_files``
        and the sum of their sizes against ``Limits.keyring_total_bytes`` (a file whose
        size cannot be known yet, a pipe, is counted as it is read).

        With an ``index`` store, a large binary keyring is added through its persisted
        index when one fits the file (:meth:`add_indexed`; a lookup may then raise
        ``IndexMismatch``: load again with ``rescan=True``), else scanned and its index
        written. ``rescan`` scans every file and writes their indexes again.
        """
        paths = list(paths)
        if len(paths) > limits.keyring_files:
            raise LimitExceededError("number of keyring files", limits.keyring_files)
        if sum(_size(path) for path in paths) > limits.keyring_total_bytes:
            raise LimitExceededError("total size of the keyring files", limits.keyring_total_bytes)
        ring = cls(limits=limits)
        for path in paths:
            source = display_path(path)
            mapped = _map_binary(path, limits.keyring_bytes)
            if mapped is not None:
                found = None if index is None or rescan else index.load(path, mapped, limits)
                if found is not None:
                    try:
                        ring.add_indexed(mapped, found, source=source)
                    except IndexMismatch:
                        pass  # unusable: scanned below
                    else:
                        continue
                ring._count(len(mapped), source)
                loose = ring._loose_count()
                ring._add_binary(mapped, source)
                # an index finds certificates only: a keyring holding a revocation outside
                # any certificate is always scanned, so that the revocation is never missed
                if index is not None and ring._loose_count() == loose:
                    index.save(path, mapped, ring.scan_index(mapped, source), limits)
            else:
                ring.add_bytes(read_bounded(path, limits.keyring_bytes, "keyring"), source=source)
        return ring

    def __len__(self) -> int:
        return len(self._all_fingerprints())

    @property
    def fingerprints(self) -> list[bytes]:
        """Primary fingerprints of every certificate loaded."""
        return list(self._all_fingerprints())

    def _all_fingerprints(self) -> dict[bytes, None]:
        found = dict.fromkeys(self._packets)
        for _, index in self._indexes:
            found.update(dict.fromkeys(index.fingerprints()))
        return found

    def scan_index(self, data: Octets, source: str) -> KeyringIndex:
        """The index of the binary keyring ``data`` this keyring scanned as ``source``.

        Built from the spans the scan recorded for ``data`` (the same object), each framed
        again to list the keys it holds; the warnings are those the scan gave for it.
        """
        spans = []
        keys = []
        packets = 0
        for fpr, copies in self._packets.items():
            for where, start, end in copies:
                if where is data:
                    facts = frame_span(
                        data, start, end, fpr, max_packets=self.limits.certificate_packets
                    )
                    spans.append((fpr, start, end))
                    keys += [(key[-8:], fpr) for key in facts.keys if len(key) == 8]
                    packets += facts.packets
        prefix = f"{source}: "
        said = [w for w in self.warnings if w.startswith(prefix)]
        return KeyringIndex.build(spans, keys, packets=packets, warnings=said)

    def add_indexed(self, data: Octets, index: KeyringIndex, *, source: str) -> None:
        """Add a binary keyring through its persisted index instead of scanning it.

        Only the certificates a lookup names are framed (and checked against the index:
        :mod:`pgpverify.openpgp.keyring_index`). A claim that does not hold, or a key
        found in no index nor scanned keyring, raises
        :class:`~pgpverify.openpgp.keyring_index.IndexMismatch` from the lookup: the
        caller then loads the keyrings again without the index and judges again.
        """
        index.check()
        if not index.certs or not index.certificates:
            raise IndexMismatch("an index of no certificate: scan to say why")
        if self._framed + index.packets > self.limits.keyring_packets:
            raise IndexMismatch("over the packet cap: scan to report it")
        self._framed += index.packets
        self._count(len(data), source)
        self._indexes.append((data, index))
        if len(self) > self.limits.certificates:
            raise LimitExceededError(
                "number of certificates", self.limits.certificates, source=source
            )
        self.warnings += index.warnings
        self._asked.clear()

    def _from_index(self, key: bytes) -> None:
        """Bring the certificates the indexes say hold ``key`` into the tables, checked.

        At most ``Limits.candidates`` + 1 of them: that many proven holders already make a
        signature by ``key`` a rejection (the verifier counts holders before decoding any),
        so 200,000 certificates sharing a subkey cost 17 framings, not 200,000.
        """
        if not self._indexes or key in self._asked:
            return
        key_id = key[-8:]
        claimed = False
        enough = self.limits.candidates + 1
        proven: set[bytes] = set()
        for data, index in self._indexes:
            for fpr in index.primaries(key_id):
                claimed = True
                if len(proven) >= enough:
                    break
                if fpr not in self._brought:
                    self._bring(fpr)
                facts = self._facts.get((id(data), fpr))
                if facts is None or key_id not in facts.keys:
                    raise IndexMismatch("a key is not where the index says")
                proven.add(fpr)
        if not claimed and key not in self._by_key_id:
            # an index is trusted to find offsets, never to say a key is absent
            raise IndexMismatch("a key the indexes do not know")
        self._asked.add(key)

    def _bring(self, fpr: bytes) -> None:
        """Frame every indexed copy of certificate ``fpr`` and add it as a scan would."""
        self._brought.add(fpr)
        for data, index in self._indexes:
            for start, end in index.spans(fpr):
                facts = frame_span(
                    data, start, end, fpr, max_packets=self.limits.certificate_packets
                )
                self._facts[(id(data), fpr)] = _union(self._facts.get((id(data), fpr)), facts)
                if fpr not in self._packets:
                    self._packets[fpr] = []
                self._close(fpr, (data, start, end), facts.packets)
                if self._merged[fpr] > self.limits.certificate_packets:
                    raise LimitExceededError(
                        "number of packets in one certificate (all copies)",
                        self.limits.certificate_packets,
                    )
                for key in facts.keys:
                    self._index(key, fpr)
        self._decoded.pop(fpr, None)

    def add_bytes(self, data: bytes, *, source: str) -> None:
        """Add the certificates in ``data``; junk is skipped with a warning in ``warnings``."""
        if len(data) > self.limits.keyring_bytes:
            raise LimitExceededError(
                "size of the keyring", self.limits.keyring_bytes, source=source
            )
        self._count(len(data), source)
        if _is_keybox(data):
            raise KeyringError(
                "this is a GnuPG keybox (pubring.kbx), not an OpenPGP keyring; export it with "
                "'gpg --export > keyring.gpg'",
                source=source,
            )
        if not data.strip():
            self.warnings.append(f"{source}: keyring is empty")
            return
        mark = byte_order_mark(data)
        if mark is not None:
            self.warnings.append(
                f"{source}: skipped: it starts with a {mark} byte order mark (a text "
                "editor's); OpenPGP armor is ASCII: save it without the mark"
            )
            return
        if looks_armored(data):
            try:
                blocks = decode_blocks(data)
            except MalformedError as err:
                self.warnings.append(f"{source}: skipped: {err.message}")
                return
            for block in blocks:
                where = f"{source}: armored block at line {block.line + 1}"
                if block.error is not None:
                    self.warnings.append(f"{where}: skipped: {block.error}")
                elif block.label == "SIGNATURE":
                    self._add_revocations(block.data, where)
                elif block.label not in _KEY_BLOCK_LABELS:
                    self.warnings.append(f"{where}: skipped: a PGP {block.label} is not a key")
                else:
                    self._add_binary(block.data, where)
        else:
            self._add_binary(data, source)

    def _add_binary(self, data: Octets, source: str) -> None:
        """Frame ``data``; remember each certificate's span, index its key packets.

        Only key packets are copied and fingerprinted here; signatures are framed and
        stepped over (a keyring is mostly third-party certifications). The packets of every
        copy of a certificate, in this data or loaded before, count towards one
        ``certificate_packets`` cap: ``room`` is what the current copy may still add.
        The ``keyring_packets`` cap counts the packets of every file and block added.
        """
        max_packets = self.limits.keyring_packets
        max_in_cert = self.limits.certificate_packets
        room = max_in_cert
        signature = Tag.SIGNATURE
        pos = 0
        end = len(data)
        count = self._framed
        in_cert = 0
        fpr = b""
        cert_start = 0
        junk = 0
        #: after a key packet that was not added (a secret key, a key that does not
        #: parse): its signatures are its own, never revocation certificates
        orphan = False
        try:
            while pos < end:
                count += 1
                in_cert += 1
                if count > max_packets:
                    raise LimitExceededError(
                        "number of packets in the keyrings", max_packets, source=source
                    )
                # Inline fast paths for the headers nearly every keyring packet has: old
                # format (GnuPG's) with a two- or one-octet length, new format with a one-
                # or two-octet length. Anything else, and any header that does not fit,
                # goes through frame(), which raises with the reason.
                first = data[pos]
                if pos + 2 >= end:
                    tag, start, stop = frame(data, pos, source)
                elif first & 0xC3 == 0x81:
                    tag, start = (first >> 2) & 0x0F, pos + 3
                    stop = start + ((data[pos + 1] << 8) | data[pos + 2])
                elif first & 0xC3 == 0x80:
                    tag, start = (first >> 2) & 0x0F, pos + 2
                    stop = start + data[pos + 1]
                elif first >= 0xC0 and data[pos + 1] < 192:
                    tag, start = first & 0x3F, pos + 2
                    stop = start + data[pos + 1]
                elif first >= 0xC0 and data[pos + 1] < 224:
                    tag, start = first & 0x3F, pos + 3
                    stop = start + ((data[pos + 1] - 192) << 8) + data[pos + 2] + 192
                else:
                    tag, start, stop = frame(data, pos, source)
                if stop > end or tag == 0:
                    frame(data, pos, source)  # raises with the reason
                if in_cert > room and tag not in (Tag.PUBLIC_KEY, Tag.SECRET_KEY):
                    raise LimitExceededError(
                        "number of packets in one certificate", max_in_cert, source=source
                    )
                if tag == signature:
                    if not fpr and (orphan or not self._keep_revocation(data[start:stop], source)):
                        junk += 1
                    pos = stop
                    continue
                if tag in (Tag.PUBLIC_KEY, Tag.SECRET_KEY):
                    if fpr:
                        self._close(fpr, (data, cert_start, pos), in_cert - 1)
                    fpr = b""
                    in_cert = 1
                    room = max_in_cert
                    if tag == Tag.SECRET_KEY:
                        self.warnings.append(
                            f"{source}: secret key at offset {pos} skipped with its "
                            "signatures, revocations included (a keyring holds public keys: "
                            "export them with 'gpg --export' or 'sq key extract-cert')"
                        )
                    else:
                        fpr = self._start(data[start:stop], pos, source)
                        cert_start = pos
                        room = max_in_cert - self._merged.get(fpr, 0)
                        if in_cert > room:
                            raise LimitExceededError(
                                "number of packets in one certificate (all copies)",
                                max_in_cert,
                                source=source,
                            )
                    orphan = not fpr
                elif not fpr:
                    # a marker packet (RFC 9580 §5.8) is ignored, not junk
                    junk += tag != Tag.MARKER or data[start:stop] != MARKER_BODY
                elif tag == Tag.PUBLIC_SUBKEY:
                    self._index_subkey(data[start:stop], fpr)
                pos = stop
        except LimitExceededError:
            raise
        except MalformedError as err:
            self.warnings.append(f"{source}: trailing data skipped: {err.message}")
            in_cert -= 1  # the packet that did not frame is not in the span
        self._framed = count
        if fpr:
            self._close(fpr, (data, cert_start, pos), in_cert)
        if junk:
            self.warnings.append(f"{source}: {junk} packet(s) outside any certificate skipped")

    def _add_revocations(self, data: bytes, source: str) -> None:
        """Keep the key revocations of an armored SIGNATURE block given as a keyring.

        ``sq key generate --rev-cert`` and ``sq revoke certificate`` write a revocation
        certificate as such a block; anything else in one (a document signature) is no key.
        """
        kept = 0
        try:
            for pkt in iter_packets(data, max_packets=self.limits.signature_packets):
                self._framed += 1
                if self._framed > self.limits.keyring_packets:
                    raise LimitExceededError(
                        "number of packets in the keyrings",
                        self.limits.keyring_packets,
                        source=source,
                    )
                kept += pkt.tag == Tag.SIGNATURE and self._keep_revocation(pkt.body, source)
        except MalformedError as err:
            self.warnings.append(f"{source}: trailing data skipped: {err.message}")
        if not kept:
            self.warnings.append(f"{source}: skipped: a PGP SIGNATURE is not a key")

    def _keep_revocation(self, body: Octets, source: str) -> bool:
        """Keep ``body`` if it is a key revocation (0x20) outside any certificate.

        It joins the certificate of the primary key it names as issuer as one more copy
        (the primary key packet, then the revocation), judged like a revocation in the
        certificate: its math checked, so a forged one revokes nothing, and a real one is
        never dropped because it travelled alone (sqv applies it too). Parsed here, at most
        ``Limits.signature_packets`` of them per keyring, so that junk signatures cost a
        framing only.
        """
        if len(body) < 2 or body[0] != 4 or body[1] != SigType.KEY_REVOCATION:
            return False
        try:
            sig = parse_signature(
                bytes(body), max_subpackets=self.limits.subpackets, depth=self.limits.nesting
            )
        except MalformedError:
            return False
        if not sig.issuer_key_ids:
            return False
        if self._loose_count() >= self.limits.signature_packets:
            raise LimitExceededError(
                "number of key revocations outside any certificate",
                self.limits.signature_packets,
                source=source,
            )
        self._loose.setdefault(sig.issuer_key_ids[0], []).append(bytes(body))
        self._decoded.clear()  # a certificate decoded before lacks it
        return True

    def _loose_count(self) -> int:
        return sum(len(bodies) for bodies in self._loose.values())

    def _with_revocations(
        self, fingerprint: bytes, spans: list[tuple[Octets, int, int]]
    ) -> list[tuple[Octets, int, int]]:
        """``spans``, plus a copy of the primary key with the loose revocations naming it."""
        loose = self._loose.get(fingerprint[-8:])
        if not loose:
            return spans
        data, start, _ = spans[0]
        _, _, stop = frame(data, start)
        copy = bytes(data[start:stop]) + b"".join(
            encode_packet(Tag.SIGNATURE, body) for body in loose
        )
        return [*spans, (copy, 0, len(copy))]

    def _count(self, size: int, source: str) -> None:
        """Account for ``size`` more octets loaded, before they are framed."""
        if self._loaded + size > self.limits.keyring_total_bytes:
            raise LimitExceededError(
                "total size of the keyrings", self.limits.keyring_total_bytes, source=source
            )
        self._loaded += size

    def _close(self, fpr: bytes, span: tuple[Octets, int, int], packets: int) -> None:
        """Remember one copy of certificate ``fpr`` and count its packets."""
        self._packets[fpr].append(span)
        self._merged[fpr] = self._merged.get(fpr, 0) + packets

    def _start(self, body: bytes, offset: int, source: str) -> bytes:
        try:
            key = parse_key_packet(body)
        except (MalformedError, UnsupportedError) as err:
            self.warnings.append(f"{source}: key at offset {offset} skipped: {err.message}")
            return b""
        fpr = key.fingerprint
        if fpr not in self._packets:
            if len(self._packets) >= self.limits.certificates:
                raise LimitExceededError(
                    "number of certificates", self.limits.certificates, source=source
                )
            self._packets[fpr] = []
            self._index(key.key_id, fpr)
            self._index(fpr, fpr)
        self._decoded.pop(fpr, None)
        return fpr

    def _index_subkey(self, body: bytes, primary: bytes) -> None:
        try:
            key = parse_key_packet(body)
        except (MalformedError, UnsupportedError):
            return
        self._index(key.key_id, primary)
        self._index(key.fingerprint, primary)

    def _index(self, key: bytes, primary: bytes) -> None:
        owners = self._by_key_id.get(key)
        if owners is None:
            self._by_key_id[key] = primary
        elif isinstance(owners, set):
            owners.add(primary)
        elif owners != primary:
            self._by_key_id[key] = {owners, primary}

    def holder_count(self, key_id: bytes) -> int:
        """How many certificates hold this key ID or fingerprint (nothing sorted or decoded)."""
        self._from_index(key_id)
        owners = self._by_key_id.get(key_id)
        if owners is None:
            return 0
        return len(owners) if isinstance(owners, set) else 1

    def decode_cost(self, fingerprint: bytes) -> int:
        """Packets :meth:`certificate` would parse for ``fingerprint``: 0 once decoded."""
        if fingerprint in self._decoded:
            return 0
        self._from_index(fingerprint)
        loose = len(self._loose.get(fingerprint[-8:], ())) if fingerprint in self._packets else 0
        return self._merged.get(fingerprint, 0) + loose

    def holders(self, key_id: bytes) -> list[bytes]:
        """Primary fingerprints of the certificates holding this key ID or fingerprint.

        Sorted, and nothing is decoded: a caller counts them before paying for
        :meth:`certificate` (thousands of certificates may share one subkey).
        """
        self._from_index(key_id)
        owners = self._by_key_id.get(key_id)
        if owners is None:
            return []
        if isinstance(owners, set):
            return sorted(owners)
        return [owners]

    def lookup(self, key_id: bytes) -> list[Certificate]:
        """Certificates with a primary key or subkey of this key ID or fingerprint.

        In primary-fingerprint order, never in load order: the verdict must not depend on
        the order of keyrings or of certificates inside one.
        """
        found = []
        for fpr in self.holders(key_id):
            cert = self.certificate(fpr)
            if cert is not None:
                found.append(cert)
        return found

    def certificate(
        self, fingerprint: bytes, *, pool: CertificatePool | None = None
    ) -> Certificate | None:
        """The certificate with this primary fingerprint, decoded once and cached.

        With a ``pool``, copies with the same octets parsed for another keyring are not
        parsed again: the pool's certificate (and what it has judged) is this keyring's.
        """
        if fingerprint not in self._decoded:
            self._from_index(fingerprint)
            spans = self._packets.get(fingerprint)
            cert: Certificate | None = None
            if spans is not None:
                spans = self._with_revocations(fingerprint, spans)
                limits = self.limits
                octets: tuple[bytes, ...] = ()
                if pool is not None:
                    octets = tuple(bytes(data[start:end]) for data, start, end in spans)
                    cert = pool.parsed(
                        octets,
                        subpackets=limits.subpackets,
                        nesting=limits.nesting,
                        packets=limits.certificate_packets,
                    )
                if cert is None:
                    cert = self._parse(fingerprint, spans)
                    if cert is not None and pool is not None:
                        cert = pool.keep(
                            octets,
                            cert,
                            subpackets=limits.subpackets,
                            nesting=limits.nesting,
                            packets=limits.certificate_packets,
                        )
            self._decoded[fingerprint] = cert
        return self._decoded[fingerprint]

    def _parse(
        self, fingerprint: bytes, spans: list[tuple[Octets, int, int]]
    ) -> Certificate | None:
        """Parse the copies of certificate ``fingerprint``; None (with a warning) if it fails."""
        try:
            return parse_certificate(
                _span_packets(spans, self.limits.certificate_packets),
                max_subpackets=self.limits.subpackets,
                nesting=self.limits.nesting,
            )
        except (MalformedError, UnsupportedError) as err:
            self.warnings.append(f"certificate {fingerprint.hex().upper()} skipped: {err.message}")
            return None


def _union(old: SpanFacts | None, new: SpanFacts) -> SpanFacts:
    if old is None:
        return new
    return type(new)(packets=old.packets + new.packets, keys=old.keys | new.keys)


def _span_packets(spans: list[tuple[Octets, int, int]], max_packets: int) -> Iterator[Packet]:
    """The packets of every copy, at most ``max_packets`` in all (not per copy)."""
    left = max_packets
    for data, start, end in spans:
        for pkt in iter_packets(data[start:end], max_packets=left):
            left -= 1
            yield pkt
