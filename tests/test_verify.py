"""Unit tests of the Verifier's own parts; whole verdicts are in test_manifest_verdicts.py."""

import dataclasses
import hashlib
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pgpverify import Keyring, Outcome, OwnershipRecord, Reason, VerificationResult, Verifier
from pgpverify.index.verdict import KEYS_CHANGED
from pgpverify.openpgp.armor import encode
from pgpverify.verify import (
    _RANK,
    TEXT_CANONICALIZATIONS,
    _Attempt,
    _GnuPGText,
    _text_forms,
)

UTC = timezone.utc
README = Path(__file__).resolve().parent.parent / "README.md"


def _reference(name, data):
    """Each canonical form computed the obvious (whole-file) way."""
    if name == "rfc9580":
        return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if name == "sequoia":
        return re.sub(rb"\r\n|\r|\n", b"\r\n", data)
    trim = b"\r\0" if name == "gnupg" else b" \t\r\0"
    *lines, last = data.split(b"\n")
    return b"".join(line.rstrip(trim) + b"\r\n" for line in lines) + last.rstrip(trim)


def forms_digests(chunks):
    forms = _text_forms({8})
    for chunk in chunks:
        for form in forms.values():
            form.feed(chunk)
    for form in forms.values():
        form.end()
    return {name: form.contexts[8].digest() for name, form in forms.items()}


def _sha256(data):
    return hashlib.sha256(data).digest()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a\nb\n", dict.fromkeys(TEXT_CANONICALIZATIONS, b"a\r\nb\r\n")),
        (b"a\r\nb", dict.fromkeys(TEXT_CANONICALIZATIONS, b"a\r\nb")),
        (
            b"a\nb\r",
            {
                "rfc9580": b"a\r\nb\r",
                "sequoia": b"a\r\nb\r\n",
                "gnupg": b"a\r\nb",
                "gnupg-rfc2440": b"a\r\nb",
            },
        ),
        (
            b"a\r\r\nb\n",
            {
                "rfc9580": b"a\r\r\nb\r\n",
                "sequoia": b"a\r\n\r\nb\r\n",
                "gnupg": b"a\r\nb\r\n",
                "gnupg-rfc2440": b"a\r\nb\r\n",
            },
        ),
        (
            b"a\rb\n",
            {
                "rfc9580": b"a\rb\r\n",
                "sequoia": b"a\r\nb\r\n",
                "gnupg": b"a\rb\r\n",
                "gnupg-rfc2440": b"a\rb\r\n",
            },
        ),
        (
            b"a \t\nb  ",
            {
                "rfc9580": b"a \t\r\nb  ",
                "sequoia": b"a \t\r\nb  ",
                "gnupg": b"a \t\r\nb  ",
                "gnupg-rfc2440": b"a\r\nb",
            },
        ),
        (
            b"a \r\t\r\n",
            {
                "rfc9580": b"a \r\t\r\n",
                "sequoia": b"a \r\n\t\r\n",
                "gnupg": b"a \r\t\r\n",
                "gnupg-rfc2440": b"a\r\n",
            },
        ),
        # GnuPG drops trailing NULs too (strchr finds the terminator of its trim set)
        (
            b"a\0\r\0\nb\0\0",
            {
                "rfc9580": b"a\0\r\0\r\nb\0\0",
                "sequoia": b"a\0\r\n\0\r\nb\0\0",
                "gnupg": b"a\r\nb",
                "gnupg-rfc2440": b"a\r\nb",
            },
        ),
        (b"", dict.fromkeys(TEXT_CANONICALIZATIONS, b"")),
    ],
)
def test_text_forms_canonicalise_as_each_tool(data, expected):
    assert {n: _reference(n, data) for n in TEXT_CANONICALIZATIONS} == expected
    assert forms_digests([data]) == {n: _sha256(v) for n, v in expected.items()}


def test_text_forms_match_whole_input_for_every_split():
    data = b"l1 \nl2\r\nl3\r\r\n\nmid\rline \t\r\n\t\nnul\0\r\nend\r"
    whole = forms_digests([data])
    assert whole == {n: _sha256(_reference(n, data)) for n in TEXT_CANONICALIZATIONS}
    for i in range(len(data) + 1):
        for j in range(i, len(data) + 1):
            assert forms_digests([data[:i], data[i:j], data[j:]]) == whole


@pytest.mark.parametrize("run", [1, 2, 3, 4, 5, 17, 4096])
def test_text_forms_strip_trailing_runs_of_any_length(run):
    # short runs go by bytes.replace rounds, longer ones by the reversed-regex pass
    unit = b"line" + (b" \t\r\0" * run)[:run] + b"\n" + b"\r" * run + b"\n"
    data = unit * 50 + b"end"
    expected = {n: _sha256(_reference(n, data)) for n in TEXT_CANONICALIZATIONS}
    assert forms_digests([data]) == expected
    assert forms_digests([data[i : i + 1000] for i in range(0, len(data), 1000)]) == expected


@pytest.mark.parametrize("end", [b"", b"\n", b"x", b"\r\n"])
def test_text_forms_hold_no_long_run_in_memory(end):
    run = b" \t\r\0" * 100_000
    data = b"head" + run + end
    forms = _text_forms({8})
    gnupg = forms["gnupg-rfc2440"]
    assert isinstance(gnupg, _GnuPGText)
    for i in range(0, len(data), 4096):
        for form in forms.values():
            form.feed(data[i : i + 4096])
        assert len(gnupg._held) <= _GnuPGText._HELD_MAX
    for form in forms.values():
        form.end()
    got = {name: form.contexts[8].digest() for name, form in forms.items()}
    assert got == {n: _sha256(_reference(n, data)) for n in TEXT_CANONICALIZATIONS}


# -- several signatures: the reported reason is a total order, the README table's ------------


def _table_order():
    """The verifier's rows of the README policy table (``keys-changed`` is index mode's)."""
    text = README.read_text(encoding="utf-8")
    policy = text[text.index("## The policy") :]
    policy = policy[: policy.index("\n## ", 1)]
    rows = re.findall(r"^\| `([a-z-]+)` \|", policy, re.MULTILINE)
    assert KEYS_CHANGED in rows
    return [Reason(r) for r in rows if r != KEYS_CHANGED]


def test_rank_is_the_readme_table_order():
    assert _table_order() == sorted(Reason, key=_RANK.__getitem__)
    assert len(set(_RANK.values())) == len(Reason)


def _attempt(index, reason):
    attempt = _Attempt(index=index, sig=None)
    if reason is not Reason.GOOD:
        attempt.reject(reason, f"rejected: {reason.value}")
    return attempt


@pytest.mark.parametrize("first", list(Reason), ids=lambda r: r.value)
@pytest.mark.parametrize("second", list(Reason), ids=lambda r: r.value)
def test_several_signatures_report_the_furthest_whatever_their_order(first, second):
    verifier = Verifier(Keyring())
    expected = max(first, second, key=_RANK.__getitem__)
    for order in ((first, second), (second, first)):
        attempts = [_attempt(i, r) for i, r in enumerate(order)]
        result = verifier._result(Path("f"), "f.asc", "0" * 64, attempts, [])
        assert result.reason is expected
        assert result.ok is (expected is Reason.GOOD)
        assert [s.reason for s in result.signatures] == list(order)


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
        outcome=Outcome.GOOD,
        reason=Reason.GOOD,
        message="",
        file="f",
        sha256=None,
        signature_file="f.asc",
    )
    assert result.ok
    with pytest.raises(TypeError):
        bool(result)


def test_result_is_a_frozen_dataclass_that_replace_understands():
    result = VerificationResult(
        outcome=Outcome.GOOD,
        reason=Reason.GOOD,
        message="",
        file="f",
        sha256=None,
        signature_file="f.asc",
    )
    named = dataclasses.replace(result, project="demo-pkg")
    assert named.project == "demo-pkg"
    assert named != result
    assert dataclasses.replace(named, project=None) == result
    assert hash(dataclasses.replace(named, project=None)) == hash(result)
    for spec in dataclasses.fields(VerificationResult):  # the written defaults are the fields'
        if spec.default is not dataclasses.MISSING:
            assert getattr(result, spec.name) == spec.default
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.outcome = Outcome.REJECTED  # type: ignore[misc]
    assert repr(result).startswith("VerificationResult(outcome=<Outcome.GOOD: 'good'>, ")


@pytest.mark.parametrize("armored", [False, True])
def test_verifier_rejects_a_signature_file_of_marker_packets_only(tmp_path, armored):
    # derived from the marker vector: with the signature packet removed, nothing is signed
    marker = b"\xca\x03PGP"
    data = marker * 2
    if armored:
        data = encode(data, "SIGNATURE")
    doc = tmp_path / "f"
    doc.write_bytes(b"data")
    (tmp_path / "f.asc").write_bytes(data)
    result = Verifier(Keyring()).verify(doc, at=datetime(2025, 1, 1, tzinfo=UTC))
    assert result.reason is Reason.MALFORMED
    assert "no signature packet" in result.message


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
    [
        ("2024-02-29", Reason.NOT_OWNER),
        ("2024-03-01T12:00:00Z", Reason.NOT_OWNER),
        ("2024-03-02", Reason.GOOD),
    ],
)
def test_verifier_retired_key_signs_only_before_retirement(retired, reason):
    # The demo signature was made at 2024-03-01T12:00:00Z.
    verifier = Verifier(
        Keyring.from_files([DEMO / "keyring.asc"]),
        owners=_alice_retired(retired),
        project="demo-pkg",
    )
    result = verifier.verify(WHEEL, at=datetime(2025, 6, 1, tzinfo=UTC))
    assert result.reason is reason, result.message
    if reason is Reason.NOT_OWNER:
        assert "retired" in result.message
        assert result.maintainer is None


@pytest.mark.parametrize("file", [".", "/", ""])
def test_verifier_rejects_a_directory_as_file(file):
    # "." and "/" have no name to put ".asc" after: an InputError, not a ValueError
    from pgpverify.errors import InputError

    verifier = Verifier(Keyring.from_files([DEMO / "keyring.asc"]))
    with pytest.raises(InputError, match="is a directory"):
        verifier.verify(Path(file), at=datetime(2025, 6, 1, tzinfo=UTC))


# -- text signatures: what the warning says is what every accepted form leaves unbound --------


def _text_signed(tmp_path, signed: bytes, verified: bytes):
    """A text signature over ``signed`` in the RFC form (sq's), checked over ``verified``."""
    from certbuild import AT as CB_AT
    from certbuild import sig, signer_cert, w

    cert, primary, _ = signer_cert("text warning")
    canonical = signed.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    doc = tmp_path / "doc.txt"
    doc.write_bytes(verified)
    asc = tmp_path / "doc.txt.asc"
    asc.write_bytes(sig(primary, w.TEXT, canonical, 1_709_294_400))
    ring = Keyring()
    ring.add_bytes(cert.octets(), source="ring")
    return Verifier(ring).verify(doc, asc, at=CB_AT)


@pytest.mark.parametrize("altered", [b"one \t\ntwo\x00\n", b"one\r\r\ntwo\n", b"one  \ntwo\t\n"])
def test_verifier_text_warning_names_what_any_form_leaves_unbound(tmp_path, altered):
    # Every form is tried, so a signature made in one verifies over a copy that differs in
    # what another form drops (trailing spaces, tabs and NULs at line ends: GnuPG's); the
    # warning on the signer's own file says so, whichever form matched it.
    own = _text_signed(tmp_path, b"one\ntwo\n", b"one\ntwo\n")
    assert own.ok
    assert own.signatures[0].text_canonicalization == "rfc9580"
    [warning] = own.warnings
    assert "line endings" in warning
    assert "trailing spaces, tabs and NULs" in warning
    other = _text_signed(tmp_path, b"one\ntwo\n", altered)
    assert other.ok
    assert other.warnings == own.warnings


def test_verifier_text_signature_rejects_other_changes(tmp_path):
    # The twin: anything but line endings and trailing spaces, tabs, NULs and CRs fails.
    for altered in (b"one\ntwo\n\n", b" one\ntwo\n", b"one\nt wo\n", b"one\n\x00two\n"):
        result = _text_signed(tmp_path, b"one\ntwo\n", altered)
        assert result.reason is Reason.BAD_SIGNATURE, altered


def _inline_shapes():
    # Derived from the demo's good detached signature: the shapes gpg --sign, gpg
    # --clearsign and sq sign give when the user meant --detach-sign.
    from pgpverify.io import binary_blocks
    from pgpverify.openpgp.packets import encode_packet

    armored = (DEMO / (WHEEL.name + ".asc")).read_bytes()
    sig = binary_blocks(armored)[0].data
    one_pass = encode_packet(4, b"\x03\x00\x08\x01" + bytes(8) + b"\x01")
    literal = encode_packet(11, b"b\x00\x00\x00\x00\x00hello")
    return {
        "clear-signed": (
            b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nhello\n" + armored,
            "clear-signed message",
        ),
        "armored-message": (encode(one_pass + literal + sig, "MESSAGE"), "PGP MESSAGE"),
        "compressed-indeterminate": (b"\xa3\x01" + bytes(40), "compressed data packet"),
        "one-pass-first": (one_pass + literal + sig, "one-pass signature packet"),
        "literal-first": (literal + sig, "literal data packet"),
    }


INLINE_SHAPES = _inline_shapes()


@pytest.mark.parametrize("shape", INLINE_SHAPES)
def test_verifier_rejects_inline_signed_message_as_signature(tmp_path, shape):
    data, named = INLINE_SHAPES[shape]
    (tmp_path / "f").write_bytes(b"hello\n")
    (tmp_path / "f.asc").write_bytes(data)
    ring = Keyring.from_files([DEMO / "keyring.asc"])
    result = Verifier(ring).verify(tmp_path / "f", at=datetime(2025, 1, 1, tzinfo=UTC))
    assert result.reason is Reason.MALFORMED
    assert named in result.message
    assert "not a detached signature" in result.message or "not allowed in a detached" in (
        result.message
    )
    assert "--detach-sign" in result.message
    assert "\n" not in result.message


@pytest.mark.parametrize(
    ("mark", "name"),
    [(b"\xef\xbb\xbf", "UTF-8"), (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16")],
)
def test_verifier_rejects_signature_with_byte_order_mark(tmp_path, mark, name):
    # a Windows editor's mark before the good demo signature: gpgv and sqv refuse it too
    asc = (DEMO / (WHEEL.name + ".asc")).read_bytes()
    (tmp_path / "f.asc").write_bytes(mark + asc)
    ring = Keyring.from_files([DEMO / "keyring.asc"])
    result = Verifier(ring).verify(WHEEL, tmp_path / "f.asc", at=datetime(2025, 1, 1, tzinfo=UTC))
    assert result.reason is Reason.MALFORMED
    assert f"starts with a {name} byte order mark" in result.message
    (tmp_path / "f.asc").write_bytes(asc)  # the twin
    assert Verifier(ring).verify(WHEEL, tmp_path / "f.asc", at=datetime(2025, 1, 1, tzinfo=UTC)).ok


def test_verifier_reads_a_gpg_enarmor_armored_file():
    # gpg --enarmor of a binary signature: an ARMORED FILE block, which gpgv and sqv read
    from pgpverify.io import binary_blocks

    sig = binary_blocks((DEMO / (WHEEL.name + ".asc")).read_bytes())[0].data
    ring = Keyring.from_files([DEMO / "keyring.asc"])
    at = datetime(2025, 1, 1, tzinfo=UTC)
    assert Verifier(ring).verify(WHEEL, encode(sig, "ARMORED FILE"), at=at).ok
    other = Verifier(ring).verify(WHEEL, encode(sig, "PRIVATE KEY BLOCK"), at=at)
    assert other.reason is Reason.MALFORMED
