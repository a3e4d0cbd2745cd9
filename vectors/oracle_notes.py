"""What gpgv and sqv say where it differs from our verdict, and why.

``generate.py`` merges these into ``manifest.json``; ``tests/test_oracles.py`` checks that
the installed oracles (gpgv 2.2.40, sqv 1.1.0) still say it. Each note states the policy
difference that the oracle's own output shows (run ``sqv -v`` or gpgv by hand to see it).
"""

from __future__ import annotations

GPGV_STATE = (
    "gpgv exits 0 for a mathematically good signature whatever the key's state: for an "
    "expired or revoked key it only prints a warning (EXPKEYSIG/REVKEYSIG status)."
)
SQV_SIG_TIME = (
    "sqv judges the certificate at the signature's creation time, when the key was not yet "
    "expired; it has no reference time after that for key expiry."
)
NOT_OWNER = (
    "Ownership records are pgpverify's policy above OpenPGP; gpgv and sqv check only the "
    "signature, which is good."
)
GPGV_ANY_UNCHECKED = (
    "gpgv exits non-zero when any signature in the file cannot be checked (here one is by a "
    "key not in the keyring), even if another is good."
)
CLOCK = (
    "Both oracles judge signature expiry at the machine's clock (gpgv 2.2 has no faked "
    "system time; sqv's --not-after only bounds the creation time), and at that clock this "
    "signature (expired 2025-03-01) has expired."
)

#: vector name -> ({oracle: verdict} for the oracles that differ from ours, note)
BY_NAME: dict[str, tuple[dict[str, str], str]] = {
    "bad/sha1-document-hash": (
        {"gpgv": "good"},
        (
            "gpgv 2.2 accepts SHA-1 document signatures by default (only MD5 is rejected); sqv "
            "rejects SHA-1 like us."
        ),
    ),
    "bad/ripemd160-document-hash": (
        {"gpgv": "good"},
        "gpgv 2.2 accepts RIPEMD-160 document signatures by default; sqv rejects it like us.",
    ),
    "bad/weak-key-rsa1024": (
        {"gpgv": "good"},
        "gpgv 2.2 accepts 1024-bit RSA keys; our policy (and sqv's) requires 2048 bits.",
    ),
    "bad/weak-key-dsa1024": (
        {"gpgv": "good"},
        "gpgv 2.2 accepts 1024-bit DSA keys; our policy (and sqv's) requires 2048 bits.",
    ),
    "bad/weak-primary-strong-subkey": (
        {"gpgv": "good"},
        (
            "gpgv 2.2 does not weigh the primary key's size when a strong subkey signed; our "
            "policy (and sqv's) rejects a certificate anchored in an RSA 1024 primary."
        ),
    ),
    "bad/v3-signature": (
        {"gpgv": "good"},
        "gpgv still verifies v3 signatures; our policy accepts only v4 (sqv rejects v3 too).",
    ),
    "bad/wrong-hash-prefix": (
        {"gpgv": "good", "sqv": "good"},
        (
            "gpgv and sqv use the 16-bit hash prefix only as a hint and accept when the signature "
            "math holds; our policy treats a wrong prefix as a bad signature (it cannot be "
            "produced by an honest signer)."
        ),
    ),
    "bad/armor-bad-crc": (
        {"sqv": "good"},
        (
            "Sequoia does not reject a wrong armor checksum (RFC 9580 makes the CRC optional); "
            "our policy treats a present but wrong CRC as malformed. gpgv rejects it like us."
        ),
    ),
    "good/armor-without-crc": (
        {"gpgv": "bad"},
        (
            "gpgv 2.2 mis-reads armor without a CRC line: it decodes the END line as base64 "
            "('invalid radix64 character') and exits non-zero although it prints Good signature. "
            "RFC 9580 makes the CRC optional; sqv accepts it like us."
        ),
    ),
    "good/bp256": (
        {"sqv": "bad"},
        (
            "This sqv build (Nettle backend) cannot verify brainpool curves: it finds no valid "
            "binding signature. gpgv accepts it like us."
        ),
    ),
    "good/two-armored-blocks": (
        {"gpgv": "bad", "sqv": "bad"},
        GPGV_ANY_UNCHECKED + " sqv reads only the first armored block, whose signature is by "
        "a key not in the keyring.",
    ),
    "good/unknown-key-then-good": ({"gpgv": "bad"}, GPGV_ANY_UNCHECKED),
    "good/keyring-junk-block-skipped": (
        {"gpgv": "bad", "sqv": "bad"},
        (
            "gpgv and sqv stop at the unparsable block in the keyring (sqv: 'Unsupported primary "
            "key') instead of skipping it and loading the good certificate after it."
        ),
    ),
    "good/keyring-trailing-junk-skipped": (
        {"gpgv": "bad", "sqv": "bad"},
        (
            "gpgv and sqv fail on the junk after the certificate (sqv: EOF reading the keyring) "
            "instead of skipping it."
        ),
    ),
    "good/primary-without-key-flags": (
        {"sqv": "bad"},
        (
            "Sequoia requires an explicit sign key flag ('key is not signing capable'); without a "
            "key-flags subpacket we, like GnuPG, let the primary sign."
        ),
    ),
    "good/sha1-self-signature-binding-back-signature": (
        {"sqv": "bad"},
        (
            "Sequoia's standard policy rejects SHA-1 self-signatures used after 2023-02-01 (the "
            "document signature is from 2024); we, like gpgv, accept SHA-1 inside certificates "
            "because real maintainer keys still carry them."
        ),
    ),
    "good/signature-older-than-only-self-signature": (
        {"sqv": "bad"},
        (
            "sqv judges the certificate as it was at the signature's creation time, when no "
            "self-signature existed yet, so it rejects the signature; we (like gpgv) judge by the "
            "key's creation time and its newest valid self-signature."
        ),
    ),
    "good/revocation-after-reference-time": (
        {"sqv": "bad"},
        (
            "sqv cannot be given a reference time for revocations: a hard revocation (key "
            "compromised) invalidates the key retroactively, whenever it was made. At the "
            "vector's reference time the revocation did not exist yet."
        ),
    ),
    "good/signature-expiring-after-reference-time": ({"gpgv": "bad", "sqv": "bad"}, CLOCK),
    "bad/primary-expired-at-reference-time": (
        {"gpgv": "good", "sqv": "good"},
        GPGV_STATE + " " + SQV_SIG_TIME,
    ),
    "bad/primary-expired-before-signing": ({"gpgv": "good"}, GPGV_STATE),
    "bad/subkey-expired": ({"gpgv": "good", "sqv": "good"}, GPGV_STATE + " " + SQV_SIG_TIME),
    "bad/expired-primary-invalidates-subkey": (
        {"gpgv": "good", "sqv": "good"},
        GPGV_STATE + " " + SQV_SIG_TIME,
    ),
    "bad/expiry-added-by-newer-self-signature": (
        {"gpgv": "good", "sqv": "good"},
        GPGV_STATE + " " + SQV_SIG_TIME,
    ),
    "bad/self-signature-after-reference-time-counts-later": (
        {"gpgv": "good", "sqv": "good"},
        GPGV_STATE + " " + SQV_SIG_TIME,
    ),
    "bad/signature-created-after-reference-time": (
        {"gpgv": "good"},
        (
            "gpgv 2.2 cannot be given a reference time and judges at the machine's clock, which is "
            "after the signature's creation time; sqv, given --not-after, rejects it like us."
        ),
    ),
    "bad/unknown-key-then-revoked": (
        {},
        (
            "gpgv rejects this too, though because one signature is by a key not in the keyring "
            "(it would accept the revoked key's signature alone)."
        ),
    ),
}
for _name in ("good/bp384", "good/bp512"):
    BY_NAME[_name] = BY_NAME["good/bp256"]

# Merging copies of one certificate (generate.build_merging): the decoy copy comes first.
GPGV_FIRST_COPY = (
    "gpgv does not merge copies of a certificate: it uses the first keyblock holding the "
    "issuer's key ID, here the decoy copy, which has no valid self-signature ('Can't check "
    "signature: Bad public key'); with the keyrings in the other order it answers otherwise."
)
SQV_RELOCATES = (
    "Sequoia moves a signature found at the wrong place in a certificate to the component it "
    "verifies for (its canonicalisation), so it counts the misplaced key revocation; we, as "
    "gpg --import does, ignore a signature where it does not belong (RFC 9580 §10.1)."
)
BY_NAME |= {
    "bad/merge-revocation-under-dummy-user-id": (
        {},
        "gpgv rejects this too, though only because "
        + GPGV_FIRST_COPY[0].lower()
        + GPGV_FIRST_COPY[1:],
    ),
    "good/merge-revocation-under-dummy-user-id-twin": (
        {"gpgv": "bad", "sqv": "bad"},
        GPGV_FIRST_COPY + " " + SQV_RELOCATES,
    ),
    "good/merge-newer-self-signature-under-dummy-user-id-twin": (
        {"gpgv": "bad"},
        GPGV_FIRST_COPY,
    ),
    "bad/merge-newer-self-signature-under-dummy-user-id": (
        {"sqv": "good"},
        SQV_SIG_TIME
        + " gpgv rejects it, though only because "
        + GPGV_FIRST_COPY[0].lower()
        + GPGV_FIRST_COPY[1:],
    ),
    "bad/merge-same-second-self-signatures": (
        {"gpgv": "good", "sqv": "good"},
        (
            "gpgv does not merge copies of a certificate: it uses the first keyblock holding the "
            "issuer's key ID, here the copy whose self-signature sets no expiry (GOODSIG, not "
            "EXPKEYSIG). " + SQV_SIG_TIME
        ),
    ),
    # generate.build_memory: the older copy without the revocation comes first
    "bad/memory-older-copy-then-remembered": (
        {"gpgv": "good"},
        (
            "gpgv does not merge copies of a certificate: it uses the first keyblock holding the "
            "issuer's key ID, here the older copy without the revocation (GOODSIG, not "
            "REVKEYSIG); sqv merges them and rejects like us."
        ),
    ),
}
BY_NAME["bad/merge-revocation-under-dummy-user-id-one-keyring"] = BY_NAME[
    "bad/merge-revocation-under-dummy-user-id"
]

# Verdict fidelity (generate.build_fidelity): what each tool does that we follow or not.
GPGV_TEXT = (
    "gpgv hashes a text signature only in GnuPG's default form (trailing CRs of each line "
    "dropped, lone CRs kept, trailing spaces and tabs kept)"
)
SQV_TEXT = "sqv hashes a text signature only in sq's form (a lone CR ends a line)"
SQV_ONE_FORM = (
    "We try every tool's canonical form (README: text signatures); each oracle checks its own "
    "tool's form only."
)
GPGV_ACCEPTS_WEAK = "gpgv 2.2 accepts SHA-1 and RSA 1024, so both signatures are good for it."
BY_NAME |= {
    "good/secp256k1": (
        {"sqv": "bad"},
        (
            "This sqv build (Nettle backend) cannot verify secp256k1: it finds no valid binding "
            "signature, as for brainpool. gpg makes and checks secp256k1 keys; gpgv accepts it "
            "like us."
        ),
    ),
    "good/text-sequoia-lone-cr": ({"gpgv": "bad"}, GPGV_TEXT + ". " + SQV_ONE_FORM),
    "good/text-gnupg-rfc2440": (
        {"gpgv": "bad", "sqv": "bad"},
        GPGV_TEXT
        + ", not the --rfc2440-text form this signature was made in; "
        + SQV_TEXT
        + ". "
        + SQV_ONE_FORM,
    ),
    "bad/several-weak-hash-and-weak-key-first": ({"gpgv": "good"}, GPGV_ACCEPTS_WEAK),
    "bad/several-key-revoked-and-key-expired-first": (
        {"gpgv": "good", "sqv": "good"},
        GPGV_STATE + " " + SQV_SIG_TIME,
    ),
    "bad/key-created-after-reference-time": (
        {"gpgv": "good"},
        (
            "gpgv 2.2 cannot be given a reference time and judges at the machine's clock, when "
            "the key exists; sqv, given --not-after, rejects it like us."
        ),
    ),
    "good/armor-header-without-value": (
        {"sqv": "bad"},
        (
            "Sequoia reads a header line only as 'Key: Value' with the space, so 'Comment:' "
            "breaks its armor; gpgv reads it as a header, as we do."
        ),
    ),
    "bad/marker-packet-with-another-body": (
        {"sqv": "good"},
        (
            "Sequoia skips a tag-10 packet in an armored signature whatever its body; gpgv "
            "refuses one whose body is not 'PGP' ('invalid marker packet'), as we do."
        ),
    ),
    "bad/revoked-reason-32": (
        {"gpgv": "good", "sqv": "good"},
        GPGV_STATE + " Sequoia treats reason 32 (user ID no longer valid) on a key revocation "
        "as soft, like superseded or retired; we read it, a reason that says nothing about a "
        "key, as an unknown one: hard (README policy table).",
    ),
}
SQV_GNUPG_TEXT = (
    SQV_TEXT + ", in which this file differs from what gpg --textmode hashed (GnuPG drops "
    "trailing CRs and NULs and keeps a lone CR inside a line); gpgv accepts it like us. "
    + SQV_ONE_FORM
)
for _stem in ("lone-cr-at-end", "cr-runs", "lone-cr-mid-line", "binary"):
    BY_NAME[f"external/gpg-text/{_stem}"] = ({"sqv": "bad"}, SQV_GNUPG_TEXT)
BY_NAME["external/gpg-text/trailing-whitespace-rfc2440"] = BY_NAME["good/text-gnupg-rfc2440"]
for _order in ("first", "second"):
    BY_NAME[f"bad/several-weak-hash-and-weak-key-{_order}"] = BY_NAME[
        "bad/several-weak-hash-and-weak-key-first"
    ]
    BY_NAME[f"bad/several-key-revoked-and-key-expired-{_order}"] = BY_NAME[
        "bad/several-key-revoked-and-key-expired-first"
    ]

# Bounded work (issue 8 §5): gpgv and sqv verify every signature a certificate holds, and
# accept any RSA exponent and any number of certificates sharing a key; pgpverify caps the
# work one verify may do and rejects when a cap stops it before a decision.
WORK_CAP = (
    "gpgv and sqv verify every self-signature and revocation a certificate carries, so they "
    "refute all the forged ones and accept; pgpverify refutes at most 32 forged ones per user "
    "ID or key (Limits.component_signatures), newest first, and rejects when the cap stops it "
    "before a decision, so that forged signatures with correct hash prefixes cannot cost "
    "minutes (and a real revocation or newer self-signature behind them is never skipped)."
)
BY_NAME["bad/junk-self-signatures-over-cap"] = ({"gpgv": "good", "sqv": "good"}, WORK_CAP)
BY_NAME["bad/junk-revocations-over-cap"] = ({"gpgv": "good", "sqv": "good"}, WORK_CAP)
BY_NAME["bad/rsa-exponent-over-2-33"] = (
    {"gpgv": "good", "sqv": "good"},
    (
        "gpgv (libgcrypt) and sqv accept any odd RSA public exponent; pgpverify accepts 3 to "
        "2**33 - 1, the RustCrypto rsa crate's bounds (OpenSSL refuses over 64 bits above 3072-bit "
        "moduli, Go over 2**31 - 1): a larger exponent only makes every verification slower."
    ),
)
BY_NAME["bad/shared-subkey-over-candidate-cap"] = (
    {"gpgv": "good", "sqv": "good"},
    (
        "gpgv and sqv try the certificates that hold the signing subkey until one verifies; "
        "pgpverify refuses to try more than 16 (Limits.candidates) so that 200,000 certificates "
        "sharing one subkey cannot multiply the work of each signature."
    ),
)

# Certification revocations (generate.build_user_id_revocations): gpgv agrees that a revoked
# user ID's self-signature no longer gives the key its flags; with every user ID revoked the
# tools fall back where pgpverify rejects.
BY_NAME["bad/only-user-id-revoked"] = (
    {"gpgv": "good", "sqv": "good"},
    (
        "With its only user ID revoked the key has no self-signature that counts. gpgv still "
        "takes the key as valid and, with no key flags left, gives it every usage its algorithm "
        "allows (GnuPG's merge_selfsigs_main); sqv still takes the revoked user ID's binding for "
        "the primary key's flags. pgpverify rejects conservatively: not-signing-key."
    ),
)

# Direct-key signatures (generate.build_direct_key_signatures): each oracle applies one of
# the two restrictions a direct-key signature makes; pgpverify applies both.
BY_NAME["bad/direct-key-signature-certify-only"] = (
    {"sqv": "good"},
    (
        "sqv takes the primary key's flags from the primary user ID's self-signature, which "
        "allows signing; gpgv gives the direct-key signature precedence ('Wrong key usage') and "
        "so does pgpverify: both the newest direct-key signature and the newest user ID "
        "self-signature must allow signing."
    ),
)
BY_NAME["bad/direct-key-signature-expiry"] = (
    {"gpgv": "good"},
    GPGV_STATE + " sqv applies the direct-key signature's expiry like us.",
)

# Revocation defects (generate.build_revocation_defects): a revocation only ever rejects.
BY_NAME["bad/revocation-with-unknown-critical-subpacket"] = (
    {"gpgv": "good", "sqv": "good"},
    (
        "gpgv and sqv treat the revocation as in error (RFC 9580 §5.2.3.7 on unknown critical "
        "subpackets) and ignore it: gpgv reports GOODSIG, not REVKEYSIG. pgpverify lets it "
        "revoke, since ignoring a revocation the primary key really made is never the "
        "conservative choice (its math is checked: the forged twin revokes nothing)."
    ),
)
BY_NAME["bad/revocation-with-junk-unhashed-area"] = (
    {"gpgv": "good"},
    (
        "gpgv drops the revocation whose unhashed area it cannot take (GOODSIG, not REVKEYSIG); "
        "sqv reads it and rejects like us: the unhashed area is not signed, so junk there "
        "(which anyone can add) must not make a real revocation vanish."
    ),
)

# Designated revokers (generate.build_designated_revoker).
BY_NAME["bad/revoked-by-designated-revoker"] = (
    {"gpgv": "good", "sqv": "good"},
    GPGV_STATE
    + (
        " gpgv sees this revocation by the designated revoker (REVKEYSIG). sqv "
        "does not act on a revocation by a designated revoker (Sequoia reports it "
        "as 'could be revoked' and leaves the check to the caller); pgpverify "
        "checks it against the revoker's certificate in the keyrings, as gpg does."
    ),
)

# The real-tool corpus (external/make_real.sh: gpg 2.2.40 and sq 0.27 output).
GPGV_NO_REVOCATION_IMPORT = (
    "gpgv takes its keyring as it is and imports no revocation certificate (gpg --import "
    "does): dearmored into the one binary keyring it gets, the lone key revocation follows "
    "the key's last user ID or subkey, where GnuPG ignores it (GOODSIG, no REVKEYSIG). "
    "sqv applies it like us."
)
BY_NAME["external/real/revocation-certificate-appended"] = (
    {"gpgv": "good"},
    GPGV_NO_REVOCATION_IMPORT,
)
BY_NAME["external/real/sq-revocation-certificate"] = (
    {"gpgv": "good"},
    GPGV_NO_REVOCATION_IMPORT,
)
BY_NAME["external/real/revocation-certificate-appended-binary"] = (
    {"sqv": "bad"},
    (
        "Sequoia moves a signature found at the wrong place in a certificate to where it "
        "verifies, so sqv applies the key revocation that follows the user ID; pgpverify "
        "ignores a key revocation where it does not belong, as gpg --import and gpgv do "
        "(GOODSIG): a revocation certificate counts when it stands alone, outside the key."
    ),
)
BY_NAME["external/real/expired-subkey"] = (
    {"gpgv": "good", "sqv": "good"},
    GPGV_STATE + " " + SQV_SIG_TIME,
)
BY_NAME["external/real/dsa1024"] = (
    {"gpgv": "good"},
    (
        "gpgv 2.2 accepts SHA-1 document signatures and 1024-bit DSA keys by default; sqv "
        "rejects SHA-1 like us."
    ),
)
BY_NAME["external/real/signature-expires-later"] = ({"gpgv": "bad", "sqv": "bad"}, CLOCK)
BY_NAME["external/real/two-blocks-bad-then-good"] = (
    {"gpgv": "bad", "sqv": "bad"},
    (
        "gpgv and sqv read only the first armored block of a signature file, here the "
        "signature over another file (BADSIG); pgpverify reads every block, and the file is "
        "good if any signature in it is, as with several signatures in one block (where "
        "sqv agrees)."
    ),
)
BY_NAME["external/real/secret-key-as-keyring"] = (
    {"sqv": "good"},
    (
        "sqv reads the public part of a secret key given as a keyring; pgpverify skips a "
        "secret key with a warning (a keyring holds public keys: export it with gpg "
        "--export), and so does gpgv."
    ),
)
BY_NAME["external/real/designated-revoker"] = BY_NAME["bad/revoked-by-designated-revoker"]
BY_NAME["external/real/expiry-extended-after-signing"] = (
    {"sqv": "bad"},
    (
        "gpg --quick-set-expire replaces the key's self-signature, so the certificate holds "
        "only the one made in 2022; sqv wants a self-signature valid at the signature's time "
        "(2020) and finds none. pgpverify judges the key by its newest self-signature at the "
        "reference time (valid 2020 to 2030), as gpgv does."
    ),
)
for _curve in ("brainpoolP256r1", "secp256k1"):
    BY_NAME[f"external/real/{_curve}"] = (
        {"sqv": "bad"},
        (
            f"sqv 1.1 (Sequoia built on Nettle) does not support the {_curve} curve, so it "
            "cannot check the key's self-signature ('No binding signature'); gpgv "
            "(libgcrypt) verifies it like us."
        ),
    )

#: expected reason -> the same, for every vector of that reason not listed by name
BY_REASON: dict[str, tuple[dict[str, str], str]] = {
    "key-revoked": ({"gpgv": "good"}, GPGV_STATE + " sqv rejects revoked keys like us."),
    "not-owner": ({"gpgv": "good", "sqv": "good"}, NOT_OWNER),
}


def lookup(name: str, expected: str) -> tuple[dict[str, str], str] | None:
    """The recorded oracle verdicts and note for a vector, if they differ from ours."""
    if name in BY_NAME:
        return BY_NAME[name]
    return BY_REASON.get(expected)
