"""The verdict never depends on the order of keyrings: every multi-keyring vector, every order.

Copies of one certificate in several keyrings are merged per component (primary, user IDs,
subkeys), so a decoy copy loaded first cannot hide a revocation or a newer self-signature
that a later copy holds (vectors/generate.py, build_merging). This runs each manifest
vector that names more than one keyring with its keyrings in every permutation.
"""

import itertools
import json
from datetime import datetime
from pathlib import Path

import pytest

from pgpverify import Keyring, OwnershipRecord, Reason, Verifier

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
MANIFEST = json.loads((VECTORS / "manifest.json").read_text(encoding="utf-8"))["vectors"]
MULTI = [v for v in MANIFEST if len(v["keyrings"]) > 1]


def _verdict(vector, keyrings):
    ring = Keyring.from_files([VECTORS / k for k in keyrings])
    owners = OwnershipRecord.from_file(VECTORS / vector["owners"]) if vector["owners"] else None
    verifier = Verifier(ring, owners=owners, project=vector["project"] if owners else None)
    at = datetime.fromisoformat(vector["at"].replace("Z", "+00:00"))
    result = verifier.verify(VECTORS / vector["file"], VECTORS / vector["signature"], at=at)
    return result.reason, result.primary_fingerprint, result.message


def test_merge_vectors_exist():
    names = {v["name"] for v in MULTI}
    assert {
        "bad/merge-revocation-under-dummy-user-id",
        "bad/merge-newer-self-signature-under-dummy-user-id",
        "bad/merge-subkey-revocation-under-primary",
        "bad/merge-same-second-self-signatures",
    } <= names
    for name in [n for n in names if n.startswith("bad/merge-")]:
        assert f"good/{name[4:]}-twin" in names, f"{name} has no good twin"


@pytest.mark.parametrize("vector", MULTI, ids=[v["name"] for v in MULTI])
def test_multi_keyring_vector_same_verdict_in_every_order(vector):
    verdicts = {
        order: _verdict(vector, order) for order in itertools.permutations(vector["keyrings"])
    }
    assert {reason for reason, _, _ in verdicts.values()} == {Reason(vector["expected"])}
    # Not only the reason: which key and why are reported the same way too.
    assert len(set(verdicts.values())) == 1, verdicts


def test_merge_rejects_revocation_hidden_in_one_keyring_in_both_orders():
    vector = next(
        v for v in MANIFEST if v["name"] == "bad/merge-revocation-under-dummy-user-id-one-keyring"
    )
    (ring,) = vector["keyrings"]
    data = (VECTORS / ring).read_text(encoding="ascii")
    cut = data.index("-----BEGIN", 1)
    for text in (data, data[cut:] + data[:cut]):
        keyring = Keyring()
        keyring.add_bytes(text.encode("ascii"), source="copies")
        verifier = Verifier(keyring)
        at = datetime.fromisoformat(vector["at"].replace("Z", "+00:00"))
        result = verifier.verify(VECTORS / vector["file"], VECTORS / vector["signature"], at=at)
        assert result.reason is Reason.KEY_REVOKED, result.message
