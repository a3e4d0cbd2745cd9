"""Command line: ``pgpverify verify FILE --keyring K [...]``.

Exit status: 0 verified, 1 rejected, 2 usage or I/O error. Errors are one line on stderr;
no input produces a traceback. This is the only module that prints, exits, reads
``sys.argv`` or the clock.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from pgpverify import __version__
from pgpverify.errors import PgpVerifyError
from pgpverify.limits import DEFAULT_LIMITS

if TYPE_CHECKING:
    from pgpverify.verify import VerificationResult

__all__ = ["main"]

EXIT_GOOD = 0
EXIT_REJECTED = 1
EXIT_ERROR = 2


class _UsageError(Exception):
    """A usage error found after argparse: reported like argparse's own."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) instead of usage + message."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def parse_time(text: str) -> datetime:
    """ISO 8601 with a ``Z`` or offset; a date alone or a time without zone is UTC."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time: {text!r} (e.g. 2025-06-01T12:00:00Z)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = _Parser(
        prog="pgpverify",
        description="Verify OpenPGP signatures of Python distributions without gpg.",
    )
    parser.add_argument("--version", action="version", version=f"pgpverify {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    verify = sub.add_parser(
        "verify",
        help="verify a detached signature",
        description=(
            "Verify the detached signature of FILE against the given keyrings, and "
            "optionally against a project's ownership record. Exit status: 0 verified, "
            "1 rejected, 2 usage or I/O error."
        ),
    )
    verify.add_argument("file", metavar="FILE", type=Path, help="the signed file")
    verify.add_argument(
        "--signature", metavar="SIG", type=Path, help="detached signature (default: FILE.asc)"
    )
    verify.add_argument(
        "--keyring", metavar="KEYRING", type=Path, action="append", default=[],
        help="OpenPGP keyring, armored or binary (repeatable; at least one)",
    )
    verify.add_argument("--project", metavar="NAME", help="project the file belongs to")
    verify.add_argument(
        "--owners", metavar="OWNERS.json", type=Path,
        help="the project's ownership record (with --project)",
    )
    verify.add_argument(
        "--at", metavar="ISO-8601-TIME", type=parse_time,
        help="reference time for expiry and revocation (default: now)",
    )
    verify.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    try:
        return _main(argv)
    except _UsageError as err:
        return _error(f"{err} (see 'pgpverify verify --help')")
    except PgpVerifyError as err:
        return _error(str(err))
    except KeyboardInterrupt:
        return 130
    except RecursionError:  # pragma: no cover - defensive; inputs are depth-limited
        return _error("input nests too deeply")


def _error(message: str) -> int:
    print(f"pgpverify: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else EXIT_GOOD
    if not args.keyring:
        raise _UsageError("at least one --keyring is required")
    if (args.project is None) != (args.owners is None):
        raise _UsageError("--project and --owners must be given together")
    at = args.at if args.at is not None else datetime.now(timezone.utc)

    from pgpverify.openpgp.keyring import Keyring
    from pgpverify.verify import Verifier

    owners = None
    if args.owners is not None:
        # Imported only when needed: it pulls in packaging (about 13 ms).
        from pgpverify.trust.owners import OwnershipRecord

        owners = OwnershipRecord.from_file(args.owners, limits=DEFAULT_LIMITS)
    keyring = Keyring.from_files(args.keyring, limits=DEFAULT_LIMITS)
    verifier = Verifier(keyring, owners=owners, project=args.project)
    result = verifier.verify(args.file, args.signature, at=at)
    for warning in keyring.warnings:
        print(f"pgpverify: warning: {warning}", file=sys.stderr)
    if args.format == "json":
        json.dump(result.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_text(result, sys.stdout)
    return EXIT_GOOD if result.ok else EXIT_REJECTED


def _print_text(result: VerificationResult, out: TextIO) -> None:
    name = Path(result.file).name
    if result.ok:
        out.write(f"pgpverify: Good signature on {name}\n")
    else:
        out.write(f"pgpverify: REJECTED {name}: {result.reason.value}\n")
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
    if result.maintainer is not None:
        out.write(
            f"pgpverify: Signed by {result.maintainer.user} "
            f"({result.maintainer.role} of {result.project})\n"
        )
    label = "Note" if result.ok else "Reason"
    out.write(f"pgpverify: {label}: {result.message}\n")
