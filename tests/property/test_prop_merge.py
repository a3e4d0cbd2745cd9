"""The verdict never depends on how a certificate is split, copied, misplaced or ordered.

One certificate (a signing primary, a user ID, a signing subkey) with a random choice of a
hard revocation, a newer self-signature setting an expiry, two self-signatures made in the
same second, a subkey revocation, a certification revocation of the user ID made in that
same second, and a direct-key signature that allows only certification. Hypothesis splits
its signatures over 1-4 copies (each signature in at least one copy, under its own
component), adds the bytes of some of them under components where they do not belong (a
dummy user ID, the primary, the subkey), shuffles the components and the signatures inside
each copy, deals the copies into 1-3 keyrings in any order, armored or binary. The verdict
(reason, message, primary fingerprint) must equal the one for the whole certificate as a
single copy, and that one must be what the chosen signatures mean.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from _strategies import SETTINGS, armor
from hypothesis import given
from hypothesis import strategies as st

from pgpverify.openpgp.keyring import Keyring
from pgpverify.verify import Verifier


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
CERT, PRIMARY, SUB = cb.signer_cert("property merge", subkey=True)
UID = CERT.components[1][0][2:]
DAY = 86400
T_NEWER = cb.SIGNED - 20 * DAY
T_TIE = cb.SIGNED - 10 * DAY
EXPIRES = cb.AT_TS - DAY

#: optional signature -> (component it belongs to, packet)
OPTIONAL = {
    "revocation": ("primary", cb.key_revocation(PRIMARY, cb.SIGNED + DAY)),
    "newer": ("uid", cb.certification(PRIMARY, UID, T_NEWER, expires=EXPIRES)),
    "tie": ("uid", cb.certification(PRIMARY, UID, T_TIE)),
    "tie-expiring": ("uid", cb.certification(PRIMARY, UID, T_TIE, expires=EXPIRES)),
    "subkey-revocation": ("subkey", cb.subkey_revocation(PRIMARY, SUB, cb.SIGNED + DAY)),
    # a certification revocation in the same second as "tie": the user ID is revoked
    "uid-revocation": (
        "uid",
        cb.sig(
            PRIMARY,
            0x30,
            PRIMARY.frame() + cb.w.uid_frame(UID),
            T_TIE,
            [cb.w.revocation_reason(32)],
        ),
    ),
    # a direct-key signature allowing only certification: the primary may not sign
    "direct-certify": (
        "primary",
        cb.sig(
            PRIMARY,
            cb.w.DIRECT_KEY,
            PRIMARY.frame(),
            cb.K0 + DAY,
            [cb.w.key_flags(cb.w.FLAG_CERTIFY)],
        ),
    ),
}
HEADS = {
    "primary": CERT.components[0][0],
    "uid": CERT.components[1][0],
    "subkey": CERT.components[2][0],
    "dummy": cb.uid_packet(b"Dummy <dummy@example.org>"),
}
#: the signatures every copy set starts from (the primary may sign too: certify+sign flags)
BASE = {"uid": [cb.certification(PRIMARY, UID, cb.K0)], "subkey": [CERT.components[2][1][0]]}


def _expected(chosen: set[str], by_subkey: bool) -> str:
    if "revocation" in chosen or (by_subkey and "subkey-revocation" in chosen):
        return "key-revoked"
    direct = "direct-certify" in chosen
    if "uid-revocation" in chosen:
        # no user ID self-signature counts; the direct-key signature, if any, is the only
        # self-signature (no expiry): the subkey signs, the primary may not
        return "good" if direct and by_subkey else "not-signing-key"
    if direct and not by_subkey:
        return "not-signing-key"
    if "tie-expiring" in chosen:  # the conservative choice between the two in one second
        return "key-expired"
    if "tie" in chosen:  # newer than "newer", without an expiry
        return "good"
    return "key-expired" if "newer" in chosen else "good"


def _verdict(workdir: Path, rings: list[bytes], by_subkey: bool):
    keyring = Keyring()
    for index, data in enumerate(rings):
        keyring.add_bytes(data, source=f"keyring {index}")
    signer = SUB if by_subkey else PRIMARY
    (workdir / "doc.asc").write_bytes(cb.document_signature(signer))
    result = Verifier(keyring).verify(workdir / "doc", at=cb.AT)
    return result.reason.value, result.message, result.primary_fingerprint


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("merge")
    (path / "doc").write_bytes(cb.DOCUMENT)
    return path


@SETTINGS
@given(st.data())
def test_merge_verdict_is_independent_of_copies_and_order(workdir, data):
    chosen = data.draw(st.sets(st.sampled_from(sorted(OPTIONAL))), label="signatures")
    by_subkey = data.draw(st.booleans(), label="subkey signs")
    sigs: dict[str, list[bytes]] = {
        "primary": [],
        "uid": list(BASE["uid"]),
        "subkey": list(BASE["subkey"]),
    }
    for name in sorted(chosen):
        where, packet = OPTIONAL[name]
        sigs[where].append(packet)

    whole = b"".join(HEADS[c] + b"".join(sigs[c]) for c in ("primary", "uid", "subkey"))
    baseline = _verdict(workdir, [whole], by_subkey)
    assert baseline[0] == _expected(chosen, by_subkey), (chosen, by_subkey, baseline)

    # Split: each signature into a non-empty set of copies, under its own component.
    n = data.draw(st.integers(1, 4), label="copies")
    copies: list[dict[str, list[bytes]]] = [{} for _ in range(n)]
    for comp, packets in sigs.items():
        for packet in packets:
            for i in data.draw(st.sets(st.integers(0, n - 1), min_size=1), label="placed"):
                copies[i].setdefault(comp, []).append(packet)
    # Misplace: the bytes of some signatures again under a component they do not belong to.
    every = [(comp, p) for comp, packets in sigs.items() for p in packets]
    for comp, packet in data.draw(st.lists(st.sampled_from(every), max_size=4), label="moved"):
        wrong = data.draw(
            st.sampled_from([c for c in ("primary", "uid", "subkey", "dummy") if c != comp]),
            label="wrong place",
        )
        i = data.draw(st.integers(0, n - 1), label="copy")
        copies[i].setdefault(wrong, []).append(packet)

    rng = data.draw(st.randoms(use_true_random=False), label="shuffle")
    octets = []
    for copy in copies:
        parts = [c for c in copy if c != "primary"]
        if data.draw(st.booleans(), label="dummy user ID without signatures"):
            parts.append("dummy")
        rng.shuffle(parts)
        out = HEADS["primary"] + b"".join(
            rng.sample(copy.get("primary", []), len(copy.get("primary", [])))
        )
        for comp in dict.fromkeys(parts):
            packets = copy.get(comp, [])
            out += HEADS[comp] + b"".join(rng.sample(packets, len(packets)))
        octets.append(out)
    rng.shuffle(octets)
    k = data.draw(st.integers(1, min(3, n)), label="keyrings")
    rings: list[list[bytes]] = [[] for _ in range(k)]
    for i, copy in enumerate(octets):
        rings[i % k if i < k else rng.randrange(k)].append(copy)
    armored = data.draw(st.booleans(), label="armored")
    files = [
        b"".join(armor("PUBLIC KEY BLOCK", c) for c in ring) if armored else b"".join(ring)
        for ring in rings
    ]
    assert _verdict(workdir, files, by_subkey) == baseline
