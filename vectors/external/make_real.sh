#!/usr/bin/env bash
# Make the real-tool corpus under real/, once: what gpg 2.2 and sq 0.27 write when a
# maintainer revokes a key, signs the wrong way, picks another curve or another armor, so
# that pgpverify's verdict on each is pinned and compared with gpgv and sqv.
#
# Like make.sh, NOT byte-regenerable (gpg and sq draw fresh keys every run): running it
# again rewrites every file under real/ and real/entries.json (entries_real.py). Times are
# faked: keys from 2020-01-01, signatures from 2024-03-01, revocations from 2024-06-01.
#
# Usage: bash vectors/external/make_real.sh   (needs gpg 2.2+, sq 0.27+, python3)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/real"
data="$here/../data/hello.txt"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GNUPGHOME="$work/gnupg"
mkdir -m 700 "$GNUPGHOME"
rm -rf "$out"
mkdir -p "$out"

K=20200101T000000
S=20240301T120000
REV=20240601T000000
gpg_() { gpg --batch --quiet --pinentry-mode loopback --passphrase '' "$@"; }
fpr() { gpg_ --with-colons --list-keys "$1" | awk -F: '/^fpr/ {print $10; exit}'; }
subfpr() { gpg_ --with-colons --list-keys "$1" | awk -F: '/^sub/ {s=1; next} /^fpr/ && s {print $10; exit}'; }
newkey() { # uid algo usage [expire]
  gpg_ --expert --faked-system-time "$K!" --quick-gen-key "$1 <$1@example.org>" "$2" "$3" "${4:-never}"
  fpr "$1 <$1@example.org>"
}
sign() { # key output [time] [gpg options...]
  local key="$1" to="$2" at="${3:-$S}"
  shift 3 || shift $#
  gpg_ --faked-system-time "$at!" --armor --detach-sign -u "$key" "$@" -o "$to" "$data"
}
# gpg --gen-revoke asks questions: yes, reason (gpg's menu: 1 compromised, 2 superseded),
# a description line, an empty line, yes
revoke() { # key reason output
  printf 'y\n%s\nrevoked by make_real.sh\n\ny\n' "$2" | gpg --no-tty --pinentry-mode loopback \
    --passphrase '' --command-fd 0 --faked-system-time "$REV!" --armor -o "$3" --gen-revoke "$1" \
    > /dev/null 2>&1
}

# An Ed25519 key that signs with its primary: the good twin of the wrong-shape files.
f=$(newkey ed25519-signer ed25519 sign)
gpg_ --armor --export "$f" > "$out/ed25519.pub.asc"
sign "$f" "$out/ed25519.asc"
gpg_ --faked-system-time "$S!" --sign -u "$f" -o "$out/inline-signed.gpg" "$data"
gpg_ --faked-system-time "$S!" --clearsign -u "$f" -o "$out/clearsigned.asc" "$data"
sign "$f" "$out/notation.asc" "$S" --sig-notation "note@example.org=hello"
sign "$f" "$out/notation-critical.asc" "$S" --sig-notation '!crit@example.org=hello'
sign "$f" "$out/policy-url-critical.asc" "$S" --sig-policy-url '!https://example.org/policy'
sign "$f" "$out/sig-expires.asc" "$S" --default-sig-expire 1y
gpg --dearmor < "$out/ed25519.asc" | gpg --enarmor > "$out/enarmored.asc" 2> /dev/null
printf '\357\273\277' | cat - "$out/ed25519.asc" > "$out/byte-order-mark.asc"
# a bad signature (over another file) before the good one, each in its own armored block
printf 'another file\n' > "$work/other.txt"
gpg_ --faked-system-time "$S!" --armor --detach-sign -u "$f" -o "$work/other.asc" "$work/other.txt"
cat "$work/other.asc" "$out/ed25519.asc" > "$out/two-blocks-bad-then-good.asc"
gpg_ --armor --export-secret-keys "$f" > "$out/ed25519.secret.asc"

# Revocation certificates as gpg --gen-revoke writes them (reason: compromised), appended
# to the exported key in one armored file, and the same in binary, appended.
f=$(newkey revcert ed25519 sign)
gpg_ --armor --export "$f" > "$out/revcert.pub.asc"
sign "$f" "$out/revcert.asc"
revoke "$f" 1 "$work/revcert.rev"
cat "$out/revcert.pub.asc" "$work/revcert.rev" > "$out/revcert-appended.pub.asc"
gpg_ --export "$f" > "$work/revcert.pub.gpg"
gpg --dearmor < "$work/revcert.rev" > "$work/revcert.rev.gpg"
cat "$work/revcert.pub.gpg" "$work/revcert.rev.gpg" > "$out/revcert-appended-binary.pub.gpg"

# Superseded (a soft reason): a signature from before the revocation stays good, one from
# after it is rejected.
f=$(newkey superseded ed25519 sign)
sign "$f" "$out/superseded-before.asc"
sign "$f" "$out/superseded-after.asc" 20240701T000000
revoke "$f" 2 "$work/superseded.rev"
gpg_ --import "$work/superseded.rev"
gpg_ --armor --export "$f" > "$out/superseded.pub.asc"

# A revoked signing subkey (gpg --edit-key revkey), and a new signing subkey after it.
f=$(newkey revsub ed25519 cert)
gpg_ --faked-system-time "$K!" --quick-add-key "$f" ed25519 sign never
sign "$f" "$out/revsub-old.asc"
printf 'key 1\nrevkey\ny\n0\n\ny\nsave\n' | gpg --no-tty --pinentry-mode loopback --passphrase '' \
  --command-fd 0 --faked-system-time "$REV!" --edit-key "$f" > /dev/null 2>&1
gpg_ --faked-system-time "$REV!" --quick-add-key "$f" ed25519 sign never
sign "$f" "$out/revsub-new.asc" 20240701T000000
gpg_ --armor --export "$f" > "$out/revsub.pub.asc"

# A signing subkey that expired (2022-01-01) after it signed (2021-01-01).
f=$(newkey expsub ed25519 cert)
gpg_ --faked-system-time "$K!" --quick-add-key "$f" ed25519 sign 2022-01-01
sign "$(subfpr "$f")!" "$out/expired-subkey.asc" 20210101T000000
gpg_ --armor --export "$f" > "$out/expired-subkey.pub.asc"

# A key that expired on 2021-01-01, signed on 2020-06-01, then extended in 2022 to 2030:
# gpg --quick-set-expire replaces the old self-signature, so only the 2022 one is left.
f=$(newkey extended ed25519 sign 2021-01-01)
sign "$f" "$out/extended.asc" 20200601T000000
gpg_ --faked-system-time "20220101T000000!" --quick-set-expire "$f" 2030-01-01
gpg_ --armor --export "$f" > "$out/extended.pub.asc"

# A designated revoker (gpg --edit-key addrevoker) revokes the key (gpg --desig-revoke,
# imported): checked when the revoker's certificate is in the keyrings.
r=$(newkey revoker ed25519 sign)
gpg_ --armor --export "$r" > "$out/revoker.pub.asc"
f=$(newkey victim ed25519 sign)
printf 'addrevoker\n%s\ny\nsave\n' "$r" | gpg --no-tty --pinentry-mode loopback --passphrase '' \
  --command-fd 0 --faked-system-time "$K!" --edit-key "$f" > /dev/null 2>&1
sign "$f" "$out/victim.asc"
printf 'y\n1\nrevoked by its revoker\n\ny\n' | gpg --no-tty --pinentry-mode loopback \
  --passphrase '' --command-fd 0 --faked-system-time "$REV!" --armor -o "$work/victim.rev" \
  -u "$r" --desig-revoke "$f" > /dev/null 2>&1
gpg_ --import "$work/victim.rev"
gpg_ --armor --export "$f" > "$out/victim.pub.asc"

# A key with a photo ID (a user attribute packet) and a revoked second user ID.
f=$(newkey photo ed25519 sign)
python3 -c "import sys; sys.stdout.buffer.write(bytes.fromhex('ffd8ffe000104a46494600010100000100010000ffd9'))" \
  > "$work/photo.jpg"
printf 'addphoto\n%s\ny\nsave\n' "$work/photo.jpg" | gpg --no-tty --pinentry-mode loopback \
  --passphrase '' --command-fd 0 --faked-system-time "$K!" --edit-key "$f" > /dev/null 2>&1
gpg_ --faked-system-time "$K!" --quick-add-uid "$f" "second <second@example.org>"
gpg_ --faked-system-time "$REV!" --quick-revoke-uid "$f" "second <second@example.org>"
sign "$f" "$out/photo-id.asc"
gpg_ --armor --export "$f" > "$out/photo-id.pub.asc"

# Curves and sizes gpg --expert offers beyond make.sh's.
for algo in brainpoolP256r1 secp256k1 nistp384 dsa2048; do
  f=$(newkey "curve-$algo" "$algo" sign)
  gpg_ --armor --export "$f" > "$out/$algo.pub.asc"
  sign "$f" "$out/$algo.asc"
done
f=$(newkey dsa1024 dsa1024 sign)
gpg_ --armor --export "$f" > "$out/dsa1024.pub.asc"
sign "$f" "$out/dsa1024.asc"

# sq: a revocation certificate (a SIGNATURE block) as a keyring of its own; a binary
# detached signature; an inline-signed message; a critical notation.
sq key generate --userid "sq revoked <sq-revoked@example.org>" --creation-time "$K" \
  --expires never --export "$work/sq.key"
sq key extract-cert "$work/sq.key" > "$out/sq.pub.asc"
sq sign --detached --signer-key "$work/sq.key" --time "$S" "$data" > "$out/sq.asc"
sq sign --detached --binary --signer-key "$work/sq.key" --time "$S" "$data" > "$out/sq-binary.sig"
sq sign --signer-key "$work/sq.key" --time "$S" "$data" > "$out/sq-inline.asc"
sq sign --detached --signer-key "$work/sq.key" --time "$S" --notation '!crit@example.org' v \
  "$data" > "$out/sq-notation-critical.asc"
sq revoke certificate --certificate "$work/sq.key" --time "$REV" compromised "make_real.sh" \
  > "$out/sq-revocation.asc"

python3 "$here/entries_real.py"
