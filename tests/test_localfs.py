"""file: URLs: a local PEP 503 tree read through the Fetcher protocol, bounded."""

from __future__ import annotations

import os

import pytest
from fakeindex import FakeIndex

from pgpverify.errors import IndexResponseError, InputError, NetworkError, ResponseTooLargeError
from pgpverify.index.client import IndexClient
from pgpverify.index.localfs import FileFetcher, SchemeFetcher, file_url_problem, path_to_url


def test_file_fetcher_reads_a_file_and_a_directory_as_index_html(tmp_path):
    (tmp_path / "simple" / "demo").mkdir(parents=True)
    (tmp_path / "simple" / "demo" / "index.html").write_bytes(b"<a href='x'>x</a>")
    (tmp_path / "k.json").write_bytes(b"{}")
    fetcher = FileFetcher()
    page = fetcher.get(path_to_url(tmp_path / "simple" / "demo"), max_bytes=100)
    assert page.status == 200
    assert page.body == b"<a href='x'>x</a>"
    assert page.content_type == "text/html"
    assert fetcher.get(path_to_url(tmp_path / "k.json"), max_bytes=100).body == b"{}"


def test_file_fetcher_missing_file_is_not_found(tmp_path):
    response = FileFetcher().get(path_to_url(tmp_path) + "nothing.asc", max_bytes=10)
    assert response.status == 404
    assert not response.found


def test_file_fetcher_rejects_oversized_file(tmp_path):
    (tmp_path / "big").write_bytes(b"x" * 11)
    with pytest.raises(NetworkError, match="larger than 10 bytes"):
        FileFetcher().get(path_to_url(tmp_path / "big"), max_bytes=10)


def test_file_fetcher_rejects_remote_host():
    assert file_url_problem("file://evil.example/etc/passwd") is not None
    with pytest.raises(NetworkError, match="only local files"):
        FileFetcher().get("file://evil.example/etc/passwd", max_bytes=10)


def test_file_fetcher_rejects_special_file(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # no writer: a blocking open would hang
    with pytest.raises(NetworkError, match="not a regular file"):
        FileFetcher().get(path_to_url(fifo), max_bytes=10)


def test_scheme_fetcher_sends_only_file_urls_to_disk(tmp_path):
    (tmp_path / "a").write_bytes(b"local")
    network = FakeIndex()
    network.put("https://index.test/a", b"remote")
    fetcher = SchemeFetcher(FileFetcher(), network)
    assert fetcher.get(path_to_url(tmp_path / "a"), max_bytes=10).body == b"local"
    assert fetcher.get("https://index.test/a", max_bytes=10).body == b"remote"
    assert network.requests == ["https://index.test/a"]


def test_index_client_rejects_file_url_unless_allowed(tmp_path):
    with pytest.raises(InputError, match="unsupported URL scheme"):
        IndexClient(FileFetcher(), index_url=path_to_url(tmp_path))
    client = IndexClient(FileFetcher(), index_url=path_to_url(tmp_path), allow_files=True)
    assert client.pgp_root.startswith("file:")


def test_index_client_rejects_local_file_link_on_remote_page(tmp_path):
    (tmp_path / "secret.whl").write_bytes(b"secret")
    index = FakeIndex()
    client = IndexClient(
        SchemeFetcher(FileFetcher(), index),
        index_url="https://index.test/simple/",
        allow_files=True,
    )
    with pytest.raises(IndexResponseError, match="remote page to a local file"):
        client.get_listed(
            path_to_url(tmp_path / "secret.whl"),
            page="https://index.test/simple/demo/",
            max_bytes=100,
        )
    assert index.requests == []


def read_all(download, piece=7):
    parts = []
    while chunk := download.body.read(piece):
        parts.append(chunk)
    return b"".join(parts)


def test_file_fetcher_streams_a_file_within_the_cap(tmp_path):
    (tmp_path / "f.whl").write_bytes(b"x" * 100)
    with FileFetcher().stream(path_to_url(tmp_path / "f.whl"), max_bytes=100) as download:
        assert download.status == 200
        assert read_all(download) == b"x" * 100
    with FileFetcher().stream(path_to_url(tmp_path) + "gone.whl", max_bytes=10) as download:
        assert (download.found, download.status, download.body.read(5)) == (False, 404, b"")


def test_file_fetcher_rejects_oversized_file_as_response_too_large(tmp_path):
    (tmp_path / "big").write_bytes(b"x" * 11)
    url = path_to_url(tmp_path / "big")
    with pytest.raises(ResponseTooLargeError, match="larger than 10 bytes"):
        FileFetcher().get(url, max_bytes=10)
    with (
        pytest.raises(ResponseTooLargeError, match="larger than 10 bytes"),
        FileFetcher().stream(url, max_bytes=10) as download,
    ):
        read_all(download)
    with FileFetcher().stream(url, max_bytes=11) as download:  # the good twin: at the cap
        assert read_all(download) == b"x" * 11


def test_file_fetcher_stream_rejects_special_file_and_remote_host(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with (
        pytest.raises(NetworkError, match="not a regular file"),
        FileFetcher().stream(path_to_url(fifo), max_bytes=10),
    ):
        pass
    with (
        pytest.raises(NetworkError, match="host"),
        FileFetcher().stream("file://example.com/x.whl", max_bytes=10),
    ):
        pass


def test_scheme_fetcher_streams_file_urls_from_disk(tmp_path):
    (tmp_path / "f.whl").write_bytes(b"wheel")
    fetcher = SchemeFetcher(FileFetcher())
    with fetcher.stream(path_to_url(tmp_path / "f.whl"), max_bytes=10) as download:
        assert read_all(download) == b"wheel"
    with (
        pytest.raises(NetworkError, match="no network fetcher"),
        fetcher.stream("https://example.com/f.whl", max_bytes=10),
    ):
        pass
