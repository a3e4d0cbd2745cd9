"""A direct-key signature (0x1F) binds the primary key beside its user ID self-signatures.

Before, only the newest self-signature of either kind counted, so a newer user ID
self-signature lifted what an older direct-key signature said: gpgv answers "Wrong key
usage" for a primary whose direct-key signature allows only certification, and sqv
"expired" for one whose direct-key signature set an expiry, where pgpverify said good.
Now the newest valid direct-key signature and the newest valid user ID self-signature
each apply their key flags and expiry (the stricter wins). Each rejection has a twin.
"""

from __future__ import annotations

import pytest
from certbuild import AT_TS, K0, SIGNED, Cert, certification, direct_key, key, uid_packet, w

from pgpverify.limits import DEFAULT_LIMITS, WorkBudget
from pgpverify.openpgp.certificate import SigningKey, parse_certificate
from pgpverify.openpgp.packets import iter_packets

DAY = 86400
UID = b"direct key <dk@example.org>"


def direct(primary, t: int, *, flags: int | None = None, expires: int | None = None) -> bytes:
    extra = [] if flags is None else [w.key_flags(flags)]
    if expires is not None:
        extra.append(w.key_expires(expires - primary.created))
    return w.packet(
        w.TAG_SIGNATURE,
        w.sign(
            primary,
            w.SigSpec(w.DIRECT_KEY, w.SHA256, *_subpackets(primary, t, extra)),
            primary.frame(),
        ),
    )


def _subpackets(primary, t, extra):
    hashed, unhashed = w.default_subpackets(primary, t)
    return hashed + extra, unhashed


def cert_with(
    label: str,
    direct_sig: bytes | None,
    *,
    uid_at: int = K0 + 2 * DAY,
    uid_expires: int | None = None,
    uid_flags: int = w.FLAG_CERTIFY | w.FLAG_SIGN,
):
    primary = key(label)
    cert = Cert(primary).add(primary.packet(), *([] if direct_sig is None else [direct_sig]))
    cert.add(
        uid_packet(UID), certification(primary, UID, uid_at, flags=uid_flags, expires=uid_expires)
    )
    return cert, primary


def judge(cert: Cert, signed: int = SIGNED):
    parsed = parse_certificate(iter_packets(cert.octets(), max_packets=1000))
    found = parsed.judge(
        SigningKey(packet=parsed.primary.packet, is_primary=True),
        signed,
        AT_TS,
        budget=WorkBudget.of(DEFAULT_LIMITS),
    )
    return None if found is None else (found.reason, found.message)


def test_judge_direct_key_twins_are_good():
    primary = key("dk twin")
    assert judge(cert_with("dk twin", None)[0]) is None
    # a direct-key signature that allows signing and sets no expiry changes nothing
    twin, _ = cert_with("dk twin", direct(primary, K0 + DAY, flags=w.FLAG_CERTIFY | w.FLAG_SIGN))
    assert judge(twin) is None
    # a direct-key signature alone (no user ID) is a valid self-signature
    alone = Cert(primary).add(primary.packet(), direct(primary, K0 + DAY))
    assert judge(alone) is None


def test_judge_rejects_signing_forbidden_by_an_older_direct_key_signature():
    primary = key("dk certify only")
    cert, _ = cert_with("dk certify only", direct(primary, K0 + DAY, flags=w.FLAG_CERTIFY))
    reason, message = judge(cert)
    assert reason == "not-signing-key"
    assert message == "the primary key's flags do not allow signing (its direct-key signature)"


def test_judge_rejects_signing_forbidden_by_a_newer_user_id_self_signature():
    # The other way round (newer user ID self-signature certify only) was already rejected.
    primary = key("dk newer uid")
    cert, _ = cert_with(
        "dk newer uid", direct(primary, K0 + DAY, flags=w.FLAG_SIGN), uid_flags=w.FLAG_CERTIFY
    )
    assert judge(cert) == ("not-signing-key", "the primary key's flags do not allow signing")


@pytest.mark.parametrize("which", ["direct", "user ID"])
def test_judge_rejects_an_expiry_set_by_either_kind(which):
    # The earlier expiry of the two counts, whichever self-signature is newer.
    primary = key(f"dk expiry {which}")
    end = SIGNED - DAY
    if which == "direct":
        cert, _ = cert_with(f"dk expiry {which}", direct(primary, K0 + DAY, expires=end))
    else:
        cert, _ = cert_with(f"dk expiry {which}", direct(primary, K0 + 3 * DAY), uid_expires=end)
    reason, message = judge(cert)
    assert reason == "key-expired"
    assert "the primary key expired at" in message
    assert judge(cert, signed=end - DAY)[0] == "key-expired"  # expired at the reference time


def test_judge_takes_the_earlier_of_two_expiries():
    primary = key("dk two expiries")
    later = AT_TS + 30 * DAY
    cert, _ = cert_with(
        "dk two expiries", direct(primary, K0 + DAY, expires=later), uid_expires=later + DAY
    )
    assert judge(cert) is None  # both in the future
    cert, _ = cert_with(
        "dk two expiries", direct(primary, K0 + DAY, expires=AT_TS - DAY), uid_expires=later
    )
    assert judge(cert)[0] == "key-expired"


def test_judge_newest_direct_key_signature_counts():
    # An older direct-key signature's restriction is lifted by a newer direct-key one.
    primary = key("dk newer direct")
    cert, _ = cert_with("dk newer direct", direct(primary, K0 + DAY, flags=w.FLAG_CERTIFY))
    cert.components[0][1].append(direct(primary, K0 + 3 * DAY, flags=w.FLAG_SIGN))
    assert judge(cert) is None


def test_judge_direct_key_from_certbuild_sets_expiry():
    primary = key("dk certbuild")
    cert, _ = cert_with("dk certbuild", direct_key(primary, K0 + DAY, expires=SIGNED - DAY))
    assert judge(cert)[0] == "key-expired"
