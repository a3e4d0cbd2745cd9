"""Write every test vector, byte for byte the same on every run.

Usage: ``python vectors/generate.py [OUTDIR]`` (default: the vectors/ directory itself).

Keys are the fixed test-only keys in ``vectors/private/`` (created once if missing); every
creation time is a constant; signatures are deterministic (see ``_writer.py``). The
manifest (``manifest.json``) lists each vector with the verdict the policy expects and what
gpgv and sqv are recorded to say (``tests/test_oracles.py`` checks the latter).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import sys
import zipfile
from calendar import timegm
from dataclasses import dataclass, field
from pathlib import Path
from time import strptime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _writer as w

VECTORS = Path(__file__).resolve().parent
PRIVATE = VECTORS / "private"


def ts(text: str) -> int:
    """Seconds since the epoch for an ISO-8601 UTC time ``YYYY-MM-DDTHH:MM:SSZ``."""
    return timegm(strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


K0 = ts("2020-01-01T00:00:00Z")  # keys
S = ts("2024-03-01T12:00:00Z")  # signatures
AT = "2025-06-01T00:00:00Z"  # default reference time
DAY = 86400
YEAR = 365 * DAY

GOOD_SIGNER = w.FLAG_CERTIFY | w.FLAG_SIGN
HELLO = b"Hello, world!\nThis file is signed by the pgpverify test vectors.\nThird line.\n"
OTHER = b"A different file: no signature in these vectors was made over it.\n"

_MAKERS: dict[str, Any] = {
    "rsa1024": lambda: rsa.generate_private_key(65537, 1024),
    "rsa2048": lambda: rsa.generate_private_key(65537, 2048),
    "rsa3072": lambda: rsa.generate_private_key(65537, 3072),
    "rsa4096": lambda: rsa.generate_private_key(65537, 4096),
    "dsa1024": lambda: dsa.generate_private_key(1024),
    "dsa2048": lambda: dsa.generate_private_key(2048),
    "p256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "p384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "p521": lambda: ec.generate_private_key(ec.SECP521R1()),
    "bp256": lambda: ec.generate_private_key(ec.BrainpoolP256R1()),
    "bp384": lambda: ec.generate_private_key(ec.BrainpoolP384R1()),
    "bp512": lambda: ec.generate_private_key(ec.BrainpoolP512R1()),
    "ed25519": ed25519.Ed25519PrivateKey.generate,
    "secp256k1": lambda: ec.generate_private_key(ec.SECP256K1()),
}

#: private key file -> kind of key (see _MAKERS)
PRIVATE_KEYS = {
    "alice": "rsa3072",
    "bob": "ed25519",
    "bob-signing": "ed25519",
    "carol": "p256",
    "mallory": "rsa2048",
    "dave": "rsa3072",
    "rsa2048": "rsa2048",
    "rsa4096": "rsa4096",
    "dsa2048": "dsa2048",
    "p384": "p384",
    "p521": "p521",
    "bp256": "bp256",
    "bp384": "bp384",
    "bp512": "bp512",
    "ed25519": "ed25519",
    "rsa1024": "rsa1024",
    "dsa1024": "dsa1024",
    "rsa1024-encryption": "rsa1024",
    "rsa3072-subkey": "rsa3072",
    "native-ed25519": "ed25519",
    "variant": "ed25519",
    "variant-subkey": "ed25519",
    "secp256k1": "secp256k1",
}


def load_private(name: str) -> Any:
    return w.load_or_create(PRIVATE / f"{name}.pem", _MAKERS[PRIVATE_KEYS[name]])


# -- certificate pieces -------------------------------------------------------------------------


def sig_packet(signer: w.Key, spec: w.SigSpec, data: bytes) -> bytes:
    return w.packet(w.TAG_SIGNATURE, w.sign(signer, spec, data))


def self_sig(
    primary: w.Key,
    uid: bytes,
    t: int,
    *,
    flags: int | None = GOOD_SIGNER,
    key_expiry: int | None = None,
    hash_algo: int = w.SHA256,
    corrupt: bool = False,
) -> bytes:
    """A positive certification (0x13) of ``uid`` by ``primary``."""
    hashed, unhashed = w.default_subpackets(primary, t)
    if flags is not None:
        hashed.append(w.key_flags(flags))
    if key_expiry is not None:
        hashed.append(w.key_expires(key_expiry))
    hashed.append(w.primary_uid())
    spec = w.SigSpec(w.POSITIVE_CERT, hash_algo, hashed, unhashed, corrupt=corrupt)
    return sig_packet(primary, spec, primary.frame() + w.uid_frame(uid))


def binding(
    primary: w.Key,
    sub: w.Key,
    t: int,
    flags: int,
    *,
    key_expiry: int | None = None,
    backsig: str | None = "good",
    hash_algo: int = w.SHA256,
    corrupt: bool = False,
) -> bytes:
    """A subkey binding (0x18); a signing subkey gets an embedded 0x19 back-signature."""
    hashed, unhashed = w.default_subpackets(primary, t)
    hashed.append(w.key_flags(flags))
    if key_expiry is not None:
        hashed.append(w.key_expires(key_expiry))
    if backsig is not None:
        bh, bu = w.default_subpackets(sub, t)
        back = w.sign(
            sub,
            w.SigSpec(w.PRIMARY_BINDING, hash_algo, bh, bu, corrupt=backsig == "forged"),
            primary.frame() + sub.frame(),
        )
        hashed.append(w.embedded(back))
    spec = w.SigSpec(w.SUBKEY_BINDING, hash_algo, hashed, unhashed, corrupt=corrupt)
    return sig_packet(primary, spec, primary.frame() + sub.frame())


def revocation(
    primary: w.Key,
    t: int,
    code: int | None,
    *,
    sub: w.Key | None = None,
    corrupt: bool = False,
) -> bytes:
    """A key revocation (0x20), or a subkey revocation (0x28) when ``sub`` is given."""
    hashed, unhashed = w.default_subpackets(primary, t)
    if code is not None:
        hashed.append(w.revocation_reason(code, b"test vector revocation"))
    kind = w.KEY_REVOCATION if sub is None else w.SUBKEY_REVOCATION
    data = primary.frame() + (sub.frame() if sub is not None else b"")
    return sig_packet(primary, w.SigSpec(kind, w.SHA256, hashed, unhashed, corrupt=corrupt), data)


def direct_key(primary: w.Key, t: int, hashed_extra: list[w.Sub]) -> bytes:
    hashed, unhashed = w.default_subpackets(primary, t)
    spec = w.SigSpec(w.DIRECT_KEY, w.SHA256, hashed + hashed_extra, unhashed)
    return sig_packet(primary, spec, primary.frame())


@dataclass
class Signer:
    """A certificate under construction, and the key that signs documents for it."""

    primary: w.Key
    uid: bytes
    packets: list[bytes] = field(default_factory=list)
    signing: w.Key | None = None

    @property
    def key(self) -> w.Key:
        return self.signing if self.signing is not None else self.primary

    @property
    def cert(self) -> bytes:
        return b"".join(self.packets)


def doc_sig(
    signer: w.Key,
    data: bytes,
    t: int = S,
    *,
    sig_type: int = w.BINARY,
    hash_algo: int = w.SHA256,
    hashed: list[w.Sub] | None = None,
    unhashed: list[w.Sub] | None = None,
    extra: list[w.Sub] | None = None,
    left16: bytes | None = None,
    corrupt: bool = False,
) -> bytes:
    """A detached document signature packet (0x00 or 0x01, or any type for the bad cases)."""
    dh, du = w.default_subpackets(signer, t)
    spec = w.SigSpec(
        sig_type,
        hash_algo,
        (hashed if hashed is not None else dh) + (extra or []),
        unhashed if unhashed is not None else du,
        left16=left16,
        corrupt=corrupt,
    )
    if sig_type == w.TEXT:
        data = w.canonical_text(data)
    elif sig_type in (w.STANDALONE, w.TIMESTAMP):
        data = b""
    return sig_packet(signer, spec, data)


# -- the generator ------------------------------------------------------------------------------


class Gen:
    """Collects files and manifest entries, then writes them."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.entries: list[dict[str, Any]] = []
        self.privates: dict[str, Any] = {}
        self.created_seen: dict[int, str] = {}

    def private(self, name: str) -> Any:
        if name not in self.privates:
            self.privates[name] = load_private(name)
        return self.privates[name]

    def key(self, name: str, created: int = K0) -> w.Key:
        return w.key_from_private(self.private(name), created)

    def variant(self, label: str, *, sub: bool = False) -> w.Key:
        """The shared Ed25519 test key, made distinct per vector by its creation time."""
        offset = int.from_bytes(hashlib.sha256(label.encode()).digest()[:3], "big") % (60 * DAY)
        created = K0 + offset + (1 if sub else 0)
        owner = self.created_seen.setdefault(created, label)
        assert owner == label, (owner, label)
        return self.key("variant-subkey" if sub else "variant", created)

    def write(self, rel: str, data: bytes) -> str:
        assert rel not in self.files or self.files[rel] == data, rel
        self.files[rel] = data
        return rel

    def keyring(self, rel: str, *certs: bytes, armored: bool = True) -> str:
        data = b"".join(certs)
        return self.write(rel, w.armor("PUBLIC KEY BLOCK", data) if armored else data)

    def vector(
        self,
        name: str,
        *,
        expected: str,
        proves: str,
        keyrings: list[str],
        sig: bytes | None = None,
        signature: str | None = None,
        file: str = "data/hello.txt",
        at: str = AT,
        signer: w.Key | None = None,
        primary: w.Key | None = None,
        project: str | None = None,
        owners: str | None = None,
        oracles: dict[str, str] | None = None,
        note: str | None = None,
        made_by: str = "generate.py",
    ) -> None:
        if signature is None:
            assert sig is not None
            signature = self.write(f"signatures/{name}.asc", sig)
        default = "good" if expected == "good" else "bad"
        top = primary if primary is not None else signer
        entry: dict[str, Any] = {
            "name": name,
            "file": file,
            "signature": signature,
            "keyrings": keyrings,
            "at": at,
            "project": project,
            "owners": owners,
            "expected": expected,
            "signer_fingerprint": signer.fpr if signer is not None else None,
            "primary_fingerprint": top.fpr if top is not None else None,
            "proves": proves,
            "oracles": {"gpgv": default, "sqv": default} | (oracles or {}),
            "made_by": made_by,
        }
        if note is not None:
            entry["oracle_note"] = note
        self.entries.append(entry)


def asc(*packets: bytes, **kwargs: Any) -> bytes:
    return w.armor("SIGNATURE", b"".join(packets), **kwargs)


def standard_signer(
    g: Gen, name: str, uid: str, *, flags: int = GOOD_SIGNER, hash_algo: int = w.SHA256
) -> Signer:
    key = g.key(name)
    u = uid.encode()
    selfsig = self_sig(key, u, K0, flags=flags, hash_algo=hash_algo)
    return Signer(key, u, [key.packet(), w.packet(w.TAG_USER_ID, u), selfsig])


def with_subkey(
    g: Gen, primary_name: str, sub_name: str, uid: str, *, sub_created: int = K0, **kw: Any
) -> Signer:
    s = standard_signer(g, primary_name, uid, flags=w.FLAG_CERTIFY)
    sub = g.key(sub_name, sub_created)
    s.packets += [sub.packet(subkey=True), binding(s.primary, sub, sub_created, w.FLAG_SIGN, **kw)]
    s.signing = sub
    return s


# -- the vectors --------------------------------------------------------------------------------


def build(g: Gen) -> None:
    g.write("data/hello.txt", HELLO)
    crlf = g.write("data/hello-crlf.txt", w.canonical_text(HELLO))
    flipped = bytearray(HELLO)
    flipped[7] ^= 0x01
    flipped_path = g.write("data/hello-bit-flipped.txt", bytes(flipped))
    other = g.write("data/other.txt", OTHER)

    alice = standard_signer(g, "alice", "Alice Owner <alice@example.org>")
    bob = with_subkey(g, "bob", "bob-signing", "Bob Maintainer <bob@example.org>")
    carol = standard_signer(g, "carol", "Carol Outsider <carol@example.org>")
    mallory = standard_signer(g, "mallory", "Mallory <mallory@example.org>")
    ka = g.keyring("keys/alice.pub.asc", alice.cert)
    kb = g.keyring("keys/bob.pub.asc", bob.cert)
    kc = g.keyring("keys/carol.pub.asc", carol.cert)
    g.keyring("keys/mallory.pub.asc", mallory.cert)

    good_alice = doc_sig(alice.key, HELLO)

    # -- 7. algorithms -------------------------------------------------------------------------
    algos = [
        ("rsa2048", "RSA 2048", w.SHA256),
        ("rsa4096", "RSA 4096", w.SHA512),
        ("dsa2048", "DSA 2048 with SHA-256", w.SHA256),
        ("p384", "ECDSA NIST P-384", w.SHA384),
        ("p521", "ECDSA NIST P-521", w.SHA512),
        ("bp256", "ECDSA brainpoolP256r1", w.SHA256),
        ("bp384", "ECDSA brainpoolP384r1", w.SHA384),
        ("bp512", "ECDSA brainpoolP512r1", w.SHA512),
        ("ed25519", "EdDSA (legacy, algorithm 22) Ed25519", w.SHA256),
    ]
    g.vector(
        "good/rsa3072",
        sig=asc(good_alice),
        keyrings=[ka],
        expected="good",
        signer=alice.key,
        proves="An RSA 3072 primary key with the sign flag makes a good SHA-256 signature.",
    )
    g.vector(
        "good/ecdsa-p256",
        sig=asc(doc_sig(carol.key, HELLO)),
        keyrings=[kc],
        expected="good",
        signer=carol.key,
        proves="An ECDSA NIST P-256 key makes a good SHA-256 signature.",
    )
    g.vector(
        "good/eddsa-ed25519-signing-subkey",
        sig=asc(doc_sig(bob.key, HELLO)),
        keyrings=[kb],
        expected="good",
        signer=bob.key,
        primary=bob.primary,
        proves="A signing subkey (EdDSA Ed25519) bound with a back-signature signs for a "
        "certify-only primary.",
    )
    for name, label, halg in algos:
        # GnuPG wants a hash at least as long as the curve's order in self-signatures too
        s = standard_signer(g, name, f"{label} <{name}@example.org>", hash_algo=halg)
        ring = g.keyring(f"keys/algorithms/{name}.pub.asc", s.cert)
        g.vector(
            f"good/{name}",
            sig=asc(doc_sig(s.key, HELLO, hash_algo=halg)),
            keyrings=[ring],
            expected="good",
            signer=s.key,
            proves=f"A {label} key makes a good signature the policy accepts.",
        )
    for halg, hname in ((w.SHA224, "sha224"), (w.SHA384, "sha384"), (w.SHA512, "sha512")):
        g.vector(
            f"good/{hname}-document-hash",
            sig=asc(doc_sig(alice.key, HELLO, hash_algo=halg)),
            keyrings=[ka],
            expected="good",
            signer=alice.key,
            proves=f"{hname.upper()} is an accepted document hash.",
        )

    # -- 7. weak hashes and weak keys -----------------------------------------------------------
    for halg, hname in ((w.MD5, "md5"), (w.SHA1, "sha1"), (w.RIPEMD160, "ripemd160")):
        g.vector(
            f"bad/{hname}-document-hash",
            sig=asc(doc_sig(alice.key, HELLO, hash_algo=halg)),
            keyrings=[ka],
            expected="weak-hash",
            signer=alice.key,
            proves=f"A mathematically valid {hname.upper()} document signature is rejected as "
            "a weak hash.",
        )
    for name, label in (("rsa1024", "RSA 1024"), ("dsa1024", "DSA 1024")):
        s = standard_signer(g, name, f"{label} <{name}@example.org>")
        ring = g.keyring(f"keys/weak/{name}.pub.asc", s.cert)
        g.vector(
            f"bad/weak-key-{name}",
            sig=asc(doc_sig(s.key, HELLO)),
            keyrings=[ring],
            expected="weak-key",
            signer=s.key,
            proves=f"A {label} signing key is too weak even though the math holds.",
        )
    wp = with_subkey(g, "rsa1024", "rsa3072-subkey", "Weak Primary <weak-primary@example.org>")
    ring = g.keyring("keys/weak/rsa1024-primary-rsa3072-subkey.pub.asc", wp.cert)
    g.vector(
        "bad/weak-primary-strong-subkey",
        sig=asc(doc_sig(wp.key, HELLO)),
        keyrings=[ring],
        expected="weak-key",
        signer=wp.key,
        primary=wp.primary,
        proves="A strong RSA 3072 signing subkey does not help when its primary is RSA 1024.",
    )
    we = standard_signer(g, "rsa3072-subkey", "Weak Encryption Subkey <weak-enc@example.org>")
    enc = g.key("rsa1024-encryption")
    we.packets += [
        enc.packet(subkey=True),
        binding(we.primary, enc, K0, w.FLAG_ENCRYPT_COMMS | w.FLAG_ENCRYPT_STORAGE, backsig=None),
    ]
    ring = g.keyring("keys/rsa3072-weak-encryption-subkey.pub.asc", we.cert)
    g.vector(
        "good/weak-encryption-subkey-unused",
        sig=asc(doc_sig(we.key, HELLO)),
        keyrings=[ring],
        expected="good",
        signer=we.key,
        proves="An RSA 1024 encryption subkey that made no signature does not taint a good "
        "signature by its strong primary.",
    )
    native = w.native_ed25519_key(g.private("native-ed25519"), K0)
    nu = b"Native Ed25519 <native-ed25519@example.org>"
    ring = g.keyring(
        "keys/unsupported/ed25519-native-algorithm-27.pub.asc",
        native.packet(),
        w.packet(w.TAG_USER_ID, nu),
        self_sig(native, nu, K0),
    )
    g.vector(
        "bad/unsupported-algorithm-ed25519-native",
        sig=asc(doc_sig(native, HELLO)),
        keyrings=[ring],
        expected="weak-key",
        signer=native,
        proves="A v4 key of algorithm 27 (RFC 9580 native Ed25519), which the policy does not "
        "support, is reported as an unusable (weak) key with its name, not a crash.",
    )
    unknown = w.Key(100, K0, w.mpi(0x1234567890ABCDEF) + w.mpi(65537))
    uu = b"Unknown Algorithm <algorithm-100@example.org>"
    ring = g.keyring(
        "keys/unsupported/algorithm-100.pub.asc",
        unknown.packet(),
        w.packet(w.TAG_USER_ID, uu),
        self_sig(unknown, uu, K0),
    )
    g.vector(
        "bad/unsupported-algorithm-100",
        sig=asc(doc_sig(unknown, HELLO)),
        keyrings=[ring],
        expected="weak-key",
        signer=unknown,
        proves="A key of unknown public-key algorithm 100 is reported as an unusable (weak) key, "
        "not a crash.",
    )

    # -- 4. text signatures ---------------------------------------------------------------------
    text_sig = asc(doc_sig(alice.key, HELLO, sig_type=w.TEXT))
    g.vector(
        "good/text-lf-signed-lf-checked",
        sig=text_sig,
        keyrings=[ka],
        expected="good",
        signer=alice.key,
        proves="A text signature (0x01) made over LF data verifies the same file.",
    )
    g.vector(
        "good/text-lf-signed-crlf-checked",
        signature="signatures/good/text-lf-signed-lf-checked.asc",
        file=crlf,
        keyrings=[ka],
        expected="good",
        signer=alice.key,
        proves="A text signature made over LF data verifies the CRLF copy: line endings are "
        "canonicalised to CRLF before hashing.",
    )
    g.vector(
        "bad/binary-lf-signed-crlf-checked",
        signature="signatures/good/rsa3072.asc",
        file=crlf,
        keyrings=[ka],
        expected="bad-signature",
        signer=alice.key,
        proves="A binary signature (0x00) made over LF data does not verify the CRLF copy.",
    )

    # -- 1. armor ------------------------------------------------------------------------------
    raw = good_alice
    g.vector(
        "good/binary-signature-file",
        sig=raw,
        keyrings=[ka],
        expected="good",
        signer=alice.key,
        proves="A binary (unarmored) signature file is accepted.",
    )
    g.vector(
        "good/armor-crlf",
        sig=asc(raw, eol="\r\n"),
        keyrings=[ka],
        expected="good",
        signer=alice.key,
        proves="Armor with CRLF line endings is accepted.",
    )
    g.vector(
        "good/armor-without-crc",
        sig=asc(raw, crc=False),
        keyrings=[ka],
        expected="good",
        signer=alice.key,
        proves="The armor CRC line is optional (RFC 9580 §6.1).",
    )
    g.vector(
        "good/armor-headers",
        sig=asc(raw, headers=(("Version", "GnuPG v2"), ("Comment", "test vector: armor headers"))),
        keyrings=[ka],
        expected="good",
        signer=alice.key,
        proves="Armor headers (Version, Comment) are allowed and ignored.",
    )
    g.vector(
        "good/armor-surrounding-text",
        sig=b"This signature was mailed to you.\n\n" + asc(raw) + b"\n-- \nsignature footer\n",
        keyrings=[ka],
        expected="good",
        signer=alice.key,
        proves="Text before and after the armored block is ignored.",
    )
    g.vector(
        "good/armor-short-lines",
        sig=asc(raw, width=40),
        keyrings=[ka],
        expected="good",
        signer=alice.key,
        proves="Base64 lines shorter than 64 characters are accepted.",
    )
    g.vector(
        "good/old-format-packet-header",
        sig=asc(
            w.packet(
                w.TAG_SIGNATURE,
                w.sign(
                    alice.key,
                    w.SigSpec(w.BINARY, w.SHA256, *w.default_subpackets(alice.key, S)),
                    HELLO,
                ),
                old_format=True,
            )
        ),
        keyrings=[ka],
        expected="good",
        signer=alice.key,
        proves="A signature packet with an old-format header (as GnuPG writes) is accepted.",
    )
    carol_sig = doc_sig(carol.key, HELLO)
    g.vector(
        "good/two-armored-blocks",
        sig=asc(carol_sig) + asc(raw),
        keyrings=[ka],
        expected="good",
        signer=alice.key,
        proves="Several armored SIGNATURE blocks in one file are read; the good one (by a known "
        "key) wins over one by a key not in the keyring.",
    )
    g.vector(
        "good/two-signatures-one-block",
        sig=asc(raw, doc_sig(carol.key, HELLO)),
        keyrings=[ka, kc],
        expected="good",
        signer=alice.key,
        proves="Several signature packets in one block are allowed; both are good.",
    )
    body = asc(raw)
    lines = body.split(b"\n")
    bad_b64 = b"\n".join([*lines[:3], lines[3][:10] + b"*!" + lines[3][12:], *lines[4:]])
    malformed = [
        ("armor-bad-crc", asc(raw, bad_crc=True), "A wrong armor CRC makes the file malformed."),
        (
            "armor-invalid-base64",
            bad_b64,
            ("Invalid base64 characters in the armor body are malformed."),
        ),
        (
            "armor-truncated",
            b"\n".join(lines[:5]) + b"\n",
            ("An armored block cut before its END line is malformed."),
        ),
        ("binary-truncated", raw[: len(raw) // 2], "A binary signature cut in half is malformed."),
        ("empty", b"", "An empty signature file is malformed."),
        (
            "random-bytes",
            hashlib.sha512(b"random").digest() * 4,
            ("Random bytes are malformed, not a crash."),
        ),
        (
            "public-key-block",
            w.armor("PUBLIC KEY BLOCK", alice.cert),
            ("An armored public key given as the signature is malformed."),
        ),
        (
            "public-key-packet-in-signature-block",
            asc(raw, alice.primary.packet()),
            "A public-key packet inside a SIGNATURE block is malformed.",
        ),
        (
            "literal-data-packet",
            asc(w.packet(w.TAG_LITERAL, b"b\x09hello.txt" + b"\0" * 4 + HELLO)),
            "A literal data packet in the signature file is malformed.",
        ),
        (
            "inline-signed-message",
            w.armor(
                "MESSAGE",
                b"".join(
                    [
                        w.packet(w.TAG_ONE_PASS, bytes([3, 0, 1, 8]) + alice.key.key_id + b"\x01"),
                        w.packet(w.TAG_LITERAL, b"b\x09hello.txt" + b"\0" * 4 + HELLO),
                        raw,
                    ]
                ),
            ),
            (
                "An inline-signed message (one-pass signature + literal data + signature) is not a "
                "detached signature: malformed."
            ),
        ),
        (
            "v3-signature",
            asc(w.packet(w.TAG_SIGNATURE, w.v3_signature(alice.key, w.BINARY, S, w.SHA256, HELLO))),
            "A v3 signature, mathematically valid, is malformed: only v4 is accepted.",
        ),
        (
            "v5-signature",
            asc(w.packet(w.TAG_SIGNATURE, b"\x05" + raw[3:])),
            "A signature packet with version 5 is malformed.",
        ),
        (
            "v6-signature",
            asc(w.packet(w.TAG_SIGNATURE, b"\x06" + raw[3:])),
            "A signature packet with version 6 is malformed.",
        ),
        (
            "standalone-signature-0x02",
            asc(doc_sig(alice.key, HELLO, sig_type=w.STANDALONE)),
            "A valid standalone signature (0x02), which hashes no document, is malformed.",
        ),
        (
            "timestamp-signature-0x40",
            asc(doc_sig(alice.key, HELLO, sig_type=w.TIMESTAMP)),
            "A valid timestamp signature (0x40), which hashes no document, is malformed.",
        ),
        (
            "certification-signature-0x13",
            asc(self_sig(alice.primary, alice.uid, S)),
            "A user ID certification given as a detached signature is malformed.",
        ),
        (
            "no-creation-time",
            asc(doc_sig(alice.key, HELLO, hashed=[w.issuer_fpr(alice.key)])),
            "A signature without a hashed creation time is malformed.",
        ),
        (
            "creation-time-unhashed",
            asc(
                doc_sig(
                    alice.key,
                    HELLO,
                    hashed=[w.issuer_fpr(alice.key)],
                    unhashed=[w.created(S), w.issuer(alice.key)],
                )
            ),
            "A creation time only in the unhashed area does not count: malformed.",
        ),
        (
            "critical-unknown-subpacket",
            asc(doc_sig(alice.key, HELLO, extra=[w.Sub(105, b"experimental", critical=True)])),
            "An unknown subpacket marked critical makes the signature malformed.",
        ),
        (
            "critical-notation",
            asc(
                doc_sig(
                    alice.key,
                    HELLO,
                    extra=[w.notation(b"test@example.org", b"must-understand", critical=True)],
                )
            ),
            "A notation marked critical makes the signature malformed.",
        ),
    ]
    for name, sig, proves in malformed:
        g.vector(f"bad/{name}", sig=sig, keyrings=[ka], expected="malformed", proves=proves)

    # -- 3. subpackets and issuers ---------------------------------------------------------------
    g.vector(
        "good/noncritical-unknown-subpacket",
        sig=asc(doc_sig(alice.key, HELLO, extra=[w.Sub(105, b"experimental")])),
        keyrings=[ka],
        expected="good",
        signer=alice.key,
        proves="An unknown subpacket that is not critical is ignored.",
    )
    g.vector(
        "good/noncritical-notation",
        sig=asc(doc_sig(alice.key, HELLO, extra=[w.notation(b"test@example.org", b"hello")])),
        keyrings=[ka],
        expected="good",
        signer=alice.key,
        proves="A notation that is not critical is ignored.",
    )
    g.vector(
        "good/issuer-fingerprint-only",
        sig=asc(doc_sig(alice.key, HELLO, unhashed=[])),
        keyrings=[ka],
        expected="good",
        signer=alice.key,
        proves="A signature naming its issuer only by a hashed issuer fingerprint verifies.",
    )
    g.vector(
        "good/issuer-key-id-hashed",
        sig=asc(doc_sig(alice.key, HELLO, hashed=[w.created(S), w.issuer(alice.key)], unhashed=[])),
        keyrings=[ka],
        expected="good",
        signer=alice.key,
        proves="A signature naming its issuer only by a hashed issuer key ID verifies.",
    )
    g.vector(
        "good/issuer-key-id-unhashed",
        sig=asc(doc_sig(alice.key, HELLO, hashed=[w.created(S)], unhashed=[w.issuer(alice.key)])),
        keyrings=[ka],
        expected="good",
        signer=alice.key,
        proves="An issuer key ID in the unhashed area is enough to find the key.",
    )

    g.vector(
        "good/hashed-issuer-fingerprint-beats-unhashed-key-id",
        sig=asc(doc_sig(alice.key, HELLO, unhashed=[w.issuer(carol.key)])),
        keyrings=[kc, ka],
        expected="good",
        signer=alice.key,
        proves="When the hashed issuer fingerprint and an unhashed issuer key ID disagree, the "
        "hashed fingerprint names the signer (the unhashed area is not signed).",
    )

    # -- 5. keyrings ----------------------------------------------------------------------------
    sig_alice = "signatures/good/rsa3072.asc"
    kbin = g.keyring("keys/alice.pub.gpg", alice.cert, armored=False)
    g.vector(
        "good/keyring-binary",
        signature=sig_alice,
        keyrings=[kbin],
        expected="good",
        signer=alice.key,
        proves="A binary keyring is accepted.",
    )
    multi = g.write(
        "keys/carol-and-alice-two-blocks.pub.asc",
        w.armor("PUBLIC KEY BLOCK", carol.cert) + w.armor("PUBLIC KEY BLOCK", alice.cert),
    )
    g.vector(
        "good/keyring-two-armored-blocks",
        signature=sig_alice,
        keyrings=[multi],
        expected="good",
        signer=alice.key,
        proves="A keyring file with several armored blocks: the second block's key is found.",
    )
    g.vector(
        "good/keyring-several-files",
        signature=sig_alice,
        keyrings=[kc, kb, ka],
        expected="good",
        signer=alice.key,
        proves="The key is found in the last of several keyring files.",
    )
    junk = g.write(
        "keys/junk-block-then-alice.pub.asc",
        w.armor("PUBLIC KEY BLOCK", b"\x99\x00\x05junk" + b"\xff" * 20)
        + w.armor("PUBLIC KEY BLOCK", alice.cert),
    )
    g.vector(
        "good/keyring-junk-block-skipped",
        signature=sig_alice,
        keyrings=[junk],
        expected="good",
        signer=alice.key,
        proves="A junk armored block in a keyring is skipped; the good certificate still loads.",
    )
    trailing = g.write("keys/alice-trailing-junk.pub.gpg", alice.cert + b"\x00\x01garbage")
    g.vector(
        "good/keyring-trailing-junk-skipped",
        signature=sig_alice,
        keyrings=[trailing],
        expected="good",
        signer=alice.key,
        proves="Trailing junk after a binary certificate is skipped.",
    )
    bob_nosub = b"".join(bob.packets[:3])
    dup = g.write(
        "keys/bob-duplicate-merged.pub.asc",
        w.armor("PUBLIC KEY BLOCK", bob_nosub) + w.armor("PUBLIC KEY BLOCK", bob.cert),
    )
    g.vector(
        "good/keyring-duplicate-certificate-merged",
        signature="signatures/good/eddsa-ed25519-signing-subkey.asc",
        keyrings=[dup],
        expected="good",
        signer=bob.key,
        primary=bob.primary,
        proves="Two copies of one certificate (the first without the signing subkey) are merged.",
    )
    dup2 = g.write(
        "keys/bob-duplicate-merged-reversed.pub.asc",
        w.armor("PUBLIC KEY BLOCK", bob.cert) + w.armor("PUBLIC KEY BLOCK", bob_nosub),
    )
    g.vector(
        "good/keyring-duplicate-certificate-merged-reversed",
        signature="signatures/good/eddsa-ed25519-signing-subkey.asc",
        keyrings=[dup2],
        expected="good",
        signer=bob.key,
        primary=bob.primary,
        proves="Merging duplicates does not depend on order: the copy without the subkey last.",
    )
    empty = g.write("keys/empty.pub.asc", b"")
    g.vector(
        "bad/unknown-key-empty-keyring",
        signature=sig_alice,
        keyrings=[empty],
        expected="unknown-key",
        proves="An empty keyring knows no key: unknown-key.",
    )
    g.vector(
        "bad/unknown-key-no-matching-key",
        signature=sig_alice,
        keyrings=[kc, kb],
        expected="unknown-key",
        proves="A keyring without the issuer's key: unknown-key.",
    )

    # -- 6. bad signatures ------------------------------------------------------------------------
    g.vector(
        "bad/wrong-file",
        signature=sig_alice,
        file=other,
        keyrings=[ka],
        expected="bad-signature",
        signer=alice.key,
        proves="A good signature checked against another file is a bad signature.",
    )
    g.vector(
        "bad/file-bit-flipped",
        signature=sig_alice,
        file=flipped_path,
        keyrings=[ka],
        expected="bad-signature",
        signer=alice.key,
        proves="One flipped bit in the file makes the signature bad.",
    )
    g.vector(
        "bad/corrupted-signature-mpi",
        sig=asc(doc_sig(alice.key, HELLO, corrupt=True)),
        keyrings=[ka],
        expected="bad-signature",
        signer=alice.key,
        proves="A flipped bit in the signature MPI makes the signature bad.",
    )
    g.vector(
        "bad/corrupted-eddsa-signature",
        sig=asc(doc_sig(bob.key, HELLO, corrupt=True)),
        keyrings=[kb],
        expected="bad-signature",
        signer=bob.key,
        primary=bob.primary,
        proves="A flipped bit in an EdDSA signature's s value makes the signature bad.",
    )
    pkt = bytearray(
        w.sign(alice.key, w.SigSpec(w.BINARY, w.SHA256, *w.default_subpackets(alice.key, S)), HELLO)
    )
    # hashed area starts at offset 6; subpacket 2's value at 6 + 2; change the last time octet
    pkt[6 + 2 + 3] ^= 0x01
    g.vector(
        "bad/tampered-hashed-subpacket",
        sig=asc(w.packet(w.TAG_SIGNATURE, bytes(pkt))),
        keyrings=[ka],
        expected="bad-signature",
        signer=alice.key,
        proves="Changing the hashed creation time after signing makes the signature bad.",
    )
    g.vector(
        "bad/wrong-hash-prefix",
        sig=asc(doc_sig(alice.key, HELLO, left16=b"\x00\x00")),
        keyrings=[ka],
        expected="bad-signature",
        signer=alice.key,
        proves="A wrong 16-bit hash prefix is a bad signature even though the RSA math holds.",
    )

    # -- 8. certificate validity: signing capability ----------------------------------------------
    def variant_vector(
        name: str,
        s: Signer,
        expected: str,
        proves: str,
        *,
        t: int = S,
        at: str = AT,
        oracles: dict[str, str] | None = None,
        note: str | None = None,
        signature: str | None = None,
    ) -> tuple[str, str]:
        ring = g.keyring(f"keys/{name.split('/', 1)[1]}.pub.asc", s.cert)
        made = None if signature is not None else asc(doc_sig(s.key, HELLO, t))
        g.vector(
            name,
            sig=made,
            signature=signature,
            keyrings=[ring],
            expected=expected,
            proves=proves,
            at=at,
            signer=s.key,
            primary=s.primary,
            oracles=oracles,
            note=note,
        )
        return ring, signature or f"signatures/{name}.asc"

    def variant(
        label: str, *, flags: int | None = GOOD_SIGNER, selfsig: bool = True, **kw: Any
    ) -> Signer:
        key = g.variant(label)
        uid = f"Variant {label} <variant@example.org>".encode()
        packets = [key.packet(), w.packet(w.TAG_USER_ID, uid)]
        if selfsig:
            packets.append(self_sig(key, uid, key.created, flags=flags, **kw))
        return Signer(key, uid, packets)

    def subkey_variant(
        label: str, flags: int = w.FLAG_SIGN, *, sub_created: int | None = None, **kw: Any
    ) -> Signer:
        s = variant(label, flags=w.FLAG_CERTIFY)
        sub = g.variant(label, sub=True)
        if sub_created is not None:
            sub = g.key("variant-subkey", sub_created)
        s.packets += [sub.packet(subkey=True), binding(s.primary, sub, sub.created, flags, **kw)]
        s.signing = sub
        return s

    variant_vector(
        "bad/subkey-without-back-signature",
        subkey_variant("no-backsig", backsig=None),
        "not-signing-key",
        "A signing subkey whose binding has no embedded "
        "primary-key binding (0x19) back-signature cannot sign.",
    )
    variant_vector(
        "bad/subkey-forged-back-signature",
        subkey_variant("forged-backsig", backsig="forged"),
        "not-signing-key",
        "A back-signature whose math fails does not bind the signing subkey.",
    )
    variant_vector(
        "bad/subkey-forged-binding",
        subkey_variant("forged-binding", corrupt=True),
        "not-signing-key",
        "A subkey binding whose math fails is ignored: the subkey "
        "is not part of the certificate's signing keys.",
    )
    variant_vector(
        "bad/subkey-encrypt-only",
        subkey_variant("encrypt-only", w.FLAG_ENCRYPT_COMMS | w.FLAG_ENCRYPT_STORAGE, backsig=None),
        "not-signing-key",
        "A subkey bound with encryption-only key flags cannot sign.",
    )
    variant_vector(
        "bad/subkey-authentication-only",
        subkey_variant("auth-only", w.FLAG_AUTH, backsig=None),
        "not-signing-key",
        "A subkey bound for authentication only cannot sign.",
    )
    variant_vector(
        "bad/subkey-encrypt-only-with-back-signature",
        subkey_variant("encrypt-only-backsig", w.FLAG_ENCRYPT_COMMS),
        "not-signing-key",
        "Even with a valid back-signature, a subkey whose binding lacks the sign flag cannot sign.",
    )
    s = variant("certify-only", flags=w.FLAG_CERTIFY)
    variant_vector(
        "bad/primary-certify-only",
        s,
        "not-signing-key",
        "A primary whose self-signature has key flags 0x01 (certify only) cannot sign documents.",
    )
    variant_vector(
        "good/primary-without-key-flags",
        variant("no-flags", flags=None),
        "good",
        "A primary whose self-signature has no key-flags subpacket may sign.",
    )
    variant_vector(
        "bad/no-self-signature",
        variant("no-selfsig", selfsig=False),
        "not-signing-key",
        "A primary key with a user ID but no self-signature has no "
        "valid self-signature and cannot sign.",
    )
    variant_vector(
        "bad/forged-self-signature",
        variant("forged-selfsig", corrupt=True),
        "not-signing-key",
        "A self-signature whose math fails is ignored, leaving the "
        "key without a valid self-signature.",
    )

    rsa_md5 = g.key("rsa2048", K0 + 7 * DAY)
    md5uid = b"MD5 Self-Signature <md5@example.org>"
    md5 = Signer(
        rsa_md5,
        md5uid,
        [
            rsa_md5.packet(),
            w.packet(w.TAG_USER_ID, md5uid),
            self_sig(rsa_md5, md5uid, rsa_md5.created, hash_algo=w.MD5),
        ],
    )
    variant_vector(
        "bad/md5-self-signature-only",
        md5,
        "not-signing-key",
        "An MD5 self-signature is ignored as invalid, so a key whose only "
        "self-signature uses MD5 cannot sign.",
    )
    sha1 = subkey_variant("sha1-certificate", hash_algo=w.SHA1)
    sha1.packets[2] = self_sig(
        sha1.primary, sha1.uid, sha1.primary.created, flags=w.FLAG_CERTIFY, hash_algo=w.SHA1
    )
    variant_vector(
        "good/sha1-self-signature-binding-back-signature",
        sha1,
        "good",
        "SHA-1 is accepted inside self-signatures, subkey bindings and back-signatures.",
    )
    dk = variant("direct-key-only", selfsig=False)
    dk.packets.insert(1, direct_key(dk.primary, dk.primary.created, [w.key_flags(GOOD_SIGNER)]))
    variant_vector(
        "good/direct-key-signature-with-user-id",
        dk,
        "good",
        "A direct-key self-signature (0x1F) with the sign flag is a valid "
        "self-signature for the primary.",
    )

    # -- 8. creation times ---------------------------------------------------------------------
    s = variant("sig-before-key")
    variant_vector(
        "bad/signature-before-key-creation",
        s,
        "key-not-yet-valid",
        "A signature claiming a creation time before its key was created is rejected.",
        t=ts("2019-06-01T00:00:00Z"),
    )
    s = subkey_variant("sig-before-subkey", sub_created=ts("2022-01-01T00:00:00Z"))
    variant_vector(
        "bad/signature-before-subkey-creation",
        s,
        "key-not-yet-valid",
        "A signature by a subkey claiming a time before the subkey was created is rejected.",
        t=ts("2021-06-01T00:00:00Z"),
    )

    g.vector(
        "bad/signature-created-after-reference-time",
        sig=asc(doc_sig(alice.key, HELLO, ts("2025-08-01T00:00:00Z"))),
        keyrings=[ka],
        expected="key-not-yet-valid",
        signer=alice.key,
        proves="A signature claiming a creation time after the reference time is not accepted "
        "at that time.",
    )

    # -- 8. expiry ------------------------------------------------------------------------------
    def until(label: str, when: str) -> int:
        return ts(when) - g.variant(label).created

    s = variant("expired-at-t", key_expiry=until("expired-at-t", "2025-01-01T00:00:00Z"))
    ring, sig_path = variant_vector(
        "bad/primary-expired-at-reference-time",
        s,
        "key-expired",
        "A primary that expired after the signature was made but before "
        "the reference time is rejected as expired.",
    )
    g.vector(
        "good/primary-expiring-after-reference-time",
        signature=sig_path,
        keyrings=[ring],
        expected="good",
        at="2024-12-01T00:00:00Z",
        signer=s.key,
        proves="The same key and signature, judged before the key's expiry, are good.",
    )
    s = variant(
        "expired-at-signing", key_expiry=until("expired-at-signing", "2023-01-01T00:00:00Z")
    )
    variant_vector(
        "bad/primary-expired-before-signing",
        s,
        "key-expired",
        "A signature made after its key expired is rejected.",
    )
    s = subkey_variant(
        "subkey-expired", key_expiry=until("subkey-expired", "2025-01-01T00:00:00Z") - 1
    )
    variant_vector(
        "bad/subkey-expired",
        s,
        "key-expired",
        "A signing subkey whose binding expires it before the reference time is "
        "rejected; the primary is unexpired.",
    )
    label = "expired-primary-subkey"
    s = variant(label, flags=w.FLAG_CERTIFY, key_expiry=until(label, "2025-01-01T00:00:00Z"))
    sub = g.variant(label, sub=True)
    s.packets += [sub.packet(subkey=True), binding(s.primary, sub, sub.created, w.FLAG_SIGN)]
    s.signing = sub
    variant_vector(
        "bad/expired-primary-invalidates-subkey",
        s,
        "key-expired",
        "A subkey with no expiry of its own is invalid once its primary has expired.",
    )
    label = "expiry-removed"
    s = variant(label, key_expiry=until(label, "2022-01-01T00:00:00Z"))
    s.packets.append(self_sig(s.primary, s.uid, ts("2021-06-01T00:00:00Z")))
    variant_vector(
        "good/expiry-removed-by-newer-self-signature",
        s,
        "good",
        "A newer self-signature without a key expiration time lifts the expiry set "
        "by an older one (the newest valid self-signature counts).",
    )
    label = "expiry-added"
    s = variant(label)
    s.packets.append(
        self_sig(
            s.primary,
            s.uid,
            ts("2023-01-01T00:00:00Z"),
            key_expiry=until(label, "2025-01-01T00:00:00Z"),
        )
    )
    variant_vector(
        "bad/expiry-added-by-newer-self-signature",
        s,
        "key-expired",
        "A newer self-signature that sets an expiration before the reference time "
        "overrides an older one without.",
    )
    label = "self-sig-after-signature"
    s = variant(label, selfsig=False)
    s.packets.append(self_sig(s.primary, s.uid, ts("2024-06-01T00:00:00Z")))
    variant_vector(
        "good/signature-older-than-only-self-signature",
        s,
        "good",
        "A key whose older self-signatures were cleaned away still validates a "
        "signature made before its surviving self-signature (judged by key creation).",
    )
    label = "self-sig-after-t"
    s = variant(label)
    s.packets.append(
        self_sig(
            s.primary,
            s.uid,
            ts("2025-08-01T00:00:00Z"),
            key_expiry=until(label, "2025-02-01T00:00:00Z"),
        )
    )
    ring, sig_path = variant_vector(
        "good/self-signature-after-reference-time-ignored",
        s,
        "good",
        "A self-signature created after the reference time (setting an expiry) is ignored: "
        "the certificate is judged as known at the reference time.",
    )
    g.vector(
        "bad/self-signature-after-reference-time-counts-later",
        signature=sig_path,
        keyrings=[ring],
        expected="key-expired",
        at="2025-09-01T00:00:00Z",
        signer=s.key,
        proves="The same certificate judged after that self-signature was made: its expiry "
        "applies and the key is expired.",
    )

    # -- 8. revocations ------------------------------------------------------------------------
    rev_at = ts("2024-06-01T00:00:00Z")
    hard = [(0, "no-reason"), (2, "compromised"), (None, "missing-reason"), (100, "unknown-reason")]
    hard_signers: dict[str, Signer] = {}
    for code, label in hard:
        s = hard_signers[label] = variant(f"revoked-{label}")
        s.packets.insert(1, revocation(s.primary, rev_at, code))
        what = "no reason subpacket" if code is None else f"reason {code}"
        variant_vector(
            f"bad/revoked-{label}",
            s,
            "key-revoked",
            f"A key revocation with {what} is hard: it revokes even a signature "
            "made before the revocation.",
        )
    for code, label in ((1, "superseded"), (3, "retired")):
        s = variant(f"revoked-{label}")
        s.packets.insert(1, revocation(s.primary, rev_at, code))
        ring, _before = variant_vector(
            f"good/revoked-{label}-signature-before",
            s,
            "good",
            f"A soft revocation (reason {code}, {label}) leaves a signature made before it good.",
        )
        after = asc(doc_sig(s.key, HELLO, ts("2024-09-01T00:00:00Z")))
        g.vector(
            f"bad/revoked-{label}-signature-after",
            sig=after,
            keyrings=[ring],
            expected="key-revoked",
            signer=s.key,
            proves=f"A soft revocation (reason {code}) rejects a signature made after it.",
        )
    s = variant("revoked-forged")
    s.packets.insert(1, revocation(s.primary, rev_at, 2, corrupt=True))
    variant_vector(
        "good/forged-revocation-ignored", s, "good", "A key revocation whose math fails is ignored."
    )
    s = variant("revoked-after-t")
    s.packets.insert(1, revocation(s.primary, ts("2025-09-01T00:00:00Z"), 2))
    ring, sig_path = variant_vector(
        "good/revocation-after-reference-time",
        s,
        "good",
        "A hard revocation created after the reference time is not yet known at that time.",
    )
    g.vector(
        "bad/revocation-after-reference-time-judged-later",
        signature=sig_path,
        keyrings=[ring],
        expected="key-revoked",
        at="2025-12-01T00:00:00Z",
        signer=s.key,
        proves="The same certificate judged after its revocation was made: key-revoked.",
    )
    s = subkey_variant("subkey-revoked-compromised")
    s.packets.append(revocation(s.primary, rev_at, 2, sub=s.signing))
    variant_vector(
        "bad/subkey-revoked-compromised",
        s,
        "key-revoked",
        "A subkey revocation (0x28) with reason compromised revokes every signature by the subkey.",
    )
    s = subkey_variant("subkey-revoked-retired")
    s.packets.append(revocation(s.primary, rev_at, 3, sub=s.signing))
    variant_vector(
        "good/subkey-revoked-retired-signature-before",
        s,
        "good",
        "A soft subkey revocation (retired) leaves a signature made before it good.",
    )
    s = subkey_variant("primary-revoked-subkey-signs")
    s.packets.insert(1, revocation(s.primary, rev_at, 2))
    variant_vector(
        "bad/revoked-primary-invalidates-subkey",
        s,
        "key-revoked",
        "A hard revocation of the primary revokes signatures by its subkeys too.",
    )

    # -- 8. signature expiration -----------------------------------------------------------------
    sexp = asc(doc_sig(alice.key, HELLO, extra=[w.sig_expires(YEAR)]))
    g.vector(
        "bad/signature-expired",
        sig=sexp,
        keyrings=[ka],
        expected="signature-expired",
        signer=alice.key,
        proves="A signature whose expiration time (subpacket 3) is before "
        "the reference time is rejected.",
    )
    g.vector(
        "good/signature-expiring-after-reference-time",
        signature="signatures/bad/signature-expired.asc",
        keyrings=[ka],
        expected="good",
        at="2024-06-01T00:00:00Z",
        signer=alice.key,
        proves="The same signature judged before it expires is good.",
    )

    # -- 9. several signatures -------------------------------------------------------------------
    g.vector(
        "good/unknown-key-then-good",
        sig=asc(carol_sig, raw),
        keyrings=[ka],
        expected="good",
        signer=alice.key,
        proves="One good signature is enough even if another names an unknown key.",
    )
    s = hard_signers["compromised"]
    ring_rev = "keys/revoked-compromised.pub.asc"
    g.vector(
        "bad/unknown-key-then-revoked",
        sig=asc(carol_sig, doc_sig(s.key, HELLO)),
        keyrings=[ring_rev],
        expected="key-revoked",
        signer=s.key,
        proves="With no good signature, the one that got furthest is reported: a revoked "
        "known key beats an unknown key.",
    )

    # -- 10. ownership ---------------------------------------------------------------------------
    def owners(rel: str, record: dict[str, Any]) -> str:
        return g.write(rel, (json.dumps(record, indent=2) + "\n").encode())

    def record(project: str, alice_fpr: str, bob_fpr: str) -> dict[str, Any]:
        return {
            "project": project,
            "maintainers": [
                {"user": "alice", "role": "Owner", "keys": [alice_fpr]},
                {"user": "bob", "role": "Maintainer", "keys": [bob_fpr]},
            ],
        }

    own = owners("owners/demo-pkg.json", record("demo-pkg", alice.primary.fpr, bob.primary.fpr))
    bob_sig = "signatures/good/eddsa-ed25519-signing-subkey.asc"
    both = [ka, kb, kc]

    def owned(name: str, **kw: Any) -> None:
        g.vector(name, project="demo-pkg", keyrings=both, **kw)

    owned(
        "good/owner-signed",
        signature=sig_alice,
        owners=own,
        expected="good",
        signer=alice.key,
        proves="A good signature by a key listed for an Owner is accepted.",
    )
    owned(
        "good/maintainer-subkey-signed",
        signature=bob_sig,
        owners=own,
        expected="good",
        signer=bob.key,
        primary=bob.primary,
        proves="A Maintainer's signing subkey counts for the listed primary fingerprint.",
    )
    owned(
        "bad/not-owner",
        signature="signatures/good/ecdsa-p256.asc",
        owners=own,
        expected="not-owner",
        signer=carol.key,
        proves="A good signature by a key not listed in the ownership record is rejected.",
    )
    other_rec = owners(
        "owners/other-project.json", record("other-pkg", alice.primary.fpr, bob.primary.fpr)
    )
    owned(
        "bad/owners-record-for-other-project",
        signature=sig_alice,
        owners=other_rec,
        expected="not-owner",
        signer=alice.key,
        proves="An ownership record for another project does not make its keys owners.",
    )
    norm = owners(
        "owners/demo-pkg-unnormalised-name.json",
        record("Demo_Pkg", alice.primary.fpr, bob.primary.fpr),
    )
    owned(
        "good/owners-project-name-normalised",
        signature=sig_alice,
        owners=norm,
        expected="good",
        signer=alice.key,
        proves="Project names compare after PEP 503 normalisation: Demo_Pkg is demo-pkg.",
    )
    subrec = owners(
        "owners/subkey-fingerprint-listed.json", record("demo-pkg", alice.primary.fpr, bob.key.fpr)
    )
    owned(
        "bad/owners-subkey-fingerprint-listed",
        signature=bob_sig,
        owners=subrec,
        expected="not-owner",
        signer=bob.key,
        primary=bob.primary,
        proves="Listing a subkey fingerprint does not make its certificate an owner: only "
        "primary fingerprints count.",
    )
    owned(
        "bad/owner-bad-signature",
        signature=sig_alice,
        file=other,
        owners=own,
        expected="bad-signature",
        signer=alice.key,
        proves="A bad signature by an owner is bad-signature, not accepted and not not-owner.",
    )
    lower = owners(
        "owners/lowercase-fingerprints.json",
        record("demo-pkg", alice.primary.fpr.lower(), bob.primary.fpr.lower()),
    )
    owned(
        "good/owners-lowercase-fingerprint",
        signature=sig_alice,
        owners=lower,
        expected="good",
        signer=alice.key,
        proves="Fingerprints in the ownership record compare case-insensitively.",
    )
    extra_rec = record("demo-pkg", alice.primary.fpr, bob.primary.fpr)
    extra_rec["homepage"] = "https://example.org/demo-pkg"
    extra_rec["maintainers"][0]["email"] = "alice@example.org"
    extra = owners("owners/unknown-fields.json", extra_rec)
    owned(
        "good/owners-unknown-fields-ignored",
        signature=sig_alice,
        owners=extra,
        expected="good",
        signer=alice.key,
        proves="Unknown fields in the ownership record are ignored.",
    )

    build_merging(g)
    build_memory(g)
    build_retirement(g, alice, bob, keyrings=both, signature=sig_alice)
    build_output(g, alice, keyrings=both, signature=sig_alice)
    build_fidelity(g)
    build_work_caps(g)
    build_user_id_revocations(g)
    build_direct_key_signatures(g)
    build_revocation_defects(g)
    build_designated_revoker(g)
    build_demo(g, alice, bob, mallory)


# -- bounded work (issue 8, section 5) ----------------------------------------------------------


def rsa_with_exponent(priv: rsa.RSAPrivateKey, exponent: int, *, down: bool = False) -> w.Key:
    """The RSA key of ``priv``'s primes with the odd exponent nearest ``exponent`` that works."""
    nums = priv.private_numbers()
    p, q = nums.p, nums.q
    phi = (p - 1) * (q - 1)
    e = exponent | 1
    while math.gcd(e, phi) != 1:
        e += -2 if down else 2
    d = pow(e, -1, phi)
    key = rsa.RSAPrivateNumbers(
        p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), rsa.RSAPublicNumbers(e, p * q)
    ).private_key(unsafe_skip_rsa_key_validation=True)
    return w.key_from_private(key, K0)


def build_work_caps(g: Gen) -> None:
    """Bounded work: caps reached before a decision reject; one under each cap is judged.

    Limits.component_signatures (32) self-signatures or revocations verified per user ID or
    key, newest first; Limits.candidates (16) certificates holding one signing key; RSA
    public exponents from 3 to 2**33 - 1. Junk signatures carry correct 16-bit hash
    prefixes (each costs a public-key operation to refute) and are newer than the real ones.
    gpgv and sqv have no such caps: where they disagree, oracle_notes.py says why.
    """
    cap, candidates = 32, 16

    def flooded(
        label: str, junk: int, *, revocations: bool = False, revoked: bool = False
    ) -> Signer:
        key = g.variant(label)
        uid = f"Work {label} <work@example.org>".encode()
        s = Signer(
            key, uid, [key.packet(), w.packet(w.TAG_USER_ID, uid), self_sig(key, uid, key.created)]
        )
        if revocations:
            s.packets[1:1] = [revocation(key, S + DAY + i, 2, corrupt=True) for i in range(junk)]
            if revoked:
                s.packets.insert(1, revocation(key, S + DAY // 2, 2))
        else:
            s.packets += [
                self_sig(key, uid, key.created + 10 + i, corrupt=True) for i in range(junk)
            ]
        return s

    def vector(name: str, s: Signer, expected: str, proves: str) -> None:
        ring = g.keyring(f"keys/work/{name.split('/', 1)[1]}.pub.asc", s.cert)
        judged = expected != "malformed"  # a work cap: no key is reported
        g.vector(
            name,
            sig=asc(doc_sig(s.key, HELLO)),
            keyrings=[ring],
            expected=expected,
            signer=s.key if judged else None,
            primary=s.primary if judged else None,
            proves=proves,
        )

    vector(
        "bad/junk-self-signatures-over-cap",
        flooded("junk-selfsig-over", cap),
        "malformed",
        f"{cap} forged self-signatures with correct hash prefixes, newer than the real one, "
        "exhaust the per-user-ID cap before it is reached: rejected, never judged on the "
        "older one.",
    )
    vector(
        "good/junk-self-signatures-under-cap",
        flooded("junk-selfsig-under", cap - 1),
        "good",
        f"{cap - 1} forged newer self-signatures are refuted within the cap and the real one "
        "is found.",
    )
    vector(
        "bad/junk-revocations-over-cap",
        flooded("junk-rev-over", cap + 1, revocations=True),
        "malformed",
        f"{cap + 1} forged hard revocations with correct hash prefixes are more "
        "than the cap: a real one could be behind them, so the key is not accepted.",
    )
    vector(
        "good/junk-revocations-under-cap",
        flooded("junk-rev-under", cap, revocations=True),
        "good",
        f"{cap} forged revocations (the cap) are all refuted; none is real.",
    )
    vector(
        "bad/revocation-under-junk-revocations",
        flooded("junk-rev-real", cap - 1, revocations=True, revoked=True),
        "key-revoked",
        f"A real revocation older than {cap - 1} forged newer ones is still found within the cap.",
    )

    # RSA public exponents: the largest accepted, and the next one that makes a key.
    priv = g.private("rsa2048")
    for name, exponent, down, expected, proves in (
        (
            "good/rsa-exponent-largest-accepted",
            (1 << 33) - 1,
            True,
            "good",
            "An RSA key whose public exponent is just under 2**33 (the largest accepted) signs.",
        ),
        (
            "bad/rsa-exponent-over-2-33",
            (1 << 33) + 1,
            False,
            "weak-key",
            (
                "An RSA key whose public exponent is over 2**33 - 1 is refused (each verification "
                "would cost more with a larger one), though the math holds."
            ),
        ),
    ):
        key = rsa_with_exponent(priv, exponent, down=down)
        uid = f"RSA exponent <{name.split('/')[1]}@example.org>".encode()
        s = Signer(key, uid, [key.packet(), w.packet(w.TAG_USER_ID, uid), self_sig(key, uid, K0)])
        vector(name, s, expected, proves)

    # Certificates sharing one signing subkey, each binding it with a back-signature.
    sub = g.variant("shared-subkey", sub=True)
    holders = []
    primaries = []
    for i in range(candidates + 1):
        key = g.variant(f"shared-subkey-holder-{i}")
        primaries.append(key)
        uid = f"Holder {i} <holder{i}@example.org>".encode()
        holders.append(
            b"".join(
                [
                    key.packet(),
                    w.packet(w.TAG_USER_ID, uid),
                    self_sig(key, uid, key.created, flags=w.FLAG_CERTIFY),
                    sub.packet(subkey=True),
                    binding(key, sub, sub.created, w.FLAG_SIGN),
                ]
            )
        )
    shared = asc(doc_sig(sub, HELLO))
    for name, count, expected, proves in (
        (
            "good/shared-subkey-at-candidate-cap",
            candidates,
            "good",
            f"{candidates} certificates that all hold and bind one signing subkey are each tried.",
        ),
        (
            "bad/shared-subkey-over-candidate-cap",
            candidates + 1,
            "malformed",
            (
                f"{candidates + 1} certificates holding the signing subkey exceed the "
                "candidate cap: the signature is rejected before any certificate is decoded."
            ),
        ),
    ):
        ring = g.keyring(f"keys/work/{name.split('/', 1)[1]}.pub.asc", *holders[:count])
        # equally good candidates: the report names the first in fingerprint order
        first = min(primaries[:count], key=lambda k: k.fingerprint)
        judged = expected != "malformed"
        g.vector(
            name,
            sig=shared,
            keyrings=[ring],
            expected=expected,
            signer=sub if judged else None,
            primary=first if judged else None,
            proves=proves,
        )


# -- merging copies of one certificate (issue 8, section 1) ------------------------------------


def uid_revocation(primary: w.Key, uid: bytes, t: int, code: int = 32) -> bytes:
    """A certification revocation (0x30) of ``uid`` by its own primary key."""
    hashed, unhashed = w.default_subpackets(primary, t)
    hashed.append(w.revocation_reason(code, b"test vector: user ID no longer valid"))
    spec = w.SigSpec(0x30, w.SHA256, hashed, unhashed)
    return sig_packet(primary, spec, primary.frame() + w.uid_frame(uid))


def build_user_id_revocations(g: Gen) -> None:
    """A revoked user ID's self-signatures no longer count (RFC 9580 §5.2.1.15, as GnuPG).

    Each certificate has an old user ID whose self-signature allows only certification
    and a newer one whose self-signature allows signing; the owner then revokes the newer
    user ID (0x30, reason 32). Its self-signature used to choose the key's flags all the
    same, so the revoked user ID kept the key signing. Good twins: the same certificate
    without the revocation, and one whose user ID was certified again after it.
    """
    made = ts("2023-01-01T00:00:00Z")
    revoked_at = ts("2023-06-01T00:00:00Z")

    def cert(label: str, *, revoke: bool, again: bool = False, only: bool = False) -> Signer:
        key = g.variant(label)
        old = f"UID revocation {label} (old) <old@example.org>".encode()
        new = f"UID revocation {label} <new@example.org>".encode()
        packets = [key.packet()]
        if not only:
            packets += [
                w.packet(w.TAG_USER_ID, old),
                self_sig(key, old, key.created, flags=w.FLAG_CERTIFY),
            ]
        packets += [w.packet(w.TAG_USER_ID, new), self_sig(key, new, made)]
        if revoke:
            packets.append(uid_revocation(key, new, revoked_at))
        if again:
            packets.append(self_sig(key, new, revoked_at + DAY))
        return Signer(key, new, packets)

    def vector(name: str, s: Signer, expected: str, proves: str) -> None:
        ring = g.keyring(f"keys/user-id-revocation/{name.split('/')[1]}.pub.asc", s.cert)
        g.vector(
            name,
            sig=asc(doc_sig(s.key, HELLO)),
            keyrings=[ring],
            expected=expected,
            signer=s.key,
            primary=s.primary,
            proves=proves,
        )

    vector(
        "bad/revoked-user-id-allowed-signing",
        cert("flags", revoke=True),
        "not-signing-key",
        "The newest self-signature, the only one that allows signing, certifies a user ID "
        "the owner then revoked (0x30): it no longer counts, and the older user ID's "
        "self-signature allows only certification.",
    )
    vector(
        "good/revoked-user-id-allowed-signing-twin",
        cert("flags twin", revoke=False),
        "good",
        "The same certificate without the certification revocation: the newest "
        "self-signature allows signing.",
    )
    vector(
        "bad/only-user-id-revoked",
        cert("only", revoke=True, only=True),
        "not-signing-key",
        "The only user ID is revoked: no self-signature counts (GnuPG would fall back to "
        "the algorithm's usage; we do not).",
    )
    vector(
        "good/only-user-id-revoked-then-certified-again",
        cert("again", revoke=True, again=True, only=True),
        "good",
        "A self-signature made after the certification revocation certifies the user ID "
        "again: it counts.",
    )


def build_direct_key_signatures(g: Gen) -> None:
    """A direct-key signature (0x1F) binds the primary key beside its user ID self-signatures.

    Each certificate has a direct-key signature and a newer user ID self-signature that
    allows signing and sets no expiry. The newer one used to lift what the direct-key
    signature said: certify-only flags (gpgv: "Wrong key usage") or an expiry (sqv:
    "expired"). Good twin: a direct-key signature that restricts nothing.
    """

    def cert(label: str, extra: list[w.Sub], *, expires: int | None = None) -> Signer:
        key = g.variant(label)
        uid = f"Direct key {label} <dk@example.org>".encode()
        if expires is not None:
            extra = [*extra, w.key_expires(expires - key.created)]
        packets = [
            key.packet(),
            direct_key(key, key.created + DAY, extra),
            w.packet(w.TAG_USER_ID, uid),
            self_sig(key, uid, key.created + 2 * DAY),
        ]
        return Signer(key, uid, packets)

    def vector(name: str, s: Signer, expected: str, proves: str) -> None:
        ring = g.keyring(f"keys/direct-key/{name.split('/')[1]}.pub.asc", s.cert)
        g.vector(
            name,
            sig=asc(doc_sig(s.key, HELLO)),
            keyrings=[ring],
            expected=expected,
            signer=s.key,
            primary=s.primary,
            proves=proves,
        )

    expiry = ts("2023-01-01T00:00:00Z")
    vector(
        "bad/direct-key-signature-certify-only",
        cert("certify", [w.key_flags(w.FLAG_CERTIFY)]),
        "not-signing-key",
        "The direct-key signature allows only certification; a newer user ID "
        "self-signature that allows signing does not lift it.",
    )
    vector(
        "bad/direct-key-signature-expiry",
        cert("expiry", [], expires=expiry),
        "key-expired",
        "The direct-key signature sets an expiry (before the signature was made); a newer "
        "user ID self-signature without one does not lift it.",
    )
    vector(
        "good/direct-key-signature-twin",
        cert("twin", [w.key_flags(GOOD_SIGNER)]),
        "good",
        "A direct-key signature that allows signing and sets no expiry, beside a newer user "
        "ID self-signature: good.",
    )


def build_revocation_defects(g: Gen) -> None:
    """A key revocation counts whatever a strict parser holds against it: it only rejects.

    Revocations (0x20) carrying an unknown critical subpacket, or past their own
    expiration time, used to be ignored like a defective self-signature. Good twin: the
    same revocation with its math corrupted revokes nothing.
    """
    rev_at = ts("2024-01-01T00:00:00Z")

    def revoked(
        label: str,
        extra: list[w.Sub],
        *,
        corrupt: bool = False,
        unhashed_junk: list[w.Sub] | None = None,
    ) -> Signer:
        key = g.variant(label)
        uid = f"Revocation {label} <rev@example.org>".encode()
        hashed, unhashed = w.default_subpackets(key, rev_at)
        if unhashed_junk is not None:
            unhashed = unhashed_junk
        hashed += [w.revocation_reason(2, b"test vector revocation"), *extra]
        rev = sig_packet(
            key,
            w.SigSpec(w.KEY_REVOCATION, w.SHA256, hashed, unhashed, corrupt=corrupt),
            key.frame(),
        )
        return Signer(
            key,
            uid,
            [key.packet(), rev, w.packet(w.TAG_USER_ID, uid), self_sig(key, uid, key.created)],
        )

    def vector(name: str, s: Signer, expected: str, proves: str) -> None:
        ring = g.keyring(f"keys/revocation-defects/{name.split('/')[1]}.pub.asc", s.cert)
        g.vector(
            name,
            sig=asc(doc_sig(s.key, HELLO)),
            keyrings=[ring],
            expected=expected,
            signer=s.key,
            primary=s.primary,
            proves=proves,
        )

    vector(
        "bad/revocation-with-unknown-critical-subpacket",
        revoked("critical", [w.Sub(100, b"\x01", critical=True)]),
        "key-revoked",
        "A key revocation (compromised) that carries an unknown critical subpacket still "
        "revokes: a revocation only ever rejects, so its defect does not void it.",
    )
    vector(
        "good/revocation-with-unknown-critical-subpacket-forged",
        revoked("critical forged", [w.Sub(100, b"\x01", critical=True)], corrupt=True),
        "good",
        "The same revocation with its math corrupted revokes nothing.",
    )
    junk = [w.Sub(100, b"\x00")] * 600
    vector(
        "bad/revocation-with-junk-unhashed-area",
        revoked("junk", [], unhashed_junk=junk),
        "key-revoked",
        "A key revocation whose unhashed area (which anyone can rewrite without breaking "
        "the math) holds 600 junk subpackets, over Limits.subpackets: it is read without "
        "that area and still revokes.",
    )
    vector(
        "good/revocation-with-junk-unhashed-area-forged",
        revoked("junk forged", [], unhashed_junk=junk, corrupt=True),
        "good",
        "The same revocation with its math corrupted revokes nothing.",
    )
    vector(
        "bad/revocation-past-its-expiration",
        revoked("expired", [w.sig_expires(DAY)]),
        "key-revoked",
        "A key revocation whose own signature expiration time has passed still revokes "
        "(GnuPG ignores a revocation's expiration too).",
    )


def build_designated_revoker(g: Gen) -> None:
    """A key revocation by the key's designated revoker counts (RFC 9580 §5.2.3.23).

    The owner named a revoker in a direct-key signature; the revoker revoked the key (the
    way to revoke a key whose secret is lost). It used to be ignored, its issuer not being
    the primary key. Good twin: the same certificate without the revoker's certificate in
    the keyrings (nothing to check the revocation with).
    """
    key = g.variant("designated revoker victim")
    revoker = g.variant("designated revoker")
    uid = b"Designated revoker victim <victim@example.org>"
    designation = w.Sub(12, bytes([0x80, revoker.algo]) + revoker.fingerprint)
    hashed, unhashed = w.default_subpackets(revoker, ts("2024-01-01T00:00:00Z"))
    hashed.append(w.revocation_reason(2, b"test vector: revoked by the designated revoker"))
    rev = sig_packet(revoker, w.SigSpec(w.KEY_REVOCATION, w.SHA256, hashed, unhashed), key.frame())
    victim = g.keyring(
        "keys/designated-revoker/victim.pub.asc",
        b"".join(
            [
                key.packet(),
                direct_key(key, key.created + DAY, [designation]),
                rev,
                w.packet(w.TAG_USER_ID, uid),
                self_sig(key, uid, key.created),
            ]
        ),
    )
    ruid = b"Designated revoker <revoker@example.org>"
    revoker_ring = g.keyring(
        "keys/designated-revoker/revoker.pub.asc",
        b"".join(
            [
                revoker.packet(),
                w.packet(w.TAG_USER_ID, ruid),
                self_sig(revoker, ruid, revoker.created),
            ]
        ),
    )
    g.vector(
        "bad/revoked-by-designated-revoker",
        sig=asc(doc_sig(key, HELLO)),
        keyrings=[victim, revoker_ring],
        expected="key-revoked",
        signer=key,
        proves="A key revocation (compromised) made by the key the owner designated as "
        "revoker in a direct-key signature, with the revoker's certificate in the "
        "keyrings: the key is revoked.",
    )
    g.vector(
        "good/revoked-by-designated-revoker-missing",
        signature="signatures/bad/revoked-by-designated-revoker.asc",
        keyrings=[victim],
        expected="good",
        signer=key,
        proves="The same certificate without the revoker's certificate: the revocation "
        "cannot be checked and counts for nothing.",
    )


def build_merging(g: Gen) -> None:
    """Copies of one certificate in several keyrings: no copy hides what another one holds.

    Each attack is a decoy copy of the certificate, loaded first, carrying the bytes of a
    revocation or of a newer self-signature where they do not count (under a dummy user ID,
    directly after the primary key). Merging that de-duplicates packets across the whole
    certificate then drops the real one, after its own component, as a "duplicate"; merging
    per component (as ``gpg --import`` does) keeps it. Each attack has a good twin: the
    same decoy beside a copy that really lacks the revocation or self-signature, which shows
    that the misplaced bytes themselves count for nothing. tests/test_merge.py runs every
    multi-keyring vector with its keyrings in every order.
    """
    dummy = w.packet(w.TAG_USER_ID, b"Decoy user ID <decoy@example.org>")
    rev_at = ts("2024-06-01T00:00:00Z")

    def start(label: str, flags: int = GOOD_SIGNER) -> Signer:
        key = g.variant(label)
        uid = f"Merge {label} <merge@example.org>".encode()
        selfsig = self_sig(key, uid, key.created, flags=flags)
        return Signer(key, uid, [key.packet(), w.packet(w.TAG_USER_ID, uid), selfsig])

    def ring(rel: str, *copies: list[bytes]) -> str:
        return g.write(
            f"keys/merge/{rel}.pub.asc",
            b"".join(w.armor("PUBLIC KEY BLOCK", b"".join(c)) for c in copies),
        )

    def pair(
        label: str,
        s: Signer,
        copies: tuple[list[bytes], list[bytes]],
        *,
        expected: str,
        proves: str,
        twin: str,
    ) -> None:
        # The attack (keyrings: decoy, real) and its good twin (decoy, a copy without what
        # the decoy tries to hide), both over one signature file.
        decoy, real = copies
        name = f"bad/merge-{label}"
        decoy_ring = ring(f"{label}-decoy", decoy)
        g.vector(
            name,
            sig=asc(doc_sig(s.key, HELLO)),
            keyrings=[decoy_ring, ring(f"{label}-real", real)],
            expected=expected,
            signer=s.key,
            primary=s.primary,
            proves=proves,
        )
        g.vector(
            f"good/merge-{label}-twin",
            signature=f"signatures/{name}.asc",
            keyrings=[decoy_ring, ring(f"{label}-twin", s.packets)],
            expected="good",
            signer=s.key,
            primary=s.primary,
            proves=twin,
        )

    # A key revocation (0x20) copied under a dummy user ID.
    s = start("merge-revocation")
    rev = revocation(s.primary, rev_at, 2)
    decoy = [s.primary.packet(), dummy, rev]
    real = [s.packets[0], rev, *s.packets[1:]]
    pair(
        "revocation-under-dummy-user-id",
        s,
        (decoy, real),
        expected="key-revoked",
        proves="A decoy copy of the certificate, in the first keyring, carries the key "
        "revocation's bytes under a dummy user ID: the real revocation after the primary key "
        "in the second keyring still counts (packets are de-duplicated per component only).",
        twin="A key revocation under a user ID is ignored there: beside a copy without the "
        "revocation, the decoy revokes nothing.",
    )
    one = g.write(
        "keys/merge/revocation-decoy-then-real-one-file.pub.asc",
        w.armor("PUBLIC KEY BLOCK", b"".join(decoy)) + w.armor("PUBLIC KEY BLOCK", b"".join(real)),
    )
    g.vector(
        "bad/merge-revocation-under-dummy-user-id-one-keyring",
        signature="signatures/bad/merge-revocation-under-dummy-user-id.asc",
        keyrings=[one],
        expected="key-revoked",
        signer=s.key,
        primary=s.primary,
        proves="The same decoy and real copies as two blocks of one keyring file: the "
        "revocation still counts.",
    )

    # A newer self-signature that sets an expiry, copied under a dummy user ID.
    s = start("merge-expiry")
    newer = self_sig(
        s.primary,
        s.uid,
        ts("2024-01-01T00:00:00Z"),
        key_expiry=ts("2025-01-01T00:00:00Z") - s.primary.created,
    )
    pair(
        "newer-self-signature-under-dummy-user-id",
        s,
        ([s.primary.packet(), dummy, newer], [*s.packets, newer]),
        expected="key-expired",
        proves="A decoy copy carries the bytes of the newer self-signature (which sets an "
        "expiry) under a dummy user ID: the real one under its user ID still counts and the "
        "key is expired at the reference time.",
        twin="A self-signature under a user ID it does not certify is ignored: beside a copy "
        "without the newer self-signature, the key does not expire.",
    )

    # A subkey revocation (0x28) copied directly after the primary key.
    s = start("merge-subkey-revocation", flags=w.FLAG_CERTIFY)
    sub = g.variant("merge-subkey-revocation", sub=True)
    s.packets += [sub.packet(subkey=True), binding(s.primary, sub, sub.created, w.FLAG_SIGN)]
    s.signing = sub
    subrev = revocation(s.primary, rev_at, 2, sub=sub)
    pair(
        "subkey-revocation-under-primary",
        s,
        ([s.primary.packet(), subrev], [*s.packets, subrev]),
        expected="key-revoked",
        proves="A decoy copy carries the subkey revocation's bytes directly after the primary "
        "key (where it revokes nothing): the real one after the subkey still revokes it.",
        twin="A subkey revocation directly after the primary key is ignored there: beside a copy "
        "without it, the subkey signs.",
    )

    # Two self-signatures made in the same second, one in each keyring.
    s = start("merge-same-second")
    t = ts("2024-01-01T00:00:00Z")
    plain = self_sig(s.primary, s.uid, t)
    expiring = self_sig(
        s.primary, s.uid, t, key_expiry=ts("2025-01-01T00:00:00Z") - s.primary.created
    )
    head = s.packets[:2]
    sig = asc(doc_sig(s.key, HELLO))
    g.vector(
        "bad/merge-same-second-self-signatures",
        sig=sig,
        keyrings=[
            ring("same-second-plain", [*head, plain]),
            ring("same-second-expiring", [*head, expiring]),
        ],
        expected="key-expired",
        signer=s.key,
        primary=s.primary,
        proves="Two self-signatures made in the same second, one setting an expiry, in two "
        "keyrings: the tie is broken conservatively (the shorter expiry counts as newer), "
        "never by the order of the keyrings.",
    )
    g.vector(
        "good/merge-same-second-self-signatures-twin",
        signature="signatures/bad/merge-same-second-self-signatures.asc",
        keyrings=[
            ring("same-second-plain", [*head, plain]),
            ring("same-second-plain-again", [*head, plain]),
        ],
        expected="good",
        signer=s.key,
        primary=s.primary,
        proves="The same certificate with only the self-signature without expiry, twice: good.",
    )


# -- trust memory: certificates only grow (issue 8, section 2) --------------------------------


def build_memory(g: Gen) -> None:
    """An older copy of a certificate, served after the revoked one, cannot hide the revocation.

    The cache remembers, per primary fingerprint, the union of every copy it was served
    (``pgpverify.trust.memory.union_certificate``, which makes
    ``keys/memory/remembered-union.pub.asc`` here from the revoked copy and the older one),
    and verification uses the union with what the index serves now. A compromised index
    that serves the older copy (``keys/memory/older-copy-without-revocation.pub.asc``) gets
    ``key-revoked`` with the memory beside it, in either order; the older copy alone is the
    good twin (what a machine without memory would accept). tests/test_workflows.py and
    tests/test_cli.py play the same sequence through a real cache and lock file.
    """
    from pgpverify.trust.memory import union_certificate

    key = g.variant("memory-revoked")
    uid = b"Memory <memory@example.org>"
    older = [
        key.packet(),
        w.packet(w.TAG_USER_ID, uid),
        self_sig(key, uid, key.created, flags=GOOD_SIGNER),
    ]
    revoked = [older[0], revocation(key, ts("2024-06-01T00:00:00Z"), 2), *older[1:]]
    remembered = union_certificate([b"".join(revoked), b"".join(older)], fingerprint=key.fpr)
    assert remembered == b"".join(revoked)  # new-format headers, revocation after the key
    older_ring = g.keyring("keys/memory/older-copy-without-revocation.pub.asc", b"".join(older))
    memory_ring = g.keyring("keys/memory/remembered-union.pub.asc", remembered)
    g.vector(
        "good/memory-older-copy-alone",
        sig=asc(doc_sig(key, HELLO)),
        keyrings=[older_ring],
        expected="good",
        signer=key,
        proves="The older copy of the certificate, without its revocation, alone: good "
        "(what a machine that remembers nothing would accept from a compromised index).",
    )
    for label, rings in (
        ("remembered-then-older-copy", [memory_ring, older_ring]),
        ("older-copy-then-remembered", [older_ring, memory_ring]),
    ):
        g.vector(
            f"bad/memory-{label}",
            signature="signatures/good/memory-older-copy-alone.asc",
            keyrings=rings,
            expected="key-revoked",
            signer=key,
            proves="The remembered union of every copy served (with the revocation) "
            "beside the older copy the index serves now: the revocation, once seen, "
            "still counts, whatever the order.",
        )


# -- retirement dates in ownership records (issue 8, section 3) -------------------------------


def build_retirement(
    g: Gen, alice: Signer, bob: Signer, *, keyrings: list[str], signature: str
) -> None:
    """A retirement date is a date even at or before the epoch; the earliest one counts.

    Every vector checks alice's signature made at ``S`` (2024-03-01T12:00:00Z) against a
    record of demo-pkg that retires her key: at 1970-01-01 (epoch 0, which a truthiness
    test reads as "not retired"), before the epoch, or several times (by her, twice, or
    by her and by bob) with the earliest date before the signature. Each good twin has
    every retirement after the signature.
    """
    a, b = alice.primary.fpr, bob.primary.fpr

    def record(rel: str, *lists: list[str | dict[str, str]]) -> str:
        users = [("alice", "Owner"), ("bob", "Maintainer")]
        doc = {
            "project": "demo-pkg",
            "maintainers": [
                {"user": user, "role": role, "keys": keys}
                for (user, role), keys in zip(users, lists, strict=True)
            ],
        }
        return g.write(f"owners/{rel}", (json.dumps(doc, indent=2) + "\n").encode())

    def retired(when: str) -> dict[str, str]:
        return {"fingerprint": a, "retired": when}

    cases: list[tuple[str, str, list[list[str | dict[str, str]]], str]] = [
        (
            "retired-at-epoch",
            "not-owner",
            [[retired("1970-01-01")], [b]],
            (
                "A key retired at 1970-01-01 (the epoch, time 0) is retired: a later signature is "
                "not-owner."
            ),
        ),
        (
            "retired-at-epoch-time",
            "not-owner",
            [[retired("1970-01-01T00:00:00Z")], [b]],
            "A key retired at 1970-01-01T00:00:00Z (time 0) is retired.",
        ),
        (
            "retired-before-epoch",
            "not-owner",
            [[retired("1969-12-31T23:59:59Z")], [b]],
            "A key retired before the epoch (a negative time) is retired.",
        ),
        (
            "retired-after-signature",
            "good",
            [[retired("2024-05-01")], [b]],
            "Good twin: a key retired after the signature was made still signed it.",
        ),
        (
            "retired-twice-earliest-counts",
            "not-owner",
            [[retired("2099-01-01"), retired("1970-01-01")], [b]],
            (
                "A key one maintainer lists twice, retired in 2099 and at the epoch, is retired at "
                "the earlier date, whatever the order."
            ),
        ),
        (
            "retired-twice-both-after-signature",
            "good",
            [[retired("2099-01-01"), retired("2024-05-01")], [b]],
            "Good twin: both retirements of a key listed twice come after the signature.",
        ),
        (
            "retired-by-two-maintainers-earliest-counts",
            "not-owner",
            [[retired("2099-01-01")], [b, retired("1970-01-01")]],
            (
                "A key its owner retires in 2099 and another maintainer retires at the epoch is "
                "retired at the earlier date."
            ),
        ),
        (
            "retired-by-two-maintainers-both-after-signature",
            "good",
            [[retired("2099-01-01")], [b, retired("2024-05-01")]],
            "Good twin: both maintainers' retirements come after the signature.",
        ),
    ]
    for name, expected, lists, proves in cases:
        g.vector(
            f"{'good' if expected == 'good' else 'bad'}/owners-{name}",
            signature=signature,
            keyrings=keyrings,
            project="demo-pkg",
            owners=record(f"{name}.json", *lists),
            expected=expected,
            signer=alice.key,
            proves=proves,
        )


# -- verdict fidelity with the tools that made the signatures (issue 8, section 7) ------------


def _gnupg_text(data: bytes, trim: bytes = b"\r\0") -> bytes:
    """GnuPG's text filter (g10/textfilter.c), written the obvious way.

    Each line loses its trailing ``trim`` octets (NUL included: a quirk of its C code) and
    its LF becomes CRLF; the last line without LF gets nothing. Trimming space and tab too
    is --rfc2440-text.
    """
    *lines, last = data.split(b"\n")
    return b"".join(line.rstrip(trim) + b"\r\n" for line in lines) + last.rstrip(trim)


def _sequoia_text(data: bytes) -> bytes:
    """sequoia-openpgp's text hashing: CRLF, LF and a lone CR each become CRLF."""
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")


def _text_sig(signer: w.Key, canonical: bytes, t: int = S) -> bytes:
    """A text signature (0x01) over already canonicalised data."""
    spec = w.SigSpec(w.TEXT, w.SHA256, *w.default_subpackets(signer, t))
    return sig_packet(signer, spec, canonical)


def _marker(body: bytes = b"PGP") -> bytes:
    return w.packet(10, body)


def build_fidelity(g: Gen) -> None:
    """Vectors for verdict fidelity with gpg and sq.

    secp256k1, every tool's text canonicalisation, several signatures in a total order,
    keys from the future, empty armor header values, marker packets, revocation reason 32.
    """
    entries = {e["name"]: e for e in g.entries}
    alice_ring = "keys/alice.pub.asc"
    alice = entries["good/rsa3072"]

    # secp256k1 ECDSA: gpg makes and checks such keys.
    k1 = g.key("secp256k1")
    uid = b"ECDSA secp256k1 <secp256k1@example.org>"
    ring = g.keyring(
        "keys/algorithms/secp256k1.pub.asc",
        k1.packet(),
        w.packet(w.TAG_USER_ID, uid),
        self_sig(k1, uid, K0),
    )
    good = g.write("signatures/good/secp256k1.asc", asc(doc_sig(k1, HELLO)))
    g.vector(
        "good/secp256k1",
        signature=good,
        keyrings=[ring],
        expected="good",
        signer=k1,
        proves="An ECDSA secp256k1 key (as gpg makes) makes a good signature.",
    )
    g.vector(
        "bad/secp256k1-corrupted",
        sig=asc(doc_sig(k1, HELLO, corrupt=True)),
        keyrings=[ring],
        expected="bad-signature",
        signer=k1,
        proves="A secp256k1 signature with a flipped bit in its value is a bad signature: "
        "the curve's math is really checked.",
    )

    # Text signatures in sq's canonical form (a lone CR ends a line), and gpg's forms made
    # by our writer (gpg-made ones are in external/gpg-text/).
    text = g.write(
        "data/text/lone-cr-mid-line.txt",
        b"Line one\rstill line one for gpg, line two for sq\nlast line\n",
    )
    altered = g.write(
        "data/text/lone-cr-mid-line-altered.txt",
        b"Line one\rstill line one for gpg, line two for sq\nlast lime\n",
    )
    k = g.key("alice")
    sig = g.write(
        "signatures/good/text-sequoia-lone-cr.asc", asc(_text_sig(k, _sequoia_text(g.files[text])))
    )
    g.vector(
        "good/text-sequoia-lone-cr",
        signature=sig,
        file=text,
        keyrings=[alice_ring],
        expected="good",
        signer=k,
        proves="A text signature over the form sq hashes (a lone CR ends a line, becomes "
        "CRLF) verifies.",
    )
    g.vector(
        "bad/text-sequoia-lone-cr-altered",
        signature=sig,
        file=altered,
        keyrings=[alice_ring],
        expected="bad-signature",
        signer=k,
        proves="The same text signature over a file with one letter changed is bad in "
        "every canonical form.",
    )
    ws = g.write("data/text/trailing-whitespace.txt", b"spaces   \ntab\t\nboth \t \r\nend  ")
    ws_altered = g.write(
        "data/text/trailing-whitespace-altered.txt", b"spaces   \ntab\t\nboth \t \r\nend !"
    )
    sig = g.write(
        "signatures/good/text-gnupg-rfc2440.asc",
        asc(_text_sig(k, _gnupg_text(g.files[ws], b" \t\r\0"))),
    )
    g.vector(
        "good/text-gnupg-rfc2440",
        signature=sig,
        file=ws,
        keyrings=[alice_ring],
        expected="good",
        signer=k,
        proves="A text signature over the form gpg --rfc2440-text hashes (trailing spaces, "
        "tabs and CRs of each line dropped) verifies.",
    )
    g.vector(
        "bad/text-gnupg-rfc2440-altered",
        signature=sig,
        file=ws_altered,
        keyrings=[alice_ring],
        expected="bad-signature",
        signer=k,
        proves="The same signature over the file with its last character changed is bad.",
    )

    # Several signatures: the reported reason follows the README table, in both orders.
    def pair(a: str, b: str, expected: str, proves: str) -> None:
        ea, eb = entries[a], entries[b]
        assert ea["file"] == eb["file"], (a, b)
        assert ea["at"] == eb["at"], (a, b)
        rings = list(dict.fromkeys(ea["keyrings"] + eb["keyrings"]))
        who = ea if ea["expected"] == expected else eb
        for first, second, order in ((ea, eb, "first"), (eb, ea, "second")):
            # one armored block with both packets: sqv reads only the first block
            sig_bytes = asc(
                _unarmor(g.files[first["signature"]]), _unarmor(g.files[second["signature"]])
            )
            g.vector(
                f"{'good' if expected == 'good' else 'bad'}/several-"
                f"{ea['expected']}-and-{eb['expected']}-{order}",
                sig=sig_bytes,
                keyrings=rings,
                file=ea["file"],
                at=ea["at"],
                expected=expected,
                proves=f"{proves} ({a.split('/')[1]} {order}).",
            )
            g.entries[-1]["signer_fingerprint"] = who["signer_fingerprint"]
            g.entries[-1]["primary_fingerprint"] = who["primary_fingerprint"]

    pair(
        "bad/sha1-document-hash",
        "bad/weak-key-rsa1024",
        "weak-key",
        "A weak-hash and a weak-key signature in one file: weak-key, the later row of the "
        "table, whatever their order",
    )
    pair(
        "bad/revoked-compromised",
        "bad/primary-expired-at-reference-time",
        "key-expired",
        "A signature by a revoked key and one by an expired key: key-expired, the later row",
    )
    pair(
        "bad/subkey-encrypt-only",
        "bad/signature-before-key-creation",
        "not-signing-key",
        "A signature by an encryption-only subkey and one made before its key was created: "
        "not-signing-key, the later row",
    )
    pair(
        "bad/weak-key-rsa1024",
        "good/rsa3072",
        "good",
        "A weak-key signature beside a good one: the file is good in either order",
    )

    # A key created after the reference time: key-not-yet-valid, before any self-signature.
    created = ts("2025-07-01T00:00:00Z")
    fk = g.key("variant", created)
    fu = b"Key from the future <future@example.org>"
    ring = g.keyring(
        "keys/key-created-after-reference-time.pub.asc",
        fk.packet(),
        w.packet(w.TAG_USER_ID, fu),
        self_sig(fk, fu, created),
    )
    sig = g.write(
        "signatures/bad/key-created-after-reference-time.asc",
        asc(doc_sig(fk, HELLO, created + DAY)),
    )
    g.vector(
        "bad/key-created-after-reference-time",
        signature=sig,
        keyrings=[ring],
        expected="key-not-yet-valid",
        signer=fk,
        proves="A key created after the reference time, whose self-signature is later "
        "too, is not yet valid (not 'no valid self-signature').",
    )
    g.vector(
        "good/key-created-after-reference-time-judged-later",
        signature=sig,
        keyrings=[ring],
        expected="good",
        at="2025-08-01T00:00:00Z",
        signer=fk,
        proves="The same key and signature judged after both were made: good.",
    )
    early = g.write(
        "signatures/bad/signature-before-key-and-reference-time.asc",
        asc(doc_sig(fk, HELLO, ts("2025-05-01T00:00:00Z"))),
    )
    g.vector(
        "bad/signature-before-key-created-after-reference-time",
        signature=early,
        keyrings=[ring],
        expected="key-not-yet-valid",
        signer=fk,
        proves="A signature that claims a time before its key was created, judged before "
        "the key existed: key-not-yet-valid.",
    )

    # Armor headers with an empty value are headers.
    alice_key = g.key("alice")
    packet = doc_sig(alice_key, HELLO)
    g.vector(
        "good/armor-empty-header-value",
        sig=asc(packet, headers=(("Version", ""),)),
        keyrings=[alice_ring],
        expected="good",
        signer=alice_key,
        proves="An armor header with an empty value ('Version: ') is a header, not body.",
    )
    no_space = asc(packet).replace(b"-----\n\n", b"-----\nComment:\n\n", 1)
    g.vector(
        "good/armor-header-without-value",
        sig=no_space,
        keyrings=[alice_ring],
        expected="good",
        signer=alice_key,
        proves="An armor header with nothing after its colon ('Comment:') is a header.",
    )
    cert = g.files[alice_ring]
    ring = g.write(
        "keys/armor-empty-header-value.pub.asc",
        cert.replace(b"-----\n\n", b"-----\nVersion: \nComment:\n\n", 1),
    )
    g.vector(
        "good/keyring-armor-empty-header-value",
        signature=alice["signature"],
        keyrings=[ring],
        expected="good",
        signer=alice_key,
        proves="A keyring whose armor has headers with empty values loads: the key is found.",
    )

    # Marker packets (RFC 9580 §5.8) are ignored wherever they appear.
    g.vector(
        "good/marker-packets-in-signature-file",
        sig=asc(_marker(), packet, _marker(), _marker()),
        keyrings=[alice_ring],
        expected="good",
        signer=alice_key,
        proves="Marker packets before, between and after signature packets are ignored.",
    )
    g.vector(
        "bad/marker-packet-with-another-body",
        sig=asc(_marker(b"PGPPGP"), packet),
        keyrings=[alice_ring],
        expected="malformed",
        signer=None,
        proves="A tag-10 packet whose body is not 'PGP' is no marker: the signature file "
        "is malformed.",
    )
    alice_cert = _unarmor_cert(cert)
    ring = g.keyring(
        "keys/marker-packets.pub.asc",
        _marker(),
        alice_cert[0],
        _marker(),
        *alice_cert[1:],
        _marker(),
    )
    g.vector(
        "good/marker-packets-in-keyring",
        signature=alice["signature"],
        keyrings=[ring],
        expected="good",
        signer=alice_key,
        proves="Marker packets before, inside and after a certificate are ignored.",
    )

    # Revocation reason 32 (user ID no longer valid) on a key revocation: hard.
    s = g.variant("revoked-user-id-invalid")
    su = b"Revoked with reason 32 <reason-32@example.org>"
    rev_at = ts("2024-06-01T00:00:00Z")
    ring = g.keyring(
        "keys/revoked-reason-32.pub.asc",
        s.packet(),
        revocation(s, rev_at, 32),
        w.packet(w.TAG_USER_ID, su),
        self_sig(s, su, s.created),
    )
    sig = g.write("signatures/bad/revoked-reason-32.asc", asc(doc_sig(s, HELLO)))
    g.vector(
        "bad/revoked-reason-32",
        signature=sig,
        keyrings=[ring],
        expected="key-revoked",
        signer=s,
        proves="A key revocation with reason 32 (user ID no longer valid, not a key "
        "reason) is read as an unknown reason: hard, it revokes a signature made before it.",
    )
    g.vector(
        "good/revoked-reason-32-judged-before",
        signature=sig,
        keyrings=[ring],
        expected="good",
        at="2024-05-01T00:00:00Z",
        signer=s,
        proves="The same certificate judged before the revocation was made: good.",
    )


def _unarmor(armored: bytes) -> bytes:
    """The binary content of one block written by w.armor."""
    body = armored.split(b"\n\n", 1)[1].split(b"\n=", 1)[0]
    return base64.b64decode(b"".join(body.split()))


def _unarmor_cert(armored: bytes) -> list[bytes]:
    """The packets of one armored certificate written by w.armor, each with its header."""
    data = _unarmor(armored)
    packets = []
    pos = 0
    while pos < len(data):
        first, n = data[pos], data[pos + 1]
        assert first & 0xC0 == 0xC0, "new-format headers only"
        if n < 192:
            hdr, size = 2, n
        elif n < 224:
            hdr, size = 3, ((n - 192) << 8) + data[pos + 2] + 192
        else:
            hdr, size = 6, int.from_bytes(data[pos + 2 : pos + 6], "big")
        packets.append(data[pos : pos + hdr + size])
        pos += hdr + size
    return packets


# -- hostile text for the terminal (issue 8, section 6) ----------------------------------------

#: a user ID that would drive a terminal printed raw: ESC sequences that erase and move up a
#: line, a carriage return, a bidi override, a C1 CSI (U+009B) and a newline
HOSTILE_USER_ID = (
    "Mallory \x1b[2K\x1b[1A\r\u202egnp.exe \u009b32m <mallory@example.org>\n"
).encode()
#: a maintainer name as unusual as an ownership record lets through: an emoji, a joined
#: emoji sequence and a right-to-left script (controls, bidi and other format characters
#: are refused there)
HOSTILE_MAINTAINER = "alice \U0001f984 \U0001f469\u200d\U0001f4bb \u0639\u0644\u064a"


def build_output(g: Gen, alice: Signer, *, keyrings: list[str], signature: str) -> None:
    """Text from keys and records that would drive a terminal: verdicts as usual.

    The verdict does not depend on the text, and tests/test_cli_output.py prints each of
    these vectors in text and JSON and finds no raw control, bidi or C1 character in the
    output. Each good vector has a rejected twin, whose output is escaped as well.
    """
    key = g.variant("output-hostile-user-id")
    ring = g.keyring(
        "keys/output-hostile-user-id.pub.asc",
        key.packet(),
        w.packet(w.TAG_USER_ID, HOSTILE_USER_ID),
        self_sig(key, HOSTILE_USER_ID, key.created),
    )
    g.vector(
        "good/output-hostile-user-id",
        sig=asc(doc_sig(key, HELLO)),
        keyrings=[ring],
        expected="good",
        signer=key,
        proves="A key whose user ID holds ANSI escape sequences, a carriage return, a "
        "bidi override, a C1 CSI and a newline signs as any other key.",
    )
    g.vector(
        "bad/output-hostile-user-id-wrong-file",
        sig=asc(doc_sig(key, HELLO + b"not this file\n")),
        keyrings=[ring],
        expected="bad-signature",
        signer=key,
        proves="Rejected twin: the same key's signature over another file.",
    )

    def record(rel: str, alice_key: str | dict[str, str]) -> str:
        doc = {
            "project": "demo-pkg",
            "maintainers": [
                {"user": HOSTILE_MAINTAINER, "role": "Owner", "keys": [alice_key]},
            ],
        }
        return g.write(f"owners/{rel}", (json.dumps(doc, indent=2) + "\n").encode())

    g.vector(
        "good/output-hostile-maintainer-name",
        signature=signature,
        keyrings=keyrings,
        project="demo-pkg",
        owners=record("output-hostile-maintainer-name.json", alice.primary.fpr),
        expected="good",
        signer=alice.key,
        proves="A maintainer name with emoji, a zero-width joiner and Arabic script is "
        "a name like any other: good, and printed as written.",
    )
    g.vector(
        "bad/output-hostile-maintainer-name-retired",
        signature=signature,
        keyrings=keyrings,
        project="demo-pkg",
        owners=record(
            "output-hostile-maintainer-name-retired.json",
            {"fingerprint": alice.primary.fpr, "retired": "2024-02-29"},
        ),
        expected="not-owner",
        signer=alice.key,
        proves="Rejected twin: the same maintainer's key retired before the signature.",
    )


# -- demo ---------------------------------------------------------------------------------------

WHEEL = "demo_pkg-1.0.0-py3-none-any.whl"


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def demo_wheel() -> bytes:
    """A small real wheel; stored (not deflated) with fixed timestamps for stable bytes."""
    files = {
        "demo_pkg/__init__.py": b'"""A demo package for pgpverify."""\n\n'
        b'__version__ = "1.0.0"\n\n\n'
        b'def greet(name: str) -> str:\n    """Say hello."""\n    return f"Hello, {name}!"\n',
        "demo_pkg-1.0.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: demo-pkg\n"
        b"Version: 1.0.0\nSummary: A demo package signed for the pgpverify demo\n",
        "demo_pkg-1.0.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: pgpverify-vectors\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{n},{_record_hash(d)},{len(d)}\n" for n, d in files.items())
    files["demo_pkg-1.0.0.dist-info/RECORD"] = (
        record + "demo_pkg-1.0.0.dist-info/RECORD,,\n"
    ).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 3, 1, 12, 0, 0))
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, data)
    return buf.getvalue()


def build_demo(g: Gen, alice: Signer, bob: Signer, mallory: Signer) -> None:
    dave = standard_signer(g, "dave", "Dave Former Maintainer <dave@example.org>")
    dave.packets.insert(1, revocation(dave.primary, ts("2024-06-01T00:00:00Z"), 2))
    ring = w.armor("PUBLIC KEY BLOCK", alice.cert) + w.armor("PUBLIC KEY BLOCK", bob.cert)
    ring += w.armor("PUBLIC KEY BLOCK", mallory.cert) + w.armor("PUBLIC KEY BLOCK", dave.cert)
    g.write("demo/keyring.asc", ring)
    record = {
        "project": "demo-pkg",
        "maintainers": [
            {"user": "alice", "role": "Owner", "keys": [alice.primary.fpr]},
            {"user": "bob", "role": "Maintainer", "keys": [bob.primary.fpr]},
            {"user": "dave", "role": "Maintainer", "keys": [dave.primary.fpr]},
        ],
    }
    g.write("demo/owners/demo-pkg.json", (json.dumps(record, indent=2) + "\n").encode())
    wheel = demo_wheel()
    tampered = bytearray(wheel)
    pos = wheel.index(b"Hello, ")
    tampered[pos] = ord("J")  # "Jello": the code changed, the signature did not
    g.write(f"demo/{WHEEL}", wheel)
    g.write(f"demo/{WHEEL}.asc", asc(doc_sig(alice.key, wheel)))
    g.write(f"demo/tampered/{WHEEL}", bytes(tampered))
    g.write(f"demo/tampered/{WHEEL}.asc", asc(doc_sig(alice.key, wheel)))
    g.write(f"demo/revoked/{WHEEL}", wheel)
    g.write(f"demo/revoked/{WHEEL}.asc", asc(doc_sig(dave.key, wheel)))
    g.write(f"demo/not-owner/{WHEEL}", wheel)
    g.write(f"demo/not-owner/{WHEEL}.asc", asc(doc_sig(mallory.key, wheel)))
    cases = [
        ("", "good", alice, "The published wheel, signed by its Owner alice, is good."),
        (
            "tampered/",
            "bad-signature",
            alice,
            "The wheel with one byte changed after alice signed it is a bad signature.",
        ),
        (
            "revoked/",
            "key-revoked",
            dave,
            (
                "A wheel signed by a listed Maintainer whose key was later revoked as "
                "compromised is rejected: key-revoked."
            ),
        ),
        (
            "not-owner/",
            "not-owner",
            mallory,
            (
                "A wheel with a good signature by mallory, who is not listed for demo-pkg, is "
                "rejected: not-owner."
            ),
        ),
    ]
    for where, expected, who, proves in cases:
        g.vector(
            f"demo/{where.rstrip('/') or 'good'}",
            file=f"demo/{where}{WHEEL}",
            signature=f"demo/{where}{WHEEL}.asc",
            keyrings=["demo/keyring.asc"],
            project="demo-pkg",
            owners="demo/owners/demo-pkg.json",
            expected=expected,
            signer=who.key,
            proves=proves,
        )


# -- external vectors, oracle overrides, manifest --------------------------------------------


def external_entries() -> list[dict[str, Any]]:
    """Entries for the vectors made by gpg and sq, kept as written.

    ``external/make.sh`` made ``entries.json``; ``external/make_text.sh`` made
    ``gpg-text/entries.json`` (gpg --textmode); ``external/make_real.sh`` made
    ``real/entries.json`` (revocation certificates, wrong-shape signature files, curves).
    """
    data: list[dict[str, Any]] = []
    for path in (
        VECTORS / "external" / "entries.json",
        VECTORS / "external" / "gpg-text" / "entries.json",
        VECTORS / "external" / "real" / "entries.json",
    ):
        if path.exists():
            data += json.loads(path.read_text(encoding="utf-8"))
    return data


def apply_oracle_notes(entries: list[dict[str, Any]]) -> None:
    """Record what gpgv/sqv say where it differs from our verdict, and why (oracles.py)."""
    import oracle_notes

    for entry in entries:
        found = oracle_notes.lookup(entry["name"], entry["expected"])
        if found is None:
            continue
        verdicts, note = found
        entry["oracles"] = entry["oracles"] | verdicts
        entry["oracle_note"] = note


def generate(outdir: Path) -> list[Path]:
    """Write every vector under ``outdir``; return the paths written."""
    g = Gen()
    build(g)
    entries = g.entries + external_entries()
    apply_oracle_notes(entries)
    names = [e["name"] for e in entries]
    assert len(names) == len(set(names)), "vector names must be unique"
    manifest = {"vectors": entries}
    g.files["manifest.json"] = (json.dumps(manifest, indent=1) + "\n").encode()
    written = []
    for rel, data in sorted(g.files.items()):
        path = outdir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    outdir = Path(argv[1]) if len(argv) > 1 else VECTORS
    paths = generate(outdir)
    print(f"wrote {len(paths)} files under {outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
