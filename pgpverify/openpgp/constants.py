"""Algorithm and signature-type IDs (RFC 9580 §9, §5.2.1), with names for messages."""

from __future__ import annotations

import hashlib

__all__ = [
    "HASH_NAMES",
    "PUBKEY_NAMES",
    "SIG_TYPE_NAMES",
    "HashAlgo",
    "PubKeyAlgo",
    "SigType",
    "hash_name",
    "new_hash",
    "pubkey_name",
]


class PubKeyAlgo:
    """Public-key algorithm IDs (RFC 9580 §9.1)."""

    RSA = 1
    RSA_ENCRYPT = 2
    RSA_SIGN = 3
    ELGAMAL = 16
    DSA = 17
    ECDH = 18
    ECDSA = 19
    ELGAMAL_SIGN = 20
    EDDSA_LEGACY = 22
    X25519 = 25
    X448 = 26
    ED25519 = 27
    ED448 = 28


PUBKEY_NAMES = {
    1: "RSA",
    2: "RSA (encrypt-only)",
    3: "RSA (sign-only)",
    16: "Elgamal",
    17: "DSA",
    18: "ECDH",
    19: "ECDSA",
    20: "Elgamal (sign, forbidden)",
    22: "EdDSA (legacy)",
    25: "X25519",
    26: "X448",
    27: "Ed25519",
    28: "Ed448",
}


class HashAlgo:
    """Hash algorithm IDs (RFC 9580 §9.5)."""

    MD5 = 1
    SHA1 = 2
    RIPEMD160 = 3
    SHA256 = 8
    SHA384 = 9
    SHA512 = 10
    SHA224 = 11
    SHA3_256 = 12
    SHA3_512 = 14


HASH_NAMES = {
    1: "MD5",
    2: "SHA1",
    3: "RIPEMD160",
    8: "SHA256",
    9: "SHA384",
    10: "SHA512",
    11: "SHA224",
    12: "SHA3-256",
    14: "SHA3-512",
}

_HASHLIB_NAMES = {
    HashAlgo.SHA1: "sha1",
    HashAlgo.SHA256: "sha256",
    HashAlgo.SHA384: "sha384",
    HashAlgo.SHA512: "sha512",
    HashAlgo.SHA224: "sha224",
    HashAlgo.SHA3_256: "sha3_256",
    HashAlgo.SHA3_512: "sha3_512",
}


class SigType:
    """Signature type IDs (RFC 9580 §5.2.1)."""

    BINARY = 0x00
    TEXT = 0x01
    STANDALONE = 0x02
    GENERIC_CERT = 0x10
    PERSONA_CERT = 0x11
    CASUAL_CERT = 0x12
    POSITIVE_CERT = 0x13
    SUBKEY_BINDING = 0x18
    PRIMARY_KEY_BINDING = 0x19
    DIRECT_KEY = 0x1F
    KEY_REVOCATION = 0x20
    SUBKEY_REVOCATION = 0x28
    CERT_REVOCATION = 0x30
    TIMESTAMP = 0x40
    THIRD_PARTY_CONFIRMATION = 0x50


SIG_TYPE_NAMES = {
    0x00: "binary document",
    0x01: "text document",
    0x02: "standalone",
    0x10: "generic certification",
    0x11: "persona certification",
    0x12: "casual certification",
    0x13: "positive certification",
    0x18: "subkey binding",
    0x19: "primary key binding",
    0x1F: "direct key",
    0x20: "key revocation",
    0x28: "subkey revocation",
    0x30: "certification revocation",
    0x40: "timestamp",
    0x50: "third-party confirmation",
}


def hash_name(algo: int) -> str:
    """Name of a hash algorithm ID, also for unknown ones."""
    return HASH_NAMES.get(algo, f"unknown hash algorithm {algo}")


def pubkey_name(algo: int) -> str:
    """Name of a public-key algorithm ID, also for unknown ones."""
    return PUBKEY_NAMES.get(algo, f"unknown public-key algorithm {algo}")


def new_hash(algo: int) -> hashlib._Hash | None:
    """A fresh hashlib object for ``algo``, or None if this Python cannot compute it.

    MD5 and RIPEMD-160 are never computed: they are rejected by policy before hashing.
    """
    name = _HASHLIB_NAMES.get(algo)
    if name is None:
        return None
    try:
        return hashlib.new(name)
    except ValueError:  # pragma: no cover - hashlib without e.g. sha3 (FIPS builds)
        return None
