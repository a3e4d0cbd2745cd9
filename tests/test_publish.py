"""publish(): the index's pgp/ tree from maintainers' keys and ownership records."""

from __future__ import annotations

import json
import pathlib
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from fakeindex import INDEX_URL, ROOT, demo_index

from pgpverify import publish as publish_module
from pgpverify.errors import PublishError
from pgpverify.index.client import IndexClient
from pgpverify.limits import Limits
from pgpverify.openpgp.armor import crc24, decode_blocks, encode
from pgpverify.openpgp.keyring import Keyring
from pgpverify.openpgp.packets import Packet, Tag, iter_packets
from pgpverify.openpgp.signature import parse_signature
from pgpverify.publish import PublishReport, publish, strip_certificate
from pgpverify.trust.owners import OwnershipRecord
from pgpverify.verify import Verifier
from pgpverify.workflows import verify_from_index

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
AT = datetime(2025, 6, 1, tzinfo=timezone.utc)
NOW = int(AT.timestamp())
ALICE = "DBB45D692413FC66E3CB87089B617AE7AD1F8C84"
BOB = "36FF105B8A4F39B79348ACB434B57E55CBEE8D98"
BOB_SUBKEY = "E9E061C8169336A792280BD2C4EF186626C9A59C"
CAROL = "6D523B8671FE47A5EBE592ACDE664871AB24BB6C"
MALLORY = "88199D93B4210BBED4A2245EDD771D2D3E8DF380"
DAVE = "11B543008E037F93A69E40E5F64134C69A45844B"
WHEEL = VECTORS / "demo" / "demo_pkg-1.0.0-py3-none-any.whl"


# -- helpers -----------------------------------------------------------------------------


def _dirs(tmp_path, keys=(), records=()):
    keys_dir, owners_dir = tmp_path / "keys", tmp_path / "owners"
    keys_dir.mkdir(exist_ok=True)
    owners_dir.mkdir(exist_ok=True)
    for key in keys:
        shutil.copy(VECTORS / key, keys_dir / Path(key).name)
    for record in records:
        shutil.copy(VECTORS / record, owners_dir / Path(record).name)
    return keys_dir, owners_dir


def _record(owners_dir, name, project, *maintainers):
    doc = {
        "project": project,
        "maintainers": [
            {"user": user, "role": role, "keys": list(keys)} for user, role, keys in maintainers
        ],
    }
    (owners_dir / name).write_text(json.dumps(doc))


def _fingerprint(vector):
    ring = Keyring.from_files([VECTORS / vector])
    (fpr,) = ring.fingerprints
    return fpr.hex().upper()


def _packets(path):
    (block,) = decode_blocks(path.read_bytes())
    assert block.error is None
    assert block.label == "PUBLIC KEY BLOCK"
    return list(iter_packets(block.data, max_packets=10_000))


def _raw_packets(vector):
    data = (VECTORS / vector).read_bytes()
    blocks = decode_blocks(data)
    return [p for b in blocks for p in iter_packets(b.data, max_packets=10_000)]


def _frame(tag, body):
    assert len(body) < 192
    return bytes([0xC0 | tag, len(body)]) + body


def _tree(root):
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _problems(keys_dir, owners_dir, out):
    with pytest.raises(PublishError) as info:
        publish(keys_dir, owners_dir, out, now=NOW)
    assert not (out / "pgp").exists()
    return info.value.problems


@pytest.fixture
def demo(tmp_path):
    """The demo keyring (alice, bob, mallory, revoked dave) and a record for alice and bob."""
    return _dirs(tmp_path, ["demo/keyring.asc"], ["owners/demo-pkg.json"])


# -- a good publish ----------------------------------------------------------------------


def test_publish_demo_material(demo, tmp_path):
    keys_dir, owners_dir = demo
    out = tmp_path / "out"
    report = publish(keys_dir, owners_dir, out, now=NOW)

    assert isinstance(report, PublishReport)
    assert report.root == out / "pgp"
    assert report.projects == ("demo-pkg",)
    assert report.keys == (BOB, ALICE)
    assert report.removed == ()
    assert len(report.warnings) == 2
    assert any(DAVE in w and "not listed" in w for w in report.warnings)
    assert any(MALLORY in w and "not listed" in w for w in report.warnings)

    root = out / "pgp"
    assert sorted(_tree(root)) == [
        "index.json",
        f"keys/{BOB}.asc",
        f"keys/{ALICE}.asc",
        "projects/demo-pkg.json",
    ]
    assert [p.name for p in out.iterdir()] == ["pgp"]  # no staging directory left
    index = (root / "index.json").read_bytes()
    assert index == b'{\n  "projects": [\n    "demo-pkg"\n  ]\n}\n'
    record = json.loads((root / "projects" / "demo-pkg.json").read_text())
    assert record == {
        "project": "demo-pkg",
        "maintainers": [
            {"user": "alice", "role": "Owner", "keys": [ALICE]},
            {"user": "bob", "role": "Maintainer", "keys": [BOB]},
        ],
    }
    text = (root / "projects" / "demo-pkg.json").read_text()
    assert text == json.dumps(record, indent=2, sort_keys=True) + "\n"

    for fpr in (ALICE, BOB):
        path = root / "keys" / f"{fpr}.asc"
        data = path.read_bytes()
        assert data.startswith(b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n")
        assert data.endswith(b"-----END PGP PUBLIC KEY BLOCK-----\n")
        assert b"\r" not in data
        assert all(len(line) <= 64 for line in data.split(b"\n"))
        ring = Keyring.from_files([path])
        assert ring.warnings == []
        assert [f.hex().upper() for f in ring.fingerprints] == [fpr]
    bob = Keyring.from_files([root / "keys" / f"{BOB}.asc"]).certificate(bytes.fromhex(BOB))
    assert bob is not None
    assert [s.hex().upper() for s in bob.subkeys] == [BOB_SUBKEY]

    verifier = Verifier(
        Keyring.from_files([root / "keys" / f"{ALICE}.asc"]),
        owners=OwnershipRecord.from_file(root / "projects" / "demo-pkg.json"),
        project="demo-pkg",
    )
    assert verifier.verify(WHEEL, at=AT).ok


def test_publish_keeps_original_packet_bodies(demo, tmp_path):
    keys_dir, owners_dir = demo
    publish(keys_dir, owners_dir, tmp_path / "out", now=NOW)
    received = {p.body for p in _raw_packets("demo/keyring.asc")}
    for fpr in (ALICE, BOB):
        published = _packets(tmp_path / "out" / "pgp" / "keys" / f"{fpr}.asc")
        assert published
        assert all(p.body in received for p in published)


def test_publish_normalises_record(tmp_path):
    keys_dir, owners_dir = _dirs(tmp_path, ["keys/alice.pub.asc", "keys/bob.pub.asc"])
    doc = {
        "project": "Demo_Pkg",
        "homepage": "https://example.org/demo-pkg",
        "maintainers": [
            {
                "user": "alice",
                "role": "Owner",
                "email": "alice@example.org",
                "keys": [ALICE.lower()],
            },
            {
                "user": "bob",
                "role": "Maintainer",
                "keys": [{"fingerprint": BOB.lower(), "retired": "2024-05-01"}],
            },
        ],
    }
    (owners_dir / "Demo_Pkg.json").write_text(json.dumps(doc))
    report = publish(keys_dir, owners_dir, tmp_path / "out", now=NOW)
    assert report.projects == ("demo-pkg",)
    record = json.loads((tmp_path / "out" / "pgp" / "projects" / "demo-pkg.json").read_text())
    # Unknown fields are dropped; names normalized; fingerprints upper-case.
    assert record == {
        "project": "demo-pkg",
        "maintainers": [
            {"user": "alice", "role": "Owner", "keys": [ALICE]},
            {
                "user": "bob",
                "role": "Maintainer",
                "keys": [{"fingerprint": BOB, "retired": "2024-05-01"}],
            },
        ],
    }
    parsed = OwnershipRecord.from_file(tmp_path / "out" / "pgp" / "projects" / "demo-pkg.json")
    original = OwnershipRecord.from_json(doc)
    assert parsed.maintainers == original.maintainers


def test_publish_retired_time_of_day_round_trips(tmp_path):
    keys_dir, owners_dir = _dirs(tmp_path, ["keys/alice.pub.asc"])
    doc = {
        "project": "p",
        "maintainers": [
            {
                "user": "alice",
                "role": "Owner",
                "keys": [{"fingerprint": ALICE, "retired": "2024-05-01T12:30:00+02:00"}],
            },
        ],
    }
    (owners_dir / "p.json").write_text(json.dumps(doc))
    publish(keys_dir, owners_dir, tmp_path / "out", now=NOW)
    out = json.loads((tmp_path / "out" / "pgp" / "projects" / "p.json").read_text())
    assert out["maintainers"][0]["keys"] == [
        {"fingerprint": ALICE, "retired": "2024-05-01T10:30:00Z"}
    ]
    parsed = OwnershipRecord.from_file(tmp_path / "out" / "pgp" / "projects" / "p.json")
    assert parsed.maintainers == OwnershipRecord.from_json(doc).maintainers


def test_publish_several_projects_share_keys(tmp_path):
    keys_dir, owners_dir = _dirs(
        tmp_path, ["keys/carol-and-alice-two-blocks.pub.asc", "keys/bob.pub.asc"]
    )
    _record(owners_dir, "zeta.pkg.json", "Zeta.Pkg", ("alice", "Owner", [ALICE]))
    _record(
        owners_dir,
        "alpha.json",
        "alpha",
        ("alice", "Owner", [ALICE]),
        ("carol", "Maintainer", [CAROL]),
    )
    report = publish(keys_dir, owners_dir, tmp_path / "out", now=NOW)
    assert report.projects == ("alpha", "zeta-pkg")
    assert report.keys == (CAROL, ALICE)
    assert report.warnings == (
        (
            f"key {BOB} ({keys_dir / 'bob.pub.asc'}) is not listed in any ownership record: "
            "not published"
        ),
    )
    root = tmp_path / "out" / "pgp"
    assert json.loads((root / "index.json").read_text()) == {"projects": ["alpha", "zeta-pkg"]}
    assert not (root / "keys" / f"{BOB}.asc").exists()


def test_publish_merges_copies_of_one_certificate(tmp_path):
    keys_dir, owners_dir = _dirs(
        tmp_path,
        [
            "keys/bob.pub.asc",
            "keys/bob-duplicate-merged.pub.asc",
            "keys/bob-duplicate-merged-reversed.pub.asc",
        ],
    )
    _record(owners_dir, "p.json", "p", ("bob", "Owner", [BOB]))
    publish(keys_dir, owners_dir, tmp_path / "out", now=NOW)
    packets = _packets(tmp_path / "out" / "pgp" / "keys" / f"{BOB}.asc")
    bodies = [p.body for p in packets]
    assert len(bodies) == len(set(bodies))
    assert [p.tag for p in packets].count(Tag.PUBLIC_KEY) == 1


def test_publish_is_deterministic(demo, tmp_path):
    keys_dir, owners_dir = demo
    publish(keys_dir, owners_dir, tmp_path / "one", now=NOW)
    publish(keys_dir, owners_dir, tmp_path / "two", now=NOW)
    first = _tree(tmp_path / "one" / "pgp")
    assert first == _tree(tmp_path / "two" / "pgp")
    report = publish(keys_dir, owners_dir, tmp_path / "one", now=NOW)
    assert report.removed == ()
    assert _tree(tmp_path / "one" / "pgp") == first


def test_publish_accepts_binary_and_external_keys(tmp_path):
    keys_dir, owners_dir = _dirs(
        tmp_path,
        [
            "keys/alice.pub.gpg",
            "external/gpg/rsa3072-signing-subkey.pub.asc",
            "external/sq/cv25519.pub.asc",
        ],
    )
    gpg = _fingerprint("external/gpg/rsa3072-signing-subkey.pub.asc")
    sq = _fingerprint("external/sq/cv25519.pub.asc")
    _record(owners_dir, "p.json", "p", ("a", "Owner", [ALICE, gpg, sq]))
    report = publish(keys_dir, owners_dir, tmp_path / "out", now=NOW)
    assert set(report.keys) == {ALICE, gpg, sq}
    assert report.warnings == ()


# -- stripping ---------------------------------------------------------------------------


def _decorated_alice():
    """Alice's certificate with junk a verifier does not need, spliced from vector keys.

    After her user ID: a trust packet and carol's self-certification (a third-party
    certification of alice's user ID by carol's key); then a user attribute with a copy of
    alice's certification; a marker packet; carol's user ID and signatures under alice's
    primary (carol's self-certification is a third-party one here too).
    """
    alice = _raw_packets("keys/alice.pub.asc")
    carol = _raw_packets("keys/carol.pub.asc")
    assert [p.tag for p in alice] == [Tag.PUBLIC_KEY, Tag.USER_ID, Tag.SIGNATURE]
    assert [p.tag for p in carol] == [Tag.PUBLIC_KEY, Tag.USER_ID, Tag.SIGNATURE]
    key, uid, selfsig = (p.body for p in alice)
    carol_uid, carol_sig = carol[1].body, carol[2].body
    attribute = b"\x10\x01" + b"\x01" * 15  # one image subpacket; content is irrelevant
    chunks = [
        _frame_any(Tag.PUBLIC_KEY, key),
        _frame_any(Tag.USER_ID, uid),
        _frame_any(Tag.SIGNATURE, selfsig),
        _frame(Tag.TRUST, b"\x00\x00"),
        _frame_any(Tag.SIGNATURE, carol_sig),
        _frame(Tag.USER_ATTRIBUTE, attribute),
        _frame_any(Tag.SIGNATURE, selfsig + b""),
        _frame(Tag.MARKER, b"PGP"),
        _frame_any(Tag.USER_ID, carol_uid),
        _frame_any(Tag.SIGNATURE, carol_sig),
    ]
    return b"".join(chunks), {key, uid, selfsig}, carol_sig


def _frame_any(tag, body):
    n = len(body)
    if n < 192:
        return bytes([0xC0 | tag, n]) + body
    n -= 192
    return bytes([0xC0 | tag, (n >> 8) + 192, n & 0xFF]) + body


def test_publish_strips_third_party_certifications_and_user_attributes(tmp_path):
    decorated, kept, carol_sig = _decorated_alice()
    keys_dir, owners_dir = _dirs(tmp_path)
    (keys_dir / "alice-decorated.asc").write_bytes(encode(decorated, "PUBLIC KEY BLOCK"))
    _record(owners_dir, "demo-pkg.json", "demo-pkg", ("alice", "Owner", [ALICE]))
    # The decorated input carries all of it (PGPy-free check with our own parser).
    tags = [p.tag for p in iter_packets(decorated, max_packets=100)]
    assert Tag.USER_ATTRIBUTE in tags
    assert Tag.TRUST in tags

    report = publish(keys_dir, owners_dir, tmp_path / "out", now=NOW)
    assert report.keys == (ALICE,)
    path = tmp_path / "out" / "pgp" / "keys" / f"{ALICE}.asc"
    packets = _packets(path)
    assert [p.tag for p in packets] == [Tag.PUBLIC_KEY, Tag.USER_ID, Tag.SIGNATURE]
    assert {p.body for p in packets} == kept
    assert all(p.body != carol_sig for p in packets)
    for p in packets:
        if p.tag == Tag.SIGNATURE:
            assert parse_signature(p.body).issuer_key_ids[0] == bytes.fromhex(ALICE)[-8:]

    verifier = Verifier(
        Keyring.from_files([path]),
        owners=OwnershipRecord.from_file(tmp_path / "out" / "pgp" / "projects" / "demo-pkg.json"),
        project="demo-pkg",
    )
    assert verifier.verify(WHEEL, at=AT).ok


def test_strip_keeps_subkey_binding_and_revocations():
    packets = _raw_packets("keys/subkey-revoked-compromised.pub.asc")
    stripped = list(iter_packets(strip_certificate(packets), max_packets=100))
    assert [p.body for p in stripped] == [p.body for p in packets]
    types = [parse_signature(p.body).sig_type for p in stripped if p.tag == Tag.SIGNATURE]
    assert 0x18 in types
    assert 0x28 in types
    packets = _raw_packets("keys/revoked-compromised.pub.asc")
    stripped = list(iter_packets(strip_certificate(packets), max_packets=100))
    types = [parse_signature(p.body).sig_type for p in stripped if p.tag == Tag.SIGNATURE]
    assert 0x20 in types


def test_strip_drops_components_without_self_signatures():
    alice = _raw_packets("keys/alice.pub.asc")
    carol = _raw_packets("keys/carol.pub.asc")
    packets = [
        *alice,
        Packet(Tag.USER_ID, b"Nobody", 0),
        carol[2],
        Packet(99, b"unknown", 0),
        alice[2],
    ]
    stripped = list(iter_packets(strip_certificate(packets), max_packets=100))
    assert [p.body for p in stripped] == [p.body for p in alice]


def test_publish_warns_about_roles_that_cannot_sign_and_empty_records(demo, tmp_path):
    keys_dir, owners_dir = demo
    _record(owners_dir, "viewer.json", "viewer", ("alice", "Viewer", [ALICE]))
    _record(owners_dir, "empty.json", "empty", ("nobody", "Owner", []))
    report = publish(keys_dir, owners_dir, tmp_path / "out", now=NOW)
    assert report.projects == ("demo-pkg", "empty", "viewer")
    text = "\n".join(report.warnings)
    assert "viewer.json: alice's role 'Viewer' is not Owner or Maintainer" in text
    assert "empty.json: lists no keys: nothing can be signed for empty" in text


def test_publish_rejects_broken_armor(tmp_path):
    keys_dir, owners_dir = _dirs(tmp_path, ["keys/alice.pub.asc"])
    lines = (VECTORS / "keys" / "alice.pub.asc").read_bytes().split(b"\n")
    crc = next(i for i, line in enumerate(lines) if line.startswith(b"="))
    lines[crc] = b"=AAAA"
    (keys_dir / "alice.pub.asc").write_bytes(b"\n".join(lines))
    (keys_dir / "text.asc").write_text("just some text\n")
    _record(owners_dir, "p.json", "p", ("alice", "Owner", [ALICE]))
    problems = _problems(keys_dir, owners_dir, tmp_path / "out")
    assert len(problems) == 3
    assert "armor checksum (CRC-24) does not match" in problems[0]
    assert "text.asc: no OpenPGP armor found" in problems[1]
    assert problems[2] == f"{owners_dir / 'p.json'}: lists key {ALICE}, which no key file holds"


# -- refusals ----------------------------------------------------------------------------


REFUSED_KEYS = [
    ("keys/weak/rsa1024.pub.asc", "too weak: RSA 1024 is under 2048 bits"),
    ("keys/weak/dsa1024.pub.asc", "too weak: DSA 1024 is under 2048 bits"),
    ("keys/forged-self-signature.pub.asc", "no valid self-signature"),
    ("keys/unsupported/algorithm-100.pub.asc", "unsupported: public-key algorithm"),
    ("keys/subkey-forged-back-signature.pub.asc", "no key can sign"),
    ("keys/subkey-encrypt-only.pub.asc", "no key can sign"),
]


@pytest.mark.parametrize(("vector", "expected"), REFUSED_KEYS)
def test_publish_rejects_bad_key(tmp_path, vector, expected):
    fpr = _fingerprint(vector)
    keys_dir, owners_dir = _dirs(tmp_path, [vector])
    _record(owners_dir, "p.json", "p", ("m", "Owner", [fpr]))
    problems = _problems(keys_dir, owners_dir, tmp_path / "out")
    assert len(problems) == 1
    assert problems[0].startswith(f"key {fpr} ({keys_dir / Path(vector).name}): ")
    assert expected in problems[0]


# -- revoked and expired keys are distributed, not refused --------------------------------

#: (key vector, signature by it, the warning, the verdict a verifier gets from the index)
LAPSED_KEYS = [
    (
        "keys/revoked-compromised.pub.asc",
        "bad/revoked-compromised",
        "revoked: the primary key was revoked",
        "key-revoked",
    ),
    (
        "keys/revoked-superseded-signature-before.pub.asc",
        "bad/revoked-superseded-signature-after",
        "revoked: the primary key was revoked",
        "key-revoked",
    ),
    (
        "keys/revoked-superseded-signature-before.pub.asc",
        "good/revoked-superseded-signature-before",
        "revoked: the primary key was revoked",
        "good",
    ),
    (
        "keys/primary-expired-at-reference-time.pub.asc",
        "bad/primary-expired-at-reference-time",
        "expired: the primary key expired at",
        "key-expired",
    ),
    (
        "keys/subkey-revoked-compromised.pub.asc",
        "bad/subkey-revoked-compromised",
        "no key can sign any more (",
        "key-revoked",
    ),
    (
        "keys/subkey-expired.pub.asc",
        "bad/subkey-expired",
        "no key can sign any more (",
        "key-expired",
    ),
    (
        "keys/revoked-primary-invalidates-subkey.pub.asc",
        "bad/revoked-primary-invalidates-subkey",
        "revoked: the primary key was revoked",
        "key-revoked",
    ),
]


def _vector(name):
    (entry,) = (
        v
        for v in json.loads((VECTORS / "manifest.json").read_text())["vectors"]
        if v["name"] == name
    )
    return entry


@pytest.mark.parametrize(("vector", "signed", "warning", "verdict"), LAPSED_KEYS)
def test_publish_distributes_revoked_and_expired_keys(tmp_path, vector, signed, warning, verdict):
    fpr = _fingerprint(vector)
    keys_dir, owners_dir = _dirs(tmp_path, [vector])
    _record(owners_dir, "p.json", "p", ("m", "Owner", [fpr]))
    report = publish(keys_dir, owners_dir, tmp_path / "out", now=NOW)
    assert report.keys == (fpr,)
    (note,) = report.warnings
    assert note.startswith(f"key {fpr} ({keys_dir / Path(vector).name}): {warning}")
    assert note.endswith("published so that verifiers see it (they judge each signature by it)")
    # What the index serves still carries the revocation or expiry: a verifier sees it.
    root = tmp_path / "out" / "pgp"
    entry = _vector(signed)
    result = Verifier(
        Keyring.from_files([root / "keys" / f"{fpr}.asc"]),
        owners=OwnershipRecord.from_file(root / "projects" / "p.json"),
        project="p",
    ).verify(VECTORS / entry["file"], VECTORS / entry["signature"], at=AT)
    assert result.reason.value == verdict == entry["expected"], result.message


def test_publish_distributes_a_bare_revocation_certificate(tmp_path):
    """Primary key and its revocation (0x20) only: no self-signature, still news."""
    vector = "keys/revoked-compromised.pub.asc"
    fpr = _fingerprint(vector)
    packets = _raw_packets(vector)
    bare = [
        p
        for p in packets
        if p.tag == Tag.PUBLIC_KEY
        or (p.tag == Tag.SIGNATURE and parse_signature(p.body).sig_type == 0x20)
    ]
    assert len(bare) == 2
    keys_dir, owners_dir = _dirs(tmp_path)
    (keys_dir / "revocation.gpg").write_bytes(b"".join(_frame_any(p.tag, p.body) for p in bare))
    _record(owners_dir, "p.json", "p", ("m", "Owner", [fpr]))
    report = publish(keys_dir, owners_dir, tmp_path / "out", now=NOW)
    assert report.keys == (fpr,)
    assert "revoked: the primary key was revoked" in report.warnings[0]
    entry = _vector("bad/revoked-compromised")
    ring = Keyring.from_files([tmp_path / "out" / "pgp" / "keys" / f"{fpr}.asc"])
    result = Verifier(ring).verify(VECTORS / entry["file"], VECTORS / entry["signature"], at=AT)
    assert result.reason.value == "key-revoked", result.message
    # Its twin with the revocation's math broken is forged: refused, not published.
    body = bytearray(bare[1].body)
    body[-3] ^= 0x01
    (keys_dir / "revocation.gpg").write_bytes(
        _frame_any(bare[0].tag, bare[0].body) + _frame_any(Tag.SIGNATURE, bytes(body))
    )
    problems = _problems(keys_dir, owners_dir, tmp_path / "forged")
    assert len(problems) == 1
    assert "no valid self-signature" in problems[0]


def test_publish_distributes_the_demo_revocation_to_verifiers_of_the_index(tmp_path):
    """publish -> pgp/ tree -> index -> verify: dave's revoked key gets key-revoked."""
    keys_dir, owners_dir = _dirs(tmp_path, ["demo/keyring.asc"], ["demo/owners/demo-pkg.json"])
    report = publish(keys_dir, owners_dir, tmp_path / "out", now=NOW)
    assert DAVE in report.keys
    assert report.warnings[0] == (
        f"key {DAVE} ({keys_dir / 'keyring.asc'}): revoked: the primary key was revoked at "
        "2024-06-01T00:00:00Z (compromised); published so that verifiers see it (they judge "
        "each signature by it)"
    )
    index = demo_index()
    index.documents = {u: d for u, d in index.documents.items() if not u.startswith(ROOT + "pgp/")}
    root = tmp_path / "out"
    for path in sorted((root / "pgp").rglob("*")):
        if path.is_file():
            index.put(ROOT + path.relative_to(root).as_posix(), path.read_bytes())
    client = IndexClient(index, index_url=INDEX_URL)
    for where, expected in (("", "good"), ("revoked/", "key-revoked")):
        wheel = tmp_path / where / WHEEL.name
        wheel.parent.mkdir(exist_ok=True)
        shutil.copy(VECTORS / "demo" / where / WHEEL.name, wheel)
        shutil.copy(VECTORS / "demo" / where / f"{WHEEL.name}.asc", f"{wheel}.asc")
        result = verify_from_index(wheel, client=client, at=AT).result
        assert result.reason.value == expected, result.message


def test_publish_rejects_listed_key_without_key_file(demo, tmp_path):
    keys_dir, owners_dir = demo
    _record(owners_dir, "other.json", "other", ("carol", "Owner", [CAROL]))
    problems = _problems(keys_dir, owners_dir, tmp_path / "out")
    assert problems == [f"{owners_dir / 'other.json'}: lists key {CAROL}, which no key file holds"]


def test_publish_rejects_subkey_fingerprint(tmp_path):
    keys_dir, owners_dir = _dirs(
        tmp_path,
        ["keys/alice.pub.asc", "keys/bob.pub.asc"],
    )
    shutil.copy(VECTORS / "owners" / "subkey-fingerprint-listed.json", owners_dir / "demo-pkg.json")
    problems = _problems(keys_dir, owners_dir, tmp_path / "out")
    assert problems == [
        (
            f"{owners_dir / 'demo-pkg.json'}: lists subkey {BOB_SUBKEY} of "
            f"primary {BOB}: list the primary"
        )
    ]


def test_publish_rejects_duplicate_project_records(demo, tmp_path):
    keys_dir, owners_dir = demo
    shutil.copy(
        VECTORS / "owners" / "demo-pkg-unnormalised-name.json", owners_dir / "Demo_Pkg.json"
    )
    problems = _problems(keys_dir, owners_dir, tmp_path / "out")
    assert problems == [
        (
            f"{owners_dir / 'Demo_Pkg.json'} and {owners_dir / 'demo-pkg.json'}: "
            "two ownership records for project demo-pkg"
        )
    ]


def test_publish_rejects_record_named_for_another_project(demo, tmp_path):
    keys_dir, owners_dir = demo
    # The good twin: demo-pkg.json and Demo_Pkg.json both name demo-pkg (normalized).
    assert publish(keys_dir, owners_dir, tmp_path / "good", now=NOW).projects == ("demo-pkg",)
    (owners_dir / "demo-pkg.json").rename(owners_dir / "other-pkg.json")
    problems = _problems(keys_dir, owners_dir, tmp_path / "out")
    assert problems == [
        (
            f"{owners_dir / 'other-pkg.json'}: the record is for project 'demo-pkg' but its file "
            "is named 'other-pkg.json': name it demo-pkg.json"
        )
    ]


def test_publish_rejects_key_file_named_for_another_fingerprint(tmp_path):
    keys_dir, owners_dir = _dirs(tmp_path)
    _record(owners_dir, "p.json", "p", ("alice", "Owner", [ALICE]))
    good = keys_dir / f"{ALICE.lower()}.asc"
    shutil.copy(VECTORS / "keys" / "alice.pub.asc", good)
    assert publish(keys_dir, owners_dir, tmp_path / "good", now=NOW).keys == (ALICE,)
    good.rename(keys_dir / f"{BOB}.asc")
    problems = _problems(keys_dir, owners_dir, tmp_path / "out")
    assert problems == [f"{keys_dir / (BOB + '.asc')}: named for key {BOB} but holds {ALICE}"]


@pytest.mark.parametrize(
    ("retired", "written"),
    [
        ("1970-01-01", "1970-01-01"),
        ("1970-01-01T00:00:00Z", "1970-01-01"),
        ("1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z"),
        ("0005-01-01", "0005-01-01"),
        ("0005-01-01T00:00:01Z", "0005-01-01T00:00:01Z"),
    ],
)
def test_publish_keeps_retirements_at_and_before_the_epoch(tmp_path, retired, written):
    keys_dir, owners_dir = _dirs(tmp_path, ["keys/alice.pub.asc"])
    doc = {
        "project": "p",
        "maintainers": [
            {
                "user": "alice",
                "role": "Owner",
                "keys": [{"fingerprint": ALICE, "retired": retired}],
            },
        ],
    }
    (owners_dir / "p.json").write_text(json.dumps(doc))
    publish(keys_dir, owners_dir, tmp_path / "out", now=NOW)
    path = tmp_path / "out" / "pgp" / "projects" / "p.json"
    keys = json.loads(path.read_text())["maintainers"][0]["keys"]
    assert keys == [{"fingerprint": ALICE, "retired": written}]
    parsed = OwnershipRecord.from_file(path)
    assert parsed.retired_at(ALICE) == OwnershipRecord.from_json(doc).retired_at(ALICE)
    assert parsed.retired_at(ALICE) is not None


def test_publish_writes_the_earliest_of_two_retirements_by_one_maintainer():
    record = OwnershipRecord.from_json(
        {
            "project": "p",
            "maintainers": [
                {
                    "user": "alice",
                    "role": "Owner",
                    "keys": [
                        {"fingerprint": ALICE, "retired": "2024-05-01"},
                        {"fingerprint": ALICE, "retired": "1970-01-01"},
                    ],
                },
            ],
        }
    )
    # publish() refuses a key listed twice; the writer still keeps the earliest date.
    doc = publish_module._record_json("p", record)
    assert doc["maintainers"][0]["keys"][0] == {"fingerprint": ALICE, "retired": "1970-01-01"}


def test_publish_rejects_duplicate_fingerprints(demo, tmp_path):
    keys_dir, owners_dir = demo
    _record(
        owners_dir,
        "demo-pkg.json",
        "demo-pkg",
        ("alice", "Owner", [ALICE, ALICE.lower()]),
        ("bob", "Maintainer", [BOB, ALICE]),
    )
    problems = _problems(keys_dir, owners_dir, tmp_path / "out")
    where = owners_dir / "demo-pkg.json"
    assert problems == [
        f"{where}: key {ALICE} is listed twice for alice",
        f"{where}: key {ALICE} is listed for alice and bob",
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{not json", "ownership record is not valid JSON"),
        (b'{"project": "p"}', "ownership record lacks the field 'maintainers'"),
        (
            b'{"project": "p", "maintainers": [{"user": "a", "role": "Owner", "keys": ["ABC"]}]}',
            "not a v4 key fingerprint",
        ),
        (b'{"project": "../../etc", "maintainers": []}', "is not a valid project name"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_publish_rejects_invalid_record(demo, tmp_path, content, expected):
    keys_dir, owners_dir = demo
    (owners_dir / "bad.json").write_bytes(content)
    problems = _problems(keys_dir, owners_dir, tmp_path / "out")
    assert len(problems) == 1
    assert problems[0].startswith(str(owners_dir / "bad.json"))
    assert expected in problems[0]


@pytest.mark.parametrize(
    ("vector", "expected"),
    [
        ("keys/junk-block-then-alice.pub.asc", "version 106 public key"),
        ("keys/alice-trailing-junk.pub.gpg", "not an OpenPGP packet at offset"),
        ("keys/empty.pub.asc", "the key file is empty"),
        ("external/gpg/rsa3072-primary.sig", "1 packet(s) outside any certificate"),
        ("external/sq/rsa3k.asc", "a PGP SIGNATURE is not a public key"),
    ],
)
def test_publish_rejects_junk_in_key_files(tmp_path, vector, expected):
    keys_dir, owners_dir = _dirs(tmp_path, ["keys/alice.pub.asc"])
    target = keys_dir / ("x-" + Path(vector).name.replace(".sig", ".pgp"))
    shutil.copy(VECTORS / vector, target)
    _record(owners_dir, "p.json", "p", ("alice", "Owner", [ALICE]))
    problems = _problems(keys_dir, owners_dir, tmp_path / "out")
    assert problems
    assert all(p.startswith(str(target)) for p in problems)
    assert any(expected in p for p in problems)


def test_publish_rejects_keybox_and_private_key(tmp_path):
    keys_dir, owners_dir = _dirs(tmp_path, ["keys/alice.pub.asc"])
    (keys_dir / "pubring.gpg").write_bytes(b"\x00\x00\x00\x20\x01\x01\x00\x00KBXf" + bytes(20))
    private = encode(b"\x95\x01\x00", "PRIVATE KEY BLOCK")
    (keys_dir / "secret.asc").write_bytes(private)
    alice = (VECTORS / "keys" / "alice.pub.gpg").read_bytes()
    (keys_dir / "with-secret.pgp").write_bytes(b"\xc5\x03\x04\x00\x00" + alice)
    _record(owners_dir, "p.json", "p", ("alice", "Owner", [ALICE]))
    problems = _problems(keys_dir, owners_dir, tmp_path / "out")
    assert len(problems) == 3
    assert "pubring.gpg: a GnuPG keybox" in problems[0]
    assert "secret.asc: armored block at line" in problems[1]
    assert problems[1].endswith(": a private key: export the public key only")
    assert "with-secret.pgp: a secret key at offset 0: export the public key only" in problems[2]


def test_publish_rejects_empty_inputs(tmp_path):
    keys_dir, owners_dir = _dirs(tmp_path)
    problems = _problems(keys_dir, owners_dir, tmp_path / "out")
    assert problems == [
        f"{keys_dir}: no key files (*.asc, *.gpg, *.pgp)",
        f"{owners_dir}: no ownership records (*.json) to publish",
    ]
    problems = _problems(tmp_path / "missing", tmp_path / "absent", tmp_path / "out")
    assert len(problems) == 2
    assert all("does not exist" in p for p in problems)


def test_publish_lists_every_problem_at_once(demo, tmp_path):
    keys_dir, owners_dir = demo
    for vector in (
        "keys/revoked-compromised.pub.asc",
        "keys/weak/rsa1024.pub.asc",
        "keys/primary-expired-at-reference-time.pub.asc",
        "keys/forged-self-signature.pub.asc",
        "keys/bob.pub.asc",
    ):
        shutil.copy(VECTORS / vector, keys_dir)
    revoked = _fingerprint("keys/revoked-compromised.pub.asc")
    weak = _fingerprint("keys/weak/rsa1024.pub.asc")
    expired = _fingerprint("keys/primary-expired-at-reference-time.pub.asc")
    forged = _fingerprint("keys/forged-self-signature.pub.asc")
    _record(
        owners_dir,
        "zz.json",
        "zz",
        ("a", "Owner", [revoked, weak, expired, forged]),
        ("b", "Maintainer", [BOB_SUBKEY, CAROL, weak]),
    )
    shutil.copy(VECTORS / "owners" / "demo-pkg-unnormalised-name.json", owners_dir)
    shutil.copy(
        VECTORS / "owners" / "demo-pkg-unnormalised-name.json", owners_dir / "Demo_Pkg.json"
    )
    (owners_dir / "broken.json").write_text("[")

    with pytest.raises(PublishError) as info:
        publish(keys_dir, owners_dir, tmp_path / "out", now=NOW)
    assert not (tmp_path / "out").exists()
    problems = info.value.problems
    text = "\n".join(problems)
    assert len(problems) == 8, text
    assert "broken.json: ownership record is not valid JSON" in text
    assert (
        "demo-pkg-unnormalised-name.json: the record is for project 'Demo_Pkg' but its "
        "file is named 'demo-pkg-unnormalised-name.json': name it demo-pkg.json"
    ) in text
    assert "two ownership records for project demo-pkg" in text
    assert f"lists subkey {BOB_SUBKEY} of primary {BOB}" in text
    assert f"lists key {CAROL}, which no key file holds" in text
    assert f"key {weak} is listed for a and b" in text
    assert f"key {weak} (" in text
    assert "too weak" in text
    assert f"key {forged} (" in text
    assert "no valid self-signature" in text
    # Revoked and expired keys are not problems: they are published, with a warning.
    assert f"key {revoked} " not in text
    assert f"key {expired} " not in text
    assert str(info.value).endswith("(and 7 more)")


def test_publish_respects_limits(demo, tmp_path):
    keys_dir, owners_dir = demo
    small = Limits(keyring_bytes=1000, owners_bytes=100)
    with pytest.raises(PublishError) as info:
        publish(keys_dir, owners_dir, tmp_path / "out", now=NOW, limits=small)
    problems = info.value.problems
    assert len(problems) == 2
    assert "keyring.asc: size of the key file exceeds the limit of 1000" in problems[0]
    assert "demo-pkg.json: size of the ownership record exceeds the limit of 100" in problems[1]
    one = Limits(certificates=1)
    with pytest.raises(PublishError) as info:
        publish(keys_dir, owners_dir, tmp_path / "out", now=NOW, limits=one)
    assert "number of certificates exceeds the limit of 1" in info.value.problems[0]
    few = Limits(certificate_packets=2)
    with pytest.raises(PublishError) as info:
        publish(keys_dir, owners_dir, tmp_path / "out", now=NOW, limits=few)
    assert "number of packets in one certificate exceeds the limit of 2" in info.value.problems[0]


# -- writing -----------------------------------------------------------------------------


def test_publish_removes_stale_files_and_keeps_others(demo, tmp_path):
    keys_dir, owners_dir = demo
    out = tmp_path / "out"
    _record(owners_dir, "old-project.json", "old-project", ("mallory", "Owner", [MALLORY]))
    first = publish(keys_dir, owners_dir, out, now=NOW)
    assert first.projects == ("demo-pkg", "old-project")
    assert (out / "pgp" / "keys" / f"{MALLORY}.asc").exists()
    (out / "pgp" / "README.txt").write_text("kept\n")
    (out / "pgp" / "keys" / "notes.txt").write_text("kept\n")
    (out / "pgp" / "keys" / "readme.asc").write_text("kept: not a fingerprint\n")

    (owners_dir / "old-project.json").unlink()
    second = publish(keys_dir, owners_dir, out, now=NOW)
    assert second.removed == (f"keys/{MALLORY}.asc", "projects/old-project.json")
    assert sorted(_tree(out / "pgp")) == [
        "README.txt",
        "index.json",
        f"keys/{BOB}.asc",
        f"keys/{ALICE}.asc",
        "keys/notes.txt",
        "keys/readme.asc",
        "projects/demo-pkg.json",
    ]
    assert json.loads((out / "pgp" / "index.json").read_text()) == {"projects": ["demo-pkg"]}


@pytest.mark.parametrize("fail_at", [1, 2, 3, 4, 5, 6])
def test_publish_failure_while_replacing_leaves_previous_tree(demo, tmp_path, monkeypatch, fail_at):
    keys_dir, owners_dir = demo
    out = tmp_path / "out"
    _record(owners_dir, "old-project.json", "old-project", ("mallory", "Owner", [MALLORY]))
    publish(keys_dir, owners_dir, out, now=NOW)
    before = _tree(out / "pgp")

    # The next publish changes a record, adds a project and removes one: every kind of step.
    (owners_dir / "old-project.json").unlink()
    _record(owners_dir, "demo-pkg.json", "demo-pkg", ("alice", "Owner", [ALICE]))
    _record(owners_dir, "new-project.json", "new-project", ("bob", "Owner", [BOB]))
    real_replace = pathlib.Path.replace
    calls = []

    def flaky_replace(self, target):
        calls.append(self)
        if len(calls) == fail_at:
            raise OSError(28, "No space left on device", str(target))
        return real_replace(self, target)

    monkeypatch.setattr(pathlib.Path, "replace", flaky_replace)
    with pytest.raises(PublishError) as info:
        publish(keys_dir, owners_dir, out, now=NOW)
    assert "No space left on device" in info.value.problems[0]
    assert _tree(out / "pgp") == before
    assert [p.name for p in out.iterdir()] == ["pgp"]
    monkeypatch.undo()

    # And the next attempt goes through.
    report = publish(keys_dir, owners_dir, out, now=NOW)
    assert report.projects == ("demo-pkg", "new-project")
    assert report.removed == (f"keys/{MALLORY}.asc", "projects/old-project.json")


def test_publish_failure_while_staging_leaves_previous_tree(demo, tmp_path, monkeypatch):
    keys_dir, owners_dir = demo
    out = tmp_path / "out"
    publish(keys_dir, owners_dir, out, now=NOW)
    before = _tree(out / "pgp")
    _record(owners_dir, "new-project.json", "new-project", ("bob", "Owner", [BOB]))
    written = []
    real_write = publish_module._write_file

    def failing_write(path, data):
        written.append(path)
        if len(written) == 3:
            raise OSError(5, "Input/output error", str(path))
        real_write(path, data)

    monkeypatch.setattr(publish_module, "_write_file", failing_write)
    with pytest.raises(PublishError):
        publish(keys_dir, owners_dir, out, now=NOW)
    assert _tree(out / "pgp") == before
    assert [p.name for p in out.iterdir()] == ["pgp"]


def test_publish_reports_unwritable_output(demo, tmp_path):
    keys_dir, owners_dir = demo
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(PublishError) as info:
        publish(keys_dir, owners_dir, blocker / "out", now=NOW)
    assert "cannot write" in info.value.problems[0]


# -- armor writer ------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 3, 47, 48, 49, 200, 5000])
def test_armor_encode_round_trips(size):
    data = bytes(range(256)) * (size // 256 + 1)
    data = data[:size]
    armored = encode(data, "PUBLIC KEY BLOCK", (("Comment", "test key"),))
    lines = armored.split(b"\n")
    assert lines[0] == b"-----BEGIN PGP PUBLIC KEY BLOCK-----"
    assert lines[1] == b"Comment: test key"
    assert lines[2] == b""
    assert lines[-2] == b"-----END PGP PUBLIC KEY BLOCK-----"
    assert lines[-1] == b""
    assert all(len(line) <= 64 for line in lines)
    assert lines[-3] == b"=" + __import__("base64").b64encode(crc24(data).to_bytes(3, "big"))
    (block,) = decode_blocks(armored)
    assert block.error is None
    assert block.data == data


@pytest.mark.parametrize(
    ("label", "headers"),
    [
        ("A-B", ()),
        ("", ()),
        ("X\nY", ()),
        ("SIGNATURE", (("a:b", "c"),)),
        ("SIGNATURE", (("Comment", "a\nb"),)),
        ("SIGNATURE", (("", "c"),)),
    ],
)
def test_armor_encode_rejects_unreadable_label_or_header(label, headers):
    with pytest.raises(ValueError):
        encode(b"x", label, headers)


# -- bounded work (issue 8 §5) -------------------------------------------------------------


@pytest.mark.parametrize("over", [True, False])
def test_publish_rejects_a_certificate_past_the_work_cap(tmp_path, over):
    # 32 forged self-signatures with correct hash prefixes, newer than the real one: the cap
    # stops the judgement before a decision, which is a problem, never an exception.
    name = "junk-self-signatures-over-cap" if over else "junk-self-signatures-under-cap"
    vector = f"keys/work/{name}.pub.asc"
    keys_dir, owners_dir = _dirs(tmp_path, [vector])
    fpr = _fingerprint(vector)
    _record(owners_dir, "work.json", "work", ("w", "Owner", [fpr]))
    out = tmp_path / "out"
    if not over:
        publish(keys_dir, owners_dir, out, now=NOW)
        assert (out / "pgp" / "keys" / f"{fpr}.asc").exists()
        return
    (problem,) = _problems(keys_dir, owners_dir, out)
    assert f"key {fpr}" in problem
    assert "not judged" in problem
    assert "self-signatures checked on one user ID exceeds the limit of 32" in problem


@pytest.mark.parametrize("which", ["keys", "owners", "out"])
@pytest.mark.parametrize("bad", ["x" * 300, "nul\x00byte"])
def test_publish_rejects_an_unusable_directory_path_with_a_publish_error(tmp_path, which, bad):
    dirs = {"keys": tmp_path / "keys", "owners": tmp_path / "owners", "out": tmp_path / "out"}
    dirs["keys"].mkdir()
    dirs["owners"].mkdir()
    shutil.copy(VECTORS / "demo" / "keyring.asc", dirs["keys"])
    shutil.copy(VECTORS / "demo" / "owners" / "demo-pkg.json", dirs["owners"])
    publish(dirs["keys"], dirs["owners"], tmp_path / "good", now=NOW)  # the good twin
    dirs[which] = tmp_path / bad
    with pytest.raises(PublishError):
        publish(dirs["keys"], dirs["owners"], dirs["out"], now=NOW)


def test_publish_rejects_a_key_its_policy_refuses(tmp_path):
    """publish judges with the verifier's Policy object: a stricter one refuses more."""
    from pgpverify.openpgp.constants import HashAlgo
    from pgpverify.policy import DEFAULT_POLICY, Policy

    vector = "keys/sha1-self-signature-binding-back-signature.pub.asc"
    fpr = _fingerprint(vector)
    keys_dir, owners_dir = _dirs(tmp_path, [vector])
    _record(owners_dir, "p.json", "p", ("m", "Owner", [fpr]))
    assert publish(keys_dir, owners_dir, tmp_path / "ok", now=NOW).keys == (fpr,)
    no_sha1 = Policy(certificate_hashes=DEFAULT_POLICY.certificate_hashes - {HashAlgo.SHA1})
    with pytest.raises(PublishError) as err:
        publish(keys_dir, owners_dir, tmp_path / "out", now=NOW, policy=no_sha1)
    assert "no valid self-signature" in err.value.problems[0]
    alice = "keys/alice.pub.asc"
    (tmp_path / "rsa").mkdir()
    keys_dir, owners_dir = _dirs(tmp_path / "rsa", [alice])
    _record(owners_dir, "p.json", "p", ("m", "Owner", [_fingerprint(alice)]))
    with pytest.raises(PublishError) as err:
        publish(
            keys_dir, owners_dir, tmp_path / "out", now=NOW, policy=Policy(min_modulus_bits=4096)
        )
    assert "too weak: RSA 3072 is under 4096 bits" in err.value.problems[0]


def test_publish_rejects_a_record_listing_more_keys_than_the_limit(tmp_path):
    keys_dir, owners_dir = tmp_path / "keys", tmp_path / "owners"
    keys_dir.mkdir()
    owners_dir.mkdir()
    shutil.copy(VECTORS / "demo" / "keyring.asc", keys_dir)
    shutil.copy(VECTORS / "demo" / "owners" / "demo-pkg.json", owners_dir)
    three = Limits(record_keys=3)
    publish(keys_dir, owners_dir, tmp_path / "good", now=NOW, limits=three)  # the good twin
    with pytest.raises(PublishError, match=r"lists 3 keys, more than Limits.record_keys \(2\)"):
        publish(keys_dir, owners_dir, tmp_path / "out", now=NOW, limits=Limits(record_keys=2))
