"""Certificate.judge: the order of its rules follows the README's policy table.

Revocations first, then creation times (before the self-signature search, which ignores
self-signatures made after the reference time: a key from the future is not "unsigned"),
then self-signatures, bindings and flags, then expiry. Each rejection is derived from a
good certificate by moving one time or adding one signature, and has a good twin.
"""

import pytest
from certbuild import (
    AT_TS,
    K0,
    SIGNED,
    Cert,
    binding,
    certification,
    key,
    key_revocation,
    subkey_revocation,
    uid_packet,
    w,
)

from pgpverify.openpgp.certificate import SigningKey, parse_certificate
from pgpverify.openpgp.packets import iter_packets

DAY = 86400
LATER = AT_TS + 30 * DAY  # after the reference time


def build(label, *, created=K0, sub_created=None, revoked=None, sub_revoked=None):
    """A certificate (primary created at ``created``; a signing subkey if ``sub_created``)."""
    primary = key(label, created)
    uid = f"{label} <{label}@example.org>".encode()
    flags = w.FLAG_CERTIFY if sub_created is not None else w.FLAG_CERTIFY | w.FLAG_SIGN
    cert = Cert(primary).add(
        primary.packet(), *([] if revoked is None else [key_revocation(primary, *revoked)])
    )
    cert.add(uid_packet(uid), certification(primary, uid, created, flags=flags))
    sub = None
    if sub_created is not None:
        sub = key(label + " subkey", sub_created)
        sigs = [binding(primary, sub, sub_created)]
        if sub_revoked is not None:
            sigs.append(subkey_revocation(primary, sub, *sub_revoked))
        cert.add(sub.packet(subkey=True), *sigs)
    parsed = parse_certificate(iter_packets(cert.octets(), max_packets=100))
    signer = sub if sub is not None else primary
    signing = SigningKey(packet=parsed.find_key(signer.fingerprint).packet, is_primary=sub is None)
    return parsed, signing


def verdict(label, signed=SIGNED, at=AT_TS, **kw):
    cert, signing = build(label, **kw)
    found = cert.judge(signing, signed, at)
    return None if found is None else (found.reason, found.message)


def test_judge_good_twins():
    assert verdict("good") is None
    assert verdict("good subkey", sub_created=K0 + 1) is None
    assert (
        verdict("future judged later", created=LATER, signed=LATER + DAY, at=LATER + 2 * DAY)
        is None
    )


def test_judge_rejects_a_primary_created_after_the_reference_time():
    # Its only self-signature is after the reference time too: the old order said
    # "the primary key has no valid self-signature" (not-signing-key).
    reason, message = verdict("future", created=LATER, signed=LATER + DAY)
    assert reason == "key-not-yet-valid"
    assert "primary key was created at" in message
    assert "after the reference time" in message


def test_judge_rejects_a_subkey_created_after_the_reference_time():
    reason, message = verdict("future subkey", sub_created=LATER, signed=LATER + DAY)
    assert reason == "key-not-yet-valid"
    assert "signing subkey was created at" in message


@pytest.mark.parametrize("which", ["primary", "subkey"])
def test_judge_rejects_a_signature_made_before_the_key(which):
    created = SIGNED + DAY
    kw = {"created": created} if which == "primary" else {"sub_created": created}
    reason, message = verdict(f"made before {which}", **kw)
    assert reason == "key-not-yet-valid"
    assert "made before the" in message


def test_judge_rejects_a_signature_after_the_reference_time():
    reason, message = verdict("signed later", signed=AT_TS + 1)
    assert reason == "key-not-yet-valid"
    assert "after the reference time" in message


@pytest.mark.parametrize("which", ["primary", "subkey"])
def test_judge_rejects_a_revoked_key_before_judging_creation_times(which):
    # A hard revocation made by the reference time comes first in the table.
    rev = (SIGNED + 2 * DAY, 2)
    if which == "primary":
        reason, _ = verdict("revoked and early", created=SIGNED + DAY, revoked=rev)
    else:
        reason, _ = verdict("revoked subkey and early", sub_created=SIGNED + DAY, sub_revoked=rev)
    assert reason == "key-revoked"


@pytest.mark.parametrize(("code", "expected"), [(32, "key-revoked"), (3, None), (1, None)])
@pytest.mark.parametrize("which", ["primary", "subkey"])
def test_judge_rejects_reason_32_on_a_key_revocation_as_hard(code, expected, which):
    # Reason 32 (user ID no longer valid) means nothing for a key: hard, like an unknown
    # reason; its twins, superseded and retired, spare a signature made before them.
    rev = (SIGNED + DAY, code)
    if which == "primary":
        found = verdict(f"reason {code}", revoked=rev)
    else:
        found = verdict(f"subkey reason {code}", sub_created=K0 + 1, sub_revoked=rev)
    assert (None if found is None else found[0]) == expected
    if found is not None:
        assert "user ID no longer valid" in found[1]


@pytest.mark.parametrize("subkey", [False, True])
def test_judge_remembers_bindings_but_judges_each_signing_time(subkey):
    # A soft revocation (superseded) spares signatures made before it: the judgement of
    # the bindings at AT_TS is remembered, the revocation and the creation times are not.
    superseded = (SIGNED + DAY, 1)
    kw = {"sub_created": K0 + 1, "sub_revoked": superseded} if subkey else {"revoked": superseded}
    cert, signing = build(f"memo {subkey}", **kw)
    for _ in range(2):
        assert cert.judge(signing, SIGNED, AT_TS) is None
        revoked = cert.judge(signing, SIGNED + 2 * DAY, AT_TS)
        assert revoked is not None
        assert revoked.reason == "key-revoked"
        early = cert.judge(signing, K0 - 1, AT_TS)
        assert early is not None
        assert early.reason == "key-not-yet-valid"
