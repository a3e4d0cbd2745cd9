"""The exception tree.

A bad *signature file* is a verdict (``malformed``), never an exception that escapes
:meth:`pgpverify.Verifier.verify`. Bad *trust inputs* (a keyring, an ownership record) and
I/O failures raise subclasses of :class:`PgpVerifyError`, whose ``str()`` is one line for
people that names the input and the problem.
"""

from __future__ import annotations

__all__ = [
    "CacheError",
    "IndexResponseError",
    "InputError",
    "KeyringError",
    "LimitExceededError",
    "LockFileError",
    "MalformedError",
    "NetworkError",
    "OwnersError",
    "PgpVerifyError",
    "PublishError",
    "ResponseTooLargeError",
    "UnsupportedError",
    "WorkLimitError",
]


class PgpVerifyError(Exception):
    """Base of every error pgpverify raises on purpose.

    ``source`` names the input (a file name, ``<stdin>``, a URL) when one is known.
    """

    def __init__(self, message: str, *, source: str | None = None) -> None:
        self.message = message
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)


class MalformedError(PgpVerifyError):
    """OpenPGP data (armor, packet framing, a packet body) does not parse."""


class LimitExceededError(MalformedError):
    """An input is larger, or has more parts, than :class:`pgpverify.Limits` allows."""

    def __init__(self, what: str, limit: int, *, source: str | None = None) -> None:
        self.what = what
        self.limit = limit
        super().__init__(f"{what} exceeds the limit of {limit}", source=source)


class WorkLimitError(LimitExceededError):
    """A work cap of one verify run (:class:`pgpverify.Limits`) was reached before a decision.

    The verifier turns it into a rejection of the signature it was judging: running out of
    work never lets a signature through.
    """


class UnsupportedError(PgpVerifyError):
    """Well-formed OpenPGP that uses something pgpverify does not implement."""


class InputError(PgpVerifyError):
    """A file could not be read, or is not what it was given as."""


class KeyringError(InputError):
    """A keyring cannot be used at all (not just a skipped junk block)."""


class OwnersError(InputError):
    """An ownership record is not valid JSON or lacks a required field."""


class NetworkError(PgpVerifyError):
    """A document could not be fetched: connection, timeout, TLS, HTTP status, size cap.

    ``source`` is the URL. Never raised for "not found": that is an answer (a
    :class:`pgpverify.index.fetch.Response` with status 404 or 410), not a failure.
    """


class ResponseTooLargeError(NetworkError):
    """A document's body is larger than the caller's cap (``max_bytes``).

    Unlike a connection failure, it does not go away on a later try: the same document
    will be as large next time, so a caller may judge it (an audit stores an oversized
    ``.asc`` as a malformed signature) instead of leaving it for another run.
    """


class IndexResponseError(PgpVerifyError):
    """The index answered, but with something unusable.

    HTML where JSON was expected, a key file whose fingerprint is not its name, a simple
    page that does not parse.
    """


class CacheError(PgpVerifyError):
    """The local cache cannot be used (and could not be rebuilt)."""


class LockFileError(InputError):
    """A lock file does not parse, or does not match what it pins."""


class PublishError(PgpVerifyError):
    """``publish`` refused its inputs; ``problems`` lists every one of them."""

    def __init__(self, problems: list[str], *, source: str | None = None) -> None:
        self.problems = list(problems)
        first = problems[0] if problems else "nothing to publish"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{first}{more}", source=source)
