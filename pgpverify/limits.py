"""Every size and count cap in one place.

Each cap is checked *before* the work it bounds: a file is read with ``read(cap + 1)``, a
packet count is checked as packets are framed. Exceeding a cap raises
:class:`pgpverify.errors.LimitExceededError`, never hangs.

The work caps (``candidates``, ``public_key_operations``, ``component_signatures``,
``decoded_packets``) bound
what one verify run may compute, whatever the keyrings hold: a run that reaches one before
a decision raises :class:`pgpverify.errors.WorkLimitError` inside, and the signature it was
judging is rejected (``malformed``, the message names the cap), never accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from pgpverify.errors import WorkLimitError
from pgpverify.openpgp._record import FrozenFields

__all__ = ["DEFAULT_LIMITS", "Limits", "WorkBudget"]

KIB = 1024
MIB = 1024 * KIB


@dataclass(init=False, repr=False, eq=False)
class Limits(FrozenFields):
    """Caps on everything pgpverify reads.

    The defaults accept every real-world detached signature and keyring seen (the Debian
    developer keyring is 28 MB with 905 certificates) with a wide margin. A frozen
    dataclass whose methods come from :class:`FrozenFields` (keyword arguments only).
    """

    #: bytes of one detached signature file (``.asc`` or binary)
    signature_bytes: int = 1 * MIB
    #: signature packets in one signature file
    signature_packets: int = 64
    #: bytes of one keyring file
    keyring_bytes: int = 256 * MIB
    #: keyring files one keyring is loaded from (``--keyring`` repeated), counted before any
    #: is read
    keyring_files: int = 64
    #: bytes of every keyring file and certificate one keyring is loaded from, in all:
    #: the files' sizes are summed before any is read, and every block added counts
    keyring_total_bytes: int = 512 * MIB
    #: packets in all the keyring files and blocks of one keyring (about 1.7 s of framing:
    #: 64 files of 4,000,000 packets each would take two minutes)
    keyring_packets: int = 4_000_000
    #: certificates in all the keyring files and blocks of one keyring
    certificates: int = 200_000
    #: packets in one certificate, third-party certifications and every copy of it included
    #: (copies in several keyrings, or repeated in one, are merged: their packets add up)
    certificate_packets: int = 100_000
    #: subpackets in one hashed or unhashed area
    subpackets: int = 512
    #: depth of embedded signatures (a back-signature inside a binding is depth 1)
    nesting: int = 2
    #: bytes of an ownership record (JSON)
    owners_bytes: int = 1 * MIB
    #: distinct primary fingerprints one ownership record may list: each is a key file to
    #: fetch, and a record of ``owners_bytes`` could name 20,000 (checked before any fetch)
    record_keys: int = 256
    #: certificates holding a signature's issuer key that one signature may be tried
    #: against (a subkey or key ID shared by more is refused before any is decoded)
    candidates: int = 16
    #: public-key operations (signature verifications whose 16-bit hash prefix matched:
    #: document signatures, self-signatures, bindings, back-signatures, revocations) in one
    #: verify run; the slowest one accepted (RSA 16384 with a 33-bit exponent) takes 5 ms
    public_key_operations: int = 512
    #: forged signatures (16-bit hash prefix right, math wrong) refuted per certificate
    #: component and purpose (the primary's revocations, the self-signatures of the primary
    #: and of each user ID, a subkey's revocations, its bindings, a binding's
    #: back-signatures), tried newest first; a key's own signatures do not count
    component_signatures: int = 32
    #: packets of the candidate certificates one verify run may decode (parsing costs about
    #: 20 us a signature packet): two certificates of ``certificate_packets`` each, or
    #: hundreds of real ones; ``keyring_packets`` alone would allow 4,000,000
    decoded_packets: int = 200_000
    #: bytes of a lock file (``pgpverify lock`` output, read with ``--lock``)
    lock_bytes: int = 16 * MIB
    #: bytes of one simple-index page (PEP 503 HTML or PEP 691 JSON), counted as it streams
    page_bytes: int = 32 * MIB
    #: bytes of one requirements file (``pgpverify lock -r``)
    requirements_bytes: int = 4 * MIB
    #: requirements files read through nested ``-r``/``-c``, the first included
    requirements_files: int = 256
    #: levels of nested ``-r``/``-c`` requirements files below the first
    requirements_depth: int = 8
    #: bytes of one pip configuration file (pip.conf, pip.ini); a larger one is ignored
    pip_config_bytes: int = 1 * MIB

    def __post_init__(self) -> None:
        for each in fields(self):
            value = getattr(self, each.name)
            least = 0 if each.name == "nesting" else 1  # nesting 0: no embedded signature
            if type(value) is not int or value < least:
                what = "a non-negative" if least == 0 else "a positive"
                msg = f"Limits.{each.name} must be {what} integer, not {value!r}"
                raise ValueError(msg)


DEFAULT_LIMITS = Limits()


class WorkBudget:
    """What one verify run may still compute: its public-key operations, counted.

    One budget is made per run from :attr:`Limits.public_key_operations` and handed down
    to every signature check; ``spent`` counts the operations done (tests read it). A
    plain slotted class (made per run; no dataclass code generation at import).
    """

    __slots__ = ("decoded", "limit", "packet_limit", "per_component", "spent")

    def __init__(
        self,
        limit: int,
        per_component: int = DEFAULT_LIMITS.component_signatures,
        packet_limit: int = DEFAULT_LIMITS.decoded_packets,
        spent: int = 0,
        decoded: int = 0,
    ) -> None:
        self.limit = limit
        #: signatures one component may verify for one purpose
        #: (Limits.component_signatures)
        self.per_component = per_component
        #: certificate packets the run may decode (Limits.decoded_packets)
        self.packet_limit = packet_limit
        self.spent = spent
        self.decoded = decoded

    def __repr__(self) -> str:
        return (
            f"WorkBudget(limit={self.limit}, per_component={self.per_component}, "
            f"packet_limit={self.packet_limit}, spent={self.spent}, "
            f"decoded={self.decoded})"
        )

    @classmethod
    def of(cls, limits: Limits) -> WorkBudget:
        """A fresh budget for one run under ``limits``."""
        return cls(
            limit=limits.public_key_operations,
            per_component=limits.component_signatures,
            packet_limit=limits.decoded_packets,
        )

    def decode(self, packets: int) -> None:
        """Account for decoding a certificate of ``packets`` packets, before it is decoded."""
        if self.decoded + packets > self.packet_limit:
            raise WorkLimitError(
                "packets of the certificates decoded in one verify run", self.packet_limit
            )
        self.decoded += packets

    def spend(self) -> None:
        """Account for one public-key operation; raise WorkLimitError when none is left."""
        if self.spent >= self.limit:
            raise WorkLimitError("public-key operations in one verify run", self.limit)
        self.spent += 1
