"""``pgpverify check`` / ``install`` benchmarks (issue 10): three ratios from one run.

    .venv/bin/python bench/check.py [--files 2000] [--wheels 500] [--install 50] [--jobs 2]

- **offline**: FILES files of 1-50 KB signed by 20 keys (10 Ed25519, 10 RSA-3072), one
  ``check --keyring --signatures-dir`` process against a shell-style loop of one ``gpgv``
  (and one ``sqv``) process per file. Target: at most 0.15x the gpgv loop.
- **index**: WHEELS small signed wheels on a local index (``python -m http.server``), one
  ``check`` with a warm cache: wall time (target 5 s on 2 cores) and the requests the
  server saw.
- **install**: INSTALL wheels from the local index, ``pgpverify install -r`` (one pip pass
  through its gate) against plain ``pip install -r``, warm caches for both (pip's HTTP
  cache; pgpverify's cache, pages and keys fresh by ``max-age``), each into a fresh
  ``--target``, ROUNDS interleaved rounds, medians. Target: at most 1.15x pip.

Keys are test-only (made here, Ed25519 from labels, RSA at random). Not a test: it prints
figures and ratios and exits 0.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

# test helpers (untyped, outside the package): imported from tests/
from certbuild import (  # type: ignore[import-not-found]  # noqa: E402
    K0,
    SIGNED,
    Cert,
    certification,
    key,
    sig,
    uid_packet,
    w,
)
from checkworld import Signer, World  # type: ignore[import-not-found]  # noqa: E402

AT = "2025-06-01T00:00:00Z"


def _signers() -> list[tuple[object, bytes]]:
    """20 (key, certificate octets): 10 Ed25519, 10 RSA-3072."""
    out = []
    for n in range(20):
        label = f"bench-check-{n}"
        if n % 2:
            primary = w.key_from_private(rsa.generate_private_key(65537, 3072), K0)
        else:
            primary = key(label)
        uid = f"{label} <{label}@example.org>".encode()
        cert = (
            Cert(primary)
            .add(primary.packet())
            .add(uid_packet(uid), certification(primary, uid, K0))
        )
        out.append((primary, cert.octets()))
    return out


def _timed(argv: list[str], **kwargs: object) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, **kwargs
    )  # type: ignore[call-overload]
    return time.perf_counter() - start, done.returncode


def _timed_cpu(argv: list[str], **kwargs: object) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and everything it waited for)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, _ = _timed(argv, **kwargs)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _pgpverify(*args: object) -> list[str]:
    return [sys.executable, "-m", "pgpverify", *map(str, args)]


def offline(work: Path, files: int, jobs: int) -> None:
    rng = random.Random(0)
    signers = _signers()
    ring = work / "ring.gpg"
    ring.write_bytes(b"".join(octets for _, octets in signers))
    data_dir = work / "files"
    data_dir.mkdir()
    names = []
    for i in range(files):
        name = f"p{i:05d}-1.0-py3-none-any.whl"
        data = rng.randbytes(rng.randint(1024, 50 * 1024))
        (data_dir / name).write_bytes(data)
        primary, _ = signers[i % len(signers)]
        (data_dir / f"{name}.asc").write_bytes(
            w.armor("SIGNATURE", sig(primary, w.BINARY, data, SIGNED))
        )
        names.append(name)
    home = work / "gnupg"
    home.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    ours, rc = _timed(
        _pgpverify(
            "check",
            data_dir,
            "--keyring",
            ring,
            "--signatures-dir",
            data_dir,
            "--at",
            AT,
            "--quiet",
            "--jobs",
            jobs,
        )
    )
    print(f"offline: pgpverify check, {files} files, one process: {ours:.2f} s (exit {rc})")
    start = time.perf_counter()
    bad = 0
    for name in names:
        f = data_dir / name
        bad += (
            subprocess.run(
                ["gpgv", "--keyring", str(ring), f"{f}.asc", str(f)],
                env=env,
                capture_output=True,
                check=False,
            ).returncode
            != 0
        )
    gpgv = time.perf_counter() - start
    print(
        f"offline: gpgv loop: {gpgv:.2f} s ({bad} failures); "
        f"ratio {ours / gpgv:.3f}x (target <= 0.15x)"
    )
    if subprocess.run(["which", "sqv"], capture_output=True, check=False).returncode == 0:
        start = time.perf_counter()
        for name in names:
            f = data_dir / name
            subprocess.run(
                ["sqv", "--keyring", str(ring), f"{f}.asc", str(f)],
                capture_output=True,
                check=False,
            )
        sqv = time.perf_counter() - start
        print(f"offline: sqv loop: {sqv:.2f} s; ratio {ours / sqv:.3f}x")


#: a static index on 127.0.0.1 (a threading http.server) sending ``Cache-Control:
#: max-age=N`` unless N is "none"; one line per request on stderr
_SERVER = """
import functools, http.server, sys
class Handler(http.server.SimpleHTTPRequestHandler):
    def end_headers(self):
        if sys.argv[2] != "none":
            self.send_header("Cache-Control", "max-age=" + sys.argv[2])
        super().end_headers()
    def log_message(self, fmt, *args):
        sys.stderr.write("REQUEST " + (fmt % args) + "\\n")
        sys.stderr.flush()
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                         functools.partial(Handler, directory=sys.argv[1]))
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def _serve(directory: Path, log: Path, max_age: str = "300") -> tuple[subprocess.Popen[bytes], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(directory), max_age],
        stdout=subprocess.PIPE,
        stderr=log.open("wb"),
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    return proc, f"http://127.0.0.1:{port}/"


def _requests(log: Path) -> int:
    return sum(line.startswith("REQUEST ") for line in log.read_text().splitlines())


def _world(count: int, prefix: str) -> World:
    world = World()
    signer = Signer.make(f"{prefix}-signer")
    for n in range(count):
        world.own(f"{prefix}{n:04d}", signer)
        world.add(f"{prefix}{n:04d}", signer=signer)
    return world


def index(work: Path, wheels: int, jobs: int) -> None:
    world = _world(wheels, "idx")
    simple = world.write(work / "index")
    house = world.local(work / "house")
    for max_age in ("none", "300"):
        log = work / f"server-{max_age}.log"
        server, url = _serve(simple.parent, log, max_age)
        try:
            args = [
                "check",
                house,
                "--index-url",
                url + "simple/",
                "--cache-dir",
                work / f"cache-{max_age}",
                "--at",
                AT,
                "--quiet",
                "--jobs",
                jobs,
            ]
            cold, rc = _timed(_pgpverify(*args))
            before = _requests(log)
            warm, rc = _timed(_pgpverify(*args))
            requests = _requests(log) - before
            share = _verification_share([str(a) for a in args[:-1]] + ["1"])
        finally:
            server.terminate()
            server.wait()
        print(
            f"index: {wheels} wheels, max-age {max_age}: cold cache {cold:.2f} s; warm "
            f"cache {warm:.2f} s (exit {rc}, target <= 5 s), {requests} requests on the "
            f"warm run; verification {share:.0%} of a warm --jobs 1 run (target < 20%)"
        )


#: one warm run in a process that times step (4), verification (``_verify_unit``), against
#: the whole process (interpreter start included)
_SHARE = """
import sys, time
start = time.perf_counter()
import pgpverify.check.run as run
spent = [0.0]
inner = run._verify_unit
def timed(*args, **kwargs):
    t = time.perf_counter()
    try:
        return inner(*args, **kwargs)
    finally:
        spent[0] += time.perf_counter() - t
run._verify_unit = timed
from pgpverify.cli import main
code = main(sys.argv[1:])
print(spent[0], file=sys.stderr)
sys.exit(code)
"""


def _verification_share(args: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _SHARE, *args], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    return float(done.stderr.strip().splitlines()[-1]) / wall


def install(work: Path, count: int, rounds: int = 5) -> None:
    world = _world(count, "inst")
    simple = world.write(work / "index")
    reqs = work / "requirements.txt"
    reqs.write_text("".join(f"inst{n:04d}\n" for n in range(count)))
    server, url = _serve(simple.parent, work / "server.log")
    pip_cache = work / "pip-cache"
    # both start from a bytecode cache, as installed packages do: with
    # PYTHONDONTWRITEBYTECODE set (this machine sets it) the editable checkout would be
    # compiled from source at every start while pip's own modules are not
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        "PYTHONPYCACHEPREFIX": str(work / "pycache"),
        "PIP_CACHE_DIR": str(pip_cache),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    try:

        def pip(target: str) -> tuple[float, float]:
            return _timed_cpu(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "-r",
                    str(reqs),
                    "--index-url",
                    url + "simple/",
                    "--target",
                    str(work / target),
                ],
                env=env,
            )

        def argv(target: str, *quiet: str, extra: tuple[str, ...] = ()) -> list[str]:
            return _pgpverify(
                "install",
                "-r",
                reqs,
                "--index-url",
                url + "simple/",
                "--cache-dir",
                work / "cache",
                "--at",
                AT,
                *quiet,
                "--",
                "--target",
                work / target,
                *extra,
            )

        def ours(target: str) -> tuple[float, float]:
            return _timed_cpu(argv(target, "--quiet"), env=env)

        # the two-pass design, for reference: an argument after '--' the gate does not
        # pass (harmless here) sends install to pip download, check, pip install
        two_pass = ("--trusted-host", "127.0.0.1")

        def ours_two_pass(target: str) -> tuple[float, float]:
            return _timed_cpu(argv(target, "--quiet", extra=two_pass), env=env)

        pip("warm-pip")
        warm = subprocess.run(
            argv("warm-ours"), env=env, capture_output=True, text=True, check=False
        )
        how = "two passes" if "two passes" in warm.stderr else "one pip pass through the gate"
        print(f"install: pgpverify took {how} (exit {warm.returncode})")
        ours_two_pass("warm-two")
        plains, checks, twos = [], [], []
        for n in range(rounds):  # interleaved, so load on the shared machine hits all
            plains.append(pip(f"pip{n}"))
            checks.append(ours(f"ours{n}"))
            twos.append(ours_two_pass(f"two{n}"))
    finally:
        server.terminate()
        server.wait()
    walls = [w for w, _ in plains], [w for w, _ in checks]
    plain, checked = statistics.median(walls[0]), statistics.median(walls[1])
    cpu = statistics.median(c for _, c in plains), statistics.median(c for _, c in checks)
    print(
        f"install: {count} wheels, {rounds} rounds each, medians: pip install {plain:.2f} s "
        f"(min {min(walls[0]):.2f}), pgpverify install {checked:.2f} s (min "
        f"{min(walls[1]):.2f}): ratio {checked / plain:.2f}x (of minima "
        f"{min(walls[1]) / min(walls[0]):.2f}x; target <= 1.15x); CPU of all processes "
        f"{cpu[0]:.2f} s against {cpu[1]:.2f} s"
    )
    two = statistics.median(w for w, _ in twos)
    print(
        f"install: the two-pass design (pip download, check, pip install), same rounds: "
        f"median {two:.2f} s (min {min(w for w, _ in twos):.2f}): {two / plain:.2f}x pip"
    )


def _fresh(tmp: str, name: str) -> Path:
    where = Path(tmp) / name
    where.mkdir()
    return where


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--wheels", type=int, default=500)
    parser.add_argument("--install", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5, help="install: interleaved rounds")
    parser.add_argument("--only", choices=("offline", "index", "install"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pgpverify-bench-check-") as tmp:
        if args.only in (None, "offline"):
            offline(_fresh(tmp, "offline"), args.files, args.jobs)
        if args.only in (None, "index"):
            index(_fresh(tmp, "index"), args.wheels, args.jobs)
        if args.only in (None, "install"):
            install(_fresh(tmp, "install"), args.install, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
