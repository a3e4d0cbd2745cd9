"""The cache over real HTTP against a server that misbehaves: every fault gives its clear
error or the retried success, and nothing in the cache is left corrupt or wrong."""

from __future__ import annotations

import itertools
import sqlite3
from urllib.parse import urlencode

import pytest
from faultserver import FaultServer

from pgpverify.errors import NetworkError
from pgpverify.index.cache import Cache, CachingFetcher
from pgpverify.index.http import HttpConfig, HttpFetcher

CAP = 1 << 16


@pytest.fixture
def server():
    with FaultServer() as running:
        yield running


@pytest.fixture
def clock():
    ticks = itertools.count(1_700_000_000, 10)
    return lambda: float(next(ticks))


@pytest.fixture
def setup(tmp_path, clock):
    http = HttpFetcher(
        HttpConfig(
            connect_timeout=2.0, read_timeout=0.5, retries=2, backoff=0.0, sleep=lambda _s: None
        )
    )
    cache = Cache.open(tmp_path / "cache", clock=clock)
    yield CachingFetcher(http, cache, clock=clock, negative_ttl=300.0), cache, tmp_path
    cache.close()
    http.close()


def test_faults_leave_the_cache_sound(server, setup, clock):
    fetcher, cache, tmp_path = setup
    good = fetcher.get(server.url + "/conditional", max_bytes=CAP)
    assert good.status == 200
    again = fetcher.get(server.url + "/conditional", max_bytes=CAP)
    assert again.from_cache
    assert again.body == good.body

    recovered = fetcher.get(server.url + "/flaky?fail=2&id=cache", max_bytes=CAP)
    assert recovered.body == b"recovered"

    faults = {
        "/big?size=100000&mode=chunked": "larger than",
        "/big?size=100000&mode=length": "larger than",
        "/drop?times=10": "connection",
        "/stall?secs=2": "timeout",
        "/status?code=500": "HTTP 500",
    }
    for path, message in faults.items():
        with pytest.raises(NetworkError, match=message) as err:
            fetcher.get(server.url + path, max_bytes=CAP)
        assert "\n" not in str(err.value)
        assert cache.get(server.url + path) is None, f"{path} must not be cached"

    missing = fetcher.get(server.url + "/status?code=404", max_bytes=CAP)
    assert missing.status == 404
    hits = server.count("/status?code=404")
    assert fetcher.get(server.url + "/status?code=404", max_bytes=CAP).status == 404
    assert server.count("/status?code=404") == hits, "a fresh 'not found' is not refetched"

    cache.close()
    with sqlite3.connect(tmp_path / "cache" / "cache.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    reopened = Cache.open(tmp_path / "cache", clock=clock)
    try:
        assert reopened.warnings == []
        assert reopened.get(server.url + "/conditional").body == good.body
        offline = CachingFetcher(None, reopened, clock=clock, offline=True)
        assert offline.get(server.url + "/conditional", max_bytes=CAP).body == good.body
        with pytest.raises(NetworkError, match="offline"):
            offline.get(server.url + "/stall?secs=2", max_bytes=CAP)
    finally:
        reopened.close()


@pytest.mark.parametrize("etag", ["x" * 4000, "\x01bin\x7f", "caf\u00e9"])
def test_cache_ignores_validators_it_cannot_send_back(server, setup, etag):
    fetcher, _, _ = setup
    url = server.url + "/odd-validators?" + urlencode({"etag": etag})
    first = fetcher.get(url, max_bytes=CAP)
    assert (first.status, first.etag, first.last_modified) == (200, None, None)
    # the next run fetches it again instead of failing for as long as the cache holds it
    again = fetcher.get(url, max_bytes=CAP)
    assert (again.status, again.body, again.from_cache) == (200, b"body", False)


def test_cache_keeps_a_sane_validator(server, setup):
    fetcher, _, _ = setup  # the good twin
    assert fetcher.get(server.url + "/odd-validators?etag=%22v1%22", max_bytes=CAP).etag == '"v1"'
