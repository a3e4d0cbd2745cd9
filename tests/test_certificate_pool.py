"""CertificatePool: equal certificates from different keyrings judged once, nothing more.

Sharing must never let one certificate's verdict stand for another's: a copy with one
more signature, parsed under other limits, or with a key revocation by another issuer
(whose designated revoker the judging keyring supplies) is judged on its own.
"""

from __future__ import annotations

import pytest
from certbuild import AT_TS, SIGNED, key, key_revocation, sig, signer_cert, w

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
