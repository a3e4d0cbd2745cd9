"""Worst-case inputs (issue 8 §5): every shape must get an answer in seconds, inside the caps.

Run with ``.venv/bin/python bench/worst_case.py [--quick] [--only NAME] [--before DIR]``
(``make bench`` runs it after the other benchmarks). It builds each hostile keyring and
signature file in ``bench/.work/worst/`` from the fixed test-only keys of ``vectors/``, loads
the keyring and verifies one file in this process, and prints per shape: the keyring's
size, the load and verify times, the verdict and the number of public-key operations
(counted by wrapping ``PublicKey.verify``). The verdict is checked: a shape that gets an
unexpected verdict, or takes longer than ``LIMIT_SECONDS``, is a MISS.

``--before DIR`` runs the same shapes against another checkout (e.g. one made with
``git archive <commit> | tar -x -C DIR``) to print what the caps changed; shapes that the
old code cannot finish in ``--timeout`` seconds are reported as such.

Threat model: the attacker writes the keyring(s) and the signature file; junk signatures
carry correct 16-bit hash prefixes (2**16 hashes each to make), so each one costs a real
public-key operation to refute.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
VECTORS = ROOT / "vectors"
WORK_DIR = BENCH_DIR / ".work" / "worst"
LIMIT_SECONDS = 10.0

K0 = 1_577_836_800  # 2020-01-01: keys
SIGNED = 1_709_294_400  # 2024-03-01T12:00:00Z: the document signature
AT = datetime(2025, 6, 1, tzinfo=timezone.utc)
DOCUMENT = b"pgpverify worst-case benchmark document\n"


def _load_writer() -> Any:
    spec = importlib.util.spec_from_file_location("worst_writer", VECTORS / "_writer.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["worst_writer"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


w = _load_writer()


# -- keys ----------------------------------------------------------------------------------


def ed_key(label: str, created: int = K0) -> Any:
    seed = hashlib.sha256(b"worst case " + label.encode()).digest()
    return w.key_from_private(ed25519.Ed25519PrivateKey.from_private_bytes(seed), created)


def alice() -> Any:
    """The RSA 3072 test-only key of the vectors (vectors/private/alice.pem)."""
    pem = (VECTORS / "private" / "alice.pem").read_bytes()
    return w.key_from_private(serialization.load_pem_private_key(pem, None), K0)


def rsa_material(bits: int, exponent: int, seed: int) -> Any:
    """A public RSA key with no private half: a modulus of ``bits`` bits, any exponent."""
    n = random.Random(seed).getrandbits(bits) | (1 << (bits - 1)) | 1
    return w.Key(w.RSA, K0, w.mpi(n) + w.mpi(exponent))


def public_only(key: Any) -> Any:
    return w.Key(key.algo, key.created, key.material, None, key.curve)


# -- signatures ----------------------------------------------------------------------------


def sixty_four(signer: Any) -> bytes:
    """64 good signatures of the document (the cap on signature packets), one per second."""
    return b"".join(sig(signer, w.BINARY, DOCUMENT, SIGNED + i) for i in range(64))


def sig(
    signer: Any,
    sig_type: int,
    data: bytes,
    t: int,
    extra: Sequence[Any] = (),
    *,
    junk: bool = False,
) -> bytes:
    """A signature packet; ``junk``: correct hash prefix, value that does not verify."""
    hashed, unhashed = w.default_subpackets(signer, t)
    key = public_only(signer) if junk else signer
    spec = w.SigSpec(sig_type, w.SHA256, hashed + list(extra), unhashed)
    return bytes(w.packet(w.TAG_SIGNATURE, w.sign(key, spec, data)))


def uid_data(primary: Any, uid: bytes) -> bytes:
    return bytes(primary.frame() + w.uid_frame(uid))


def certification(primary: Any, uid: bytes, t: int, *, junk: bool = False) -> bytes:
    flags = w.key_flags(w.FLAG_CERTIFY | w.FLAG_SIGN)
    return sig(primary, w.POSITIVE_CERT, uid_data(primary, uid), t, [flags], junk=junk)


def packet(tag: int, body: bytes) -> bytes:
    return bytes(w.packet(tag, body))


# -- shapes --------------------------------------------------------------------------------


@dataclass
class Shape:
    """One hostile input: keyring and signature bytes, and the verdict it must get."""

    name: str
    what: str
    keyring: bytes
    signatures: bytes
    expected: str


def junk_self_signatures(n: int, *, newer: bool) -> Shape:
    key = alice()
    uid = b"Alice Owner <alice@example.org>"
    real = certification(key, uid, K0 + 10)
    start = K0 + 20 if newer else K0 - n - 1
    junk = [certification(key, uid, start + i, junk=True) for i in range(n)]
    ring = b"".join([packet(w.TAG_PUBLIC_KEY, key.body), packet(w.TAG_USER_ID, uid), real, *junk])
    when = "newer" if newer else "older"
    return Shape(
        f"junk-self-signatures-{when}",
        f"RSA 3072 key, {n:,} junk self-signatures {when} than the real one, 64 signatures",
        ring,
        sixty_four(key),
        "malformed" if newer else "good",
    )


def huge_exponent_key() -> Any:
    """Alice's RSA 3072 primes with a 3001-bit public exponent: a real key, valid math."""
    pem = (VECTORS / "private" / "alice.pem").read_bytes()
    loaded = serialization.load_pem_private_key(pem, None)
    assert isinstance(loaded, rsa.RSAPrivateKey)
    nums = loaded.private_numbers()
    p, q = nums.p, nums.q
    phi = (p - 1) * (q - 1)
    e = (1 << 3000) + 1
    while math.gcd(e, phi) != 1:
        e += 2
    d = pow(e, -1, phi)
    private = rsa.RSAPrivateNumbers(
        p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), rsa.RSAPublicNumbers(e, p * q)
    ).private_key(unsafe_skip_rsa_key_validation=True)
    return w.key_from_private(private, K0)


def huge_exponent(n: int) -> Shape:
    key = huge_exponent_key()
    uid = b"Huge Exponent <huge@example.org>"
    junk = [certification(key, uid, K0 + 20 + i, junk=True) for i in range(n)]
    ring = b"".join(
        [
            packet(w.TAG_PUBLIC_KEY, key.body),
            packet(w.TAG_USER_ID, uid),
            certification(key, uid, K0 + 10),
            *junk,
        ]
    )
    return Shape(
        "huge-exponent",
        f"RSA 3072 key with a 3001-bit public exponent, {n:,} junk "
        "self-signatures newer than its real one",
        ring,
        sig(key, w.BINARY, DOCUMENT, SIGNED),
        "weak-key",
    )


def junk_revocations(n: int) -> Shape:
    key = alice()
    uid = b"Alice Owner <alice@example.org>"
    reason = [w.revocation_reason(2)]
    junk = [
        sig(key, w.KEY_REVOCATION, bytes(key.frame()), SIGNED + 10 + i, reason, junk=True)
        for i in range(n)
    ]
    ring = b"".join(
        [
            packet(w.TAG_PUBLIC_KEY, key.body),
            *junk,
            packet(w.TAG_USER_ID, uid),
            certification(key, uid, K0 + 10),
        ]
    )
    return Shape(
        "junk-revocations",
        f"RSA 3072 key, {n:,} junk hard revocations, 64 signatures",
        ring,
        sixty_four(key),
        "malformed",
    )


def flooded_candidates(certs: int, junk: int) -> Shape:
    """Many flooded certificates, one signature naming each: decoding is what costs."""
    base = alice()  # RSA: a junk value still parses (one MPI), so each costs an operation
    parts = []
    sigs = []
    for i in range(certs):
        key = w.Key(base.algo, K0 - 1 - i, base.material, base.private)
        uid = f"Flooded {i} <flooded{i}@example.org>".encode()
        parts += [
            packet(w.TAG_PUBLIC_KEY, key.body),
            packet(w.TAG_USER_ID, uid),
            *(certification(key, uid, K0 - 1 - i + 10 + j, junk=True) for j in range(junk)),
        ]
        sigs.append(sig(key, w.BINARY, DOCUMENT, SIGNED))
    return Shape(
        "flooded-candidates",
        f"{certs} certificates of {junk + 2:,} packets each, one signature by each",
        b"".join(parts),
        b"".join(sigs),
        "malformed",
    )


def shared_subkey(n: int, signatures: int) -> Shape:
    sub = ed_key("shared subkey", K0 + 1)
    sub_packet = packet(w.TAG_PUBLIC_SUBKEY, sub.body)
    base = ed_key("holder")
    parts = []
    for i in range(n):
        primary = w.Key(base.algo, K0 - 1 - i, base.material)  # distinct fingerprints
        parts += [packet(w.TAG_PUBLIC_KEY, primary.body), sub_packet]
    sigs = b"".join(sig(sub, w.BINARY, DOCUMENT, SIGNED + i) for i in range(signatures))
    return Shape(
        f"shared-subkey-{n}",
        f"{n:,} certificates sharing one subkey, {signatures} signatures by it",
        b"".join(parts),
        sigs,
        "malformed",
    )


def largest_operations(holders: int, signatures: int) -> Shape:
    """The costliest operation accepted (RSA 16384, exponent 2**33 - 1), as often as allowed."""
    sub = rsa_material(16384, (1 << 33) - 1, 16384)
    sub = w.Key(w.RSA, K0 + 1, sub.material)
    sub_packet = packet(w.TAG_PUBLIC_SUBKEY, sub.body)
    base = ed_key("rsa16384 holder")
    parts = []
    for i in range(holders):
        primary = w.Key(base.algo, K0 - 1 - i, base.material)
        parts += [packet(w.TAG_PUBLIC_KEY, primary.body), sub_packet]
    sigs = b"".join(sig(sub, w.BINARY, DOCUMENT, SIGNED + i, junk=True) for i in range(signatures))
    return Shape(
        "rsa16384-budget",
        f"{holders} certificates sharing an RSA 16384 subkey with exponent "
        f"2**33-1, {signatures} signatures by it (correct prefixes)",
        b"".join(parts),
        sigs,
        "bad-signature",
    )


def many_user_ids(n: int) -> Shape:
    """Junk self-signatures spread one per user ID, on a primary that costs the most."""
    primary = rsa_material(16384, (1 << 33) - 1, 4880)
    signing = ed_key("many user ids subkey", K0 + 1)
    parts = [packet(w.TAG_PUBLIC_KEY, primary.body)]
    for i in range(n):
        uid = f"user {i} <u{i}@example.org>".encode()
        parts += [packet(w.TAG_USER_ID, uid), certification(primary, uid, K0 + 20, junk=True)]
    parts += [
        packet(w.TAG_PUBLIC_SUBKEY, signing.body),
        sig(
            primary,
            w.SUBKEY_BINDING,
            bytes(primary.frame() + signing.frame()),
            K0 + 1,
            [w.key_flags(w.FLAG_SIGN)],
            junk=True,
        ),
    ]
    return Shape(
        "many-user-ids",
        f"RSA 16384 primary (exponent 2**33-1), {n:,} user IDs each with a "
        "junk self-signature; 64 good signatures by its Ed25519 subkey",
        b"".join(parts),
        sixty_four(signing),
        "malformed",
    )


def many_subkeys(n: int) -> Shape:
    primary = ed_key("many subkeys")
    uid = b"Many Subkeys <many@example.org>"
    parts = [
        packet(w.TAG_PUBLIC_KEY, primary.body),
        packet(w.TAG_USER_ID, uid),
        sig(primary, w.POSITIVE_CERT, uid_data(primary, uid), K0, [w.key_flags(w.FLAG_CERTIFY)]),
    ]
    base = ed_key("many subkeys subkey")
    for i in range(n):
        sub = w.Key(base.algo, K0 + 1 + i, base.material)
        data = bytes(primary.frame() + sub.frame())
        parts += [
            packet(w.TAG_PUBLIC_SUBKEY, sub.body),
            sig(primary, w.SUBKEY_BINDING, data, K0 + 1 + i, [w.key_flags(w.FLAG_SIGN)], junk=True),
        ]
    signing = ed_key("many subkeys signing", K0 + n + 10)
    hashed, unhashed = w.default_subpackets(signing, K0 + n + 10)
    back = w.sign(
        signing,
        w.SigSpec(w.PRIMARY_BINDING, w.SHA256, hashed, unhashed),
        primary.frame() + signing.frame(),
    )
    parts += [
        packet(w.TAG_PUBLIC_SUBKEY, signing.body),
        sig(
            primary,
            w.SUBKEY_BINDING,
            bytes(primary.frame() + signing.frame()),
            K0 + n + 10,
            [w.key_flags(w.FLAG_SIGN), w.embedded(back)],
        ),
    ]
    return Shape(
        "many-subkeys",
        f"Ed25519 key with {n:,} subkeys (junk bindings) and a good signing "
        "subkey last, 64 signatures by it",
        b"".join(parts),
        sixty_four(signing),
        "good",
    )


def shapes(quick: bool) -> list[tuple[str, Callable[[], Shape]]]:
    """Full size: at the default caps (100,000 packets per certificate, 200,000 certificates)."""
    junk = 20_000 if quick else 99_990
    certs = 20_000 if quick else 200_000
    return [
        ("junk-self-signatures-newer", lambda: junk_self_signatures(junk, newer=True)),
        ("junk-self-signatures-older", lambda: junk_self_signatures(junk, newer=False)),
        ("huge-exponent", lambda: huge_exponent(junk)),
        ("junk-revocations", lambda: junk_revocations(junk)),
        (f"shared-subkey-{certs}", lambda: shared_subkey(certs, 64)),
        ("flooded-candidates", lambda: flooded_candidates(10, junk)),
        ("rsa16384-budget", lambda: largest_operations(16, 64)),
        ("many-user-ids", lambda: many_user_ids(junk // 2)),
        ("many-subkeys", lambda: many_subkeys(junk // 2)),
    ]


# -- measuring -----------------------------------------------------------------------------

# Runs in a child: load the keyring, verify, print times, verdict and operations as JSON.
_CHILD = """
import json, sys, time
from datetime import datetime
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from pgpverify import Keyring, Verifier
from pgpverify.openpgp.keymaterial import PublicKey
calls = [0]
real = PublicKey.verify
def counting(self, *args):
    calls[0] += 1
    return real(self, *args)
PublicKey.verify = counting
work = Path(sys.argv[2])
start = time.perf_counter()
ring = Keyring.from_files([work / "ring.gpg"])
loaded = time.perf_counter()
result = Verifier(ring).verify(work / "doc.txt", work / "doc.txt.asc",
                               at=datetime.fromisoformat(sys.argv[3]))
done = time.perf_counter()
print(json.dumps({"load": loaded - start, "verify": done - loaded,
                  "reason": result.reason.value, "message": result.message,
                  "operations": calls[0]}))
"""


def measure(shape: Shape, code: Path, timeout: float) -> dict[str, Any] | None:
    """Load and verify ``shape`` with the pgpverify at ``code``; None after ``timeout``."""
    work = WORK_DIR / shape.name
    work.mkdir(parents=True, exist_ok=True)
    (work / "ring.gpg").write_bytes(shape.keyring)
    (work / "doc.txt").write_bytes(DOCUMENT)
    (work / "doc.txt.asc").write_bytes(shape.signatures)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, str(code), str(work), AT.isoformat()],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:]}
    found: dict[str, Any] = json.loads(proc.stdout)
    return found


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a fifth of the sizes")
    parser.add_argument("--only", action="append", help="run only this shape (repeatable)")
    parser.add_argument("--before", type=Path, help="also run another checkout of pgpverify")
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds before giving up on the --before checkout",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(
        f"worst-case inputs ({'quick' if args.quick else 'full'}), {os.cpu_count()} CPUs, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(f"{'shape':30} {'keyring':>9} {'load':>7} {'verify':>7} {'ops':>5}  verdict")
    missed = 0
    for name, build in shapes(args.quick):
        if args.only and name not in args.only:
            continue
        shape = build()
        size = f"{len(shape.keyring) / (1 << 20):.1f} MB"
        runs = [("", ROOT, 3600.0)]
        if args.before is not None:
            runs.append((" (before)", args.before, args.timeout))
        for label, code, timeout in runs:
            got = measure(shape, code, timeout)
            if got is None:
                print(
                    f"{name + label:30} {size:>9} {'-':>7} {'>' + str(int(timeout)) + ' s':>7}"
                    f" {'-':>5}  no answer"
                )
                continue
            if "error" in got:
                print(f"{name + label:30} {size:>9} error: {got['error']}")
                missed += not label
                continue
            total = got["load"] + got["verify"]
            ok = got["reason"] == shape.expected and total <= LIMIT_SECONDS
            status = "" if label else ("  PASS" if ok else "  MISS")
            missed += not ok and not label
            print(
                f"{name + label:30} {size:>9} {got['load']:6.2f}s {got['verify']:6.2f}s "
                f"{got['operations']:>5}  {got['reason']}{status}"
            )
            if not label:
                print(f"{'':30}   {shape.what}; {got['message'][:90]}")
    print(f"{missed} shape(s) missed (unexpected verdict or over {LIMIT_SECONDS:.0f} s)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
