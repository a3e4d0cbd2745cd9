"""pgpverify benchmarks: figures and ratios measured in the same run, printed.

Run with ``make bench`` or ``.venv/bin/python bench/run.py [--quick] [--only NAME]``. This is
not a test: it prints each figure, the reference measured beside it, the ratio and the
issue's target, and says PASS or MISS. It exits 0 either way unless ``--strict`` is given.

Keys and signatures are made fresh by gpg in a temporary GNUPGHOME (batch mode, no
passphrase); large files live in ``bench/.work/`` (git-ignored) and are reused between runs.

Child processes are timed and measured by a small wrapper process (``_WRAPPER``) that starts
the command, waits for it with ``os.wait4`` and reports its wall time and ``ru_maxrss``. The
wrapper is needed because Linux carries the parent's peak RSS into a vfork+exec'd child:
measured straight from this (large) process, every child would look as big as it.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / ".work"
DEBIAN_KEYRING = Path("/usr/share/keyrings/debian-keyring.gpg")

MIB = 1 << 20
GIB = 1 << 30
KIB_PER_MIB = 1024

BENCHMARKS = ("bigfile", "small", "keyring", "startup", "index")

# Runs argv[2:], stdout to /dev/null and stderr to argv[1]; prints {"wall", "rc", "maxrss"}
# (seconds, exit status, KiB) of that child alone.
_WRAPPER = """
import json, os, subprocess, sys, time
with open(sys.argv[1], "wb") as err:
    start = time.perf_counter()
    proc = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=err)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
proc.returncode = os.waitstatus_to_exitcode(status)
print(json.dumps({"wall": wall, "rc": proc.returncode, "maxrss": usage.ru_maxrss,
                  "cpu": usage.ru_utime + usage.ru_stime}))
"""

# The reference for the big file: a fresh interpreter that streams SHA-256 in 1 MiB chunks.
_HASHLIB_CHILD = """
import hashlib, sys
h = hashlib.sha256()
with open(sys.argv[1], "rb") as f:
    while chunk := f.read(1 << 20):
        h.update(chunk)
print(h.hexdigest())
"""

# PGPy's own PGPKey.verify(), timed inside the child (read + verify), for reference only.
_PGPY_VERIFY_CHILD = """
import json, sys, time, warnings
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pgpy
    key, _ = pgpy.PGPKey.from_file(sys.argv[1])
    sig = pgpy.PGPSignature.from_file(sys.argv[2])
    start = time.perf_counter()
    with open(sys.argv[3], "rb") as f:
        data = f.read()
    ok = bool(key.verify(data, sig))
    wall = time.perf_counter() - start
with open(sys.argv[4], "w") as out:
    json.dump({"wall": wall, "ok": ok}, out)
"""

# PGPy's own keyring load, for reference only (--with-pgpy-keyring).
_PGPY_KEYRING_CHILD = """
import json, sys, time, warnings
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pgpy
    start = time.perf_counter()
    ring = pgpy.PGPKeyring()
    loaded = ring.load(sys.argv[1])
    wall = time.perf_counter() - start
with open(sys.argv[2], "w") as out:
    json.dump({"wall": wall, "keys": len(loaded)}, out)
"""

# pysequoia (Sequoia's Python binding) on the same files, in its own venv: per signature,
# CPU, median of passes; certificates loaded once, as our Keyring is.
_PYSEQUOIA_CHILD = """
import json, statistics, sys, time
from pysequoia import Cert, Sig, verify
certs = [Cert.from_file(p) for p in sys.argv[2].split(",")]
files = sys.argv[4:]
suffix = sys.argv[3]
def one_pass():
    for f in files:
        with open(f + suffix, "rb") as s:
            sig = Sig.from_bytes(s.read())
        with open(f, "rb") as d:
            data = d.read()
        if not verify(bytes=data, store=lambda ids: certs, signature=sig).valid_sigs:
            raise SystemExit("not verified: " + f)
one_pass()
times = []
for _ in range(5):
    start = time.process_time()
    one_pass()
    times.append((time.process_time() - start) / len(files))
with open(sys.argv[1], "w") as out:
    json.dump({"per_sig": statistics.median(times)}, out)
"""


def pysequoia_python(work: Path) -> Path | None:
    """A venv with pysequoia for the bench only (made with pip once); None if unavailable."""
    home = work / "venv-seq"
    python = home / "bin" / "python"
    probe = [str(python), "-c", "import pysequoia"]
    if python.exists() and subprocess.run(probe, check=False, capture_output=True).returncode == 0:
        return python
    base = getattr(sys, "_base_executable", sys.executable)
    try:
        subprocess.run(
            [base, "-m", "venv", "--clear", str(home)], check=True, capture_output=True, timeout=300
        )
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "pysequoia"],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (subprocess.SubprocessError, OSError) as err:
        print(f"  pysequoia not available ({type(err).__name__}): reference skipped")
        return None
    if subprocess.run(probe, check=False, capture_output=True).returncode != 0:
        print("  pysequoia does not import: reference skipped")
        return None
    return python


# Runs the CLI's main() in a fresh interpreter and reports which heavy modules it imported.
_IMPORTS_CHILD = """
import contextlib, io, json, sys
from pgpverify.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
    rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "pgpy": "pgpy" in sys.modules,
                  "cryptography": "cryptography" in sys.modules}))
"""


# -- results ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the summary: a figure, its reference, the target and the verdict."""

    bench: str
    measure: str
    value: str
    reference: str
    ratio: str
    target: str
    ok: bool | None  # None: information only, no target


@dataclass(slots=True)
class Report:
    checks: list[Check] = field(default_factory=list)

    def add(self, check: Check) -> None:
        self.checks.append(check)
        verdict = "info" if check.ok is None else ("PASS" if check.ok else "MISS")
        print(
            f"  -> {check.measure}: {check.value} vs {check.reference}"
            f" (ratio {check.ratio}; target {check.target}): {verdict}"
        )

    def summary(self) -> None:
        head = ("benchmark", "measure", "value", "reference", "ratio", "target", "verdict")
        rows = [head] + [
            (
                c.bench,
                c.measure,
                c.value,
                c.reference,
                c.ratio,
                c.target,
                "info" if c.ok is None else ("PASS" if c.ok else "MISS"),
            )
            for c in self.checks
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
        print("\n== summary ==")
        for n, row in enumerate(rows):
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
            if n == 0:
                print("  ".join("-" * w for w in widths))

    @property
    def missed(self) -> list[Check]:
        return [c for c in self.checks if c.ok is False]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def secs(seconds: float) -> str:
    return f"{seconds:.3f} s"


def size_label(size: int) -> str:
    return f"{size / GIB:.0f} GiB" if size % GIB == 0 else f"{size / 1e6:.0f} MB"


def mib(kib: int) -> str:
    return f"{kib / KIB_PER_MIB:.1f} MiB"


# -- child processes --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Run:
    wall: float
    rc: int
    maxrss_kib: int
    stderr: str
    #: user + system CPU seconds of the child (rusage): steadier than wall on a busy machine
    cpu: float = 0.0


def run_child(
    argv: Sequence[str], *, expect: int | None = 0, env: dict[str, str] | None = None
) -> Run:
    """Run ``argv`` under the measuring wrapper; check its exit status when ``expect``."""
    with tempfile.NamedTemporaryFile(prefix="bench-err-", delete=False) as err_file:
        err_path = Path(err_file.name)
    try:
        done = subprocess.run(
            [sys.executable, "-c", _WRAPPER, str(err_path), *argv],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
        stderr = err_path.read_text(errors="replace")
    finally:
        err_path.unlink(missing_ok=True)
    data = json.loads(done.stdout)
    run = Run(
        float(data["wall"]),
        int(data["rc"]),
        int(data["maxrss"]),
        stderr,
        float(data.get("cpu", 0.0)),
    )
    if expect is not None and run.rc != expect:
        msg = f"{argv[0]} exited {run.rc}, expected {expect}: {stderr.strip()[:500]}"
        raise RuntimeError(msg)
    return run


def median_runs(
    commands: dict[str, tuple[list[str], int | None]], reps: int
) -> dict[str, list[Run]]:
    """Run each command ``reps`` times, round-robin, so drift hits all of them alike.

    One untimed run of each first warms the page cache and the bytecode cache.
    """
    for argv, expect in commands.values():
        run_child(argv, expect=expect)
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(reps):
        for name, (argv, expect) in commands.items():
            runs[name].append(run_child(argv, expect=expect))
    return runs


def med(runs: list[Run]) -> float:
    return statistics.median(r.wall for r in runs)


def med_cpu(runs: list[Run]) -> float:
    return statistics.median(r.cpu for r in runs)


def timed(fn: Callable[[], object], reps: int) -> float:
    """Median wall time of ``fn()`` over ``reps`` calls."""
    walls = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - start)
    return statistics.median(walls)


def timed_cpu(fn: Callable[[], object], reps: int) -> float:
    """Median CPU time of this process for ``fn()`` over ``reps`` calls."""
    times = []
    for _ in range(reps):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


#: set by main(): the command as an installed package runs it (see make_venvs)
_RUN_ARGV: list[str] = []
#: set by main(): ``python -c pass`` of a clean virtual environment, the start-up baseline
_CLEAN_PYTHON: list[str] = []


def pgpverify_argv() -> list[str]:
    if _RUN_ARGV:
        return list(_RUN_ARGV)
    script = Path(sys.executable).parent / "pgpverify"
    return [str(script)] if script.exists() else [sys.executable, "-m", "pgpverify"]


_RUN_SCRIPT = """#!{python}
import sys
from pgpverify.cli import entry
sys.argv[0] = "pgpverify"
entry()
"""


def make_venvs(work: Path) -> tuple[Path, Path]:
    """Two virtual environments made from this interpreter's base Python, without pip.

    ``venv-clean`` is the baseline: ``python -c pass`` with nothing installed. ``venv-run``
    runs this checkout as an installed package runs: a ``.pth`` file holding two plain
    paths (the checkout and this environment's site-packages, for PGPy and cryptography)
    and a console script calling ``pgpverify.cli:entry``. The development environment's
    editable-install finder (a .pth that imports pathlib and more, ~10 ms at every start)
    is not in the measured path.
    """
    import sysconfig

    base = getattr(sys, "_base_executable", sys.executable)
    made = []
    for name in ("venv-clean", "venv-run"):
        home = work / name
        if not (home / "bin" / "python").exists():
            subprocess.run(
                [base, "-m", "venv", "--without-pip", "--clear", str(home)],
                check=True,
                capture_output=True,
            )
        made.append(home)
    clean, run = made
    purelib = Path(sysconfig.get_paths(vars={"base": str(run), "platbase": str(run)})["purelib"])
    purelib.mkdir(parents=True, exist_ok=True)
    here = Path(sysconfig.get_paths()["purelib"])
    (purelib / "pgpverify-bench.pth").write_text(f"{BENCH_DIR.parent}\n{here}\n")
    script = run / "bin" / "pgpverify"
    script.write_text(_RUN_SCRIPT.format(python=run / "bin" / "python"))
    script.chmod(0o755)
    return clean / "bin" / "python", script


# -- keys and signatures ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Key:
    name: str
    uid: str
    fingerprint: str
    binary: Path  # exported public key, binary (gpgv needs binary keyrings)


class Gpg:
    """A throw-away GNUPGHOME with one RSA-3072 and one Ed25519 signing key."""

    def __init__(self, home: Path, out: Path) -> None:
        self.home = home
        self.out = out
        self.keys: dict[str, Key] = {}
        for name, algo in (("rsa3072", "rsa3072"), ("ed25519", "ed25519")):
            uid = f"Bench {name} <{name}@bench.invalid>"
            self._gpg("--quick-gen-key", uid, algo, "sign", "never")
            listing = self._gpg("--with-colons", "--list-keys", uid)
            fpr = next(
                line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")
            )
            binary = out / f"{name}.gpg"
            binary.write_bytes(self._gpg_bytes("--export", fpr))
            self.keys[name] = Key(name, uid, fpr, binary)

    def _gpg_bytes(self, *args: str) -> bytes:
        return subprocess.run(
            [
                "gpg",
                "--homedir",
                str(self.home),
                "--batch",
                "--quiet",
                "--no-tty",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
                *args,
            ],
            check=True,
            capture_output=True,
        ).stdout

    def _gpg(self, *args: str) -> str:
        return self._gpg_bytes(*args).decode()

    def sign(self, key: Key, file: Path, sig: Path) -> None:
        """Armored detached SHA-256 signature of ``file`` by ``key``."""
        sig.unlink(missing_ok=True)
        self._gpg(
            "--armor",
            "--detach-sign",
            "--digest-algo",
            "SHA256",
            "--local-user",
            key.fingerprint,
            "--output",
            str(sig),
            str(file),
        )

    def export_armored(self, key: Key, path: Path) -> None:
        path.write_bytes(self._gpg_bytes("--armor", "--export", key.fingerprint))


def write_random_file(path: Path, size: int) -> None:
    """Random-ish data in 1 MiB chunks (never the whole file in memory); reused if present."""
    if path.exists() and path.stat().st_size == size:
        return
    seed = os.urandom(MIB)
    with path.open("wb") as f:
        written = 0
        while written < size:
            n = min(MIB, size - written)
            # a fresh prefix per chunk so no two chunks are equal
            chunk = hashlib.sha256(written.to_bytes(8, "big")).digest() + seed
            f.write(chunk[:n])
            written += n


# -- context shared by the benchmarks ---------------------------------------------------


@dataclass(slots=True)
class Context:
    args: argparse.Namespace
    work: Path
    gpg: Gpg
    report: Report
    tools: dict[str, str | None]

    @property
    def quick(self) -> bool:
        return bool(self.args.quick)

    def at(self) -> datetime:
        # a little after "now", so the fresh signatures are never in the future
        return datetime.now(timezone.utc) + timedelta(minutes=1)

    def at_iso(self) -> str:
        return self.at().strftime("%Y-%m-%dT%H:%M:%SZ")

    def sqv(self, keyrings: list[Path], sig: Path, file: Path) -> list[str] | None:
        tool = self.tools["sqv"]
        if tool is None:
            return None
        argv = [tool]
        for ring in keyrings:
            argv += ["--keyring", str(ring)]
        return [*argv, str(sig), str(file)]

    def gpgv(self, keyrings: list[Path], sig: Path, file: Path) -> list[str] | None:
        tool = self.tools["gpgv"]
        if tool is None:
            return None
        argv = [tool, "--homedir", str(self.gpg.home)]
        for ring in keyrings:
            argv += ["--keyring", str(ring)]
        return [*argv, str(sig), str(file)]

    def pgpverify(self, keyrings: list[Path], sig: Path, file: Path) -> list[str]:
        argv = [*pgpverify_argv(), "verify", str(file), "--signature", str(sig)]
        for ring in keyrings:
            argv += ["--keyring", str(ring)]
        return [*argv, "--at", self.at_iso()]


def missing(tool: str) -> None:
    print(f"  {tool} not installed: reference skipped")


def references(
    ctx: Context, keyrings: list[Path], sig: Path, file: Path
) -> dict[str, tuple[list[str], int | None]]:
    commands: dict[str, tuple[list[str], int | None]] = {}
    for tool, argv in (
        ("sqv", ctx.sqv(keyrings, sig, file)),
        ("gpgv", ctx.gpgv(keyrings, sig, file)),
    ):
        if argv is None:
            missing(tool)
        else:
            commands[tool] = (argv, 0)
    return commands


# -- 1. big file ------------------------------------------------------------------------


def bench_bigfile(ctx: Context) -> None:
    size = 200 * 1000 * 1000 if ctx.quick else GIB
    reps = 3 if ctx.quick else 5
    print(f"\n== 1. big file: {size_label(size)}, RSA-3072/SHA-256, median of {reps} ==")
    file = ctx.work / f"big-{size}.bin"
    write_random_file(file, size)
    key = ctx.gpg.keys["rsa3072"]
    sig = ctx.work / f"big-{size}.bin.asc"
    ctx.gpg.sign(key, file, sig)

    floor = run_child(["/bin/true"])
    commands: dict[str, tuple[list[str], int | None]] = {
        "hashlib": ([sys.executable, "-c", _HASHLIB_CHILD, str(file)], 0),
        "pgpverify": (ctx.pgpverify([key.binary], sig, file), 0),
        **references(ctx, [key.binary], sig, file),
    }
    runs = median_runs(commands, reps)
    for name, rs in runs.items():
        print(
            f"  {name:10} {secs(med(rs))} (min {secs(min(r.wall for r in rs))}; "
            f"{size / MIB / med(rs):.0f} MiB/s; peak RSS {mib(max(r.maxrss_kib for r in rs))})"
        )
    print(f"  (peak RSS floor of the measuring wrapper, /bin/true: {mib(floor.maxrss_kib)})")

    ours, base = med(runs["pgpverify"]), med(runs["hashlib"])
    ctx.report.add(
        Check(
            "bigfile",
            "wall vs hashlib process",
            secs(ours),
            secs(base),
            f"{ours / base:.2f}x",
            "<= 1.15x",
            ours / base <= 1.15,
        )
    )
    for tool in ("sqv", "gpgv"):
        if tool in runs:
            ref = med(runs[tool])
            ctx.report.add(
                Check(
                    "bigfile",
                    f"wall vs {tool}",
                    secs(ours),
                    secs(ref),
                    f"{ours / ref:.2f}x",
                    "-",
                    None,
                )
            )
    peak = max(r.maxrss_kib for r in runs["pgpverify"])
    base_peak = max(r.maxrss_kib for r in runs["hashlib"])
    ctx.report.add(
        Check(
            "bigfile",
            "peak RSS",
            mib(peak),
            f"hashlib {mib(base_peak)}",
            f"{peak / base_peak:.2f}x",
            "< 80 MiB",
            peak < 80 * KIB_PER_MIB,
        )
    )

    if ctx.args.skip_pgpy:
        print("  PGPy PGPKey.verify(): skipped (--skip-pgpy)")
        return
    pgpy_size = 200 * 1000 * 1000
    pgpy_file = ctx.work / f"big-{pgpy_size}.bin"
    write_random_file(pgpy_file, pgpy_size)
    pgpy_sig = ctx.work / "pgpy.bin.asc"
    ctx.gpg.sign(key, pgpy_file, pgpy_sig)
    armored = ctx.work / "rsa3072.asc"
    ctx.gpg.export_armored(key, armored)
    print(
        f"  PGPy PGPKey.verify() on {size_label(pgpy_size)} (slow: it copies the file; "
        "one run) ...",
        flush=True,
    )
    with tempfile.NamedTemporaryFile("w+", prefix="bench-pgpy-", delete=False) as out:
        out_path = Path(out.name)
    try:
        wrapped = run_child(
            [
                sys.executable,
                "-c",
                _PGPY_VERIFY_CHILD,
                str(armored),
                str(pgpy_sig),
                str(pgpy_file),
                str(out_path),
            ]
        )
        pgpy = json.loads(out_path.read_text())
    finally:
        out_path.unlink(missing_ok=True)
    ours_small = med(
        median_runs({"pgpverify": (ctx.pgpverify([key.binary], pgpy_sig, pgpy_file), 0)}, reps)[
            "pgpverify"
        ]
    )
    print(
        f"  PGPy read+verify {secs(pgpy['wall'])} (verified: {pgpy['ok']}; "
        f"process peak RSS {mib(wrapped.maxrss_kib)}); "
        f"pgpverify whole process on the same file {secs(ours_small)}"
    )
    ctx.report.add(
        Check(
            "bigfile",
            "200 MB: pgpverify vs PGPy verify()",
            secs(ours_small),
            secs(pgpy["wall"]),
            f"{ours_small / pgpy['wall']:.2f}x",
            "-",
            None,
        )
    )


# -- 2. many small files ----------------------------------------------------------------


def bench_small(ctx: Context) -> None:
    count = 100 if ctx.quick else 500
    size = 25 * 1000
    reps = 5
    print(
        f"\n== 2. many small files: {count} x {size // 1000} KB, in-process, CPU, "
        f"median of {reps} passes =="
    )
    folder = ctx.work / "small"
    folder.mkdir(exist_ok=True)
    files = []
    for i in range(count):
        path = folder / f"file-{i:04d}.bin"
        if not (path.exists() and path.stat().st_size == size):
            path.write_bytes(os.urandom(size))
        files.append(path)
    start = time.perf_counter()
    for name in ("ed25519", "rsa3072"):
        for path in files:
            ctx.gpg.sign(ctx.gpg.keys[name], path, path.with_name(f"{path.name}.{name}.asc"))
    print(f"  (signed {2 * count} files with gpg in {time.perf_counter() - start:.1f} s)")

    from pgpverify import Keyring, Verifier

    ring = Keyring.from_files([k.binary for k in ctx.gpg.keys.values()])
    verifier = Verifier(ring)
    at = ctx.at()

    def floor_pass() -> None:
        for path in files:
            hashlib.sha256(path.read_bytes()).hexdigest()

    floor = timed_cpu(floor_pass, reps) / count
    print(f"  hashlib SHA-256 read+hash (floor): {floor * 1000:.3f} ms per file")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgpy

    seq = pysequoia_python(ctx.work)
    for name in ("ed25519", "rsa3072"):
        sigs = [path.with_name(f"{path.name}.{name}.asc") for path in files]
        pairs = list(zip(files, sigs, strict=True))
        first = verifier.verify(files[0], sigs[0], at=at)  # warm: imports, key decoding
        if not first.ok:
            msg = f"{name}: {first.reason.value}: {first.message}"
            raise RuntimeError(msg)

        def verify_pass(pairs: list[tuple[Path, Path]] = pairs) -> None:
            for path, sig in pairs:
                result = verifier.verify(path, sig, at=at)
                if not result.ok:
                    msg = f"{path}: {result.reason.value}"
                    raise RuntimeError(msg)

        per_sig = timed_cpu(verify_pass, reps) / count
        blobs = [sig.read_bytes() for sig in sigs]

        def parse_pass(blobs: list[bytes] = blobs) -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for blob in blobs:
                    pgpy.PGPSignature.from_blob(blob)

        parse = timed_cpu(parse_pass, reps) / count
        print(
            f"  {name}: verify() {per_sig * 1000:.3f} ms/sig; "
            f"PGPy PGPSignature.from_blob() alone {parse * 1000:.3f} ms/sig; "
            f"floor {floor * 1000:.3f} ms"
        )
        ctx.report.add(
            Check(
                "small",
                f"{name} verify() per sig",
                f"{per_sig * 1000:.3f} ms",
                f"floor {floor * 1000:.3f} ms",
                f"{per_sig / floor:.1f}x floor",
                "<= 0.12 ms",
                per_sig <= 0.00012,
            )
        )
        if seq is not None:
            seq_sig = _pysequoia_per_sig(ctx, seq, files, f".{name}.asc")
            print(f"  {name}: pysequoia {seq_sig * 1000:.3f} ms/sig")
            ctx.report.add(
                Check(
                    "small",
                    f"{name} vs pysequoia",
                    f"{per_sig * 1000:.3f} ms",
                    f"{seq_sig * 1000:.3f} ms",
                    f"{per_sig / seq_sig:.2f}x",
                    "-",
                    None,
                )
            )
        ctx.report.add(
            Check(
                "small",
                f"{name} vs PGPy from_blob()",
                f"{per_sig * 1000:.3f} ms",
                f"{parse * 1000:.3f} ms",
                f"{per_sig / parse:.2f}x",
                "-",
                None,
            )
        )


def _pysequoia_per_sig(ctx: Context, python: Path, files: list[Path], suffix: str) -> float:
    with tempfile.NamedTemporaryFile("w+", prefix="bench-seq-", delete=False) as out:
        out_path = Path(out.name)
    try:
        keys = ",".join(str(k.binary) for k in ctx.gpg.keys.values())
        subprocess.run(
            [str(python), "-c", _PYSEQUOIA_CHILD, str(out_path), keys, suffix, *map(str, files)],
            check=True,
            capture_output=True,
        )
        return float(json.loads(out_path.read_text())["per_sig"])
    finally:
        out_path.unlink(missing_ok=True)


# -- 3. big keyring ---------------------------------------------------------------------


def bench_keyring(ctx: Context) -> None:
    reps = 11
    print(f"\n== 3. big keyring: {DEBIAN_KEYRING}, CPU (user + system), median of {reps} ==")
    if not DEBIAN_KEYRING.exists():
        print(f"  {DEBIAN_KEYRING} not found (apt-get install debian-keyring): skipped")
        return
    key = ctx.gpg.keys["rsa3072"]
    file = ctx.work / "keyring-doc.bin"
    file.write_bytes(os.urandom(25 * 1000))
    sig = ctx.work / "keyring-doc.bin.asc"
    ctx.gpg.sign(key, file, sig)
    debian = DEBIAN_KEYRING.read_bytes()
    signer = key.binary.read_bytes()
    last = ctx.work / "debian-signer-last.gpg"
    last.write_bytes(debian + signer)
    first = ctx.work / "debian-signer-first.gpg"
    first.write_bytes(signer + debian)
    cache = ctx.work / "keyring-cache"
    shutil.rmtree(cache, ignore_errors=True)

    variants = {
        "signer last": [last],
        "signer first": [first],
        "debian + signer keyrings": [DEBIAN_KEYRING, key.binary],
    }
    for label, keyrings in variants.items():
        ours = ctx.pgpverify(keyrings, sig, file)
        # the untimed first round of median_runs builds the index; the timed ones reuse it
        commands = {
            "pgpverify (warm index)": ([*ours, "--cache-dir", str(cache)], 0),
            "pgpverify (no index)": ([*ours, "--no-cache"], 0),
            **references(ctx, keyrings, sig, file),
        }
        runs = median_runs(commands, reps)
        print(
            f"  {label}: "
            + "; ".join(
                f"{name} {ms(med_cpu(rs))} (wall {ms(med(rs))}; RSS "
                f"{mib(max(r.maxrss_kib for r in rs))})"
                for name, rs in runs.items()
            )
        )
        warm, cold = med_cpu(runs["pgpverify (warm index)"]), med_cpu(runs["pgpverify (no index)"])
        if "sqv" in runs:
            ref = med_cpu(runs["sqv"])
            ctx.report.add(
                Check(
                    "keyring",
                    f"{label}, warm index vs sqv",
                    ms(warm),
                    ms(ref),
                    f"{warm / ref:.2f}x",
                    "<= 0.60x sqv",
                    warm <= 0.6 * ref,
                )
            )
            ctx.report.add(
                Check(
                    "keyring",
                    f"{label}, no index vs sqv",
                    ms(cold),
                    ms(ref),
                    f"{cold / ref:.2f}x",
                    "-",
                    None,
                )
            )
        if "gpgv" in runs:
            ref = med_cpu(runs["gpgv"])
            ctx.report.add(
                Check(
                    "keyring",
                    f"{label}, warm index vs gpgv",
                    ms(warm),
                    ms(ref),
                    f"{warm / ref:.2f}x",
                    "-",
                    None,
                )
            )

    from pgpverify import Keyring

    load = timed(lambda: Keyring.from_files([DEBIAN_KEYRING]), 3)
    ring = Keyring.from_files([DEBIAN_KEYRING])
    start = time.perf_counter()
    decoded = sum(ring.certificate(f) is not None for f in ring.fingerprints)
    decode = time.perf_counter() - start
    print(
        f"  in-process Keyring.from_files (full scan): {ms(load)} ({len(ring)} certificates); "
        f"decoding every certificate: {ms(decode)} ({decoded} decoded)"
    )
    ctx.report.add(
        Check("keyring", "Keyring.from_files (full scan)", ms(load), "-", "-", "-", None)
    )
    if ctx.args.with_pgpy_keyring:
        print("  PGPy PGPKeyring.load() (slow, 10-35 s) ...", flush=True)
        with tempfile.NamedTemporaryFile("w+", prefix="bench-pgpy-", delete=False) as out:
            out_path = Path(out.name)
        try:
            run_child(
                [sys.executable, "-c", _PGPY_KEYRING_CHILD, str(DEBIAN_KEYRING), str(out_path)]
            )
            pgpy = json.loads(out_path.read_text())
        finally:
            out_path.unlink(missing_ok=True)
        print(f"  PGPy PGPKeyring.load: {secs(pgpy['wall'])} ({pgpy['keys']} keys)")
        ctx.report.add(
            Check(
                "keyring",
                "Keyring.from_files vs PGPy load",
                ms(load),
                secs(pgpy["wall"]),
                f"{load / pgpy['wall']:.3f}x",
                "-",
                None,
            )
        )
    else:
        print("  PGPy PGPKeyring.load(): skipped (--with-pgpy-keyring; takes 10-35 s)")


# -- 4. start-up ------------------------------------------------------------------------


def bench_startup(ctx: Context) -> None:
    reps = 15
    print(f"\n== 4. start-up, CPU (user + system), median of {reps} ==")
    key = ctx.gpg.keys["ed25519"]
    file = ctx.work / "startup-doc.bin"
    file.write_bytes(b"start-up\n")
    good_sig = ctx.work / "startup-doc.bin.asc"
    ctx.gpg.sign(key, file, good_sig)
    garbage = ctx.work / "startup-garbage.asc"
    garbage.write_bytes(
        b"-----BEGIN PGP SIGNATURE-----\n\nnot base64 at all!\n-----END PGP SIGNATURE-----\n"
    )
    cli = pgpverify_argv()
    run_python = str(Path(cli[0]).parent / "python") if _RUN_ARGV else sys.executable
    baseline = _CLEAN_PYTHON or [sys.executable]
    paths: dict[str, tuple[list[str], int | None]] = {
        "--help": (["--help"], 0),
        "usage error": (["verify", str(file)], 2),
        "malformed .asc": (
            ["verify", str(file), "--signature", str(garbage), "--keyring", str(key.binary)],
            1,
        ),
        "good signature": (
            [
                "verify",
                str(file),
                "--signature",
                str(good_sig),
                "--keyring",
                str(key.binary),
                "--at",
                ctx.at_iso(),
            ],
            0,
        ),
    }
    commands: dict[str, tuple[list[str], int | None]] = {
        "python -c pass": ([*baseline, "-c", "pass"], 0),
        "python -c 'import argparse'": ([*baseline, "-c", "import argparse"], 0),
        "import pgpy (floor)": (
            [run_python, "-W", "ignore", "-c", "import os, pgpy; os._exit(0)"],
            0,
        ),
        **{f"pgpverify {name}": ([*cli, *argv], rc) for name, (argv, rc) in paths.items()},
    }
    runs = median_runs(commands, reps)
    base = med_cpu(runs["python -c pass"])
    print(f"  (python -c pass: a clean venv, {baseline[0]}; pgpverify: {cli[0]})")
    for name, rs in runs.items():
        print(
            f"  {name:30} {ms(med_cpu(rs)):>9} CPU  ({med_cpu(rs) / base:4.1f}x python -c "
            f"pass; wall {ms(med(rs))})"
        )
    floor = med_cpu(runs["import pgpy (floor)"])
    ctx.report.add(
        Check(
            "startup",
            "floor: a process importing PGPy",
            ms(floor),
            f"python -c pass {ms(base)}",
            f"{floor / base:.2f}x",
            "-",
            None,
        )
    )
    targets = {
        "--help": ("<= 2.5x (argparse only)", 2.5),
        "good signature": ("<= 8x", 8.0),
    }
    for name, (argv, rc) in paths.items():
        done = subprocess.run(
            [run_python, "-c", _IMPORTS_CHILD, *argv], check=True, capture_output=True, text=True
        )
        seen: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        if seen["rc"] != rc:
            msg = f"pgpverify {name}: exit {seen['rc']}, expected {rc}"
            raise RuntimeError(msg)
        print(
            f"  main({name}): pgpy imported: {seen['pgpy']}; "
            f"cryptography imported: {seen['cryptography']}"
        )
        t = med_cpu(runs[f"pgpverify {name}"])
        ratio = t / base
        if name in targets:
            label, limit = targets[name]
            ctx.report.add(
                Check(
                    "startup",
                    f"{name} CPU",
                    ms(t),
                    f"python -c pass {ms(base)}",
                    f"{ratio:.2f}x",
                    label,
                    ratio <= limit,
                )
            )
        if name != "good signature":
            ctx.report.add(
                Check(
                    "startup",
                    f"{name}: no PGPy, no cryptography",
                    ms(t),
                    f"python -c pass {ms(base)}",
                    f"{ratio:.2f}x",
                    "neither imported",
                    not seen["pgpy"] and not seen["cryptography"],
                )
            )


# -- 5. index runs over HTTP -------------------------------------------------------------

# A static index on 127.0.0.1 (http.server), optionally sending Cache-Control: max-age;
# one line per request on stderr.
_INDEX_SERVER = """
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


def bench_index(ctx: Context) -> None:
    print("\n== 5. index runs over HTTP (the demo index, 127.0.0.1): requests and fdatasync ==")
    strace = shutil.which("strace")
    sys.path.insert(0, str(BENCH_DIR.parent / "tests"))
    import importlib

    fakeindex: Any = importlib.import_module("fakeindex")  # the tests' demo index
    demo, root, wheel = fakeindex.DEMO, fakeindex.ROOT, fakeindex.WHEEL

    tree = ctx.work / "index-tree"
    shutil.rmtree(tree, ignore_errors=True)
    for url, (_status, body, _ctype) in fakeindex.demo_index().documents.items():
        rel = url[len(root) :]
        path = tree / (rel + "index.html" if rel.endswith("/") else rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    wheel_dir = ctx.work / "index-wheel"
    wheel_dir.mkdir(exist_ok=True)
    shutil.copy(demo / wheel, wheel_dir / wheel)
    for max_age in ("none", "300"):
        log = ctx.work / f"index-server-{max_age}.log"
        with log.open("w") as err:
            server = subprocess.Popen(
                [sys.executable, "-c", _INDEX_SERVER, str(tree), max_age],
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        try:
            assert server.stdout is not None
            port = int(server.stdout.readline())
            cache = ctx.work / f"index-cache-{max_age}"
            shutil.rmtree(cache, ignore_errors=True)
            for run in ("cold", "warm"):
                before = log.read_text().count("REQUEST ")
                argv = [
                    *pgpverify_argv(),
                    "verify",
                    str(wheel_dir / wheel),
                    "--index-url",
                    f"http://127.0.0.1:{port}/simple/",
                    "--cache-dir",
                    str(cache),
                    "--at",
                    "2025-06-01T00:00:00Z",
                ]
                syncs = "-"
                if strace is not None:
                    out = ctx.work / "index-strace.txt"
                    subprocess.run(
                        [strace, "-f", "-c", "-e", "trace=fdatasync,fsync", "-o", str(out), *argv],
                        check=True,
                        capture_output=True,
                    )
                    syncs = str(
                        sum(
                            int(line.split()[3])
                            for line in out.read_text().splitlines()
                            if line.split()[-1:] in (["fdatasync"], ["fsync"])
                        )
                    )
                else:
                    subprocess.run(argv, check=True, capture_output=True)
                time.sleep(0.2)  # the server's last log line
                requests = log.read_text().count("REQUEST ") - before
                label = f"max-age {max_age}, {run}"
                print(f"  {label}: {requests} request(s), {syncs} fdatasync/fsync")
                if run == "warm":
                    ok = requests == 0 if max_age != "none" else None
                    ctx.report.add(
                        Check(
                            "index",
                            f"{label}: requests",
                            str(requests),
                            "-",
                            "-",
                            "0 while fresh" if ok is not None else "-",
                            ok,
                        )
                    )
                    ctx.report.add(
                        Check(
                            "index",
                            f"{label}: fdatasync",
                            syncs,
                            "issue: 24 before",
                            "-",
                            "-",
                            None,
                        )
                    )
        finally:
            server.terminate()
            server.wait()
    if strace is None:
        print("  strace not installed: fdatasync not counted")


# -- main -------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke run")
    parser.add_argument(
        "--only", choices=BENCHMARKS, action="append", help="run only this benchmark (repeatable)"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument(
        "--skip-pgpy", action="store_true", help="skip PGPy's own PGPKey.verify() on a 200 MB file"
    )
    parser.add_argument(
        "--with-pgpy-keyring",
        action="store_true",
        help="also time PGPy's own load of the Debian keyring (10-35 s)",
    )
    parser.add_argument(
        "--work", type=Path, default=WORK_DIR, help=f"work directory (default {WORK_DIR})"
    )
    return parser.parse_args(argv)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


@contextlib.contextmanager
def gnupg_home() -> Iterator[Path]:
    # short path: gpg-agent's socket path must stay under ~100 bytes
    home = Path(tempfile.mkdtemp(prefix="pgpvb-"))
    home.chmod(0o700)
    try:
        yield home
    finally:
        subprocess.run(
            ["gpgconf", "--homedir", str(home), "--kill", "all"], check=False, capture_output=True
        )
        shutil.rmtree(home, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("gpg") is None:
        print("gpg not installed: it makes the benchmark's keys and signatures", file=sys.stderr)
        return 2
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    tools = {name: shutil.which(name) for name in ("sqv", "gpgv")}
    selected = args.only or list(BENCHMARKS)
    started = time.perf_counter()
    print(
        f"pgpverify benchmarks ({'quick' if args.quick else 'full'}) "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
    )
    print(
        f"  machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}; "
        f"Python {platform.python_version()}"
    )
    print(f"  load average: {load_average()}")
    for name, path in tools.items():
        version = (
            "not installed"
            if path is None
            else subprocess.run(
                [path, "--version"], check=False, capture_output=True, text=True
            ).stdout.splitlines()[0]
        )
        print(f"  {name}: {version}")
    # Children get a bytecode cache of their own, as an installed package has one: with
    # PYTHONDONTWRITEBYTECODE set (some CI images set it) an editable checkout would be
    # compiled from source at every start. The cache lives in the work directory.
    print(
        f"  children: PYTHONPYCACHEPREFIX={work / 'pycache'} "
        f"(PYTHONDONTWRITEBYTECODE was {os.environ.get('PYTHONDONTWRITEBYTECODE', 'unset')})"
    )
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    clean, script = make_venvs(work)
    _CLEAN_PYTHON[:] = [str(clean)]
    _RUN_ARGV[:] = [str(script)]
    print(
        f"  baseline: {clean} (a venv without packages); pgpverify: {script} "
        "(this checkout, no editable-install finder)"
    )
    report = Report()
    with gnupg_home() as home:
        gpg = Gpg(home, work)
        ctx = Context(args, work, gpg, report, tools)
        runners: dict[str, Callable[[Context], None]] = {
            "bigfile": bench_bigfile,
            "small": bench_small,
            "keyring": bench_keyring,
            "startup": bench_startup,
            "index": bench_index,
        }
        for name in BENCHMARKS:
            if name in selected:
                runners[name](ctx)
    report.summary()
    print(f"\nload average at the end: {load_average()} (2+ on 2 CPUs: figures are noisy)")
    print(f"total {time.perf_counter() - started:.0f} s; {len(report.missed)} target(s) missed")
    return 1 if args.strict and report.missed else 0


if __name__ == "__main__":
    sys.exit(main())
