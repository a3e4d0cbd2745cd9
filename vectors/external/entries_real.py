"""Write external/real/entries.json: the manifest entries of make_real.sh's vectors.

Run by make_real.sh after it made the files; reads fingerprints back with gpg, so the
entries describe exactly what was made. generate.py copies them into manifest.json; what
gpgv and sqv say where it differs from the expected verdict is in ``oracle_notes.py``.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent / "real"
AT = "2025-06-01T00:00:00Z"

#: (name, signature, keyrings, expected, at or None, proves)
CASES: list[tuple[str, str, list[str], str, str | None, str]] = [
    (
        "ed25519",
        "ed25519.asc",
        ["ed25519.pub.asc"],
        "good",
        None,
        (
            "A gpg Ed25519 primary key's detached signature verifies: the good twin of the "
            "wrong-shape signature files below (same key, same document)."
        ),
    ),
    (
        "inline-signed-as-signature",
        "inline-signed.gpg",
        ["ed25519.pub.asc"],
        "malformed",
        None,
        (
            "gpg --sign output (a compressed inline-signed message) given as the signature is "
            "malformed, and the reason names it, never a traceback or a good."
        ),
    ),
    (
        "clearsigned-as-signature",
        "clearsigned.asc",
        ["ed25519.pub.asc"],
        "malformed",
        None,
        (
            "gpg --clearsign output given as the signature is malformed, and the reason names "
            "a clear-signed message."
        ),
    ),
    (
        "notation",
        "notation.asc",
        ["ed25519.pub.asc"],
        "good",
        None,
        "A non-critical notation (gpg --sig-notation) changes nothing: good.",
    ),
    (
        "notation-critical",
        "notation-critical.asc",
        ["ed25519.pub.asc"],
        "malformed",
        None,
        (
            "A critical notation (gpg --sig-notation '!name=value') makes the signature invalid "
            "(RFC 9580 §5.2.3.24): malformed, as gpgv and sqv reject it."
        ),
    ),
    (
        "policy-url-critical",
        "policy-url-critical.asc",
        ["ed25519.pub.asc"],
        "good",
        None,
        "A critical policy URI (gpg --sig-policy-url '!...') is a known subpacket: good.",
    ),
    (
        "signature-expired",
        "sig-expires.asc",
        ["ed25519.pub.asc"],
        "signature-expired",
        None,
        "A signature made with gpg --default-sig-expire 1y (2024-03-01) has expired at 2025-06-01.",
    ),
    (
        "signature-expires-later",
        "sig-expires.asc",
        ["ed25519.pub.asc"],
        "good",
        "2024-06-01T00:00:00Z",
        "The same signature judged at 2024-06-01, before it expires: good.",
    ),
    (
        "enarmored-signature",
        "enarmored.asc",
        ["ed25519.pub.asc"],
        "good",
        None,
        (
            "A binary signature wrapped by gpg --enarmor (an ARMORED FILE block) verifies, as "
            "gpgv and sqv read it."
        ),
    ),
    (
        "byte-order-mark",
        "byte-order-mark.asc",
        ["ed25519.pub.asc"],
        "malformed",
        None,
        (
            "The good signature saved with a UTF-8 byte order mark in front is malformed (so "
            "it is for gpgv and sqv), and the reason names the mark."
        ),
    ),
    (
        "two-blocks-bad-then-good",
        "two-blocks-bad-then-good.asc",
        ["ed25519.pub.asc"],
        "good",
        None,
        (
            "Two armored blocks in one signature file, a signature over another file and then "
            "the good one: the file is good if any signature is."
        ),
    ),
    (
        "secret-key-as-keyring",
        "ed25519.asc",
        ["ed25519.secret.asc"],
        "unknown-key",
        None,
        (
            "A secret key exported by mistake (gpg --export-secret-keys) is skipped with a "
            "warning, never read as the public key: unknown-key."
        ),
    ),
    (
        "revocation-certificate-twin",
        "revcert.asc",
        ["revcert.pub.asc"],
        "good",
        None,
        "The key before its gpg --gen-revoke certificate is applied: good.",
    ),
    (
        "revocation-certificate-appended",
        "revcert.asc",
        ["revcert-appended.pub.asc"],
        "key-revoked",
        None,
        (
            "gpg --gen-revoke's certificate (a PUBLIC KEY BLOCK of one key revocation) appended "
            "to the armored key revokes it."
        ),
    ),
    (
        "revocation-certificate-appended-binary",
        "revcert.asc",
        ["revcert-appended-binary.pub.gpg"],
        "good",
        None,
        (
            "The same revocation appended to the binary key lands after its user ID, where a "
            "key revocation does not belong: ignored there, as gpg --import ignores it."
        ),
    ),
    (
        "superseded-signature-before",
        "superseded-before.asc",
        ["superseded.pub.asc"],
        "good",
        None,
        (
            "A key revoked as superseded (gpg --gen-revoke, imported) at 2024-06-01: its "
            "signature from 2024-03-01 stays good."
        ),
    ),
    (
        "superseded-signature-after",
        "superseded-after.asc",
        ["superseded.pub.asc"],
        "key-revoked",
        None,
        "Its signature from 2024-07-01, after the revocation, is rejected.",
    ),
    (
        "revoked-subkey",
        "revsub-old.asc",
        ["revsub.pub.asc"],
        "key-revoked",
        None,
        (
            "A signing subkey revoked with gpg --edit-key revkey (no reason: hard): its "
            "signature is rejected."
        ),
    ),
    (
        "revoked-subkey-new-subkey",
        "revsub-new.asc",
        ["revsub.pub.asc"],
        "good",
        None,
        "The signature by the signing subkey added after the revocation is good.",
    ),
    (
        "expired-subkey",
        "expired-subkey.asc",
        ["expired-subkey.pub.asc"],
        "key-expired",
        None,
        (
            "A signing subkey that expired on 2022-01-01 after signing on 2021-01-01 is expired "
            "at the reference time 2025-06-01."
        ),
    ),
    (
        "expired-subkey-in-window",
        "expired-subkey.asc",
        ["expired-subkey.pub.asc"],
        "good",
        "2021-06-01T00:00:00Z",
        "The same signature judged at 2021-06-01, while the subkey was valid: good.",
    ),
    (
        "expiry-extended-after-signing",
        "extended.asc",
        ["extended.pub.asc"],
        "good",
        None,
        (
            "A key that expired in 2021, extended in 2022 to 2030 with gpg --quick-set-expire "
            "(which replaces the old self-signature): its signature from 2020 is good."
        ),
    ),
    (
        "designated-revoker",
        "victim.asc",
        ["victim.pub.asc", "revoker.pub.asc"],
        "key-revoked",
        None,
        (
            "A key revoked by its designated revoker (gpg --desig-revoke, imported), with the "
            "revoker's certificate in the keyrings: rejected, as gpg does."
        ),
    ),
    (
        "designated-revoker-not-in-keyrings",
        "victim.asc",
        ["victim.pub.asc"],
        "good",
        None,
        (
            "The same without the revoker's certificate: the revocation cannot be checked "
            "and counts for nothing (gpgv agrees)."
        ),
    ),
    (
        "photo-id",
        "photo-id.asc",
        ["photo-id.pub.asc"],
        "good",
        None,
        "A key with a photo ID (a user attribute packet) and a revoked second user ID verifies.",
    ),
    (
        "brainpoolP256r1",
        "brainpoolP256r1.asc",
        ["brainpoolP256r1.pub.asc"],
        "good",
        None,
        "An ECDSA brainpoolP256r1 key made by gpg --expert verifies.",
    ),
    (
        "secp256k1",
        "secp256k1.asc",
        ["secp256k1.pub.asc"],
        "good",
        None,
        "An ECDSA secp256k1 key made by gpg --expert verifies.",
    ),
    (
        "nistp384",
        "nistp384.asc",
        ["nistp384.pub.asc"],
        "good",
        None,
        "An ECDSA NIST P-384 key made by gpg verifies.",
    ),
    (
        "dsa2048",
        "dsa2048.asc",
        ["dsa2048.pub.asc"],
        "good",
        None,
        "A DSA 2048 key made by gpg --expert verifies (SHA-256, as gpg picks for its q).",
    ),
    (
        "dsa1024",
        "dsa1024.asc",
        ["dsa1024.pub.asc"],
        "weak-hash",
        None,
        (
            "A DSA 1024 key signs with SHA-1 (its 160-bit q): weak-hash, which ranks before "
            "its weak key."
        ),
    ),
    (
        "sq",
        "sq.asc",
        ["sq.pub.asc"],
        "good",
        None,
        (
            "sq's default key (certification-only primary, Ed25519 signing subkey) verifies: "
            "the good twin of the sq rejections below."
        ),
    ),
    (
        "sq-binary",
        "sq-binary.sig",
        ["sq.pub.asc"],
        "good",
        None,
        "sq sign --detached --binary: an unarmored signature verifies.",
    ),
    (
        "sq-inline-signed-as-signature",
        "sq-inline.asc",
        ["sq.pub.asc"],
        "malformed",
        None,
        (
            "sq sign without --detached (an inline-signed PGP MESSAGE) given as the signature "
            "is malformed, and the reason names it."
        ),
    ),
    (
        "sq-notation-critical",
        "sq-notation-critical.asc",
        ["sq.pub.asc"],
        "malformed",
        None,
        "sq sign --notation '!name' value: a critical notation makes the signature invalid.",
    ),
    (
        "sq-revocation-certificate",
        "sq.asc",
        ["sq.pub.asc", "sq-revocation.asc"],
        "key-revoked",
        None,
        (
            "sq revoke certificate's output (a SIGNATURE block holding a key revocation) given "
            "as a second keyring revokes the key, as sqv applies it."
        ),
    ),
]


def _gpg(*args: str) -> str:
    return subprocess.run(
        ["gpg", "--batch", *args], capture_output=True, text=True, check=False
    ).stdout


def primary(ring: Path) -> str | None:
    if "secret" in ring.name:
        return None
    out = _gpg("--with-colons", "--show-keys", str(ring))
    return next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))


def issuer(sig: Path) -> str:
    found = re.search(r"issuer fpr v4 ([0-9A-F]{40})", _gpg("--list-packets", str(sig)))
    assert found is not None, sig
    return found.group(1)


def main() -> None:
    entries = []
    for name, sig, rings, expected, at, proves in CASES:
        known = expected not in ("malformed", "unknown-key")
        bad = "good" if expected == "good" else "bad"
        entries.append(
            {
                "name": f"external/real/{name}",
                "file": "data/hello.txt",
                "signature": f"external/real/{sig}",
                "keyrings": [f"external/real/{ring}" for ring in rings],
                "at": at or AT,
                "project": None,
                "owners": None,
                "expected": expected,
                "signer_fingerprint": issuer(HERE / sig) if known else None,
                "primary_fingerprint": primary(HERE / rings[0]) if known else None,
                "proves": proves,
                "oracles": {"gpgv": bad, "sqv": bad},
                "made_by": "sq" if name.startswith("sq") else "gpg",
            }
        )
    (HERE / "entries.json").write_text(json.dumps(entries, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
