"""Build the sdist and wheel, check them, and run the test suite from the sdist per Python.

Distribution packagers build from the sdist and run its tests: this script does what they
do, so a file the tests need and the sdist lacks fails here, not downstream.

1. ``python -m build`` makes the sdist, then the wheel from that sdist (``dist/``).
2. ``twine check --strict`` checks both (metadata, the PyPI description renders).
3. The sdist holds every tracked file but the CI plumbing (``.github/``, ``.ci/``) when run
   from a git checkout, so a file a test reads cannot be left out, and no caches; the
   wheel holds the package, ``py.typed``, the licence and the entry point, and no tests.
4. For each Python asked for (``--python 3.10 3.11 ...``): the sdist is unpacked into a
   temporary directory, a venv is made with that interpreter, ``pip install .[test]`` runs
   there, and then ``pytest`` (the installed package, the unpacked tests and vectors).
   A Python that is not on this machine is skipped with a message, or is a failure under
   ``CI=true``.

Usage: ``python tools/distcheck.py [--python 3.10 3.13] [--examples 40] [--dist dist]``.
Exit status 0 when every step passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
SUPPORTED = ("3.10", "3.11", "3.12", "3.13")
#: In a git checkout the sdist must carry every tracked file but these (CI plumbing): the
#: tests read files anywhere in the tree (README.md, docs/, action.yml, vectors/ ...).
NOT_IN_SDIST = (".github/", ".ci/", ".gitignore")
#: Outside a git checkout (an unpacked sdist), at least these.
REQUIRED_FILES = ("pyproject.toml", "LICENSE", "README.md", "CHANGELOG.md", "MANIFEST.in")
REQUIRED_TREES = ("pgpverify", "tests", "vectors", "bench", "docs")
#: Path parts that must never be in a distribution.
JUNK_PARTS = frozenset(
    {"__pycache__", ".hypothesis", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".work"}
)


def project() -> dict[str, Any]:
    """The ``[project]`` table of pyproject.toml."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    table: dict[str, Any] = tomllib.loads(text)["project"]
    return table


class CheckError(Exception):
    """A step failed; the message says which and why."""


def run(
    argv: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    quiet: bool = False,
) -> None:
    """Run ``argv``; a non-zero exit is a CheckError.

    Its output goes to ours, or with ``quiet`` is kept and shown only if it fails.
    """
    print("+", " ".join(argv), flush=True)
    done = subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        check=False,
        stdout=subprocess.PIPE if quiet else None,
        stderr=subprocess.STDOUT if quiet else None,
    )
    if done.returncode != 0:
        if quiet:
            sys.stdout.buffer.write(done.stdout)
        raise CheckError(f"{argv[0]} exited with {done.returncode}: {' '.join(argv)}")


def build(dist: Path) -> tuple[Path, Path]:
    """Build the sdist, then the wheel from it; return their paths."""
    if dist.exists():
        shutil.rmtree(dist)
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)], quiet=True)
    sdists = sorted(dist.glob("*.tar.gz"))
    wheels = sorted(dist.glob("*.whl"))
    if len(sdists) != 1 or len(wheels) != 1:
        raise CheckError(f"expected one sdist and one wheel in {dist}")
    run([sys.executable, "-m", "twine", "check", "--strict", str(sdists[0]), str(wheels[0])])
    return sdists[0], wheels[0]


def source_files() -> set[str]:
    """Files the sdist must carry, relative to ROOT (tracked ones in a git checkout)."""
    wanted = set(REQUIRED_FILES)
    if (ROOT / ".git").exists() and shutil.which("git"):
        listed = subprocess.run(
            ["git", "ls-files", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode("utf-8", "surrogateescape")
        wanted.update(
            name for name in listed.split("\0") if name and not name.startswith(NOT_IN_SDIST)
        )
    else:
        for tree in REQUIRED_TREES:
            wanted.update(
                path.relative_to(ROOT).as_posix()
                for path in (ROOT / tree).rglob("*")
                if path.is_file() and not JUNK_PARTS & set(path.relative_to(ROOT).parts)
            )
    # a file deleted in the working tree but not yet committed is not expected
    return {name for name in wanted if (ROOT / name).is_file()}


def check_sdist(sdist: Path) -> None:
    """Every source file the tests need is in the sdist, and nothing from a cache."""
    with tarfile.open(sdist) as tar:
        names = {PurePosixPath(*PurePosixPath(m.name).parts[1:]).as_posix() for m in tar}
    missing = sorted(source_files() - names)
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise CheckError(f"{len(missing)} files missing from the sdist: {shown}")
    junk = sorted(n for n in names if JUNK_PARTS & set(n.split("/")) or n.endswith(".pyc"))
    if junk:
        raise CheckError(f"cache files in the sdist: {', '.join(junk[:10])}")
    print(f"sdist: {len(names)} members, every tracked file but CI plumbing", flush=True)


def check_wheel(wheel: Path) -> None:
    """The wheel: the package typed and licensed, the entry point, no tests or vectors."""
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
        info = next(n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info"))
        metadata = whl.read(f"{info}/METADATA").decode("utf-8")
        entry_points = whl.read(f"{info}/entry_points.txt").decode("utf-8")
    problems = []
    if "pgpverify/py.typed" not in names:
        problems.append("pgpverify/py.typed is missing")
    if f"{info}/licenses/LICENSE" not in names:
        problems.append("the LICENSE file is missing")
    if "License-Expression: Apache-2.0" not in metadata.splitlines():
        problems.append("no License-Expression: Apache-2.0")
    script = f"pgpverify = {project()['scripts']['pgpverify']}"
    if script not in entry_points.splitlines():
        problems.append(f"no console script {script!r}")
    stray = sorted({n.split("/")[0] for n in names} - {"pgpverify", info})
    if stray:
        problems.append(f"stray top-level entries: {', '.join(stray)}")
    if problems:
        raise CheckError(f"wheel {wheel.name}: " + "; ".join(problems))
    print(f"wheel: {len(names)} members, typed, licensed, entry point present", flush=True)


def find_python(version: str) -> Path | None:
    """The interpreter for ``version`` (3.X): on PATH, else under pyenv; None if absent."""
    candidates: list[Path] = []
    on_path = shutil.which(f"python{version}")
    if on_path:
        candidates.append(Path(on_path))
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates.extend(sorted(pyenv.glob(f"{version}.*/bin/python{version}"), reverse=True))
    for candidate in candidates:
        probe = subprocess.run(
            [str(candidate), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


def venv_bin(venv: Path, name: str) -> str:
    """A program inside ``venv`` (bin/ on POSIX, Scripts/ on Windows)."""
    if os.name == "nt":
        return str(venv / "Scripts" / f"{name}.exe")
    return str(venv / "bin" / name)


def test_from_sdist(sdist: Path, python: Path, examples: int, work: Path) -> None:
    """Unpack, install ``.[test]`` with ``python`` and run the suite."""
    with tarfile.open(sdist) as tar:
        tar.extractall(work, filter="data")
    (tree,) = [p for p in work.iterdir() if p.is_dir()]
    venv = work / "venv"
    run([str(python), "-m", "venv", "--upgrade-deps", str(venv)])
    run(
        [
            venv_bin(venv, "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            ".[test]",
        ],
        cwd=tree,
    )
    env = dict(os.environ)
    env["PGPVERIFY_PROPERTY_EXAMPLES"] = str(examples)
    env.pop("PYTHONPATH", None)
    # the suite's own config (pyproject: -W error, strict markers) applies; no coverage
    run(
        [venv_bin(venv, "pytest"), "-q", "-p", "no:cacheprovider", "-p", "no:cov"],
        cwd=tree,
        env=env,
    )


def main(argv: list[str] | None = None) -> int:
    """Build and check the distributions, then test the sdist on each Python asked for."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--python",
        nargs="*",
        default=[],
        metavar="3.X",
        help="run the sdist's test suite on these Pythons (default: none)",
    )
    parser.add_argument(
        "--examples",
        type=int,
        default=40,
        help="hypothesis examples per property (PGPVERIFY_PROPERTY_EXAMPLES)",
    )
    parser.add_argument(
        "--dist",
        type=Path,
        default=ROOT / "dist",
        help="where the sdist and wheel are written (emptied first)",
    )
    args = parser.parse_args(argv)
    strict = os.environ.get("CI") == "true"
    try:
        unknown = [v for v in args.python if v not in SUPPORTED]
        if unknown:
            raise CheckError(f"not a supported Python: {', '.join(unknown)}")
        sdist, wheel = build(args.dist)
        check_sdist(sdist)
        check_wheel(wheel)
    except CheckError as err:
        print(f"distcheck: FAILED: {err}", file=sys.stderr, flush=True)
        return 1
    # every Python is tried, so one run reports all of them
    timings: list[str] = []
    failures: list[str] = []
    for version in args.python:
        python = find_python(version)
        if python is None:
            if strict:
                failures.append(f"Python {version} is not on this machine (CI=true)")
            else:
                print(f"SKIPPED: Python {version} is not on this machine", flush=True)
                timings.append(f"{version}: skipped (not installed)")
            continue
        start = time.monotonic()
        try:
            with tempfile.TemporaryDirectory(prefix=f"pgpverify-sdist-{version}-") as work:
                test_from_sdist(sdist, python, args.examples, Path(work))
        except CheckError as err:
            failures.append(f"Python {version}: {err}")
        timings.append(f"{version}: {time.monotonic() - start:.0f} s")
    summary = "; ".join(timings) if timings else "no test runs asked for"
    for failure in failures:
        print(f"distcheck: FAILED: {failure}", file=sys.stderr, flush=True)
    print(f"distcheck: {'FAILED' if failures else 'OK'} ({summary})", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
