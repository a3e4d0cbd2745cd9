"""``python -m pgpverify``: the command-line tool."""

from __future__ import annotations

import sys

from pgpverify.cli import main

sys.exit(main())
