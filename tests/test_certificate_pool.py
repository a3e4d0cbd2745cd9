"""CertificatePool: equal certificates from different keyrings judged once, nothing more.

Sharing must never let one certificate's verdict stand for another's: a copy with one
more signature, parsed under other limits, or with a key revocation by another issuer
(whose designated revoker the judging keyring supplies) is judged on its own.
"""

from __future__ import annotations

import pytest
from certbuild import (
    AT,
    AT_TS,
    DOCUMENT,
    SIGNED,
    document_signature,
    key,
    key_revocation,
    sig,
    signer_cert,
    w,
)

from pgpverify import Keyring, Limits, Reason, Verifier
from pgpverify.limits import WorkBudget
from pgpverify.openpgp.certificate import CertificatePool, SigningKey, parse_certificate
from pgpverify.openpgp.keymaterial import PublicKey
from pgpverify.openpgp.packets import iter_packets

LIMITS = {"subpackets": 512, "nesting": 2}


@pytest.fixture
def verify_calls(monkeypatch):
    calls = []
    real = PublicKey.verify

    def counting(self, hash_algo, digest, mpis):
        calls.append(digest)
        return real(self, hash_algo, digest, mpis)

    monkeypatch.setattr(PublicKey, "verify", counting)
    return calls


def parse(octets: bytes):
    return parse_certificate(iter_packets(octets, max_packets=1000))


def judge(cert, signer, budget=None):
    signing = SigningKey(
        packet=cert.find_key(signer.fingerprint).packet,
        is_primary=signer.fingerprint == cert.fingerprint,
    )
    found = cert.judge(signing, SIGNED, AT_TS, budget=budget)
    return None if found is None else found.reason


def test_certificate_pool_judges_equal_copies_once(verify_calls):
    cert, _, sub = signer_cert("pooled", subkey=True)
    pool = CertificatePool()
    first = pool.shared(parse(cert.octets()), **LIMITS)
    assert judge(first, sub) is None
    assert len(verify_calls) == 3  # self-signature, binding, back-signature
    copy = parse(cert.octets())
    shared = pool.shared(copy, **LIMITS)
    assert shared is first
    assert pool.shared(copy, **LIMITS) is first  # by identity the second time
    budget = WorkBudget(limit=1)
    assert judge(shared, sub, budget) is None
    assert budget.spent == 0
    assert len(verify_calls) == 3


def test_certificate_pool_rejects_sharing_a_copy_with_one_more_signature(verify_calls):
    cert, primary, _ = signer_cert("revoked later")
    pool = CertificatePool()
    good = pool.shared(parse(cert.octets()), **LIMITS)
    assert judge(good, primary) is None
    cert.components[0][1].append(key_revocation(primary, SIGNED - 1))
    revoked = pool.shared(parse(cert.octets()), **LIMITS)
    assert revoked is not good
    assert judge(revoked, primary) == "key-revoked"
    assert judge(pool.shared(good, **LIMITS), primary) is None


def test_certificate_pool_rejects_sharing_across_parse_limits():
    cert, _, _ = signer_cert("limits")
    pool = CertificatePool()
    first = pool.shared(parse(cert.octets()), **LIMITS)
    other = parse(cert.octets())
    assert pool.shared(other, subpackets=16, nesting=2) is other
    assert pool.shared(parse(cert.octets()), subpackets=512, nesting=1) is not first


def test_certificate_pool_rejects_sharing_a_certificate_revoked_by_another_issuer():
    # A key revocation by another key counts only if a designated revoker made it, and
    # the revoker's key comes from the keyring judging the certificate.
    cert, primary, _ = signer_cert("designated")
    stranger = key("stranger")
    foreign = sig(stranger, w.KEY_REVOCATION, primary.frame(), SIGNED - 1, [w.revocation_reason(2)])
    cert.components[0][1].append(foreign)
    pool = CertificatePool()
    first = parse(cert.octets())
    assert pool.shared(first, **LIMITS) is first
    second = parse(cert.octets())
    assert pool.shared(second, **LIMITS) is second


def test_certificate_pool_keeps_at_most_its_size():
    pool = CertificatePool(size=1)
    one, _, _ = signer_cert("one")
    two, _, _ = signer_cert("two")
    first = pool.shared(parse(one.octets()), **LIMITS)
    pool.shared(parse(two.octets()), **LIMITS)
    again = parse(one.octets())
    assert pool.shared(again, **LIMITS) is again  # the first was dropped
    assert again is not first


@pytest.mark.parametrize("size", [0, -1])
def test_certificate_pool_rejects_an_empty_size(size):
    with pytest.raises(ValueError, match="at least one"):
        CertificatePool(size=size)


# -- through keyrings and verifiers (a check run: one keyring per project) --------------------


def _ring(octets: bytes, limits: Limits | None = None) -> Keyring:
    ring = Keyring() if limits is None else Keyring(limits=limits)
    ring.add_bytes(octets, source="ring")
    return ring


def test_certificate_pool_keyrings_parse_equal_copies_once(verify_calls):
    cert, primary, _ = signer_cert("two projects")
    pool = CertificatePool()
    first = _ring(cert.octets()).certificate(primary.fingerprint, pool=pool)
    second = _ring(cert.octets()).certificate(primary.fingerprint, pool=pool)
    assert first is not None
    assert second is first
    alone = _ring(cert.octets()).certificate(primary.fingerprint)
    assert alone is not first  # no pool, no sharing


def test_certificate_pool_verifiers_of_two_keyrings_judge_the_certificate_once(
    tmp_path, verify_calls
):
    cert, primary, _ = signer_cert("two verifiers")
    (tmp_path / "doc").write_bytes(DOCUMENT)
    (tmp_path / "doc.asc").write_bytes(document_signature(primary))
    pool = CertificatePool()
    for expected_calls in (2, 3):  # the document and the self-signature, then the document
        verifier = Verifier(_ring(cert.octets()), certificates=pool)
        assert verifier.verify(tmp_path / "doc", at=AT).ok
        assert len(verify_calls) == expected_calls


def test_certificate_pool_rejects_sharing_with_a_keyring_holding_a_revocation(tmp_path):
    # The same certificate, and in the second keyring a revocation certificate next to it:
    # other octets, its own verdict.
    cert, primary, _ = signer_cert("revoked in one keyring")
    (tmp_path / "doc").write_bytes(DOCUMENT)
    (tmp_path / "doc.asc").write_bytes(document_signature(primary))
    pool = CertificatePool()
    good = Verifier(_ring(cert.octets()), certificates=pool).verify(tmp_path / "doc", at=AT)
    revocation = w.armor("SIGNATURE", key_revocation(primary, SIGNED - 1))
    revoked_ring = _ring(w.armor("PUBLIC KEY BLOCK", cert.octets()) + revocation)
    revoked = Verifier(revoked_ring, certificates=pool).verify(tmp_path / "doc", at=AT)
    assert good.ok
    assert revoked.reason is Reason.KEY_REVOKED
    again = Verifier(_ring(cert.octets()), certificates=pool).verify(tmp_path / "doc", at=AT)
    assert again.ok


def test_certificate_pool_rejects_sharing_across_keyring_limits():
    cert, primary, _ = signer_cert("keyring limits")
    pool = CertificatePool()
    first = _ring(cert.octets()).certificate(primary.fingerprint, pool=pool)
    tight = Limits(subpackets=16)
    other = _ring(cert.octets(), tight).certificate(primary.fingerprint, pool=pool)
    assert other is not None
    assert other is not first
