"""Write external/entries.json: the manifest entries of the gpg- and sq-made vectors.

Run by make.sh after it made the files; reads the fingerprints back with gpg, so the
entries describe exactly what was made. generate.py copies them into manifest.json.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
AT = "2025-06-01T00:00:00Z"


def keys(ring: Path) -> tuple[str, list[str]]:
    out = subprocess.run(
        ["gpg", "--batch", "--with-colons", "--show-keys", str(ring)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    fprs = [line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:")]
    return fprs[0], fprs


def issuer(sig: Path) -> str:
    out = subprocess.run(
        ["gpg", "--batch", "--list-packets", str(sig)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    found = re.search(r"issuer fpr v4 ([0-9A-F]{40})", out)
    assert found is not None, sig
    return found.group(1)


def entry(tool: str, sig: str, ring: str, proves: str) -> dict[str, object]:
    primary, _ = keys(HERE / tool / ring)
    return {
        "name": f"external/{tool}/{Path(sig).stem}",
        "file": "data/hello.txt",
        "signature": f"external/{tool}/{sig}",
        "keyrings": [f"external/{tool}/{ring}"],
        "at": AT,
        "project": None,
        "owners": None,
        "expected": "good",
        "signer_fingerprint": issuer(HERE / tool / sig),
        "primary_fingerprint": primary,
        "proves": proves,
        "oracles": {"gpgv": "good", "sqv": "good"},
        "made_by": tool,
    }


def main() -> None:
    entries = []
    for kind, label in (("rsa3072", "RSA 3072"), ("ed25519", "Ed25519 (legacy EdDSA)")):
        ring = f"{kind}-signing-subkey.pub.asc"
        entries.append(
            entry(
                "gpg",
                f"{kind}-signing-subkey.asc",
                ring,
                f"A binary signature made by gpg with an {label} signing subkey "
                "verifies against gpg's exported certificate.",
            )
        )
        entries.append(
            entry(
                "gpg",
                f"{kind}-signing-subkey-text.asc",
                ring,
                f"A text-mode signature made by gpg --textmode with an {label} "
                "signing subkey verifies.",
            )
        )
    entries.append(
        entry(
            "gpg",
            "rsa3072-primary.sig",
            "rsa3072-primary.pub.asc",
            "A binary (unarmored, old-format) signature made by gpg with an RSA "
            "3072 primary key verifies.",
        )
    )
    for suite, label in (("cv25519", "Ed25519"), ("rsa3k", "RSA 3072")):
        entries.append(
            entry(
                "sq",
                f"{suite}.asc",
                f"{suite}.pub.asc",
                f"A signature made by sq with the {label} signing subkey of an "
                f"sq-generated key ({suite} suite) verifies.",
            )
        )
    (HERE / "entries.json").write_text(json.dumps(entries, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
