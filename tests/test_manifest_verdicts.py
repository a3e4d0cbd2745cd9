"""Every vector in vectors/manifest.json gets the verdict the manifest expects.

The manifest is the single list of what each vector proves (vectors/generate.py writes it);
this test runs the library on each, the CLI tests run the command line on the demo.
"""

import json
from datetime import datetime
from pathlib import Path

import pytest

from pgpverify import Keyring, OwnershipRecord, Reason, Verifier

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
MANIFEST = json.loads((VECTORS / "manifest.json").read_text(encoding="utf-8"))["vectors"]


def _when(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize("vector", MANIFEST, ids=[v["name"] for v in MANIFEST])
def test_vector_verdict(vector):
    ring = Keyring.from_files([VECTORS / k for k in vector["keyrings"]])
    owners = OwnershipRecord.from_file(VECTORS / vector["owners"]) if vector.get("owners") else None
    verifier = Verifier(ring, owners=owners, project=vector.get("project") if owners else None)
    result = verifier.verify(
        VECTORS / vector["file"], VECTORS / vector["signature"], at=_when(vector["at"])
    )
    assert result.reason is Reason(vector["expected"]), (vector["proves"], result.message)
    assert result.ok == (vector["expected"] == "good")
    if vector.get("signer_fingerprint"):
        assert result.signer_fingerprint == vector["signer_fingerprint"]
    if vector.get("primary_fingerprint"):
        assert result.primary_fingerprint == vector["primary_fingerprint"]
    if result.reason not in (Reason.MALFORMED, Reason.UNKNOWN_KEY):
        assert result.created is not None


def test_every_reason_has_a_vector():
    assert {v["expected"] for v in MANIFEST} == {r.value for r in Reason}
