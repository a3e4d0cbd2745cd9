"""The index layer's result: the verifier's verdict plus what only index mode knows.

Kept apart from :mod:`pgpverify.workflows` so that the command line can show a verdict
from local keyrings or a lock file the same way (one JSON shape) without importing the
HTTP client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pgpverify.openpgp._record import Record
from pgpverify.verify import Outcome

if TYPE_CHECKING:
    from pgpverify.verify import VerificationResult

__all__ = ["KEYS_CHANGED", "IndexVerification"]


#: The reason an index-mode run gives when ``fail_on_key_change`` rejects a widening change
#: of the project's trust statement (the verifier's own reasons are :class:`Reason`).
KEYS_CHANGED = "keys-changed"


class IndexVerification(Record):
    """The verifier's verdict, plus the index layer's own facts about the index's answer.

    ``result`` is the verdict of :class:`pgpverify.Verifier` on the file. The index layer
    adds how the project's trust statement changed since this machine last accepted it
    (``keys_changed``) and whether that change rejects the run (``key_change_rejected``,
    only with ``fail_on_key_change``): then :attr:`ok` is False and :attr:`reason` is
    ``keys-changed`` whatever ``result`` says. ``warnings`` are for people, loudly.
    Immutable (a :class:`Record`: no dataclass code generation at import).
    """

    __slots__ = ("key_change_rejected", "keys_changed", "result", "warnings")
    result: VerificationResult
    warnings: list[str]
    #: how the statement changed (:meth:`StatementRecall.to_json`), else None
    keys_changed: dict[str, Any] | None
    #: a widening change rejected under ``fail_on_key_change``
    key_change_rejected: bool

    def __init__(
        self,
        result: VerificationResult,
        warnings: list[str] | None = None,
        keys_changed: dict[str, Any] | None = None,
        key_change_rejected: bool = False,
    ) -> None:
        self._set(
            result=result,
            warnings=[] if warnings is None else warnings,
            keys_changed=keys_changed,
            key_change_rejected=key_change_rejected,
        )

    __bool__ = None

    @property
    def ok(self) -> bool:
        """True only for a good verdict that no key change rejects."""
        return self.result.ok and not self.key_change_rejected

    @property
    def reason(self) -> str:
        """``keys-changed`` for a rejected change, else the verdict's reason."""
        return KEYS_CHANGED if self.key_change_rejected else self.result.reason.value

    @property
    def message(self) -> str:
        """Why: the change that rejects (after the verdict's own reason if it rejects)."""
        if not self.key_change_rejected:
            return self.result.message
        name = self.result.project or ""
        message = (
            f"the trust statement of {name} changed since it was last seen, widening who "
            "may sign or when (--fail-on-key-change); review the change, then run once "
            "without the flag to accept it"
        )
        return message if self.result.ok else f"{self.result.message}; also, {message}"

    def to_json(self) -> dict[str, Any]:
        """The ``--format json`` object: the verdict's, with ``keys_changed`` added."""
        doc: dict[str, Any] = {}
        for key, value in self.result.to_json().items():
            doc[key] = value
            if key == "maintainer":
                doc["keys_changed"] = self.keys_changed
        if self.key_change_rejected:
            doc.update(
                status=Outcome.REJECTED.value,
                reason=KEYS_CHANGED,
                message=self.message,
                maintainer=None,
            )
        return doc
