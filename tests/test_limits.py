"""Limits are validated when made, and the work budget counts and stops (pgpverify.limits)."""

from __future__ import annotations

import dataclasses

import pytest

from pgpverify.errors import LimitExceededError, WorkLimitError
from pgpverify.limits import DEFAULT_LIMITS, Limits, WorkBudget

FIELDS = [f.name for f in dataclasses.fields(Limits)]


def test_limits_defaults_are_valid_and_bound_the_work():
    assert DEFAULT_LIMITS.candidates == 16
    assert DEFAULT_LIMITS.public_key_operations == 512
    assert DEFAULT_LIMITS.component_signatures == 32
    assert DEFAULT_LIMITS.decoded_packets == 2 * DEFAULT_LIMITS.certificate_packets
    # one run can judge every candidate of one signature without running out
    assert DEFAULT_LIMITS.public_key_operations >= 4 * DEFAULT_LIMITS.candidates


POSITIVE = [name for name in FIELDS if name != "nesting"]


@pytest.mark.parametrize("name", POSITIVE)
@pytest.mark.parametrize("value", [0, -1, True, 1.5, "16", None])
def test_limits_rejects_non_positive_or_non_integer_caps(name, value):
    with pytest.raises(ValueError, match=f"Limits.{name} must be a positive integer"):
        Limits(**{name: value})


@pytest.mark.parametrize("value", [-1, True, 1.5, None])
def test_limits_rejects_negative_or_non_integer_nesting(value):
    with pytest.raises(ValueError, match=r"Limits\.nesting must be a non-negative integer"):
        Limits(nesting=value)


def test_limits_accepts_nesting_zero():
    assert Limits(nesting=0).nesting == 0


@pytest.mark.parametrize("name", FIELDS)
def test_limits_accepts_one(name):
    assert getattr(Limits(**{name: 1}), name) == 1


def test_work_budget_counts_and_stops_at_its_limit():
    budget = WorkBudget.of(
        Limits(public_key_operations=3, component_signatures=2, decoded_packets=10)
    )
    assert budget.per_component == 2
    budget.decode(10)
    with pytest.raises(WorkLimitError, match="packets of the certificates decoded"):
        budget.decode(1)
    assert budget.decoded == 10
    for _ in range(3):
        budget.spend()
    assert budget.spent == 3
    with pytest.raises(WorkLimitError, match="public-key operations in one verify run") as info:
        budget.spend()
    assert budget.spent == 3
    assert info.value.limit == 3
    # a work cap is a limit like the others: callers that catch those catch it too
    assert isinstance(info.value, LimitExceededError)


# -- a frozen dataclass without generated code (openpgp._record.FrozenFields) -------------


def test_limits_is_a_dataclass_that_replace_and_asdict_understand():
    tight = dataclasses.replace(DEFAULT_LIMITS, candidates=3)
    assert tight.candidates == 3
    assert dataclasses.asdict(tight) == {**dataclasses.asdict(DEFAULT_LIMITS), "candidates": 3}
    assert Limits() == DEFAULT_LIMITS
    assert hash(Limits()) == hash(DEFAULT_LIMITS)
    assert tight != DEFAULT_LIMITS
    assert object() != DEFAULT_LIMITS
    assert repr(tight).startswith("Limits(signature_bytes=1048576, ")
    assert "candidates=3" in repr(tight)


def test_limits_defaults_are_the_fields_defaults():
    for spec in dataclasses.fields(Limits):
        assert getattr(DEFAULT_LIMITS, spec.name) == spec.default


def test_limits_rejects_assignment_and_deletion():
    limits = Limits()
    with pytest.raises(dataclasses.FrozenInstanceError):
        limits.candidates = 1_000_000  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del limits.candidates
    assert limits.candidates == DEFAULT_LIMITS.candidates


def test_limits_rejects_an_unknown_field_and_positional_caps():
    with pytest.raises(TypeError, match="unexpected keyword argument 'candidate'"):
        Limits(candidate=3)
    with pytest.raises(TypeError):
        Limits(3)  # type: ignore[misc]
