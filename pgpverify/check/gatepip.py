"""The pip side of ``install``'s gate: what pip may be given, and pip started against it.

Light on purpose (no verifier, no HTTP stack, no dataclasses): ``install`` reads the
requirements files and the options after ``--``, binds the gate's socket and starts pip
before anything heavy is imported, so pip's start-up (about 0.3 s) overlaps pgpverify's.
The gate itself is :mod:`pgpverify.check.gate`.

Safety of the pass: pip runs with ``PIP_CONFIG_FILE`` set to the null device (it then
reads no configuration file), without the ``PIP_*`` variables that are not known-safe
options, without proxies, and with options after ``--`` only from an allow-list
(:func:`scan_pip_options`). Requirements files are read first (:func:`scan_requirements`):
a direct URL or path, an editable, or any option that could add a source sends the run to
the two-pass design (``pip download``, check, ``pip install --no-index``), which handles
those safely.
"""

from __future__ import annotations

import codecs
import contextlib
import locale
import os
import re
import signal
import socket
import stat
import subprocess
import sys
from typing import IO, TYPE_CHECKING, NamedTuple

from pgpverify.errors import InputError
from pgpverify.io import read_requirements_file

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from pgpverify.limits import Limits

__all__ = [
    "SOURCE_OPTIONS",
    "Listener",
    "TopRequirement",
    "kill_pip",
    "pip_environment",
    "refuse_unsafe_requirements",
    "scan_pip_options",
    "scan_requirements",
    "start_pip",
    "stop_pip",
]

# -- what may be passed to pip ---------------------------------------------------------

#: options after ``--`` that add a package source: refused (usage error)
SOURCE_OPTIONS = ("--index-url", "--extra-index-url", "--find-links", "--no-index")
_SOURCE_SHORT = frozenset("if")
#: pip install options known not to change where packages come from (exact names only:
#: optparse takes unique abbreviations, which are not recognized here and so not allowed)
_FLAGS = frozenset({
    "--quiet", "--verbose", "--upgrade", "--force-reinstall", "--ignore-installed",
    "--ignore-requires-python", "--no-deps", "--pre", "--user", "--no-compile", "--compile",
    "--no-warn-script-location", "--no-warn-conflicts", "--no-build-isolation",
    "--use-pep517", "--no-use-pep517", "--check-build-dependencies",
    "--break-system-packages", "--require-hashes", "--dry-run", "--no-color", "--no-input",
    "--disable-pip-version-check", "--prefer-binary", "--no-clean", "--no-cache-dir",
    "--isolated", "--require-virtualenv", "--no-python-version-warning",
})  # fmt: skip
_VALUED = frozenset({
    "--target", "--prefix", "--root", "--platform", "--python-version", "--implementation",
    "--abi", "--only-binary", "--no-binary", "--cache-dir", "--timeout", "--retries",
    "--log", "--report", "--exists-action", "--progress-bar", "--root-user-action",
    "--upgrade-strategy", "--config-settings", "--src",
})  # fmt: skip
_SHORT_FLAGS = frozenset("qvUI")
_SHORT_VALUED = frozenset("tC")
#: pip's own switches pgpverify sets: not taken from the environment
_ENV_SET_HERE = frozenset({"PIP_CONFIG_FILE", "PIP_INDEX_URL"})
_PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy", "ftp_proxy"})


def scan_pip_options(args: Sequence[str]) -> tuple[str | None, str | None]:
    """(refusal, fallback) for the ``pip install`` options given after ``--``.

    A refusal (an option that adds a package source: ``--index-url``/``-i``,
    ``--extra-index-url``, ``--find-links``/``-f``, ``--no-index``, or an abbreviation of
    one; an argument with a control, bidi or other format character, which pip would
    print raw in its error) is a usage error. A fallback names the first argument the
    gate does not know to be safe (a requirement, ``-r``/``-c``/``-e``, an option not on
    the allow-list): the run then takes the two-pass design, where pip installs only
    pinned, checked files.
    """
    from pgpverify.textsafe import first_unsafe, terminal_safe

    for arg in args:  # pip names a bad option or requirement raw in its error
        char = first_unsafe(arg)
        if char is not None:
            return f"an argument after '--' holds {terminal_safe(char)}", None
    fallback = None
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg.startswith("--") and len(arg) > 2:
            name, eq, _ = arg.partition("=")
            if any(source.startswith(name) for source in SOURCE_OPTIONS):
                return f"'{arg}' after '--' would give pip another package source", None
            if name in _VALUED and not eq and rest:
                rest.pop(0)
            elif name not in _VALUED and (name not in _FLAGS or eq):
                fallback = fallback or arg
        elif arg.startswith("-") and len(arg) > 1:
            for at, letter in enumerate(arg[1:], start=2):
                if letter in _SOURCE_SHORT:
                    return f"'{arg}' after '--' would give pip another package source", None
                if letter in _SHORT_VALUED:
                    if at == len(arg) and rest:
                        rest.pop(0)
                    break
                if letter not in _SHORT_FLAGS:
                    fallback = fallback or arg
                    break
        else:
            fallback = fallback or arg
    return None, fallback


def pip_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment pip runs in: no configuration file, no source-adding variables.

    ``PIP_CONFIG_FILE`` is the null device (pip then reads no configuration file at all);
    a ``PIP_<OPTION>`` variable is kept only when ``--<option>`` is on the allow-list of
    :func:`scan_pip_options`; proxies are dropped (pip talks to 127.0.0.1 only).
    """
    env = {}
    for name, value in environ.items():
        if name.upper().startswith("PIP_"):
            option = "--" + name[4:].lower().replace("_", "-")
            if name.upper() in _ENV_SET_HERE or option not in _FLAGS | _VALUED:
                continue
        elif name.lower() in _PROXY_VARIABLES or name.lower() == "no_proxy":
            continue
        env[name] = value
    env["PIP_CONFIG_FILE"] = os.devnull
    env["NO_PROXY"] = env["no_proxy"] = "*"
    return env


# -- requirements files ------------------------------------------------------------------


class _RequirementLimits(NamedTuple):
    """The three ``Limits`` fields the scan reads (``requirements_*``)."""

    requirements_bytes: int
    requirements_files: int
    requirements_depth: int


#: ``Limits()``'s requirements caps, without importing :mod:`pgpverify.limits` (and
#: dataclasses) before pip starts; ``tests/test_check_gatepip.py`` checks they agree
DEFAULT_REQUIREMENT_LIMITS = _RequirementLimits(4 << 20, 256, 8)


class TopRequirement(NamedTuple):
    """A top-level requirement as the gate reads it (for prefetching only)."""

    #: the PEP 503-normalized project name
    name: str
    #: the version specifier as written (PEP 440), "" for none
    specifier: str


#: global options a requirements file may hold without leaving the gate
_FILE_OPTIONS = frozenset({"--pre", "--prefer-binary", "--require-hashes"})
_FILE_VALUED = frozenset({"--only-binary", "--no-binary"})
_NESTED = frozenset({"-r", "--requirement", "-c", "--constraint"})
_COMMENT = re.compile(r"(^|\s+)#.*$")
#: what pip reads as a URL in ``-r``/``-c`` (its ``_scheme_re``)
_URL_SCHEME = re.compile(r"(http|https|file):", re.IGNORECASE)
#: what pip takes for an archive file name (pip's ``ARCHIVE_EXTENSIONS``): a requirement
#: named like one may be read by pip as a local file
_PIP_ARCHIVES = (
    ".zip", ".whl", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tlz", ".tar.lz", ".tar.lzma",
    ".tar.gz", ".tgz", ".tar",
)  # fmt: skip
#: a plain requirement: a name, extras, version clauses; no marker, URL, path (no ``@``,
#: ``;``, ``:``, ``/``): read without packaging; anything else is parsed by packaging
_PLAIN = re.compile(
    r"(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[A-Za-z0-9._,\s-]*\]\s*)?"
    r"(?P<spec>(?:(?:===|==|!=|~=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+\s*,?\s*)*)",
    re.ASCII,
)


#: how pip reads a requirements file (``pip._internal.req.req_file._decode_req_file``): a
#: byte order mark, else a PEP 263 comment in the first two lines, else UTF-8, else the
#: locale's encoding; what none of them decodes stops pip with a traceback
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF16, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_PEP263 = re.compile(rb"coding[:=]\s*([-\w.]+)")


def refuse_unsafe_requirements(
    paths: Sequence[Path], *, limits: Limits | _RequirementLimits = DEFAULT_REQUIREMENT_LIMITS
) -> None:
    """InputError for a requirements file pip would mishandle, or mishandle on the terminal.

    A name pip takes for a URL (``https:``: the path pgpverify made of it is no URL pip
    can fetch, and a bad one stops pip with a traceback) is refused. Text pip cannot
    decode (a wheel given as ``-r``, Latin-1 under a UTF-8 locale, an unknown PEP 263
    encoding) stops pip with its own traceback; a line with a control, bidi or other
    format character pip echoes raw under its error message (an escape sequence reaches
    the terminal); so does a file name with one. Such a file is refused here, before pip
    starts. Regular files are read (at most ``limits.requirements_bytes`` each): those
    given on the command line and the local ``-r``/``-c`` files they name, as pip would
    read them, within ``limits``' count and depth; anything else is left to pip's own
    messages (a nested URL is pip's to fetch).
    """
    from pgpverify.textsafe import first_unsafe, terminal_safe

    most = limits.requirements_bytes
    for path in paths:
        if _URL_SCHEME.match(str(path)):  # pip fetches it; pgpverify took it for a path
            raise InputError(
                "pip reads a requirements file named 'http:', 'https:' or 'file:...' as a "
                "URL: give a local file (download it first)",
                source=str(path),
            )
    pending = [(path, 0) for path in paths]
    seen: set[str] = set()
    while pending:
        path, depth = pending.pop(0)
        key = os.path.abspath(path)  # noqa: PTH100 - a key only; no link is followed
        if key in seen or len(seen) >= limits.requirements_files:
            continue
        seen.add(key)
        char = first_unsafe(str(path))
        if char is not None:
            raise InputError(
                f"a requirements file name with {terminal_safe(char)} (pip would print it raw)",
                source=str(path),
            )
        data = _regular_file_start(path, most)
        if data is None:
            continue
        text = _pip_decode(data, final=len(data) < most)
        if text is None:
            raise InputError("not text pip can read: is it a requirements file?", source=str(path))
        for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
            char = first_unsafe(line.replace("\t", " "))
            if char is not None:
                raise InputError(
                    f"line {number} holds {terminal_safe(char)}, which pip would print raw",
                    source=str(path),
                )
        if depth < limits.requirements_depth:
            for _, line in _logical_lines(text.lstrip("\ufeff")):
                if line.startswith("-"):
                    nested, _ = _file_line(line)
                    if nested is not None and not _URL_SCHEME.match(nested):
                        if len(pending) >= limits.requirements_files:
                            break  # more than the run reads anyway
                        pending.append((path.parent / nested, depth + 1))


def _pip_decode(data: bytes, *, final: bool) -> str | None:
    """``data`` decoded as pip decodes a requirements file, or None where pip would fail."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):  # decoded with its mark: an incremental utf-16 needs it
            encodings = [encoding]
            break
    else:
        cookies = (_PEP263.search(line) for line in data.split(b"\n")[:2] if line[:1] == b"#")
        cookie = next((c for c in cookies if c is not None), None)
        encodings = (
            [cookie.group(1).decode("ascii")]
            if cookie is not None
            else [
                "utf-8",
                locale.getpreferredencoding(do_setlocale=False) or sys.getdefaultencoding(),
            ]
        )
    for encoding in encodings:
        with contextlib.suppress(LookupError, UnicodeError):
            # incremental: a file cut at the size cap may end inside a character
            return codecs.getincrementaldecoder(encoding)().decode(data, final=final)
    return None


def _regular_file_start(path: Path, most: int) -> bytes | None:
    """The first ``most`` octets of a regular file; None for anything else (never blocks)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError):
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(os.dup(fd), "rb") as stream:
            return stream.read(most)
    except OSError:
        return None
    finally:
        os.close(fd)


def scan_requirements(
    paths: Sequence[Path], *, limits: Limits | _RequirementLimits = DEFAULT_REQUIREMENT_LIMITS
) -> tuple[list[TopRequirement], str | None]:
    """(the top-level requirements, or the reason to fall back to the two-pass design).

    A line the gate cannot vouch for (an option other than ``--pre``, ``--prefer-binary``,
    ``--require-hashes``, ``--only-binary``, ``--no-binary``, ``--hash``; a direct URL, a
    path or an archive name; an editable; ``${VAR}``; a nested file that is not a local
    file) gives the reason, naming the file and line. Nested ``-r``/``-c`` files are read
    too, within ``limits``' count, size and depth. InputError when a file cannot be read.
    """
    found: list[TopRequirement] = []
    seen: set[str] = set()
    pending = [(path, 0, True) for path in paths]
    while pending:
        path, depth, top = pending.pop(0)
        data = read_requirements_file(path, seen, depth, limits)
        if data is None:
            continue
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]  # a UTF-8 byte order mark, as pip drops it
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = "\x00"
        if "\x00" in text:
            return found, f"{path}: not UTF-8 text (pip might read it otherwise)"
        for number, line in _logical_lines(text):
            where = f"{path}:{number}"
            if "${" in line:
                return found, f"{where}: an environment variable in a requirements line"
            if line.startswith("-"):
                nested, why = _file_line(line)
                if why is not None:
                    return found, f"{where}: {why}"
                if nested is not None:
                    if _URL_SCHEME.match(nested):
                        return found, f"{where}: a requirements file given by URL"
                    constraint = line.startswith(("-c", "--constraint"))
                    pending.append((path.parent / nested, depth + 1, top and not constraint))
                continue
            requirement = _requirement(line)
            if isinstance(requirement, str):
                return found, f"{where}: {requirement}"
            if top and requirement is not None:
                found.append(requirement)
    return found, None


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, line) as pip reads a requirements file, comments removed.

    pip's ``join_lines`` then ``ignore_comments``, exactly: a line ending in a backslash
    is joined to the next (the backslash dropped, no space added) unless it is a comment
    line, which is never joined; then a comment (``#`` at the start or after white space,
    to the end) is removed and the line stripped.
    """
    joined: list[tuple[int, str]] = []
    pending: list[str] = []
    first = 0
    for number, line in enumerate(text.splitlines(), start=1):
        comment = _COMMENT.match(line) is not None
        if not line.endswith("\\") or comment:
            if comment:
                line = " " + line
            if pending:
                joined.append((first, "".join([*pending, line])))
                pending = []
            else:
                joined.append((number, line))
        else:
            if not pending:
                first = number
            pending.append(line.strip("\\"))
    if pending:
        joined.append((first, "".join(pending)))
    out = []
    for number, line in joined:
        stripped = _COMMENT.sub("", line).strip()
        if stripped:
            out.append((number, stripped))
    return out


def _file_line(line: str) -> tuple[str | None, str | None]:
    """(a nested file to read, or why the line leaves the gate) for an option line."""
    option, eq, value = line.partition("=") if line.startswith("--") else ("", "", "")
    if not eq:
        option, _, value = line.partition(" ")
        if not line.startswith("--") and len(option) > 2:
            option, value = option[:2], option[2:] + " " + value
    value = value.strip()
    if option in _NESTED and value and " " not in value:
        return value, None
    if option in _FILE_OPTIONS and not value:
        return None, None
    if option in _FILE_VALUED and value and " " not in value:
        return None, None
    return None, f"option {option!r} (the gate passes only plain requirements)"


def _requirement(line: str) -> TopRequirement | str | None:
    """A plain requirement line (with ``--hash`` options), or why it is not one."""
    spec, _, options = line.partition(" -")
    tokens = ("-" + options).split() if options else []
    while tokens:
        option = tokens.pop(0)
        if option == "--hash" and tokens:
            tokens.pop(0)
        elif not option.startswith("--hash="):
            return f"per-requirement option {option!r}"
    plain = _PLAIN.fullmatch(spec.strip())
    if plain is not None:
        name, specifier = plain["name"], plain["spec"].strip()
        marker = None
    else:
        from packaging.requirements import InvalidRequirement, Requirement

        try:
            requirement = Requirement(spec.strip())
        except InvalidRequirement:
            return "not a plain project requirement (a path, a URL or an editable?)"
        if requirement.url:
            return f"a direct URL requirement ({requirement.name} @ ...)"
        name, specifier, marker = requirement.name, str(requirement.specifier), requirement.marker
    if name.lower().endswith(_PIP_ARCHIVES):
        return f"{name!r} looks like a file name"
    try:
        if marker is not None and not marker.evaluate():
            return None
    except ValueError:  # a marker naming what this environment lacks: pip decides
        pass
    return TopRequirement(re.sub(r"[-_.]+", "-", name).lower(), specifier)


class Listener:
    """The gate's socket, listening on 127.0.0.1 before anything else, and its URLs.

    Made first, so pip can start (and spend its start-up) while pgpverify loads its trust
    inputs: until :meth:`Gate.serve` runs, pip's connection waits in the backlog. The path
    starts with a random token, new each run, so no URL of one run (in pip's caches) names
    a file of another.
    """

    def __init__(self) -> None:
        self.token = os.urandom(16).hex()
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self.socket.bind(("127.0.0.1", 0))
            self.socket.listen(64)
        except OSError as err:
            self.socket.close()
            raise InputError(f"cannot listen on 127.0.0.1: {err.strerror or err}") from None
        self.port: int = self.socket.getsockname()[1]

    @property
    def index_url(self) -> str:
        """The index URL pip is given."""
        return f"http://127.0.0.1:{self.port}/{self.token}/simple/"

    def close(self) -> None:
        """Stop listening (idempotent)."""
        self.socket.close()


def stop_pip(process: subprocess.Popen[bytes]) -> None:
    """Kill pip (and its process group) unless it has ended; wait for it."""
    kill_pip(process)
    process.wait()


def kill_pip(process: subprocess.Popen[bytes]) -> None:
    """Kill pip and whatever it started (its process group, where it leads one)."""
    if process.poll() is not None:
        return
    killpg = getattr(os, "killpg", None)
    if killpg is not None:
        with contextlib.suppress(OSError):
            if os.getpgid(process.pid) == process.pid:
                killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        process.kill()


def start_pip(
    requirements: Sequence[Path],
    index_url: str,
    extra: Sequence[str],
    *,
    quiet: bool,
    output: IO[str] | None,
) -> subprocess.Popen[bytes]:
    """``python -m pip install -r ... --index-url INDEX_URL [extra]`` in a new session."""
    argv = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check"]
    for path in requirements:
        argv += ["-r", str(path)]
    argv += ["--index-url", index_url]
    if quiet:
        argv.append("--quiet")
    argv += list(extra)
    # pip's output goes to ours (stderr): to its descriptor, or to descriptor 2 when the
    # stream has none (a test's capture); never to stdout, which carries the report
    target: IO[str] | int = 2
    if output is not None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            output.fileno()
            target = output
    try:
        return subprocess.Popen(
            argv,
            stdout=target,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=pip_environment(os.environ),
            start_new_session=os.name == "posix",
        )
    except OSError as err:
        raise InputError(f"cannot run pip (install): {err.strerror or err}") from None
