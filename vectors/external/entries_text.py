"""Write external/gpg-text/entries.json: manifest entries of the gpg --textmode vectors.

Run by make_text.sh after it made the files; generate.py copies the entries into
manifest.json (``"made_by": "gpg"``). Each signature has a good entry over the file gpg
signed and a bad twin over the copy with one octet changed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent / "gpg-text"
AT = "2025-06-01T00:00:00Z"

#: signature stem -> (data file, what the file is)
CASES = {
    "lone-cr-at-end": ("lone-cr-at-end.txt", "a file ending in a lone CR (GnuPG drops it)"),
    "crlf": ("crlf.txt", "a CRLF file"),
    "cr-runs": ("cr-runs.txt", "CR runs before LF (GnuPG drops them)"),
    "trailing-whitespace": (
        "trailing-whitespace.txt",
        "trailing spaces and tabs (kept by default)",
    ),
    "trailing-whitespace-rfc2440": (
        "trailing-whitespace.txt",
        "trailing spaces and tabs, with --rfc2440-text (dropped)",
    ),
    "no-final-newline": ("no-final-newline.txt", "a last line without LF"),
    "lone-cr-mid-line": ("lone-cr-mid-line.txt", "a lone CR inside a line (GnuPG keeps it)"),
    "binary": ("binary.bin", "a binary file signed in text mode"),
}


def fingerprints() -> str:
    out = subprocess.run(
        ["gpg", "--batch", "--with-colons", "--show-keys", str(HERE / "textmode.pub.asc")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))


def entry(name: str, stem: str, file: str, expected: str, proves: str) -> dict[str, object]:
    fpr = fingerprints()
    default = "good" if expected == "good" else "bad"
    return {
        "name": name,
        "file": f"external/gpg-text/data/{file}",
        "signature": f"external/gpg-text/{stem}.asc",
        "keyrings": ["external/gpg-text/textmode.pub.asc"],
        "at": AT,
        "project": None,
        "owners": None,
        "expected": expected,
        "signer_fingerprint": fpr,
        "primary_fingerprint": fpr,
        "proves": proves,
        "oracles": {"gpgv": default, "sqv": default},
        "made_by": "gpg",
    }


def main() -> None:
    entries = []
    for stem, (file, what) in CASES.items():
        flag = "--textmode --rfc2440-text" if stem.endswith("rfc2440") else "--textmode"
        entries.append(
            entry(
                f"external/gpg-text/{stem}",
                stem,
                file,
                "good",
                f"A gpg {flag} signature over {what} verifies as gpgv verifies it.",
            )
        )
        base, ext = file.rsplit(".", 1)
        entries.append(
            entry(
                f"external/gpg-text/{stem}-altered",
                stem,
                f"{base}-altered.{ext}",
                "bad-signature",
                f"The same gpg {flag} signature over the file with one octet "
                "changed is bad in every canonical form.",
            )
        )
    (HERE / "entries.json").write_text(json.dumps(entries, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
