"""The Policy object: checked at construction, and a stricter one changes verdicts.

Each stricter policy below turns a vector that is good under the default policy into a
rejection through the public API, and the same keyring judged again under the default
policy is good again (a certificate's cached work never carries one policy's answer into
another's).
"""

import dataclasses
import json
from datetime import datetime
from pathlib import Path

import pytest

from pgpverify import DEFAULT_POLICY, Keyring, Policy, Reason, Verifier
from pgpverify.openpgp.constants import HashAlgo, PubKeyAlgo
from pgpverify.policy import RSA_EXPONENT_CEILING, RSA_MODULUS_CEILING

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
MANIFEST = {
    v["name"]: v
    for v in json.loads((VECTORS / "manifest.json").read_text(encoding="utf-8"))["vectors"]
}


def _verdict(name, policy, keyring=None):
    vector = MANIFEST[name]
    ring = keyring or Keyring.from_files([VECTORS / k for k in vector["keyrings"]])
    at = datetime.fromisoformat(vector["at"].replace("Z", "+00:00"))
    result = Verifier(ring, policy=policy).verify(
        VECTORS / vector["file"], VECTORS / vector["signature"], at=at
    )
    return result.reason, result.message


def _without(field, *values):
    return dataclasses.replace(
        DEFAULT_POLICY, **{field: getattr(DEFAULT_POLICY, field) - frozenset(values)}
    )


STRICTER = [
    (
        "good/sha1-self-signature-binding-back-signature",
        _without("certificate_hashes", HashAlgo.SHA1),
        Reason.NOT_SIGNING_KEY,
        "no valid self-signature",
    ),
    (
        "good/ecdsa-p256",
        _without("document_hashes", HashAlgo.SHA256),
        Reason.WEAK_HASH,
        "not an accepted hash algorithm",
    ),
    (
        "good/ecdsa-p256",
        _without("key_algorithms", PubKeyAlgo.ECDSA),
        Reason.WEAK_KEY,
        "not an accepted algorithm",
    ),
    (
        "good/ed25519",
        _without("curves", "Ed25519"),
        Reason.WEAK_KEY,
        "the curve Ed25519 is not accepted",
    ),
    (
        "good/revoked-superseded-signature-before",
        _without("soft_revocations", 1),
        Reason.KEY_REVOKED,
        "superseded",
    ),
    (
        "good/revoked-retired-signature-before",
        _without("soft_revocations", 3),
        Reason.KEY_REVOKED,
        "retired",
    ),
]


@pytest.mark.parametrize(
    ("name", "policy", "reason", "message"),
    STRICTER,
    ids=[f"{n}-{r.value}" for n, _, r, _ in STRICTER],
)
def test_stricter_policy_changes_the_verdict_through_the_api(name, policy, reason, message):
    vector = MANIFEST[name]
    ring = Keyring.from_files([VECTORS / k for k in vector["keyrings"]])
    assert _verdict(name, DEFAULT_POLICY, ring)[0] is Reason.GOOD
    got, why = _verdict(name, policy, ring)
    assert got is reason
    assert message in why
    # the same keyring (its certificates' cached work) under the default policy again
    assert _verdict(name, DEFAULT_POLICY, ring)[0] is Reason.GOOD


def test_policy_minimum_modulus_bits_rejects_an_rsa_3072_key():
    rsa = next(n for n, v in MANIFEST.items() if v["expected"] == "good" and "demo" in v["file"])
    strict = Policy(min_modulus_bits=4096)
    reason, message = _verdict(rsa, strict)
    assert reason is Reason.WEAK_KEY
    assert "is under 4096" in message


def test_policy_rsa_exponent_range_rejects_65537():
    rsa = next(n for n, v in MANIFEST.items() if v["expected"] == "good" and "demo" in v["file"])
    reason, message = _verdict(rsa, Policy(rsa_max_exponent=65535))
    assert reason is Reason.WEAK_KEY
    assert "public exponent is even or outside 3 to 65535" in message
    assert _verdict(rsa, Policy(rsa_max_modulus_bits=3000))[0] is Reason.WEAK_KEY


def test_policy_rejects_a_list_where_a_set_belongs():
    with pytest.raises(TypeError, match=r"Policy.document_hashes must be a frozenset"):
        Policy(document_hashes=[HashAlgo.SHA256])  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [0, -1, True, 2.5, "2048"])
def test_policy_rejects_a_minimum_size_that_is_not_a_positive_integer(value):
    with pytest.raises(ValueError, match=r"Policy.min_modulus_bits must be a positive integer"):
        Policy(min_modulus_bits=value)


def test_policy_rejects_ceilings_over_the_decoder_s():
    with pytest.raises(ValueError, match="rsa_max_exponent is over"):
        Policy(rsa_max_exponent=RSA_EXPONENT_CEILING + 2)
    with pytest.raises(ValueError, match="rsa_max_modulus_bits is over"):
        Policy(rsa_max_modulus_bits=RSA_MODULUS_CEILING + 1)
    with pytest.raises(ValueError, match="rsa_min_exponent"):
        Policy(rsa_min_exponent=1)
    with pytest.raises(ValueError, match="rsa_min_exponent"):
        Policy(rsa_min_exponent=65539, rsa_max_exponent=65537)


def test_default_policy_is_the_readme_table():
    assert HashAlgo.SHA1 not in DEFAULT_POLICY.document_hashes
    assert HashAlgo.SHA1 in DEFAULT_POLICY.certificate_hashes
    assert DEFAULT_POLICY.min_modulus_bits == 2048
    assert DEFAULT_POLICY.soft_revocations == {1, 3}
    assert (DEFAULT_POLICY.rsa_min_exponent, DEFAULT_POLICY.rsa_max_exponent) == (3, 2**33 - 1)
    assert DEFAULT_POLICY.rsa_max_modulus_bits == 16384
