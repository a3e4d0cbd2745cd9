"""parse_certificate: copies merge per component; misplaced signatures count for nothing.

Every copy of a certificate, and the order of everything in it, may be an attacker's. Each
rejection test takes a good certificate, misplaces one of its signatures (the bytes of a
revocation, binding or certification under a component where it does not belong) and
checks that it is ignored there, and that it cannot hide the real one as a duplicate.
"""

import itertools
import random

import pytest
from certbuild import (
    AT_TS,
    K0,
    SIGNED,
    Cert,
    binding,
    certification,
    direct_key,
    key_revocation,
    signer_cert,
    subkey_revocation,
    uid_packet,
    w,
)

from pgpverify.openpgp.certificate import SigningKey, parse_certificate
from pgpverify.openpgp.packets import iter_packets

REV_AT = SIGNED + 86400
DUMMY = uid_packet(b"Dummy <dummy@example.org>")


def parse(*copies: bytes):
    return parse_certificate(iter_packets(b"".join(copies), max_packets=1000))


def judge(cert, key):
    signing = SigningKey(
        packet=cert.find_key(key.fingerprint).packet, is_primary=key.fingerprint == cert.fingerprint
    )
    found = cert.judge(signing, SIGNED, AT_TS)
    return None if found is None else found.reason


def sig_types(sigs):
    return sorted(s.sig_type for s in sigs)


# -- merging copies ------------------------------------------------------------------------


def test_parse_certificate_merges_copies_per_component():
    cert, primary, sub = signer_cert("merge", subkey=True)
    rev = subkey_revocation(primary, sub, REV_AT)
    full = Cert(
        primary, [*cert.components[:2], (cert.components[2][0], [*cert.components[2][1], rev])]
    )
    one = parse(full.octets())
    two = parse(full.octets(), cert.octets(), full.octets())
    assert [s.packet for s in two.primary.sigs] == [s.packet for s in one.primary.sigs]
    assert {u: [s.packet for s in v] for u, v in two.userids.items()} == {
        u: [s.packet for s in v] for u, v in one.userids.items()
    }
    assert sig_types(two.subkeys[sub.fingerprint].sigs) == [0x18, 0x28]
    assert two.misplaced == 0
    assert judge(two, sub) == "key-revoked"


def test_parse_certificate_rejects_revocation_hidden_under_dummy_user_id():
    # The attack: a decoy copy carries the revocation's bytes under a dummy user ID.
    cert, primary, _ = signer_cert("hidden-revocation")
    rev = key_revocation(primary, REV_AT)
    decoy = primary.packet() + DUMMY + rev
    real = primary.packet() + rev + cert.octets()[len(primary.packet()) :]
    for copies in ((decoy, real), (real, decoy)):
        parsed = parse(*copies)
        assert sig_types(parsed.primary.sigs) == [0x20]
        assert judge(parsed, primary) == "key-revoked"
    assert judge(parse(decoy, cert.octets()), primary) is None


def test_parse_certificate_rejects_newer_self_signature_hidden_under_dummy_user_id():
    cert, primary, _ = signer_cert("hidden-expiry")
    uid = cert.components[1][0][2:]
    newer = certification(primary, uid, SIGNED - 86400, expires=AT_TS - 86400)
    decoy = primary.packet() + DUMMY + newer
    real = cert.octets() + newer
    for copies in ((decoy, real), (real, decoy)):
        assert judge(parse(*copies), primary) == "key-expired"
    assert judge(parse(decoy, cert.octets()), primary) is None


def test_parse_certificate_rejects_subkey_revocation_hidden_under_primary():
    cert, primary, sub = signer_cert("hidden-subkey-revocation", subkey=True)
    rev = subkey_revocation(primary, sub, REV_AT)
    decoy = primary.packet() + rev
    for copies in ((decoy, cert.octets() + rev), (cert.octets() + rev, decoy)):
        assert judge(parse(*copies), sub) == "key-revoked"
    parsed = parse(decoy, cert.octets())
    assert parsed.misplaced == 1
    assert judge(parsed, sub) is None


# -- each class of misplaced signature --------------------------------------------------------


def _misplaced_cases():
    cert, primary, sub = signer_cert("misplaced", subkey=True)
    uid = cert.components[1][0][2:]
    prim_head, uid_head, sub_head = (c[0] for c in cert.components)
    rev = key_revocation(primary, REV_AT)
    direct = direct_key(primary, SIGNED - 86400, expires=SIGNED - 3600)
    subrev = subkey_revocation(primary, sub, REV_AT)
    bind = binding(primary, sub, K0 + 1)
    certs = {
        f"certification-0x{t:02x}": certification(primary, uid, K0 + 5, sig_type=t)
        for t in (0x10, 0x11, 0x12, 0x13)
    }
    certs["certification-revocation-0x30"] = w.packet(
        w.TAG_SIGNATURE,
        w.sign(
            primary,
            w.SigSpec(0x30, w.SHA256, *w.default_subpackets(primary, REV_AT)),
            primary.frame() + w.uid_frame(uid),
        ),
    )
    cases = [
        ("key-revocation-under-user-id", uid_head, rev),
        ("key-revocation-under-subkey", sub_head, rev),
        ("direct-key-signature-under-user-id", uid_head, direct),
        ("direct-key-signature-under-subkey", sub_head, direct),
        ("subkey-binding-under-primary", prim_head, bind),
        ("subkey-binding-under-user-id", uid_head, bind),
        ("subkey-revocation-under-primary", prim_head, subrev),
        ("subkey-revocation-under-user-id", uid_head, subrev),
    ]
    for name, body in certs.items():
        cases += [
            (f"{name}-under-primary", prim_head, body),
            (f"{name}-under-subkey", sub_head, body),
        ]
    return cert, primary, sub, cases


CERT, PRIMARY, SUB, CASES = _misplaced_cases()


@pytest.mark.parametrize(
    ("where", "sig"), [(h, s) for _, h, s in CASES], ids=[n for n, _, _ in CASES]
)
def test_parse_certificate_rejects_misplaced_signature(where, sig):
    # The good certificate with one misplaced signature right after ``where``.
    packets = []
    for head, sigs in CERT.components:
        packets += [head, *([sig] if head == where else []), *sigs]
    parsed = parse(b"".join(packets))
    assert parsed.misplaced == 1
    assert parsed.skipped == 0
    good = parse(CERT.octets())
    everywhere = [
        *parsed.primary.sigs,
        *itertools.chain(*parsed.userids.values()),
        *itertools.chain(*(c.sigs for c in parsed.subkeys.values())),
    ]
    assert sig[2:] not in [s.packet for s in everywhere]
    assert len(everywhere) == 2
    assert judge(parsed, SUB) is judge(good, SUB) is None
    assert judge(parsed, PRIMARY) == judge(good, PRIMARY) == "not-signing-key"


def test_parse_certificate_rejects_misplaced_signature_not_parsing_it():
    # A misplaced v4 signature is dropped by its type octet, before any parsing: even a
    # body that would not parse is "misplaced", not "skipped".
    body = b"\x04\x20" + b"\xff" * 10
    parsed = parse(
        CERT.octets()[: len(CERT.components[0][0])] + DUMMY + w.packet(w.TAG_SIGNATURE, body)
    )
    assert (parsed.misplaced, parsed.skipped) == (1, 0)


def test_parse_certificate_counts_duplicates_once_per_component():
    rev = key_revocation(PRIMARY, REV_AT)
    parsed = parse(PRIMARY.packet() + rev + rev + DUMMY + rev, PRIMARY.packet() + rev)
    assert sig_types(parsed.primary.sigs) == [0x20]
    assert parsed.misplaced == 1


# -- order independence --------------------------------------------------------------------


def _snapshot(cert):
    return (
        [s.packet for s in cert.primary.sigs],
        [(u, [s.packet for s in sigs]) for u, sigs in cert.userids.items()],
        [(f, [s.packet for s in c.sigs]) for f, c in cert.subkeys.items()],
    )


def test_parse_certificate_ignores_packet_and_component_order():
    primary = PRIMARY
    uids = [b"A <a@example.org>", b"B <b@example.org>", b"C <c@example.org>"]
    comps = [
        (uid_packet(u), [certification(primary, u, K0 + i * 10 + j) for j in range(3)])
        for i, u in enumerate(uids)
    ]
    comps.append((SUB.packet(subkey=True), [binding(primary, SUB, K0 + 1 + j) for j in range(3)]))
    head = (primary.packet(), [key_revocation(primary, REV_AT + j, code=3) for j in range(3)])
    rng = random.Random(8)
    snapshots = set()
    for _ in range(12):
        shuffled = [(h, rng.sample(s, len(s))) for h, s in comps]
        rng.shuffle(shuffled)
        hs = rng.sample(head[1], 3)
        octets = head[0] + b"".join(hs) + b"".join(h + b"".join(s) for h, s in shuffled)
        snapshot = _snapshot(parse(octets))
        snapshots.add(repr(snapshot))
    assert len(snapshots) == 1


@pytest.mark.parametrize("order", [0, 1])
def test_parse_certificate_breaks_same_second_ties_conservatively(order):
    cert, primary, _ = signer_cert("same-second")
    uid = cert.components[1][0][2:]
    t = SIGNED - 86400
    plain = certification(primary, uid, t)
    expiring = certification(primary, uid, t, expires=AT_TS - 60)
    certify_only = certification(primary, uid, t, flags=w.FLAG_CERTIFY)
    pair = [plain, expiring]
    if order:
        pair.reverse()
    # Copies in both orders and under two user IDs: the shorter expiry counts as newer ...
    other = uid_packet(b"Other <other@example.org>")
    assert (
        judge(
            parse(cert.octets() + pair[0], primary.packet() + cert.components[1][0] + pair[1]),
            primary,
        )
        == "key-expired"
    )
    # ... and a self-signature that forbids signing beats both.
    trio = [*pair, certify_only]
    if order:
        trio.reverse()
    parsed = parse(cert.octets() + b"".join(trio), primary.packet() + other)
    assert judge(parsed, primary) == "not-signing-key"


@pytest.mark.parametrize("order", [0, 1])
def test_parse_certificate_breaks_same_second_binding_ties_conservatively(order):
    cert, primary, sub = signer_cert("same-second-binding", subkey=True)
    t = SIGNED - 86400
    bindings = [binding(primary, sub, t), binding(primary, sub, t, expires=AT_TS - 60)]
    if order:
        bindings.reverse()
    parsed = parse(cert.octets() + bindings[0], cert.octets() + bindings[1])
    assert judge(parsed, sub) == "key-expired"


@pytest.mark.parametrize(
    "hideout",
    [
        w.packet(17, b"\x05\x01" + b"\x00" * 4),  # a user attribute
        w.packet(60, b"private or experimental"),  # an unknown packet type
        w.packet(w.TAG_PUBLIC_SUBKEY, b"\x04broken"),  # a subkey that does not parse
    ],
    ids=["user-attribute", "unknown-packet", "broken-subkey"],
)
def test_parse_certificate_rejects_revocation_hidden_after_skipped_packet(hideout):
    cert, primary, _ = signer_cert("hidden-after-skipped")
    rev = key_revocation(primary, REV_AT)
    decoy = primary.packet() + hideout + rev
    real = primary.packet() + rev + cert.octets()[len(primary.packet()) :]
    for copies in ((decoy, real), (real, decoy)):
        assert judge(parse(*copies), primary) == "key-revoked"
