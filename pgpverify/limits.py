"""Every size and count cap in one place.

Each cap is checked *before* the work it bounds: a file is read with ``read(cap + 1)``, a
packet count is checked as packets are framed. Exceeding a cap raises
:class:`pgpverify.errors.LimitExceededError`, never hangs.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "Limits"]

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps on everything pgpverify reads.

    The defaults accept every real-world detached signature and keyring seen (the Debian
    developer keyring is 28 MB with 905 certificates) with a wide margin.
    """

    #: bytes of one detached signature file (``.asc`` or binary)
    signature_bytes: int = 1 * MIB
    #: signature packets in one signature file
    signature_packets: int = 64
    #: bytes of one keyring file
    keyring_bytes: int = 256 * MIB
    #: packets in one keyring file
    keyring_packets: int = 4_000_000
    #: certificates in one keyring file
    certificates: int = 200_000
    #: packets in one certificate (third-party certifications included)
    certificate_packets: int = 100_000
    #: subpackets in one hashed or unhashed area
    subpackets: int = 512
    #: depth of embedded signatures (a back-signature inside a binding is depth 1)
    nesting: int = 2
    #: bytes of an ownership record (JSON)
    owners_bytes: int = 1 * MIB


DEFAULT_LIMITS = Limits()
