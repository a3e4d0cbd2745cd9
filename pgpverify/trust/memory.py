"""Trust memory: what a project's trust statement was, and certificates that only grow.

Two things are remembered between runs (by :mod:`pgpverify.index.cache` and by lock files):

* the **trust statement** of a project, normalised (:class:`TrustStatement`): every
  (user, role, primary fingerprint) an ownership record lists, with the earliest
  retirement date that maintainer gave the key. :func:`compare` says what changed between
  two statements (:class:`Change`), and whether the change *widens* who may sign or when
  (:func:`widens`): a key that may now sign, a user who may now sign with a key, a
  retirement removed or moved later. Narrowing changes (a key or user removed, a
  retirement added or moved earlier) are reported but are not widening.
* every **certificate packet** seen for a primary fingerprint. :func:`union_certificate`
  merges copies the way ``gpg --import`` and keyservers do: per component (the primary
  key, each user ID, each subkey) the union of the signatures that belong there, each kept
  once within its component, first-seen order. A later copy that lacks a revocation or a
  newer self-signature therefore never hides it: verification uses the union.

  :func:`grow_certificate` decides what is *remembered*: what was remembered, plus only
  the served signatures the primary key made (checked cryptographically, within a work
  budget).

Threat model: the index (or whoever can change its answers) is not trusted to keep a
statement it made earlier; this machine's memory is. Only what the verifier could count
is kept (signatures whose issuer is the primary key or that name none, in the component
where they belong), so third-party certifications and user attributes never fill the
memory; the union is held to :class:`~pgpverify.limits.Limits` and a union over the caps
is an error, never a silently truncated certificate. Forged signatures that name the
primary key are never remembered, so a hostile index cannot fill the memory past the cap
and make a key fail for good (a sticky denial of service): it can only make the run it
answers fail.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from pgpverify.errors import (
    LimitExceededError,
    MalformedError,
    OwnersError,
    UnsupportedError,
    WorkLimitError,
)
from pgpverify.isotime import format_utc
from pgpverify.limits import DEFAULT_LIMITS, Limits, WorkBudget
from pgpverify.openpgp.certificate import CERT_HASHES
from pgpverify.openpgp.constants import SigType, new_hash
from pgpverify.openpgp.keymaterial import KeyPacket, PublicKey, decode_key, parse_key_packet
from pgpverify.openpgp.packets import Tag, encode_packet, iter_packets
from pgpverify.openpgp.signature import Signature, parse_signature
from pgpverify.trust.owners import ROLES, Maintainer, parse_fingerprint

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pgpverify.trust.owners import OwnershipRecord

__all__ = [
    "Change",
    "ChangeKind",
    "Grant",
    "GrownCertificate",
    "StatementFormatError",
    "TrustStatement",
    "compare",
    "grow_certificate",
    "union_certificate",
    "widens",
]


class StatementFormatError(ValueError):
    """Stored statement text that :meth:`TrustStatement.from_json` cannot take (corruption)."""


@dataclass(frozen=True, slots=True)
class Grant:
    """One (user, role, primary fingerprint) an ownership record lists.

    ``retired`` is the earliest retirement (epoch seconds) this maintainer entry gave the
    key, or None; 0 (the epoch) is a date like any other.
    """

    user: str
    role: str
    fingerprint: str
    retired: int | None = None

    @property
    def signs(self) -> bool:
        """Whether the role may sign (Owner or Maintainer)."""
        return self.role in ROLES


@dataclass(frozen=True, slots=True)
class TrustStatement:
    """A project's normalised ownership statement: sorted grants, one per (user, role, key).

    ``legacy`` marks a statement migrated from a memory that held fingerprints only
    (cache schema 1): its grants carry the fingerprints under an empty user and role, and
    only keys added or removed can be compared with it.
    """

    project: str
    grants: tuple[Grant, ...] = ()
    legacy: bool = False

    @classmethod
    def from_maintainers(cls, project: str, maintainers: Iterable[Maintainer]) -> TrustStatement:
        """Normalise maintainers: repeated (user, role, key) merge, the earliest retirement wins."""
        merged: dict[tuple[str, str, str], int | None] = {}
        for maintainer in maintainers:
            retired: dict[str, int | None] = {}
            for fpr, date in maintainer.retired:
                retired[fpr.upper()] = _earliest((retired.get(fpr.upper()), date))
            for fpr in maintainer.keys:
                key = (maintainer.user, maintainer.role, fpr.upper())
                merged[key] = _earliest((merged.get(key), retired.get(fpr.upper())))
        grants = tuple(sorted((Grant(u, r, f, t) for (u, r, f), t in merged.items()), key=_order))
        return cls(project=canonicalize_name(project), grants=grants)

    @classmethod
    def from_record(cls, record: OwnershipRecord) -> TrustStatement:
        """The statement an ownership record makes."""
        return cls.from_maintainers(record.normalized_project, record.maintainers)

    @classmethod
    def from_fingerprints(cls, project: str, fingerprints: Iterable[str]) -> TrustStatement:
        """A legacy statement: fingerprints only (what cache schema 1 remembered)."""
        grants = tuple(Grant("", "", f) for f in sorted({f.upper() for f in fingerprints}))
        return cls(project=canonicalize_name(project), grants=grants, legacy=True)

    @property
    def fingerprints(self) -> tuple[str, ...]:
        """Every fingerprint listed, sorted, once each."""
        return tuple(sorted({g.fingerprint for g in self.grants}))

    @property
    def users(self) -> tuple[str, ...]:
        """Every user listed, sorted, once each."""
        return tuple(sorted({g.user for g in self.grants}))

    def signing(self) -> dict[str, int | None]:
        """Fingerprints that may sign -> their retirement, as the verifier judges them.

        A key may sign when an Owner or Maintainer lists it; its retirement is the earliest
        any maintainer entry (whatever its role) gave it.
        """
        if self.legacy:
            return dict.fromkeys(self.fingerprints)
        retired: dict[str, int | None] = {}
        for grant in self.grants:
            retired[grant.fingerprint] = _earliest((retired.get(grant.fingerprint), grant.retired))
        return {g.fingerprint: retired[g.fingerprint] for g in self.grants if g.signs}

    def signers(self) -> frozenset[tuple[str, str]]:
        """(user, fingerprint) pairs that may sign (empty for a legacy statement)."""
        if self.legacy:
            return frozenset()
        return frozenset((g.user, g.fingerprint) for g in self.grants if g.signs)

    def maintainers(self) -> tuple[Maintainer, ...]:
        """The statement as maintainer entries (one per user and role)."""
        by_entry: dict[tuple[str, str], list[Grant]] = {}
        for grant in self.grants:
            by_entry.setdefault((grant.user, grant.role), []).append(grant)
        return tuple(
            Maintainer(
                user=user,
                role=role,
                keys=tuple(parse_fingerprint(g.fingerprint) for g in grants),
                retired=tuple(
                    (parse_fingerprint(g.fingerprint), g.retired)
                    for g in grants
                    if g.retired is not None
                ),
            )
            for (user, role), grants in sorted(by_entry.items())
        )

    def to_json(self) -> str:
        """Canonical JSON (sorted, compact): equal statements give equal text."""
        if self.legacy:
            doc: dict[str, Any] = {
                "project": self.project,
                "legacy_fingerprints": list(self.fingerprints),
            }
        else:
            doc = {
                "project": self.project,
                "grants": [[g.user, g.role, g.fingerprint, g.retired] for g in self.grants],
            }
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)

    @classmethod
    def from_json(cls, text: object) -> TrustStatement:
        """Parse :meth:`to_json`'s text; StatementFormatError for anything else."""
        if not isinstance(text, str):
            raise StatementFormatError("not text")
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError):
            raise StatementFormatError("not JSON") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("project"), str):
            raise StatementFormatError("not a statement")
        project = doc["project"]
        if "legacy_fingerprints" in doc:
            fprs = doc["legacy_fingerprints"]
            if not isinstance(fprs, list) or not all(isinstance(f, str) for f in fprs):
                raise StatementFormatError("bad fingerprints")
            statement = cls.from_fingerprints(project, [_fpr(f) for f in fprs])
        else:
            rows = doc.get("grants")
            if not isinstance(rows, list):
                raise StatementFormatError("no grants")
            grants = tuple(sorted((_grant(r) for r in rows), key=_order))
            if len({(g.user, g.role, g.fingerprint) for g in grants}) != len(grants):
                raise StatementFormatError("a grant is listed twice")
            statement = cls(project=project, grants=grants)
        if statement.to_json() != text or canonicalize_name(project) != project:
            raise StatementFormatError("not in canonical form")
        return statement


def _grant(row: object) -> Grant:
    if not (isinstance(row, list) and len(row) == 4):
        raise StatementFormatError("bad grant")
    user, role, fpr, retired = row
    if not (isinstance(user, str) and isinstance(role, str) and isinstance(fpr, str)):
        raise StatementFormatError("bad grant")
    if retired is not None and (not isinstance(retired, int) or isinstance(retired, bool)):
        raise StatementFormatError("bad retirement")
    return Grant(user, role, _fpr(fpr), retired)


def _fpr(text: str) -> str:
    try:
        return parse_fingerprint(text)
    except OwnersError as err:
        raise StatementFormatError(err.message) from None


def _order(grant: Grant) -> tuple[str, str, str, int]:
    return (
        grant.user,
        grant.role,
        grant.fingerprint,
        -1 if grant.retired is None else grant.retired,
    )


def _earliest(times: Iterable[int | None]) -> int | None:
    found = [t for t in times if t is not None]
    return min(found) if found else None


# -- changes ---------------------------------------------------------------------------


class ChangeKind(enum.Enum):
    """What changed in a trust statement (the ``kind`` in ``keys_changed``)."""

    KEY_ADDED = "key-added"
    KEY_REMOVED = "key-removed"
    USER_ADDED = "user-added"
    USER_REMOVED = "user-removed"
    ROLE_CHANGED = "role-changed"
    KEY_LISTED = "key-listed"
    KEY_UNLISTED = "key-unlisted"
    RETIREMENT_ADDED = "retirement-added"
    RETIREMENT_REMOVED = "retirement-removed"
    RETIREMENT_LATER = "retirement-later"
    RETIREMENT_EARLIER = "retirement-earlier"
    MEMORY_UNREADABLE = "memory-unreadable"


@dataclass(frozen=True, slots=True)
class Change:
    """One change between two statements; ``widens`` when it lets more keys sign, or longer."""

    kind: ChangeKind
    widens: bool
    fingerprint: str | None = None
    user: str | None = None
    before: str | None = None
    after: str | None = None

    def describe(self) -> str:
        """One line for a person."""
        parts = [self.kind.value.replace("-", " ")]
        if self.user is not None:
            parts.append(f"user {self.user!r}")
        if self.fingerprint is not None:
            parts.append(f"key {self.fingerprint}")
        if self.before is not None or self.after is not None:
            parts.append(f"({self.before or 'none'} -> {self.after or 'none'})")
        if self.widens:
            parts.append("[WIDENS who may sign]")
        return " ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """The change as a JSON object."""
        return {
            "kind": self.kind.value,
            "widens": self.widens,
            "user": self.user,
            "fingerprint": self.fingerprint,
            "before": self.before,
            "after": self.after,
        }


def widens(before: TrustStatement, after: TrustStatement) -> bool:
    """Whether ``after`` lets a key sign that could not, or for longer, or for a new user."""
    old, new = before.signing(), after.signing()
    for fpr, retired in new.items():
        if fpr not in old:
            return True
        was = old[fpr]
        if was is not None and (retired is None or retired > was):
            return True
    return not before.legacy and bool(after.signers() - before.signers())


def compare(before: TrustStatement, after: TrustStatement) -> tuple[Change, ...]:
    """Every change from ``before`` to ``after``, in a stable order; () when equal."""
    changes: list[Change] = []
    old_signing, new_signing = before.signing(), after.signing()
    old_signers, new_signers = before.signers(), after.signers()
    old_fprs, new_fprs = set(before.fingerprints), set(after.fingerprints)
    changes += [
        Change(ChangeKind.KEY_ADDED, fpr in new_signing, fingerprint=fpr)
        for fpr in sorted(new_fprs - old_fprs)
    ]
    changes += [
        Change(ChangeKind.KEY_REMOVED, widens=False, fingerprint=fpr)
        for fpr in sorted(old_fprs - new_fprs)
    ]
    if not before.legacy:
        changes += _user_changes(before, after, old_signers, new_signers)
        by_key = (_group(before.grants, "fingerprint"), _group(after.grants, "fingerprint"))
        for fpr in sorted(old_fprs & new_fprs):
            changes += _retirement_changes(fpr, by_key, old_signing, new_signing)
    return tuple(changes)


def _group(grants: Iterable[Grant], field: str) -> dict[str, list[Grant]]:
    """Grants by one of their text fields (``user`` or ``fingerprint``), in one pass."""
    out: dict[str, list[Grant]] = {}
    for grant in grants:
        out.setdefault(getattr(grant, field), []).append(grant)
    return out


def _user_changes(
    before: TrustStatement,
    after: TrustStatement,
    old_signers: frozenset[tuple[str, str]],
    new_signers: frozenset[tuple[str, str]],
) -> list[Change]:
    changes: list[Change] = []
    old_users, new_users = set(before.users), set(after.users)
    signing_users = {u for u, _ in new_signers}
    changes += [
        Change(ChangeKind.USER_ADDED, user in signing_users, user=user)
        for user in sorted(new_users - old_users)
    ]
    changes += [
        Change(ChangeKind.USER_REMOVED, widens=False, user=user)
        for user in sorted(old_users - new_users)
    ]
    old_fprs, new_fprs = set(before.fingerprints), set(after.fingerprints)
    by_user = (_group(before.grants, "user"), _group(after.grants, "user"))
    gained_by: dict[str, set[tuple[str, str]]] = {}
    for pair in new_signers - old_signers:
        gained_by.setdefault(pair[0], set()).add(pair)
    for user in sorted(old_users & new_users):
        mine = (by_user[0][user], by_user[1][user])
        roles = [sorted({g.role for g in grants}) for grants in mine]
        gained = gained_by.get(user, set())
        if roles[0] != roles[1]:
            changes.append(
                Change(
                    ChangeKind.ROLE_CHANGED,
                    bool(gained),
                    user=user,
                    before=", ".join(roles[0]),
                    after=", ".join(roles[1]),
                )
            )
        listed = [{(g.role, g.fingerprint) for g in grants} for grants in mine]
        for role, fpr in sorted(listed[1] - listed[0]):
            if fpr in old_fprs:
                changes.append(
                    Change(
                        ChangeKind.KEY_LISTED,
                        (user, fpr) in gained,
                        fingerprint=fpr,
                        user=user,
                        after=role,
                    )
                )
        for role, fpr in sorted(listed[0] - listed[1]):
            if fpr in new_fprs:
                changes.append(
                    Change(
                        ChangeKind.KEY_UNLISTED,
                        widens=False,
                        fingerprint=fpr,
                        user=user,
                        before=role,
                    )
                )
    return changes


def _retirement_kind(was: int | None, now: int | None) -> tuple[ChangeKind, bool] | None:
    """The kind of a retirement change, and whether it lets the key sign for longer."""
    if was == now:
        return None
    if was is None:
        return ChangeKind.RETIREMENT_ADDED, False
    if now is None:
        return ChangeKind.RETIREMENT_REMOVED, True
    if now > was:
        return ChangeKind.RETIREMENT_LATER, True
    return ChangeKind.RETIREMENT_EARLIER, False


def _time(when: int | None) -> str | None:
    return None if when is None else format_utc(when)


def _retirement_changes(
    fpr: str,
    by_key: tuple[dict[str, list[Grant]], dict[str, list[Grant]]],
    old: dict[str, int | None],
    new: dict[str, int | None],
) -> list[Change]:
    """Retirement changes of ``fpr``: per maintainer entry, then the effective one.

    The effective retirement (the earliest, which the verifier uses) is reported when no
    entry's change of the same kind says it. A change widens only when the effective
    retirement moved later or went away.
    """
    effective = _retirement_kind(old[fpr], new[fpr]) if fpr in old and fpr in new else None
    wider = effective is not None and effective[1]
    entries = [{(g.user, g.role): g.retired for g in grants[fpr]} for grants in by_key]
    changes = []
    for user, role in sorted(entries[0].keys() & entries[1].keys()):
        was, now = entries[0][(user, role)], entries[1][(user, role)]
        kind = _retirement_kind(was, now)
        if kind is not None:
            changes.append(
                Change(
                    kind[0],
                    kind[1] and wider,
                    fingerprint=fpr,
                    user=user,
                    before=_time(was),
                    after=_time(now),
                )
            )
    if effective is not None and not any(c.kind is effective[0] for c in changes):
        changes.append(
            Change(
                effective[0],
                effective[1],
                fingerprint=fpr,
                before=_time(old[fpr]),
                after=_time(new[fpr]),
            )
        )
    return changes


# -- certificates ----------------------------------------------------------------------

_CERTIFICATIONS = frozenset(
    {SigType.GENERIC_CERT, SigType.PERSONA_CERT, SigType.CASUAL_CERT, SigType.POSITIVE_CERT}
)
#: RFC 9580 §5.2.1: the signature types that belong under each component.
_PRIMARY_SIGS = frozenset({SigType.DIRECT_KEY, SigType.KEY_REVOCATION})
_USER_ID_SIGS = _CERTIFICATIONS | {SigType.CERT_REVOCATION}
_SUBKEY_SIGS = frozenset({SigType.SUBKEY_BINDING, SigType.SUBKEY_REVOCATION})
_SKIPPED = frozenset({Tag.TRUST, Tag.MARKER, Tag.PADDING})


@dataclass(slots=True)
class _Part:
    """One component of the union: its packet, and its signatures once each, in order."""

    tag: int
    body: bytes
    sigs: dict[bytes, Signature]


@dataclass(slots=True)
class _Union:
    """The components of a union being built: the primary key, then user IDs and subkeys."""

    primary: _Part
    parts: dict[tuple[int, bytes], _Part]


@dataclass(frozen=True, slots=True)
class GrownCertificate:
    """A certificate grown by what an index serves (:func:`grow_certificate`).

    ``used`` is the union of what was remembered and every signature served where it
    belongs, for the verifier to judge (it refutes forged ones under its own caps);
    ``remembered`` is what was remembered plus only the served signatures the primary key
    made (checked cryptographically), for the memory. ``forged``: served signatures that
    are not the primary key's (wrong hash prefix or wrong math); ``unchecked``: served
    ones not checked because a work cap was reached (neither is remembered).
    """

    used: bytes
    remembered: bytes
    forged: int = 0
    unchecked: int = 0


def union_certificate(
    copies: Iterable[bytes],
    *,
    fingerprint: str,
    limits: Limits = DEFAULT_LIMITS,
) -> bytes:
    """The union of binary copies of one certificate (RFC 9580 §10.1), as binary packets.

    Each copy must start with the primary key ``fingerprint``. Kept, per component: the
    primary key's direct-key signatures and key revocations, each user ID's certifications
    and certification revocations, each subkey's bindings and revocations; only those
    that parse and whose issuer is the primary key (or that name none). A signature is
    de-duplicated only within its own component; one that does not belong where it sits
    is dropped there. Output: new-format packets, components in first-seen order.
    Raises MalformedError for a copy that is not this certificate, LimitExceededError
    when the union has more than ``limits.certificate_packets`` packets.
    """
    return _emit(_collect(copies, parse_fingerprint(fingerprint), limits))


def grow_certificate(
    seen: bytes | None,
    copies: Iterable[bytes],
    *,
    fingerprint: str,
    limits: Limits = DEFAULT_LIMITS,
    budget: WorkBudget | None = None,
) -> GrownCertificate:
    """Grow the remembered certificate ``seen`` by the served ``copies``.

    ``seen`` is trusted (this machine remembered it after checking it); every served
    signature it lacks is remembered only if the primary key made it: the hash over its
    component (RFC 9580 §5.2.4) matches its 16-bit prefix and the public-key math holds.
    So an index cannot fill the memory with forged signatures that name the primary key
    until the union passes ``limits.certificate_packets`` and the key fails for good.
    Revocations are checked first. Work is bounded: each public-key operation is paid
    from ``budget`` (``limits.public_key_operations`` for one run), and a component stops
    being checked after ``limits.component_signatures`` forged signatures; what was not
    checked is counted in ``unchecked``, not remembered, and checked again next time.
    Raises like :func:`union_certificate` (the limit applies to ``used``).
    """
    want = parse_fingerprint(fingerprint)
    everything = _collect([*([seen] if seen else []), *copies], want, limits)
    used = _emit(everything)
    known = _components(seen, limits) if seen else {}
    forged, unchecked = _vet(everything, known, budget or WorkBudget.of(limits), limits)
    return GrownCertificate(
        used=used, remembered=_emit(everything), forged=forged, unchecked=unchecked
    )


def _collect(copies: Iterable[bytes], want: str, limits: Limits) -> _Union:
    """Frame and sort the copies' packets into components (see :func:`union_certificate`)."""
    primary: _Part | None = None
    parts: dict[tuple[int, bytes], _Part] = {}
    count = 0
    for copy in copies:
        target: _Part | None = None
        key_id = b""
        first = True
        for pkt in iter_packets(copy, max_packets=limits.certificate_packets):
            if first:
                first = False
                if pkt.tag != Tag.PUBLIC_KEY:
                    raise MalformedError("a certificate must start with a public key packet")
                key = parse_key_packet(pkt.body)
                if key.fingerprint.hex().upper() != want:
                    raise MalformedError(
                        f"a copy of {want} holds the key {key.fingerprint.hex().upper()}"
                    )
                key_id = key.key_id
                if primary is None:
                    primary = _Part(Tag.PUBLIC_KEY, pkt.body, {})
                    count += 1
                target = primary
                continue
            if pkt.tag == Tag.SIGNATURE:
                if target is None or pkt.body in target.sigs:
                    continue
                sig = _belonging(pkt.body, target.tag, key_id, limits)
                if sig is not None:
                    target.sigs[pkt.body] = sig
                    count += 1
            elif pkt.tag in (Tag.USER_ID, Tag.PUBLIC_SUBKEY):
                if pkt.tag == Tag.PUBLIC_SUBKEY and not _parses(pkt.body):
                    target = None
                    continue
                target = parts.get((pkt.tag, pkt.body))
                if target is None:
                    target = parts[(pkt.tag, pkt.body)] = _Part(pkt.tag, pkt.body, {})
                    count += 1
            elif pkt.tag == Tag.PUBLIC_KEY:
                raise MalformedError("two primary keys in one copy of a certificate")
            elif pkt.tag not in _SKIPPED:
                target = None  # user attributes, unknown packets: not needed to judge a key
            if count > limits.certificate_packets:
                raise LimitExceededError(
                    "number of packets in the remembered certificate",
                    limits.certificate_packets,
                    source=want,
                )
    if primary is None:
        raise MalformedError(f"no copy of the certificate {want}")
    return _Union(primary, parts)


def _emit(union: _Union) -> bytes:
    """The union as new-format packets: the primary, then user IDs, then subkeys."""
    primary = union.primary
    out = [
        encode_packet(primary.tag, primary.body),
        *(encode_packet(Tag.SIGNATURE, s) for s in primary.sigs),
    ]
    for tag in (Tag.USER_ID, Tag.PUBLIC_SUBKEY):
        for part in union.parts.values():
            if part.tag == tag and part.sigs:
                out += [
                    encode_packet(tag, part.body),
                    *(encode_packet(Tag.SIGNATURE, s) for s in part.sigs),
                ]
    return b"".join(out)


_REVOCATIONS = frozenset(
    {SigType.KEY_REVOCATION, SigType.SUBKEY_REVOCATION, SigType.CERT_REVOCATION}
)


def _vet(
    union: _Union, known: dict[tuple[int, bytes], set[bytes]], budget: WorkBudget, limits: Limits
) -> tuple[int, int]:
    """Drop from ``union`` every signature ``known`` lacks that the primary did not make.

    Returns (forged, unchecked): signatures refuted, and signatures dropped unchecked
    because a cap was reached.
    """
    head = parse_key_packet(union.primary.body)
    try:
        key: PublicKey | None = decode_key(head)
    except (MalformedError, UnsupportedError):
        key = None  # nothing can be checked: only what was remembered stays
    forged = unchecked = 0
    spent = False  # the run's budget is gone
    for part in (union.primary, *union.parts.values()):
        held = _held(known, part)
        fresh = [body for body in part.sigs if body not in held]
        fresh.sort(key=lambda body: part.sigs[body].sig_type not in _REVOCATIONS)
        material = _material(head, part)
        failures = 0
        for body in fresh:
            sig = part.sigs.pop(body)  # put back (after the held ones) once checked
            if key is None:
                continue
            if spent or failures >= limits.component_signatures:
                unchecked += 1
                continue
            try:
                verdict = _made_by(key, sig, material, budget)
            except WorkLimitError:
                spent = True
                unchecked += 1
                continue
            if verdict:
                part.sigs[body] = sig
            elif verdict is False:
                failures += 1
                forged += 1
    return forged, unchecked


def _components(seen: bytes, limits: Limits) -> dict[tuple[int, bytes], set[bytes]]:
    """The signature packets of a remembered certificate by component, framed only.

    The memory was written by :func:`_emit` (each signature under its component), so
    nothing is parsed again: (tag, body) of the component -> its signature bodies; the
    primary key is ``(Tag.PUBLIC_KEY, b"")``.
    """
    out: dict[tuple[int, bytes], set[bytes]] = {}
    here: set[bytes] | None = None
    for pkt in iter_packets(seen, max_packets=limits.certificate_packets):
        if pkt.tag == Tag.PUBLIC_KEY:
            here = out.setdefault((Tag.PUBLIC_KEY, b""), set())
        elif pkt.tag in (Tag.USER_ID, Tag.PUBLIC_SUBKEY):
            here = out.setdefault((pkt.tag, pkt.body), set())
        elif pkt.tag == Tag.SIGNATURE and here is not None:
            here.add(pkt.body)
    return out


def _held(known: dict[tuple[int, bytes], set[bytes]], part: _Part) -> set[bytes]:
    """The signatures ``known`` holds for the component ``part`` is."""
    identity = (part.tag, b"" if part.tag == Tag.PUBLIC_KEY else part.body)
    return known.get(identity, set())


def _material(head: KeyPacket, part: _Part) -> bytes:
    """The octets a signature on this component hashes before its trailer (RFC 9580 §5.2.4)."""
    if part.tag == Tag.PUBLIC_KEY:
        return head.hash_material
    if part.tag == Tag.USER_ID:
        return head.hash_material + b"\xb4" + len(part.body).to_bytes(4, "big") + part.body
    return head.hash_material + parse_key_packet(part.body).hash_material


def _made_by(key: PublicKey, sig: Signature, material: bytes, budget: WorkBudget) -> bool | None:
    """Whether ``key`` made ``sig`` over ``material``.

    False when refuted (a wrong prefix or wrong math); None when it could never count (a
    defect, a hash not accepted in certificates): dropped, not counted as forged.
    """
    if sig.defects or sig.hash_algo not in CERT_HASHES:
        return None
    ctx = new_hash(sig.hash_algo)
    if ctx is None:
        return None
    ctx.update(material)
    ctx.update(sig.trailer)
    digest = ctx.digest()
    if digest[:2] != sig.left16:
        return False
    budget.spend()
    return key.verify(sig.hash_algo, digest, sig.mpis)


def _parses(body: bytes) -> bool:
    try:
        parse_key_packet(body)
    except (MalformedError, UnsupportedError):
        return False
    return True


def _belonging(body: bytes, component: int, key_id: bytes, limits: Limits) -> Signature | None:
    """The parsed signature if it belongs under ``component`` and names the primary or none."""
    try:
        sig = parse_signature(body, max_subpackets=limits.subpackets, depth=limits.nesting)
    except (MalformedError, UnsupportedError):
        return None
    allowed = {Tag.PUBLIC_KEY: _PRIMARY_SIGS, Tag.USER_ID: _USER_ID_SIGS}.get(
        component, _SUBKEY_SIGS
    )
    ids = sig.issuer_key_ids
    return sig if sig.sig_type in allowed and (not ids or key_id in ids) else None
