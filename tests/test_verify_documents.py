"""Verifier.verify over every kind of document: a path, bytes, a stream, a DigestSet.

Each vector gets the same verdict whatever form its document takes (binary signatures
from a DigestSet too); a text signature or a missing hash state over a DigestSet is an
InputError, never a verdict.
"""

import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pgpverify import (
    DigestSet,
    InputError,
    Keyring,
    OwnershipRecord,
    Reason,
    SignerJudgement,
    Verifier,
)

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
DEMO = VECTORS / "demo"
WHEEL = DEMO / "demo_pkg-1.0.0-py3-none-any.whl"
AT = datetime(2025, 6, 1, tzinfo=timezone.utc)
MANIFEST = json.loads((VECTORS / "manifest.json").read_text(encoding="utf-8"))["vectors"]
ALL_HASHES = ("sha224", "sha256", "sha384", "sha512", "sha3_256", "sha3_512")


def _when(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _verifier(vector):
    ring = Keyring.from_files([VECTORS / k for k in vector["keyrings"]])
    owners = OwnershipRecord.from_file(VECTORS / vector["owners"]) if vector.get("owners") else None
    return Verifier(ring, owners=owners, project=vector.get("project") if owners else None)


def _demo():
    return Verifier(
        Keyring.from_files([DEMO / "keyring.asc"]),
        owners=OwnershipRecord.from_file(DEMO / "owners/demo-pkg.json"),
        project="demo-pkg",
    )


def _same(one, other):
    """Two results agree on everything but the names of the file and signature."""
    skip = {"file", "signature"}
    return {k: v for k, v in one.to_json().items() if k not in skip} == {
        k: v for k, v in other.to_json().items() if k not in skip
    }


@pytest.mark.parametrize("vector", MANIFEST, ids=[v["name"] for v in MANIFEST])
def test_verify_gives_one_verdict_for_path_bytes_stream_and_digests(vector):
    verifier = _verifier(vector)
    doc_path, sig_path = VECTORS / vector["file"], VECTORS / vector["signature"]
    at = _when(vector["at"])
    by_path = verifier.verify(doc_path, sig_path, at=at)
    data, sig = doc_path.read_bytes(), sig_path.read_bytes()
    by_bytes = verifier.verify(data, sig, at=at)
    with doc_path.open("rb") as stream:
        by_stream = verifier.verify(stream, sig, at=at)
    assert _same(by_path, by_bytes)
    assert _same(by_path, by_stream)
    assert by_bytes.file == "<bytes>"
    assert by_stream.file == str(doc_path)
    digests = DigestSet.of(data, ALL_HASHES)
    if any(s.signature_type == "0x01" and s.valid_math is not None for s in by_path.signatures):
        # a text signature that reached the math cannot be checked over digests
        with pytest.raises(InputError, match="is a text signature"):
            verifier.verify(digests, sig, at=at)
        return
    assert _same(by_path, verifier.verify(digests, sig, at=at))


def test_verify_accepts_a_str_path_and_finds_its_asc():
    result = _demo().verify(str(WHEEL), at=AT)
    assert result.ok
    assert result.signature_file == str(WHEEL) + ".asc"


def test_verify_names_the_document_as_told():
    data = WHEEL.read_bytes()
    sig = (DEMO / (WHEEL.name + ".asc")).read_bytes()
    result = _demo().verify(data, sig, at=AT, name="demo.whl")
    assert (result.ok, result.file, result.signature_file) == (True, "demo.whl", "<bytes>")


def test_verify_rejects_bytes_without_a_signature():
    with pytest.raises(ValueError, match="a signature is needed"):
        _demo().verify(WHEEL.read_bytes(), at=AT)


def test_verify_rejects_a_document_of_another_type():
    with pytest.raises(TypeError, match="cannot verify a int"):
        _demo().verify(42, b"sig", at=AT)  # type: ignore[arg-type]


def test_verify_defaults_the_reference_time_to_now():
    verifier = _demo()
    result = verifier.verify(WHEEL)
    now = datetime.now(timezone.utc)
    assert _same(result, verifier.verify(WHEEL, at=now))
    # the demo's revoked twin is revoked now as at a fixed time
    revoked = DEMO / "revoked" / WHEEL.name
    assert verifier.verify(revoked).reason is Reason.KEY_REVOKED


def test_verify_rejects_a_tampered_document_in_every_form():
    sig = (DEMO / (WHEEL.name + ".asc")).read_bytes()
    data = bytearray(WHEEL.read_bytes())
    data[100] ^= 1
    tampered = bytes(data)
    verifier = _demo()
    assert verifier.verify(tampered, sig, at=AT).reason is Reason.BAD_SIGNATURE
    assert verifier.verify(io.BytesIO(tampered), sig, at=AT).reason is Reason.BAD_SIGNATURE
    digests = DigestSet.of(tampered)
    assert verifier.verify(digests, sig, at=AT).reason is Reason.BAD_SIGNATURE


def test_digest_set_hashed_in_chunks_equals_hashed_whole():
    data = WHEEL.read_bytes()
    chunked = DigestSet(("sha512",))
    for start in range(0, len(data), 777):
        chunked.update(data[start : start + 777])
    assert chunked.algorithms == ("sha256", "sha512")
    assert chunked.hexdigest("sha256") == DigestSet.of(data).hexdigest("sha256")
    sig = (DEMO / (WHEEL.name + ".asc")).read_bytes()
    result = _demo().verify(chunked, sig, at=AT)
    assert result.ok
    assert result.file == "<digests>"
    assert result.sha256 == chunked.hexdigest("sha256")


def test_digest_set_rejects_an_unknown_algorithm():
    with pytest.raises(ValueError, match="'md5' is not one of"):
        DigestSet(("md5",))


def test_verify_rejects_a_digest_set_without_the_signature_hash():
    vector = next(v for v in MANIFEST if v["name"] == "good/ecdsa-p256")
    data = (VECTORS / vector["file"]).read_bytes()
    sig = (VECTORS / vector["signature"]).read_bytes()
    verifier = _verifier(vector)
    assert verifier.verify(DigestSet.of(data, ("sha256",)), sig, at=AT).ok
    sig384 = next(v for v in MANIFEST if v["expected"] == "good" and "sha384" in v["name"])
    with pytest.raises(InputError, match="which the digest set lacks"):
        _verifier(sig384).verify(
            DigestSet.of((VECTORS / sig384["file"]).read_bytes(), ("sha256",)),
            (VECTORS / sig384["signature"]).read_bytes(),
            at=_when(sig384["at"]),
        )


def test_verify_rejects_a_text_signature_over_a_digest_set():
    vector = next(v for v in MANIFEST if v["name"] == "external/gpg-text/crlf")
    data = (VECTORS / vector["file"]).read_bytes()
    sig = (VECTORS / vector["signature"]).read_bytes()
    assert _verifier(vector).verify(data, sig, at=AT).ok
    with pytest.raises(InputError, match="is a text signature"):
        _verifier(vector).verify(DigestSet.of(data, ALL_HASHES), sig, at=AT)


class _OnlyBefore:
    """A caller's own signer policy: any key, for signatures made before a time."""

    def __init__(self, until):
        self.until = until
        self.asked = []

    def judge_signer(self, project, primary_fingerprint, signed):
        self.asked.append((project, primary_fingerprint, signed))
        if signed >= self.until:
            return SignerJudgement(refusal=f"nothing signs {project} after {self.until}")
        return SignerJudgement()


def test_verifier_takes_any_signer_policy():
    ring = Keyring.from_files([DEMO / "keyring.asc"])
    made = int(datetime(2024, 3, 1, 12, tzinfo=timezone.utc).timestamp())
    late = _OnlyBefore(made + 1)
    result = Verifier(ring, signers=late, project="demo-pkg").verify(WHEEL, at=AT)
    assert result.ok
    assert result.maintainer is None
    assert late.asked == [("demo-pkg", result.primary_fingerprint, made)]
    early = _OnlyBefore(made)
    refused = Verifier(ring, signers=early, project="demo-pkg").verify(WHEEL, at=AT)
    assert refused.reason is Reason.NOT_OWNER
    assert refused.message == f"nothing signs demo-pkg after {made}"


def test_verifier_rejects_owners_and_signers_together():
    ring = Keyring.from_files([DEMO / "keyring.asc"])
    owners = OwnershipRecord.from_file(DEMO / "owners/demo-pkg.json")
    with pytest.raises(ValueError, match="not both"):
        Verifier(ring, owners=owners, signers=_OnlyBefore(0), project="demo-pkg")
    with pytest.raises(ValueError, match="together"):
        Verifier(ring, signers=_OnlyBefore(0))


def test_ownership_record_is_a_signer_policy():
    owners = OwnershipRecord.from_file(DEMO / "owners/demo-pkg.json")
    alice = "DBB45D692413FC66E3CB87089B617AE7AD1F8C84"
    judged = owners.judge_signer("Demo_Pkg", alice, 0)
    assert judged.allowed
    assert judged.maintainer is not None
    assert judged.maintainer.user == "alice"
    assert not owners.judge_signer("other", alice, 0).allowed
    assert "not listed" in (owners.judge_signer("demo-pkg", "0" * 40, 0).refusal or "")


def test_verify_or_raise_takes_bytes_and_defaults_now():
    sig = (DEMO / (WHEEL.name + ".asc")).read_bytes()
    result = _demo().verify_or_raise(WHEEL.read_bytes(), sig)
    assert result.ok
    assert result.created is not None
    assert _when(result.created) < datetime.now(timezone.utc) + timedelta(seconds=1)


def test_keyring_from_bytes_verifies_like_from_files():
    data = (DEMO / "keyring.asc").read_bytes()
    ring = Keyring.from_bytes(data)
    owners = OwnershipRecord.from_bytes((DEMO / "owners/demo-pkg.json").read_bytes())
    result = Verifier(ring, owners=owners, project="demo-pkg").verify(WHEEL, at=AT)
    assert result.ok
    assert _same(result, _demo().verify(WHEEL, at=AT))
    junk = Keyring.from_bytes(b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!\n", source="k")
    assert len(junk) == 0
    assert junk.warnings
    assert junk.warnings[0].startswith("k: ")


def test_verify_rejects_a_text_stream():
    with WHEEL.open(encoding="latin-1") as text, pytest.raises(TypeError, match="binary mode"):
        _demo().verify(text, b"sig", at=AT)  # type: ignore[arg-type]


def test_verify_reports_a_failing_stream_as_an_input_error():
    class Broken(io.RawIOBase):
        name = "broken.whl"

        def readable(self):
            return True

        def readinto(self, _buffer):
            raise OSError(5, "Input/output error")

    sig = (DEMO / (WHEEL.name + ".asc")).read_bytes()
    with pytest.raises(InputError, match=r"broken.whl: cannot read: Input/output error"):
        _demo().verify(Broken(), sig, at=AT)
