"""``make demo``: pgpverify on the bundled demo material, then against a real local index.

Part 1 runs ``pgpverify verify`` with local keyrings on four cases (good, tampered,
revoked, not an owner). Part 2 builds an index the way an operator would (``pgpverify
publish`` of the maintainers' keys and ownership record, simple pages, the wheel and its
``.asc``), serves it with ``python -m http.server`` on 127.0.0.1, verifies against it with
``--index-url`` (signature and keys fetched from the index), shows a compromised index
adding a signer being caught by the trust memory (``--fail-on-key-change``), a lock
file used offline and an audit of the whole index, then stops the server; the audit store
then re-judges offline and writes its report (``build/demo-audit/``).

Exit status 0 iff every step gave its expected exit code.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

DEMO = Path(__file__).resolve().parent
ROOT = DEMO.parent.parent
WHEEL = "demo_pkg-1.0.0-py3-none-any.whl"
AT = "2025-06-01T00:00:00Z"
MALLORY = "88199D93B4210BBED4A2245EDD771D2D3E8DF380"

#: (heading, directory under demo/, expected exit code)
CASES = [
    ("good: the wheel as published, signed by alice (Owner)", "", 0),
    ("tampered: one byte of the wheel changed after signing", "tampered", 1),
    ("revoked: signed by dave, whose key was revoked as compromised", "revoked", 1),
    ("not-owner: signed by mallory, who is not a maintainer of demo-pkg", "not-owner", 1),
]


class Demo:
    """Runs commands, prints them with their output, and counts unexpected exit codes."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.work: str | None = None

    def shorten(self, text: str) -> str:
        text = text.replace(str(ROOT) + "/", "")
        return text.replace(self.work, "$WORK") if self.work else text

    def run(self, heading: str, args: list[str], expected: int, *, cwd: Path = ROOT) -> str:
        print(f"\n=== {heading} ===")
        print("$ pgpverify " + " ".join(self.shorten(a) for a in args))
        proc = subprocess.run(
            [sys.executable, "-m", "pgpverify", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
        )
        print(self.shorten((proc.stdout + proc.stderr).rstrip()))
        print(f"(exit code {proc.returncode}, expected {expected})")
        if proc.returncode != expected:
            self.failures.append(heading)
        return proc.stdout


def split_keyring(path: Path) -> list[bytes]:
    """The armored blocks of a keyring file (one certificate each in the demo keyring)."""
    text = path.read_bytes()
    begin, end = b"-----BEGIN PGP PUBLIC KEY BLOCK-----", b"-----END PGP PUBLIC KEY BLOCK-----"
    blocks = []
    start = text.find(begin)
    while start >= 0:
        stop = text.index(end, start) + len(end)
        blocks.append(text[start:stop] + b"\n")
        start = text.find(begin, stop)
    return blocks


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            msg = f"the index server exited with {proc.returncode}"
            raise RuntimeError(msg)
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    msg = f"the index server at {url} did not start"
    raise RuntimeError(msg)


def part_one(demo: Demo) -> None:
    print("##### Part 1: local keyrings #####")
    for heading, where, expected in CASES:
        wheel = DEMO / where / WHEEL
        demo.run(
            heading,
            [
                "verify",
                str(wheel),
                "--keyring",
                str(DEMO / "keyring.asc"),
                "--project",
                "demo-pkg",
                "--owners",
                str(DEMO / "owners" / "demo-pkg.json"),
                "--at",
                AT,
            ],
            expected,
        )
    demo.run(
        "the good case as JSON",
        [
            "verify",
            str(DEMO / WHEEL),
            "--keyring",
            str(DEMO / "keyring.asc"),
            "--project",
            "demo-pkg",
            "--owners",
            str(DEMO / "owners" / "demo-pkg.json"),
            "--at",
            AT,
            "--format",
            "json",
        ],
        0,
    )


def build_index(demo: Demo, work: Path) -> Path:
    """What an index operator does: publish the pgp/ tree, lay out simple pages and files."""
    keys = work / "maintainer-keys"
    keys.mkdir()
    for i, block in enumerate(split_keyring(DEMO / "keyring.asc")):
        (keys / f"key{i}.asc").write_bytes(block)
    owners = work / "records"
    owners.mkdir()
    record = json.loads((DEMO / "owners" / "demo-pkg.json").read_text(encoding="utf-8"))
    (owners / "demo-pkg.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    tree = work / "index"
    misfiled = owners / "other-pkg.json"
    misfiled.write_text(json.dumps(record, indent=2), encoding="utf-8")
    demo.run(
        "publish refuses a record filed under another project's name, listing why",
        [
            "publish",
            "--keys",
            str(keys),
            "--owners",
            str(owners),
            "-o",
            str(tree),
        ],
        1,
    )
    misfiled.unlink()
    demo.run(
        "publish the pgp/ tree; dave's revoked key is published too (with a warning), "
        "so that verifiers learn of the revocation",
        [
            "publish",
            "--keys",
            str(keys),
            "--owners",
            str(owners),
            "-o",
            str(tree),
        ],
        0,
    )
    packages = tree / "packages"
    packages.mkdir()
    shutil.copy(DEMO / WHEEL, packages / WHEEL)
    shutil.copy(DEMO / f"{WHEEL}.asc", packages / f"{WHEEL}.asc")
    page = tree / "simple" / "demo-pkg"
    page.mkdir(parents=True)
    (tree / "simple" / "index.html").write_text(
        '<!DOCTYPE html><html><body><a href="demo-pkg/">demo-pkg</a></body></html>\n',
        encoding="utf-8",
    )
    (page / "index.html").write_text(
        "<!DOCTYPE html><html><body>"
        f'<a href="../../packages/{WHEEL}#sha256={_sha256(DEMO / WHEEL)}" '
        f'data-gpg-sig="true">{WHEEL}</a>'
        "</body></html>\n",
        encoding="utf-8",
    )
    return tree


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def part_two(demo: Demo) -> None:
    print("\n##### Part 2: a real index on 127.0.0.1 #####")
    with tempfile.TemporaryDirectory(prefix="pgpverify-demo-") as tmp:
        work = Path(tmp)
        demo.work = str(work)
        print(f"(temporary directory $WORK = {work})")
        tree = build_index(demo, work)
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        print(f"\n=== serving {tree.name}/ with python -m http.server on {url} ===")
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "http.server",
                str(port),
                "--bind",
                "127.0.0.1",
                "--directory",
                str(tree),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(url, server)
            index_cases(demo, work, url)
        finally:
            server.terminate()
            server.wait(timeout=10)
            print(f"\n=== index server on {url} stopped ===")
        demo.run(
            "offline, as CI would: the lock file pins everything (the server is gone)",
            [
                "verify",
                str(work / "download" / WHEEL),
                "--signature",
                str(DEMO / f"{WHEEL}.asc"),
                "--lock",
                str(work / "pgpverify.lock"),
                "--at",
                AT,
            ],
            0,
        )
        audit_report(demo, work)


def audit_report(demo: Demo, work: Path) -> None:
    """The audit store outlives the index: re-judge offline, report, export the archive."""
    store = str(work / "audit.sqlite")
    demo.run(
        "audit, offline: the index is gone; the archive alone re-judges its files (--from-store)",
        [
            "audit",
            "run",
            "--from-store",
            "--db",
            store,
            "--at",
            AT,
        ],
        0,
    )
    demo.run("audit: the totals per category", ["audit", "report", "--db", store], 0)
    report = ROOT / "build" / "demo-audit"
    report.mkdir(parents=True, exist_ok=True)
    html = ["--html", str(report / "audit.html")] if _has_report_extra() else []
    demo.run(
        "audit: the report, as self-contained HTML (charts inline), JSON and CSV "
        "(build/demo-audit/)",
        [
            "audit",
            "report",
            "--db",
            store,
            *html,
            "--json",
            str(report / "audit.json"),
            "--csv",
            str(report / "audit.csv"),
        ],
        0,
    )
    demo.run(
        "audit: the archived signatures written back out",
        [
            "audit",
            "export-signatures",
            "--db",
            store,
            str(work / "exported"),
        ],
        0,
    )


def _has_report_extra() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(n) is not None for n in ("jinja2", "pygal"))


def index_cases(demo: Demo, work: Path, url: str) -> None:
    simple = url + "simple/"
    cache = str(work / "cache")
    download = work / "download"
    download.mkdir()
    shutil.copy(DEMO / WHEEL, download / WHEEL)
    tampered = work / "tampered"
    tampered.mkdir()
    shutil.copy(DEMO / "tampered" / WHEEL, tampered / WHEEL)
    common = ["--index-url", simple, "--cache-dir", cache, "--at", AT]
    demo.run(
        "index: the signature, the record and the keys all come from the index",
        [
            "verify",
            str(download / WHEEL),
            *common,
        ],
        0,
    )
    demo.run("index: a tampered download", ["verify", str(tampered / WHEEL), *common], 1)
    demo.run(
        "index: mallory's signature; the index publishes no key for her",
        [
            "verify",
            str(download / WHEEL),
            "--signature",
            str(DEMO / "not-owner" / f"{WHEEL}.asc"),
            *common,
        ],
        1,
    )
    demo.run(
        "index: dave's signature; the index served his key with its revocation",
        [
            "verify",
            str(download / WHEEL),
            "--signature",
            str(DEMO / "revoked" / f"{WHEEL}.asc"),
            *common,
        ],
        1,
    )
    check_cases(demo, work, simple, cache, [download, tampered])
    demo.run(
        "lock: pin demo-pkg's ownership and keys for CI",
        [
            "lock",
            "demo-pkg",
            "--index-url",
            simple,
            "--cache-dir",
            cache,
            "-o",
            str(work / "pgpverify.lock"),
        ],
        0,
    )
    # A compromised index lists mallory as a Maintainer and serves her key.
    record_path = work / "index" / "pgp" / "projects" / "demo-pkg.json"
    record = json.loads(record_path.read_text(encoding="utf-8"))
    record["maintainers"].append({"user": "mallory", "role": "Maintainer", "keys": [MALLORY]})
    record_path.write_text(json.dumps(record, indent=2), encoding="utf-8")
    shutil.copy(
        ROOT / "vectors" / "keys" / "mallory.pub.asc",
        work / "index" / "pgp" / "keys" / f"{MALLORY}.asc",
    )
    # http.server dates files to the second: make the edit visibly newer for revalidation
    stat = record_path.stat()
    os.utime(record_path, (stat.st_atime + 10, stat.st_mtime + 10))
    mallory = [
        "verify",
        str(download / WHEEL),
        "--signature",
        str(DEMO / "not-owner" / f"{WHEEL}.asc"),
    ]
    demo.run(
        "index, compromised: mallory added herself as a Maintainer; without memory "
        "(--no-cache) her signature passes",
        [
            *mallory,
            "--index-url",
            simple,
            "--no-cache",
            "--at",
            AT,
        ],
        0,
    )
    demo.run(
        "index, compromised: the cache remembers the statement it accepted; "
        "--fail-on-key-change rejects the widening",
        [
            *mallory,
            *common,
            "--fail-on-key-change",
        ],
        1,
    )
    demo.run(
        "audit: every project of the index (--all), each file verified twice, into a "
        "store that also archives every .asc and key",
        [
            "audit",
            "run",
            "--index-url",
            simple,
            "--all",
            "--db",
            str(work / "audit.sqlite"),
            "--at",
            AT,
        ],
        0,
    )


def check_cases(demo: Demo, work: Path, simple: str, cache: str, houses: list[Path]) -> None:
    """``check`` over wheelhouses, then ``install`` of a requirements set (pip for real)."""
    common = ["--index-url", simple, "--cache-dir", cache, "--at", AT]
    demo.run(
        "check: two wheelhouses at once; the tampered copy's sha256 is not the "
        "index's (hash-mismatch)",
        ["check", *map(str, houses), *common],
        1,
    )
    demo.run(
        "check: the download alone, every file must be signed, as JSON",
        [
            "check",
            str(houses[0]),
            "--require-signatures",
            "--format",
            "json",
            *common,
        ],
        0,
    )
    requirements = work / "requirements.txt"
    requirements.write_text("demo-pkg==1.0.0\n", encoding="utf-8")
    demo.run(
        "install: one pip install whose only index is pgpverify's gate on 127.0.0.1: "
        "every file is checked before pip gets it (here into --target)",
        [
            "install",
            "-r",
            str(requirements),
            *common,
            "--quiet",
            "--",
            "--target",
            str(work / "site"),
            "--quiet",
        ],
        0,
    )


def main() -> int:
    demo = Demo()
    part_one(demo)
    part_two(demo)
    print()
    if demo.failures:
        print("DEMO FAILED: " + "; ".join(demo.failures))
        return 1
    print("demo: every step gave its expected exit code")
    return 0


if __name__ == "__main__":
    sys.exit(main())
