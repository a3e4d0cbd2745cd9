#!/usr/bin/env bash
# Make keys and detached signatures with the real tools (gpg, sq), once.
#
# The outputs are committed; they are NOT byte-regenerable (gpg and sq pick fresh random
# keys every run), so running this again changes every file and entries.json. Times are
# faked so the vectors are valid at their manifest reference time: keys are created
# 2020-01-01, signatures 2024-03-01, and no key expires.
#
# Usage: bash vectors/external/make.sh   (needs gpg 2.2+, sq 0.27+, python3)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="$here/../data/hello.txt"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GNUPGHOME="$work/gnupg"
mkdir -m 700 "$GNUPGHOME"
mkdir -p "$here/gpg" "$here/sq"

KEYTIME=20200101T000000
SIGTIME=20240301T120000
gpg_() { gpg --batch --quiet --pinentry-mode loopback --passphrase '' "$@"; }

# gpg: an RSA 3072 certify-only primary with an RSA 3072 signing subkey, and the same with
# Ed25519 (legacy EdDSA); binary and text-mode signatures by the subkeys; one signature by
# a primary that signs directly.
for kind in rsa3072 ed25519; do
  uid="GnuPG $kind <gpg-$kind@example.org>"
  gpg_ --faked-system-time "$KEYTIME!" --quick-gen-key "$uid" "$kind" cert never
  fpr="$(gpg_ --with-colons --list-keys "$uid" | awk -F: '/^fpr/ {print $10; exit}')"
  gpg_ --faked-system-time "$KEYTIME!" --quick-add-key "$fpr" "$kind" sign never
  gpg_ --armor --export "$fpr" > "$here/gpg/$kind-signing-subkey.pub.asc"
  gpg_ --faked-system-time "$SIGTIME!" --armor --detach-sign -u "$fpr" \
    -o "$here/gpg/$kind-signing-subkey.asc" "$data"
  gpg_ --faked-system-time "$SIGTIME!" --armor --textmode --detach-sign -u "$fpr" \
    -o "$here/gpg/$kind-signing-subkey-text.asc" "$data"
done
uid="GnuPG primary signer <gpg-primary@example.org>"
gpg_ --faked-system-time "$KEYTIME!" --quick-gen-key "$uid" rsa3072 sign never
fpr="$(gpg_ --with-colons --list-keys "$uid" | awk -F: '/^fpr/ {print $10; exit}')"
gpg_ --armor --export "$fpr" > "$here/gpg/rsa3072-primary.pub.asc"
gpg_ --faked-system-time "$SIGTIME!" --detach-sign -u "$fpr" \
  -o "$here/gpg/rsa3072-primary.sig" "$data"

# sq: the default suite (Ed25519 primary, Ed25519 signing subkey) and RSA 3072.
for suite in cv25519 rsa3k; do
  sq key generate --userid "Sequoia $suite <sq-$suite@example.org>" --cipher-suite "$suite" \
    --creation-time "$KEYTIME" --expires never --export "$work/$suite.key"
  sq key extract-cert "$work/$suite.key" > "$here/sq/$suite.pub.asc"
  sq sign --detached --signer-key "$work/$suite.key" --time "$SIGTIME" "$data" \
    > "$here/sq/$suite.asc"
done

python3 "$here/entries.py"
