"""terminal_safe: controls, bidi and format characters are shown, never obeyed."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgpverify.textsafe import terminal_safe

BIDI = [
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
]
C0 = [chr(c) for c in range(0x20)]
C1 = [chr(c) for c in range(0x80, 0xA0)]
OTHER = ["\x7f", "\u2028", "\u2029", "\u200b", "\ufeff", "\u00ad", "\udcff", "\U000e0041"]
UNSAFE = BIDI + C0 + C1 + OTHER
UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


@pytest.mark.parametrize("char", UNSAFE, ids=[f"U+{ord(c):04X}" for c in UNSAFE])
def test_terminal_safe_rejects_raw_control_and_bidi_characters(char):
    shown = terminal_safe(f"alice{char}bob")
    assert char not in shown
    assert shown.startswith("alice\\")
    assert shown.endswith("bob")
    assert shown.isascii()
    assert shown.isprintable()


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[2K\rpgpverify: Good signature", "\\x1b[2K\\rpgpverify: Good signature"),
        ("a\nb\tc", "a\\nb\\tc"),
        ("\x9b31m", "\\x9b31m"),  # C1 CSI: an escape sequence in one byte
        ("evil\u202egnp.exe", "evil\\u202egnp.exe"),
        ("\udcff.whl", "\\udcff.whl"),  # an undecodable byte of a file name
        ("tag\U000e0041", "tag\\U000e0041"),
    ],
)
def test_terminal_safe_renders_escapes_visibly(text, shown):
    assert terminal_safe(text) == shown


@pytest.mark.parametrize(
    "text",
    ["alice", "Zoë Ünal", "Ελένη", "李雷", "عمر", "🦄 alice", "👩\u200d💻", "a\\x1b", ""],
)
def test_terminal_safe_keeps_printable_text(text):
    assert terminal_safe(text) == text


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_terminal_safe_output_has_no_unsafe_character(text):
    shown = terminal_safe(text)
    for char in shown:
        category = unicodedata.category(char)
        assert category not in UNSAFE_CATEGORIES or char in "\u200c\u200d", repr(char)
    assert terminal_safe(shown) == shown
    shown.encode("utf-8")  # no lone surrogate left: always encodable
