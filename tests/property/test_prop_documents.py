"""One verdict whatever form the document takes: a path, bytes, a stream or a DigestSet.

The demo wheel and its signature, each mutated a few octets at a time: the verdict over
the path, the bytes, a stream and a DigestSet fed in random chunks is the same (a text
signature that reaches the math over a DigestSet is an InputError instead, never another
verdict).
"""

from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path

import pytest
from _strategies import SETTINGS, mutated
from hypothesis import given, settings
from hypothesis import strategies as st

from pgpverify import DigestSet, InputError, Keyring, OwnershipRecord, Verifier

DEMO = Path(__file__).resolve().parent.parent.parent / "vectors" / "demo"
WHEEL = DEMO / "demo_pkg-1.0.0-py3-none-any.whl"
DATA = WHEEL.read_bytes()
SIGNATURE = (DEMO / (WHEEL.name + ".asc")).read_bytes()
AT = datetime(2025, 6, 1, tzinfo=timezone.utc)
HASHES = ("sha224", "sha256", "sha384", "sha512", "sha3_256", "sha3_512")
VERIFIER = Verifier(
    Keyring.from_files([DEMO / "keyring.asc"]),
    owners=OwnershipRecord.from_file(DEMO / "owners/demo-pkg.json"),
    project="demo-pkg",
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("documents")


def _shown(result):
    doc = result.to_json()
    del doc["file"], doc["signature"]
    return doc


@settings(SETTINGS, max_examples=max(1, SETTINGS.max_examples // 2))  # four runs each
@given(
    document=st.one_of(st.just(DATA), mutated((DATA,))),
    signature=st.one_of(st.just(SIGNATURE), mutated((SIGNATURE,))),
    chunk=st.integers(1, 4096),
)
def test_verdict_is_the_same_for_every_document_form(workdir, document, signature, chunk):
    path, sig_path = workdir / "doc.whl", workdir / "doc.whl.asc"
    path.write_bytes(document)
    sig_path.write_bytes(signature)
    by_path = VERIFIER.verify(path, at=AT)
    assert _shown(VERIFIER.verify(document, signature, at=AT)) == _shown(by_path)
    assert _shown(VERIFIER.verify(io.BytesIO(document), signature, at=AT)) == _shown(by_path)
    digests = DigestSet(HASHES)
    for start in range(0, len(document), chunk):
        digests.update(document[start : start + chunk])
    text = any(s.signature_type == "0x01" and s.valid_math is not None for s in by_path.signatures)
    if text:
        with pytest.raises(InputError, match="text signature"):
            VERIFIER.verify(digests, signature, at=AT)
    else:
        assert _shown(VERIFIER.verify(digests, signature, at=AT)) == _shown(by_path)
