"""pgpverify.index.files: a file matched to its index entry, its signature discovered."""

from __future__ import annotations

import json

import pytest
from fakeindex import INDEX_URL, ROOT, FakeIndex

from pgpverify.errors import NetworkError
from pgpverify.index.client import IndexClient
from pgpverify.index.files import (
    Match,
    ProjectPage,
    SignatureState,
    find_signature,
    is_backsigned,
    match_file,
)
from pgpverify.index.simple import parse_project_page

WHEEL = "demo_pkg-1.0.0-py3-none-any.whl"
SHA = "ab" * 32
PAGE = INDEX_URL + "demo-pkg/"
FILE_URL = ROOT + "packages/" + WHEEL


def _html(attrs: str = "", *, extra: str = "", fragment: str = f"#sha256={SHA}") -> bytes:
    return (f'<a href="../../packages/{WHEEL}{fragment}"{attrs}>{WHEEL}</a>{extra}').encode()


def _client(index: FakeIndex) -> IndexClient:
    return IndexClient(index, index_url=INDEX_URL)


def _page(index: FakeIndex, body: bytes, content_type: str = "text/html") -> ProjectPage:
    index.put(PAGE, body, content_type)
    return ProjectPage.fetch(_client(index), "Demo_Pkg")


def test_simple_page_gives_sha256_and_upload_time():
    doc = {
        "files": [
            {
                "filename": WHEEL,
                "url": FILE_URL,
                "hashes": {"sha256": SHA.upper()},
                "upload-time": "2024-03-01T12:00:00.123456Z",
            }
        ]
    }
    (entry,) = parse_project_page(
        json.dumps(doc).encode(), url=PAGE, content_type="application/vnd.pypi.simple.v1+json"
    )
    assert entry.sha256 == SHA
    assert entry.upload_time == pytest.approx(1_709_294_400.123456)
    (html,) = parse_project_page(_html(), url=PAGE, content_type="text/html")
    assert html.sha256 == SHA
    assert html.upload_time is None


def test_simple_page_ignores_unparseable_upload_time():
    doc = {
        "files": [
            {"filename": WHEEL, "url": FILE_URL, "upload-time": "yesterday"},
            {"filename": WHEEL, "url": FILE_URL, "upload-time": 5},
        ]
    }
    entries = parse_project_page(
        json.dumps(doc).encode(), url=PAGE, content_type="application/json"
    )
    assert [e.upload_time for e in entries] == [None, None]


def test_match_file_by_name_and_sha256():
    page = _page(FakeIndex(), _html())
    assert match_file(page, WHEEL, SHA)[0] is Match.MATCHED
    assert match_file(page, WHEEL, SHA.upper())[0] is Match.MATCHED


def test_match_file_rejects_hash_mismatch():
    page = _page(FakeIndex(), _html())
    assert match_file(page, WHEEL, "cd" * 32)[0] is Match.HASH_MISMATCH


def test_match_file_rejects_file_not_on_index():
    page = _page(FakeIndex(), _html())
    assert match_file(page, "demo_pkg-2.0.0-py3-none-any.whl", SHA) == (Match.NOT_ON_INDEX, None)


def test_match_file_without_index_hash_is_by_name():
    page = _page(FakeIndex(), _html(fragment=""))
    assert match_file(page, WHEEL, SHA)[0] is Match.NO_INDEX_HASH


def test_find_signature_gpg_sig_false_is_unsigned_without_probing():
    index = FakeIndex()
    page = _page(index, _html(' data-gpg-sig="false"'))
    index.put(FILE_URL + ".asc", b"sig")
    found = find_signature(_client(index), page, page.files[0])
    assert found.state is SignatureState.UNSIGNED
    assert FILE_URL + ".asc" not in index.requests


def test_find_signature_gpg_sig_true_missing_is_an_error_not_unsigned():
    index = FakeIndex()
    page = _page(index, _html(' data-gpg-sig="true"'))
    found = find_signature(_client(index), page, page.files[0])
    assert found.state is SignatureState.MISSING


def test_find_signature_gpg_sig_true_found():
    index = FakeIndex()
    page = _page(index, _html(' data-gpg-sig="true"'))
    index.put(FILE_URL + ".asc", b"sig")
    found = find_signature(_client(index), page, page.files[0])
    assert (found.state, found.data) == (SignatureState.SIGNED, b"sig")
    assert found.url == FILE_URL + ".asc"


def test_find_signature_uses_listed_asc_link():
    index = FakeIndex()
    listed = f'<a href="../../sigs/{WHEEL}.asc">{WHEEL}.asc</a>'
    page = _page(index, _html(extra=listed))
    index.put(ROOT + f"sigs/{WHEEL}.asc", b"listed sig")
    found = find_signature(_client(index), page, page.entry(WHEEL))
    assert (found.state, found.data, found.how) == (SignatureState.SIGNED, b"listed sig", "listed")


def test_find_signature_listed_asc_link_missing_is_an_error():
    index = FakeIndex()
    page = _page(index, _html(extra=f'<a href="../../sigs/{WHEEL}.asc">{WHEEL}.asc</a>'))
    index.put(FILE_URL + ".asc", b"probe would find this")
    found = find_signature(_client(index), page, page.entry(WHEEL))
    assert found.state is SignatureState.MISSING


def test_find_signature_probe_404_is_unsigned():
    index = FakeIndex()
    page = _page(index, _html())
    found = find_signature(_client(index), page, page.files[0])
    assert (found.state, found.how) == (SignatureState.UNSIGNED, "probed")
    index.put(FILE_URL + ".asc", b"sig")
    assert find_signature(_client(index), page, page.files[0]).state is SignatureState.SIGNED


def test_find_signature_network_failure_is_raised_not_unsigned():
    index = FakeIndex()
    page = _page(index, _html())
    index.documents[FILE_URL + ".asc"] = NetworkError("connection reset", source=FILE_URL)
    with pytest.raises(NetworkError):
        find_signature(_client(index), page, page.files[0])


def test_is_backsigned():
    assert is_backsigned(100.0, None, 10.0) is None
    assert is_backsigned(110.0, 100.0, 10.0) is False
    assert is_backsigned(110.5, 100.0, 10.0) is True
    assert is_backsigned(50.0, 100.0, 10.0) is False
