"""``Verifier.verify`` never raises for a bad signature file: it returns a verdict.

The keyring and the document are good; only the signature file is hostile (random bytes,
or a real signature file mutated a few octets at a time).
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from _strategies import (
    DOCUMENT,
    SETTINGS,
    armor,
    fingerprint,
    make_signature,
    material,
    mutated,
    packet,
    subpacket,
)
from hypothesis import given
from hypothesis import strategies as st

from pgpverify.limits import Limits
from pgpverify.openpgp.keyring import Keyring
from pgpverify.openpgp.signature import KNOWN_SUBPACKETS
from pgpverify.trust.owners import OwnershipRecord
from pgpverify.verify import Outcome, Reason, VerificationResult, Verifier

AT = datetime(2030, 1, 1, tzinfo=timezone.utc)
MAT = material()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("verify")
    (path / "doc.whl").write_bytes(DOCUMENT)
    return path


@pytest.fixture(scope="module")
def verifiers():
    ring = Keyring()
    ring.add_bytes(MAT.keyring, source="keyring")
    assert ring.warnings == []
    primaries = [fingerprint(b).hex().upper() for b in MAT.key_bodies[:2]]
    owners = OwnershipRecord.from_json(
        {"project": "doc", "maintainers": [{"user": "u", "role": "Owner", "keys": primaries}]}
    )
    return [Verifier(ring), Verifier(ring, owners=owners, project="doc")]


def _verify(verifier: Verifier, workdir, sig: bytes) -> VerificationResult:
    (workdir / "doc.whl.asc").write_bytes(sig)
    result = verifier.verify(workdir / "doc.whl", at=AT)
    assert isinstance(result, VerificationResult)
    assert isinstance(result.reason, Reason)
    assert result.ok == (result.reason is Reason.GOOD)
    assert result.sha256 is not None
    result.to_json()
    return result


@pytest.mark.parametrize("index", range(len(MAT.signature_files)))
def test_verify_good_material_is_good(workdir, verifiers, index):
    result = _verify(verifiers[0], workdir, MAT.signature_files[index])
    assert result.outcome is Outcome.GOOD, result.message


@SETTINGS
@given(st.binary(max_size=2048), st.integers(0, 1))
def test_verify_random_signature_file(workdir, verifiers, sig, which):
    result = _verify(verifiers[which], workdir, sig)
    assert not result.ok


@SETTINGS
@given(mutated(MAT.signature_files), st.integers(0, 1))
def test_verify_mutated_signature_file(workdir, verifiers, sig, which):
    _verify(verifiers[which], workdir, sig)


@SETTINGS
@given(st.lists(st.sampled_from(MAT.signature_files), min_size=1, max_size=4).map(b"".join))
def test_verify_concatenated_signature_files(workdir, verifiers, sig):
    # Several armored blocks (or binary packets) in one file: still a verdict, never a crash.
    _verify(verifiers[0], workdir, sig)


SUBPACKETS = st.lists(
    st.tuples(st.integers(0, 127), st.binary(max_size=24), st.booleans()), max_size=4
)


@SETTINGS
@given(
    st.tuples(
        st.integers(0, len(MAT.signers) - 1),
        st.sampled_from([0x00, 0x00, 0x01, 0x02, 0x10, 0x13, 0x18, 0x1F, 0x20, 0x40, 0x50, 0xFF]),
        SUBPACKETS,
        st.booleans(),
    )
)
def test_verify_resigned_with_random_hashed_subpackets(workdir, verifiers, case):
    # Mutate-and-re-sign: the math holds, so only the parser and the policy decide.
    who, sig_type, subs, armored = case
    extra = b"".join(subpacket(kind, body, critical=crit) for kind, body, crit in subs)
    body = make_signature(MAT.signers[who], sig_type, DOCUMENT, extra_hashed=extra)
    sig = packet(2, body)
    result = _verify(verifiers[0], workdir, armor("SIGNATURE", sig) if armored else sig)
    if result.ok:
        assert sig_type == 0x00
        for kind, _, crit in subs:
            assert not crit or (kind in KNOWN_SUBPACKETS and kind != 20)
    elif not subs and sig_type == 0x00:
        pytest.fail(f"a good re-signed signature was rejected: {result.message}")


@SETTINGS
@given(
    mutated(MAT.signature_files),
    st.builds(
        Limits,
        signature_bytes=st.integers(1, 4096),
        signature_packets=st.integers(1, 3),
        subpackets=st.integers(1, 6),
        nesting=st.integers(0, 2),
        certificate_packets=st.integers(1, 20),
    ),
)
def test_verify_with_small_limits(workdir, verifiers, sig, limits):
    # Every cap is a verdict or a PgpVerifyError from the keyring, never a crash.
    verifier = Verifier(verifiers[0].keyring, limits=limits)
    _verify(verifier, workdir, sig)
