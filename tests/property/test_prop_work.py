"""The work caps never change a verdict: they only turn one into a rejection (issue 8 §5).

A certificate (a signing primary with one user ID, or a certify-only primary with a signing
subkey) gets a random choice of real signatures (a newer self-signature setting an expiry,
a hard or soft revocation of the primary or the subkey, a newer binding forbidding
signing) and of forged ones with correct hash prefixes (self-signatures on the user ID or
a dummy one, revocations, bindings), at random times. Judged with the default budget, the
answer must either be a WorkLimitError or the answer of an unbounded judge of the same
certificate; never, in particular, "allowed" where the unbounded judge rejects. The
budget is never overspent: operations counted, not timed.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from _strategies import SETTINGS
from hypothesis import given, settings
from hypothesis import strategies as st

from pgpverify.errors import WorkLimitError
from pgpverify.limits import DEFAULT_LIMITS, WorkBudget
from pgpverify.openpgp.certificate import SigningKey, parse_certificate
from pgpverify.openpgp.packets import iter_packets


def _load_certbuild():
    if "certbuild" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "certbuild", Path(__file__).resolve().parent.parent / "certbuild.py"
        )
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["certbuild"] = module
        spec.loader.exec_module(module)
    return sys.modules["certbuild"]


cb = _load_certbuild()
w = cb.w
CAP = DEFAULT_LIMITS.component_signatures
UNBOUNDED = 10**9
PRIMARY = cb.key("prop work")
SUB = cb.key("prop work subkey", cb.K0 + 1)
UID = b"prop work <prop-work@example.org>"
DUMMY = b"dummy <dummy@example.org>"


def _forged(sig_type: int, data: bytes, t: int, extra=()) -> bytes:
    hashed, unhashed = w.default_subpackets(PRIMARY, t)
    spec = w.SigSpec(sig_type, w.SHA256, hashed + list(extra), unhashed, corrupt=True)
    return w.packet(w.TAG_SIGNATURE, w.sign(PRIMARY, spec, data))


def _uid_data(uid: bytes) -> bytes:
    return PRIMARY.frame() + w.uid_frame(uid)


SUB_DATA = PRIMARY.frame() + SUB.frame()
TIMES = st.integers(cb.K0 + 2, cb.AT_TS - 1)
FORGED = st.lists(
    st.tuples(
        st.sampled_from(["uid", "dummy", "revocation", "subkey-revocation", "binding"]), TIMES
    ),
    max_size=3 * CAP,
)


def _build(subkey: bool, real: set[str], forged: list[tuple[str, int]], when: int) -> bytes:
    flags = w.FLAG_CERTIFY if subkey else cb.GOOD_SIGNER
    primary_sigs = []
    uid_sigs = [cb.certification(PRIMARY, UID, cb.K0, flags=flags)]
    dummy_sigs = []
    sub_sigs = [cb.binding(PRIMARY, SUB, cb.K0 + 1)] if subkey else []
    if "expiry" in real:
        uid_sigs.append(cb.certification(PRIMARY, UID, when, flags=flags, expires=cb.SIGNED - 1))
    if "revocation" in real:
        primary_sigs.append(cb.key_revocation(PRIMARY, when))
    if "soft-revocation" in real:
        primary_sigs.append(cb.key_revocation(PRIMARY, when, code=3))
    if subkey and "subkey-revocation" in real:
        sub_sigs.append(cb.subkey_revocation(PRIMARY, SUB, when))
    if subkey and "no-sign-binding" in real:
        sub_sigs.append(cb.binding(PRIMARY, SUB, when, flags=w.FLAG_ENCRYPT_COMMS))
    reason = [w.revocation_reason(2)]
    for kind, t in forged:
        if kind == "uid":
            uid_sigs.append(_forged(w.POSITIVE_CERT, _uid_data(UID), t, [w.key_flags(flags)]))
        elif kind == "dummy":
            dummy_sigs.append(_forged(w.POSITIVE_CERT, _uid_data(DUMMY), t, [w.key_flags(flags)]))
        elif kind == "revocation":
            primary_sigs.append(_forged(w.KEY_REVOCATION, PRIMARY.frame(), t, reason))
        elif subkey and kind == "subkey-revocation":
            sub_sigs.append(_forged(w.SUBKEY_REVOCATION, SUB_DATA, t, reason))
        elif subkey and kind == "binding":
            sub_sigs.append(_forged(w.SUBKEY_BINDING, SUB_DATA, t, [w.key_flags(w.FLAG_SIGN)]))
    cert = cb.Cert(PRIMARY).add(PRIMARY.packet(), *primary_sigs)
    cert.add(cb.uid_packet(UID), *uid_sigs)
    if dummy_sigs:
        cert.add(cb.uid_packet(DUMMY), *dummy_sigs)
    if subkey:
        cert.add(SUB.packet(subkey=True), *sub_sigs)
    return cert.octets()


def _judge(octets: bytes, subkey: bool, budget: WorkBudget) -> str | None:
    cert = parse_certificate(iter_packets(octets, max_packets=10_000))
    signer = SUB if subkey else PRIMARY
    key = SigningKey(packet=cert.find_key(signer.fingerprint).packet, is_primary=not subkey)
    found = cert.judge(key, cb.SIGNED, cb.AT_TS, budget=budget)
    return None if found is None else found.reason


@settings(SETTINGS, max_examples=min(SETTINGS.max_examples, 80))
@given(
    subkey=st.booleans(),
    real=st.sets(
        st.sampled_from(
            ["expiry", "revocation", "soft-revocation", "subkey-revocation", "no-sign-binding"]
        )
    ),
    forged=FORGED,
    when=TIMES,
)
def test_work_caps_only_ever_turn_a_verdict_into_a_rejection(subkey, real, forged, when):
    octets = _build(subkey, real, forged, when)
    truth = _judge(octets, subkey, WorkBudget(limit=UNBOUNDED, per_component=UNBOUNDED))
    budget = WorkBudget.of(DEFAULT_LIMITS)
    try:
        bounded = _judge(octets, subkey, budget)
    except WorkLimitError:
        bounded = "work cap"
    assert budget.spent <= DEFAULT_LIMITS.public_key_operations
    assert bounded in {truth, "work cap"}
    # under the cap in every component, the caps change nothing at all
    if len(forged) < CAP:
        assert bounded == truth


@pytest.mark.parametrize("count", [CAP - 1, CAP, CAP + 1])
def test_work_caps_forged_uid_self_signatures_at_the_edge(count):
    forged = [("uid", cb.K0 + 100 + i) for i in range(count)]
    octets = _build(False, {"expiry"}, forged, cb.K0 + 50)
    truth = _judge(octets, False, WorkBudget(limit=UNBOUNDED, per_component=UNBOUNDED))
    assert truth == "key-expired"
    if count < CAP:
        assert _judge(octets, False, WorkBudget.of(DEFAULT_LIMITS)) == truth
    else:
        with pytest.raises(WorkLimitError):
            _judge(octets, False, WorkBudget.of(DEFAULT_LIMITS))
