"""isotime: one spelling of UTC times, whichever way it is computed."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pgpverify.isotime import format_utc, parse_iso8601


def _by_datetime(seconds: float) -> str:
    when = datetime.fromtimestamp(seconds, timezone.utc)
    return when.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


@pytest.mark.parametrize(
    "seconds",
    [0, 1, 59, 86_399, 951_782_400, 1_709_294_400, 4_102_444_800, (1 << 32) - 1, 1 << 32],
)
def test_format_utc_spells_openpgp_times_as_datetime_does(seconds):
    assert format_utc(seconds) == _by_datetime(seconds)
    assert parse_iso8601(format_utc(seconds)).timestamp() == seconds


def test_format_utc_sweeps_four_octet_times_as_datetime_does():
    for seconds in range(0, 1 << 32, 7_919_993):  # every month or so, 1970 to 2106
        assert format_utc(seconds) == _by_datetime(seconds)


@pytest.mark.parametrize("seconds", [-1, -86_401, 1.5, 1_709_294_400.999, 253_402_300_799])
def test_format_utc_outside_four_octets_is_still_iso(seconds):
    assert format_utc(seconds) == _by_datetime(seconds)


def test_format_utc_rejects_times_past_year_9999():
    with pytest.raises((ValueError, OverflowError, OSError)):
        format_utc(1 << 40)
