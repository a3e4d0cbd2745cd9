#!/usr/bin/env bash
# Make gpg --textmode detached signatures over files whose line endings the canonical forms
# disagree on, once (issue 8, section 7): what gpg signs, pgpverify must verify as gpgv does.
#
# Like make.sh, NOT byte-regenerable (gpg draws a fresh key every run): running it again
# rewrites every file under gpg-text/ and gpg-text/entries.json. Times are faked: the key is
# from 2020-01-01, the signatures from 2024-03-01; the key does not expire.
#
# Usage: bash vectors/external/make_text.sh   (needs gpg 2.2+, python3)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/gpg-text"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GNUPGHOME="$work/gnupg"
mkdir -m 700 "$GNUPGHOME"
mkdir -p "$out/data"

gpg_() { gpg --batch --quiet --pinentry-mode loopback --passphrase '' "$@"; }
uid="GnuPG text mode <gpg-textmode@example.org>"
gpg_ --faked-system-time "20200101T000000!" --quick-gen-key "$uid" rsa3072 sign never
fpr="$(gpg_ --with-colons --list-keys "$uid" | awk -F: '/^fpr/ {print $10; exit}')"
gpg_ --armor --export "$fpr" > "$out/textmode.pub.asc"

# The documents, and for each a copy with one octet changed (the bad twins).
python3 - "$out/data" <<'PY'
import hashlib, sys
from pathlib import Path
out = Path(sys.argv[1])
docs = {
    "lone-cr-at-end.txt": b"first line\nlast line ends in a lone CR\r",
    "crlf.txt": b"first line\r\nsecond line\r\n",
    "cr-runs.txt": b"two CRs before LF\r\r\nthree\r\r\r\nend\n",
    "trailing-whitespace.txt": b"spaces   \ntab\t\nboth \t \r\nend  ",
    "no-final-newline.txt": b"first line\nno newline at the end",
    "lone-cr-mid-line.txt": b"a lone CR\rin the middle\n",
    # binary (no line over 19995 octets, which gpg would truncate with an error)
    "binary.bin": b"".join(hashlib.sha512(bytes([i])).digest() for i in range(256)),
}
for name, data in docs.items():
    (out / name).write_bytes(data)
    changed = bytearray(data)
    changed[len(changed) // 2] ^= 0x01
    stem, ext = name.rsplit(".", 1)
    (out / f"{stem}-altered.{ext}").write_bytes(bytes(changed))
PY

for f in lone-cr-at-end.txt crlf.txt cr-runs.txt trailing-whitespace.txt no-final-newline.txt \
         lone-cr-mid-line.txt binary.bin; do
  gpg_ --faked-system-time "20240301T120000!" --armor --textmode --detach-sign -u "$fpr" \
    -o "$out/${f%.*}.asc" "$out/data/$f"
done
gpg_ --faked-system-time "20240301T120000!" --armor --textmode --rfc2440-text --detach-sign \
  -u "$fpr" -o "$out/trailing-whitespace-rfc2440.asc" "$out/data/trailing-whitespace.txt"

python3 "$here/entries_text.py"
