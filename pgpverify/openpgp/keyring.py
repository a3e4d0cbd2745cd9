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

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pgpverify.errors import (
    InputError,
    KeyringError,
    LimitExceededError,
    MalformedError,
    UnsupportedError,
)
from pgpverify.limits import DEFAULT_LIMITS, Limits
from pgpverify.openpgp.armor import decode_blocks, looks_armored
from pgpverify.openpgp.certificate import Certificate, parse_certificate
from pgpverify.openpgp.keymaterial import parse_key_packet
from pgpverify.openpgp.packets import Packet, Tag, iter_packets

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

__all__ = ["Keyring", "read_bounded"]

_KEY_BLOCK_LABELS = frozenset({"PUBLIC KEY BLOCK", "PRIVATE KEY BLOCK"})


def read_bounded(path: Path, limit: int, what: str) -> bytes:
    """Read a whole file, refusing one larger than ``limit`` bytes before reading it all."""
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise InputError(f"{what} not found", source=str(path)) from None
    except IsADirectoryError:
        raise InputError(f"{what} is a directory", source=str(path)) from None
    except OSError as err:
        raise InputError(f"cannot read {what}: {err.strerror or err}", source=str(path)) from None
    if len(data) > limit:
        raise LimitExceededError(f"size of the {what}", limit, source=str(path))
    return data


def _is_keybox(data: bytes) -> bool:
    """GnuPG's keybox format (``pubring.kbx``): a first blob of type 1 with magic ``KBXf``."""
    return len(data) >= 12 and data[4] == 1 and data[8:12] == b"KBXf"


@dataclass(slots=True)
class Keyring:
    """Certificates from one or more keyring files, merged by primary fingerprint."""

    limits: Limits = DEFAULT_LIMITS
    warnings: list[str] = field(default_factory=list)
    _packets: dict[bytes, list[Packet]] = field(default_factory=dict)
    _by_key_id: dict[bytes, list[bytes]] = field(default_factory=dict)
    _decoded: dict[bytes, Certificate | None] = field(default_factory=dict)

    @classmethod
    def from_files(cls, paths: Iterable[Path], *, limits: Limits = DEFAULT_LIMITS) -> Keyring:
        """Load every file in ``paths`` (armored or binary, several blocks each)."""
        ring = cls(limits=limits)
        for path in paths:
            ring.add_bytes(read_bounded(path, limits.keyring_bytes, "keyring"), source=str(path))
        return ring

    def __len__(self) -> int:
        return len(self._packets)

    @property
    def fingerprints(self) -> list[bytes]:
        """Primary fingerprints of every certificate loaded."""
        return list(self._packets)

    def add_bytes(self, data: bytes, *, source: str) -> None:
        """Add the certificates in ``data``; junk is skipped with a warning in ``warnings``."""
        if len(data) > self.limits.keyring_bytes:
            raise LimitExceededError("size of the keyring", self.limits.keyring_bytes,
                                     source=source)
        if _is_keybox(data):
            raise KeyringError(
                "this is a GnuPG keybox (pubring.kbx), not an OpenPGP keyring; export it with "
                "'gpg --export > keyring.gpg'",
                source=source,
            )
        if not data.strip():
            self.warnings.append(f"{source}: keyring is empty")
            return
        if looks_armored(data):
            try:
                blocks = decode_blocks(data)
            except MalformedError as err:
                raise KeyringError(err.message, source=source) from None
            for block in blocks:
                where = f"{source}: armored block at line {block.line + 1}"
                if block.error is not None:
                    self.warnings.append(f"{where}: skipped: {block.error}")
                elif block.label not in _KEY_BLOCK_LABELS:
                    self.warnings.append(f"{where}: skipped: a PGP {block.label} is not a key")
                else:
                    self._add_binary(block.data, where)
        else:
            self._add_binary(data, source)

    def _add_binary(self, data: bytes, source: str) -> None:
        current: list[Packet] | None = None
        current_fpr = b""
        junk = 0
        try:
            for pkt in iter_packets(data, max_packets=self.limits.keyring_packets, source=source):
                tag = pkt.tag
                if tag in (Tag.PUBLIC_KEY, Tag.SECRET_KEY):
                    current = None
                    if tag == Tag.SECRET_KEY:
                        self.warnings.append(
                            f"{source}: secret key at offset {pkt.offset} skipped "
                            "(a keyring holds public keys)"
                        )
                        continue
                    current_fpr = self._start(pkt, source)
                    if current_fpr:
                        current = self._packets.setdefault(current_fpr, [])
                        current.append(pkt)
                    continue
                if current is None:
                    junk += 1
                    continue
                if tag == Tag.PUBLIC_SUBKEY:
                    self._index_subkey(pkt, current_fpr)
                elif tag in (Tag.TRUST, Tag.MARKER, Tag.PADDING):
                    continue
                if len(current) >= self.limits.certificate_packets:
                    raise LimitExceededError(
                        "number of packets in one certificate",
                        self.limits.certificate_packets,
                        source=source,
                    )
                current.append(pkt)
        except LimitExceededError:
            raise
        except MalformedError as err:
            self.warnings.append(f"{source}: trailing data skipped: {err.message}")
        if junk:
            self.warnings.append(f"{source}: {junk} packet(s) outside any certificate skipped")

    def _start(self, pkt: Packet, source: str) -> bytes:
        try:
            key = parse_key_packet(pkt.body)
        except (MalformedError, UnsupportedError) as err:
            self.warnings.append(f"{source}: key at offset {pkt.offset} skipped: {err.message}")
            return b""
        fpr = key.fingerprint
        if fpr not in self._packets:
            if len(self._packets) >= self.limits.certificates:
                raise LimitExceededError("number of certificates", self.limits.certificates,
                                         source=source)
            self._index(key.key_id, fpr)
            self._index(fpr, fpr)
        self._decoded.pop(fpr, None)
        return fpr

    def _index_subkey(self, pkt: Packet, primary: bytes) -> None:
        try:
            key = parse_key_packet(pkt.body)
        except (MalformedError, UnsupportedError):
            return
        self._index(key.key_id, primary)
        self._index(key.fingerprint, primary)

    def _index(self, key: bytes, primary: bytes) -> None:
        owners = self._by_key_id.setdefault(key, [])
        if primary not in owners:
            owners.append(primary)

    def lookup(self, key_id: bytes) -> list[Certificate]:
        """Certificates with a primary key or subkey of this key ID or fingerprint."""
        found = []
        for fpr in self._by_key_id.get(key_id, ()):
            cert = self.certificate(fpr)
            if cert is not None:
                found.append(cert)
        return found

    def certificate(self, fingerprint: bytes) -> Certificate | None:
        """The certificate with this primary fingerprint, decoded once and cached."""
        if fingerprint not in self._decoded:
            packets = self._packets.get(fingerprint)
            cert: Certificate | None = None
            if packets is not None:
                try:
                    cert = parse_certificate(
                        packets,
                        max_subpackets=self.limits.subpackets,
                        nesting=self.limits.nesting,
                    )
                except (MalformedError, UnsupportedError) as err:
                    self.warnings.append(
                        f"certificate {fingerprint.hex().upper()} skipped: {err.message}"
                    )
            self._decoded[fingerprint] = cert
        return self._decoded[fingerprint]
