"""The index URL a pip user already configured: ``PIP_INDEX_URL``, then pip's config files.

pip reads, in order (later wins): the global files, the user files, the site file of the
running environment, then ``PIP_CONFIG_FILE``; in each file the ``[install]`` section
overrides ``[global]``; the environment variable ``PIP_INDEX_URL`` overrides them all
(https://pip.pypa.io/en/stable/topics/configuration/). The same order is followed here,
without running pip.
"""

from __future__ import annotations

import configparser
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pgpverify.limits import Limits

__all__ = ["config_files", "configured_index_url"]

#: ``Limits().pip_config_bytes``, without importing pgpverify.limits: a usage error looks
#: for pip's index URL and must stay cheap (tests/test_cli_startup.py, test_pipconfig.py).
DEFAULT_CONFIG_BYTES = 1 << 20


def config_files(env: Mapping[str, str], *, prefix: str = sys.prefix) -> list[Path]:
    """List pip's configuration files, lowest priority first."""
    files: list[Path] = []
    home_text = env.get("HOME")
    if not home_text:
        try:
            home_text = str(Path.home())
        except (RuntimeError, KeyError):  # no HOME and no passwd entry (containers)
            home_text = None
    home = Path(home_text) if home_text else None
    if sys.platform == "win32":
        program_data = env.get("PROGRAMDATA")
        if program_data:
            files.append(Path(program_data) / "pip" / "pip.ini")
        appdata = env.get("APPDATA")
        if appdata:
            files.append(Path(appdata) / "pip" / "pip.ini")
        if home is not None:
            files.append(home / "pip" / "pip.ini")
        site = Path(prefix) / "pip.ini"
    else:
        xdg_dirs = env.get("XDG_CONFIG_DIRS") or "/etc/xdg"
        files += [Path(d) / "pip" / "pip.conf" for d in reversed(xdg_dirs.split(":")) if d]
        files.append(Path("/etc/pip.conf"))
        if home is not None:
            files.append(home / ".pip" / "pip.conf")
            if sys.platform == "darwin":
                files.append(home / "Library" / "Application Support" / "pip" / "pip.conf")
        xdg_home = env.get("XDG_CONFIG_HOME") or (str(home / ".config") if home else None)
        if xdg_home:
            files.append(Path(xdg_home) / "pip" / "pip.conf")
        site = Path(prefix) / "pip.conf"
    files.append(site)
    extra = env.get("PIP_CONFIG_FILE")
    if extra and extra != os.devnull:
        files.append(Path(extra))
    return files


def _read_index_url(path: Path, limit: int) -> str | None:
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError:
        return None
    if len(data) > limit:
        return None
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(data.decode("utf-8", errors="replace"), source=str(path))
    except configparser.Error:
        return None
    for section in ("install", "global"):
        if parser.has_option(section, "index-url"):
            value = parser.get(section, "index-url").strip()
            if value:
                return value
    return None


def configured_index_url(
    env: Mapping[str, str], *, prefix: str = sys.prefix, limits: Limits | None = None
) -> str | None:
    """The index URL pip would use, or None when the user configured none.

    A configuration file over ``limits.pip_config_bytes`` (default 1 MiB) is ignored, as
    one that does not parse.
    """
    limit = DEFAULT_CONFIG_BYTES if limits is None else limits.pip_config_bytes
    from_env = env.get("PIP_INDEX_URL", "").strip()
    if from_env:
        return from_env
    if env.get("PIP_CONFIG_FILE") == os.devnull:
        return None
    found = None
    for path in config_files(env, prefix=prefix):
        value = _read_index_url(path, limit)
        if value is not None:
            found = value
    return found
