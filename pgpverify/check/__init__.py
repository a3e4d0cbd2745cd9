"""``pgpverify check`` / ``install`` as a library: every file a job installs, verified at once.

:func:`check_files` takes paths (files, or wheelhouse directories) and a trust source
(:class:`IndexTrust`, :class:`LockTrust` or :class:`KeyringTrust`) and returns a
:class:`CheckReport`: one typed :class:`FileCheck` per file and the overall verdict. It
never prints; :mod:`pgpverify.check.report` renders text, JSON, GitHub annotations and
JUnit XML, and :mod:`pgpverify.check.pip` runs ``pip download`` / ``pip install``.
"""

from __future__ import annotations

from pgpverify.check.model import CheckReport, FileCheck, Status
from pgpverify.check.run import CheckPolicy, IndexTrust, KeyringTrust, LockTrust, check_files

__all__ = [
    "CheckPolicy",
    "CheckReport",
    "FileCheck",
    "IndexTrust",
    "KeyringTrust",
    "LockTrust",
    "Status",
    "check_files",
]
