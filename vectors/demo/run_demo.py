"""Run pgpverify on the four demo cases and check each gives its expected exit code.

Usage: ``python vectors/demo/run_demo.py`` (``make demo``). Each case runs
``python -m pgpverify verify <wheel> --keyring keyring.asc --project demo-pkg --owners
owners/demo-pkg.json --at 2025-06-01T00:00:00Z`` in a subprocess and prints its output;
the good case is shown again as JSON. Exit status 0 iff every case behaved as expected.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parent
ROOT = DEMO.parent.parent
WHEEL = "demo_pkg-1.0.0-py3-none-any.whl"
AT = "2025-06-01T00:00:00Z"

#: (heading, directory under demo/, expected exit code)
CASES = [
    ("good: the wheel as published, signed by alice (Owner)", "", 0),
    ("tampered: one byte of the wheel changed after signing", "tampered", 1),
    ("revoked: signed by dave, whose key was revoked as compromised", "revoked", 1),
    ("not-owner: signed by mallory, who is not a maintainer of demo-pkg", "not-owner", 1),
]


def run(where: str, fmt: str) -> subprocess.CompletedProcess[str]:
    wheel = DEMO / where / WHEEL
    argv = [
        sys.executable, "-m", "pgpverify", "verify", str(wheel.relative_to(ROOT)),
        "--keyring", "vectors/demo/keyring.asc",
        "--project", "demo-pkg", "--owners", "vectors/demo/owners/demo-pkg.json",
        "--at", AT, "--format", fmt,
    ]
    print("$ " + " ".join(["python", *argv[1:]]))
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)


def main() -> int:
    failures = []
    for heading, where, expected in CASES:
        print(f"\n=== {heading} ===")
        proc = run(where, "text")
        print((proc.stdout + proc.stderr).rstrip())
        print(f"(exit code {proc.returncode}, expected {expected})")
        if proc.returncode != expected:
            failures.append(heading)
    print("\n=== the good case as JSON ===")
    proc = run("", "json")
    print(proc.stdout.rstrip())
    if proc.returncode != 0:
        failures.append("good case as JSON")
    print()
    if failures:
        print("DEMO FAILED: " + "; ".join(failures))
        return 1
    print("demo: all four cases gave their expected exit codes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
