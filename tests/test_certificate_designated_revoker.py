"""A key revocation by a designated revoker counts (RFC 9580 §5.2.3.23, as GnuPG does).

A key's owner may name another key, in a direct-key signature, as allowed to revoke it:
the way to revoke a key whose secret is lost. Such a revocation used to be ignored (its
issuer is not the primary key), so the lost key kept signing. Now, when the revoker's
certificate is in the keyrings and its math holds, the key is revoked. Twins: no
designation, the revoker's certificate missing, a forged revocation, a soft one made after
the signature.
"""

from __future__ import annotations

import pytest
from certbuild import (
    AT,
    AT_TS,
    DOCUMENT,
    K0,
    SIGNED,
    Cert,
    certification,
    document_signature,
    key,
    uid_packet,
    w,
)
from certbuild import sig as make_sig

from pgpverify import Keyring, Reason, Verifier

DAY = 86400


def designation(revoker) -> w.Sub:
    return w.Sub(12, bytes([0x80, revoker.algo]) + revoker.fingerprint)


def certs(
    label: str,
    *,
    designate: bool = True,
    code: int = 2,
    when: int = SIGNED - DAY,
    corrupt: bool = False,
):
    victim, revoker = key(label), key(label + " revoker")
    extra = [designation(revoker)] if designate else []
    hashed, unhashed = w.default_subpackets(revoker, when)
    spec = w.SigSpec(
        w.KEY_REVOCATION, w.SHA256, [*hashed, w.revocation_reason(code)], unhashed, corrupt=corrupt
    )
    revocation = w.packet(w.TAG_SIGNATURE, w.sign(revoker, spec, victim.frame()))
    uid = f"{label} <victim@example.org>".encode()
    victim_cert = (
        Cert(victim)
        .add(
            victim.packet(),
            make_sig(victim, w.DIRECT_KEY, victim.frame(), K0 + DAY, extra),
            revocation,
        )
        .add(uid_packet(uid), certification(victim, uid, K0))
    )
    ruid = f"{label} revoker <revoker@example.org>".encode()
    revoker_cert = (
        Cert(revoker).add(revoker.packet()).add(uid_packet(ruid), certification(revoker, ruid, K0))
    )
    return victim, victim_cert.octets(), revoker_cert.octets()


def verify(tmp_path, victim, *rings: bytes):
    doc = tmp_path / "doc"
    doc.write_bytes(DOCUMENT)
    (tmp_path / "doc.asc").write_bytes(document_signature(victim))
    keyring = Keyring()
    for i, ring in enumerate(rings):
        keyring.add_bytes(ring, source=f"ring {i}")
    return Verifier(keyring).verify(doc, at=AT)


@pytest.mark.parametrize("order", ["victim first", "revoker first"])
def test_verifier_rejects_a_key_revoked_by_its_designated_revoker(tmp_path, order):
    victim, victim_ring, revoker_ring = certs("designated")
    rings = (victim_ring, revoker_ring) if order == "victim first" else (revoker_ring, victim_ring)
    result = verify(tmp_path, victim, *rings)
    assert result.reason is Reason.KEY_REVOKED
    assert "revoked by its designated revoker" in result.message
    assert "(compromised)" in result.message


def test_verifier_ignores_a_revocation_by_a_key_not_designated(tmp_path):
    victim, victim_ring, revoker_ring = certs("not designated", designate=False)
    assert verify(tmp_path, victim, victim_ring, revoker_ring).ok


def test_verifier_ignores_a_designated_revocation_it_cannot_check(tmp_path):
    # The revoker's certificate is not in the keyrings: nothing to verify it with.
    victim, victim_ring, _ = certs("revoker missing")
    assert verify(tmp_path, victim, victim_ring).ok


def test_verifier_ignores_a_forged_designated_revocation(tmp_path):
    victim, victim_ring, revoker_ring = certs("designated forged", corrupt=True)
    assert verify(tmp_path, victim, victim_ring, revoker_ring).ok


@pytest.mark.parametrize(("when", "revoked"), [(SIGNED - DAY, True), (SIGNED + DAY, False)])
def test_verifier_designated_soft_revocation_spares_earlier_signatures(tmp_path, when, revoked):
    victim, victim_ring, revoker_ring = certs(f"designated soft {when}", code=1, when=when)
    result = verify(tmp_path, victim, victim_ring, revoker_ring)
    assert (result.reason is Reason.KEY_REVOKED) is revoked
    assert result.ok is not revoked


def test_judge_rejects_forged_designated_revocations_over_the_cap():
    # Each forged revocation by the designated revoker costs an operation: over the
    # per-component cap the judgement stops (a rejection); at the cap it is judged.
    from pgpverify.errors import WorkLimitError
    from pgpverify.limits import DEFAULT_LIMITS, WorkBudget
    from pgpverify.openpgp.certificate import SigningKey, parse_certificate
    from pgpverify.openpgp.keymaterial import parse_key_packet
    from pgpverify.openpgp.packets import iter_packets

    cap = DEFAULT_LIMITS.component_signatures
    victim, revoker = key("designated flood"), key("designated flood revoker")
    revoker_packet = parse_key_packet(revoker.body)

    def judged(count: int):
        forged = []
        for i in range(count):
            hashed, unhashed = w.default_subpackets(revoker, SIGNED - DAY - i)
            spec = w.SigSpec(
                w.KEY_REVOCATION,
                w.SHA256,
                [*hashed, w.revocation_reason(2)],
                unhashed,
                corrupt=True,
            )
            forged.append(w.packet(w.TAG_SIGNATURE, w.sign(revoker, spec, victim.frame())))
        uid = b"flood <flood@example.org>"
        cert = (
            Cert(victim)
            .add(
                victim.packet(),
                make_sig(victim, w.DIRECT_KEY, victim.frame(), K0 + DAY, [designation(revoker)]),
                *forged,
            )
            .add(uid_packet(uid), certification(victim, uid, K0))
        )
        parsed = parse_certificate(iter_packets(cert.octets(), max_packets=1000))
        budget = WorkBudget.of(DEFAULT_LIMITS)
        found = parsed.judge(
            SigningKey(packet=parsed.primary.packet, is_primary=True),
            SIGNED,
            AT_TS,
            budget=budget,
            revokers=lambda _fpr: revoker_packet,
        )
        return found, budget.spent

    with pytest.raises(WorkLimitError, match="designated revokers"):
        judged(cap + 1)
    assert judged(cap) == (None, cap + 2)  # the direct-key and user ID self-signatures
