"""ISO 8601 times, the one way pgpverify reads and writes them (always UTC on output)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

__all__ = ["format_utc", "parse_iso8601"]

_FOUR_OCTETS = 1 << 32


def parse_iso8601(text: str) -> datetime:
    """An aware datetime from ISO 8601: ``Z`` or an offset; a date or a naive time is UTC.

    Raises ValueError for anything else.
    """
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    when = datetime.fromisoformat(value)
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def format_utc(seconds: float) -> str:
    """Seconds since the epoch as ``YYYY-MM-DDTHH:MM:SSZ`` (ValueError when out of range).

    The year always has four digits (``strftime("%Y")`` writes ``5`` for the year 5 on
    glibc, which :func:`parse_iso8601` would not read back); times before the epoch are
    fine.
    """
    if type(seconds) is int and 0 <= seconds < _FOUR_OCTETS:
        # an OpenPGP time (four octets: years 1970 to 2106, always four digits), the one
        # written for every signature verified: gmtime and strftime, ~4x datetime's way
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
    when = datetime.fromtimestamp(seconds, timezone.utc)
    return when.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
