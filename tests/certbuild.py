"""Build test certificates packet by packet, for merging and order tests (test-only keys).

Wraps ``vectors/_writer.py`` (independent of pgpverify). Keys are Ed25519, derived from a
label so every run builds the same octets; ``Cert`` keeps each component's packets apart so
a test can split a certificate into copies, shuffle them and misplace signatures.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519

VECTORS = Path(__file__).resolve().parent.parent / "vectors"


def _load_writer():
    name = "certbuild_writer"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, VECTORS / "_writer.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up here
        spec.loader.exec_module(module)
    return sys.modules[name]


w = _load_writer()

K0 = 1_577_836_800  # 2020-01-01: keys
SIGNED = 1_709_294_400  # 2024-03-01T12:00:00Z: documents
AT = datetime(2025, 6, 1, tzinfo=timezone.utc)
AT_TS = int(AT.timestamp())
DOCUMENT = b"certbuild test document\n"
GOOD_SIGNER = w.FLAG_CERTIFY | w.FLAG_SIGN


def key(label: str, created: int = K0):
    seed = hashlib.sha256(b"certbuild " + label.encode()).digest()
    return w.key_from_private(ed25519.Ed25519PrivateKey.from_private_bytes(seed), created)


def sig(signer, sig_type: int, data: bytes, t: int, extra=()) -> bytes:
    """A signature packet (framed) by ``signer`` over ``data`` with extra hashed subpackets."""
    hashed, unhashed = w.default_subpackets(signer, t)
    return w.packet(
        w.TAG_SIGNATURE,
        w.sign(signer, w.SigSpec(sig_type, w.SHA256, hashed + list(extra), unhashed), data),
    )


def uid_packet(uid: bytes) -> bytes:
    return w.packet(w.TAG_USER_ID, uid)


def certification(
    primary,
    uid: bytes,
    t: int,
    *,
    flags: int | None = GOOD_SIGNER,
    expires: int | None = None,
    sig_type: int = w.POSITIVE_CERT,
) -> bytes:
    extra = []
    if flags is not None:
        extra.append(w.key_flags(flags))
    if expires is not None:
        extra.append(w.key_expires(expires - primary.created))
    return sig(primary, sig_type, primary.frame() + w.uid_frame(uid), t, extra)


def direct_key(primary, t: int, *, expires: int | None = None) -> bytes:
    extra = [] if expires is None else [w.key_expires(expires - primary.created)]
    return sig(primary, w.DIRECT_KEY, primary.frame(), t, extra)


def key_revocation(primary, t: int, code: int = 2) -> bytes:
    return sig(primary, w.KEY_REVOCATION, primary.frame(), t, [w.revocation_reason(code)])


def binding(primary, sub, t: int, *, flags: int = w.FLAG_SIGN, expires: int | None = None) -> bytes:
    back = w.sign(
        sub,
        w.SigSpec(w.PRIMARY_BINDING, w.SHA256, *w.default_subpackets(sub, t)),
        primary.frame() + sub.frame(),
    )
    extra = [w.key_flags(flags), w.embedded(back)]
    if expires is not None:
        extra.append(w.key_expires(expires - sub.created))
    return sig(primary, w.SUBKEY_BINDING, primary.frame() + sub.frame(), t, extra)


def subkey_revocation(primary, sub, t: int, code: int = 2) -> bytes:
    return sig(
        primary, w.SUBKEY_REVOCATION, primary.frame() + sub.frame(), t, [w.revocation_reason(code)]
    )


def document_signature(signer, t: int = SIGNED) -> bytes:
    return sig(signer, w.BINARY, DOCUMENT, t)


@dataclass
class Cert:
    """A certificate as components: (component packet, [signature packets]) in order."""

    primary: object
    components: list[tuple[bytes, list[bytes]]] = field(default_factory=list)

    def add(self, head: bytes, *sigs: bytes) -> Cert:
        self.components.append((head, list(sigs)))
        return self

    def octets(self) -> bytes:
        return b"".join(head + b"".join(sigs) for head, sigs in self.components)


def signer_cert(label: str, *, subkey: bool = False) -> tuple[Cert, object, object | None]:
    """A good certificate: primary (+ revocation slot), one user ID, optional signing subkey."""
    primary = key(label)
    uid = f"{label} <{label}@example.org>".encode()
    flags = w.FLAG_CERTIFY if subkey else GOOD_SIGNER
    cert = (
        Cert(primary)
        .add(primary.packet())
        .add(uid_packet(uid), certification(primary, uid, K0, flags=flags))
    )
    sub = None
    if subkey:
        sub = key(label + " subkey", K0 + 1)
        cert.add(sub.packet(subkey=True), binding(primary, sub, K0 + 1))
    return cert, primary, sub
