"""Command line: ``pgpverify verify | lock | publish | check | install``.

Exit status: 0 verified (or done), 1 rejected (or refused), 2 usage or I/O error. Errors
are one line on stderr; no input produces a traceback. This is the only module that
prints, exits, reads ``sys.argv``, the environment or the clock.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import sys

from pgpverify import __version__
from pgpverify.errors import InputError, PgpVerifyError
from pgpverify.textsafe import terminal_safe

# Start-up cost: ``--help`` and usage errors import argparse and nothing heavy (no
# dataclasses, typing, pathlib, datetime, json, cryptography or PGPy); everything else is
# imported where it is used. ``tests/test_cli_startup.py`` checks it in a fresh interpreter.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import contextlib
    from datetime import datetime
    from pathlib import Path
    from typing import Any, NoReturn, TextIO

    from pgpverify.index.cache import Cache
    from pgpverify.index.client import IndexClient
    from pgpverify.index.fetch import Fetcher
    from pgpverify.index.keyidx import KeyringIndexStore
    from pgpverify.index.verdict import IndexVerification
    from pgpverify.verify import VerificationResult

__all__ = ["entry", "main"]

EXIT_GOOD = 0
EXIT_REJECTED = 1
EXIT_ERROR = 2
_NO_SOURCE = (
    "no keyring source: give --keyring, --lock or --index-url "
    "(or configure an index with PIP_INDEX_URL or pip's index-url)"
)


class _UsageError(Exception):
    """A usage error found after argparse: reported like argparse's own."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) instead of usage + message."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, with the terminal width looked up once, without shutil.

    argparse makes a formatter for every argument added (to check it) and each one asks
    shutil for the terminal size: importing shutil (and lzma, fnmatch) and a system call
    each time, on every run. Same rule as ``shutil.get_terminal_size``: ``COLUMNS``, else
    the terminal of stdout, else 80.
    """

    _columns: int | None = None

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        super().__init__(
            prog,
            indent_increment,
            max_help_position,
            width if width is not None else _Formatter._terminal_columns() - 2,
        )

    @staticmethod
    def _terminal_columns() -> int:
        if _Formatter._columns is None:
            try:
                columns = int(os.environ.get("COLUMNS", "0"))
            except ValueError:
                columns = 0
            stream = sys.__stdout__
            if columns <= 0 and stream is not None:
                try:
                    columns = os.get_terminal_size(stream.fileno()).columns
                except (AttributeError, ValueError, OSError):
                    columns = 0
            _Formatter._columns = columns if columns > 0 else 80
        return _Formatter._columns


def parse_time(text: str) -> datetime:
    """ISO 8601 with a ``Z`` or offset; a date alone or a time without zone is UTC."""
    from pgpverify.isotime import parse_iso8601

    try:
        return parse_iso8601(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time: {text!r} (e.g. 2025-06-01T12:00:00Z)"
        ) from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value < 10**7:
        raise argparse.ArgumentTypeError(f"out of range: {text!r}")
    return value


def _positive_seconds(text: str) -> float:
    value = _seconds(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds: {text!r}")
    return value


#: what every supported OS takes: a name of 255 bytes, a path of 4096 (Linux PATH_MAX)
_NAME_MAX = 255
_PATH_MAX = 4096


def _path(text: str) -> Path:
    """A path argument as a ``Path`` (see :func:`_file`)."""
    from pathlib import Path

    return Path(_file(text))


def _file(text: str) -> str:
    """A path argument, checked before any file operation can trip on it.

    Not empty (``Path("")`` would quietly be ``.``), and within the lengths the OS takes:
    otherwise "file name too long" surfaces from whichever ``exists()`` looks first.
    Returned as pathlib writes it (:func:`pgpverify.io.display_path`) but as a ``str``:
    ``verify`` keeps pathlib off its path (start-up cost).
    """
    if not text:
        raise argparse.ArgumentTypeError("empty path")
    try:
        raw = os.fsencode(text)
    except UnicodeEncodeError:  # a surrogate no command line can carry
        raise argparse.ArgumentTypeError("not a valid file name") from None
    if len(raw) > _PATH_MAX or any(len(n) > _NAME_MAX for n in re.split(rb"[/\\]", raw)):
        raise argparse.ArgumentTypeError(
            f"path too long ({len(raw)} bytes; at most {_NAME_MAX} a name, {_PATH_MAX} in all)"
        )
    from pgpverify.io import display_path

    return display_path(text)


def _add_index_options(cmd: argparse.ArgumentParser) -> None:
    group = cmd.add_argument_group("index")
    group.add_argument(
        "--index-url",
        metavar="URL",
        help="PEP 503 simple index URL, as pip takes it (default: PIP_INDEX_URL or pip's "
        "configured index-url)",
    )
    group.add_argument(
        "--keys-url",
        metavar="URL",
        help="root of the index's pgp/ tree (default: the parent of --index-url)",
    )
    group.add_argument(
        "--cache-dir",
        metavar="DIR",
        type=_path,
        help="cache directory, also for the key-ID indexes of large keyrings "
        "(default: the user cache directory)",
    )
    group.add_argument(
        "--no-cache",
        action="store_true",
        help="do not read or write the cache (nor keyring indexes)",
    )
    group.add_argument("--offline", action="store_true", help="use the cache only, no network")
    group.add_argument(
        "--not-found-ttl",
        metavar="SECONDS",
        type=_seconds,
        default=300.0,
        help="how long a 'not found' answer is cached (default: 300)",
    )
    group.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_positive_seconds,
        default=60.0,
        help="the most one document's whole download may take: connecting and every "
        "read, of every redirect and retry, the waits between retries aside; a server "
        "that trickles bytes is cut off then (default: 60)",
    )
    group.add_argument(
        "--retries",
        metavar="N",
        type=int,
        default=3,
        help="retries on connection errors, 5xx and 429 (default: 3)",
    )
    group.add_argument(
        "--cert",
        metavar="PATH",
        type=_path,
        help="CA bundle for HTTPS (default: REQUESTS_CA_BUNDLE or the system's)",
    )
    group.add_argument(
        "--allow-insecure",
        action="store_true",
        help="allow plain HTTP to hosts other than this machine",
    )


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Build the argument parser (exposed for documentation and tests).

    With ``command``, only that subcommand gets its arguments (start-up cost: every
    argparse parser and argument pays for gettext look-ups); the others are not added.
    """
    parser = _Parser(
        prog="pgpverify",
        description="Verify OpenPGP signatures of Python distributions without gpg.",
    )
    parser.add_argument("--version", action="version", version=f"pgpverify {__version__}")
    sub: Any = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    if command is not None:
        sub = _OnlyCommand(sub, command)
    verify = sub.add_parser(
        "verify",
        help="verify a detached signature",
        description=(
            "Verify the detached signature of FILE against keyrings (with an optional "
            "ownership record), a lock file, or the keys and ownership record the package "
            "index publishes. Exit status: 0 verified, 1 rejected, 2 usage or I/O error."
        ),
    )
    verify.add_argument("file", metavar="FILE", type=_file, help="the signed file")
    verify.add_argument(
        "--signature",
        metavar="SIG",
        type=_file,
        help="detached signature (default: FILE.asc, else the one the index lists)",
    )
    verify.add_argument(
        "--keyring",
        metavar="KEYRING",
        type=_file,
        action="append",
        default=[],
        help="OpenPGP keyring, armored or binary (repeatable)",
    )
    verify.add_argument(
        "--project",
        metavar="NAME",
        help="project the file belongs to (default: from the file name)",
    )
    verify.add_argument(
        "--owners",
        metavar="OWNERS.json",
        type=_path,
        help="the project's ownership record (with --keyring and --project)",
    )
    verify.add_argument(
        "--lock",
        metavar="LOCKFILE",
        type=_path,
        help="verify with the keys a lock file pins (no network)",
    )
    verify.add_argument(
        "--at",
        metavar="ISO-8601-TIME",
        type=parse_time,
        help="reference time for expiry and revocation (default: now)",
    )
    verify.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    verify.add_argument(
        "--fail-on-key-change",
        action="store_true",
        help="reject when the project's trust statement on the index changed since last "
        "seen in a way that widens who may sign or when (a key or signer added, a "
        "retirement removed or moved later), or when that memory cannot be read",
    )
    _add_index_options(verify)

    lock = sub.add_parser(
        "lock",
        help="pin projects' ownership and keys from an index into a lock file",
        description=(
            "Fetch the ownership records and keys of the given projects (and of every "
            "project in the requirements files) and write them to a reviewable TOML lock "
            "file for offline verification with 'verify --lock'. Over an existing lock "
            "file, every change is listed; certificates only grow (packets the previous "
            "lock held are kept), and a change that drops or postpones a retirement it "
            "held is refused (exit 1) unless --allow-weakening is given."
        ),
    )
    lock.add_argument("projects", metavar="PROJECT", nargs="*", help="project names")
    lock.add_argument(
        "-r",
        "--requirement",
        metavar="FILE",
        type=_path,
        action="append",
        default=[],
        help="requirements file (repeatable)",
    )
    lock.add_argument(
        "-o",
        "--output",
        metavar="LOCKFILE",
        type=_path,
        default="pgpverify.lock",  # a string: argparse applies _path
        help="lock file to write (default: pgpverify.lock)",
    )
    lock.add_argument(
        "--allow-weakening",
        action="store_true",
        help="let the new lock drop or postpone retirements, and drop certificate packets "
        "(revocations, self-signatures), that the previous lock file held",
    )
    _add_index_options(lock)

    publish = sub.add_parser(
        "publish",
        help="build an index's pgp/ tree from maintainers' keys and ownership records",
        description=(
            "Validate exported public keys and ownership records and write the pgp/ tree "
            "(projects, keys, index.json) an index publishes. Refuses, listing every "
            "problem, when anything is wrong."
        ),
    )
    publish.add_argument(
        "--keys",
        metavar="DIR",
        type=_path,
        required=True,
        help="directory of exported public keys (*.asc, *.gpg, *.pgp)",
    )
    publish.add_argument(
        "--owners",
        metavar="DIR",
        type=_path,
        required=True,
        help="directory of ownership records (*.json)",
    )
    publish.add_argument(
        "-o",
        "--output",
        metavar="OUTDIR",
        type=_path,
        required=True,
        help="where to write the pgp/ tree",
    )
    _add_check_commands(sub)
    _add_audit_commands(sub)
    return parser


def _add_check_commands(sub: Any) -> None:
    """``check`` and ``install`` (issue 10): every file a job is about to install."""
    check = sub.add_parser(
        "check",
        help="verify every distribution file of a wheelhouse or a requirements set",
        description=(
            "Verify the signatures of distribution files (PATHs: files or directories of "
            "them) and of what 'pip download -r' picks, with signatures from the index "
            "only. Unsigned files pass and are reported unless signatures are required. "
            "Exit status: 0 all pass, 1 a file is rejected, 2 usage error or a file "
            "could not be checked."
        ),
    )
    check.add_argument(
        "paths",
        metavar="PATH",
        type=_path,
        nargs="*",
        help="a distribution file, or a directory of them",
    )
    install = sub.add_parser(
        "install",
        help="check what 'pip download -r' picks, then pip-install exactly those files",
        description=(
            "Run 'pip download -r REQUIREMENTS', check every downloaded file, and only if "
            "all pass run 'pip install --no-index --find-links' over exactly the checked "
            "files, pinned by sha256. Arguments after '--' go to 'pip install'."
        ),
    )
    install.set_defaults(paths=[])
    for cmd in (check, install):
        cmd.add_argument(
            "-r",
            "--requirement",
            metavar="FILE",
            type=_path,
            action="append",
            default=[],
            help="requirements file for 'pip download' (repeatable)",
        )
        cmd.add_argument(
            "--dest",
            metavar="DIR",
            type=_path,
            help="keep the downloaded files here (default: a temporary directory)",
        )
        cmd.add_argument(
            "--lock", metavar="LOCKFILE", type=_path, help="keys and owners from a lock file"
        )
        cmd.add_argument(
            "--keyring",
            metavar="KEYRING",
            type=_path,
            action="append",
            default=[],
            help="offline keyring (repeatable; with --signatures-dir)",
        )
        cmd.add_argument(
            "--owners",
            metavar="OWNERS.json",
            type=_path,
            action="append",
            default=[],
            help="ownership record, one per project (repeatable)",
        )
        cmd.add_argument(
            "--signatures-dir",
            metavar="DIR",
            type=_path,
            help="read signatures as DIR/<file>.asc (never otherwise from disk)",
        )
        cmd.add_argument("--require-signatures", action="store_true", help="an unsigned file fails")
        cmd.add_argument(
            "--require-signatures-for",
            metavar="NAME",
            action="append",
            default=[],
            help="an unsigned file of this project fails (repeatable)",
        )
        cmd.add_argument(
            "--reject-backsigned",
            action="store_true",
            help="fail a signature made more than the grace after the upload",
        )
        cmd.add_argument(
            "--backsign-grace",
            metavar="HOURS",
            type=_hours,
            default=24.0,
            help="hours after the upload a signature still counts as made at release (default: 24)",
        )
        cmd.add_argument(
            "--at",
            metavar="ISO-8601-TIME",
            type=parse_time,
            help="reference time for expiry and revocation (default: now)",
        )
        cmd.add_argument(
            "--fail-on-key-change",
            action="store_true",
            help="fail every file of a project whose trust statement on the "
            "index widened since last seen (or whose memory cannot be read)",
        )
        cmd.add_argument(
            "--jobs",
            metavar="N",
            type=int,
            default=2,
            help="threads hashing and verifying (default: 2)",
        )
        cmd.add_argument(
            "--format",
            choices=("text", "json", "github"),
            default="text",
            help="output format (github: workflow annotations and a job summary)",
        )
        cmd.add_argument(
            "--junit-xml",
            metavar="FILE",
            type=_path,
            help="also write a JUnit XML report, one test case per file",
        )
        cmd.add_argument(
            "--quiet",
            action="store_true",
            help="text: only failing files and the totals; pip: --quiet",
        )
        _add_index_options(cmd)


def _hours(text: str) -> float:
    value = _seconds(text)
    if value > 24 * 365 * 100:
        raise argparse.ArgumentTypeError(f"out of range: {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Output never crashes and never changes a verdict: text from records, keys, servers and
    file names is escaped for the terminal (:func:`pgpverify.textsafe.terminal_safe`),
    what the stream cannot encode is backslash-escaped, and a reader that went away
    (``| head -1``: EPIPE, also at the final flush) is ignored. Any other failure to
    write stdout is exit 2, and so is an exception no input should raise.
    """
    code = _run(argv)
    failure = _flush(sys.stdout)
    if failure is not None:
        code = _error(f"cannot write the output: {failure}")
    _flush(sys.stderr)
    return code


#: allocations between two collections of the youngest generation during a command run
_GC_THRESHOLD = 100_000


def entry() -> NoReturn:
    """The ``pgpverify`` command (console script and ``python -m pgpverify``).

    :func:`main`, then the process ends without the interpreter's teardown: by then every
    file is closed and stdout and stderr are flushed (a failure to flush is already the
    exit status), and tearing down the modules PGPy and cryptography loaded costs about a
    sixth of a one-signature run. Under coverage, which writes its data at exit, the
    process exits normally.

    A run is short, so the cyclic garbage collector runs every 100,000 allocations instead
    of every 700: in a one-signature run the default cadence made about 60 collections,
    found some 550 garbage objects and cost about 8 ms of PGPy's and our imports. Garbage
    stays bounded (a collection still comes every 100,000 objects).
    """
    gc.set_threshold(_GC_THRESHOLD, 10, 10)
    code = main()
    if "coverage" in sys.modules:
        sys.exit(code)
    os._exit(code)


def _run(argv: list[str] | None) -> int:
    try:
        return _main(argv)
    except _UsageError as err:
        return _error(f"{err} (see 'pgpverify --help')")
    except PgpVerifyError as err:
        return _error(str(err))
    except _OutputError as err:
        return _error(f"cannot write the output: {err}")
    except KeyboardInterrupt:
        return 130
    except RecursionError:  # pragma: no cover - defensive; inputs are depth-limited
        return _error("input nests too deeply")
    except Exception as err:  # noqa: BLE001 - the last line of defence: never a traceback
        return _error(f"internal error ({type(err).__name__}: {err}); please report it")


def _error(message: str) -> int:
    _say(sys.stderr, f"pgpverify: error: {message}")
    return EXIT_ERROR


def _warn(message: str) -> None:
    _say(sys.stderr, f"pgpverify: warning: {message}")


# -- output: escaped for the terminal, encodable, and a closed pipe is not an error ----------


class _OutputError(Exception):
    """stdout cannot be written (a full disk, an I/O error), not just a closed pipe."""


class _Terminal:
    """A stream for people: each ``write`` is one line, escaped with ``terminal_safe``.

    Only a final newline is written raw, so a name with a newline cannot forge a line.
    """

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream

    def write(self, text: str) -> None:
        body, end = (text[:-1], "\n") if text.endswith("\n") else (text, "")
        _write(self._stream, terminal_safe(body) + end)


def _say(stream: TextIO | None, line: str) -> None:
    _Terminal(stream).write(line + "\n")


def _write(stream: TextIO | None, text: str) -> None:
    """Write ``text`` as it is, except what the stream's encoding cannot hold.

    A closed pipe (EPIPE) silences the stream; any other error is an :class:`_OutputError`
    on stdout and is ignored on stderr, where it cannot be reported. No stream at all
    (``>&-``) is a closed pipe.
    """
    if stream is None:
        return
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:  # cp1252 (Windows, piped) cannot hold an emoji: write it as \U0001f984
        text = text.encode(encoding, "backslashreplace").decode(encoding)
    except (LookupError, UnicodeError):
        text = text.encode("ascii", "backslashreplace").decode("ascii")
    try:
        stream.write(text)
    except BrokenPipeError:
        _silence(stream)
    except (OSError, ValueError) as err:  # ValueError: a stream closed by the caller
        _silence(stream)
        if stream is sys.stdout:
            raise _OutputError(_why(err)) from err


def _flush(stream: TextIO | None) -> str | None:
    """Flush ``stream``; why it failed, unless it did not or the pipe was closed."""
    if stream is None:
        return None
    try:
        stream.flush()
    except BrokenPipeError:
        _silence(stream)
    except (OSError, ValueError) as err:
        _silence(stream)
        return _why(err)
    return None


def _why(err: Exception) -> str:
    return (err.strerror if isinstance(err, OSError) else None) or str(err)


def _silence(stream: TextIO) -> None:
    """Point the stream's descriptor at the null device.

    What is still buffered then goes nowhere at the interpreter's final flush, instead
    of failing again there with a traceback-like "Exception ignored" and exit 120.
    """
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, stream.fileno())
        finally:
            os.close(null)
    except (OSError, ValueError):
        pass


class _Skipped:
    """A subcommand parser that is not built: every call is accepted and does nothing."""

    def __getattr__(self, name: str) -> Any:
        return self

    def __call__(self, *_args: object, **_kwargs: object) -> Any:
        return self


class _OnlyCommand:
    """``add_subparsers()`` that builds only one subcommand's parser (see build_parser)."""

    def __init__(self, sub: Any, command: str) -> None:
        self._sub = sub
        self._command = command

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sub, name)

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        if name != self._command and self._command not in kwargs.get("aliases", ()):
            return _Skipped()
        return self._sub.add_parser(name, **kwargs)


def _parser_for(argv: list[str]) -> argparse.ArgumentParser:
    """The parser, built for the command ``argv`` names when it names one."""
    command = argv[0] if argv and not argv[0].startswith("-") else None
    if command is not None:
        parser = build_parser(command)
        if command in _subcommands(parser):
            return parser
    return build_parser()  # --help, --version, or an unknown command: all of them


def _subcommands(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:  # noqa: SLF001 - argparse has no public accessor
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            return set(action.choices)
    return set()


def _main(argv: list[str] | None) -> int:
    argv, pip_args = _pip_arguments(sys.argv[1:] if argv is None else argv)
    parser = _parser_for(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else EXIT_GOOD
    if args.command in ("check", "install"):
        return _check(args, pip_args)
    if args.command == "audit":
        return _audit(args)
    if args.command == "publish":
        return _publish(args)
    if args.command == "lock":
        return _lock(args)
    try:
        return _verify(args)
    except PgpVerifyError as err:
        hint = _signature_hint(args.file, args.signature)
        if hint is None:
            raise
        raise PgpVerifyError(f"{err}; hint: {hint}") from err


def _verify(args: argparse.Namespace) -> int:
    _check_file(args.file)
    sources = [bool(args.keyring), args.lock is not None, args.index_url is not None]
    if sum(sources) > 1:
        raise _UsageError("give only one keyring source: --keyring, --lock or --index-url")
    if args.owners is not None and not args.keyring:
        raise _UsageError("--owners goes with --keyring (the index and lock file carry theirs)")
    if args.keyring and (args.project is None) != (args.owners is None):
        raise _UsageError("--project and --owners must be given together")
    if args.fail_on_key_change and (args.keyring or args.lock is not None):
        raise _UsageError(
            "--fail-on-key-change goes with an index (the trust memory is the "
            "cache's); a lock file is reviewed instead"
        )
    if args.fail_on_key_change and args.no_cache:
        raise _UsageError("--fail-on-key-change needs the cache's trust memory: drop --no-cache")
    index_url = args.index_url
    if not args.keyring and args.lock is None and index_url is None:
        index_url = _configured_index()
        if index_url is None:
            raise _UsageError(_NO_SOURCE)
    if args.at is not None:
        at = args.at
    else:
        from datetime import datetime, timezone

        at = datetime.now(timezone.utc)

    from pgpverify.index.verdict import IndexVerification

    if args.keyring:
        outcome = IndexVerification(_verify_keyrings(args, at))
    elif args.lock is not None:
        from pgpverify.limits import DEFAULT_LIMITS
        from pgpverify.trust.lockfile import LockFile
        from pgpverify.workflows import verify_from_lock

        lock = LockFile.read(args.lock, limits=DEFAULT_LIMITS)
        outcome = IndexVerification(
            verify_from_lock(
                args.file, lock=lock, at=at, signature=args.signature, project=args.project
            )
        )
    else:
        import contextlib
        import time

        from pgpverify.workflows import verify_from_index

        with contextlib.ExitStack() as stack:
            cache = _open_cache(args, stack)
            client = _client(args, index_url, cache, stack)
            outcome = verify_from_index(
                args.file,
                client=client,
                at=at,
                signature=args.signature,
                project=args.project,
                cache=cache,
                now=time.time(),
                fail_on_key_change=args.fail_on_key_change,
            )
        for warning in outcome.warnings:
            _warn(warning)
    if args.format == "json":
        import json

        # ensure_ascii: every control, bidi and non-ASCII character is a \uXXXX escape
        _write(sys.stdout, json.dumps(outcome.to_json(), indent=2, ensure_ascii=True) + "\n")
    else:
        _print_text(outcome, _Terminal(sys.stdout))
    hint = None if outcome.ok else _signature_hint(args.file, args.signature)
    if hint is not None:
        _say(sys.stderr, f"pgpverify: hint: {hint}")
    return EXIT_GOOD if outcome.ok else EXIT_REJECTED


def _check_file(file: str) -> None:
    """FILE must be a file: ``verify .`` or ``verify /`` is a usage error, not a verdict."""
    # os.path.isdir is False for a name too long or without permission: reported when the
    # file is opened
    if os.path.isdir(file):  # noqa: PTH112 - FILE is a str (no pathlib import)
        raise InputError("is a directory; give the signed file (e.g. dist/NAME.whl)", source=file)


_SIGNATURE_SUFFIXES = (".asc", ".sig")


def _looks_like_signature(path: str) -> bool:
    if os.path.basename(path).lower().endswith(_SIGNATURE_SUFFIXES):  # noqa: PTH119
        return True
    try:
        if not os.path.isfile(path):  # noqa: PTH113
            return False
        with open(path, "rb") as stream:  # noqa: PTH123
            head = stream.read(64)
    except (OSError, ValueError):
        return False
    return head.lstrip().startswith(b"-----BEGIN PGP SIGNATURE-----")


def _signature_hint(file: str, signature: str | None) -> str | None:
    """A hint when FILE looks like a signature: the ``.asc`` given where the file belongs.

    FILE and SIG are ``str`` as :func:`_file` returns them (pathlib's spelling).
    """
    if not _looks_like_signature(file):
        return None
    if signature is not None and not _looks_like_signature(signature):
        return (
            f"FILE {file} looks like a signature and --signature {signature} does not: "
            f"swapped? (pgpverify verify {signature} --signature {file})"
        )
    folder, name = os.path.split(file)
    if name.lower().endswith(_SIGNATURE_SUFFIXES) and len(name) > len(".asc"):
        signed = os.path.join(folder, name[:-4])  # noqa: PTH118
        return (
            f"FILE {file} looks like a signature: give the signed file "
            f"({signed}); its signature {name} is then found beside it"
        )
    return f"FILE {file} is a signature: give the signed file, and this one with --signature"


def _verify_keyrings(args: argparse.Namespace, at: datetime) -> VerificationResult:
    from pgpverify.limits import DEFAULT_LIMITS
    from pgpverify.openpgp.keyring import Keyring
    from pgpverify.openpgp.keyring_index import IndexMismatch
    from pgpverify.verify import Verifier

    owners = None
    if args.owners is not None:
        # Imported only when needed: it pulls in packaging (about 13 ms).
        from pgpverify.trust.owners import OwnershipRecord

        owners = OwnershipRecord.from_file(args.owners, limits=DEFAULT_LIMITS)
    index = _keyring_index_store(args)
    keyring = Keyring.from_files(args.keyring, limits=DEFAULT_LIMITS, index=index)
    try:
        result = Verifier(keyring, owners=owners, project=args.project).verify(
            args.file, args.signature, at=at
        )
    except IndexMismatch:
        # A persisted keyring index that does not hold is dropped: scanned, judged again.
        keyring = Keyring.from_files(args.keyring, limits=DEFAULT_LIMITS, index=index, rescan=True)
        result = Verifier(keyring, owners=owners, project=args.project).verify(
            args.file, args.signature, at=at
        )
    for warning in keyring.warnings:
        _warn(warning)
    return result


#: binary keyrings from this size on are memory-mapped and get a persisted key-ID index
_INDEXED_KEYRING_BYTES = 1 << 20


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size  # noqa: PTH116 - a str (no pathlib import)
    except (OSError, ValueError):
        return 0


def _keyring_index_store(args: argparse.Namespace) -> KeyringIndexStore | None:
    """Where large keyrings' indexes live (the cache directory), unless ``--no-cache``."""
    if args.no_cache:
        return None
    if not any(_size(path) >= _INDEXED_KEYRING_BYTES for path in args.keyring):
        return None  # nothing to index: no cache directory looked up
    from pgpverify.index.keyidx import KeyringIndexStore, default_directory

    return KeyringIndexStore(args.cache_dir if args.cache_dir is not None else default_directory())


def _configured_index() -> str | None:
    from pgpverify.index.pipconfig import configured_index_url

    return configured_index_url(os.environ)


def _open_cache(args: argparse.Namespace, stack: contextlib.ExitStack) -> Cache | None:
    if args.no_cache:
        if args.offline:
            raise _UsageError("--offline needs the cache: drop --no-cache")
        return None
    import time

    from pgpverify.index.cache import Cache, default_cache_dir

    directory = args.cache_dir if args.cache_dir is not None else default_cache_dir()
    cache = Cache.open(directory, clock=time.time, one_transaction=True)  # committed at close
    # runs after close (last in, first out): warnings from opening, the run, and the
    # commit of the run's one transaction
    stack.callback(_warn_all, cache.warnings)
    stack.callback(cache.close)
    return cache


def _warn_all(messages: list[str]) -> None:
    for message in dict.fromkeys(messages):
        _warn(message)


def _client(
    args: argparse.Namespace,
    index_url: str,
    cache: Cache | None,
    stack: contextlib.ExitStack,
    *,
    allow_files: bool = False,
) -> IndexClient:
    import time

    from pgpverify.index.client import IndexClient
    from pgpverify.limits import DEFAULT_LIMITS

    fetcher: Fetcher | None = None
    if not args.offline:
        from pgpverify.index.http import HttpConfig, HttpFetcher

        if args.retries < 0 or args.retries > 20:
            raise _UsageError("--retries must be between 0 and 20")
        if args.cert is not None and not args.cert.is_file():
            raise _UsageError(f"--cert {args.cert}: no such CA bundle file")
        http = HttpFetcher(
            HttpConfig(
                total_timeout=args.timeout,
                read_timeout=min(30.0, args.timeout),
                connect_timeout=min(5.0, args.timeout),
                retries=args.retries,
                allow_insecure=args.allow_insecure,
                ca_bundle=str(args.cert) if args.cert is not None else None,
            )
        )
        stack.callback(http.close)
        fetcher = http
    if cache is not None:
        from pgpverify.index.cache import CachingFetcher

        fetcher = CachingFetcher(
            fetcher, cache, clock=time.time, offline=args.offline, negative_ttl=args.not_found_ttl
        )
    if allow_files:  # check/install: a local PEP 503 tree, as pip reads it (not cached)
        from pgpverify.index.localfs import FileFetcher, SchemeFetcher

        fetcher = SchemeFetcher(FileFetcher(), fetcher)
    assert fetcher is not None
    # the client takes the credentials off both URLs: nothing it names carries them
    return IndexClient(
        fetcher,
        index_url=index_url,
        keys_url=args.keys_url,
        limits=DEFAULT_LIMITS,
        allow_insecure=args.allow_insecure,
        allow_files=allow_files,
    )


#: A PEP 508 project name (case-insensitive), before normalization.
_PROJECT_NAME = re.compile(r"[A-Z0-9](?:[A-Z0-9._-]*[A-Z0-9])?", re.ASCII | re.IGNORECASE)


def _project_names(given: list[str]) -> list[str]:
    """PEP 503-normalized names, in order; a string that is no project name is a usage error."""
    from packaging.utils import canonicalize_name

    names = []
    for name in given:
        if not _PROJECT_NAME.fullmatch(name):
            raise _UsageError(f"not a project name: {name!r}")
        names.append(str(canonicalize_name(name)))
    return names


def _pip_arguments(argv: list[str]) -> tuple[list[str], list[str]]:
    """``install ... -- PIP-INSTALL-OPTIONS``: split off what goes to ``pip install``."""
    if argv[:1] == ["install"] and "--" in argv:
        cut = argv.index("--")
        return argv[:cut], argv[cut + 1 :]
    return argv, []


def _check(args: argparse.Namespace, pip_args: list[str]) -> int:
    """``check`` / ``install``: the library call, its report, then pip for ``install``."""
    import contextlib

    install = args.command == "install"
    _check_usage(args, install=install)
    if args.requirement:  # what pip would crash on or echo raw: refused before it runs
        from pgpverify.check.gatepip import refuse_unsafe_requirements

        refuse_unsafe_requirements(args.requirement)
    gated = _gate_plan(args, pip_args) if install else None
    trust, pip_index = None, None
    with contextlib.ExitStack() as stack:
        # pip starts first, when the index is known to be http(s), so its start-up
        # overlaps ours; it gets no answer until the gate serves
        early = _start_gated_pip(args, pip_args, stack) if _early_gate(args, gated) else None
        trust, pip_index = _check_trust(args, stack)
        if gated is not None and _gate_client(trust) is not None:
            return _install_gated(args, pip_args, trust, gated, stack, early)
        if early is not None:
            early[2].close()  # not gated after all: pip got no answer and is stopped
        import tempfile
        from pathlib import Path

        from pgpverify.check import check_files
        from pgpverify.check import pip as pip_runner

        paths = list(args.paths)
        download_dir = None
        pending = None
        if args.requirement:
            download_dir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="pgpverify-download-"))
            )
            if install:
                # pip install starts now and waits for its pins (killed unless all pass)
                pending = pip_runner.start_install(
                    download_dir, pip_args, quiet=args.quiet, output=sys.stderr
                )
                if pending is not None:
                    stack.callback(pending.cancel)
            pip_runner.download(
                args.requirement,
                download_dir,
                index_url=pip_index,
                quiet=args.quiet,
                output=sys.stderr,
                retries=args.retries,
            )
            paths.append(download_dir)
        try:
            report = check_files(
                paths,
                trust=trust,
                at=_check_time(args),
                policy=_check_policy(args),
                signatures_dir=args.signatures_dir,
                jobs=args.jobs,
                progress=None if args.quiet else _progress_bar(),
            )
        finally:
            _progress_end()
        _check_output(args, report)
        if download_dir is not None and args.dest is not None:
            _keep_downloads(download_dir, args.dest)
        if install:
            assert download_dir is not None
            if not report.ok:
                _say(sys.stderr, "pgpverify: nothing installed: the check failed")
                return report.exit_code
            if not report.files:
                _say(sys.stderr, "pgpverify: nothing to install")
                return report.exit_code
            pins = pip_runner.pinned_requirements(report)
            if pending is not None:
                pending.finish(pins)
            else:
                pinned = (
                    Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pgpverify-pins-")))
                    / "requirements.txt"
                )
                pinned.write_text(pins, encoding="utf-8")
                pip_runner.install(
                    download_dir, pinned, pip_args, quiet=args.quiet, output=sys.stderr
                )
            _say(sys.stderr, f"pgpverify: installed {len(report.files)} checked file(s)")
    return report.exit_code


def _gate_plan(args: argparse.Namespace, pip_args: list[str]) -> list[Any] | None:
    """``install``: the top-level requirements for one pip pass through the gate, or None.

    An option after '--' that adds a package source is a usage error; anything else the
    gate cannot vouch for (see :mod:`pgpverify.check.gate`), and offline trust, take the
    two-pass design.
    """
    from pgpverify.check import gatepip as gate

    refusal, fallback = gate.scan_pip_options(pip_args)
    if refusal is not None:
        raise _UsageError(refusal)
    if args.keyring:
        return None
    requirements, why = gate.scan_requirements(args.requirement)
    why = why or (f"{fallback!r} after '--'" if fallback is not None else None)
    if why is not None:
        if not args.quiet:
            _say(sys.stderr, f"pgpverify: two passes (pip download, check, pip install): {why}")
        return None
    return requirements


def _gate_client(trust: Any) -> Any:
    """The upstream index client of an http(s) index trust source, else None."""
    from pgpverify.check import IndexTrust, LockTrust

    client = trust.client if isinstance(trust, (IndexTrust, LockTrust)) else None
    if client is None or not client.index_url.lower().startswith(("http://", "https://")):
        return None
    return client


def _early_gate(args: argparse.Namespace, gated: list[Any] | None) -> bool:
    """Whether pip can start before the trust inputs load: an http(s) index, no lock file."""
    if gated is None or args.lock is not None:
        return False
    url = args.index_url or _configured_index()
    return url is not None and url.strip().lower().startswith(("http://", "https://"))


def _start_gated_pip(
    args: argparse.Namespace, pip_args: list[str], stack: contextlib.ExitStack
) -> tuple[Any, Any, contextlib.ExitStack]:
    """(the gate's listener, pip started against it, what stops both; ``stack`` does too)."""
    import contextlib

    from pgpverify.check import gatepip as gating

    own = stack.enter_context(contextlib.ExitStack())
    listener = gating.Listener()
    own.callback(listener.close)
    process = gating.start_pip(
        args.requirement, listener.index_url, pip_args, quiet=args.quiet, output=sys.stderr
    )
    own.callback(gating.stop_pip, process)
    return listener, process, own


def _install_gated(  # noqa: PLR0917 - the run's parts, built by _check in order
    args: argparse.Namespace,
    pip_args: list[str],
    trust: Any,
    requirements: list[Any],
    stack: contextlib.ExitStack,
    early: tuple[Any, Any, contextlib.ExitStack] | None,
) -> int:
    """``install`` in one pip pass whose index is the gate (:mod:`pgpverify.check.gate`)."""
    import importlib
    import tempfile
    from pathlib import Path

    from pgpverify.check import gate as gating
    from pgpverify.check.model import CheckReport
    from pgpverify.check.run import FileChecker

    listener, process, _ = early or _start_gated_pip(args, pip_args, stack)
    download_dir = Path(
        stack.enter_context(tempfile.TemporaryDirectory(prefix="pgpverify-download-"))
    )
    checker = FileChecker(
        trust,
        at=_check_time(args),
        policy=_check_policy(args),
        signatures_dir=args.signatures_dir,
    )
    store = None
    if not args.no_cache:  # files kept between runs, next to the cache (pip keeps them too)
        from pgpverify.index.cache import default_cache_dir

        store = gating.FileStore(Path(args.cache_dir or default_cache_dir()) / "files")
    gate = gating.Gate(
        _gate_client(trust), checker, listener=listener, download_dir=download_dir, store=store
    )
    gate.prefetch(requirements)
    # the renderers load now, while pip starts, not after it ends (the wall time's tail)
    importlib.import_module("pgpverify.check.report")
    code = gate.serve(process)
    if store is not None:
        store.prune()
    report = CheckReport(files=gate.report(), warnings=tuple(checker.warnings))
    _check_output(args, report)
    if args.dest is not None:
        gate.keep(args.dest)
    if gate.stopped is not None or not report.ok:
        where = gate.stopped.file if gate.stopped is not None else "a file"
        if "://" not in where:  # a file (a page names its URL): its name
            where = Path(where).name
        _say(
            sys.stderr,
            f"pgpverify: nothing installed: pip was stopped at {where}, which did not pass "
            "the check; 'pgpverify check -r REQUIREMENTS' checks the whole set",
        )
        return report.exit_code
    if code != 0:
        raise InputError(f"pip install failed (exit status {code}); its output says why")
    _say(sys.stderr, f"pgpverify: installed {len(report.files)} checked file(s)")
    return report.exit_code


def _progress_bar() -> Any:
    """A tqdm bar on stderr when it is a terminal (none when piped, in CI logs, --quiet).

    tqdm is imported only here, when a bar is shown. The bar shows counts only, never a
    name from a file, a record or a server.
    """
    stream = sys.stderr
    try:
        if stream is None or not stream.isatty():
            return None
    except (OSError, ValueError):
        return None
    import importlib

    tqdm = importlib.import_module("tqdm").tqdm

    def draw(done: int, total: int) -> None:
        if not _progress_state:
            _progress_state.append(
                tqdm(
                    total=total,
                    file=stream,
                    unit="file",
                    desc="pgpverify check",
                    leave=False,
                    dynamic_ncols=True,
                )
            )
        bar = _progress_state[0]
        bar.update(done - bar.n)

    return draw


#: the bar being shown, if any (at most one)
_progress_state: list[Any] = []


def _progress_end() -> None:
    if _progress_state:
        _progress_state.pop().close()


def _check_usage(args: argparse.Namespace, *, install: bool) -> None:
    if install and not args.requirement:
        raise _UsageError("install needs -r REQUIREMENTS (pip decides what is installed)")
    if install and args.paths:
        raise _UsageError("install takes no PATH: give -r REQUIREMENTS")
    if not args.paths and not args.requirement:
        raise _UsageError("nothing to check: give PATHs or -r REQUIREMENTS")
    if args.keyring and (args.lock is not None or args.index_url is not None):
        raise _UsageError("give one source of trust: an index, --lock, or --keyring")
    if args.owners and not args.keyring:
        raise _UsageError("--owners goes with --keyring (the index and lock file carry theirs)")
    if args.keyring and args.signatures_dir is None:
        raise _UsageError(
            "--keyring needs --signatures-dir: offline, signatures come from "
            "there (never from beside the files)"
        )
    if args.fail_on_key_change and (args.keyring or args.lock is not None):
        raise _UsageError(
            "--fail-on-key-change goes with an index (the trust memory is the "
            "index's): not with --keyring or --lock"
        )
    if args.fail_on_key_change and args.no_cache:
        raise _UsageError("--fail-on-key-change needs the cache's trust memory: drop --no-cache")
    if not 1 <= args.jobs <= 64:
        raise _UsageError("--jobs must be between 1 and 64")
    if args.signatures_dir is not None and not args.signatures_dir.is_dir():
        raise _UsageError(f"--signatures-dir {args.signatures_dir}: not a directory")


def _check_trust(args: argparse.Namespace, stack: contextlib.ExitStack) -> tuple[Any, str | None]:
    """(the trust source, the index URL for pip download or None for pip's own)."""
    from pgpverify.check import IndexTrust, KeyringTrust, LockTrust
    from pgpverify.limits import DEFAULT_LIMITS

    if args.keyring:
        from pgpverify.trust.owners import OwnershipRecord

        records = tuple(OwnershipRecord.from_file(p, limits=DEFAULT_LIMITS) for p in args.owners)
        return KeyringTrust(tuple(args.keyring), records), args.index_url
    lock = None
    if args.lock is not None:
        from pgpverify.trust.lockfile import LockFile

        lock = LockFile.read(args.lock, limits=DEFAULT_LIMITS)
    given = args.index_url or (lock.index_url if lock is not None else None)
    index_url = given or (_configured_index() if lock is None else None)
    if index_url is None and lock is None:
        raise _UsageError(_NO_SOURCE)
    if index_url is None and args.signatures_dir is None:
        raise _UsageError(
            "the lock file names no index for the signatures: give --index-url or --signatures-dir"
        )
    if index_url is not None:
        index_url = _local_index(index_url)
    client = None
    cache = None
    if index_url is not None:
        cache = _open_cache(args, stack)
        client = _client(args, index_url, cache, stack, allow_files=True)
    if lock is not None:
        return LockTrust(lock, client), given
    assert client is not None
    import time

    return IndexTrust(client, cache, now=time.time()), given


def _local_index(index_url: str) -> str:
    """An index given as a directory (as pip takes it) is a ``file:`` URL."""
    from pathlib import Path

    if "://" in index_url or index_url.lower().startswith("file:"):
        return index_url
    try:
        local = Path(index_url)
        if local.is_dir():
            from pgpverify.index.localfs import path_to_url

            return path_to_url(local)
    except (OSError, ValueError):
        pass
    return index_url


def _check_time(args: argparse.Namespace) -> datetime:
    from datetime import datetime, timezone

    return args.at if args.at is not None else datetime.now(timezone.utc)


def _check_policy(args: argparse.Namespace) -> Any:
    from pgpverify.check import CheckPolicy

    return CheckPolicy(
        require_signatures=args.require_signatures,
        require_signatures_for=frozenset(_project_names(args.require_signatures_for)),
        reject_backsigned=args.reject_backsigned,
        backsign_grace=args.backsign_grace * 3600.0,
        fail_on_key_change=args.fail_on_key_change,
    )


def _check_output(args: argparse.Namespace, report: Any) -> None:
    from pgpverify.check import report as render

    if args.format == "json":
        import json

        _write(sys.stdout, json.dumps(report.to_json(), indent=2, ensure_ascii=True) + "\n")
    elif args.format == "github":
        for line in render.github_lines(report):
            _say(sys.stdout, line)
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            try:
                with open(summary, "a", encoding="utf-8") as stream:  # noqa: PTH123
                    stream.write(render.github_summary(report))
            except OSError as err:
                _warn(f"cannot write the job summary {summary}: {_why(err)}")
    else:
        out = _Terminal(sys.stdout)
        for line in render.text_lines(report, quiet=args.quiet):
            out.write(line + "\n")
    if args.junit_xml is not None:
        try:
            args.junit_xml.write_bytes(render.junit_xml(report))
        except OSError as err:
            raise InputError(
                f"cannot write the JUnit XML: {_why(err)}", source=str(args.junit_xml)
            ) from None


def _keep_downloads(download_dir: Path, dest: Path) -> None:
    import shutil

    try:
        dest.mkdir(parents=True, exist_ok=True)
        for item in sorted(download_dir.iterdir()):
            shutil.copy2(item, dest / item.name)
    except OSError as err:
        raise InputError(f"cannot keep the downloads: {_why(err)}", source=str(dest)) from None


def _lock(args: argparse.Namespace) -> int:
    from pgpverify.trust.requirements import read_requirements

    names = _project_names(args.projects)
    for req in args.requirement:
        found, problems = read_requirements(req)
        names += found
        for problem in problems:
            _warn(problem)
    names = list(dict.fromkeys(names))  # normalized, so Demo_Pkg and demo-pkg are one
    if not names:
        raise _UsageError("nothing to lock: give PROJECT names or -r requirements.txt")
    index_url = args.index_url or _configured_index()
    if index_url is None:
        raise _UsageError(_NO_SOURCE)
    import contextlib

    from pgpverify.limits import DEFAULT_LIMITS
    from pgpverify.trust.lockfile import LockFile, build_lock, lock_changes, write_lock
    from pgpverify.urls import redact_url

    previous = LockFile.read(args.output, limits=DEFAULT_LIMITS) if args.output.exists() else None
    records = []
    unrecorded: list[str] = []
    certificates: dict[str, bytes] = {}
    with contextlib.ExitStack() as stack:
        client = _client(args, index_url, _open_cache(args, stack), stack)
        for name in names:
            published = client.project_keys(name)
            if published.record is None:
                _warn(f"the index has no ownership record for {published.project}: not pinned")
                unrecorded.append(published.project)
                continue
            for fpr in published.missing:
                _warn(f"the index lists key {fpr} for {published.project} but has no key file")
            records.append(published.record)
            certificates.update(published.certificates)
    # Projects without a record keep a reviewed exception (unsigned = "allowed") they had.
    lock = build_lock(
        records,
        certificates,
        index_url=redact_url(index_url),
        previous=previous,
        unrecorded=unrecorded,
        allow_weakening=args.allow_weakening,
    )
    if previous is not None:
        changes = lock_changes(previous, lock, limits=DEFAULT_LIMITS)
        _say(
            sys.stdout,
            f"pgpverify: {len(changes) or 'no'} change(s) from the previous "
            f"{args.output}{':' if changes else ''}",
        )
        for change in changes:
            _say(sys.stdout, f"pgpverify:   {change.describe()}")
        weakening = [c for c in changes if c.weakens]
        if weakening and not args.allow_weakening:
            _say(
                sys.stderr,
                f"pgpverify: lock refused: {len(weakening)} change(s) drop a "
                "retirement or revocation the previous lock held (review them; "
                "--allow-weakening writes them)",
            )
            return EXIT_REJECTED
    write_lock(args.output, lock)
    _say(
        sys.stdout,
        f"pgpverify: wrote {args.output}: {len(lock.projects)} project(s), "
        f"{len(lock.certificates)} key(s)",
    )
    return EXIT_GOOD


def _publish(args: argparse.Namespace) -> int:
    import time

    from pgpverify.errors import PublishError
    from pgpverify.publish import publish

    try:
        report = publish(args.keys, args.owners, args.output, now=int(time.time()))
    except PublishError as err:
        _say(sys.stderr, f"pgpverify: publish refused: {len(err.problems)} problem(s):")
        for problem in err.problems:
            _say(sys.stderr, f"pgpverify:   {problem}")
        return EXIT_REJECTED
    for warning in report.warnings:
        _warn(warning)
    _say(
        sys.stdout,
        f"pgpverify: wrote {args.output / 'pgp'}: "
        f"{len(report.projects)} project(s), {len(report.keys)} key(s)",
    )
    return EXIT_GOOD


def _print_text(outcome: IndexVerification, out: _Terminal) -> None:
    result = outcome.result
    name = os.path.basename(result.file)  # noqa: PTH119 - a str (no pathlib import)
    if outcome.ok:
        out.write(f"pgpverify: Good signature on {name}\n")
    else:
        out.write(f"pgpverify: REJECTED {name}: {outcome.reason}\n")
    if result.created is not None:
        out.write(f"pgpverify: Signature made {result.created}\n")
    if result.signer_fingerprint is not None:
        report = next(
            (s for s in result.signatures if s.signer_fingerprint == result.signer_fingerprint),
            None,
        )
        algo = f"{report.key_algorithm} " if report and report.key_algorithm else ""
        out.write(f"pgpverify:                using {algo}key {result.signer_fingerprint}\n")
        if result.primary_fingerprint not in (None, result.signer_fingerprint):
            out.write(
                f"pgpverify:                subkey of primary key {result.primary_fingerprint}\n"
            )
    if result.maintainer is not None and not outcome.key_change_rejected:
        out.write(
            f"pgpverify: Signed by {result.maintainer.user} "
            f"({result.maintainer.role} of {result.project})\n"
        )
    if outcome.keys_changed is not None:
        changed = outcome.keys_changed
        out.write(
            "pgpverify: KEYS CHANGED since last seen: added "
            f"{', '.join(changed['added']) or 'none'}; removed "
            f"{', '.join(changed['removed']) or 'none'}"
            f"{' (WIDENS who may sign or when)' if changed.get('widens') else ''}\n"
        )
        for change in changed.get("changes", ()):
            out.write(f"pgpverify:   {_describe_change(change)}\n")
    label = "Note" if outcome.ok else "Reason"
    out.write(f"pgpverify: {label}: {outcome.message}\n")
    for warning in result.warnings:
        out.write(f"pgpverify: Warning: {warning}\n")


def _describe_change(change: dict[str, Any]) -> str:
    """One ``keys_changed`` entry for a person (kind, user, key, before -> after)."""
    parts = [str(change["kind"])]
    if change.get("user") is not None:
        parts.append(f"user {change['user']!r}")
    if change.get("fingerprint") is not None:
        parts.append(f"key {change['fingerprint']}")
    if change.get("before") is not None or change.get("after") is not None:
        parts.append(f"({change.get('before') or 'none'} -> {change.get('after') or 'none'})")
    if change.get("widens"):
        parts.append("[widens]")
    return " ".join(parts)


# -- audit (issue 11) ------------------------------------------------------------------------


def _add_audit_commands(sub: Any) -> None:
    """``audit run | report | merge | export-signatures``."""
    audit = sub.add_parser(
        "audit",
        help="audit the signatures an index holds, into a resumable archive, and report",
        description="Audit the .asc files of an index (or a mirror of one) into an SQLite "
        "store that is also an archive of every signature and key used; report on it.",
    )
    steps = audit.add_subparsers(dest="audit_command", metavar="STEP", parser_class=_Parser)
    steps.required = True
    run = steps.add_parser(
        "run",
        help="audit projects of an index or mirror into the store (resumable)",
        description="Verify every file of the given projects twice (as of its upload and as "
        "of now) and store one category per file. Re-running continues where a run stopped; "
        "a file whose .asc, sha256 or project keys changed is audited again. With "
        "--from-store, re-judge the archived files offline at --at. Exit status: 0 done, 1 "
        "some files or projects could not be audited (re-run to continue), 2 usage or I/O "
        "error.",
    )
    where = run.add_mutually_exclusive_group(required=True)
    where.add_argument("--index-url", metavar="URL", help="the index's simple URL")
    where.add_argument(
        "--mirror",
        metavar="DIR",
        type=_path,
        help="a PEP 503 tree on disk (a bandersnatch mirror's layout works)",
    )
    where.add_argument(
        "--from-store", action="store_true", help="re-judge the archived files offline (no index)"
    )
    run.add_argument(
        "--db",
        metavar="AUDIT.sqlite",
        type=_path,
        required=True,
        help="the audit store (created if missing)",
    )
    run.add_argument("projects", metavar="PROJECT", nargs="*", help="project names")
    run.add_argument(
        "--all",
        action="store_true",
        help="every project the index lists (PEP 691/503 root, else pgp/index.json)",
    )
    run.add_argument(
        "--jobs", metavar="N", type=int, default=4, help="projects audited at once (default: 4)"
    )
    run.add_argument(
        "--shard",
        metavar="K/N",
        help="only shard K of N (stable hash of the normalised name; default: "
        "JOB_COMPLETION_INDEX/JOB_COMPLETION_COUNT when set)",
    )
    run.add_argument(
        "--since",
        metavar="DATE",
        type=parse_time,
        help="only files uploaded at or after DATE (unknown upload times too)",
    )
    run.add_argument(
        "--backsign-grace",
        metavar="HOURS",
        type=_seconds,
        default=24.0,
        help="hours after the upload a signature still counts as made at release (default: 24)",
    )
    run.add_argument(
        "--max-rps",
        metavar="R",
        type=float,
        help="at most R requests a second to the index (token bucket; 0.01 to 100000)",
    )
    run.add_argument(
        "--at",
        metavar="ISO-8601-TIME",
        type=parse_time,
        help="the 'now' of the second verdict (default: now)",
    )
    run.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="progress and summary as text, or JSON lines",
    )
    group = run.add_argument_group("index")
    group.add_argument(
        "--keys-url",
        metavar="URL",
        help="root of the index's pgp/ tree (default: the parent of --index-url)",
    )
    group.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_positive_seconds,
        default=60.0,
        help="the most one document's whole download may take (default: 60)",
    )
    group.add_argument(
        "--retries",
        metavar="N",
        type=int,
        default=3,
        help="retries on connection errors, 5xx and 429 (default: 3)",
    )
    group.add_argument("--cert", metavar="PATH", type=_path, help="CA bundle for HTTPS")
    group.add_argument(
        "--allow-insecure",
        action="store_true",
        help="allow plain HTTP to hosts other than this machine",
    )
    report = steps.add_parser(
        "report",
        help="write the report (HTML, JSON, CSV)",
        description="Report on an audit store (also one a killed run "
        "left). Without --html/--json/--csv, print the totals.",
    )
    report.add_argument("--db", metavar="AUDIT.sqlite", type=_path, required=True)
    report.add_argument(
        "--html",
        metavar="FILE",
        type=_path,
        help="self-contained HTML page (needs pgpverify[report])",
    )
    report.add_argument("--json", metavar="FILE", type=_path, help="JSON ('-': stdout)")
    report.add_argument("--csv", metavar="FILE", type=_path, help="CSV, one row per file")
    merge = steps.add_parser(
        "merge",
        help="combine shard stores into one",
        description="Merge audit stores (of shards) into -o; a file in "
        "several keeps the row judged last.",
    )
    merge.add_argument("stores", metavar="STORE", type=_path, nargs="+")
    merge.add_argument("-o", "--output", metavar="ALL.sqlite", type=_path, required=True)
    export = steps.add_parser(
        "export-signatures",
        help="write the archived .asc files to DIR/<project>/",
        description="Write every archived .asc as "
        "DIR/<project>/<file>.asc; unsafe file names are refused.",
    )
    export.add_argument("--db", metavar="AUDIT.sqlite", type=_path, required=True)
    export.add_argument("directory", metavar="DIR", type=_path)


#: the --max-rps range: at least a request every 100 s, at most 100000 a second
_MIN_RPS = 0.01
_MAX_RPS = 100_000


def _audit(args: argparse.Namespace) -> int:
    if args.audit_command == "run":
        return _audit_run(args)
    from pgpverify.audit.store import AuditStore

    if args.audit_command == "merge":
        return _audit_merge(args)
    with AuditStore(args.db, create=False) as store:
        if args.audit_command == "report":
            return _audit_report(args, store)
        from pgpverify.audit.export import export_signatures

        summary = export_signatures(store, args.directory)
    for refused in summary.refused:
        _warn(f"not exported: {refused}")
    _say(
        sys.stdout,
        f"pgpverify: exported {summary.written} signature(s) to "
        f"{args.directory} ({summary.unchanged} already there, "
        f"{len(summary.refused)} refused)",
    )
    return EXIT_REJECTED if summary.refused else EXIT_GOOD


def _audit_shard(args: argparse.Namespace) -> tuple[int, int] | None:
    from pgpverify.audit.sources import parse_shard

    text = args.shard
    if text is None:
        index, count = (
            os.environ.get("JOB_COMPLETION_INDEX"),
            os.environ.get("JOB_COMPLETION_COUNT"),
        )
        if index is None or count is None:
            return None
        if not (index.isdigit() and count.isdigit()):
            raise _UsageError("JOB_COMPLETION_INDEX/JOB_COMPLETION_COUNT are not numbers")
        text = f"{int(index) + 1}/{count}"
    try:
        return parse_shard(text)
    except ValueError as err:
        raise _UsageError(str(err)) from None


def _audit_clients(args: argparse.Namespace, stack: contextlib.ExitStack) -> Any:
    """A factory of IndexClients (one per worker thread) for --index-url or --mirror."""
    import threading

    from pgpverify.audit.sources import (
        MirrorFetcher,
        RateLimitedFetcher,
        TokenBucket,
        mirror_root,
    )
    from pgpverify.index.client import IndexClient
    from pgpverify.index.localfs import path_to_url
    from pgpverify.limits import DEFAULT_LIMITS

    bucket = None
    if args.max_rps is not None:
        # at least one request every 100 s: a smaller rate only waits (1e-300 overflowed
        # the sleep)
        if not _MIN_RPS <= args.max_rps <= _MAX_RPS:
            raise _UsageError(f"--max-rps must be between {_MIN_RPS:g} and {_MAX_RPS}")
        bucket = TokenBucket(args.max_rps)
    if args.retries < 0 or args.retries > 20:
        raise _UsageError("--retries must be between 0 and 20")
    if args.mirror is not None:
        root = mirror_root(args.mirror)
        index_url = path_to_url(root / "simple")
    else:
        index_url = args.index_url
    lock = threading.Lock()
    # An .asc over the verifier's cap is downloaded (up to 16 MiB) so that it gets the
    # verdict malformed and is archived, instead of failing at every run; the verifier
    # itself keeps DEFAULT_LIMITS.
    import dataclasses

    fetch_limits = dataclasses.replace(
        DEFAULT_LIMITS, signature_bytes=max(DEFAULT_LIMITS.signature_bytes, 16 << 20)
    )

    def make() -> IndexClient:
        fetcher: Fetcher
        if args.mirror is not None:
            fetcher = MirrorFetcher(root)
        else:
            from pgpverify.index.http import HttpConfig, HttpFetcher

            http = HttpFetcher(
                HttpConfig(
                    total_timeout=args.timeout,
                    read_timeout=min(30.0, args.timeout),
                    connect_timeout=min(5.0, args.timeout),
                    retries=args.retries,
                    allow_insecure=args.allow_insecure,
                    ca_bundle=str(args.cert) if args.cert is not None else None,
                )
            )
            with lock:
                stack.callback(http.close)
            fetcher = http
        if bucket is not None:
            fetcher = RateLimitedFetcher(fetcher, bucket)
        return IndexClient(
            fetcher,
            index_url=index_url,
            keys_url=args.keys_url,
            limits=fetch_limits,
            allow_insecure=args.allow_insecure,
            allow_files=args.mirror is not None,
        )

    make()  # the URLs are checked (a usage problem) before the store is touched
    return make


#: the audit bar is redrawn at most this often (tqdm's mininterval)
_PROGRESS_SECONDS = 0.2


class _Progress:
    """A tqdm bar on stderr when it is a terminal: projects done, files done, rate, ETA.

    The bar counts projects (tqdm's rate and ETA); after it come files done, files per
    second, files already done and failures. tqdm is imported only when a bar is shown;
    the bar shows counts only, never a name. Called under the runner's lock; redrawn at
    most every ``_PROGRESS_SECONDS``.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None

    def __call__(self, progress: Any) -> None:
        import time

        if not self.enabled:
            return
        if self.bar is None:
            import importlib
            import warnings

            with warnings.catch_warnings():  # pygal's import hook, once a report was drawn
                warnings.simplefilter("ignore", ImportWarning)
                tqdm = importlib.import_module("tqdm").tqdm
            self.bar = tqdm(
                total=progress.projects_total or None,
                file=sys.stderr,
                unit="project",
                desc="pgpverify audit",
                leave=False,
                dynamic_ncols=True,
                mininterval=_PROGRESS_SECONDS,
            )
        done = progress.audited + progress.skipped
        rate = done / max(time.monotonic() - progress.started, 1e-6)
        self.bar.set_postfix_str(
            f"{done} files, {rate:.1f} files/s, {progress.skipped} "
            f"already done, {progress.failed} failed",
            refresh=False,
        )
        self.bar.update(progress.projects_done - self.bar.n)

    def end(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _audit_run(args: argparse.Namespace) -> int:
    import contextlib
    import time
    from datetime import datetime, timezone

    from pgpverify.audit.runner import AuditOptions, run_audit, run_from_store
    from pgpverify.audit.sources import in_shard, list_projects
    from pgpverify.audit.store import AuditStore

    if args.jobs < 1 or args.jobs > 64:
        raise _UsageError("--jobs must be between 1 and 64")
    if args.backsign_grace > 24 * 365 * 100:
        raise _UsageError("--backsign-grace is out of range")
    at = args.at or datetime.now(timezone.utc)
    options = AuditOptions(
        grace_seconds=args.backsign_grace * 3600.0,
        since=None if args.since is None else args.since.timestamp(),
        jobs=args.jobs,
    )
    progress = _Progress(args.format == "text" and sys.stderr.isatty())
    if args.from_store:
        if args.projects or args.all or args.shard is not None:
            raise _UsageError(
                "--from-store re-judges the whole store: no PROJECT, --all or --shard"
            )
        with AuditStore(args.db, create=False) as store:
            summary = run_from_store(
                store, at=at, stamp=time.time(), options=options, report=progress
            )
        progress.end()
        return _audit_summary(args, summary)
    names = _project_names(args.projects)
    if bool(names) == bool(args.all):
        raise _UsageError("give PROJECT names or --all (not both)")
    shard = _audit_shard(args)
    with contextlib.ExitStack() as stack:
        clients = _audit_clients(args, stack)
        if args.all:
            names = list_projects(clients())
        if shard is not None:
            names = [n for n in names if in_shard(n, *shard)]
        store = stack.enter_context(AuditStore(args.db))
        summary = run_audit(
            store, clients, names, now=at, options=options, report=progress, stamp=time.time()
        )
    progress.end()
    return _audit_summary(args, summary)


def _audit_summary(args: argparse.Namespace, summary: Any) -> int:
    if args.format == "json":
        import json

        for failure in summary.failures:
            _write(
                sys.stdout,
                json.dumps({"event": "failure", "message": failure}, ensure_ascii=True) + "\n",
            )
        _write(
            sys.stdout,
            json.dumps({"event": "summary", **summary.to_json()}, ensure_ascii=True) + "\n",
        )
    else:
        for failure in summary.failures:
            _warn(f"not audited: {failure}")
        rate = (summary.audited + summary.skipped) / summary.seconds if summary.seconds else 0
        _say(
            sys.stdout,
            f"pgpverify: audit: {summary.projects} project(s), "
            f"{summary.audited} file(s) audited, {summary.skipped} already done, "
            f"{len(summary.failures)} failed, in {summary.seconds:.1f} s "
            f"({rate:.0f} files/s)",
        )
        if summary.failures:
            _say(sys.stdout, "pgpverify: audit incomplete: run the same command again to continue")
    return EXIT_REJECTED if summary.failures else EXIT_GOOD


def _audit_report(args: argparse.Namespace, store: Any) -> int:
    import time

    from pgpverify.audit.report import gather, write_csv, write_html, write_json
    from pgpverify.isotime import format_utc

    data = gather(store)
    if args.html is not None:
        write_html(data, args.html, generated=format_utc(time.time()))
    for path, writer in ((args.json, "json"), (args.csv, "csv")):
        if path is None:
            continue
        if str(path) == "-":
            stream = sys.stdout
            (write_json(store, data, stream) if writer == "json" else write_csv(store, stream))
            continue
        try:
            with path.open("w", encoding="utf-8", newline="") as out:
                if writer == "json":
                    write_json(store, data, out)
                else:
                    write_csv(store, out)
        except OSError as err:
            raise InputError(f"cannot write: {err.strerror or err}", source=str(path)) from None
    for written in (args.html, args.json, args.csv):
        if written is not None and str(written) != "-":
            _say(sys.stderr, f"pgpverify: wrote {written}")
    if args.html is None and args.json is None and args.csv is None:
        for category, count in data.totals.items():
            _say(sys.stdout, f"{category:20} {count}")
        _say(
            sys.stdout,
            f"{'backsigned share':20} {data.backsigned_share:.1%} "
            f"({data.backsigned} of {data.dated_signed})",
        )
    return EXIT_GOOD


def _audit_merge(args: argparse.Namespace) -> int:
    from pgpverify.audit.store import AuditStore

    output = args.output.resolve()
    if any(path.resolve() == output for path in args.stores):
        raise _UsageError("-o must not be one of the stores merged")
    added = 0
    with AuditStore(args.output) as merged:
        for path in args.stores:
            with AuditStore(path, create=False) as store:
                added += merged.merge_from(store)
        total = merged.count()
    _say(
        sys.stdout,
        f"pgpverify: merged {len(args.stores)} store(s) into {args.output}: "
        f"{total} file(s) ({added} new)",
    )
    return EXIT_GOOD
