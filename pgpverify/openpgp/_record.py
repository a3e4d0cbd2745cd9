"""Immutable records without code generation at import.

``@dataclass(frozen=True, slots=True)`` compiles an ``__init__``, ``__repr__``, ``__eq__``,
``__hash__``, ``__setattr__`` and ``__delattr__`` for each class with ``exec`` and then
builds the class a second time for its slots: 0.3 to 1 ms a class, paid by every run of
the command (which is measured against ``python -c pass``). The few records on every
run's path (armor blocks, packets, key packets) derive from :class:`Record` instead: the
subclass lists its fields in ``__slots__`` and sets them in its ``__init__`` with
:meth:`Record._set`; equality, hashing, ``repr`` and immutability come from here.
"""

from __future__ import annotations

__all__ = ["Record"]


class Record:
    """Base of an immutable record whose fields are its ``__slots__``."""

    __slots__ = ()

    def _set(self, **values: object) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def _names(self) -> tuple[str, ...]:
        names: tuple[str, ...] = getattr(type(self), "__slots__", ())
        return names

    def _values(self) -> tuple[object, ...]:
        return tuple(object.__getattribute__(self, name) for name in self._names())

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Record)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={object.__getattribute__(self, name)!r}" for name in self._names()
        )
        return f"{type(self).__name__}({fields})"
