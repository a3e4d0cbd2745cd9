"""Trust memory: normalised statements, their changes, and certificates that only grow."""

from __future__ import annotations

import dataclasses

import pytest
from fakeindex import DEMO, split_keyring

from pgpverify.errors import LimitExceededError, MalformedError
from pgpverify.limits import Limits, WorkBudget
from pgpverify.openpgp.armor import decode_blocks
from pgpverify.openpgp.constants import SigType
from pgpverify.openpgp.packets import Tag, iter_packets
from pgpverify.trust.memory import (
    ChangeKind,
    Grant,
    StatementFormatError,
    TrustStatement,
    compare,
    grow_certificate,
    union_certificate,
    widens,
)
from pgpverify.trust.owners import Maintainer, OwnershipRecord

A, B, C = "A" * 40, "B" * 40, "C" * 40
MAY_2024 = 1_714_521_600  # 2024-05-01T00:00:00Z
JUNE_2024 = 1_717_200_000  # 2024-06-01T00:00:00Z
DAVE = "11B543008E037F93A69E40E5F64134C69A45844B"
ALICE = "DBB45D692413FC66E3CB87089B617AE7AD1F8C84"


def stmt(*maintainers: tuple[str, str, list[str | tuple[str, int]]]) -> TrustStatement:
    entries = []
    for user, role, keys in maintainers:
        fprs = tuple(k if isinstance(k, str) else k[0] for k in keys)
        retired = tuple(k for k in keys if not isinstance(k, str))
        entries.append(Maintainer(user=user, role=role, keys=fprs, retired=retired))
    return TrustStatement.from_maintainers("demo-pkg", entries)


BASE = stmt(("alice", "Owner", [A]), ("bob", "Maintainer", [(B, JUNE_2024)]))


def kinds(before: TrustStatement, after: TrustStatement) -> list[tuple[str, bool]]:
    return [(c.kind.value, c.widens) for c in compare(before, after)]


# -- statements ------------------------------------------------------------------------------


def test_statement_merges_repeated_entries_and_keeps_the_earliest_retirement():
    statement = stmt(
        ("bob", "Maintainer", [B, (B, JUNE_2024)]),
        ("bob", "Maintainer", [(B, MAY_2024)]),
        ("Alice", "Owner", [A.lower()]),
    )
    assert statement.grants == (Grant("Alice", "Owner", A), Grant("bob", "Maintainer", B, MAY_2024))
    assert statement.signing() == {A: None, B: MAY_2024}


def test_statement_retirement_at_the_epoch_is_a_retirement():
    statement = stmt(("bob", "Maintainer", [(B, 0)]))
    assert statement.signing() == {B: 0}
    assert kinds(stmt(("bob", "Maintainer", [B])), statement) == [("retirement-added", False)]


def test_statement_of_a_record_uses_the_normalised_name():
    record = OwnershipRecord(project="Demo_Pkg", maintainers=BASE.maintainers())
    assert TrustStatement.from_record(record) == BASE
    assert BASE.project == "demo-pkg"


def test_statement_json_round_trip():
    for statement in (
        BASE,
        TrustStatement.from_fingerprints("demo-pkg", [B, A]),
        TrustStatement("demo-pkg"),
    ):
        assert TrustStatement.from_json(statement.to_json()) == statement


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t.replace('"alice"', '"alice" '),  # not canonical
        lambda t: t.replace('"Owner"', "7"),  # a role that is not text
        lambda t: t.replace(str(JUNE_2024), "true"),  # a retirement that is not a time
        lambda t: t.replace(A, "not a fingerprint"),
        lambda t: t.replace('"demo-pkg"', '"Demo_Pkg"'),  # not a normalised name
        lambda t: t.replace('"grants"', '"grunts"'),
        lambda t: t[:-5],  # truncated
        lambda _: "[" * 100_000,
        lambda _: 42,
    ],
)
def test_statement_from_json_rejects_a_corrupt_memory(mutate):
    with pytest.raises(StatementFormatError):
        TrustStatement.from_json(mutate(BASE.to_json()))


def test_statement_from_json_rejects_a_grant_listed_twice():
    doubled = BASE.to_json().replace(
        f'["alice","Owner","{A}",null]',
        f'["alice","Owner","{A}",null],["alice","Owner","{A}",1]',
    )
    with pytest.raises(StatementFormatError, match="twice"):
        TrustStatement.from_json(doubled)


# -- changes ---------------------------------------------------------------------------------


def test_compare_equal_statements_is_no_change():
    assert compare(BASE, BASE) == ()
    assert not widens(BASE, BASE)


def test_compare_key_added_widens():
    after = stmt(("alice", "Owner", [A, C]), ("bob", "Maintainer", [(B, JUNE_2024)]))
    assert kinds(BASE, after) == [("key-added", True)]
    assert widens(BASE, after)


def test_compare_key_removed_narrows():
    before = stmt(("alice", "Owner", [A]), ("bob", "Maintainer", [(B, JUNE_2024), C]))
    assert kinds(before, BASE) == [("key-removed", False)]
    assert not widens(before, BASE)


def test_compare_user_added_who_may_sign_widens():
    after = stmt(
        ("alice", "Owner", [A]),
        ("bob", "Maintainer", [(B, JUNE_2024)]),
        ("mallory", "Maintainer", [A]),
    )
    assert kinds(BASE, after) == [("user-added", True)]
    assert widens(BASE, after)


def test_compare_user_added_who_may_not_sign_is_reported_not_widening():
    after = stmt(
        ("alice", "Owner", [A]), ("bob", "Maintainer", [(B, JUNE_2024)]), ("carol", "Viewer", [C])
    )
    assert kinds(BASE, after) == [("key-added", False), ("user-added", False)]
    assert not widens(BASE, after)


def test_compare_user_removed_narrows():
    after = stmt(("alice", "Owner", [A]))
    assert kinds(BASE, after) == [("key-removed", False), ("user-removed", False)]


def test_compare_promotion_of_a_listed_user_who_could_not_sign_widens():
    before = stmt(("alice", "Owner", [A]), ("carol", "Viewer", [C]))
    after = stmt(("alice", "Owner", [A]), ("carol", "Maintainer", [C]))
    changes = compare(before, after)
    assert [(c.kind, c.widens) for c in changes] == [
        (ChangeKind.ROLE_CHANGED, True),
        (ChangeKind.KEY_LISTED, True),
        (ChangeKind.KEY_UNLISTED, False),
    ]
    assert (changes[0].before, changes[0].after) == ("Viewer", "Maintainer")
    assert widens(before, after)


def test_compare_demotion_narrows():
    before = stmt(("alice", "Owner", [A]), ("carol", "Maintainer", [C]))
    after = stmt(("alice", "Owner", [A]), ("carol", "Viewer", [C]))
    assert ("role-changed", False) in kinds(before, after)
    assert not widens(before, after)


def test_compare_owner_to_maintainer_is_reported_not_widening():
    after = stmt(("alice", "Maintainer", [A]), ("bob", "Maintainer", [(B, JUNE_2024)]))
    assert ("role-changed", False) in kinds(BASE, after)
    assert not widens(BASE, after)


def test_compare_key_moved_to_another_user_widens():
    after = stmt(("alice", "Owner", [A]), ("bob", "Maintainer", [A, (B, JUNE_2024)]))
    assert kinds(BASE, after) == [("key-listed", True)]
    assert widens(BASE, after)


def test_compare_retirement_removed_widens():
    after = stmt(("alice", "Owner", [A]), ("bob", "Maintainer", [B]))
    changes = compare(BASE, after)
    assert [(c.kind, c.widens) for c in changes] == [(ChangeKind.RETIREMENT_REMOVED, True)]
    assert changes[0].before == "2024-06-01T00:00:00Z"
    assert widens(BASE, after)


def test_compare_retirement_moved_later_widens():
    after = stmt(("alice", "Owner", [A]), ("bob", "Maintainer", [(B, JUNE_2024 + 1)]))
    assert kinds(BASE, after) == [("retirement-later", True)]


def test_compare_retirement_moved_earlier_narrows():
    after = stmt(("alice", "Owner", [A]), ("bob", "Maintainer", [(B, MAY_2024)]))
    assert kinds(BASE, after) == [("retirement-earlier", False)]
    assert not widens(BASE, after)


def test_compare_retirement_added_narrows():
    after = stmt(("alice", "Owner", [(A, MAY_2024)]), ("bob", "Maintainer", [(B, JUNE_2024)]))
    assert kinds(BASE, after) == [("retirement-added", False)]


def test_compare_retirement_by_another_entry_still_counts():
    # bob's retirement stays in force through carol's entry: nothing widens
    before = stmt(("bob", "Maintainer", [(B, MAY_2024)]), ("carol", "Viewer", [(B, MAY_2024)]))
    after = stmt(("bob", "Maintainer", [B]), ("carol", "Viewer", [(B, MAY_2024)]))
    assert not widens(before, after)


def test_compare_retirement_moved_between_entries_is_reported_not_widening():
    before = stmt(("alice", "Owner", [A]), ("bob", "Maintainer", [(A, 0)]))
    after = stmt(("alice", "Owner", [(A, 0)]), ("bob", "Maintainer", [A]))
    changes = compare(before, after)
    assert [(c.kind.value, c.user, c.widens) for c in changes] == [
        ("retirement-added", "alice", False),
        ("retirement-removed", "bob", False),
    ]
    assert not widens(before, after)


def test_compare_dropping_the_user_who_retired_a_key_widens():
    before = stmt(("bob", "Maintainer", [B]), ("carol", "Viewer", [(B, MAY_2024)]))
    after = stmt(("bob", "Maintainer", [B]))
    assert kinds(before, after) == [("user-removed", False), ("retirement-removed", True)]
    assert widens(before, after)


def test_compare_with_a_legacy_memory_sees_keys_only():
    legacy = TrustStatement.from_fingerprints("demo-pkg", [A, C])
    assert kinds(legacy, BASE) == [("key-added", True), ("key-removed", False)]
    assert not widens(legacy, TrustStatement.from_fingerprints("demo-pkg", [A]))
    assert kinds(legacy, stmt(("alice", "Owner", [A]), ("carol", "Owner", [C]))) == []


def test_change_describes_itself():
    (change,) = compare(BASE, stmt(("alice", "Owner", [A]), ("bob", "Maintainer", [B])))
    assert change.describe() == (
        f"retirement removed user 'bob' key {B} "
        "(2024-06-01T00:00:00Z -> none) [WIDENS who may sign]"
    )
    assert change.to_json()["kind"] == "retirement-removed"


# -- certificates ----------------------------------------------------------------------------


def binary(fpr: str) -> bytes:
    (block,) = decode_blocks(split_keyring(DEMO / "keyring.asc")[fpr])
    return block.data


def packets(data: bytes) -> list[tuple[int, bytes]]:
    return [(p.tag, p.body) for p in iter_packets(data, max_packets=10_000)]


def encode(items: list[tuple[int, bytes]]) -> bytes:
    return b"".join(
        bytes([0xC0 | tag, 0xFF]) + len(body).to_bytes(4, "big") + body for tag, body in items
    )


def without_revocation(data: bytes) -> bytes:
    """An older copy of the certificate: the same packets, but the key revocation."""
    kept = [
        p
        for p in packets(data)
        if not (p[0] == Tag.SIGNATURE and p[1][1] == SigType.KEY_REVOCATION)
    ]
    assert len(kept) == len(packets(data)) - 1
    return encode(kept)


def test_union_keeps_a_revocation_an_older_copy_lacks():
    full = binary(DAVE)
    older = without_revocation(full)
    assert union_certificate([full, older], fingerprint=DAVE) == union_certificate(
        [full], fingerprint=DAVE
    )
    assert union_certificate([older, full], fingerprint=DAVE) != union_certificate(
        [older], fingerprint=DAVE
    )
    assert sorted(packets(union_certificate([older, full], fingerprint=DAVE))) == sorted(
        packets(union_certificate([full], fingerprint=DAVE))
    )


def test_union_is_a_fixed_point():
    full = binary(DAVE)
    once = union_certificate([full], fingerprint=DAVE)
    assert union_certificate([once, full, once], fingerprint=DAVE) == once


def test_union_drops_a_revocation_where_it_does_not_belong():
    full = packets(binary(DAVE))
    revocation = next(p for p in full if p[0] == Tag.SIGNATURE and p[1][1] == 0x20)
    rest = [p for p in full if p != revocation]
    uid = next(i for i, p in enumerate(rest) if p[0] == Tag.USER_ID)
    misplaced = encode([*rest[: uid + 1], revocation, *rest[uid + 1 :]])
    alone = packets(union_certificate([misplaced], fingerprint=DAVE))
    assert revocation not in alone
    merged = packets(union_certificate([misplaced, binary(DAVE)], fingerprint=DAVE))
    assert merged.index(revocation) < next(i for i, p in enumerate(merged) if p[0] == Tag.USER_ID)


def test_union_drops_third_party_certifications_and_user_attributes():
    alice = packets(binary(ALICE))
    foreign = next(p for p in alice if p[0] == Tag.SIGNATURE and p[1][1] == 0x13)
    dave = packets(binary(DAVE))
    uid = next(i for i, p in enumerate(dave) if p[0] == Tag.USER_ID)
    attribute = (Tag.USER_ATTRIBUTE, b"\x05\x01junk")
    spliced = encode([*dave[: uid + 2], foreign, attribute, dave[uid + 1], *dave[uid + 2 :]])
    assert union_certificate([spliced], fingerprint=DAVE) == union_certificate(
        [binary(DAVE)], fingerprint=DAVE
    )


def test_union_rejects_a_copy_of_another_certificate():
    with pytest.raises(MalformedError, match="holds the key"):
        union_certificate([binary(DAVE), binary(ALICE)], fingerprint=DAVE)


def test_union_rejects_a_copy_that_does_not_start_with_its_key():
    dave = packets(binary(DAVE))
    with pytest.raises(MalformedError, match="start with a public key"):
        union_certificate([encode(dave[1:])], fingerprint=DAVE)


def test_union_rejects_no_copy():
    with pytest.raises(MalformedError, match="no copy"):
        union_certificate([], fingerprint=DAVE)


def test_union_rejects_more_packets_than_the_limits():
    full = binary(DAVE)
    count = len(packets(union_certificate([full], fingerprint=DAVE)))
    small = dataclasses.replace(Limits(), certificate_packets=count - 1)
    with pytest.raises(LimitExceededError):
        union_certificate([without_revocation(full), full], fingerprint=DAVE, limits=small)
    tight = dataclasses.replace(Limits(), certificate_packets=count)
    assert union_certificate([full], fingerprint=DAVE, limits=tight)


class _CountingGrants(tuple):
    """Grants that count how many times they are walked."""

    __slots__ = ()
    walks = 0

    def __iter__(self):
        type(self).walks += 1
        return super().__iter__()


@pytest.mark.parametrize("n", [10, 2000])
def test_compare_walks_the_grants_a_constant_number_of_times(n):
    def big(role, retired):
        grants = (Grant(f"user{i}", role, f"{i:040X}", retired) for i in range(n))
        return TrustStatement(
            "demo-pkg",
            _CountingGrants(sorted(grants, key=lambda g: (g.user, g.role, g.fingerprint))),
        )

    before, after = big("Viewer", MAY_2024), big("Owner", JUNE_2024)
    _CountingGrants.walks = 0
    changes = compare(before, after)
    assert widens(before, after)
    # per user: the role change, the key listed under the new role and unlisted under the old
    assert len(changes) == 3 * n
    assert _CountingGrants.walks <= 40  # not once per user or key: linear work


# -- growing the remembered certificate: only what the primary key made ----------------------


def forged_after(data: bytes, sig_type: int, count: int, *, salt: int = 0) -> bytes:
    """``data`` with ``count`` copies of its first ``sig_type`` signature, each with a changed
    signature value (well-formed, issuer the primary, right hash prefix, wrong math)."""
    items = packets(data)
    at = next(
        i for i, (tag, body) in enumerate(items) if tag == Tag.SIGNATURE and body[1] == sig_type
    )
    real = items[at][1]
    junk = [
        (Tag.SIGNATURE, real[:-3] + (salt * 100_000 + n).to_bytes(3, "big")) for n in range(count)
    ]
    return encode([*items[: at + 1], *junk, *items[at + 1 :]])


def test_grow_remembers_a_new_revocation_the_key_made():
    full = binary(DAVE)
    older = union_certificate([without_revocation(full)], fingerprint=DAVE)
    budget = WorkBudget.of(Limits())
    grown = grow_certificate(older, [full], fingerprint=DAVE, budget=budget)
    assert sorted(packets(grown.remembered)) == sorted(packets(grown.used))
    assert grown.remembered != older
    assert (grown.forged, grown.unchecked, budget.spent) == (0, 0, 1)  # only the new one


def test_grow_never_checks_what_was_remembered_again():
    full = union_certificate([binary(DAVE)], fingerprint=DAVE)
    budget = WorkBudget.of(Limits())
    grown = grow_certificate(full, [binary(DAVE)], fingerprint=DAVE, budget=budget)
    assert (grown.remembered, grown.used, budget.spent) == (full, full, 0)


def test_grow_first_sight_checks_every_signature():
    budget = WorkBudget.of(Limits())
    grown = grow_certificate(None, [binary(DAVE)], fingerprint=DAVE, budget=budget)
    assert grown.remembered == union_certificate([binary(DAVE)], fingerprint=DAVE)
    assert budget.spent == 2  # the revocation and the self-certification


@pytest.mark.parametrize("sig_type", [SigType.KEY_REVOCATION, SigType.POSITIVE_CERT])
def test_grow_rejects_forged_signatures_naming_the_primary(sig_type):
    full = union_certificate([binary(DAVE)], fingerprint=DAVE)
    hostile = forged_after(binary(DAVE), sig_type, 5)
    grown = grow_certificate(full, [hostile], fingerprint=DAVE)
    assert grown.remembered == full
    assert grown.forged == 5
    assert len(packets(grown.used)) == len(packets(full)) + 5  # the verifier still judges them


def test_grow_rejects_signatures_with_a_wrong_hash_prefix_without_math():
    full = union_certificate([binary(DAVE)], fingerprint=DAVE)
    items = packets(binary(DAVE))
    at = next(i for i, (t, b) in enumerate(items) if t == Tag.SIGNATURE and b[1] == 0x13)
    body = bytearray(items[at][1])
    # a changed creation time (hashed) changes the digest: the 16-bit prefix no longer fits
    created = body.index(b"\x05\x02") + 2
    body[created + 3] ^= 1
    hostile = encode([*items[: at + 1], (Tag.SIGNATURE, bytes(body)), *items[at + 1 :]])
    budget = WorkBudget.of(Limits())
    grown = grow_certificate(full, [hostile], fingerprint=DAVE, budget=budget)
    assert (grown.remembered, grown.forged, budget.spent) == (full, 1, 0)


def test_grow_stops_a_component_at_its_forgery_cap_and_counts_the_rest_unchecked():
    limits = dataclasses.replace(Limits(), component_signatures=4)
    full = union_certificate([binary(DAVE)], fingerprint=DAVE)
    hostile = forged_after(binary(DAVE), SigType.POSITIVE_CERT, 10)
    budget = WorkBudget.of(limits)
    grown = grow_certificate(full, [hostile], fingerprint=DAVE, limits=limits, budget=budget)
    assert (grown.remembered, grown.forged, grown.unchecked, budget.spent) == (full, 4, 6, 4)


def test_grow_stops_at_the_run_budget_and_checks_revocations_first():
    full = binary(DAVE)
    older = union_certificate([without_revocation(full)], fingerprint=DAVE)
    hostile = forged_after(full, SigType.POSITIVE_CERT, 10)
    budget = WorkBudget(limit=1)
    grown = grow_certificate(older, [hostile], fingerprint=DAVE, budget=budget)
    # the real revocation was checked first and is remembered; the junk is left unchecked
    assert sorted(packets(grown.remembered)) == sorted(
        packets(union_certificate([full], fingerprint=DAVE))
    )
    assert (grown.forged, grown.unchecked, budget.spent) == (0, 10, 1)


def test_grow_drops_a_subkey_whose_binding_the_primary_did_not_make():
    from certbuild import binding, key, signer_cert

    cert, primary, _ = signer_cert("grow", subkey=True)
    fpr = primary.fingerprint.hex().upper()
    other = key("other sub", 1_600_000_000)
    intruder = key("intruder sub", 1_600_000_000)
    # the primary's own binding of another subkey, moved under the intruder: it names the
    # primary as issuer but does not bind this subkey
    forged = binding(primary, other, 1_600_000_000)
    honest = union_certificate([cert.octets()], fingerprint=fpr)
    spliced = cert.octets() + intruder.packet(subkey=True) + forged
    grown = grow_certificate(honest, [spliced], fingerprint=fpr)
    assert grown.remembered == honest
