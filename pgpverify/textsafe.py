r"""Text for a terminal: what an input says is shown, never obeyed.

Names, user IDs, file names and messages come from ownership records, keys, index servers
and the command line: all of them are attacker-controlled. Written raw, an ANSI escape
sequence can rewrite the line a user reads ("Good signature" over "REJECTED"), a newline
can forge a whole line of output, and a bidi override (``U+202E``) can reverse what
follows it. :func:`terminal_safe` renders every such character visibly, the way Python's
``repr`` writes it (``\x1b``, ``\n``, ``\u202e``), and keeps everything else, so an
accented or non-Latin name still reads as written.

Threat-model assumption: the terminal interprets only control characters (C0, DEL, C1),
format characters (bidi controls, invisible characters) and line separators; every other
code point is displayed as a glyph or as a replacement box. Backslashes are kept as they
are: an input may imitate an escape, but cannot make the terminal do anything.
"""

from __future__ import annotations

__all__ = ["first_unsafe", "terminal_safe"]

#: Format characters that are harmless and needed: zero-width non-joiner and joiner (emoji
#: sequences, Indic and Arabic scripts). Every other format character (Cf) is escaped:
#: the bidi embeddings, overrides and isolates (U+202A-202E, U+2066-2069), the marks
#: U+200E, U+200F and U+061C, zero-width spaces, soft hyphens, BOMs and tag characters.
_KEPT_FORMAT = frozenset("\u200c\u200d")

#: Categories escaped: controls (C0, DEL, C1), format characters, lone surrogates (a file
#: name's undecodable bytes), line and paragraph separators.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _unsafe(char: str) -> bool:
    if char.isprintable():  # fast path: most text; every escaped category is unprintable
        return False
    import unicodedata  # only for unprintable text: a C extension every run would load

    return unicodedata.category(char) in _ESCAPED_CATEGORIES and char not in _KEPT_FORMAT


def terminal_safe(text: str) -> str:
    """``text`` with every control, format, surrogate and separator character escaped.

    The result holds no character that can move the cursor, start an escape sequence,
    change the direction of the text that follows, or end the line. Applied twice, it
    gives the same text as applied once.
    """
    if text.isascii() and text.isprintable():
        return text
    return "".join(_escape(c) if _unsafe(c) else c for c in text)


def first_unsafe(text: str) -> str | None:
    """The first character of ``text`` that :func:`terminal_safe` would escape, or None.

    For inputs that refuse such text outright (ownership records): a name that holds a
    control, bidi or other invisible format character, or a line separator, can disguise
    itself wherever it is shown, not only on a terminal.
    """
    if text.isascii() and text.isprintable():
        return None
    return next((c for c in text if _unsafe(c)), None)
