"""Trust memory: no sequence of index answers weakens what was seen without saying so.

Hypothesis plays a compromised (or just changing) index against one machine's SQLite
cache: a sequence of ownership records for the demo project, each drawn from a small
universe (three users, three roles one of which cannot sign, the demo's three real keys,
retirement dates including the epoch), each verified with or without
``--fail-on-key-change``, through :func:`pgpverify.workflows.verify_from_index` over an
in-memory index. After every answer:

- a statement that differs from the one remembered is reported (``keys_changed``);
- one that lets any key sign at any time it could not, or a new user sign, is reported
  as widening. "Could sign" is judged here on a grid of times from the records' meaning,
  independently of :func:`pgpverify.trust.memory.widens`;
- with the flag, a widening answer is rejected (``keys-changed``) and the memory does
  not move; without it, the answer becomes the memory.

A second property serves random older copies of a revoked certificate (any subset of its
packets) and checks that what is remembered always holds every packet ever served.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from _strategies import SETTINGS
from hypothesis import given
from hypothesis import strategies as st

from pgpverify.index.cache import Cache, MemoryState
from pgpverify.index.client import IndexClient, ProjectKeys
from pgpverify.openpgp.armor import decode_blocks
from pgpverify.openpgp.keyring import Keyring
from pgpverify.openpgp.packets import Tag, iter_packets
from pgpverify.trust.memory import TrustStatement, union_certificate
from pgpverify.trust.owners import OwnershipRecord
from pgpverify.workflows import KEYS_CHANGED, remembered_keyring, verify_from_index


def _load(name: str):
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).resolve().parent.parent / f"{name}.py"
        )
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


fakeindex = _load("fakeindex")
AT = datetime(2025, 6, 1, tzinfo=timezone.utc)
RECORD_URL = fakeindex.ROOT + "pgp/projects/demo-pkg.json"
KEYS = (
    "DBB45D692413FC66E3CB87089B617AE7AD1F8C84",
    "36FF105B8A4F39B79348ACB434B57E55CBEE8D98",
    "11B543008E037F93A69E40E5F64134C69A45844B",
)
T1, T2 = 1_700_000_000, 1_720_000_000
RETIRED = (None, 0, T1, T2)
GRID = (-1, 0, T1 - 1, T1, T2 - 1, T2, T2 + 1)
SIGNING_ROLES = ("Owner", "Maintainer")

GRANT = st.tuples(
    st.sampled_from(("alice", "bob", "carol")),
    st.sampled_from(("Owner", "Maintainer", "Viewer")),
    st.sampled_from(KEYS),
    st.sampled_from(RETIRED),
)
RECORD = st.lists(GRANT, min_size=1, max_size=5)
STEP = st.tuples(RECORD, st.booleans())


def _record_json(grants: list[tuple[str, str, str, int | None]]) -> bytes:
    maintainers: dict[tuple[str, str], list[object]] = {}
    for user, role, fpr, retired in grants:
        keys = maintainers.setdefault((user, role), [])
        if retired is None:
            keys.append(fpr)
        else:
            when = datetime.fromtimestamp(retired, tz=timezone.utc).isoformat()
            keys.append({"fingerprint": fpr, "retired": when})
    doc = {
        "project": "demo-pkg",
        "maintainers": [{"user": u, "role": r, "keys": k} for (u, r), k in maintainers.items()],
    }
    return json.dumps(doc).encode()


def _may_sign(statement: TrustStatement) -> set[tuple[str, str, int]]:
    """(user, key, time) triples the statement allows, judged on the grid of times.

    A key signs for a user who lists it under a signing role, before the earliest
    retirement any entry gives the key.
    """
    allowed = set()
    for grant in statement.grants:
        if grant.role not in SIGNING_ROLES:
            continue
        retirements = [
            g.retired
            for g in statement.grants
            if g.fingerprint == grant.fingerprint and g.retired is not None
        ]
        for t in GRID:
            if not retirements or t < min(retirements):
                allowed.add((grant.user, grant.fingerprint, t))
    return allowed


@given(st.lists(STEP, min_size=1, max_size=5))
@SETTINGS
def test_memory_no_answer_weakens_what_was_seen_silently(steps):
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        wheel = directory / fakeindex.WHEEL
        shutil.copy(fakeindex.DEMO / fakeindex.WHEEL, wheel)
        shutil.copy(fakeindex.DEMO / f"{fakeindex.WHEEL}.asc", directory / f"{wheel.name}.asc")
        index = fakeindex.demo_index()
        client = IndexClient(index, index_url=fakeindex.INDEX_URL)
        with Cache.open(directory / "cache", clock=lambda: 0.0) as cache:
            for grants, fail in steps:
                index.put(RECORD_URL, _record_json(grants), "application/json")
                before = cache.project_memory("demo-pkg").statement
                served = TrustStatement.from_record(
                    OwnershipRecord.from_bytes(_record_json(grants))
                )
                result = verify_from_index(
                    wheel, client=client, at=AT, cache=cache, fail_on_key_change=fail
                )
                after = cache.project_memory("demo-pkg")
                assert after.state is MemoryState.KNOWN
                if before is None:
                    assert result.keys_changed is None
                    assert after.statement == served
                    continue
                wider = bool(_may_sign(served) - _may_sign(before))
                if served == before:
                    assert result.keys_changed is None
                else:
                    assert result.keys_changed is not None
                    assert result.keys_changed["changes"]
                if wider:
                    assert result.keys_changed["widens"] is True
                if fail and result.keys_changed is not None and result.keys_changed["widens"]:
                    assert result.reason == KEYS_CHANGED
                    assert not result.ok
                    assert after.statement == before
                else:
                    assert result.reason != KEYS_CHANGED
                    assert after.statement == served
                if fail:
                    assert not _may_sign(after.statement) - _may_sign(before)


def _dave() -> bytes:
    (block,) = decode_blocks(fakeindex.split_keyring(fakeindex.DEMO / "keyring.asc")[KEYS[2]])
    return block.data


DAVE_PACKETS = [(p.tag, p.body) for p in iter_packets(_dave(), max_packets=1000)]


def _copy(keep: list[bool]) -> bytes:
    packets = [DAVE_PACKETS[0], *(p for p, k in zip(DAVE_PACKETS[1:], keep, strict=False) if k)]
    return b"".join(
        bytes([0xC0 | tag, 0xFF]) + len(body).to_bytes(4, "big") + body for tag, body in packets
    )


def _packet_set(data: bytes) -> set[tuple[int, bytes]]:
    return {
        (p.tag, p.body) for p in iter_packets(data, max_packets=10_000) if p.tag == Tag.SIGNATURE
    }


COPY = st.lists(st.booleans(), min_size=len(DAVE_PACKETS) - 1, max_size=len(DAVE_PACKETS) - 1)


@given(st.lists(COPY, min_size=1, max_size=6))
@SETTINGS
def test_memory_certificates_only_grow(copies):
    record = OwnershipRecord.from_json(
        {
            "project": "demo-pkg",
            "maintainers": [{"user": "dave", "role": "Maintainer", "keys": [KEYS[2]]}],
        }
    )
    statement = TrustStatement.from_record(record)
    client = IndexClient(fakeindex.FakeIndex(), index_url=fakeindex.INDEX_URL)
    seen: set[tuple[int, bytes]] = set()
    with tempfile.TemporaryDirectory() as tmp, Cache.open(Path(tmp), clock=lambda: 0.0) as cache:
        for keep in copies:
            served = _copy(keep)
            seen |= _packet_set(union_certificate([served], fingerprint=KEYS[2]))
            published = ProjectKeys(
                project="demo-pkg", record=record, keyring=Keyring(), certificates={KEYS[2]: served}
            )
            warnings: list[str] = []
            ring = remembered_keyring(
                cache,
                statement,
                published,
                client,
                now=0.0,
                fail_on_key_change=True,
                warnings=warnings,
                limits=Keyring().limits,
            )
            assert len(ring) == 1
            remembered = cache.remembered_certificate(KEYS[2])
            assert remembered.state is MemoryState.KNOWN
            assert _packet_set(remembered.data) == seen


def _forged(n: int) -> tuple[int, bytes]:
    """Dave's own signature ``n % 2`` (his revocation or his self-certification) with its
    value changed: well-formed, naming his key, right hash prefix, wrong math."""
    sigs = [p for p in DAVE_PACKETS if p[0] == Tag.SIGNATURE]
    tag, body = sigs[n % len(sigs)]
    return tag, body[:-2] + (1000 + n).to_bytes(2, "big")


FORGED = [_forged(n) for n in range(6)]
HOSTILE_COPY = st.tuples(COPY, st.lists(st.booleans(), min_size=len(FORGED), max_size=len(FORGED)))


def _hostile_copy(keep: list[bool], forged: list[bool]) -> bytes:
    """A copy of dave's key with some of his packets, and forged signatures after each
    component (the primary and the user ID) they were derived from."""
    out = []
    for tag, body in [
        DAVE_PACKETS[0],
        *(p for p, k in zip(DAVE_PACKETS[1:], keep, strict=False) if k),
    ]:
        out.append((tag, body))
        if tag in (Tag.PUBLIC_KEY, Tag.USER_ID):
            kind = 0x20 if tag == Tag.PUBLIC_KEY else 0x13
            out += [f for f, k in zip(FORGED, forged, strict=False) if k and f[1][1] == kind]
    return b"".join(
        bytes([0xC0 | tag, 0xFF]) + len(body).to_bytes(4, "big") + body for tag, body in out
    )


@given(st.lists(HOSTILE_COPY, min_size=1, max_size=6))
@SETTINGS
def test_memory_keeps_what_the_key_made_and_never_a_forgery(copies):
    record = OwnershipRecord.from_json(
        {
            "project": "demo-pkg",
            "maintainers": [{"user": "dave", "role": "Maintainer", "keys": [KEYS[2]]}],
        }
    )
    statement = TrustStatement.from_record(record)
    client = IndexClient(fakeindex.FakeIndex(), index_url=fakeindex.INDEX_URL)
    real: set[tuple[int, bytes]] = set()
    forged = {body for _, body in FORGED}
    with tempfile.TemporaryDirectory() as tmp, Cache.open(Path(tmp), clock=lambda: 0.0) as cache:
        for keep, bad in copies:
            served = _hostile_copy(keep, bad)
            real |= _packet_set(union_certificate([served], fingerprint=KEYS[2])) - {
                (Tag.SIGNATURE, body) for body in forged
            }
            published = ProjectKeys(
                project="demo-pkg", record=record, keyring=Keyring(), certificates={KEYS[2]: served}
            )
            remembered_keyring(
                cache,
                statement,
                published,
                client,
                now=0.0,
                fail_on_key_change=True,
                warnings=[],
                limits=Keyring().limits,
            )
            remembered = cache.remembered_certificate(KEYS[2])
            assert remembered.state is MemoryState.KNOWN
            assert _packet_set(remembered.data) == real
