"""What pgpverify accepts: one :class:`Policy` object, and the signer-policy protocol.

A :class:`Policy` is to the verifier what Sequoia's ``StandardPolicy`` is to sqv: the hash
algorithms accepted for documents and inside certificates, the public-key algorithms and
curves, the minimum sizes, the RSA exponent range and modulus cap, and which revocation
reasons are soft. It is passed down to the certificate judge and the verifier, and
``publish`` judges certificates with the same object. The default, :data:`DEFAULT_POLICY`,
is the README's policy table. A stricter policy only ever rejects more; the key-material
decoder's ceilings (:data:`RSA_EXPONENT_CEILING`, :data:`RSA_MODULUS_CEILING`) bound the
work of every policy, so a policy cannot raise them.

Who may sign is a separate, pluggable question (:class:`SignerPolicy`): "may this primary
key sign this project at this time, and who is it?". Ownership records
(:class:`pgpverify.OwnershipRecord`) and lock files implement it.

This module is cheap to import (no cryptography, no PGPy).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Protocol

from pgpverify.openpgp._record import FrozenFields
from pgpverify.openpgp.constants import HashAlgo, PubKeyAlgo

if TYPE_CHECKING:
    from pgpverify.openpgp.keymaterial import PublicKey
    from pgpverify.trust.owners import Maintainer

__all__ = [
    "DEFAULT_POLICY",
    "RSA_EXPONENT_CEILING",
    "RSA_MODULUS_CEILING",
    "Policy",
    "SignerJudgement",
    "SignerPolicy",
]

#: The largest RSA public exponent the decoder accepts whatever the policy: the RustCrypto
#: ``rsa`` crate's bound (rpgp's backend). OpenSSL refuses over 64 bits above 3072-bit
#: moduli, Go over 2**31 - 1; real keys use 65537. A larger one only makes each
#: verification slower (a 3000-bit exponent costs 175 times 65537's).
RSA_EXPONENT_CEILING = (1 << 33) - 1
#: The largest RSA modulus the decoder accepts whatever the policy (OpenSSL's
#: ``OPENSSL_RSA_MAX_MODULUS_BITS``).
RSA_MODULUS_CEILING = 16384

#: Curve names as :data:`pgpverify.openpgp.keymaterial.CURVES` spells them.
#: Algorithms whose strength is the size of a modulus or group (RFC 9580 §9.1).
_MODULUS_ALGOS = frozenset(
    {
        PubKeyAlgo.RSA,
        PubKeyAlgo.RSA_SIGN,
        PubKeyAlgo.RSA_ENCRYPT,
        PubKeyAlgo.DSA,
        PubKeyAlgo.ELGAMAL,
        PubKeyAlgo.ELGAMAL_SIGN,
    }
)
_RSA_ALGOS = frozenset({PubKeyAlgo.RSA, PubKeyAlgo.RSA_SIGN, PubKeyAlgo.RSA_ENCRYPT})
_SIGNING_CURVES = frozenset(
    {
        "NIST P-256",
        "NIST P-384",
        "NIST P-521",
        "brainpoolP256r1",
        "brainpoolP384r1",
        "brainpoolP512r1",
        "secp256k1",
        "Ed25519",
    }
)


@dataclass(init=False, repr=False, eq=False)
class Policy(FrozenFields):
    """The algorithm policy: what a signature and its certificate may use.

    Every field is a set of RFC 9580 IDs (§9) or a number. Checked at construction: the
    sets are frozensets, the numbers positive integers within the decoder's ceilings. A
    frozen dataclass whose methods come from :class:`FrozenFields` (keyword arguments
    only).
    """

    #: hashes a document signature may use (RFC 9580 §9.5); others are ``weak-hash``
    document_hashes: frozenset[int] = frozenset(
        {
            HashAlgo.SHA224,
            HashAlgo.SHA256,
            HashAlgo.SHA384,
            HashAlgo.SHA512,
            HashAlgo.SHA3_256,
            HashAlgo.SHA3_512,
        }
    )
    #: hashes a self-signature, binding, back-signature or revocation may use; one with
    #: another hash is ignored as if absent. SHA-1 is in: real maintainer keys still carry
    #: SHA-1 self-signatures, and gpg accepts them
    certificate_hashes: frozenset[int] = frozenset(
        {
            HashAlgo.SHA1,
            HashAlgo.SHA224,
            HashAlgo.SHA256,
            HashAlgo.SHA384,
            HashAlgo.SHA512,
            HashAlgo.SHA3_256,
            HashAlgo.SHA3_512,
        }
    )
    #: public-key algorithms accepted for the signing key and its primary (``weak-key``)
    key_algorithms: frozenset[int] = frozenset(
        {
            PubKeyAlgo.RSA,
            PubKeyAlgo.RSA_SIGN,
            PubKeyAlgo.DSA,
            PubKeyAlgo.ECDSA,
            PubKeyAlgo.EDDSA_LEGACY,
        }
    )
    #: elliptic curves accepted for ECDSA and EdDSA keys (``weak-key``)
    curves: frozenset[str] = _SIGNING_CURVES
    #: least size, in bits, of an RSA modulus or a DSA/Elgamal group (``weak-key``)
    min_modulus_bits: int = 2048
    #: RSA public exponents accepted: odd, from ``rsa_min_exponent`` to ``rsa_max_exponent``
    rsa_min_exponent: int = 3
    rsa_max_exponent: int = RSA_EXPONENT_CEILING
    #: largest RSA modulus accepted, in bits
    rsa_max_modulus_bits: int = RSA_MODULUS_CEILING
    #: key revocation reasons (RFC 9580 §5.2.3.31) that spare signatures made before the
    #: revocation: 1 (superseded), 3 (retired). Every other code, a missing one included,
    #: revokes every signature ever made
    soft_revocations: frozenset[int] = frozenset({1, 3})

    def __post_init__(self) -> None:
        for each in fields(self):
            value = getattr(self, each.name)
            if isinstance(each.default, frozenset):
                if not isinstance(value, frozenset):
                    msg = f"Policy.{each.name} must be a frozenset, not {value!r}"
                    raise TypeError(msg)
            elif type(value) is not int or value < 1:
                msg = f"Policy.{each.name} must be a positive integer, not {value!r}"
                raise ValueError(msg)
        if self.rsa_max_exponent > RSA_EXPONENT_CEILING:
            msg = f"Policy.rsa_max_exponent is over the decoder's {RSA_EXPONENT_CEILING}"
            raise ValueError(msg)
        if self.rsa_max_modulus_bits > RSA_MODULUS_CEILING:
            msg = f"Policy.rsa_max_modulus_bits is over the decoder's {RSA_MODULUS_CEILING}"
            raise ValueError(msg)
        if not 3 <= self.rsa_min_exponent <= self.rsa_max_exponent:
            msg = "Policy.rsa_min_exponent must be from 3 to rsa_max_exponent"
            raise ValueError(msg)

    def key_problem(self, material: PublicKey) -> str | None:
        """Why this policy refuses the key ``material`` (``weak-key``), or None.

        The algorithm, the curve, the size of a modulus or group, and for RSA the modulus
        cap and the public exponent's range (odd, ``rsa_min_exponent`` to
        ``rsa_max_exponent``).
        """
        if material.algorithm not in self.key_algorithms:
            return f"{material.name} is not an accepted algorithm"
        if material.curve is not None and material.curve not in self.curves:
            return f"the curve {material.curve} is not accepted"
        if material.algorithm in _MODULUS_ALGOS and material.bits < self.min_modulus_bits:
            return f"{material.name} is under {self.min_modulus_bits} bits"
        if material.algorithm in _RSA_ALGOS:
            if material.bits > self.rsa_max_modulus_bits:
                return f"{material.name} is over {self.rsa_max_modulus_bits} bits"
            exponent = material.exponent
            if exponent is not None and not (
                self.rsa_min_exponent <= exponent <= self.rsa_max_exponent and exponent & 1
            ):
                return (
                    f"the RSA public exponent is even or outside {self.rsa_min_exponent} "
                    f"to {self.rsa_max_exponent}"
                )
        return None


DEFAULT_POLICY = Policy()


class SignerJudgement:
    """A signer policy's answer: who signed (allowed), or why the key may not sign.

    Immutable, with equality and a hash (a plain slotted class: no dataclass code
    generation at import).
    """

    __slots__ = ("maintainer", "refusal")
    #: the maintainer the key belongs to, when allowed (None when refused)
    maintainer: Maintainer | None
    #: why the key may not sign (``not-owner``); None when it may
    refusal: str | None

    def __init__(self, maintainer: Maintainer | None = None, refusal: str | None = None) -> None:
        object.__setattr__(self, "maintainer", maintainer)
        object.__setattr__(self, "refusal", refusal)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if type(other) is not SignerJudgement:
            return NotImplemented
        return (self.maintainer, self.refusal) == (other.maintainer, other.refusal)

    def __hash__(self) -> int:
        return hash((self.maintainer, self.refusal))

    def __repr__(self) -> str:
        return f"SignerJudgement(maintainer={self.maintainer!r}, refusal={self.refusal!r})"

    @property
    def allowed(self) -> bool:
        """Whether the key may sign."""
        return self.refusal is None


class SignerPolicy(Protocol):
    """Who may sign a project: an ownership record, a lock file, or a caller's own rule.

    Called only for a signature that is good under the whole algorithm and certificate
    policy, with the project's PEP 503 name as given to the verifier.
    """

    def judge_signer(self, project: str, primary_fingerprint: str, signed: int) -> SignerJudgement:
        """Whether this primary key may sign ``project`` at ``signed``, and who it is.

        ``primary_fingerprint`` is 40 upper-case hex digits; ``signed`` the signature's
        creation time (seconds since the epoch). A refusal is the ``not-owner`` verdict,
        with its message.
        """
        ...
