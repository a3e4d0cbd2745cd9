"""Several signatures in one file: the verdict never depends on their order.

The pool is one vector per reason from vectors/manifest.json (same document, same reference
time, one signature each). Hypothesis picks a few of them and an order; the file holding
their packets in that order must get the same result as in any other order, and its reason
must be the furthest in the README table (``_RANK``) of the reasons each signature gets
alone (with the same keyrings: together they may know a key one vector's keyring lacks).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from _strategies import SETTINGS
from hypothesis import given, settings
from hypothesis import strategies as st

from pgpverify.limits import DEFAULT_LIMITS, Limits
from pgpverify.openpgp.armor import decode_blocks
from pgpverify.openpgp.keyring import Keyring
from pgpverify.openpgp.packets import iter_packets
from pgpverify.verify import _RANK, Reason, Verifier

VECTORS = Path(__file__).resolve().parent.parent.parent / "vectors"
AT = "2025-06-01T00:00:00Z"


def _pool() -> list[dict]:
    manifest = json.loads((VECTORS / "manifest.json").read_text(encoding="utf-8"))["vectors"]
    chosen: dict[str, dict] = {}
    for vector in manifest:
        if (
            (vector["file"], vector["at"], vector["owners"], vector["made_by"])
            != ("data/hello.txt", AT, None, "generate.py")
            or vector["expected"] in chosen
            or vector["expected"] == "malformed"
        ):
            continue
        data = (VECTORS / vector["signature"]).read_bytes()
        blocks = decode_blocks(data) if data.startswith(b"-----") else None
        if blocks is None or len(blocks) != 1 or blocks[0].error is not None:
            continue
        if len(list(iter_packets(blocks[0].data, max_packets=4))) != 1:
            continue
        chosen[vector["expected"]] = vector | {"packet": blocks[0].data}
    return list(chosen.values())


POOL = _pool()


def test_pool_covers_the_reasons_signatures_can_get_here():
    assert {v["expected"] for v in POOL} >= {
        "good",
        "unknown-key",
        "weak-hash",
        "weak-key",
        "bad-signature",
        "key-revoked",
        "key-not-yet-valid",
        "not-signing-key",
        "key-expired",
        "signature-expired",
    }


def _verify(
    picked: list[dict], tmp: Path, rings: list[str] | None = None, limits: Limits = DEFAULT_LIMITS
) -> dict:
    if rings is None:
        rings = sorted({k for v in picked for k in v["keyrings"]})
    (tmp / "sig").write_bytes(b"".join(v["packet"] for v in picked))
    verifier = Verifier(
        Keyring.from_files([VECTORS / k for k in rings], limits=limits), limits=limits
    )
    result = verifier.verify(
        VECTORS / "data/hello.txt", tmp / "sig", at=datetime(2025, 6, 1, tzinfo=timezone.utc)
    ).to_json()
    result.pop("signatures")
    return result


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("order")


@settings(SETTINGS, max_examples=min(SETTINGS.max_examples, 60))
@given(data=st.data())
def test_several_signatures_verdict_is_independent_of_their_order(tmp, data):
    picked = data.draw(
        st.lists(st.sampled_from(POOL), min_size=2, max_size=4, unique_by=lambda v: v["name"])
    )
    order = data.draw(st.permutations(picked))
    rings = sorted({k for v in picked for k in v["keyrings"]})
    alone = [Reason(_verify([v], tmp, rings)["reason"]) for v in picked]
    expected = max(alone, key=_RANK.__getitem__)
    canonical = _verify(sorted(picked, key=lambda v: v["name"]), tmp)
    assert canonical["reason"] == expected.value
    assert _verify(list(order), tmp) == canonical


@settings(SETTINGS, max_examples=min(SETTINGS.max_examples, 60))
@given(data=st.data())
def test_several_signatures_under_a_tight_budget_verdict_is_independent_of_their_order(tmp, data):
    # The run's public-key operations are shared by the signatures of the file: whichever
    # is processed first may use them up. They are processed in the order of their octets,
    # so the verdict is the same in any order; and a budget never makes a file good that
    # is not good with enough of it.
    picked = data.draw(
        st.lists(st.sampled_from(POOL), min_size=2, max_size=4, unique_by=lambda v: v["name"])
    )
    order = data.draw(st.permutations(picked))
    limits = Limits(public_key_operations=data.draw(st.integers(1, 8), label="operations"))
    canonical = _verify(sorted(picked, key=lambda v: v["name"]), tmp, limits=limits)
    assert _verify(list(order), tmp, limits=limits) == canonical
    if canonical["reason"] == "good":
        assert _verify(list(order), tmp)["reason"] == "good"
