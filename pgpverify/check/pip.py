"""pip does the resolving and the installing; pgpverify only checks what pip picked.

``check -r`` / ``install -r`` run ``python -m pip download`` with the interpreter pgpverify
runs under (no resolver of our own), then check every file pip saved. ``install`` then runs
``pip install --no-index --find-links DIR`` over a generated requirements file that pins
exactly the checked files by the sha256 each was checked with (``--hash``: pip's
hash-checking mode), so a file that was not checked, or changed since, is never installed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from typing import IO, TYPE_CHECKING

from pgpverify.check.model import Status
from pgpverify.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from pgpverify.check.model import CheckReport

__all__ = ["PendingInstall", "download", "install", "pinned_requirements", "start_install"]


def _pip() -> list[str]:
    """How pip is run: the interpreter pgpverify runs under, ``-m pip``."""
    return [sys.executable, "-m", "pip"]


def _has_fileno(stream: IO[str]) -> bool:
    try:
        stream.fileno()
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is an OSError
        return False
    return True


def _run(argv: list[str], *, output: IO[str] | None, what: str) -> None:
    """Run pip; its output goes to ``output`` (stderr in the CLI, so stdout stays ours)."""
    direct = output is None or _has_fileno(output)
    try:
        done = subprocess.run(
            argv,
            stdout=output if direct else subprocess.PIPE,
            stderr=subprocess.STDOUT,
            check=False,
            text=not direct,
            errors="backslashreplace",
        )
    except OSError as err:
        raise InputError(f"cannot run pip ({what}): {err.strerror or err}") from None
    if not direct and output is not None and done.stdout:
        output.write(done.stdout)  # a stream without a descriptor (a test's capture)
    if done.returncode != 0:
        raise InputError(f"pip {what} failed (exit status {done.returncode}); its output says why")


def download(
    requirements: Sequence[Path],
    dest: Path,
    *,
    index_url: str | None = None,
    quiet: bool = False,
    output: IO[str] | None = None,
    retries: int | None = None,
) -> None:
    """``python -m pip download -r ... --dest DEST`` (pip's own hash checking included).

    ``index_url`` None leaves the index to pip's configuration, as pgpverify's own default
    comes from there too. ``retries`` (``--retries``) is pip's too: by its own default
    pip tries an unreachable index six times, some 8 s of back-off.
    """
    argv = [
        *_pip(),
        "download",
        "--dest",
        str(dest),
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
    ]
    for req in requirements:
        argv += ["-r", str(req)]
    if index_url is not None:
        argv += ["--index-url", index_url]
    if retries is not None:
        argv += ["--retries", str(retries)]
    if quiet:
        argv.append("--quiet")
    _run(argv, output=output, what="download")


def pinned_requirements(report: CheckReport) -> str:
    """A requirements file pinning every checked file (``name==version --hash=...``).

    Only files that passed are pinned; the caller installs only when every file passed.
    """
    hashes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for item in report.files:
        if item.status not in (Status.GOOD, Status.UNSIGNED):
            msg = f"{item.file} did not pass the check: not pinned"
            raise ValueError(msg)
        if item.project is None or item.version is None or item.sha256 is None:
            msg = f"{item.file} has no name, version or sha256: not pinned"
            raise ValueError(msg)
        _pinnable(item.project, item.version, item.sha256, item.file)
        hashes[item.project, item.version].append(item.sha256)
    lines = []
    for (name, version), digests in sorted(hashes.items()):
        pins = " ".join(f"--hash=sha256:{d}" for d in sorted(set(digests)))
        lines.append(f"{name}=={version} {pins}\n")
    return "".join(lines)


#: a PEP 508 name, a PEP 440 version as packaging writes it, a sha256: nothing that could
#: turn a requirements line into an option or a second line
_NAME = re.compile(r"[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?", re.ASCII)
_VERSION = re.compile(r"[0-9][0-9a-z.!+_-]*", re.ASCII | re.IGNORECASE)
_SHA256 = re.compile(r"[0-9a-f]{64}", re.ASCII)


def _pinnable(name: str, version: str, sha256: str, file: str) -> None:
    if not (_NAME.fullmatch(name) and _VERSION.fullmatch(version) and _SHA256.fullmatch(sha256)):
        raise InputError(
            "cannot pin this file: its name or version is not one pip requirements can hold",
            source=file,
        )


def install(
    wheelhouse: Path,
    requirements: Path,
    extra: Sequence[str] = (),
    *,
    quiet: bool = False,
    output: IO[str] | None = None,
) -> None:
    """``pip install --no-index --no-deps --find-links WHEELHOUSE -r REQUIREMENTS [extra]``."""
    # --no-deps: pip download already resolved the complete set, and every file of it is
    # pinned; nothing beyond the pinned files can be pulled in
    _run(
        _install_argv(wheelhouse, str(requirements), extra, quiet=quiet),
        output=output,
        what="install",
    )


def _install_argv(
    wheelhouse: Path, requirements: str, extra: Sequence[str], *, quiet: bool
) -> list[str]:
    # --no-deps: pip download already resolved the complete set, and every file of it is
    # pinned; nothing beyond the pinned files can be pulled in. --require-hashes: what the
    # pins turn on anyway, said up front, so a requirement without a hash (one given after
    # '--') fails even if pgpverify dies before writing the pins and pip reads an end of
    # file (PendingInstall)
    argv = [
        *_pip(),
        "install",
        "--no-index",
        "--no-deps",
        "--require-hashes",
        "--find-links",
        str(wheelhouse),
        "--disable-pip-version-check",
        "-r",
        requirements,
    ]
    if quiet:
        argv.append("--quiet")
    return argv + list(extra)


class PendingInstall:
    """``pip install`` started early, held at its requirements file until the check ends.

    pip is started with ``-r /dev/fd/N``, a pipe only we write to: its interpreter start and
    imports (about 0.3 s) overlap ``pip download`` and the check, and it can do nothing
    before it has read that file to its end: it reads every requirement before it resolves
    or installs anything. :meth:`finish` writes the pins and closes the pipe, then waits for
    pip; :meth:`cancel` (a failed check, an error) kills pip *before* closing the pipe, so
    it never sees an end of file and cannot go on with requirements of its own (an extra
    argument after ``--``). Only where ``/dev/fd`` exists and the output stream has a
    descriptor: :func:`start_install` returns None otherwise, and the caller runs
    :func:`install` after the check.
    """

    def __init__(self, process: subprocess.Popen[bytes], pipe: int) -> None:
        self._process: subprocess.Popen[bytes] | None = process
        self._pipe = pipe

    def finish(self, pins: str) -> None:
        """Hand pip the pinned requirements and wait for it; InputError when pip fails."""
        process = self._process
        if process is None:
            msg = "this install was already finished or cancelled"
            raise ValueError(msg)
        self._process = None
        try:
            data = memoryview(pins.encode("utf-8"))
            try:
                while data:
                    data = data[os.write(self._pipe, data) :]
            except BrokenPipeError:
                pass  # pip ended before reading (a bad option): its exit status says so
            os.close(self._pipe)  # the end of file: pip goes on with every pin
            self._pipe = -1
            code = process.wait()
        except BaseException:
            # Ctrl-C while writing or while pip runs: stop pip (before it sees an end of
            # file, if it has not yet), as subprocess.run does
            process.kill()
            process.wait()
            if self._pipe >= 0:
                os.close(self._pipe)
            raise
        if code != 0:
            raise InputError(f"pip install failed (exit status {code}); its output says why")

    def cancel(self) -> None:
        """Kill pip before it has read its requirements; idempotent."""
        process = self._process
        if process is None:
            return
        self._process = None
        try:
            process.kill()
            process.wait()
        finally:
            os.close(self._pipe)


def start_install(
    wheelhouse: Path,
    extra: Sequence[str] = (),
    *,
    quiet: bool = False,
    output: IO[str] | None = None,
) -> PendingInstall | None:
    """Start ``pip install`` waiting for its pins (:class:`PendingInstall`), or None."""
    if not os.path.isdir("/dev/fd") or (output is not None and not _has_fileno(output)):  # noqa: PTH112
        return None
    read, write = os.pipe()
    try:
        argv = _install_argv(wheelhouse, f"/dev/fd/{read}", extra, quiet=quiet)
        process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT, pass_fds=(read,))
    except OSError as err:
        os.close(write)
        raise InputError(f"cannot run pip (install): {err.strerror or err}") from None
    finally:
        os.close(read)
    return PendingInstall(process, write)
