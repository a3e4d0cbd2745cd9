"""All file I/O of pgpverify: bounded reads, the document stream, atomic writes, armor.

The OpenPGP layer (``pgpverify.openpgp``) and the verifier work on bytes and streams; the
paths callers give are opened here, and only here, so that every read is bounded and every
refusal is the same :class:`pgpverify.errors.InputError`.

Threat model: a path may name anything (a directory, ``/dev/zero``, a socket, a FIFO that a
process feeds). A whole-file read never takes more than ``limit + 1`` bytes; a document to
hash must be a regular file or a pipe (character and block devices, sockets and
directories are refused before any byte is read: ``/dev/zero`` would never end).
"""

from __future__ import annotations

import contextlib
import os
import stat
from typing import TYPE_CHECKING, BinaryIO

from pgpverify.errors import InputError, LimitExceededError

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Protocol, TypeAlias

    from pgpverify.openpgp.armor import ArmorBlock

    class RequirementCaps(Protocol):
        """The caps a requirements file is read under (``Limits`` has them)."""

        @property
        def requirements_bytes(self) -> int: ...
        @property
        def requirements_files(self) -> int: ...
        @property
        def requirements_depth(self) -> int: ...

    #: a path as callers give it: ``str`` or any ``os.PathLike`` (``pathlib.Path``)
    StrPath: TypeAlias = "str | os.PathLike[str]"

__all__ = [
    "atomic_write",
    "binary_blocks",
    "display_path",
    "open_document",
    "read_bounded",
    "read_requirements_file",
]

#: What ``binary_blocks`` calls a block of binary (not armored) data.
BINARY = "BINARY"


def _why(err: OSError | ValueError) -> str:
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return str(err)


def _kind(mode: int) -> str | None:
    """What a file that is neither regular nor a FIFO is, else None."""
    if stat.S_ISREG(mode) or stat.S_ISFIFO(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def display_path(path: StrPath) -> str:
    """``path`` as ``str(pathlib.Path(path))`` writes it, without importing pathlib.

    Messages and results name a file as pathlib would (``./dist//a.whl/`` is
    ``dist/a.whl``), while the verify path stays free of pathlib's import (about 2 ms of a
    one-signature process). POSIX rules: runs of ``/`` and ``.`` components go, exactly
    two leading slashes stay; elsewhere pathlib itself is asked.
    """
    text = os.fspath(path)
    if os.name != "posix":  # pragma: no cover - Windows: its drive and separator rules
        from pathlib import Path

        return str(Path(text))
    if (
        text
        and text != "."
        and "//" not in text
        and "/./" not in text
        and not text.startswith("./")
        and not text.endswith(("/", "/."))
    ):
        return text  # no empty or "." component to drop: already as pathlib writes it
    root = "/" if text.startswith("/") else ""
    if text.startswith("//") and not text.startswith("///"):
        root = "//"
    return root + "/".join(part for part in text.split("/") if part not in ("", ".")) or "."


def open_document(path: StrPath, what: str | None = None) -> BinaryIO:
    """Open ``path`` to read it as a stream: a regular file or a pipe, nothing else.

    Checked on the open descriptor (``fstat``), so a path swapped after a check cannot
    slip a device in. Raises :class:`InputError` for a missing file, a directory, a
    device, a socket, or any error of the open. ``what`` names the file in messages
    (None: the document being verified). The stream is unbuffered (its reader asks for
    large chunks): no buffer object, no terminal check, one ``fstat`` less per open.
    """
    fd, _ = _open_checked(path, what)
    try:
        return open(fd, "rb", buffering=0)  # noqa: PTH123 - a descriptor, not a path
    except BaseException:
        os.close(fd)
        raise


def _open_checked(path: StrPath, what: str | None) -> tuple[int, os.stat_result]:
    """A descriptor open for reading on a regular file or a pipe, and its ``fstat``.

    ``os.open`` and ``os.fstat`` only: a Python file object costs ~4 us more per open,
    and a verification opens two files. The refusals are :func:`open_document`'s.
    """
    reading = f"cannot read {what}" if what else "cannot read"
    try:
        # Blocking: a FIFO's writer may come after us, as with gpgv.
        fd = os.open(path, os.O_RDONLY | _O_BINARY)
    except FileNotFoundError:
        raise InputError(f"{what or 'file'} not found", source=display_path(path)) from None
    except IsADirectoryError:
        raise InputError(_directory(what), source=display_path(path)) from None
    except (OSError, ValueError) as err:  # ValueError: a NUL byte in the path
        raise InputError(f"{reading}: {_why(err)}", source=display_path(path)) from None
    try:
        found = os.fstat(fd)
    except OSError as err:
        os.close(fd)
        raise InputError(f"{reading}: {_why(err)}", source=display_path(path)) from None
    kind = _kind(found.st_mode)
    if kind is not None:
        os.close(fd)
        source = display_path(path)
        if kind == "a directory":
            raise InputError(_directory(what), source=source)
        raise InputError(f"{what or 'file'} is {kind}, not a regular file or a pipe", source=source)
    return fd, found


#: Windows opens descriptors in text mode unless told otherwise; elsewhere there is none.
_O_BINARY = getattr(os, "O_BINARY", 0)
#: The most one read of a pipe asks for (a pipe gives less; a 1 GiB request would be
#: allocated whole before the read).
_PIPE_READ = 1 << 20


def _directory(what: str | None) -> str:
    return f"{what} is a directory" if what else "is a directory, not a file"


def read_bounded(path: StrPath, limit: int, what: str) -> bytes:
    """Read a whole file of at most ``limit`` bytes (refused after ``limit + 1``).

    A regular file or a pipe; anything else, or a failed open, is an :class:`InputError`;
    a larger file a :class:`pgpverify.errors.LimitExceededError`.
    """
    fd, found = _open_checked(path, what)
    try:
        data = _read_upto(fd, found, limit + 1)
    except OSError as err:
        source = display_path(path)
        raise InputError(f"cannot read {what}: {_why(err)}", source=source) from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise LimitExceededError(f"size of the {what}", limit, source=display_path(path))
    return data


def _read_upto(fd: int, found: os.stat_result, most: int) -> bytes:
    """The descriptor's octets up to its end, at most ``most`` of them.

    A regular file is read in one buffer of its size plus one octet, not of ``most``: a
    buffer of 1 MiB for a 500-octet signature costs about 15 us a verification (the
    allocation and its release), more than parsing it. A file that grew since its size
    was taken, or a read that came back short, is read on to its end, to ``most`` in
    all; a pipe is read to its end in reads of at most 1 MiB.
    """
    if not stat.S_ISREG(found.st_mode) or found.st_size >= most:
        return _read_rest(fd, b"", most)
    data = os.read(fd, found.st_size + 1)
    if len(data) != found.st_size:  # it grew, shrank, or a read came back short
        return _read_rest(fd, data, most)
    return data


def _read_rest(fd: int, start: bytes, most: int) -> bytes:
    """``start`` and what follows on ``fd`` up to its end, at most ``most`` octets in all."""
    data = bytearray(start)
    while len(data) < most:
        chunk = os.read(fd, min(most - len(data), _PIPE_READ))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def read_requirements_file(
    path: Path, seen: set[str], depth: int, caps: RequirementCaps
) -> bytes | None:
    """The octets of one pip requirements file, ``depth`` levels of ``-r``/``-c`` down.

    None when ``seen`` (the resolved paths read so far, which this adds to) already holds
    it: a file named twice, or in a cycle, is read once. InputError past
    ``caps.requirements_depth`` levels or ``caps.requirements_files`` files, for a file
    larger than ``caps.requirements_bytes``, and for any failure to resolve or read it (a
    loop of symbolic links included, however the Python version reports it).
    """
    import errno

    source = str(path)
    if depth > caps.requirements_depth:
        raise InputError("requirements files nest too deeply", source=source)
    loop = "cannot read requirements file: a loop of symbolic links"
    try:
        key = str(path.resolve())
        if key in seen:
            return None
        seen.add(key)
        if len(seen) > caps.requirements_files:
            raise InputError(
                f"more than {caps.requirements_files} requirements files", source=source
            )
        with path.open("rb") as stream:
            data = stream.read(caps.requirements_bytes + 1)
    except RuntimeError:  # resolve() before Python 3.13: a symbolic link loop
        raise InputError(loop, source=source) from None
    except OSError as err:
        if err.errno == errno.ELOOP:  # resolve() from Python 3.13, or the open
            raise InputError(loop, source=source) from None
        raise InputError(
            f"cannot read requirements file: {err.strerror or err}", source=source
        ) from None
    except ValueError as err:  # a NUL byte in the path
        raise InputError(f"cannot read requirements file: {err}", source=source) from None
    if len(data) > caps.requirements_bytes:
        raise InputError(
            f"requirements file larger than {caps.requirements_bytes} bytes", source=source
        )
    return data


def atomic_write(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``data``: all of it or, on any failure, nothing.

    A temporary file in the same directory is written, flushed to disk (``fsync``) and
    renamed over ``path`` (``os.replace``); on failure it is removed and ``path`` is left
    as it was. ``mode`` defaults to the mode ``path`` has (0o644 for a new file). Raises
    :class:`OSError`: the caller names the file in its own error.
    """
    if mode is None:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            mode = 0o644
    import tempfile  # only when writing: it imports shutil and random (start-up cost)

    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, mode)  # noqa: PTH101 - mkstemp hands back a str
        os.replace(tmp_name, path)  # noqa: PTH105 - the atomic step, patched in tests
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)  # noqa: PTH108
        raise


def binary_blocks(data: bytes) -> list[ArmorBlock]:
    """The OpenPGP data in ``data``: its armored blocks, or the bytes as one binary block.

    Armored input gives each block as :func:`pgpverify.openpgp.armor.decode_blocks` does
    (a broken one with ``error`` set, for the caller to skip or refuse); binary input gives
    one block labelled :data:`BINARY` at line 0. Raises :class:`MalformedError` for armor
    that cannot be split into blocks at all.
    """
    # imported here: a path argument (pgpverify.cli) needs display_path, not the armor
    # decoder and the dataclasses module its records import
    from pgpverify.openpgp.armor import ArmorBlock, decode_blocks, looks_armored

    if not looks_armored(data):
        return [ArmorBlock(label=BINARY, data=data, line=0)]
    return decode_blocks(data)
