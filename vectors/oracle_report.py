"""Run gpgv and sqv on every manifest vector and count where they agree with our verdict.

Usage: ``python vectors/oracle_report.py [--verbose]``. Prints, for each oracle, how many
vectors it judges as good/bad the same way as the manifest's ``expected`` verdict, and every
vector whose oracle verdict differs from what the manifest records in ``oracles``.

``tests/test_oracles.py`` imports this module for :func:`run_oracle`, so the test and the
README numbers come from one implementation.

How each oracle is run (both independent of pgpverify):
- gpgv 2.2 reads binary keyrings only, so every keyring is dearmored here (tolerantly: a
  block that does not decode is skipped) into one temporary ``.gpg`` file; GNUPGHOME is a
  temporary directory. gpgv 2.2 has no ``--faked-system-time``: it judges at the clock's now.
- sqv gets the keyrings as they are and ``--not-after <at>``, so a signature created after
  the vector's reference time is not accepted; it judges the certificate at the signature's
  creation time.
"""

from __future__ import annotations

import base64
import binascii
import json
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).resolve().parent
ORACLES = ("gpgv", "sqv")
TIMEOUT = 30


def dearmor(data: bytes) -> bytes:
    """Every armored block's binary content, concatenated; binary input is returned as is."""
    if b"-----BEGIN PGP" not in data:
        return data
    out = []
    lines = data.replace(b"\r\n", b"\n").split(b"\n")
    i = 0
    while i < len(lines):
        if not lines[i].startswith(b"-----BEGIN PGP"):
            i += 1
            continue
        i += 1
        while i < len(lines) and lines[i].strip():  # armor headers
            i += 1
        body = []
        while i < len(lines) and not lines[i].startswith((b"=", b"-----")):
            body.append(lines[i].strip())
            i += 1
        try:
            out.append(base64.b64decode(b"".join(body), validate=True))
        except (binascii.Error, ValueError):
            continue
    return b"".join(out)


def installed(oracle: str) -> bool:
    return shutil.which(oracle) is not None


def run_oracle(oracle: str, vector: dict[str, Any], root: Path = VECTORS) -> str:
    """``good`` if the oracle exits 0 on the vector, else ``bad``."""
    sig = str(root / vector["signature"])
    doc = str(root / vector["file"])
    rings = [root / k for k in vector["keyrings"]]
    with tempfile.TemporaryDirectory(prefix=f"{oracle}-") as tmp:
        if oracle == "gpgv":
            ring = Path(tmp) / "keyring.gpg"
            ring.write_bytes(b"".join(dearmor(r.read_bytes()) for r in rings))
            home = Path(tmp) / "home"
            home.mkdir(mode=0o700)
            argv = ["gpgv", "--homedir", str(home), "--keyring", str(ring), sig, doc]
        else:
            argv = ["sqv", "--not-after", vector["at"]]
            for r in rings:
                argv += ["--keyring", str(r)]
            argv += [sig, doc]
        proc = subprocess.run(argv, capture_output=True, timeout=TIMEOUT, check=False)
    return "good" if proc.returncode == 0 else "bad"


def gpgv_status(vector: dict[str, Any], root: Path = VECTORS) -> set[str]:
    """The keywords of gpgv's ``--status-fd`` lines on the vector (GOODSIG, REVKEYSIG ...).

    Notes that explain a good from gpgv by the key's state (it exits 0 and only warns)
    are checked against these: the warning must be there (tests/test_oracles.py).
    """
    rings = [root / k for k in vector["keyrings"]]
    with tempfile.TemporaryDirectory(prefix="gpgv-status-") as tmp:
        ring = Path(tmp) / "keyring.gpg"
        ring.write_bytes(b"".join(dearmor(r.read_bytes()) for r in rings))
        home = Path(tmp) / "home"
        home.mkdir(mode=0o700)
        argv = [
            "gpgv",
            "--homedir",
            str(home),
            "--status-fd",
            "1",
            "--keyring",
            str(ring),
            str(root / vector["signature"]),
            str(root / vector["file"]),
        ]
        proc = subprocess.run(argv, capture_output=True, timeout=TIMEOUT, check=False)
    return {
        line.split()[1]
        for line in proc.stdout.decode("utf-8", "replace").splitlines()
        if line.startswith("[GNUPG:] ") and len(line.split()) > 1
    }


def load_manifest(root: Path = VECTORS) -> list[dict[str, Any]]:
    data: dict[str, Any] = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    vectors: list[dict[str, Any]] = data["vectors"]
    return vectors


def run_all(oracle: str, vectors: list[dict[str, Any]]) -> dict[str, str]:
    """Vector name -> the oracle's verdict, run in parallel."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        verdicts = list(pool.map(lambda v: run_oracle(oracle, v), vectors))
    return {v["name"]: got for v, got in zip(vectors, verdicts, strict=False)}


def agreement_line(oracle: str, vectors: list[dict[str, Any]], got: dict[str, str]) -> str:
    """The README's line: on how many vectors the oracle's good/bad equals ours."""
    agree = sum(got[v["name"]] == ("good" if v["expected"] == "good" else "bad") for v in vectors)
    return f"{oracle}: agrees with our good/bad verdict on {agree} of {len(vectors)} vectors"


def main(argv: list[str]) -> int:
    verbose = "--verbose" in argv
    vectors = load_manifest()
    print(f"{len(vectors)} vectors")
    status = 0
    for oracle in ORACLES:
        if not installed(oracle):
            print(f"{oracle}: not installed")
            continue
        got = run_all(oracle, vectors)
        ours = {v["name"]: "good" if v["expected"] == "good" else "bad" for v in vectors}
        differ = [v["name"] for v in vectors if got[v["name"]] != v["oracles"][oracle]]
        print(agreement_line(oracle, vectors, got))
        if verbose:
            for v in vectors:
                if got[v["name"]] != ours[v["name"]]:
                    print(f"  {v['name']}: ours {v['expected']}, {oracle} {got[v['name']]}")
        for name in differ:
            status = 1
            print(f"  {name}: manifest records {oracle} as something else than {got[name]}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
