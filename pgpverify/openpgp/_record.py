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

from dataclasses import MISSING, FrozenInstanceError
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dataclasses import Field
    from typing import Any, ClassVar

__all__ = ["FrozenFields", "Record"]


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


class FrozenFields:
    """The methods of a frozen dataclass, written once instead of generated for each class.

    For public configuration and result classes that callers use as dataclasses
    (``dataclasses.replace``, ``fields``, ``asdict``): decorated with
    ``@dataclass(init=False, repr=False, eq=False)``, which only records the fields (a
    tenth of the import cost of ``frozen=True``), and given ``__init__`` (keywords only,
    defaults from the fields, then ``__post_init__``), equality and hash over the fields
    in order, a dataclass-like ``repr`` and immutability from here.
    """

    __slots__ = ()

    if TYPE_CHECKING:
        __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    def __init__(self, **values: Any) -> None:
        cls = type(self)
        for name, spec in cls.__dataclass_fields__.items():
            if name in values:
                value = values.pop(name)
            elif spec.default is not MISSING:
                value = spec.default
            elif spec.default_factory is not MISSING:
                value = spec.default_factory()
            else:
                msg = f"{cls.__qualname__}() missing keyword argument {name!r}"
                raise TypeError(msg)
            object.__setattr__(self, name, value)
        if values:
            msg = f"{cls.__qualname__}() got an unexpected keyword argument {next(iter(values))!r}"
            raise TypeError(msg)
        post = getattr(self, "__post_init__", None)
        if post is not None:
            post()

    def _field_values(self) -> tuple[object, ...]:
        return tuple(object.__getattribute__(self, name) for name in self.__dataclass_fields__)

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, FrozenFields)
        return self._field_values() == other._field_values()

    def __hash__(self) -> int:
        return hash(self._field_values())

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={object.__getattribute__(self, name)!r}" for name in self.__dataclass_fields__
        )
        return f"{type(self).__qualname__}({fields})"
