"""Persisted keyring indexes (pgpverify.index.keyidx, pgpverify.openpgp.keyring_index).

An index is reused only while the keyring file is unchanged, and is never trusted for
more than offsets: a stale, corrupt or forged index changes no verdict. Each test compares
the verdict with the index against the verdict of a full scan, for a good, a revoked and a
tampered signature (the revocation lives in the certificate the index points at).
"""

from __future__ import annotations

import hashlib
import os
import struct
from datetime import datetime, timezone
from pathlib import Path

import pytest

import pgpverify.cli as cli_module
import pgpverify.openpgp.keyring as keyring_module
from pgpverify.cli import main
from pgpverify.index import keyidx
from pgpverify.index.keyidx import KeyringIndexStore
from pgpverify.limits import DEFAULT_LIMITS
from pgpverify.openpgp.armor import decode_blocks
from pgpverify.openpgp.keyring import Keyring
from pgpverify.openpgp.keyring_index import (
    CERT_RECORD,
    KEY_RECORD,
    IndexMismatch,
    KeyringIndex,
    frame_span,
)
from pgpverify.verify import Verifier

DEMO = Path(__file__).resolve().parent.parent / "vectors" / "demo"
WHEEL = "demo_pkg-1.0.0-py3-none-any.whl"
AT = datetime(2025, 6, 1, tzinfo=timezone.utc)
CASES = {  # signed file -> verdict of a full scan
    DEMO / WHEEL: "good",
    DEMO / "revoked" / WHEEL: "key-revoked",
    DEMO / "tampered" / WHEEL: "bad-signature",
}


@pytest.fixture(autouse=True)
def _index_every_binary_keyring(monkeypatch):
    # the demo keyring is small: index it as the Debian keyring (28 MB) would be
    monkeypatch.setattr(keyring_module, "_MAP_THRESHOLD", 0)
    monkeypatch.setattr(cli_module, "_INDEXED_KEYRING_BYTES", 0)


@pytest.fixture
def ring_file(tmp_path):
    blocks = decode_blocks((DEMO / "keyring.asc").read_bytes())
    path = tmp_path / "keyring.gpg"
    path.write_bytes(b"".join(b.data for b in blocks))
    return path


def verdicts(ring: Keyring) -> dict[Path, str]:
    verifier = Verifier(ring)
    return {f: verifier.verify(f, at=AT).reason.value for f in CASES}


def judged(path: Path, store: KeyringIndexStore) -> dict[Path, str]:
    """What the command does: with the index, and again from a scan if it does not hold."""
    ring = Keyring.from_files([path], index=store)
    try:
        return verdicts(ring)
    except IndexMismatch:
        return verdicts(Keyring.from_files([path], index=store, rescan=True))


def test_keyidx_written_once_then_reused(ring_file, tmp_path):
    store = KeyringIndexStore(tmp_path / "cache")
    first = Keyring.from_files([ring_file], index=store)
    assert store.written == 1
    assert verdicts(first) == CASES
    second = Keyring.from_files([ring_file], index=store)
    assert store.written == 1  # nothing scanned, nothing written
    assert second._indexes  # through the index, not a scan
    assert verdicts(second) == CASES
    assert len(second) == len(first)
    assert sorted(second.fingerprints) == sorted(first.fingerprints)
    mode = store.path_for(ring_file).stat().st_mode & 0o777
    assert mode == 0o600


def test_keyidx_index_equals_the_scan(ring_file):
    ring = Keyring.from_files([ring_file])
    data = ring_file.read_bytes()
    index = honest(ring_file)
    assert index.certificates == len(ring)
    for fpr in ring.fingerprints:
        assert index.spans(fpr)
        for start, end in index.spans(fpr):
            facts = frame_span(data, start, end, fpr, max_packets=10_000)
            for key in facts.keys:
                assert fpr in index.primaries(key)


@pytest.mark.parametrize("change", ["append", "same-size-rewrite", "touch", "replace"])
def test_keyidx_rejects_stale_index(ring_file, tmp_path, change):
    store = KeyringIndexStore(tmp_path / "cache")
    Keyring.from_files([ring_file], index=store)
    data = ring_file.read_bytes()
    stat = ring_file.stat()
    if change == "append":  # a certificate added
        ring_file.write_bytes(data + data)
    elif change == "same-size-rewrite":  # same size, same time: the content check sees it
        ring_file.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
        os.utime(ring_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    elif change == "touch":
        os.utime(ring_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    else:  # another inode (a new file moved in place)
        other = tmp_path / "new.gpg"
        other.write_bytes(data)
        other.replace(ring_file)
    mapped = ring_file.read_bytes()
    assert store.load(ring_file, mapped, DEFAULT_LIMITS) is None
    ring = Keyring.from_files([ring_file], index=store)
    assert not ring._indexes
    assert store.written == 2


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "garbage", "magic"])
def test_keyidx_rejects_corrupt_index(ring_file, tmp_path, damage):
    store = KeyringIndexStore(tmp_path / "cache")
    Keyring.from_files([ring_file], index=store)
    path = store.path_for(ring_file)
    blob = path.read_bytes()
    path.write_bytes(
        {
            "truncate": blob[: len(blob) // 2],
            "flip": blob[:40] + bytes([blob[40] ^ 0x80]) + blob[41:],
            "empty": b"",
            "garbage": os.urandom(len(blob)),
            "magic": b"X" + blob[1:],
        }[damage]
    )
    assert store.load(ring_file, ring_file.read_bytes(), DEFAULT_LIMITS) is None
    assert judged(ring_file, store) == CASES


def test_keyidx_rejects_index_built_under_other_limits(ring_file, tmp_path):
    store = KeyringIndexStore(tmp_path / "cache")
    Keyring.from_files([ring_file], index=store)
    other = DEFAULT_LIMITS.__class__(**{**_fields(DEFAULT_LIMITS), "certificate_packets": 999})
    assert store.load(ring_file, ring_file.read_bytes(), other) is None


def _fields(limits):
    return {name: getattr(limits, name) for name in limits.__dataclass_fields__}


# -- hostile indexes: a valid file whose claims are false ----------------------------------


def forge(store: KeyringIndexStore, path: Path, index: KeyringIndex) -> None:
    """Write ``index`` for ``path`` as the store would: it passes every file check."""
    store.save(path, path.read_bytes(), index, DEFAULT_LIMITS)
    assert store.load(path, path.read_bytes(), DEFAULT_LIMITS) == index


def honest(path: Path) -> KeyringIndex:
    ring = Keyring.from_files([path])
    data = ring._packets[ring.fingerprints[0]][0][0]
    return ring.scan_index(data, str(path))


def records(table: bytes, width: int) -> list[bytes]:
    return [table[i : i + width] for i in range(0, len(table), width)]


def test_keyring_index_rejects_keys_pointed_at_another_certificate(ring_file, tmp_path):
    index = honest(ring_file)
    rows = records(index.keys, KEY_RECORD)
    fprs = sorted({r[8:] for r in rows})
    assert len(fprs) >= 2
    # every key ID claimed by the first certificate: a key held elsewhere is "found" there
    swapped = sorted(r[:8] + fprs[0] for r in rows)
    forged = KeyringIndex(
        certs=index.certs,
        keys=b"".join(swapped),
        certificates=index.certificates,
        packets=index.packets,
    )
    store = KeyringIndexStore(tmp_path / "cache")
    forge(store, ring_file, forged)
    assert judged(ring_file, store) == CASES


@pytest.mark.parametrize("shift", [-1, 1, 5])
def test_keyring_index_rejects_spans_that_do_not_frame(ring_file, tmp_path, shift):
    index = honest(ring_file)
    certs = []
    for row in records(index.certs, CERT_RECORD):
        start, end = struct.unpack(">QQ", row[20:])
        certs.append(row[:20] + struct.pack(">QQ", max(0, start + shift), end + shift))
    forged = KeyringIndex(
        certs=b"".join(certs),
        keys=index.keys,
        certificates=index.certificates,
        packets=index.packets,
    )
    store = KeyringIndexStore(tmp_path / "cache")
    forge(store, ring_file, forged)
    assert judged(ring_file, store) == CASES


def test_keyring_index_rejects_a_span_that_hides_a_revocation(ring_file, tmp_path):
    # each certificate's span cut short by its last packet: the revocation of the revoked
    # key (or a binding) would be left out; framing sees the end is not the next start
    index = honest(ring_file)
    certs = [
        row[:28] + struct.pack(">Q", struct.unpack(">Q", row[28:])[0] - 1)
        for row in records(index.certs, CERT_RECORD)
    ]
    forged = KeyringIndex(
        certs=b"".join(certs),
        keys=index.keys,
        certificates=index.certificates,
        packets=index.packets,
    )
    store = KeyringIndexStore(tmp_path / "cache")
    forge(store, ring_file, forged)
    assert judged(ring_file, store) == CASES


def test_keyring_index_rejects_a_key_left_out(ring_file, tmp_path):
    # an index that knows no key at all: "not found" is never taken from an index
    index = honest(ring_file)
    forged = KeyringIndex(
        certs=index.certs, keys=b"", certificates=index.certificates, packets=index.packets
    )
    store = KeyringIndexStore(tmp_path / "cache")
    forge(store, ring_file, forged)
    ring = Keyring.from_files([ring_file], index=store)
    with pytest.raises(IndexMismatch):
        verdicts(ring)
    assert judged(ring_file, store) == CASES


def test_keyring_index_rejects_records_of_the_wrong_width(ring_file, tmp_path):
    index = honest(ring_file)
    forged = KeyringIndex(
        certs=index.certs + b"x",
        keys=index.keys,
        certificates=index.certificates,
        packets=index.packets,
    )
    store = KeyringIndexStore(tmp_path / "cache")
    forge(store, ring_file, forged)
    ring = Keyring.from_files([ring_file], index=store)
    assert not ring._indexes  # dropped at load, scanned
    assert verdicts(ring) == CASES


def test_keyring_index_rejects_a_certificate_count_over_the_cap(ring_file, tmp_path):
    index = honest(ring_file)
    forged = KeyringIndex(
        certs=index.certs,
        keys=index.keys,
        certificates=index.certificates,
        packets=DEFAULT_LIMITS.keyring_packets + 1,
    )
    store = KeyringIndexStore(tmp_path / "cache")
    forge(store, ring_file, forged)
    ring = Keyring.from_files([ring_file], index=store)
    assert not ring._indexes
    assert verdicts(ring) == CASES


def test_keyidx_keeps_warnings_of_the_scan(tmp_path):
    junk = tmp_path / "junk.gpg"
    blocks = decode_blocks((DEMO / "keyring.asc").read_bytes())
    # a user ID packet before any key: skipped with a warning by the scan
    junk.write_bytes(b"\xb4\x03abc" + b"".join(b.data for b in blocks))
    store = KeyringIndexStore(tmp_path / "cache")
    scanned = Keyring.from_files([junk], index=store)
    indexed = Keyring.from_files([junk], index=store)
    assert indexed._indexes
    assert scanned.warnings
    assert indexed.warnings == scanned.warnings


# -- the command -----------------------------------------------------------------------------


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.mark.parametrize(("file", "verdict"), list(CASES.items()))
def test_cli_keyring_index_same_verdict_warm_and_forged(capsys, ring_file, tmp_path, file, verdict):
    cache = tmp_path / "cache"
    args = [
        "verify",
        file,
        "--keyring",
        ring_file,
        "--at",
        "2025-06-01T00:00:00Z",
        "--format",
        "json",
        "--cache-dir",
        cache,
    ]
    codes = [run_cli(capsys, *args)[0] for _ in range(2)]  # cold (writes), warm (reads)
    assert codes == [0, 0] if verdict == "good" else codes == [1, 1]
    store = KeyringIndexStore(cache)
    index = store.load(ring_file, ring_file.read_bytes(), DEFAULT_LIMITS)
    assert index is not None
    forge(
        store,
        ring_file,
        KeyringIndex(
            certs=index.certs, keys=b"", certificates=index.certificates, packets=index.packets
        ),
    )
    code, out, _ = run_cli(capsys, *args)
    assert (code == 0) == (verdict == "good")
    assert f'"reason": "{verdict}"' in out
    # the forged index was replaced by a scan's
    assert store.load(ring_file, ring_file.read_bytes(), DEFAULT_LIMITS) == index


def test_cli_no_cache_writes_no_keyring_index(capsys, ring_file, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(keyidx.KeyringIndexStore, "save", lambda *a: pytest.fail("wrote an index"))  # noqa: ARG005
    code, _, _ = run_cli(
        capsys,
        "verify",
        DEMO / WHEEL,
        "--keyring",
        ring_file,
        "--at",
        "2025-06-01T00:00:00Z",
        "--no-cache",
    )
    assert code == 0


def test_keyidx_path_is_per_real_path(tmp_path):
    store = KeyringIndexStore(tmp_path)
    a = tmp_path / "a.gpg"
    a.write_bytes(b"x")
    link = tmp_path / "link.gpg"
    link.symlink_to(a)
    assert store.path_for(a) == store.path_for(link)
    assert store.path_for(a).name == hashlib.sha256(os.fsencode(a.resolve())).hexdigest() + ".idx"


@pytest.mark.parametrize("xdg", [None, "/tmp/xdg-cache", "relative/cache", ""])
def test_keyidx_default_directory_is_the_cache_directory(monkeypatch, xdg):
    # computed without platformdirs on Linux (start-up cost), it must be the same place
    from pgpverify.index.cache import default_cache_dir

    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    assert keyidx.default_directory() == default_cache_dir()


def test_keyring_index_many_holders_frames_at_most_the_cap(tmp_path, monkeypatch):
    # 40 certificates share a signing subkey: through the index, proving 17 holders is
    # enough for the verifier's count to refuse; the other 23 are never framed
    from certbuild import K0, Cert, binding, key, uid_packet
    from certbuild import certification as certify

    shared = key("keyidx shared subkey", K0 + 1)

    def holder(i):
        primary = key(f"keyidx holder {i}")
        uid = f"holder {i} <h{i}@example.org>".encode()
        return (
            Cert(primary)
            .add(primary.packet())
            .add(uid_packet(uid), certify(primary, uid, K0))
            .add(shared.packet(subkey=True), binding(primary, shared, K0 + 1))
            .octets()
        )

    path = tmp_path / "shared.gpg"
    path.write_bytes(b"".join(holder(i) for i in range(40)))
    store = KeyringIndexStore(tmp_path / "cache")
    scanned = Keyring.from_files([path], index=store)
    assert scanned.holder_count(shared.key_id) == 40
    framed = []
    real = keyring_module.frame_span
    monkeypatch.setattr(
        keyring_module, "frame_span", lambda *a, **kw: framed.append(a[1]) or real(*a, **kw)
    )
    indexed = Keyring.from_files([path], index=store)
    assert indexed._indexes
    count = indexed.holder_count(shared.fingerprint)
    assert DEFAULT_LIMITS.candidates < count <= DEFAULT_LIMITS.candidates + 1
    assert len(framed) == DEFAULT_LIMITS.candidates + 1


def test_keyring_index_rejects_an_index_of_no_certificate(ring_file, tmp_path):
    # an empty keyring is a verdict (unknown-key); an index never says the file is empty
    forged = KeyringIndex(certs=b"", keys=b"", certificates=0, packets=0)
    store = KeyringIndexStore(tmp_path / "cache")
    forge(store, ring_file, forged)
    ring = Keyring.from_files([ring_file], index=store)
    assert not ring._indexes
    assert len(ring) == len(Keyring.from_files([ring_file]))
    assert verdicts(ring) == CASES


def test_keyidx_rejects_an_index_larger_than_its_keyring(ring_file, tmp_path):
    # reading a huge planted file at every run would cost more than the scan it saves
    store = KeyringIndexStore(tmp_path / "cache")
    Keyring.from_files([ring_file], index=store)
    path = store.path_for(ring_file)
    blob = path.read_bytes()
    path.write_bytes(blob[:-32] + b"\n" * (ring_file.stat().st_size + 70_000) + blob[-32:])
    assert store.load(ring_file, ring_file.read_bytes(), DEFAULT_LIMITS) is None


def test_keyidx_rejects_an_index_replaying_too_many_warnings(ring_file, tmp_path):
    index = honest(ring_file)
    flood = KeyringIndex(
        certs=index.certs,
        keys=index.keys,
        certificates=index.certificates,
        packets=index.packets,
        warnings=("x",) * 1001,
    )
    store = KeyringIndexStore(tmp_path / "cache")
    store.save(ring_file, ring_file.read_bytes(), flood, DEFAULT_LIMITS)
    assert store.written == 0  # never written: it would never be read back
    assert store.load(ring_file, ring_file.read_bytes(), DEFAULT_LIMITS) is None


def _boundaries(data: bytes, start: int, end: int) -> list[int]:
    from pgpverify.openpgp.packets import frame

    found, pos = [], start
    while pos < end:
        pos = frame(data, pos)[2]
        found.append(pos)
    return found


@pytest.mark.parametrize("kept", [1, 2, 3, 4, 5, 6, -1])
def test_keyring_index_rejects_a_span_cut_at_a_packet_boundary(ring_file, tmp_path, kept):
    # each certificate's span ends after its first `kept` packets (-1: all but the last),
    # so its revocation, a binding or a self-signature is left out: every packet still
    # frames, but the span does not end where the certificate ends (the next primary key
    # or the end of the file), and the verdict must be the full scan's
    index = honest(ring_file)
    data = ring_file.read_bytes()
    certs = []
    for row in records(index.certs, CERT_RECORD):
        start, end = struct.unpack(">QQ", row[20:])
        ends = _boundaries(data, start, end)
        cut = ends[-2] if kept == -1 and len(ends) > 1 else ends[min(kept, len(ends)) - 1]
        certs.append(row[:28] + struct.pack(">Q", cut))
    forged = KeyringIndex(
        certs=b"".join(certs),
        keys=index.keys,
        certificates=index.certificates,
        packets=index.packets,
    )
    store = KeyringIndexStore(tmp_path / "cache")
    forge(store, ring_file, forged)
    assert judged(ring_file, store) == CASES


def test_keyidx_keyring_given_as_a_str_is_mapped_indexed_and_reused(ring_file, tmp_path):
    # the library takes paths as str too (the CLI passes str: no pathlib on its path)
    store = KeyringIndexStore(tmp_path / "cache")
    spelled = f"{ring_file.parent}//./{ring_file.name}"
    first = Keyring.from_files([spelled], index=store)
    assert store.written == 1
    assert verdicts(first) == CASES
    second = Keyring.from_files([str(ring_file)], index=store)
    assert store.written == 1  # the same file: its index is reused
    assert verdicts(second) == CASES
    str_docs = {str(f): v for f, v in CASES.items()}
    verifier = Verifier(second)
    assert {f: verifier.verify(f, at=AT).reason.value for f in str_docs} == str_docs


def test_keyidx_rejects_indexing_a_keyring_with_a_revocation_certificate(tmp_path):
    # An index finds certificates only: a keyring holding a key revocation outside any
    # certificate (a revocation certificate put first) is scanned each time, never indexed,
    # so that the revocation is never lost.
    from certbuild import DOCUMENT, document_signature, key_revocation, signer_cert

    cert, primary, sub = signer_cert("keyidx-revocation", subkey=True)
    path = tmp_path / "ring.gpg"
    path.write_bytes(key_revocation(primary, 1_717_200_000) + cert.octets())
    doc = tmp_path / "doc"
    doc.write_bytes(DOCUMENT)
    (tmp_path / "doc.asc").write_bytes(document_signature(sub))
    store = KeyringIndexStore(tmp_path / "cache")
    for _ in range(2):
        ring = Keyring.from_files([path], index=store)
        assert not ring._indexes
        assert Verifier(ring).verify(doc, at=AT).reason.value == "key-revoked"
    assert store.written == 0
