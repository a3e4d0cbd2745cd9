"""ISO 8601 times, the one way pgpverify reads and writes them (always UTC on output)."""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["format_utc", "parse_iso8601"]


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
    when = datetime.fromtimestamp(seconds, timezone.utc)
    return when.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
