"""``python -m pgpverify``: the command-line tool."""

from __future__ import annotations

from pgpverify.cli import entry

entry()
