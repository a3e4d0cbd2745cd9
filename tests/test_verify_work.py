"""Verifier.verify does bounded work: candidates per signature, public-key operations per run.

Threat model (issue 8 §5): whoever can add certificates to a keyring can make thousands of
them share one subkey (a subkey packet is public, and each copy can bind it with a
back-signature the subkey made once), and a signature file may hold 64 signatures. The
caps are tested by COUNTING: certificates decoded and ``PublicKey.verify`` calls. Running
out is always a rejection that names the cap, never a good verdict.
"""

from __future__ import annotations

import pytest
from certbuild import (
    AT,
    DOCUMENT,
    K0,
    SIGNED,
    Cert,
    binding,
    certification,
    document_signature,
    key,
    uid_packet,
    w,
)

from pgpverify import Keyring, Limits, Reason, Verifier
from pgpverify.limits import DEFAULT_LIMITS
from pgpverify.openpgp.keymaterial import PublicKey

CANDIDATES = DEFAULT_LIMITS.candidates


@pytest.fixture
def verify_calls(monkeypatch):
    calls = []
    real = PublicKey.verify

    def counting(self, hash_algo, digest, mpis):
        calls.append(digest)
        return real(self, hash_algo, digest, mpis)

    monkeypatch.setattr(PublicKey, "verify", counting)
    return calls


@pytest.fixture
def decoded(monkeypatch):
    """Primary fingerprints of the certificates the keyring decoded."""
    seen = []
    real = Keyring.certificate

    def counting(self, fingerprint):
        seen.append(fingerprint)
        return real(self, fingerprint)

    monkeypatch.setattr(Keyring, "certificate", counting)
    return seen


SHARED = key("shared subkey", K0 + 1)


def sharing_certificates(count: int) -> bytes:
    """``count`` certificates, each a valid holder of the same signing subkey."""
    out = []
    for i in range(count):
        primary = key(f"holder {i}")
        uid = f"holder {i} <holder{i}@example.org>".encode()
        out.append(
            Cert(primary)
            .add(primary.packet())
            .add(uid_packet(uid), certification(primary, uid, K0, flags=w.FLAG_CERTIFY))
            .add(SHARED.packet(subkey=True), binding(primary, SHARED, K0 + 1))
            .octets()
        )
    return b"".join(out)


def run(tmp_path, ring: bytes, sigs: list[bytes], limits: Limits = DEFAULT_LIMITS):
    doc = tmp_path / "doc.txt"
    doc.write_bytes(DOCUMENT)
    (tmp_path / "doc.txt.asc").write_bytes(b"".join(sigs))
    keyring = Keyring(limits=limits)
    keyring.add_bytes(ring, source="ring")
    return Verifier(keyring, limits=limits).verify(doc, at=AT)


def test_verifier_tries_every_candidate_up_to_the_cap(tmp_path, decoded, verify_calls):
    result = run(tmp_path, sharing_certificates(CANDIDATES), [document_signature(SHARED)])
    assert result.ok, result.message
    assert len(set(decoded)) == CANDIDATES
    # one document check per candidate, then the first good one's self-signature,
    # binding and back-signature (the others need not be judged to say "good")
    assert len(verify_calls) <= CANDIDATES * 4


def test_verifier_rejects_more_candidates_than_the_cap(tmp_path, decoded, verify_calls):
    result = run(tmp_path, sharing_certificates(CANDIDATES + 1), [document_signature(SHARED)])
    assert result.reason is Reason.MALFORMED
    assert f"{CANDIDATES + 1} certificates hold key" in result.message
    assert "work cap" in result.message
    assert decoded == []  # refused before decoding any of them
    assert verify_calls == []


def test_verifier_candidate_cap_follows_limits(tmp_path, decoded):
    limits = Limits(candidates=2)
    ring = sharing_certificates(3)
    assert run(tmp_path, ring, [document_signature(SHARED)], limits).reason is Reason.MALFORMED
    assert decoded == []
    assert run(tmp_path, ring, [document_signature(SHARED)], Limits(candidates=3)).ok


def test_verifier_rejects_when_the_run_budget_runs_out(tmp_path, verify_calls):
    # one candidate: document, self-signature, binding, back-signature = 4 operations
    ring = sharing_certificates(1)
    sig = [document_signature(SHARED)]
    assert run(tmp_path, ring, sig, Limits(public_key_operations=4)).ok
    assert len(verify_calls) == 4
    verify_calls.clear()
    result = run(tmp_path, ring, sig, Limits(public_key_operations=3))
    assert result.reason is Reason.MALFORMED
    assert "work cap reached: public-key operations in one verify run" in result.message
    assert len(verify_calls) == 3


def test_verifier_rejects_when_document_checks_exhaust_the_budget(tmp_path, verify_calls):
    ring = sharing_certificates(1)
    result = run(tmp_path, ring, [document_signature(SHARED)], Limits(public_key_operations=1))
    assert result.reason is Reason.MALFORMED
    assert result.signatures[0].valid_math is True
    assert len(verify_calls) == 1


def test_verifier_bounds_64_signatures_by_a_shared_subkey(tmp_path, verify_calls):
    # 64 signatures x 16 candidates: 1024 document checks wanted, the budget allows 512
    sigs = [document_signature(SHARED, SIGNED + i) for i in range(64)]
    result = run(tmp_path, sharing_certificates(CANDIDATES), sigs)
    assert len(verify_calls) == DEFAULT_LIMITS.public_key_operations
    assert not result.ok
    assert result.reason is Reason.MALFORMED
    assert "work cap" in result.message


def key_id_only_signature() -> bytes:
    spec = w.SigSpec(w.BINARY, w.SHA256, [w.created(SIGNED)], [w.issuer(SHARED)])
    return w.packet(w.TAG_SIGNATURE, w.sign(SHARED, spec, DOCUMENT))


def test_verifier_rejects_more_candidates_than_the_cap_by_key_id(tmp_path, decoded):
    # no issuer fingerprint: the holders of the key ID count, before any is decoded
    over = run(tmp_path, sharing_certificates(CANDIDATES + 1), [key_id_only_signature()])
    assert over.reason is Reason.MALFORMED
    assert "work cap" in over.message
    assert decoded == []
    assert run(tmp_path, sharing_certificates(CANDIDATES), [key_id_only_signature()]).ok


def test_verifier_rejects_when_decoding_would_pass_the_packet_cap(tmp_path, decoded):
    # 16 holders of 5 packets each (primary, user ID, self-signature, subkey, binding)
    ring = sharing_certificates(CANDIDATES)
    sig = [document_signature(SHARED)]
    over = run(tmp_path, ring, sig, Limits(decoded_packets=5 * CANDIDATES - 1))
    assert over.reason is Reason.MALFORMED
    assert "packets of the certificates decoded in one verify run" in over.message
    assert decoded == []  # counted before any is decoded
    assert run(tmp_path, ring, sig, Limits(decoded_packets=5 * CANDIDATES)).ok


def test_verifier_pays_once_for_a_certificate_several_signatures_share(tmp_path):
    ring = sharing_certificates(1)
    sigs = [document_signature(SHARED, SIGNED + i) for i in range(3)]
    assert run(tmp_path, ring, sigs, Limits(decoded_packets=5)).ok


def _revoked_and_good() -> tuple[bytes, list[bytes]]:
    """A revoked signer and a good one (judging each costs one operation), a signature each."""
    from certbuild import key_revocation, signer_cert

    revoked, revoked_key, _ = signer_cert("budget order revoked")
    revoked.components[0][1].append(key_revocation(revoked_key, K0 + 1))
    good, good_key, _ = signer_cert("budget order good")
    return (
        revoked.octets() + good.octets(),
        [document_signature(revoked_key), document_signature(good_key)],
    )


@pytest.mark.parametrize("operations", [1, 2, 3, 4, 5])
def test_verifier_verdict_under_a_tight_budget_is_independent_of_signature_order(
    tmp_path, operations
):
    # The run budget is shared by the signatures of a file: whichever is processed first
    # gets it. They are processed in an order of their octets, never of their place in the
    # file, so the verdict (good or not, and the reason) is the same in either order.
    ring, sigs = _revoked_and_good()
    limits = Limits(public_key_operations=operations)
    one = run(tmp_path, ring, sigs, limits)
    other = run(tmp_path, ring, sigs[::-1], limits)
    assert (one.reason, one.message) == (other.reason, other.message)
    assert run(tmp_path, ring, sigs, Limits(public_key_operations=4)).ok  # enough for both
