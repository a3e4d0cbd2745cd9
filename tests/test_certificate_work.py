"""Certificate.judge does bounded work: newest first, per-component caps, one run budget.

Threat model (issue 8 §5): anyone who can append packets to a certificate can add junk
self-signatures, bindings and revocations whose 16-bit hash prefix is right (2**16 hashes
each), so that every one costs a public-key operation to refute. Every test here COUNTS
operations, through the budget's ``spent`` and a counting ``PublicKey.verify``, never
times them. Each rejection test has a twin one signature under the cap that is judged.
"""

from __future__ import annotations

import pytest
from certbuild import (
    AT_TS,
    GOOD_SIGNER,
    K0,
    SIGNED,
    Cert,
    certification,
    key,
    key_revocation,
    signer_cert,
    subkey_revocation,
    uid_packet,
    w,
)

from pgpverify.errors import WorkLimitError
from pgpverify.limits import DEFAULT_LIMITS, Limits, WorkBudget
from pgpverify.openpgp.certificate import Certificate, SigningKey, parse_certificate
from pgpverify.openpgp.keymaterial import PublicKey
from pgpverify.openpgp.packets import iter_packets

CAP = DEFAULT_LIMITS.component_signatures


@pytest.fixture
def verify_calls(monkeypatch):
    """Count every public-key operation, whoever makes it."""
    calls = []
    real = PublicKey.verify

    def counting(self, hash_algo, digest, mpis):
        calls.append(digest)
        return real(self, hash_algo, digest, mpis)

    monkeypatch.setattr(PublicKey, "verify", counting)
    return calls


def junk(signer, sig_type: int, data: bytes, t: int, extra=(), *, prefix: bool = True) -> bytes:
    """A signature whose value is corrupt; its 16-bit hash prefix is right unless ``prefix``."""
    hashed, unhashed = w.default_subpackets(signer, t)
    body = bytearray(
        w.sign(
            signer,
            w.SigSpec(sig_type, w.SHA256, hashed + list(extra), unhashed, corrupt=True),
            data,
        )
    )
    if not prefix:
        hashed_len = int.from_bytes(body[4:6], "big")
        unhashed_len = int.from_bytes(body[6 + hashed_len : 8 + hashed_len], "big")
        body[8 + hashed_len + unhashed_len] ^= 0xFF
    return w.packet(w.TAG_SIGNATURE, bytes(body))


def junk_certifications(primary, uid: bytes, times, *, prefix: bool = True) -> list[bytes]:
    data = primary.frame() + w.uid_frame(uid)
    return [
        junk(primary, w.POSITIVE_CERT, data, t, [w.key_flags(GOOD_SIGNER)], prefix=prefix)
        for t in times
    ]


def parse(cert: Cert):
    return parse_certificate(iter_packets(cert.octets(), max_packets=100_000))


def judge(cert, signer, budget: WorkBudget | None = None):
    signing = SigningKey(
        packet=cert.find_key(signer.fingerprint).packet,
        is_primary=signer.fingerprint == cert.fingerprint,
    )
    found = cert.judge(signing, SIGNED, AT_TS, budget=budget)
    return None if found is None else found.reason


def primary_with_uid_sigs(label: str, *sigs_after: bytes):
    """A primary signing key whose one user ID holds its good self-signature, then ``sigs``."""
    cert, primary, _ = signer_cert(label)
    uid = f"{label} <{label}@example.org>".encode()
    cert.components[1][1].extend(sigs_after)
    return cert, primary, uid


# -- self-signatures --------------------------------------------------------------------------


def test_judge_verifies_only_the_newest_self_signature(verify_calls):
    primary = key("many self-signatures")
    uid = b"many <many@example.org>"
    sigs = [certification(primary, uid, K0 + day * 86400) for day in range(40)]
    cert = parse(Cert(primary).add(primary.packet()).add(uid_packet(uid), *sigs))
    budget = WorkBudget.of(DEFAULT_LIMITS)
    assert judge(cert, primary, budget) is None
    assert budget.spent == 1
    assert len(verify_calls) == 1


def test_judge_never_verifies_junk_older_than_the_newest_self_signature(verify_calls):
    cert, primary, uid = primary_with_uid_sigs("old junk")
    cert.components[1][1][:0] = junk_certifications(primary, uid, range(K0 - 5000, K0))
    budget = WorkBudget.of(DEFAULT_LIMITS)
    assert judge(parse(cert), primary, budget) is None
    assert budget.spent == len(verify_calls) == 1


def test_judge_rejects_newer_junk_self_signatures_over_the_cap(verify_calls):
    cert, primary, uid = primary_with_uid_sigs("newer junk")
    cert.components[1][1].extend(junk_certifications(primary, uid, range(K0 + 1, K0 + 1 + CAP)))
    budget = WorkBudget.of(DEFAULT_LIMITS)
    with pytest.raises(WorkLimitError, match="self-signatures checked on one user ID"):
        judge(parse(cert), primary, budget)
    # the cap, not the 100,000 a flooded key could hold: and never the older good one
    assert budget.spent == len(verify_calls) == CAP


def test_judge_finds_the_self_signature_under_junk_just_below_the_cap(verify_calls):
    cert, primary, uid = primary_with_uid_sigs("junk below cap")
    cert.components[1][1].extend(junk_certifications(primary, uid, range(K0 + 1, K0 + CAP)))
    budget = WorkBudget.of(DEFAULT_LIMITS)
    assert judge(parse(cert), primary, budget) is None
    assert budget.spent == len(verify_calls) == CAP


def test_judge_rejects_junk_that_would_hide_a_newer_expiring_self_signature(verify_calls):
    # The real newest self-signature sets an expiry; junk on another user ID is newer
    # still. Falling back to the old self-signature without expiry would be a false good.
    def flooded(count: int):
        cert, primary, _ = primary_with_uid_sigs(
            "expiry",
            certification(primary_key, b"expiry <expiry@example.org>", K0 + 10, expires=SIGNED - 1),
        )
        dummy = b"Dummy <dummy@example.org>"
        cert.add(
            uid_packet(dummy), *junk_certifications(primary, dummy, range(K0 + 20, K0 + 20 + count))
        )
        return parse(cert)

    primary_key = key("expiry")
    # every junk one checked (the dummy user ID's cap exactly): the expiry is found
    budget = WorkBudget.of(DEFAULT_LIMITS)
    assert judge(flooded(CAP), primary_key, budget) == "key-expired"
    assert budget.spent == CAP + 1
    # one more: the cap stops the search before the expiring one is reached
    with pytest.raises(WorkLimitError, match="self-signatures checked on one user ID"):
        judge(flooded(CAP + 1), primary_key)


def test_judge_does_not_count_junk_without_a_matching_prefix(verify_calls):
    cert, primary, uid = primary_with_uid_sigs("prefix junk")
    cert.components[1][1].extend(
        junk_certifications(primary, uid, range(K0 + 1, K0 + 1 + 10 * CAP), prefix=False)
    )
    budget = WorkBudget.of(DEFAULT_LIMITS)
    assert judge(parse(cert), primary, budget) is None
    assert budget.spent == len(verify_calls) == 1


# -- revocations ------------------------------------------------------------------------------


def revoked_cert(label: str, junk_count: int, *, prefix: bool = True):
    cert, primary, _ = signer_cert(label)
    real = key_revocation(primary, SIGNED + 10)
    fakes = [
        junk(
            primary,
            w.KEY_REVOCATION,
            primary.frame(),
            SIGNED + 100 + i,
            [w.revocation_reason(2)],
            prefix=prefix,
        )
        for i in range(junk_count)
    ]
    cert.components[0][1].extend([real, *fakes])
    return cert, primary


def test_judge_finds_a_revocation_under_junk_revocations_below_the_cap(verify_calls):
    cert, primary = revoked_cert("revoked under junk", CAP - 1)
    budget = WorkBudget.of(DEFAULT_LIMITS)
    assert judge(parse(cert), primary, budget) == "key-revoked"
    assert budget.spent == len(verify_calls) == CAP


def test_judge_rejects_junk_revocations_over_the_cap_never_good(verify_calls):
    cert, primary = revoked_cert("revocation pushed out", CAP)
    budget = WorkBudget.of(DEFAULT_LIMITS)
    with pytest.raises(WorkLimitError, match="key revocations checked on the primary key"):
        judge(parse(cert), primary, budget)
    # revocations come first: no self-signature was verified
    assert budget.spent == len(verify_calls) == CAP


def test_judge_finds_a_revocation_under_any_number_of_prefix_less_junk(verify_calls):
    cert, primary = revoked_cert("revoked under prefix junk", 20 * CAP, prefix=False)
    budget = WorkBudget.of(DEFAULT_LIMITS)
    assert judge(parse(cert), primary, budget) == "key-revoked"
    assert budget.spent == 1


def test_judge_does_not_verify_soft_revocations_made_after_the_signature(verify_calls):
    cert, primary, _ = signer_cert("soft later")
    cert.components[0][1].extend(
        key_revocation(primary, SIGNED + 10 + i, code=3) for i in range(3 * CAP)
    )
    budget = WorkBudget.of(DEFAULT_LIMITS)
    assert judge(parse(cert), primary, budget) is None
    assert budget.spent == 1  # the self-signature only


def test_judge_rejects_junk_subkey_revocations_over_the_cap(verify_calls):
    cert, primary, sub = signer_cert("subkey revocation junk", subkey=True)
    data = primary.frame() + sub.frame()
    fakes = [
        junk(primary, w.SUBKEY_REVOCATION, data, SIGNED + 100 + i, [w.revocation_reason(2)])
        for i in range(CAP)
    ]
    twin = parse(
        Cert(
            primary,
            [
                *cert.components[:2],
                (
                    cert.components[2][0],
                    [*cert.components[2][1], subkey_revocation(primary, sub, SIGNED), *fakes[:-1]],
                ),
            ],
        )
    )
    assert judge(twin, sub) == "key-revoked"
    cert.components[2][1].extend([subkey_revocation(primary, sub, SIGNED), *fakes])
    with pytest.raises(WorkLimitError, match="subkey revocations checked on one subkey"):
        judge(parse(cert), sub)


# -- bindings and back-signatures -------------------------------------------------------------


def test_judge_rejects_newer_junk_bindings_over_the_cap(verify_calls):
    cert, primary, sub = signer_cert("binding junk", subkey=True)
    data = primary.frame() + sub.frame()
    fakes = [
        junk(primary, w.SUBKEY_BINDING, data, K0 + 10 + i, [w.key_flags(w.FLAG_SIGN)])
        for i in range(CAP)
    ]
    head, good = cert.components[2]
    below = parse(Cert(primary, [*cert.components[:2], (head, [*good, *fakes[:-1]])]))
    budget = WorkBudget.of(DEFAULT_LIMITS)
    assert judge(below, sub, budget) is None
    # self-signature, CAP - 1 junk bindings, the good binding, its back-signature
    assert budget.spent == len(verify_calls) == CAP + 2
    over = parse(Cert(primary, [*cert.components[:2], (head, [*good, *fakes])]))
    with pytest.raises(WorkLimitError, match="binding signatures checked on one subkey"):
        judge(over, sub)


def test_judge_rejects_junk_back_signatures_over_the_cap(verify_calls):
    primary, sub = key("backsig junk"), key("backsig junk subkey", K0 + 1)
    data = primary.frame() + sub.frame()
    hashed, unhashed = w.default_subpackets(sub, K0 + 1)
    good_back = w.sign(sub, w.SigSpec(w.PRIMARY_BINDING, w.SHA256, hashed, unhashed), data)

    def bound(count: int):
        backs = [
            w.sign(
                sub,
                w.SigSpec(
                    w.PRIMARY_BINDING,
                    w.SHA256,
                    *w.default_subpackets(sub, K0 + 2 + i),
                    corrupt=True,
                ),
                data,
            )
            for i in range(count)
        ]
        extra = [w.key_flags(w.FLAG_SIGN), *(w.embedded(b) for b in [*backs, good_back])]
        bind = w.packet(
            w.TAG_SIGNATURE,
            w.sign(
                primary,
                w.SigSpec(
                    w.SUBKEY_BINDING,
                    w.SHA256,
                    w.default_subpackets(primary, K0 + 1)[0] + extra,
                    w.default_subpackets(primary, K0 + 1)[1],
                ),
                data,
            ),
        )
        uid = b"backsig <backsig@example.org>"
        return parse(
            Cert(primary)
            .add(primary.packet())
            .add(uid_packet(uid), certification(primary, uid, K0, flags=w.FLAG_CERTIFY))
            .add(sub.packet(subkey=True), bind)
        )

    assert judge(bound(CAP - 1), sub) is None
    with pytest.raises(WorkLimitError, match="back-signatures checked in one binding"):
        judge(bound(CAP), sub)


# -- the run's budget -------------------------------------------------------------------------


def test_judge_rejects_when_the_run_budget_runs_out(verify_calls):
    cert, _, sub = signer_cert("small budget", subkey=True)
    parsed = parse(cert)
    # self-signature, binding, back-signature: three operations
    assert judge(parsed, sub, WorkBudget(limit=3)) is None
    fresh = parse(cert)  # nothing cached
    with pytest.raises(WorkLimitError, match="public-key operations in one verify run"):
        judge(fresh, sub, WorkBudget(limit=2))


def test_judge_pays_nothing_for_results_it_already_has(verify_calls):
    cert, primary, _ = signer_cert("cached")
    parsed = parse(cert)
    assert judge(parsed, primary, WorkBudget(limit=1)) is None
    again = WorkBudget(limit=1)
    assert judge(parsed, primary, again) is None
    assert again.spent == 0
    assert len(verify_calls) == 1


def test_judge_budget_follows_limits(verify_calls):
    cert, primary, uid = primary_with_uid_sigs("custom cap")
    cert.components[1][1].extend(junk_certifications(primary, uid, range(K0 + 1, K0 + 4)))
    tight = WorkBudget.of(Limits(component_signatures=3))
    with pytest.raises(WorkLimitError, match="limit of 3"):
        judge(parse(cert), primary, tight)
    assert tight.spent == 3
    assert judge(parse(cert), primary, WorkBudget.of(Limits(component_signatures=4))) is None


def test_self_signatures_stay_bounded(verify_calls):
    cert, primary, uid = primary_with_uid_sigs("all self-signatures")
    cert.components[1][1].extend(junk_certifications(primary, uid, range(K0 - CAP - 1, K0)))
    with pytest.raises(WorkLimitError):
        parse(cert).self_signatures(AT_TS)
    assert len(verify_calls) == CAP + 1  # the real one, then the cap of forged ones


def test_self_signatures_of_the_key_itself_do_not_use_the_cap(verify_calls):
    # Only forged signatures (prefix right, math wrong) use the cap: a key whose owner
    # extended its expiry 3 * CAP times is judged, and publish can list every one.
    primary = key("many real self-signatures")
    uid = b"many real <many-real@example.org>"
    sigs = [certification(primary, uid, K0 + i) for i in range(3 * CAP)]
    parsed = parse(Cert(primary).add(primary.packet()).add(uid_packet(uid), *sigs))
    assert len(parsed.self_signatures(AT_TS, WorkBudget.of(DEFAULT_LIMITS))) == 3 * CAP
    assert judge(parsed, primary) is None


# -- repeated judgements (64 signatures in one file) --------------------------------------------


def test_judge_cap_counts_cached_results_too(verify_calls):
    # A second signature of the file gets the same verdict as the first, not a walk that
    # goes further because the first one's results are cached.
    cert, primary, uid = primary_with_uid_sigs("cached junk")
    cert.components[1][1].extend(junk_certifications(primary, uid, range(K0 + 1, K0 + 1 + CAP)))
    parsed = parse(cert)
    with pytest.raises(WorkLimitError):
        judge(parsed, primary)
    again = WorkBudget.of(DEFAULT_LIMITS)
    with pytest.raises(WorkLimitError, match="self-signatures checked on one user ID"):
        judge(parsed, primary, again)
    assert again.spent == 0
    assert len(verify_calls) == CAP


def test_judge_drops_prefix_less_junk_from_later_walks(monkeypatch):
    cert, primary, uid = primary_with_uid_sigs("walk once")
    cert.components[1][1].extend(
        junk_certifications(primary, uid, range(K0 + 1, K0 + 1 + 1000), prefix=False)
    )
    parsed = parse(cert)
    visited = []
    real = Certificate._verified

    def counting(self, sig, signer, material, quota):
        visited.append(sig.created)
        return real(self, sig, signer, material, quota)

    monkeypatch.setattr(Certificate, "_verified", counting)
    assert judge(parsed, primary) is None
    assert len(visited) == 1001  # every forged one hashed once, the real one verified
    visited.clear()
    for _ in range(64):
        assert parsed.newest_self_signature(AT_TS) is not None
    assert len(visited) == 64  # then only the real one, once per walk
    visited.clear()
    for _ in range(64):
        assert judge(parsed, primary) is None
    assert visited == []  # and a judgement that reached a decision is not walked again
