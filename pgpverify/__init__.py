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

The API in five lines:

- ``Verifier(keyring, owners=... | signers=..., project=..., policy=..., limits=...)``;
  ``certificates=CertificatePool()`` lets many keyrings' equal certificates be judged once
- ``.verify(document, signature=None, *, at=None)``: a path (``str`` or ``Path``), bytes,
  a binary stream or a :class:`DigestSet`; the signature a path or bytes; ``at`` defaults
  to now
- ``Keyring.from_files(paths)`` / ``Keyring.from_bytes(data)`` /
  ``IndexClient(HttpFetcher(), index_url=...).project_keys(name)`` / ``LockFile.read(path)``
- :class:`Policy` (algorithms and sizes), :class:`SignerPolicy` (who may sign),
  :class:`Limits` (every cap)
- ``result.to_json()``; index mode: :func:`verify_from_index` -> :class:`IndexVerification`
"""

from __future__ import annotations

import importlib

# Importing the package must stay cheap (``pgpverify --help`` pays for it): not even typing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pgpverify.errors import (
        InputError,
        KeyringError,
        LimitExceededError,
        MalformedError,
        OwnersError,
        PgpVerifyError,
        UnsupportedError,
        WorkLimitError,
    )
    from pgpverify.index.client import IndexClient, ProjectKeys
    from pgpverify.index.http import HttpConfig, HttpFetcher
    from pgpverify.index.verdict import KEYS_CHANGED, IndexVerification
    from pgpverify.limits import DEFAULT_LIMITS, Limits
    from pgpverify.openpgp.certificate import CertificatePool
    from pgpverify.openpgp.keyring import Keyring
    from pgpverify.policy import DEFAULT_POLICY, Policy, SignerJudgement, SignerPolicy
    from pgpverify.trust.lockfile import LockFile
    from pgpverify.trust.owners import Maintainer, OwnershipRecord
    from pgpverify.verify import (
        DigestSet,
        Document,
        Outcome,
        Reason,
        SignatureReport,
        VerificationError,
        VerificationResult,
        Verifier,
    )
    from pgpverify.workflows import verify_from_index, verify_from_lock

# Names are imported on first use (PEP 562): ``pgpverify --help`` and usage errors must not
# pay for cryptography and PGPy.
_EXPORTS = {
    "InputError": "pgpverify.errors",
    "KeyringError": "pgpverify.errors",
    "LimitExceededError": "pgpverify.errors",
    "MalformedError": "pgpverify.errors",
    "OwnersError": "pgpverify.errors",
    "PgpVerifyError": "pgpverify.errors",
    "UnsupportedError": "pgpverify.errors",
    "WorkLimitError": "pgpverify.errors",
    "DEFAULT_LIMITS": "pgpverify.limits",
    "Limits": "pgpverify.limits",
    "Keyring": "pgpverify.openpgp.keyring",
    "CertificatePool": "pgpverify.openpgp.certificate",
    "IndexClient": "pgpverify.index.client",
    "ProjectKeys": "pgpverify.index.client",
    "HttpConfig": "pgpverify.index.http",
    "HttpFetcher": "pgpverify.index.http",
    "KEYS_CHANGED": "pgpverify.index.verdict",
    "IndexVerification": "pgpverify.index.verdict",
    "LockFile": "pgpverify.trust.lockfile",
    "verify_from_index": "pgpverify.workflows",
    "verify_from_lock": "pgpverify.workflows",
    "DEFAULT_POLICY": "pgpverify.policy",
    "Policy": "pgpverify.policy",
    "SignerJudgement": "pgpverify.policy",
    "SignerPolicy": "pgpverify.policy",
    "DigestSet": "pgpverify.verify",
    "Document": "pgpverify.verify",
    "Maintainer": "pgpverify.trust.owners",
    "OwnershipRecord": "pgpverify.trust.owners",
    "Outcome": "pgpverify.verify",
    "Reason": "pgpverify.verify",
    "SignatureReport": "pgpverify.verify",
    "VerificationError": "pgpverify.verify",
    "VerificationResult": "pgpverify.verify",
    "Verifier": "pgpverify.verify",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module 'pgpverify' has no attribute {name!r}"
        raise AttributeError(msg)
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__version__ = "0.1.0"

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_POLICY",
    "KEYS_CHANGED",
    "CertificatePool",
    "DigestSet",
    "Document",
    "HttpConfig",
    "HttpFetcher",
    "IndexClient",
    "IndexVerification",
    "InputError",
    "Keyring",
    "KeyringError",
    "LimitExceededError",
    "Limits",
    "LockFile",
    "Maintainer",
    "MalformedError",
    "Outcome",
    "OwnersError",
    "OwnershipRecord",
    "PgpVerifyError",
    "Policy",
    "ProjectKeys",
    "Reason",
    "SignatureReport",
    "SignerJudgement",
    "SignerPolicy",
    "UnsupportedError",
    "VerificationError",
    "VerificationResult",
    "Verifier",
    "WorkLimitError",
    "__version__",
    "verify_from_index",
    "verify_from_lock",
]
