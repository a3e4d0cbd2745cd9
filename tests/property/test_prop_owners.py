"""Ownership records: any bytes give a record or an OwnersError, nothing else."""

from __future__ import annotations

import json

import pytest
from _strategies import SETTINGS, mutated
from hypothesis import given
from hypothesis import strategies as st

from pgpverify.errors import OwnersError
from pgpverify.trust.owners import OwnershipRecord, parse_fingerprint

GOOD = json.dumps(
    {
        "project": "Demo_Pkg",
        "maintainers": [
            {
                "user": "alice",
                "role": "Owner",
                "keys": ["A872B2FC7416C5780D1ABCEBC15B9CCFC304B4B1"],
            },
            {
                "user": "bob",
                "role": "Maintainer",
                "keys": ["3c42 1176 b179 3c45 f97d 0070 7a27 74a7 ae70 ffa2"],
            },
        ],
        "extra": {"ignored": True},
    }
).encode()

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELD_VALUES = st.one_of(JSON, st.just("A872B2FC7416C5780D1ABCEBC15B9CCFC304B4B1"))


def _check(data: bytes) -> None:
    try:
        record = OwnershipRecord.from_bytes(data, source="fuzz.json")
    except OwnersError as err:
        error = err
    else:
        error = None
    if error is not None:
        assert error.source == "fuzz.json"
        return
    assert isinstance(record, OwnershipRecord)
    record.is_for("demo-pkg")
    for maintainer in record.maintainers:
        for key in maintainer.keys:
            assert len(key) == 40
            assert record.signer(key.lower()) is not None or maintainer.role not in (
                "Owner",
                "Maintainer",
            )


def test_owners_good_record_parses():
    record = OwnershipRecord.from_bytes(GOOD)
    assert record.is_for("demo-pkg")
    assert record.signer("3C421176B1793C45F97D00707A2774A7AE70FFA2").user == "bob"


@SETTINGS
@given(st.binary(max_size=1024))
def test_owners_random_bytes(data):
    _check(data)


@SETTINGS
@given(mutated((GOOD,)))
def test_owners_mutated(data):
    _check(data)


@SETTINGS
@given(JSON)
def test_owners_random_json(doc):
    _check(json.dumps(doc).encode())


@SETTINGS
@given(
    st.fixed_dictionaries(
        {
            "project": FIELD_VALUES,
            "maintainers": st.lists(
                st.fixed_dictionaries(
                    {
                        "user": FIELD_VALUES,
                        "role": FIELD_VALUES,
                        "keys": st.lists(FIELD_VALUES, max_size=3),
                    }
                ),
                max_size=3,
            ),
        }
    )
)
def test_owners_random_record_shapes(doc):
    _check(json.dumps(doc).encode())


def test_owners_rejects_deep_nesting():
    with pytest.raises(OwnersError):
        OwnershipRecord.from_bytes(b"[" * 100_000 + b"]" * 100_000)


# Regression: json.loads once leaked a plain ValueError (int max_str_digits, Python 3.11+).
@pytest.mark.parametrize(
    "data", [b"1" * 5000, b'{"project": "x", "maintainers": [], "n": ' + b"9" * 5000 + b"}"]
)
def test_owners_rejects_huge_integer(data):
    with pytest.raises(OwnersError):
        OwnershipRecord.from_bytes(data)


# Regression: str.upper() once ran before the ASCII check (U+FB00 upper-cases to "FF").
def test_owners_rejects_non_ascii_fingerprint():
    with pytest.raises(OwnersError):
        parse_fingerprint("\ufb00" * 20)


@SETTINGS
@given(st.text(max_size=60))
def test_owners_fingerprint_is_hex_or_rejected(text):
    try:
        fpr = parse_fingerprint(text)
    except OwnersError:
        return
    assert len(fpr) == 40
    assert all(c in "0123456789ABCDEF" for c in fpr)


FPR = "A872B2FC7416C5780D1ABCEBC15B9CCFC304B4B1"
#: 0001-01-01 .. 9999-12-31, the epoch and its neighbours drawn often.
WHEN = st.one_of(
    st.sampled_from([0, -1, 1, 86400]), st.integers(min_value=-62135596800, max_value=253402300799)
)


@SETTINGS
@given(
    st.lists(st.lists(st.one_of(st.none(), WHEN), min_size=1, max_size=3), min_size=1, max_size=3)
)
def test_owners_earliest_retirement_counts_however_listed(layout):
    """One key, listed by several maintainers, each time plainly or with a date."""
    from pgpverify.isotime import format_utc
    from pgpverify.publish import _record_json

    maintainers = [
        {
            "user": f"m{i}",
            "role": "Owner",
            "keys": [
                FPR if t is None else {"fingerprint": FPR, "retired": format_utc(t)} for t in dates
            ],
        }
        for i, dates in enumerate(layout)
    ]
    record = OwnershipRecord.from_json({"project": "p", "maintainers": maintainers})
    dates = [t for entry in layout for t in entry if t is not None]
    assert record.retired_at(FPR) == (min(dates) if dates else None)
    # What publish writes keeps every maintainer's earliest date, so the same verdict.
    again = OwnershipRecord.from_json(_record_json("p", record))
    assert again.retired_at(FPR) == record.retired_at(FPR)
