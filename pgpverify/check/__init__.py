"""``pgpverify check`` / ``install`` as a library: every file a job installs, verified at once.

:func:`check_files` takes paths (files, or wheelhouse directories) and a trust source
(:class:`IndexTrust`, :class:`LockTrust` or :class:`KeyringTrust`) and returns a
:class:`CheckReport`: one typed :class:`FileCheck` per file and the overall verdict. It
never prints; :mod:`pgpverify.check.report` renders text, JSON, GitHub annotations and
JUnit XML, and :mod:`pgpverify.check.pip` runs ``pip download`` / ``pip install``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pgpverify.check.model import CheckReport, FileCheck, Status
    from pgpverify.check.run import CheckPolicy, IndexTrust, KeyringTrust, LockTrust, check_files

# Names are imported on first use (PEP 562): ``install`` starts pip from
# :mod:`pgpverify.check.gate` before the verifier and the HTTP stack are imported.
_EXPORTS = {
    "CheckReport": "pgpverify.check.model",
    "FileCheck": "pgpverify.check.model",
    "Status": "pgpverify.check.model",
    "CheckPolicy": "pgpverify.check.run",
    "IndexTrust": "pgpverify.check.run",
    "KeyringTrust": "pgpverify.check.run",
    "LockTrust": "pgpverify.check.run",
    "check_files": "pgpverify.check.run",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module 'pgpverify.check' has no attribute {name!r}"
        raise AttributeError(msg)
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


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
