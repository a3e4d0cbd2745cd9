"""pgpverify.io: bounded reads, the document stream, atomic writes, armor blocks."""

import os
import socket
import stat
import sys
import threading
from pathlib import Path

import pytest

from pgpverify.cli import main
from pgpverify.errors import InputError, LimitExceededError
from pgpverify.io import (
    BINARY,
    atomic_write,
    binary_blocks,
    display_path,
    open_document,
    read_bounded,
)
from pgpverify.openpgp.armor import encode

DEMO = Path(__file__).resolve().parent.parent / "vectors" / "demo"
WHEEL = DEMO / "demo_pkg-1.0.0-py3-none-any.whl"
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX special files")


def test_open_document_reads_a_regular_file():
    with open_document(WHEEL) as stream:
        assert stream.read() == WHEEL.read_bytes()


@posix_only
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_open_document_rejects_a_character_device(device):
    if not Path(device).exists():
        pytest.skip(f"no {device}")
    with pytest.raises(InputError, match="is a character device, not a regular file or a pipe"):
        open_document(Path(device))


def test_open_document_rejects_a_directory(tmp_path):
    with pytest.raises(InputError, match="is a directory, not a file"):
        open_document(tmp_path)


@posix_only
def test_open_document_rejects_a_socket(tmp_path):
    path = tmp_path / "s"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
        assert stat.S_ISSOCK(path.stat().st_mode)
        with pytest.raises(InputError, match=r"cannot read|is a socket"):
            open_document(path)
    finally:
        server.close()


def test_open_document_rejects_a_missing_file_and_a_nul_byte(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        open_document(tmp_path / "nope")
    with pytest.raises(InputError, match="cannot read"):
        open_document(Path("a\0b"))


@posix_only
def test_open_document_reads_a_fifo(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    data = WHEEL.read_bytes()

    def feed():
        with fifo.open("wb") as out:
            out.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        with open_document(fifo) as stream:
            assert stream.read() == data
    finally:
        writer.join(timeout=10)


@posix_only
def test_cli_verify_rejects_dev_zero_at_once(capsys):
    code = main(
        [
            "verify",
            "/dev/zero",
            "--signature",
            str(WHEEL) + ".asc",
            "--keyring",
            str(DEMO / "keyring.asc"),
        ]
    )
    assert code == 2
    assert "character device" in capsys.readouterr().err


@posix_only
def test_read_bounded_rejects_dev_zero_as_a_keyring():
    with pytest.raises(InputError, match="keyring is a character device"):
        read_bounded(Path("/dev/zero"), 1 << 20, "keyring")


def test_read_bounded_reads_up_to_the_limit_and_rejects_one_more_byte(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    assert read_bounded(path, 10, "thing") == b"x" * 10
    with pytest.raises(LimitExceededError, match="size of the thing exceeds the limit of 9"):
        read_bounded(path, 9, "thing")


def _stale_fstat(monkeypatch, size):
    """``fstat`` as taken before the file grew: it reports ``size`` octets."""
    real = os.fstat

    def stale(fd):
        found = real(fd)
        return os.stat_result((found.st_mode, *found[1:6], size, *found[7:]))

    monkeypatch.setattr("pgpverify.io.os.fstat", stale)


def test_read_bounded_reads_a_file_that_grew_after_its_size_was_taken(tmp_path, monkeypatch):
    path = tmp_path / "f"
    path.write_bytes(bytes(range(100)))
    _stale_fstat(monkeypatch, 10)  # the buffer is sized for 11 octets; 100 are there
    assert read_bounded(path, 100, "thing") == bytes(range(100))


def test_read_bounded_rejects_a_file_that_grew_past_the_limit(tmp_path, monkeypatch):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    _stale_fstat(monkeypatch, 10)  # small when its size was taken, over the cap when read
    with pytest.raises(LimitExceededError, match="size of the thing exceeds the limit of 99"):
        read_bounded(path, 99, "thing")


@posix_only
def test_read_bounded_reads_a_fifo_to_its_end(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    payload = b"y" * 70_000  # more than a pipe's buffer: several reads

    def feed():
        with fifo.open("wb") as out:
            out.write(payload)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        assert read_bounded(fifo, 1 << 20, "thing") == payload
    finally:
        writer.join()


def test_read_bounded_rejects_a_directory_and_a_missing_file(tmp_path):
    with pytest.raises(InputError, match="thing is a directory"):
        read_bounded(tmp_path, 10, "thing")
    with pytest.raises(InputError, match="thing not found"):
        read_bounded(tmp_path / "nope", 10, "thing")


def test_atomic_write_replaces_the_file_and_keeps_its_mode(tmp_path):
    path = tmp_path / "lock"
    path.write_bytes(b"old")
    path.chmod(0o600)
    atomic_write(path, b"new")
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["lock"]


def test_atomic_write_rejects_a_failed_rename_and_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "lock"
    path.write_bytes(b"old")

    def fail(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="No space left"):
        atomic_write(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["lock"]


def test_binary_blocks_gives_binary_data_as_one_block():
    (block,) = binary_blocks(b"\x99\x00\x01x")
    assert (block.label, block.data, block.line, block.error) == (BINARY, b"\x99\x00\x01x", 0, None)


def test_binary_blocks_decodes_each_armored_block():
    data = encode(b"\x99abc", "PUBLIC KEY BLOCK") + b"junk\n" + encode(b"\x88", "SIGNATURE")
    blocks = binary_blocks(data)
    assert [(b.label, b.data) for b in blocks] == [
        ("PUBLIC KEY BLOCK", b"\x99abc"),
        ("SIGNATURE", b"\x88"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "a",
        "a/b",
        "./a",
        "a/./b/",
        "a//b",
        "/a",
        "//a",
        "///a",
        "////a//b/",
        ".",
        "./",
        "/",
        "//",
        "///",
        "a/..",
        "../a",
        "a/../b",
        ".a/.b./c.",
        "a b/c\\d",
    ],
)
@posix_only
def test_display_path_writes_a_path_as_pathlib_does(text):
    assert display_path(text) == str(Path(text))
    assert display_path(Path(text)) == str(Path(text))


def test_open_document_and_read_bounded_take_a_str_and_name_it_as_pathlib_does(tmp_path):
    doc = tmp_path / "doc.bin"
    doc.write_bytes(b"data")
    spelled = f"{tmp_path}//./doc.bin"
    with open_document(spelled) as stream:
        assert stream.read() == b"data"
    assert read_bounded(spelled, 10, "keyring") == b"data"
    with pytest.raises(InputError) as caught:
        read_bounded(f"{tmp_path}//./missing.bin", 10, "keyring")
    assert caught.value.source == str(tmp_path / "missing.bin")


def test_read_bounded_reads_on_after_a_short_read(tmp_path, monkeypatch):
    # A read may come back with fewer octets than asked (a signal, a network file system):
    # the file is still read to its end, and the cap still holds.
    path = tmp_path / "f"
    path.write_bytes(bytes(range(200)))
    real = os.read
    monkeypatch.setattr("pgpverify.io.os.read", lambda fd, n: real(fd, min(n, 7)))
    assert read_bounded(path, 200, "thing") == bytes(range(200))
    with pytest.raises(LimitExceededError, match="size of the thing exceeds the limit of 199"):
        read_bounded(path, 199, "thing")


def test_open_document_stream_reads_to_the_end_in_chunks(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(bytes(range(256)) * 40)
    with open_document(path) as stream:
        chunks = list(iter(lambda: stream.read(1000), b""))
    assert b"".join(chunks) == bytes(range(256)) * 40
    assert stream.closed


@posix_only
def test_display_path_writes_every_short_path_as_pathlib_does():
    # every string of up to 7 characters over "/", "." and "a": each rule and its edges
    import itertools
    from pathlib import PurePosixPath

    for size in range(8):
        for chars in itertools.product("/.a", repeat=size):
            text = "".join(chars)
            assert display_path(text) == str(PurePosixPath(text)), text
