"""Text signatures: accepting four canonical forms never binds less than the README says.

A text signature (0x01) is good if the file, in any of the four forms (rfc9580, sequoia,
gnupg, gnupg-rfc2440), hashes to what the signer hashed in any one of them. So a copy of
a signed file verifies exactly when some form of the copy equals some form of the
original. The claim in the README and in the warning: such a copy differs from the
original only in line endings (CR, LF, CRLF, blank lines of CRs) and in trailing spaces,
tabs, NULs and CRs at line ends. Hypothesis derives copies from a file by inserting,
deleting and replacing octets of a small alphabet (so that forms often collide) and checks:
whenever two files share a form, they are equal once every line (split at CR or LF) loses
its trailing spaces, tabs and NULs and blank lines are dropped. Each form's digest is also
the same whatever the chunks the file arrives in (the forms keep state across chunks).
"""

from __future__ import annotations

import hashlib
import itertools
import re

from _strategies import SETTINGS
from hypothesis import given
from hypothesis import strategies as st

from pgpverify.openpgp.constants import HashAlgo
from pgpverify.verify import TEXT_CANONICALIZATIONS, _text_forms

ALPHABET = b"ab \t\x00\r\n"
SHA256 = int(HashAlgo.SHA256)


def forms(data: bytes, cuts: list[int] | None = None) -> dict[str, bytes]:
    """Each form's SHA-256 over ``data`` fed in chunks cut at ``cuts``."""
    found = _text_forms({SHA256})
    edges = [0, *sorted(c for c in (cuts or []) if 0 < c < len(data)), len(data)]
    for form in found.values():
        for start, end in itertools.pairwise(edges):
            form.feed(data[start:end])
        form.end()
    assert tuple(found) == TEXT_CANONICALIZATIONS
    return {name: form.contexts[SHA256].digest() for name, form in found.items()}


def unbound(data: bytes) -> list[bytes]:
    """What a text signature binds, at most: the non-blank lines without trailing blanks."""
    lines = re.split(rb"[\r\n]", data)
    return [kept for line in lines if (kept := line.rstrip(b" \t\x00"))]


octets = st.binary(max_size=24).map(lambda b: bytes(ALPHABET[c % len(ALPHABET)] for c in b))


@st.composite
def edited(draw, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        at = draw(st.integers(0, len(data)))
        octet = draw(st.sampled_from(list(ALPHABET)))
        if kind == "insert":
            data.insert(at, octet)
        elif data and at < len(data):
            if kind == "delete":
                del data[at]
            else:
                data[at] = octet
    return bytes(data)


@SETTINGS
@given(st.data())
def test_text_forms_accept_only_line_ending_and_trailing_blank_changes(data):
    original = data.draw(octets, label="signed file")
    copy = data.draw(edited(original), label="copy")
    signed = set(forms(original).values())
    shared = [name for name, digest in forms(copy).items() if digest in signed]
    if shared:
        assert unbound(copy) == unbound(original), (original, copy, shared)


@SETTINGS
@given(octets, st.lists(st.integers(0, 24), max_size=6))
def test_text_forms_do_not_depend_on_chunks(data, cuts):
    whole = forms(data)
    assert forms(data, cuts) == whole
    # and one octet at a time
    assert forms(data, list(range(len(data)))) == whole


def test_text_forms_examples():
    # A few fixed points: what each form makes of one file.
    def canonical(data: bytes) -> dict[str, bytes]:
        return forms(data)

    lone_cr = canonical(b"a\rb\n")
    assert lone_cr["rfc9580"] == hashlib.sha256(b"a\rb\r\n").digest()
    assert lone_cr["sequoia"] == hashlib.sha256(b"a\r\nb\r\n").digest()
    assert lone_cr["gnupg"] == hashlib.sha256(b"a\rb\r\n").digest()
    trailing = canonical(b"a \t\x00\r\nb")
    assert trailing["gnupg"] == hashlib.sha256(b"a \t\r\nb").digest()
    assert trailing["gnupg-rfc2440"] == hashlib.sha256(b"a\r\nb").digest()
