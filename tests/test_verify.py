"""Unit tests of the Verifier's own parts; whole verdicts are in test_manifest_verdicts.py."""

from datetime import datetime, timezone

import pytest

from pgpverify import Keyring, Outcome, OwnershipRecord, Reason, VerificationResult, Verifier
from pgpverify.verify import _TextCanonicalizer

UTC = timezone.utc


def canon(chunks):
    c = _TextCanonicalizer()
    return b"".join(c.feed(x) for x in chunks) + c.end()


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        ([b"a\nb\n"], b"a\r\nb\r\n"),
        ([b"a\r\nb\r\n"], b"a\r\nb\r\n"),
        ([b"a\r", b"\nb"], b"a\r\nb"),
        ([b"a\r"], b"a\r"),
        ([b"a\r", b"b"], b"a\rb"),
        ([b"\n", b"\n"], b"\r\n\r\n"),
        ([b"a\r", b"", b"\n"], b"a\r\n"),
        ([b"no newline"], b"no newline"),
    ],
)
def test_text_canonicalizer_handles_chunk_edges(chunks, expected):
    assert canon(chunks) == expected


def test_text_canonicalizer_matches_whole_input_for_every_split():
    data = b"l1\nl2\r\nl3\r\r\n\nend\r"
    whole = canon([data])
    for i in range(len(data) + 1):
        assert canon([data[:i], data[i:]]) == whole


def test_verifier_requires_project_and_owners_together():
    owners = OwnershipRecord.from_bytes(b'{"project": "x", "maintainers": []}')
    with pytest.raises(ValueError, match="together"):
        Verifier(Keyring(), owners=owners)
    with pytest.raises(ValueError, match="together"):
        Verifier(Keyring(), project="x")


def test_verifier_rejects_naive_reference_time(tmp_path):
    doc = tmp_path / "f"
    doc.write_bytes(b"x")
    with pytest.raises(ValueError, match="timezone"):
        Verifier(Keyring()).verify(doc, at=datetime(2025, 1, 1))  # noqa: DTZ001


def test_result_has_no_truth_value():
    result = VerificationResult(
        outcome=Outcome.GOOD, reason=Reason.GOOD, message="", file="f", sha256=None,
        signature_file="f.asc",
    )
    assert result.ok
    with pytest.raises(TypeError):
        bool(result)


def test_empty_signature_file_is_malformed_not_an_exception(tmp_path):
    doc = tmp_path / "f"
    doc.write_bytes(b"data")
    (tmp_path / "f.asc").write_bytes(b"")
    result = Verifier(Keyring()).verify(doc, at=datetime(2025, 1, 1, tzinfo=UTC))
    assert result.reason is Reason.MALFORMED
    assert result.sha256 == "3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7"


DEMO = __import__("pathlib").Path(__file__).resolve().parent.parent / "vectors" / "demo"
WHEEL = DEMO / "demo_pkg-1.0.0-py3-none-any.whl"


def _alice_retired(when):
    import json

    doc = json.loads((DEMO / "owners" / "demo-pkg.json").read_text())
    for maintainer in doc["maintainers"]:
        if maintainer["user"] == "alice":
            maintainer["keys"] = [{"fingerprint": k, "retired": when} for k in maintainer["keys"]]
    return OwnershipRecord.from_bytes(json.dumps(doc).encode())


@pytest.mark.parametrize(
    ("retired", "reason"),
    [("2024-02-29", Reason.NOT_OWNER), ("2024-03-01T12:00:00Z", Reason.NOT_OWNER),
     ("2024-03-02", Reason.GOOD)],
)
def test_verifier_retired_key_signs_only_before_retirement(retired, reason):
    # The demo signature was made at 2024-03-01T12:00:00Z.
    verifier = Verifier(Keyring.from_files([DEMO / "keyring.asc"]),
                        owners=_alice_retired(retired), project="demo-pkg")
    result = verifier.verify(WHEEL, at=datetime(2025, 6, 1, tzinfo=UTC))
    assert result.reason is reason, result.message
    if reason is Reason.NOT_OWNER:
        assert "retired" in result.message
        assert result.maintainer is None
