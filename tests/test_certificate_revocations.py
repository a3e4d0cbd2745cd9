"""Key and subkey revocations count whatever a strict parser would hold against them.

A revocation (0x20, 0x28) only ever rejects, so ignoring one is never the conservative
choice: one that carries an unknown critical subpacket or a critical notation (a defect
that makes a self-signature unacceptable), or whose own signature expiration time has
passed (GnuPG ignores it too), still revokes. Its math is still checked: a forged one
revokes nothing. Each rejection has that forged twin.
"""

from __future__ import annotations

import pytest
from certbuild import AT_TS, K0, SIGNED, Cert, certification, key, uid_packet, w

from pgpverify.openpgp.certificate import SigningKey, parse_certificate
from pgpverify.openpgp.packets import iter_packets

DAY = 86400
UID = b"revocations <rev@example.org>"

EXTRAS = {
    "unknown critical subpacket": [w.Sub(100, b"\x01", True)],
    "critical notation": [w.notation(b"test@example.org", b"x", critical=True)],
    "expired revocation": [w.sig_expires(DAY)],
}


def revocation(primary, sub, t: int, extra, *, corrupt: bool = False) -> bytes:
    hashed, unhashed = w.default_subpackets(primary, t)
    hashed += [w.revocation_reason(2), *extra]
    kind = w.KEY_REVOCATION if sub is None else w.SUBKEY_REVOCATION
    data = primary.frame() + (b"" if sub is None else sub.frame())
    return w.packet(
        w.TAG_SIGNATURE,
        w.sign(primary, w.SigSpec(kind, w.SHA256, hashed, unhashed, corrupt=corrupt), data),
    )


def judge(label: str, extra, *, which: str, corrupt: bool = False):
    primary = key(label)
    flags = w.FLAG_CERTIFY if which == "subkey" else w.FLAG_CERTIFY | w.FLAG_SIGN
    cert = Cert(primary)
    sub = None
    rev_t = SIGNED - DAY
    if which == "primary":
        cert.add(primary.packet(), revocation(primary, None, rev_t, extra, corrupt=corrupt))
    else:
        cert.add(primary.packet())
    cert.add(uid_packet(UID), certification(primary, UID, K0, flags=flags))
    if which == "subkey":
        from certbuild import binding

        sub = key(label + " subkey", K0 + 1)
        cert.add(
            sub.packet(subkey=True),
            binding(primary, sub, K0 + 1),
            revocation(primary, sub, rev_t, extra, corrupt=corrupt),
        )
    parsed = parse_certificate(iter_packets(cert.octets(), max_packets=100))
    signer = primary if sub is None else sub
    signing = SigningKey(packet=parsed.find_key(signer.fingerprint).packet, is_primary=sub is None)
    found = parsed.judge(signing, SIGNED, AT_TS)
    return None if found is None else found.reason


@pytest.mark.parametrize("which", ["primary", "subkey"])
@pytest.mark.parametrize("defect", sorted(EXTRAS))
def test_judge_rejects_a_revocation_with_a_defect_or_past_its_expiry(which, defect):
    assert judge(f"rev {defect} {which}", EXTRAS[defect], which=which) == "key-revoked"


@pytest.mark.parametrize("which", ["primary", "subkey"])
@pytest.mark.parametrize("defect", sorted(EXTRAS))
def test_judge_forged_twin_of_a_revocation_with_a_defect_revokes_nothing(which, defect):
    assert judge(f"rev {defect} {which}", EXTRAS[defect], which=which, corrupt=True) is None


def _junk_unhashed(packet: bytes, junk: bytes) -> bytes:
    """``packet`` (a framed v4 signature) with its unhashed area replaced by ``junk``."""
    from pgpverify.openpgp.packets import iter_packets as frame

    [pkt] = frame(packet, max_packets=1)
    body = pkt.body
    hashed_end = 6 + int.from_bytes(body[4:6], "big")
    rest = hashed_end + 2 + int.from_bytes(body[hashed_end : hashed_end + 2], "big")
    return w.packet(
        w.TAG_SIGNATURE, body[:hashed_end] + len(junk).to_bytes(2, "big") + junk + body[rest:]
    )


UNHASHED_JUNK = {
    "too many subpackets": b"\x02\x64\x00" * 600,
    "malformed issuer key ID": b"\x04\x10abc",
    "truncated subpacket": b"\x09\x10abc",
}


@pytest.mark.parametrize("which", ["primary", "subkey"])
@pytest.mark.parametrize("junk", sorted(UNHASHED_JUNK))
def test_judge_rejects_a_revocation_whose_unhashed_area_is_junk(which, junk, monkeypatch):
    # Anyone can rewrite the unhashed area without breaking the math: a real revocation
    # with junk there still revokes, and its forged twin with the same junk does not.
    real = revocation

    def stuffed(*args, **kwargs):
        return _junk_unhashed(real(*args, **kwargs), UNHASHED_JUNK[junk])

    monkeypatch.setitem(globals(), "revocation", stuffed)
    assert judge(f"rev junk {junk} {which}", [], which=which) == "key-revoked"
    assert judge(f"rev junk {junk} {which}", [], which=which, corrupt=True) is None
