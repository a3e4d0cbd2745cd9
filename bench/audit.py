"""Audit speed: a local index of 5,000 signed small files across 500 projects (issue 11).

Builds the index (Ed25519 test-only keys, one per project, PEP 691 pages with upload times,
the pgp/ tree), serves it on 127.0.0.1 (``tests/integration/pep691_server.py``, keep-alive),
then runs ``pgpverify audit run --all`` in a fresh process twice against it (``--index-url``)
and twice against the same tree on disk (``--mirror``): cold (every file downloaded, hashed and
verified twice) and resumed (every file already done). Prints files per second and the
audit process's peak memory for each; the target is at least 300 files/s on 2 cores and
under 200 MB. ``--projects`` and ``--files`` change the size; ``--jobs`` the threads.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "tests" / "integration" / "pep691_server.py"
UPLOAD = 1_677_628_800  # 2023-03-01
TARGET_RATE = 300.0
TARGET_MB = 200.0
_CHILD = """
import json, resource, sys, time
from pgpverify.cli import main
start = time.perf_counter()
code = main(sys.argv[1:])
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"code": code, "seconds": seconds, "peak_mb": peak}), file=sys.stderr)
"""


def _writer() -> Any:
    spec = importlib.util.spec_from_file_location("bench_writer", ROOT / "vectors" / "_writer.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_writer"] = module
    spec.loader.exec_module(module)
    return module


def build(root: Path, projects: int, files: int) -> int:
    """Write the index; the number of files."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    w = _writer()
    (root / "simple").mkdir(parents=True)
    (root / "pgp" / "projects").mkdir(parents=True)
    (root / "pgp" / "keys").mkdir()
    names = [f"bench-{i:04d}" for i in range(projects)]
    per = files // projects
    for i, name in enumerate(names):
        seed = hashlib.sha256(f"bench audit {i}".encode()).digest()
        key = w.key_from_private(ed25519.Ed25519PrivateKey.from_private_bytes(seed), UPLOAD - 10**7)
        uid = f"{name} <{name}@example.org>".encode()
        sig = w.sign(
            key,
            w.SigSpec(
                w.POSITIVE_CERT,
                w.SHA256,
                [
                    *w.default_subpackets(key, key.created)[0],
                    w.key_flags(w.FLAG_CERTIFY | w.FLAG_SIGN),
                ],
                w.default_subpackets(key, key.created)[1],
            ),
            key.frame() + w.uid_frame(uid),
        )
        cert = key.packet() + w.packet(w.TAG_USER_ID, uid) + w.packet(w.TAG_SIGNATURE, sig)
        (root / "pgp" / "keys" / f"{key.fpr}.asc").write_bytes(w.armor("PUBLIC KEY BLOCK", cert))
        record = {
            "project": name,
            "maintainers": [{"user": name, "role": "Owner", "keys": [key.fpr]}],
        }
        (root / "pgp" / "projects" / f"{name}.json").write_text(json.dumps(record))
        entries = []
        packages = root / "packages" / name
        packages.mkdir(parents=True)
        for j in range(per):
            filename = f"{name.replace('-', '_')}-{j}.0.tar.gz"
            data = f"{filename}\n".encode() * 20
            hashed, unhashed = w.default_subpackets(key, UPLOAD + 60)
            body = w.sign(key, w.SigSpec(w.BINARY, w.SHA256, hashed, unhashed), data)
            (packages / filename).write_bytes(data)
            (packages / f"{filename}.asc").write_bytes(
                w.armor("SIGNATURE", w.packet(w.TAG_SIGNATURE, body))
            )
            entries.append(
                {
                    "filename": filename,
                    "url": f"../../packages/{name}/{filename}",
                    "hashes": {"sha256": hashlib.sha256(data).hexdigest()},
                    "upload-time": "2023-03-01T00:00:00Z",
                    "gpg-sig": True,
                }
            )
        (root / "simple" / name).mkdir()
        (root / "simple" / name / "index.v1_json").write_text(
            json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": entries})
        )
    (root / "simple" / "index.v1_json").write_text(
        json.dumps({"meta": {"api-version": "1.0"}, "projects": [{"name": n} for n in names]})
    )
    return per * projects


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _audit(argv: list[str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, *argv], capture_output=True, text=True, check=False
    )
    result: dict[str, Any] = json.loads(done.stderr.strip().splitlines()[-1])
    if result["code"] != 0:
        print(done.stdout, done.stderr, file=sys.stderr)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=500)
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--jobs", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pgpverify-bench-audit-") as work:
        root = Path(work) / "index"
        count = build(root, args.projects, args.files)
        port = _port()
        server = subprocess.Popen([sys.executable, str(SERVER), str(port), str(root)])
        try:
            url = f"http://127.0.0.1:{port}/simple/"
            for _ in range(100):
                try:
                    urllib.request.urlopen(url, timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            sources = {"http": ["--index-url", url], "mirror": ["--mirror", str(root)]}
            for name, source in sources.items():
                db = Path(work) / f"audit-{name}.sqlite"
                argv = [
                    "audit",
                    "run",
                    *source,
                    "--db",
                    str(db),
                    "--all",
                    "--jobs",
                    str(args.jobs),
                    "--format",
                    "json",
                ]
                for label in ("cold", "resumed"):
                    result = _audit(argv)
                    rate = count / result["seconds"]
                    ok = rate >= TARGET_RATE and result["peak_mb"] < TARGET_MB
                    print(
                        f"audit {name:6} {label:7} {count} files, {args.projects} projects: "
                        f"{result['seconds']:.1f} s, {rate:.0f} files/s, peak "
                        f"{result['peak_mb']:.0f} MB (target >= {TARGET_RATE:.0f} files/s, "
                        f"< {TARGET_MB:.0f} MB): {'PASS' if ok else 'MISS'}",
                        flush=True,
                    )
        finally:
            server.terminate()
            server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
