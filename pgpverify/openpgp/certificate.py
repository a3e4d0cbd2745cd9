"""Certificates (transferable public keys, RFC 9580 §10.1) judged at a reference time.

Every self-signature, binding, back-signature and revocation is checked cryptographically
before it counts; one that fails, uses MD5/RIPEMD-160 or an unknown hash, has a defect
(an unknown critical subpacket ...), or was made after the reference time is ignored as if
absent. Key and subkey revocations are the exception to "a defect voids it": they only ever
reject, so one with a defect, past its own expiration time, or with junk in its unhashed
area still counts once its math holds; so does a key revocation by a revoker that a valid
direct-key signature designates (its key found by the caller's resolver, RFC 9580
§5.2.3.23). SHA-1 is accepted inside certificates: real
maintainer keys still carry SHA-1 self-signatures and GnuPG accepts them.

The primary key is bound by its newest valid direct-key signature and by the newest valid
self-signature of a user ID that is not revoked (a user ID whose newest valid signature is
a certification revocation, 0x30, is); both must allow signing, and the earlier expiry
counts.

Third-party certifications are never verified (their issuer is not the primary key), so a
key with thousands of them costs nothing beyond framing.

Bounded work (threat model: every packet may come from an attacker who can append junk
signatures with correct 16-bit hash prefixes, which cost a full public-key operation each
to refute). Revocations are checked before any self-signature; self-signatures, bindings
and revocations are tried newest first, so the usual answer costs one operation. Each
component verifies at most ``WorkBudget.per_component`` signatures per purpose, and every
operation is paid from the run's :class:`pgpverify.limits.WorkBudget`. Whenever a cap stops
the search before a decision, :class:`pgpverify.errors.WorkLimitError` is raised: the
caller rejects, never falls back to an older self-signature or skips a revocation.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from pgpverify.errors import MalformedError, UnsupportedError, WorkLimitError
from pgpverify.isotime import format_utc
from pgpverify.limits import DEFAULT_LIMITS, WorkBudget
from pgpverify.openpgp._record import Record
from pgpverify.openpgp.constants import SigType, new_hash
from pgpverify.openpgp.keymaterial import KeyPacket, PublicKey, decode_key, parse_key_packet
from pgpverify.openpgp.packets import Tag
from pgpverify.openpgp.signature import Signature, parse_signature
from pgpverify.policy import DEFAULT_POLICY, Policy

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from pgpverify.openpgp.packets import Packet

__all__ = [
    "Certificate",
    "CertificatePool",
    "KeyJudgement",
    "KeyVerdict",
    "SigningKey",
    "parse_certificate",
]

#: Hashes accepted inside certificates (self-signatures, bindings, back-signatures) by the
#: default policy; :attr:`pgpverify.policy.Policy.certificate_hashes` is the one used.
CERT_HASHES = DEFAULT_POLICY.certificate_hashes
_CERTIFICATIONS = frozenset(
    {SigType.GENERIC_CERT, SigType.PERSONA_CERT, SigType.CASUAL_CERT, SigType.POSITIVE_CERT}
)
KEY_FLAG_CERTIFY = 0x01
KEY_FLAG_SIGN = 0x02
#: Key revocations (0x20, 0x28) that spare signatures made before them (RFC 9580 §5.2.3.31)
#: are :attr:`pgpverify.policy.Policy.soft_revocations` (1 and 3 by default). Every other
#: reason is hard, including 32 (user ID no longer valid): it is meant for certification
#: revocations and says nothing about a key, so on a key it is read like an unknown
#: reason, conservatively.
#: Which signature types belong to which component (RFC 9580 §10.1); anywhere else a
#: signature is ignored, as ``gpg --import`` skips one "at wrong place".
_ON_PRIMARY = frozenset({SigType.DIRECT_KEY, SigType.KEY_REVOCATION})
_ON_USER_ID = _CERTIFICATIONS | {SigType.CERT_REVOCATION}
_ON_SUBKEY = frozenset({SigType.SUBKEY_BINDING, SigType.SUBKEY_REVOCATION})
_REVOCATIONS = frozenset(
    {SigType.KEY_REVOCATION, SigType.SUBKEY_REVOCATION, SigType.CERT_REVOCATION}
)
_KEY_REVOCATIONS = frozenset({SigType.KEY_REVOCATION, SigType.SUBKEY_REVOCATION})


class _Component:
    """A key (primary or sub) with the signatures that follow it, and decoded material."""

    __slots__ = ("material", "material_error", "packet", "sigs")

    def __init__(
        self,
        packet: KeyPacket,
        sigs: list[Signature] | None = None,
        material: PublicKey | None = None,
        material_error: Exception | None = None,
    ) -> None:
        self.packet = packet
        self.sigs: list[Signature] = [] if sigs is None else sigs
        self.material = material
        self.material_error = material_error

    def decoded(self) -> PublicKey:
        if self.material is None and self.material_error is None:
            try:
                self.material = decode_key(self.packet)
            except (MalformedError, UnsupportedError) as err:
                self.material_error = err
        if self.material_error is not None:
            raise self.material_error
        assert self.material is not None
        return self.material


class _Quota:
    """Forged signatures one component may still refute for one purpose, and the budget.

    ``used`` counts the signatures whose hash prefix matched but whose math failed (cached
    or not): only forgeries (or corrupted copies) use the cap; a key's own signatures,
    however many, do not. The cap is checked before each operation.
    """

    __slots__ = ("budget", "used", "what")

    def __init__(self, budget: WorkBudget, what: str, used: int = 0) -> None:
        self.budget = budget
        self.what = what
        self.used = used

    def count(self) -> None:
        """One more failed signature of this component (a cached result included)."""
        if self.used >= self.budget.per_component:
            raise WorkLimitError(f"the number of {self.what}", self.budget.per_component)
        self.used += 1

    def spend(self) -> None:
        """Before a public-key operation: room for one more failure, and the budget."""
        self.count()
        self.budget.spend()

    def refund(self) -> None:
        """After an operation that verified: it was not a forgery."""
        self.used -= 1


class _Queue:
    """Plausible signatures of one kind at one reference time, newest first.

    Each entry: the signature, its signer, the octets it hashes, and the index of its
    component in ``names`` (one quota per component and call). Entries whose 16-bit hash
    prefix does not match are dropped once found, so a repeated walk (64 signatures in a
    file) does not step over 100,000 forged ones each time.
    """

    __slots__ = ("entries", "names", "revoked", "user_ids")

    def __init__(
        self,
        entries: list[tuple[Signature, _Component, bytes, int]],
        names: list[str],
        user_ids: list[int | None] | None = None,
        revoked: int = 0,
    ) -> None:
        self.entries = entries
        self.names = names
        #: slot -> the user ID it belongs to (its self-certifications and its
        #: certification revocations share one); None: not a user ID's
        self.user_ids: list[int | None] = [] if user_ids is None else user_ids
        #: user IDs that the last walk found revoked (their newest valid signature is a 0x30)
        self.revoked = revoked


class SigningKey(Record):
    """The key that made a signature: the primary or one of its subkeys."""

    __slots__ = ("is_primary", "packet")
    packet: KeyPacket
    is_primary: bool

    def __init__(self, packet: KeyPacket, is_primary: bool) -> None:
        self._set(packet=packet, is_primary=is_primary)


class KeyVerdict(enum.Enum):
    """Why a certificate does not allow a signature (the verifier maps it to its Reason)."""

    REVOKED = "key-revoked"
    NOT_YET_VALID = "key-not-yet-valid"
    NOT_SIGNING = "not-signing-key"
    EXPIRED = "key-expired"


class KeyJudgement(Record):
    """Why a certificate does not allow a signature: a verdict and a message for people."""

    __slots__ = ("message", "verdict")
    verdict: KeyVerdict
    message: str

    def __init__(self, verdict: KeyVerdict, message: str) -> None:
        self._set(verdict=verdict, message=message)

    @property
    def reason(self) -> str:
        """The verdict's spelling (``key-revoked`` ...), as in the README's policy table."""
        return self.verdict.value


class Certificate:
    """One certificate: primary key, user IDs, subkeys, each with their signatures.

    A plain slotted class, not a dataclass (code generation at import, on every run).
    """

    __slots__ = (
        "_bound",
        "_checked",
        "_designated",
        "_keys",
        "_policy",
        "_queues",
        "_revokers",
        "misplaced",
        "primary",
        "skipped",
        "subkeys",
        "userids",
    )

    def __init__(
        self,
        primary: _Component,
        userids: dict[bytes, list[Signature]],
        subkeys: dict[bytes, _Component],
        skipped: int = 0,
        misplaced: int = 0,
    ) -> None:
        self.primary = primary
        self.userids = userids
        self.subkeys = subkeys
        self.skipped = skipped
        #: signatures ignored because their type does not belong to the component they
        #: follow
        self.misplaced = misplaced
        #: id(signature) -> True (verified), False (prefix matched, math failed), None
        #: (never counts: the prefix does not match, or the hash or key is unusable)
        self._checked: dict[int, bool | None] = {}
        #: (kind, component, reference time) -> its plausible signatures, newest first
        self._queues: dict[tuple[int, bytes, int], _Queue] = {}
        #: key ID and fingerprint -> key, built on the first find_key (a certificate may
        #: have 50,000 subkeys and a signature file 64 signatures)
        self._keys: dict[bytes, SigningKey] = {}
        #: designated revokers' primary keys (fingerprint -> key), as the resolver gave them
        self._revokers: dict[bytes, _Component] = {}
        #: reference time -> key revocations by other issuers and the designated revoker
        #: each names, newest first (built once: a primary may carry 100,000 junk
        #: revocations)
        self._designated: dict[int, list[tuple[Signature, bytes]]] = {}
        #: the policy of the last judgement; the queues hold its certificate hashes only
        self._policy: Policy = DEFAULT_POLICY
        #: (signing key, reference time, component cap) -> what the self-signatures and
        #: bindings say (see _bound_facts); kept only for judgements that reached a
        #: decision, so a replay is exactly the walk it saves
        self._bound: dict[tuple[bytes, int, int], KeyJudgement | tuple[int | None, int | None]] = {}

    def __repr__(self) -> str:
        return f"Certificate({self.primary.packet.fingerprint.hex().upper()})"

    def _use(self, policy: Policy) -> None:
        """Judge under ``policy`` from now on (queues built under another hash set go)."""
        if policy is self._policy:
            return
        if policy.certificate_hashes != self._policy.certificate_hashes:
            self._queues.clear()
            self._designated.clear()
            self._bound.clear()
        self._policy = policy

    @property
    def fingerprint(self) -> bytes:
        """The primary key's v4 fingerprint."""
        return self.primary.packet.fingerprint

    def primary_material(self) -> PublicKey:
        """Decoded primary key (raises UnsupportedError or MalformedError)."""
        return self.primary.decoded()

    def find_key(self, key_id: bytes) -> SigningKey | None:
        """The primary or subkey with this key ID (8 octets) or fingerprint (20 octets).

        The primary first, then the subkeys in fingerprint order: the first that matches.
        """
        if not self._keys:
            keys = [(self.primary, True), *((s, False) for s in self.subkeys.values())]
            for comp, is_primary in reversed(keys):  # earlier ones overwrite: first wins
                found = SigningKey(packet=comp.packet, is_primary=is_primary)
                self._keys[comp.packet.fingerprint] = found
                self._keys[comp.packet.fingerprint[-8:]] = found
        return self._keys.get(key_id)

    def material(self, key: SigningKey) -> PublicKey:
        """Decoded material of ``key`` (raises UnsupportedError or MalformedError)."""
        if key.is_primary:
            return self.primary.decoded()
        return self.subkeys[key.packet.fingerprint].decoded()

    # -- self-signature checks ------------------------------------------------------------

    def _by_primary(self, sig: Signature) -> bool:
        ids = sig.issuer_key_ids
        return not ids or self.primary.packet.key_id in ids

    def _valid(
        self, sig: Signature, signer: _Component, material: bytes, at: int, quota: _Quota
    ) -> bool:
        """Whether ``sig`` counts at ``at``: made by then, sound, not expired, math good."""
        return (
            _plausible(sig, at, self._policy.certificate_hashes)
            and self._verified(sig, signer, material, quota) is True
        )

    def _verified(
        self, sig: Signature, signer: _Component, material: bytes, quota: _Quota
    ) -> bool | None:
        """The math of a plausible ``sig``; None when it can never count (see _checked).

        A signature whose hash prefix matches but whose math fails counts against
        ``quota``'s component cap, even when its result is cached, so that a verdict never
        depends on what an earlier signature of the file left in the cache; only a new
        public-key operation is paid from the run's budget.
        """
        key = id(sig)
        if key in self._checked:
            cached = self._checked[key]
            if cached is False:
                quota.count()
            return cached
        found = _check_math(sig, signer, material, quota)
        if found:
            quota.refund()
        self._checked[key] = found
        return found

    def _queue(self, kind: int, component: bytes, at: int, build: Callable[[], _Queue]) -> _Queue:
        queue = self._queues.get((kind, component, at))
        if queue is None:
            queue = self._queues[kind, component, at] = build()
        return queue

    def _walk(
        self,
        queue: _Queue,
        budget: WorkBudget,
        *,
        skip: Callable[[Signature], bool] | None = None,
        every: bool = False,
    ) -> list[Signature]:
        """The valid signatures of ``queue`` newest first: the first one, or ``every`` one.

        ``skip`` passes over a signature without checking it. Raises WorkLimitError when a
        component's quota or the budget runs out before the answer.
        """
        quotas: dict[int, _Quota] = {}  # made as needed: a key may have 50,000 user IDs
        entries = queue.entries
        kept: list[tuple[Signature, _Component, bytes, int]] = []
        found: list[Signature] = []
        revoked: set[int] = set()  # user IDs whose newest valid signature revokes them
        done = 0
        try:
            for entry in entries:
                sig, signer, material, slot = entry
                uid = queue.user_ids[slot] if queue.user_ids else None
                if (skip is not None and skip(sig)) or uid in revoked:
                    kept.append(entry)
                    done += 1
                    continue
                quota = quotas.get(slot)
                if quota is None:
                    quota = quotas[slot] = _Quota(budget, queue.names[slot])
                verdict = self._verified(sig, signer, material, quota)
                done += 1
                if verdict is None:
                    continue
                kept.append(entry)
                if verdict and sig.sig_type == SigType.CERT_REVOCATION:
                    # RFC 9580 §5.2.1.15; GnuPG's merge_selfsigs_main: the user ID's newest
                    # valid signature revokes it, so its older self-signatures (tried after
                    # this one, newest first) no longer count
                    assert uid is not None
                    revoked.add(uid)
                elif verdict:
                    found.append(sig)
                    if not every:
                        break
        finally:
            queue.entries = kept + entries[done:]
            queue.revoked = len(revoked)
        return found

    def _self_signature_queue(self, at: int) -> _Queue:
        """Plausible user ID self-signatures and certification revocations, newest first.

        Self-certifications and certification revocations (0x30) by the primary, made by
        ``at``. Each user ID has two slots (two quotas): its self-certifications and its
        revocations; ``user_ids`` ties both to the user ID, so that a walk can pass over a
        revoked user ID's older self-certifications. Direct-key signatures have their own
        queue (:meth:`_direct_key_queue`).
        """
        prim = self.primary.packet
        names: list[str] = []
        user_ids: list[int | None] = []
        entries: list[tuple[Signature, _Component, bytes, int]] = []
        for number, (uid, sigs) in enumerate(self.userids.items()):
            material = prim.hash_material + b"\xb4" + len(uid).to_bytes(4, "big") + uid
            slot = len(names)
            names += [
                "self-signatures checked on one user ID",
                "certification revocations checked on one user ID",
            ]
            user_ids += [number, number]
            for s in sigs:
                if not (self._by_primary(s) and _plausible(s, at, self._policy.certificate_hashes)):
                    continue
                if s.sig_type in _CERTIFICATIONS:
                    entries.append((s, self.primary, material, slot))
                elif s.sig_type == SigType.CERT_REVOCATION:
                    entries.append((s, self.primary, material, slot + 1))
        entries.sort(key=lambda entry: _newness(entry[0]), reverse=True)
        return _Queue(entries, names, user_ids)

    def _kind_queue(
        self,
        sigs: list[Signature],
        sig_type: int,
        material: bytes,
        at: int,
        name: str,
        *,
        revocation: bool = False,
    ) -> _Queue:
        """Plausible signatures of ``sig_type`` by the primary among ``sigs``, newest first."""
        return _Queue(
            [
                (s, self.primary, material, 0)
                for s in reversed(sigs)
                if s.sig_type == sig_type
                and self._by_primary(s)
                and _plausible(s, at, self._policy.certificate_hashes, revocation=revocation)
            ],
            [name],
        )

    def _direct_key_queue(self, at: int) -> _Queue:
        """Plausible direct-key signatures (0x1F) by the primary at ``at``, newest first."""
        return self._queue(
            SigType.DIRECT_KEY,
            b"",
            at,
            lambda: self._kind_queue(
                self.primary.sigs,
                SigType.DIRECT_KEY,
                self.primary.packet.hash_material,
                at,
                "direct-key self-signatures checked on the primary key",
            ),
        )

    def newest_self_signature(
        self, at: int, budget: WorkBudget | None = None, *, policy: Policy = DEFAULT_POLICY
    ) -> Signature | None:
        """The newest valid direct-key signature or user ID self-certification at ``at``.

        Tried newest first across the primary and every user ID: the first that verifies
        is the answer and older ones cost nothing. A user ID whose newest valid signature
        is a certification revocation (0x30; in the same second, the revocation counts as
        newer) is revoked: its self-certifications no longer count, as in GnuPG. A
        component that reaches its cap while its next signature could still be the newest
        raises WorkLimitError (an older self-signature could lack the expiry or flags that
        a buried newer one sets).
        """
        budget = budget if budget is not None else WorkBudget.of(DEFAULT_LIMITS)
        self._use(policy)
        found = [s for s in self._primary_self_signatures(at, budget) if s is not None]
        return max(found, key=_newness, default=None)

    def self_signatures(
        self, at: int, budget: WorkBudget | None = None, *, policy: Policy = DEFAULT_POLICY
    ) -> list[Signature]:
        """Every valid direct-key signature and user ID self-certification at ``at``.

        Oldest first; those of a revoked user ID left out (see newest_self_signature).
        Bounded like :meth:`newest_self_signature`, but this verifies them
        all, so a component with more than its cap of forged ones raises WorkLimitError.
        """
        budget = budget if budget is not None else WorkBudget.of(DEFAULT_LIMITS)
        self._use(policy)
        direct = self._walk(self._direct_key_queue(at), budget, every=True)
        queue = self._queue(0, b"", at, lambda: self._self_signature_queue(at))
        return sorted(direct + self._walk(queue, budget, every=True), key=_newness)

    def _designated_revocation(
        self,
        signed: int,
        at: int,
        budget: WorkBudget,
        revokers: Callable[[bytes], KeyPacket | None],
    ) -> tuple[Signature, bytes] | None:
        """A valid key revocation (0x20) by a key the primary designated as its revoker.

        RFC 9580 §5.2.3.23: a valid direct-key signature names the revoker's fingerprint;
        ``revokers`` gives that key's primary key packet (from the keyrings), or None.
        Only looked for when the primary carries a key revocation by another issuer (so
        no other certificate is decoded otherwise); newest first, soft ones made after
        ``signed`` passed over, forged ones counted against their own cap.
        """
        pairs = self._designated.get(at)
        if pairs is None:
            pairs = self._designated_pairs(at, budget)
            self._designated[at] = pairs
        if not pairs:
            return None
        quota = _Quota(budget, "key revocations by designated revokers checked on the primary")
        material = self.primary.packet.hash_material
        for rev, fpr in pairs:
            assert rev.created is not None
            if rev.revocation_code in self._policy.soft_revocations and signed < rev.created:
                continue
            signer = self._revokers.get(fpr)
            if signer is None:
                packet = revokers(fpr)
                if packet is None:
                    continue
                signer = self._revokers[fpr] = _Component(packet=packet)
            if self._verified(rev, signer, material, quota) is True:
                return rev, fpr
        return None

    def _designated_pairs(self, at: int, budget: WorkBudget) -> list[tuple[Signature, bytes]]:
        """Key revocations by other issuers at ``at``, each with the revoker it names."""
        others = [
            s
            for s in reversed(self.primary.sigs)
            if s.sig_type == SigType.KEY_REVOCATION
            and not self._by_primary(s)
            and _plausible(s, at, self._policy.certificate_hashes, revocation=True)
        ]
        if not others:
            return []
        designated = sorted(
            {
                fpr
                for dk in self._walk(self._direct_key_queue(at), budget, every=True)
                for fpr in dk.revocation_keys
            }
        )
        return [
            (rev, fpr)
            for rev in others
            for fpr in designated
            if rev.issuer_fingerprint == fpr
            or (rev.issuer_fingerprint is None and fpr[-8:] in rev.issuer_key_ids)
        ]

    def _primary_self_signatures(
        self, at: int, budget: WorkBudget
    ) -> tuple[Signature | None, Signature | None]:
        """The newest valid direct-key signature and user ID self-certification at ``at``.

        Both bind the primary key (RFC 9580 §5.2.3.10, §5.2.3.29): :meth:`judge` applies
        the flags and the expiry of each, so a newer self-certification never lifts what
        a direct-key signature forbids (GnuPG gives the direct-key signature precedence,
        Sequoia applies its expiry; either way the stricter one counts here). Each kind
        has its own queue, so that neither walk steps over the other's signatures.
        """
        direct = self._walk(self._direct_key_queue(at), budget)
        queue = self._queue(0, b"", at, lambda: self._self_signature_queue(at))
        certified = self._walk(queue, budget)
        return (direct[0] if direct else None), (certified[0] if certified else None)

    def _revocation(
        self,
        component: _Component,
        sig_type: int,
        material: bytes,
        signed: int,
        at: int,
        *,
        quota_name: str,
        budget: WorkBudget,
    ) -> Signature | None:
        """A valid revocation of ``sig_type`` that applies to a signature made at ``signed``.

        Newest first; a soft revocation made after ``signed`` does not apply and is not
        verified. Reaching the cap before a valid one is found raises WorkLimitError.
        """
        queue = self._queue(
            sig_type,
            component.packet.fingerprint,
            at,
            lambda: self._kind_queue(
                component.sigs, sig_type, material, at, quota_name, revocation=True
            ),
        )

        if not queue.entries:
            return None

        def later_soft(rev: Signature) -> bool:
            assert rev.created is not None
            return rev.revocation_code in self._policy.soft_revocations and signed < rev.created

        found = self._walk(queue, budget, skip=later_soft)
        return found[0] if found else None

    def _newest_binding(
        self, sub: _Component, material: bytes, at: int, budget: WorkBudget
    ) -> Signature | None:
        """The newest valid subkey binding (0x18) of ``sub`` at ``at``, newest first."""
        queue = self._queue(
            SigType.SUBKEY_BINDING,
            sub.packet.fingerprint,
            at,
            lambda: self._kind_queue(
                sub.sigs,
                SigType.SUBKEY_BINDING,
                material,
                at,
                "binding signatures checked on one subkey",
            ),
        )
        found = self._walk(queue, budget)
        return found[0] if found else None

    def judge(
        self,
        key: SigningKey,
        signed: int,
        at: int,
        *,
        budget: WorkBudget | None = None,
        policy: Policy = DEFAULT_POLICY,
        revokers: Callable[[bytes], KeyPacket | None] | None = None,
    ) -> KeyJudgement | None:
        """Whether ``key`` could make a document signature at ``signed``, judged at ``at``.

        None means the certificate allows it; otherwise the reason (RFC 9580 §5.2.3.10
        key expiration, §5.2.3.29 key flags, §5.2.3.31 revocation, §10.1 bindings), in
        the order of the README's policy table: revocations, creation times, then
        self-signatures, bindings and flags, then expiry. Creation times come before the
        self-signature search, which ignores self-signatures made after ``at``: a key
        created after ``at`` (or after ``signed``) is not yet valid, not "unsigned".

        Every public-key operation is paid from ``budget`` (a fresh default one if None);
        raises WorkLimitError when a cap stops the judgement before a decision. ``policy``
        says which hashes a self-signature may use and which revocation reasons are soft.
        ``revokers`` finds the primary key of a designated revoker by fingerprint (None:
        designated revocations are not looked for).
        """
        budget = budget if budget is not None else WorkBudget.of(DEFAULT_LIMITS)
        self._use(policy)
        prim = self.primary.packet
        rev = self._revocation(
            self.primary,
            SigType.KEY_REVOCATION,
            prim.hash_material,
            signed,
            at,
            quota_name="key revocations checked on the primary key",
            budget=budget,
        )
        if rev is not None:
            return KeyJudgement(KeyVerdict.REVOKED, _revocation_message("primary key", rev))
        if revokers is not None:
            found = self._designated_revocation(signed, at, budget, revokers)
            if found is not None:
                rev, fpr = found
                message = _revocation_message("primary key", rev).replace(
                    "was revoked", f"was revoked by its designated revoker {fpr.hex().upper()}", 1
                )
                return KeyJudgement(KeyVerdict.REVOKED, message)
        if not key.is_primary:
            sub_rev = self._revocation(
                self.subkeys[key.packet.fingerprint],
                SigType.SUBKEY_REVOCATION,
                prim.hash_material + key.packet.hash_material,
                signed,
                at,
                quota_name="subkey revocations checked on one subkey",
                budget=budget,
            )
            if sub_rev is not None:
                return KeyJudgement(KeyVerdict.REVOKED, _revocation_message("subkey", sub_rev))
        too_early = _not_yet_valid(prim, key, signed, at)
        if too_early is not None:
            return too_early
        # Nothing below depends on ``signed`` but the expiry: what the self-signatures and
        # bindings say at ``at`` is computed once per key, time and cap (a replay of a
        # walk that reached a decision spends nothing and counts the same quotas).
        memo = (key.packet.fingerprint, at, budget.per_component)
        bound = self._bound.get(memo)
        if bound is None:
            if len(self._bound) >= _BOUND_MEMO:  # a long-lived keyring judged at "now"
                self._bound.clear()
            bound = self._bound[memo] = self._bound_facts(key, at, budget)
        if isinstance(bound, KeyJudgement):
            return bound
        expires, sub_expires = bound
        if expires is not None and (expires <= signed or expires <= at):
            return KeyJudgement(KeyVerdict.EXPIRED, f"the primary key expired at {_iso(expires)}")
        if sub_expires is not None and (sub_expires <= signed or sub_expires <= at):
            return KeyJudgement(KeyVerdict.EXPIRED, f"the subkey expired at {_iso(sub_expires)}")
        return None

    def _bound_facts(
        self, key: SigningKey, at: int, budget: WorkBudget
    ) -> KeyJudgement | tuple[int | None, int | None]:
        """What binds ``key`` at ``at``: a refusal, or when the primary and subkey expire.

        The self-signature, binding and back-signature steps of :meth:`judge`, which do
        not depend on when the document was signed. Raises WorkLimitError as they do.
        """
        prim = self.primary.packet
        direct, certified = self._primary_self_signatures(at, budget)
        if direct is None and certified is None:
            revoked = self._queues[0, b"", at].revoked
            why = f" outside its {revoked} revoked user ID(s)" if revoked else ""
            return KeyJudgement(
                KeyVerdict.NOT_SIGNING, f"the primary key has no valid self-signature{why}"
            )
        sub: _Component | None = None
        binding: Signature | None = None
        if not key.is_primary:
            sub = self.subkeys[key.packet.fingerprint]
            material = prim.hash_material + sub.packet.hash_material
            binding = self._newest_binding(sub, material, at, budget)
            if binding is None:
                return KeyJudgement(
                    KeyVerdict.NOT_SIGNING, "the subkey has no valid binding signature"
                )
            if binding.key_flags is None or not binding.key_flags & KEY_FLAG_SIGN:
                return KeyJudgement(
                    KeyVerdict.NOT_SIGNING, "the subkey's binding does not allow signing"
                )
            if not self._back_signed(binding, sub, material, at, budget):
                return KeyJudgement(
                    KeyVerdict.NOT_SIGNING,
                    "the signing subkey has no valid primary key binding (back-signature)",
                )
        else:
            for selfsig, which in ((certified, ""), (direct, " (its direct-key signature)")):
                if (
                    selfsig is not None
                    and selfsig.key_flags is not None
                    and not selfsig.key_flags & KEY_FLAG_SIGN
                ):
                    return KeyJudgement(
                        KeyVerdict.NOT_SIGNING,
                        f"the primary key's flags do not allow signing{which}",
                    )

        windows = [_expiry(prim, s) for s in (direct, certified) if s is not None]
        expires = min((end for end in windows if end is not None), default=None)
        sub_expires = None
        if sub is not None and binding is not None:
            sub_expires = _expiry(sub.packet, binding)
        return expires, sub_expires

    def _back_signed(
        self, binding: Signature, sub: _Component, material: bytes, at: int, budget: WorkBudget
    ) -> bool:
        quota = _Quota(budget, "back-signatures checked in one binding")
        for back in binding.embedded:
            if back.sig_type != SigType.PRIMARY_KEY_BINDING:
                continue
            ids = back.issuer_key_ids
            if ids and sub.packet.key_id not in ids:
                continue
            if self._valid(back, sub, material, at, quota):
                return True
        return False


class CertificatePool:
    """Certificates with the same packets judged once, whichever keyring holds them.

    A check run gives each project its own keyring, and the same maintainer's certificate
    sits in many of them: a keyring asks :meth:`parsed` before it parses a certificate
    (and :meth:`keep` after), and :meth:`shared` takes a certificate parsed elsewhere, so
    that every copy is judged by one :class:`Certificate`, whose caches (the decoded keys,
    each self-signature's math, what the bindings say at a reference time) then serve them
    all. Sharing changes no verdict: everything a certificate caches follows from its
    packets, except the revokers a key revocation by another issuer may name (RFC 9580
    §5.2.3.23), which come from the keyring judging it: such a certificate is never
    shared. A cache hit spends no public-key operation, as within one keyring.

    Not thread-safe (neither are a certificate's caches): one pool per thread. At most
    ``size`` certificates are kept, the oldest dropped first.
    """

    __slots__ = ("_by_content", "_by_octets", "_seen", "size")

    def __init__(self, size: int = 256) -> None:
        if size < 1:
            msg = "a certificate pool holds at least one certificate"
            raise ValueError(msg)
        self.size = size
        #: (parse limits, content) -> the certificate that judges for all
        self._by_content: dict[tuple[object, ...], Certificate] = {}
        #: id(a keyring's certificate) -> (that certificate, the one it was handed to);
        #: the first item keeps the id from being reused while the entry lives
        self._seen: dict[int, tuple[Certificate, Certificate]] = {}
        #: (parse limits, the octets of each copy) -> the certificate parsed from them
        self._by_octets: dict[tuple[object, ...], Certificate] = {}

    def parsed(
        self, octets: tuple[bytes, ...], *, subpackets: int, nesting: int, packets: int
    ) -> Certificate | None:
        """The certificate kept for exactly these copies' ``octets`` and parse limits.

        None when there is none: parse them, then :meth:`keep` the result. Parsing is a
        function of the octets and the limits (``subpackets``, ``nesting``, at most
        ``packets`` packets), so the one kept is the one a parse would give.
        """
        return self._by_octets.get((subpackets, nesting, packets, octets))

    def keep(
        self,
        octets: tuple[bytes, ...],
        cert: Certificate,
        *,
        subpackets: int,
        nesting: int,
        packets: int,
    ) -> Certificate:
        """Remember ``cert``, parsed from ``octets``; the certificate that judges for it.

        One with a key revocation by another issuer is not remembered (see the class).
        """
        if not _stands_alone(cert):
            return cert
        found = self._by_octets.setdefault((subpackets, nesting, packets, octets), cert)
        if len(self._by_octets) > self.size:
            del self._by_octets[next(iter(self._by_octets))]
        return found

    def shared(self, cert: Certificate, *, subpackets: int, nesting: int) -> Certificate:
        """The certificate that judges for ``cert``: an equal one seen before, or ``cert``.

        ``subpackets`` and ``nesting`` are the limits ``cert`` was parsed under (a
        revocation whose unhashed area is over them is read without it): only copies
        parsed under the same ones are equal.
        """
        seen = self._seen.get(id(cert))
        if seen is not None and seen[0] is cert:
            return seen[1]
        found = cert
        if _stands_alone(cert):
            key = (subpackets, nesting, *_content(cert))
            found = self._by_content.setdefault(key, cert)
            if len(self._by_content) > self.size:
                del self._by_content[next(iter(self._by_content))]
        self._seen[id(cert)] = (cert, found)
        if len(self._seen) > self.size:
            del self._seen[next(iter(self._seen))]
        return found


def _stands_alone(cert: Certificate) -> bool:
    """Whether every judgement of ``cert`` follows from its packets alone.

    Not when its primary carries a key revocation by another issuer: a designated revoker
    found in the judging keyring may have made it.
    """
    return not any(
        s.sig_type == SigType.KEY_REVOCATION and not cert._by_primary(s)  # noqa: SLF001
        for s in cert.primary.sigs
    )


def _content(cert: Certificate) -> tuple[object, ...]:
    """The packets a certificate was built from, per component (equal iff equal content)."""
    return (
        cert.primary.packet.body,
        tuple(s.packet for s in cert.primary.sigs),
        tuple((uid, tuple(s.packet for s in sigs)) for uid, sigs in cert.userids.items()),
        tuple(
            (fpr, sub.packet.body, tuple(s.packet for s in sub.sigs))
            for fpr, sub in cert.subkeys.items()
        ),
    )


def _not_yet_valid(prim: KeyPacket, key: SigningKey, signed: int, at: int) -> KeyJudgement | None:
    """The key-not-yet-valid judgement, if any (RFC 9580 §5.5.2, §5.2.3.11).

    The signing key or its primary was created after ``at`` or after ``signed``, or the
    signature claims to be made after ``at``.
    """
    keys = [(prim, "primary key")]
    if not key.is_primary:
        keys.append((key.packet, "signing subkey"))
    for packet, what in keys:
        if packet.created > at:
            return KeyJudgement(
                KeyVerdict.NOT_YET_VALID,
                f"the {what} was created at {_iso(packet.created)}, after the reference time",
            )
        if packet.created > signed:
            return KeyJudgement(
                KeyVerdict.NOT_YET_VALID,
                f"the signature was made before the {what} was created ({_iso(packet.created)})",
            )
    if signed > at:
        return KeyJudgement(
            KeyVerdict.NOT_YET_VALID,
            f"the signature claims a creation time after the reference time ({_iso(signed)})",
        )
    return None


#: Judgements remembered per certificate (see Certificate._bound) before they are dropped.
_BOUND_MEMO = 256
#: A key expiration time larger than any real one: "never expires" sorts as the longest.
_NEVER = 1 << 64


def _newness(sig: Signature) -> tuple[int, bool, bool, int, bytes]:
    """Sort key, oldest first: which self-signature or binding is the newest one.

    By creation time. Two made in the same second are ordered conservatively, never by
    file order: a revocation counts as newer than a self-signature (a user ID revoked and
    certified in one second is revoked; GnuPG takes whichever comes last in the file),
    then the one whose key flags forbid signing counts as newer than one that allows it,
    then the one with the shorter key expiration (none is the longest), then the packet
    octets (so the choice is total and the same for any order of copies).
    """
    flags = sig.key_flags
    forbids_signing = flags is not None and not flags & KEY_FLAG_SIGN
    expiry = sig.key_expiration or _NEVER
    revokes = sig.sig_type in _REVOCATIONS
    return (sig.created or 0, revokes, forbids_signing, -expiry, sig.packet)


def _expiry(key: KeyPacket, selfsig: Signature) -> int | None:
    if not selfsig.key_expiration:
        return None
    return key.created + selfsig.key_expiration


def _iso(ts: int) -> str:
    return format_utc(ts)


def _revocation_message(what: str, rev: Signature) -> str:
    code = rev.revocation_code
    names = {
        0: "no reason given",
        1: "superseded",
        2: "compromised",
        3: "retired",
        32: "user ID no longer valid, not a key reason: a hard revocation",
    }
    why = "no reason subpacket" if code is None else names.get(code, f"reason code {code}")
    when = _iso(rev.created) if rev.created is not None else "an unknown time"
    return f"the {what} was revoked at {when} ({why})"


def _plausible(
    sig: Signature, at: int, hashes: frozenset[int], *, revocation: bool = False
) -> bool:
    """The checks before any hashing: made by ``at``, no defect, one of ``hashes``, live.

    A key or subkey ``revocation`` only ever rejects, so one with a defect (an unknown
    critical subpacket, a critical notation) or past its own expiration time still
    counts, conservatively (GnuPG ignores a revocation's expiration too); it still needs
    a creation time and a certificate hash, and its math is checked.
    """
    if sig.created is None or sig.created > at:
        return False
    if revocation:
        return sig.hash_algo in hashes
    return not sig.defects and sig.hash_algo in hashes and not sig.expired_at(at)


def _check_math(sig: Signature, signer: _Component, material: bytes, quota: _Quota) -> bool | None:
    """RFC 9580 §5.2.4: hash ``material`` and the trailer, check prefix and values.

    None when the signature can never count (no such hash, an unusable key, a wrong
    prefix); only the public-key operation is paid from ``quota``.
    """
    ctx = new_hash(sig.hash_algo)
    if ctx is None:
        return None
    try:
        key = signer.decoded()
    except (MalformedError, UnsupportedError):
        return None
    ctx.update(material)
    ctx.update(sig.trailer)
    digest = ctx.digest()
    if digest[:2] != sig.left16:
        return None
    quota.spend()
    return key.verify(sig.hash_algo, digest, sig.mpis)


def parse_certificate(
    packets: Iterable[Packet], *, max_subpackets: int = 512, nesting: int = 2
) -> Certificate:
    """Build a certificate from its packets (one or more concatenated copies of it).

    The first packet must be a v4 public key. Copies are merged as ``gpg --import`` merges
    them: per component (the primary key, each user ID by its octets, each subkey by its
    fingerprint) the union of the signatures that belong to it (RFC 9580 §10.1). A packet
    is de-duplicated only within its own component, so a copy that carries a revocation's
    bytes under a dummy user ID cannot make the real one, after the primary key, a
    "duplicate". A signature of a type that does not belong where it sits (a key
    revocation or direct-key signature under a user ID or subkey, a binding under the
    primary, a certification outside a user ID) is ignored there and counted in
    ``misplaced``; one that does not parse is counted in ``skipped``.

    Threat model: every copy may come from an attacker, and the order of copies and of
    packets is theirs. The result does not depend on either: components are keyed by
    identity and kept in sorted order, each component's signatures in :func:`_newness`
    order (creation time, then the conservative tie-break, then the octets).
    """
    primary: _Component | None = None
    userids: dict[bytes, list[Signature]] = {}
    subkeys: dict[bytes, _Component] = {}
    slots: dict[tuple[int, bytes], _Slot] = {}
    counts = [0, 0]  # skipped, misplaced
    slot: _Slot | None = None
    for pkt in packets:
        if pkt.tag == Tag.PUBLIC_KEY:
            key = parse_key_packet(pkt.body)
            if primary is None:
                primary = _Component(packet=key)
            elif key.fingerprint != primary.packet.fingerprint:
                raise MalformedError("two different primary keys in one certificate")
            slot = _slot(slots, pkt.tag, b"", primary.sigs, _ON_PRIMARY)
        elif primary is None:
            raise MalformedError("a certificate must start with a public key packet")
        elif pkt.tag == Tag.USER_ID:
            slot = _slot(slots, pkt.tag, pkt.body, userids.setdefault(pkt.body, []), _ON_USER_ID)
        elif pkt.tag == Tag.PUBLIC_SUBKEY:
            try:
                sub = parse_key_packet(pkt.body)
            except (MalformedError, UnsupportedError):
                counts[0] += 1
                slot = None
                continue
            comp = subkeys.setdefault(sub.fingerprint, _Component(packet=sub))
            slot = _slot(slots, pkt.tag, sub.fingerprint, comp.sigs, _ON_SUBKEY)
        elif pkt.tag == Tag.SIGNATURE:
            if slot is not None:
                _place(slot, pkt.body, counts, max_subpackets, nesting)
        elif pkt.tag in (Tag.TRUST, Tag.MARKER, Tag.PADDING):
            continue
        else:
            # User attributes and anything unknown: their signatures are
            # not needed to judge a signing key, so they are skipped with the packet.
            slot = None
    if primary is None:
        raise MalformedError("empty certificate")
    for each in slots.values():
        each.sigs.sort(key=_newness)
    return Certificate(
        primary=primary,
        userids=dict(sorted(userids.items())),
        subkeys=dict(sorted(subkeys.items())),
        skipped=counts[0],
        misplaced=counts[1],
    )


class _Slot:
    """One component's signature list while parsing: what may go there, what already did."""

    __slots__ = ("allowed", "seen", "sigs")

    def __init__(self, sigs: list[Signature], allowed: frozenset[int]) -> None:
        self.sigs = sigs
        self.allowed = allowed
        self.seen: set[bytes] = set()


def _slot(
    slots: dict[tuple[int, bytes], _Slot],
    tag: int,
    identity: bytes,
    sigs: list[Signature],
    allowed: frozenset[int],
) -> _Slot:
    found = slots.get((tag, identity))
    if found is None:
        found = slots[tag, identity] = _Slot(sigs=sigs, allowed=allowed)
    return found


def _place(slot: _Slot, body: bytes, counts: list[int], max_subpackets: int, nesting: int) -> None:
    """Add one signature packet to its component, unless a duplicate there or misplaced."""
    if body in slot.seen:
        return
    slot.seen.add(body)
    # v4: the type is octet 1; a misplaced one is dropped before any parsing work.
    if len(body) > 1 and body[0] == 4 and body[1] not in slot.allowed:
        counts[1] += 1
        return
    try:
        sig = parse_signature(body, max_subpackets=max_subpackets, depth=nesting)
    except MalformedError:
        found = _hashed_only(body, max_subpackets, nesting)
        if found is None:
            counts[0] += 1
            return
        sig = found
    if sig.sig_type not in slot.allowed:
        counts[1] += 1
        return
    slot.sigs.append(sig)


def _hashed_only(body: bytes, max_subpackets: int, nesting: int) -> Signature | None:
    """A key or subkey revocation whose unhashed area does not parse, read without it.

    Anyone can rewrite a signature's unhashed area (RFC 9580 §5.2.3.7) without breaking
    its math: junk there (too many subpackets, a malformed issuer, deep nesting) must not
    make a real revocation vanish. Only revocations get this second reading (they only
    ever reject); the issuer hints are lost, so the primary key checks it.
    """
    if len(body) < 8 or body[0] != 4 or body[1] not in _KEY_REVOCATIONS:
        return None
    hashed_end = 6 + int.from_bytes(body[4:6], "big")
    if hashed_end + 2 > len(body):
        return None
    rest = hashed_end + 2 + int.from_bytes(body[hashed_end : hashed_end + 2], "big")
    if rest > len(body):
        return None
    try:
        return parse_signature(
            body[:hashed_end] + b"\x00\x00" + body[rest:],
            max_subpackets=max_subpackets,
            depth=nesting,
        )
    except MalformedError:
        return None
