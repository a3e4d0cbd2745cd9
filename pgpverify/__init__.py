"""pgpverify: strict OpenPGP verification of Python distributions, without gpg.

Verify a wheel's detached signature against a keyring and the project's ownership
record, at a reference time::

    from datetime import datetime, timezone
    from pathlib import Path

    from pgpverify import Keyring, OwnershipRecord, Verifier

    demo = Path("vectors/demo")
    verifier = Verifier(
        Keyring.from_files([demo / "keyring.asc"]),
        owners=OwnershipRecord.from_file(demo / "owners/demo-pkg.json"),
        project="demo-pkg",
    )
    result = verifier.verify(
        demo / "demo_pkg-1.0.0-py3-none-any.whl",
        at=datetime(2025, 6, 1, tzinfo=timezone.utc),
    )
    print(result.ok, result.reason.value, result.primary_fingerprint)

``result.ok`` is True only for a good signature by a listed maintainer's key; otherwise
``result.reason`` says why (see :class:`Reason`). Bad trust inputs raise
:class:`PgpVerifyError` subclasses; a bad signature file is the verdict ``malformed``.
"""

from __future__ import annotations

from pgpverify.errors import (
    InputError,
    KeyringError,
    LimitExceededError,
    MalformedError,
    OwnersError,
    PgpVerifyError,
    UnsupportedError,
)
from pgpverify.limits import DEFAULT_LIMITS, Limits
from pgpverify.openpgp.keyring import Keyring
from pgpverify.trust.owners import Maintainer, OwnershipRecord
from pgpverify.verify import (
    Outcome,
    Reason,
    SignatureReport,
    VerificationError,
    VerificationResult,
    Verifier,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_LIMITS",
    "InputError",
    "KeyringError",
    "LimitExceededError",
    "Limits",
    "Maintainer",
    "MalformedError",
    "Outcome",
    "OwnersError",
    "OwnershipRecord",
    "PgpVerifyError",
    "Reason",
    "SignatureReport",
    "VerificationError",
    "VerificationResult",
    "Verifier",
    "UnsupportedError",
    "__version__",
]
