"""Armor decoding is linear: 1 MiB of adversarial text costs about what 1 MiB of armor does.

PGPy's armor regex backtracks exponentially on crafted input; ours must not. The bound is
relative to a benign input of the same size decoded in the same process (best of three
runs each), so a slow machine does not fail it, with an absolute ceiling on top.
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
MAX_RATIO = 20
MAX_SECONDS = 5.0
BEGIN = b"-----BEGIN PGP SIGNATURE-----"
END = b"-----END PGP SIGNATURE-----"


def _fill(unit: bytes, prefix: bytes = b"", suffix: bytes = b"") -> bytes:
    return prefix + unit * ((SIZE - len(prefix) - len(suffix)) // len(unit)) + suffix


ADVERSARIAL = {
    "crlf-lines": _fill(b"\r\n"),
    "signed-message-lines": _fill(b"-----BEGIN PGP SIGNED MESSAGE-----\r\n"),
    "begin-without-end": _fill(BEGIN + b"\n"),
    "begin-then-short-lines": _fill(b"A\r\n", prefix=BEGIN + b"\n"),
    "one-long-body-line": _fill(b"A", prefix=BEGIN + b"\n\n", suffix=b"\n" + END + b"\n"),
    "one-long-dash-line": _fill(b"-", prefix=b"-----BEGIN PGP "),
    "long-label": _fill(b"X", prefix=b"-----BEGIN PGP ", suffix=b"-----\n"),
    "equals-lines": _fill(b"=\n"),
    "checksum-lines": _fill(b"=AAAA\n", prefix=BEGIN + b"\n\n"),
    "header-lines": _fill(b"Key: value\n", prefix=BEGIN + b"\n"),
    "cr-only-lines": _fill(BEGIN + b"\r"),
    "trailing-spaces": _fill(b" ", prefix=BEGIN, suffix=b"\n"),
    "mismatched-ends": _fill(BEGIN + b"\n\nAAAA\n-----END PGP MESSAGE-----\n"),
    "tiny-blocks": _fill(BEGIN + b"\n\nAAAA\n" + END + b"\n"),
    "nested-begins": _fill(BEGIN + b"\nVersion: 1\n\n" + b"QUFB\n" * 8),
    "no-newlines-at-all": _fill(b"-----BEGIN PGP SIG"),
    "random-armor-ish": bytes(
        random.Random(9580).choice(b"-=ABab01+/ \r\n:") for _ in range(SIZE)
    ),
}


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
    Keyring().add_bytes(data, source="adversarial")


@pytest.fixture(scope="module")
def benign_seconds():
    data = _benign()
    assert abs(len(data) - SIZE) < 2048
    [block] = decode_blocks(data)
    assert block.error is None
    return _best_time(_decode, data)


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_armor_decoding_is_linear(benign_seconds, name):
    data = ADVERSARIAL[name]
    assert SIZE - 64 <= len(data) <= SIZE
    seconds = _best_time(_decode, data)
    assert seconds <= MAX_SECONDS
    assert seconds <= MAX_RATIO * max(benign_seconds, 0.005), (name, seconds, benign_seconds)


@pytest.mark.parametrize("name", ["signed-message-lines", "begin-without-end", "tiny-blocks",
                                  "mismatched-ends", "checksum-lines"])
def test_keyring_armor_is_linear(benign_seconds, name):
    # The keyring path decodes armor too and records one warning per broken block.
    from pgpverify.errors import KeyringError

    data = ADVERSARIAL[name]
    start = time.perf_counter()
    with contextlib.suppress(KeyringError):
        _keyring(data)
    seconds = time.perf_counter() - start
    assert seconds <= MAX_SECONDS
    assert seconds <= MAX_RATIO * max(benign_seconds, 0.005) * 2, (name, seconds)


def test_armor_decoding_scales_linearly():
    # Doubling the adversarial input about doubles the time (not x4, as a quadratic would).
    unit = BEGIN + b"\r\n"
    small = unit * (SIZE // len(unit) // 2)
    large = small * 2
    t_small = _best_time(_decode, small)
    t_large = _best_time(_decode, large)
    assert t_large <= 3 * max(t_small, 0.002)
