"""Armor decoding is linear: eight times the adversarial input costs about eight times the time.

PGPy's armor regex backtracks exponentially on crafted input; ours must not. Each shape is
decoded at 128 KiB and at 1 MiB in the same process (best of three runs each): a linear
decoder takes about 8x as long, a quadratic one 64x, so the bound (32x) holds on a slow or
busy machine and still catches super-linear work; an absolute ceiling sits on top. (The
bound is not relative to benign armor: benign bodies are decoded by C code in bulk, so the
ratio to them says nothing about the complexity.)
"""

from __future__ import annotations

import base64
import contextlib
import random
import time

import pytest

from pgpverify.errors import MalformedError
from pgpverify.openpgp.armor import decode_blocks, looks_armored
from pgpverify.openpgp.keyring import Keyring

SIZE = 1 << 20
SMALL = SIZE // 8
#: t(1 MiB) / t(128 KiB): linear is about 8 (up to ~17 seen when 128 KiB fits a CPU cache
#: and 1 MiB does not), quadratic about 64
MAX_GROWTH = 32
#: times under this are noise: the small run counts as at least this long
FLOOR = 0.002
MAX_SECONDS = 5.0
BEGIN = b"-----BEGIN PGP SIGNATURE-----"
END = b"-----END PGP SIGNATURE-----"


def _fill(unit: bytes, prefix: bytes = b"", suffix: bytes = b"", size: int = SIZE) -> bytes:
    return prefix + unit * ((size - len(prefix) - len(suffix)) // len(unit)) + suffix


def _random_armorish(size: int) -> bytes:
    return bytes(random.Random(9580).choice(b"-=ABab01+/ \r\n:") for _ in range(size))


#: shape name -> builder of that shape at a given size
SHAPES = {
    "crlf-lines": lambda n: _fill(b"\r\n", size=n),
    "signed-message-lines": lambda n: _fill(b"-----BEGIN PGP SIGNED MESSAGE-----\r\n", size=n),
    "begin-without-end": lambda n: _fill(BEGIN + b"\n", size=n),
    "begin-then-short-lines": lambda n: _fill(b"A\r\n", prefix=BEGIN + b"\n", size=n),
    "one-long-body-line": lambda n: _fill(
        b"A", prefix=BEGIN + b"\n\n", suffix=b"\n" + END + b"\n", size=n
    ),
    "one-long-dash-line": lambda n: _fill(b"-", prefix=b"-----BEGIN PGP ", size=n),
    "long-label": lambda n: _fill(b"X", prefix=b"-----BEGIN PGP ", suffix=b"-----\n", size=n),
    "equals-lines": lambda n: _fill(b"=\n", size=n),
    "checksum-lines": lambda n: _fill(b"=AAAA\n", prefix=BEGIN + b"\n\n", size=n),
    "header-lines": lambda n: _fill(b"Key: value\n", prefix=BEGIN + b"\n", size=n),
    "cr-only-lines": lambda n: _fill(BEGIN + b"\r", size=n),
    "trailing-spaces": lambda n: _fill(b" ", prefix=BEGIN, suffix=b"\n", size=n),
    "mismatched-ends": lambda n: _fill(BEGIN + b"\n\nAAAA\n-----END PGP MESSAGE-----\n", size=n),
    "tiny-blocks": lambda n: _fill(BEGIN + b"\n\nAAAA\n" + END + b"\n", size=n),
    "nested-begins": lambda n: _fill(BEGIN + b"\nVersion: 1\n\n" + b"QUFB\n" * 8, size=n),
    "no-newlines-at-all": lambda n: _fill(b"-----BEGIN PGP SIG", size=n),
    "random-armor-ish": _random_armorish,
}
ADVERSARIAL = {name: build(SIZE) for name, build in SHAPES.items()}


def _benign() -> bytes:
    raw = random.Random(4880).randbytes(SIZE * 48 // 65 - 100)  # 64 base64 + LF per line
    b64 = base64.b64encode(raw)
    body = b"\n".join(b64[i : i + 64] for i in range(0, len(b64), 64))
    return BEGIN + b"\nVersion: x\n\n" + body + b"\n" + END + b"\n"


def _best_time(func, data: bytes, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        with contextlib.suppress(MalformedError):
            func(data)
        best = min(best, time.perf_counter() - start)
    return best


def _decode(data: bytes) -> None:
    looks_armored(data)
    decode_blocks(data)


def _keyring(data: bytes) -> None:
    from pgpverify.errors import KeyringError

    with contextlib.suppress(KeyringError):
        Keyring().add_bytes(data, source="adversarial")


def test_benign_armor_decodes():
    data = _benign()
    assert abs(len(data) - SIZE) < 2048
    [block] = decode_blocks(data)
    assert block.error is None
    assert _best_time(_decode, data) <= MAX_SECONDS


def _assert_linear(func, name: str, runs: int = 3) -> None:
    data = ADVERSARIAL[name]
    assert SIZE - 64 <= len(data) <= SIZE
    t_small = _best_time(func, SHAPES[name](SMALL), runs)
    t_large = _best_time(func, data, runs)
    assert t_large <= MAX_SECONDS, (name, t_large)
    assert t_large <= MAX_GROWTH * max(t_small, FLOOR), (name, t_small, t_large)


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_armor_decoding_is_linear(name):
    _assert_linear(_decode, name)


@pytest.mark.parametrize(
    "name",
    [
        "signed-message-lines",
        "begin-without-end",
        "tiny-blocks",
        "mismatched-ends",
        "checksum-lines",
    ],
)
def test_keyring_armor_is_linear(name):
    # The keyring path decodes armor too and records one warning per broken block.
    _assert_linear(_keyring, name, runs=2)


def test_armor_decoding_scales_linearly():
    # Eight times the BEGIN lines cost about eight times the time (not x64, as a quadratic would).
    unit = BEGIN + b"\r\n"
    small = unit * (SMALL // len(unit))
    large = small * 8
    t_small = _best_time(_decode, small)
    t_large = _best_time(_decode, large)
    assert t_large <= MAX_GROWTH * max(t_small, FLOOR), (t_small, t_large)
