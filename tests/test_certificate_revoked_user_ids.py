"""Certification revocations (0x30): a revoked user ID's self-signatures no longer count.

RFC 9580 §5.2.1.15; GnuPG's merge_selfsigs_main picks, per user ID, the newest valid
self-certification *or* certification revocation by the primary key, and a user ID whose
pick is a revocation is revoked: its self-signatures give the key neither flags, nor an
expiry, nor validity. Before this rule a revoked user ID's self-signature still chose the
key's flags, so a key whose owner revoked the user ID that allowed signing still signed.

Conservative where GnuPG is not: a revocation and a self-certification made in the same
second count as "revoked" whatever their order (GnuPG takes the later one in the file),
and a key whose every user ID is revoked has no valid self-signature (GnuPG would fall
back to the algorithm's usage). Each rejection has a good twin derived from it.
"""

from __future__ import annotations

import itertools

import pytest
from certbuild import (
    AT_TS,
    K0,
    SIGNED,
    Cert,
    certification,
    key,
    uid_packet,
    w,
)

from pgpverify.errors import WorkLimitError
from pgpverify.limits import DEFAULT_LIMITS, WorkBudget
from pgpverify.openpgp.certificate import SigningKey, parse_certificate
from pgpverify.openpgp.packets import iter_packets

DAY = 86400
CERT_REVOCATION = 0x30
CAP = DEFAULT_LIMITS.component_signatures


def uid_revocation(
    signer, primary, uid: bytes, t: int, *, code: int = 32, corrupt: bool = False
) -> bytes:
    """A certification revocation (0x30) of ``uid`` on ``primary``'s key, by ``signer``."""
    hashed, unhashed = w.default_subpackets(signer, t)
    hashed.append(w.revocation_reason(code, b"test: user ID revoked"))
    spec = w.SigSpec(CERT_REVOCATION, w.SHA256, hashed, unhashed, corrupt=corrupt)
    return w.packet(w.TAG_SIGNATURE, w.sign(signer, spec, primary.frame() + w.uid_frame(uid)))


def two_user_ids(
    label: str,
    *,
    revoke_at: int | None = None,
    recertify_at: int | None = None,
    extra: tuple[bytes, ...] = (),
):
    """Primary with user ID A (certify only, old) and B (sign allowed, newer, maybe revoked)."""
    primary = key(label)
    a, b = b"A <a@example.org>", b"B <b@example.org>"
    b_sigs = [certification(primary, b, K0 + DAY)]
    if revoke_at is not None:
        b_sigs.append(uid_revocation(primary, primary, b, revoke_at))
    if recertify_at is not None:
        b_sigs.append(certification(primary, b, recertify_at))
    cert = Cert(primary).add(primary.packet())
    cert.add(uid_packet(a), certification(primary, a, K0, flags=w.FLAG_CERTIFY))
    cert.add(uid_packet(b), *b_sigs, *extra)
    return cert, primary


def one_user_id(label: str, *sigs_after) -> tuple[Cert, object, bytes]:
    primary = key(label)
    uid = f"{label} <{label}@example.org>".encode()
    cert = Cert(primary).add(primary.packet())
    cert.add(uid_packet(uid), certification(primary, uid, K0), *sigs_after)
    return cert, primary, uid


def judge(cert: Cert, *, at: int = AT_TS, budget: WorkBudget | None = None):
    parsed = parse_certificate(iter_packets(cert.octets(), max_packets=10_000))
    signing = SigningKey(packet=parsed.primary.packet, is_primary=True)
    found = parsed.judge(signing, SIGNED, at, budget=budget)
    return None if found is None else (found.reason, found.message)


def test_judge_revoked_user_id_twins_are_good():
    assert judge(two_user_ids("uidrev twin")[0]) is None
    assert judge(one_user_id("uidrev one twin")[0]) is None


def test_judge_rejects_signing_flags_from_a_revoked_user_id():
    # B's newer self-signature allowed signing; B is revoked, so A's (certify only) counts.
    cert, _ = two_user_ids("uidrev flags", revoke_at=K0 + 2 * DAY)
    reason, message = judge(cert)
    assert reason == "not-signing-key"
    assert "flags do not allow signing" in message


def test_judge_rejects_a_key_whose_only_user_id_is_revoked():
    cert, primary, uid = one_user_id("uidrev only")
    cert.components[1][1].append(uid_revocation(primary, primary, uid, K0 + DAY))
    reason, message = judge(cert)
    assert reason == "not-signing-key"
    assert "outside its 1 revoked user ID(s)" in message


def test_judge_user_id_certified_again_after_its_revocation_counts():
    # GnuPG: "hired, fired, hired again": a newer self-certification un-revokes it.
    cert, _ = two_user_ids("uidrev again", revoke_at=K0 + 2 * DAY, recertify_at=K0 + 3 * DAY)
    assert judge(cert) is None


def test_judge_ignores_a_user_id_revocation_made_after_the_reference_time():
    cert, _ = two_user_ids("uidrev later", revoke_at=AT_TS + DAY)
    assert judge(cert) is None
    assert judge(cert, at=AT_TS + 2 * DAY)[0] == "not-signing-key"


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_judge_rejects_a_revocation_in_the_same_second_whatever_the_order(order):
    # The revocation and a self-certification made in one second: revoked, in any order.
    cert, primary = two_user_ids("uidrev tie")
    b = b"B <b@example.org>"
    t = K0 + 2 * DAY
    sigs = [
        certification(primary, b, K0 + DAY),
        uid_revocation(primary, primary, b, t),
        certification(primary, b, t),
    ]
    cert.components[2] = (cert.components[2][0], [sigs[i] for i in order])
    assert judge(cert)[0] == "not-signing-key"


def test_judge_ignores_a_forged_user_id_revocation():
    primary = key("uidrev forged")
    b = b"B <b@example.org>"
    forged = uid_revocation(primary, primary, b, K0 + 2 * DAY, corrupt=True)
    cert, _ = two_user_ids("uidrev forged", extra=(forged,))
    assert judge(cert) is None


def test_judge_ignores_a_user_id_revocation_by_another_key():
    # A third party's 0x30 revokes only its own certification, never a self-signature.
    other = key("uidrev third party")
    victim = key("uidrev third-party victim")
    b = b"B <b@example.org>"
    theirs = uid_revocation(other, victim, b, K0 + 2 * DAY)
    cert, _ = two_user_ids("uidrev third-party victim", extra=(theirs,))
    assert judge(cert) is None


def test_judge_revocation_of_one_user_id_leaves_the_others():
    # A (older, sign allowed) stays; B (newer, certify only) is revoked: A's flags count.
    primary = key("uidrev other uid")
    a, b = b"A <a@example.org>", b"B <b@example.org>"
    cert = Cert(primary).add(primary.packet())
    cert.add(uid_packet(a), certification(primary, a, K0))
    cert.add(uid_packet(b), certification(primary, b, K0 + DAY, flags=w.FLAG_CERTIFY))
    assert judge(cert)[0] == "not-signing-key"  # the twin: B not revoked, B's flags count
    cert.components[2][1].append(uid_revocation(primary, primary, b, K0 + 2 * DAY))
    assert judge(cert) is None


def test_judge_rejects_forged_user_id_revocations_over_the_cap():
    # Forged revocations newer than the self-signature each cost an operation: over the
    # per-component cap the judgement stops (a rejection), one under it is judged.
    primary = key("uidrev flood")
    uid = b"uidrev flood <f@example.org>"

    def flood(n: int) -> Cert:
        forged = [
            uid_revocation(primary, primary, uid, K0 + DAY + i, corrupt=True) for i in range(n)
        ]
        cert = Cert(primary).add(primary.packet())
        return cert.add(uid_packet(uid), certification(primary, uid, K0), *forged)

    with pytest.raises(WorkLimitError, match="certification revocations"):
        judge(flood(CAP + 1), budget=WorkBudget.of(DEFAULT_LIMITS))
    budget = WorkBudget.of(DEFAULT_LIMITS)
    assert judge(flood(CAP), budget=budget) is None
    assert budget.spent == CAP + 1


def test_self_signatures_leave_out_a_revoked_user_id():
    cert, _ = two_user_ids("uidrev list", revoke_at=K0 + 2 * DAY)
    parsed = parse_certificate(iter_packets(cert.octets(), max_packets=100))
    found = parsed.self_signatures(AT_TS)
    assert [s.created for s in found] == [K0]
