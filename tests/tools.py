"""External tools the tests run (gpg, gpgv, sqv): when a missing one fails rather than skips."""

from __future__ import annotations

import os
import sys

import pytest


def tools_required(environ=os.environ, platform=sys.platform) -> bool:
    """Whether a missing test tool fails rather than skips.

    ``PGPVERIFY_REQUIRE_ORACLES=1`` (or ``0``) decides; otherwise they are required under
    ``CI=true`` on Linux, where ``.ci/run`` and the GitHub workflow install gpg, gpgv and
    sqv. macOS and Windows CI runners have no packaged sqv, so those tests skip there.
    """
    explicit = environ.get("PGPVERIFY_REQUIRE_ORACLES")
    if explicit in ("0", "1"):
        return explicit == "1"
    return environ.get("CI") == "true" and platform.startswith("linux")


def require_tool(name: str, found: bool) -> None:
    """Skip the test when ``name`` is missing, or fail it where the tools are required."""
    if found:
        return
    if tools_required():
        pytest.fail(
            f"{name} not installed but test tools are required (CI=true on Linux, "
            "or PGPVERIFY_REQUIRE_ORACLES=1); .ci/run installs it with apt-get"
        )
    pytest.skip(f"{name} is not installed")
