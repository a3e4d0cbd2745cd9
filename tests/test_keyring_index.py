"""Keyring indexing (pgpverify.openpgp.keyring): linear in the certificates, nothing decoded.

200,000 certificates sharing one subkey took 7 minutes to index when each key ID held a
list searched before every append. The index now holds one fingerprint, or a set once a
second certificate holds the key. bench/worst_case.py times the full-size shape.
"""

from __future__ import annotations

from certbuild import K0, Cert, binding, certification, key, uid_packet, w

from pgpverify.openpgp.keyring import Keyring

SHARED = key("keyring shared subkey", K0 + 1)


def holder(i: int) -> bytes:
    primary = key(f"keyring holder {i}")
    uid = f"holder {i} <h{i}@example.org>".encode()
    return (
        Cert(primary)
        .add(primary.packet())
        .add(uid_packet(uid), certification(primary, uid, K0))
        .add(SHARED.packet(subkey=True), binding(primary, SHARED, K0 + 1))
        .octets()
    )


def test_keyring_indexes_a_shared_subkey_once_per_certificate(monkeypatch):
    decoded = []
    monkeypatch.setattr(Keyring, "certificate", lambda _self, fpr: decoded.append(fpr))
    certs = [holder(i) for i in range(300)]
    ring = Keyring()
    # every certificate twice, in two keyrings: still one entry per certificate
    ring.add_bytes(b"".join(certs), source="one")
    ring.add_bytes(b"".join(reversed(certs)), source="two")
    found = ring.holders(SHARED.fingerprint)
    assert found == sorted(ring.fingerprints)
    assert len(found) == 300
    assert ring.holders(SHARED.key_id) == found
    assert decoded == []  # counting holders decodes nothing
    # the index is a hash set, not a list searched on every append
    assert isinstance(ring._by_key_id[SHARED.key_id], set)


def test_keyring_holders_of_a_key_held_once():
    ring = Keyring()
    ring.add_bytes(holder(0) + holder(0), source="dup")
    primary = key("keyring holder 0")
    assert ring.holders(primary.key_id) == [primary.fingerprint]
    assert ring.holders(primary.fingerprint) == [primary.fingerprint]
    assert ring.holders(SHARED.key_id) == [primary.fingerprint]
    assert ring.holders(b"\x00" * 8) == []
    assert [c.fingerprint for c in ring.lookup(SHARED.fingerprint)] == [primary.fingerprint]


def test_keyring_lookup_is_in_fingerprint_order():
    ring = Keyring()
    ring.add_bytes(b"".join(holder(i) for i in range(5)), source="five")
    found = [c.fingerprint for c in ring.lookup(SHARED.key_id)]
    assert found == sorted(found)
    assert len(found) == 5
    assert w.FLAG_SIGN  # the shared subkey is bound for signing in every one


def test_keyring_decode_cost_counts_every_copy_until_decoded():
    ring = Keyring()
    ring.add_bytes(holder(0) + holder(0), source="two copies")
    primary = key("keyring holder 0")
    assert ring.decode_cost(primary.fingerprint) == 10  # 5 packets, twice
    assert ring.certificate(primary.fingerprint) is not None
    assert ring.decode_cost(primary.fingerprint) == 0
    assert ring.decode_cost(b"\x00" * 20) == 0
