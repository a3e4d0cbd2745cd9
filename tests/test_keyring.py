"""Keyring: copies of one certificate merge, the packet cap counts the merged certificate.

``Limits.certificate_packets`` bounds the work one certificate costs, so it counts the
packets of every copy (in one keyring, several blocks, several files), not each copy apart:
N copies of a 60,000-packet certificate are N times that work.
"""

import dataclasses

import pytest
from certbuild import (
    AT,
    DOCUMENT,
    document_signature,
    key_revocation,
    signer_cert,
    uid_packet,
    w,
)

from pgpverify import Verifier
from pgpverify.errors import LimitExceededError
from pgpverify.limits import DEFAULT_LIMITS
from pgpverify.openpgp import keyring as keyring_module
from pgpverify.openpgp.keyring import Keyring, _span_packets

CERT, PRIMARY, SUB = signer_cert("keyring", subkey=True)
OCTETS = CERT.octets()
PACKETS = 5  # primary, user ID, self-signature, subkey, binding


def _limits(cap):
    return dataclasses.replace(DEFAULT_LIMITS, certificate_packets=cap)


def test_keyring_accepts_copies_within_the_cap():
    ring = Keyring(limits=_limits(2 * PACKETS))
    ring.add_bytes(OCTETS + OCTETS, source="two copies")
    assert ring.certificate(PRIMARY.fingerprint) is not None
    assert ring.warnings == []


def test_keyring_rejects_copies_over_the_cap_in_one_keyring():
    ring = Keyring(limits=_limits(2 * PACKETS - 1))
    with pytest.raises(LimitExceededError, match="packets in one certificate"):
        ring.add_bytes(OCTETS + OCTETS, source="two copies")


def test_keyring_rejects_copies_over_the_cap_across_keyrings(tmp_path):
    first, second = tmp_path / "first.gpg", tmp_path / "second.gpg"
    first.write_bytes(OCTETS)
    second.write_bytes(OCTETS)
    assert len(Keyring.from_files([first, second], limits=_limits(2 * PACKETS))) == 1
    with pytest.raises(LimitExceededError, match="packets in one certificate"):
        Keyring.from_files([first, second], limits=_limits(2 * PACKETS - 1))


def test_keyring_rejects_copies_over_the_cap_at_the_key_packet():
    # The cap is reached exactly by earlier copies: the next copy's key packet is one too many.
    ring = Keyring(limits=_limits(PACKETS))
    ring.add_bytes(OCTETS, source="first")
    with pytest.raises(LimitExceededError, match="all copies"):
        ring.add_bytes(PRIMARY.packet(), source="second")


def test_keyring_counts_a_copy_cut_by_trailing_junk_without_the_junk():
    ring = Keyring(limits=_limits(2 * PACKETS))
    ring.add_bytes(OCTETS + b"\x00junk", source="first")
    ring.add_bytes(OCTETS, source="second")
    assert ring._merged[PRIMARY.fingerprint] == 2 * PACKETS
    assert any("trailing data" in w for w in ring.warnings)


def test_keyring_other_certificates_do_not_count():
    other, other_primary, _ = signer_cert("keyring other")
    ring = Keyring(limits=_limits(PACKETS))
    ring.add_bytes(OCTETS + other.octets() + other.octets()[:0], source="two certificates")
    assert len(ring) == 2
    assert ring._merged == {PRIMARY.fingerprint: PACKETS, other_primary.fingerprint: 3}


def test_span_packets_rejects_more_than_the_cap_over_all_copies():
    spans = [(OCTETS, 0, len(OCTETS)), (OCTETS, 0, len(OCTETS))]
    assert len(list(_span_packets(spans, 2 * PACKETS))) == 2 * PACKETS
    with pytest.raises(LimitExceededError):
        list(_span_packets(spans, 2 * PACKETS - 1))


def test_keyring_merges_a_revocation_from_a_later_keyring(tmp_path):
    rev = key_revocation(PRIMARY, 1_717_200_000)
    decoy = PRIMARY.packet() + uid_packet(b"Decoy <decoy@example.org>") + rev
    real = PRIMARY.packet() + rev + OCTETS[len(PRIMARY.packet()) :]
    (tmp_path / "doc").write_bytes(DOCUMENT)
    (tmp_path / "doc.asc").write_bytes(document_signature(SUB))
    for first, second in ((decoy, real), (real, decoy)):
        ring = Keyring()
        ring.add_bytes(first, source="first")
        ring.add_bytes(second, source="second")
        result = Verifier(ring).verify(tmp_path / "doc", at=AT)
        assert result.reason.value == "key-revoked", result.message


def test_keyring_lookup_in_fingerprint_order_whatever_the_load_order():
    # Two certificates that both carry the same subkey: candidates come in one order.
    other, other_primary, _ = signer_cert("keyring sharer")
    shared = other.octets() + SUB.packet(subkey=True)
    orders = []
    for copies in ((OCTETS, shared), (shared, OCTETS)):
        ring = Keyring()
        for data in copies:
            ring.add_bytes(data, source="ring")
        orders.append([c.fingerprint for c in ring.lookup(SUB.key_id)])
    assert orders[0] == orders[1] == sorted([PRIMARY.fingerprint, other_primary.fingerprint])


# -- marker packets (RFC 9580 §5.8) ------------------------------------------------------------


def _marker(body=b"PGP"):
    return bytes([0xC0 | 10, len(body)]) + body


@pytest.mark.parametrize("where", ["before", "inside", "after", "everywhere"])
def test_keyring_ignores_marker_packets_wherever_they_appear(where):
    head, *rest = CERT.components
    inner = head[0] + _marker() + b"".join(h + b"".join(s) for h, s in rest)
    data = {
        "before": _marker() + OCTETS,
        "inside": inner,
        "after": OCTETS + _marker(),
        "everywhere": _marker() + inner + _marker() + _marker(),
    }[where]
    ring = Keyring()
    ring.add_bytes(data, source="markers")
    assert ring.warnings == []
    cert = ring.certificate(PRIMARY.fingerprint)
    assert cert is not None
    assert ring.lookup(SUB.key_id) == [cert]


def test_keyring_rejects_a_marker_with_another_body_as_junk():
    # derived from the good case: a tag-10 packet whose body is not "PGP" is no marker
    ring = Keyring()
    ring.add_bytes(_marker(b"XYZ") + OCTETS, source="not a marker")
    assert ring.warnings == ["not a marker: 1 packet(s) outside any certificate skipped"]
    assert ring.certificate(PRIMARY.fingerprint) is not None


# -- Limits.keyring_files and Limits.keyring_total_bytes: counted before any file is read --


def _files(tmp_path, count):
    paths = []
    for i in range(count):
        path = tmp_path / f"ring{i}.gpg"
        path.write_bytes(OCTETS)
        paths.append(path)
    return paths


def test_keyring_accepts_files_up_to_the_file_cap(tmp_path):
    limits = dataclasses.replace(DEFAULT_LIMITS, keyring_files=3)
    assert len(Keyring.from_files(_files(tmp_path, 3), limits=limits)) == 1


def test_keyring_rejects_more_files_than_the_cap_before_reading_any(tmp_path, monkeypatch):
    limits = dataclasses.replace(DEFAULT_LIMITS, keyring_files=3)
    paths = _files(tmp_path, 4)
    monkeypatch.setattr(Keyring, "add_bytes", lambda *_a, **_k: pytest.fail("read a file"))
    with pytest.raises(LimitExceededError, match="number of keyring files exceeds the limit of 3"):
        Keyring.from_files(paths, limits=limits)


def test_keyring_rejects_files_over_the_total_size_before_reading_any(tmp_path, monkeypatch):
    paths = _files(tmp_path, 3)
    at_cap = dataclasses.replace(DEFAULT_LIMITS, keyring_total_bytes=3 * len(OCTETS))
    assert len(Keyring.from_files(paths, limits=at_cap)) == 1
    under = dataclasses.replace(at_cap, keyring_total_bytes=3 * len(OCTETS) - 1)
    monkeypatch.setattr(Keyring, "add_bytes", lambda *_a, **_k: pytest.fail("read a file"))
    with pytest.raises(LimitExceededError, match="total size of the keyring files"):
        Keyring.from_files(paths, limits=under)


def test_keyring_rejects_blocks_over_the_total_size_as_they_are_added():
    # Certificates added from bytes (an index, a lock file, the trust memory) count too.
    ring = Keyring(limits=dataclasses.replace(DEFAULT_LIMITS, keyring_total_bytes=2 * len(OCTETS)))
    ring.add_bytes(OCTETS, source="first")
    ring.add_bytes(OCTETS, source="second")
    with pytest.raises(LimitExceededError, match="total size of the keyrings") as info:
        ring.add_bytes(OCTETS, source="third")
    assert info.value.source == "third"


def test_keyring_counts_a_file_of_unknown_size_as_it_is_read(tmp_path, monkeypatch):
    # A pipe has no size before it is read (its size counts as 0 before reading): the
    # running count still bounds it.
    monkeypatch.setattr(keyring_module, "_size", lambda _path: 0)
    limits = dataclasses.replace(DEFAULT_LIMITS, keyring_total_bytes=2 * len(OCTETS) - 1)
    with pytest.raises(LimitExceededError, match="total size of the keyrings") as info:
        Keyring.from_files(_files(tmp_path, 2), limits=limits)
    assert info.value.source.endswith("ring1.gpg")


def test_keyring_packet_cap_counts_every_file(tmp_path):
    # 64 files of 4,000,000 packets each took two minutes to frame: the cap is for all.
    paths = _files(tmp_path, 3)
    exact = dataclasses.replace(DEFAULT_LIMITS, keyring_packets=3 * PACKETS)
    assert len(Keyring.from_files(paths, limits=exact)) == 1
    under = dataclasses.replace(exact, keyring_packets=3 * PACKETS - 1)
    with pytest.raises(LimitExceededError, match="number of packets in the keyrings") as info:
        Keyring.from_files(paths, limits=under)
    assert info.value.source.endswith("ring2.gpg")
    ring = Keyring(limits=under)
    ring.add_bytes(OCTETS + OCTETS, source="blocks")
    with pytest.raises(LimitExceededError, match="number of packets in the keyrings"):
        ring.add_bytes(OCTETS, source="more")


def test_keyring_from_files_takes_str_paths(tmp_path):
    armored = tmp_path / "ring.asc"
    armored.write_bytes(OCTETS)
    ring = Keyring.from_files([str(armored)])
    assert ring.certificate(PRIMARY.fingerprint) is not None
    with pytest.raises(LimitExceededError, match="size of the keyring") as caught:
        Keyring.from_files(
            [f"{tmp_path}/./ring.asc"],
            limits=dataclasses.replace(DEFAULT_LIMITS, keyring_bytes=len(OCTETS) - 1),
        )
    assert caught.value.source == str(armored)


# -- revocation certificates outside any certificate -----------------------------------------
# gpg --gen-revoke writes a PUBLIC KEY BLOCK holding one key revocation; sq key generate
# --rev-cert and sq revoke certificate write a SIGNATURE block. Appended to a keyring, or
# given as a keyring of their own, they revoke the key they name (sqv applies them too).

REVOCATION = key_revocation(PRIMARY, 1_717_200_000)


def _verdict(tmp_path, *keyrings):
    (tmp_path / "doc").write_bytes(DOCUMENT)
    (tmp_path / "doc.asc").write_bytes(document_signature(SUB))
    ring = Keyring()
    for n, data in enumerate(keyrings):
        ring.add_bytes(data, source=f"keyring {n}")
        ring.certificate(PRIMARY.fingerprint)  # decoded (and cached) before the next one
    return Verifier(ring).verify(tmp_path / "doc", at=AT).reason.value


def _forged(revocation):
    return revocation[:-1] + bytes([revocation[-1] ^ 1])


REVOCATION_SHAPES = {
    "gpg-public-key-block-appended": lambda rev: (
        w.armor("PUBLIC KEY BLOCK", OCTETS) + w.armor("PUBLIC KEY BLOCK", rev),
    ),
    "sq-signature-block-appended": lambda rev: (
        w.armor("PUBLIC KEY BLOCK", OCTETS) + w.armor("SIGNATURE", rev),
    ),
    "binary-before-the-certificate": lambda rev: (rev + OCTETS,),
    "keyring-of-its-own-after": lambda rev: (OCTETS, w.armor("SIGNATURE", rev)),
    "keyring-of-its-own-before": lambda rev: (rev, OCTETS),
}


@pytest.mark.parametrize("shape", REVOCATION_SHAPES)
def test_keyring_rejects_key_revoked_by_a_revocation_certificate(tmp_path, shape):
    assert _verdict(tmp_path, *REVOCATION_SHAPES[shape](REVOCATION)) == "key-revoked"


@pytest.mark.parametrize("shape", REVOCATION_SHAPES)
def test_keyring_rejects_forged_revocation_certificate_as_revoking_nothing(tmp_path, shape):
    # the twins: the revocation's math is checked, so a forged one counts for nothing
    assert _verdict(tmp_path, *REVOCATION_SHAPES[shape](_forged(REVOCATION))) == "good"


def test_keyring_rejects_revocation_certificate_of_another_key(tmp_path):
    other = key_revocation(SUB, 1_717_200_000)  # names the subkey as issuer: no certificate
    assert _verdict(tmp_path, OCTETS, w.armor("SIGNATURE", other)) == "good"


def test_keyring_rejects_a_document_signature_block_as_no_key():
    ring = Keyring()
    ring.add_bytes(w.armor("SIGNATURE", document_signature(SUB)), source="sig")
    assert ring.warnings == ["sig: armored block at line 2: skipped: a PGP SIGNATURE is not a key"]
    assert len(ring) == 0


def test_keyring_rejects_more_revocation_certificates_than_the_cap():
    limits = dataclasses.replace(DEFAULT_LIMITS, signature_packets=2)
    revocations = [key_revocation(PRIMARY, 1_717_200_000 + n) for n in range(3)]
    ring = Keyring(limits=limits)
    ring.add_bytes(b"".join(revocations[:2]) + OCTETS, source="two")
    assert ring.certificate(PRIMARY.fingerprint) is not None
    with pytest.raises(LimitExceededError, match="key revocations outside any certificate"):
        ring.add_bytes(revocations[2], source="third")


def test_keyring_decode_cost_counts_the_revocation_certificates():
    ring = Keyring()
    ring.add_bytes(REVOCATION + OCTETS, source="ring")
    assert ring.decode_cost(PRIMARY.fingerprint) == PACKETS + 1


def test_keyring_reads_a_gpg_enarmor_armored_file():
    ring = Keyring()
    ring.add_bytes(w.armor("ARMORED FILE", OCTETS), source="enarmored")
    assert ring.certificate(PRIMARY.fingerprint) is not None
    assert ring.warnings == []


@pytest.mark.parametrize("mark", [b"\xef\xbb\xbf", b"\xff\xfe"])
def test_keyring_rejects_armor_after_a_byte_order_mark(mark):
    ring = Keyring()
    ring.add_bytes(mark + w.armor("PUBLIC KEY BLOCK", OCTETS), source="k.asc")
    assert len(ring) == 0
    assert len(ring.warnings) == 1
    assert "byte order mark" in ring.warnings[0]


def test_keyring_rejects_signatures_after_a_skipped_key_as_revocation_certificates(tmp_path):
    # after a key packet that is not added (here one that does not parse, as a v5 or v6
    # key), the signatures are that key's own: junk, never revocation certificates
    unknown_key = w.packet(6, b"\x05" + bytes(20))
    limits = dataclasses.replace(DEFAULT_LIMITS, signature_packets=1)
    ring = Keyring(limits=limits)
    ring.add_bytes(unknown_key + REVOCATION + REVOCATION[:-1] + b"\x01" + OCTETS, source="k")
    assert "2 packet(s) outside any certificate skipped" in ring.warnings[-1]
    (tmp_path / "doc").write_bytes(DOCUMENT)
    (tmp_path / "doc.asc").write_bytes(document_signature(SUB))
    assert Verifier(ring).verify(tmp_path / "doc", at=AT).ok


def test_keyring_rejects_a_secret_key_saying_its_revocations_are_not_read():
    # sq revoke subkey --certificate <secret key> writes the secret key with the
    # revocation: skipped whole, so the warning says what the user loses and what to run
    secret = bytes([0xC5]) + OCTETS[1:]  # the primary key packet's tag made a secret key's
    ring = Keyring()
    ring.add_bytes(secret, source="k.key")
    assert ring.certificate(PRIMARY.fingerprint) is None
    said = ring.warnings[0]
    assert "secret key at offset 0 skipped with its signatures, revocations included" in said
    assert "sq key extract-cert" in ring.warnings[0]
