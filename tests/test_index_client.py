import json
import re
from urllib.parse import urlsplit

import pytest
from fakeindex import DEMO, INDEX_URL, ROOT, WHEEL, FakeIndex, demo_index, split_keyring

from pgpverify.errors import IndexResponseError, InputError, NetworkError
from pgpverify.index.client import IndexClient, pgp_root_for, project_from_filename
from pgpverify.index.simple import parse_project_page
from pgpverify.urls import without_credentials

ALICE = "DBB45D692413FC66E3CB87089B617AE7AD1F8C84"
BOB = "36FF105B8A4F39B79348ACB434B57E55CBEE8D98"
SECRET = "s3cret-t0ken"


def client(index):
    return IndexClient(index, index_url=INDEX_URL)


@pytest.mark.parametrize(
    ("url", "root"),
    [
        ("https://host/simple/", "https://host/"),
        ("https://host/simple", "https://host/"),
        ("https://host/", "https://host/"),
        ("https://host", "https://host/"),
        ("https://host/a/b/simple/", "https://host/a/b/"),
        ("https://host/pypi/simple/", "https://host/pypi/"),
        ("https://host//simple//", "https://host/"),
        ("http://127.0.0.1:8080/simple/?x=1", "http://127.0.0.1:8080/"),
        ("https://host/simple/?token=x#frag", "https://host/"),
        ("https://host/?x=1#y", "https://host/"),
        ("https://user:tok@host:8443/simple/", "https://user:tok@host:8443/"),
        ("https://[2001:db8::1]:8443/simple/", "https://[2001:db8::1]:8443/"),
        ("https://[::1]/", "https://[::1]/"),
        ("file:///srv/index/simple/", "file:///srv/index/"),
        ("file:///simple", "file:///"),
    ],
)
def test_pgp_root_is_the_parent_of_the_simple_url(url, root):
    assert pgp_root_for(url) == root


def test_keys_url_overrides_the_root():
    c = IndexClient(FakeIndex(), index_url=INDEX_URL, keys_url="https://keys.test/mirror")
    assert c.record_url("Demo_Pkg") == "https://keys.test/mirror/pgp/projects/demo-pkg.json"
    assert c.key_url("ab" * 20) == f"https://keys.test/mirror/pgp/keys/{'AB' * 20}.asc"


@pytest.mark.parametrize(
    ("name", "project"),
    [
        (WHEEL, "demo-pkg"),
        ("Demo.Pkg-2.0-cp311-cp311-manylinux_2_17_x86_64.whl", "demo-pkg"),
        ("demo_pkg-1.0.0.tar.gz", "demo-pkg"),
        ("demo-pkg-1.0.0.zip", "demo-pkg"),
    ],
)
def test_project_from_filename(name, project):
    assert project_from_filename(name)[0] == project


@pytest.mark.parametrize("name", ["README.md", "demo.whl", "x-1.0.exe", ""])
def test_project_from_filename_rejects_other_files(name):
    with pytest.raises(InputError, match="give --project"):
        project_from_filename(name)


def test_ownership_record_found_and_missing():
    c = client(demo_index())
    assert c.ownership("Demo.Pkg").signer(ALICE).user == "alice"
    assert c.ownership("other") is None


@pytest.mark.parametrize(
    ("body", "ctype", "message"),
    [
        (b"<html>login</html>", "text/html", "expected a JSON ownership record"),
        (b"<html>login</html>", "application/json", "expected a JSON ownership record"),
        (b"{nope", "application/json", "not valid JSON"),
        (b'{"project": "demo-pkg"}', "application/json", "lacks the field"),
    ],
)
def test_ownership_rejects_unusable_answers(body, ctype, message):
    index = demo_index()
    index.put(ROOT + "pgp/projects/demo-pkg.json", body, ctype)
    with pytest.raises(IndexResponseError, match=message) as err:
        client(index).ownership("demo-pkg")
    assert err.value.source == ROOT + "pgp/projects/demo-pkg.json"


def test_key_file_is_checked_against_its_name():
    index = demo_index()
    keys = split_keyring(DEMO / "keyring.asc")
    assert client(index).key(ALICE) == keys[ALICE]
    index.put(ROOT + f"pgp/keys/{ALICE}.asc", keys[BOB])
    with pytest.raises(IndexResponseError, match=f"holds {BOB}: refusing it"):
        client(index).key(ALICE)


def test_key_file_with_two_certificates_is_refused():
    index = demo_index()
    keys = split_keyring(DEMO / "keyring.asc")
    index.put(ROOT + f"pgp/keys/{ALICE}.asc", keys[ALICE] + keys[BOB])
    with pytest.raises(IndexResponseError, match="refusing it"):
        client(index).key(ALICE)


def test_key_file_that_is_not_openpgp_is_refused():
    index = demo_index()
    index.put(ROOT + f"pgp/keys/{ALICE}.asc", b"<html>not found</html>", "text/html")
    with pytest.raises(IndexResponseError, match="no usable certificate"):
        client(index).key(ALICE)


def test_project_keys_reports_missing_key_files():
    index = demo_index()
    del index.documents[ROOT + f"pgp/keys/{BOB}.asc"]
    published = client(index).project_keys("demo-pkg")
    assert published.missing == (BOB,)
    assert ALICE in published.fingerprints
    assert len(published.keyring) == 2


def test_network_failure_is_not_not_found():
    index = demo_index()
    index.documents[ROOT + "pgp/projects/demo-pkg.json"] = NetworkError("timed out", source="x")
    with pytest.raises(NetworkError):
        client(index).project_keys("demo-pkg")


@pytest.mark.parametrize("page", ["html", "json"])
def test_signature_found_through_the_project_page(page):
    url, data = client(demo_index(page=page)).signature_for("demo-pkg", WHEEL)
    assert url == ROOT + f"packages/{WHEEL}.asc"
    assert data == (DEMO / f"{WHEEL}.asc").read_bytes()


@pytest.mark.parametrize("page", ["html", "json"])
def test_signature_not_listed_when_the_index_says_unsigned(page):
    unsigned = client(demo_index(signature=False, page=page))
    assert unsigned.signature_for("demo-pkg", WHEEL) is None


def test_signature_for_a_file_not_on_the_page():
    assert client(demo_index()).signature_for("demo-pkg", "demo_pkg-9.9.tar.gz") is None


def test_project_page_html_relative_urls_base_and_fragments():
    html = (
        b'<!DOCTYPE html><html><head><base href="https://files.test/x/"></head><body>'
        b'<a href="a-1.0.tar.gz#sha256=ab" data-gpg-sig="true">a-1.0.tar.gz</a>'
        b'<a href="/abs/a-1.1.tar.gz">a-1.1.tar.gz</a></body></html>'
    )
    files = parse_project_page(html, url="https://index.test/simple/a/", content_type="text/html")
    assert [(f.filename, f.url, f.gpg_sig) for f in files] == [
        ("a-1.0.tar.gz", "https://files.test/x/a-1.0.tar.gz", True),
        ("a-1.1.tar.gz", "https://files.test/abs/a-1.1.tar.gz", None),
    ]
    assert files[0].signature_url == "https://files.test/x/a-1.0.tar.gz.asc"


@pytest.mark.parametrize(
    ("body", "ctype", "message"),
    [
        (b"{}", "application/vnd.pypi.simple.v1+json", "no 'files' list"),
        (b"[", "application/vnd.pypi.simple.v1+json", "not valid JSON"),
        (b'{"files": [1]}', "application/vnd.pypi.simple.v1+json", "not an object"),
        (b'{"files": [{"url": "x"}]}', "application/vnd.pypi.simple.v1+json", "lacks"),
        (b"\xff\xfe<a>", "text/html", "not UTF-8"),
        (b"%PDF", "application/pdf", "unexpected content type"),
    ],
)
def test_project_page_rejects_unusable_pages(body, ctype, message):
    with pytest.raises(IndexResponseError, match=message):
        parse_project_page(body, url="https://index.test/simple/a/", content_type=ctype)


def test_project_page_of_hostile_html_never_raises_anything_else():
    hostile = (b"<a href='", b"<a>" * 1000, b"<![CDATA[", b"<a href=x data-gpg-sig>", b"</a>")
    for body in hostile:
        parse_project_page(body, url="https://index.test/simple/a/", content_type="text/html")


def test_record_url_uses_the_normalized_name():
    index = demo_index()
    client(index).ownership("DEMO__pkg")
    assert index.requests[-1] == ROOT + "pgp/projects/demo-pkg.json"
    assert json.loads(index.documents[ROOT + "pgp/projects/demo-pkg.json"][1])["project"]


def test_ownership_record_for_another_project_is_refused():
    index = demo_index()
    body = index.documents[ROOT + "pgp/projects/demo-pkg.json"][1]
    index.put(ROOT + "pgp/projects/other-project.json", body, "application/json")
    with pytest.raises(IndexResponseError, match="is for project 'demo-pkg', not 'other-project'"):
        client(index).ownership("other-project")
    assert client(index).ownership("Demo.Pkg") is not None


def test_project_page_json_with_an_invalid_url():
    body = b'{"files": [{"filename": "a.whl", "url": "http://[::1"}]}'
    with pytest.raises(IndexResponseError, match="bad file URL"):
        parse_project_page(
            body,
            url="https://index.test/simple/a/",
            content_type="application/vnd.pypi.simple.v1+json",
        )


# -- URLs: the pgp/ root, the policy on every URL followed, credentials ----------------------


@pytest.mark.parametrize(
    "index_url", ["https://index.test/", "https://index.test", "https://index.test/simple/"]
)
def test_index_at_the_host_root_has_its_pgp_tree_beside_it(index_url):
    index = demo_index()
    c = IndexClient(index, index_url=index_url)
    assert c.record_url("demo-pkg") == ROOT + "pgp/projects/demo-pkg.json"
    assert c.project_keys("demo-pkg").record is not None
    assert {urlsplit(u).hostname for u in index.requests} == {"index.test"}


def test_page_url_keeps_the_query_and_drops_the_fragment():
    c = IndexClient(FakeIndex(), index_url="https://index.test/simple?x=1#f")
    assert c.page_url("Demo_Pkg") == "https://index.test/simple/demo-pkg/?x=1"


@pytest.mark.parametrize(
    "url",
    [
        "file:///srv/index/simple/",
        "https:///simple/",
        "simple/",
        "ftp://index.test/simple/",
        "https://[::1/simple/",
        "https://index.test:99999/simple/",
        f"https://u:{SECRET}@/simple/",
        "javascript:alert(1)",
    ],
)
def test_index_client_rejects_unusable_index_urls(url):
    index = FakeIndex()
    with pytest.raises(InputError, match="unusable index URL") as caught:
        IndexClient(index, index_url=url)
    assert SECRET not in str(caught.value)
    with pytest.raises(InputError, match="unusable keys URL"):
        IndexClient(index, index_url=INDEX_URL, keys_url=url)
    assert index.requests == []


def signed_page(href):
    index = demo_index()
    html = f'<html><body><a href="{href}" data-gpg-sig="true">{WHEEL}</a></body></html>'
    index.put(INDEX_URL + "demo-pkg/", html.encode(), "text/html")
    return index


@pytest.mark.parametrize(
    "href",
    [
        f"http://127.0.0.1/packages/{WHEEL}",
        f"http://[::1]:8080/{WHEEL}",
        f"http://index.test/packages/{WHEEL}",
        f"HTTP://localhost/{WHEEL}",
    ],
)
def test_signature_link_rejects_plain_http_from_an_https_page(href):
    index = signed_page(href)
    with pytest.raises(IndexResponseError, match="refusing a plain-HTTP link"):
        client(index).signature_for("demo-pkg", WHEEL)
    assert not [u for u in index.requests if u.startswith("http:")]


def test_signature_link_to_plain_http_with_allow_insecure():
    index = signed_page(f"http://127.0.0.1/packages/{WHEEL}")
    index.put(f"http://127.0.0.1/packages/{WHEEL}.asc", b"sig", "text/plain")
    c = IndexClient(index, index_url=INDEX_URL, allow_insecure=True)
    assert c.signature_for("demo-pkg", WHEEL) == (f"http://127.0.0.1/packages/{WHEEL}.asc", b"sig")


@pytest.mark.parametrize(
    "href",
    [
        "file:///etc/passwd",
        "ftp://index.test/x.whl",
        "javascript:alert(1)",
        "https://:443/x.whl",
        "data:text/plain,x",
    ],
)
def test_signature_link_rejects_other_schemes_and_hostless_links(href):
    index = demo_index(page="json")
    doc = {"files": [{"filename": WHEEL, "url": href, "gpg-sig": True}]}
    index.put(
        INDEX_URL + "demo-pkg/", json.dumps(doc).encode(), "application/vnd.pypi.simple.v1+json"
    )
    with pytest.raises(IndexResponseError, match=re.escape(f"on {INDEX_URL}demo-pkg/")):
        client(index).signature_for("demo-pkg", WHEEL)
    assert index.requests == [INDEX_URL + "demo-pkg/"]


def test_signature_link_resolves_against_the_page_url():
    index = signed_page(f"../../packages/{WHEEL}")
    url, _ = client(index).signature_for("demo-pkg", WHEEL)
    assert url == ROOT + f"packages/{WHEEL}.asc"


class AuthIndex(FakeIndex):
    """The demo index; requests keep the URL as sent (credentials and all)."""

    def get(self, url, **kwargs):
        response = super().get(without_credentials(url), **kwargs)
        self.requests[-1] = url
        return response


def authed_index():
    index = AuthIndex(documents=demo_index().documents)
    # the files live on another host; the page also names a user of its own choosing
    html = (
        f'<a href="https://files.test/packages/{WHEEL}" data-gpg-sig="true">{WHEEL}</a>'
        f'<a href="https://mallory:stolen@index.test/packages/x-1.0.tar.gz">x-1.0.tar.gz</a>'
    )
    index.put(INDEX_URL + "demo-pkg/", html.encode(), "text/html")
    index.put(f"https://files.test/packages/{WHEEL}.asc", b"sig", "text/plain")
    index.put(ROOT + "packages/x-1.0.tar.gz.asc", b"sig2", "text/plain")
    return index


def test_credentials_go_to_their_origin_only():
    index = authed_index()
    c = IndexClient(index, index_url=f"https://alice:{SECRET}@index.test/simple/")
    published = c.project_keys("demo-pkg")
    found = c.signature_for("demo-pkg", WHEEL)
    other = c.signature_for("demo-pkg", "x-1.0.tar.gz")
    assert published.record is not None
    assert found == (f"https://files.test/packages/{WHEEL}.asc", b"sig")
    assert other == (ROOT + "packages/x-1.0.tar.gz.asc", b"sig2")
    authed = f"https://alice:{SECRET}@index.test/"
    for url in index.requests:
        assert url.startswith(authed) == (urlsplit(url).hostname == "index.test"), url
    assert "mallory" not in " ".join(index.requests)
    named = [
        c.index_url,
        c.pgp_root,
        c.page_url("demo-pkg"),
        c.record_url("demo-pkg"),
        c.key_url(ALICE),
        found[0],
        other[0],
        *(f.url for f in c.project_files("demo-pkg")),
    ]
    assert [u for u in named if SECRET in u or "alice" in u] == []


def test_keys_url_credentials_go_to_the_keys_origin_only():
    index = AuthIndex(documents=demo_index().documents)
    for url, doc in list(index.documents.items()):
        if "/pgp/" in url:
            index.documents[url.replace(ROOT, "https://keys.test/m/")] = doc
    c = IndexClient(
        index,
        index_url=f"https://alice:{SECRET}@index.test/simple/",
        keys_url="https://bob:k3ys@keys.test/m",
    )
    assert c.project_keys("demo-pkg").record is not None
    assert index.requests
    assert all(u.startswith("https://bob:k3ys@keys.test/m/pgp/") for u in index.requests)


def test_errors_name_urls_without_credentials():
    index = authed_index()
    index.put(ROOT + "pgp/projects/demo-pkg.json", b"<html>", "text/html")
    c = IndexClient(index, index_url=f"https://{SECRET}@index.test/simple/")
    with pytest.raises(IndexResponseError) as caught:
        c.ownership("demo-pkg")
    assert SECRET not in str(caught.value)
    assert caught.value.source == ROOT + "pgp/projects/demo-pkg.json"


def test_project_keys_rejects_a_record_listing_more_keys_than_the_limit():
    import dataclasses

    from pgpverify.limits import Limits

    index = demo_index()
    record = json.loads(index.documents[ROOT + "pgp/projects/demo-pkg.json"][1])
    listed = len(
        {
            k if isinstance(k, str) else k["fingerprint"]
            for m in record["maintainers"]
            for k in m["keys"]
        }
    )
    exact = dataclasses.replace(Limits(), record_keys=listed)
    assert IndexClient(index, index_url=INDEX_URL, limits=exact).project_keys("demo-pkg").record
    record["maintainers"].append(
        {"user": "m", "role": "Owner", "keys": [f"{i:040X}" for i in range(300)]}
    )
    index.put(ROOT + "pgp/projects/demo-pkg.json", json.dumps(record).encode(), "application/json")
    index.requests.clear()
    with pytest.raises(IndexResponseError, match=r"lists 303 keys, more than Limits.record_keys"):
        client(index).project_keys("demo-pkg")
    assert not [u for u in index.requests if "/pgp/keys/" in u]  # refused before any fetch


def test_project_keys_fetches_each_listed_key_once():
    index = demo_index()
    record = json.loads(index.documents[ROOT + "pgp/projects/demo-pkg.json"][1])
    record["maintainers"].append({"user": "m", "role": "Owner", "keys": [ALICE, "1" * 40] * 3})
    index.put(ROOT + "pgp/projects/demo-pkg.json", json.dumps(record).encode(), "application/json")
    published = client(index).project_keys("demo-pkg")
    assert published.missing == ("1" * 40,)
    keys = [u for u in index.requests if "/pgp/keys/" in u]
    assert len(keys) == len(set(keys)) == 4


def test_simple_page_over_its_limit_is_refused():
    from pgpverify.limits import Limits

    index = demo_index()
    assert IndexClient(index, index_url=INDEX_URL).signature_for("demo-pkg", WHEEL) is not None
    small = IndexClient(index, index_url=INDEX_URL, limits=Limits(page_bytes=10))
    with pytest.raises(NetworkError, match="larger than 10 bytes"):
        small.signature_for("demo-pkg", WHEEL)


@pytest.mark.parametrize(
    "url",
    [
        "https://user:s3c/ret@index.test/simple/",
        "https://s3c/ret@index.test/simple/",
        "https://user:s3c?ret@index.test/simple/",
        "https://user:s3c#ret@index.test/simple/",
    ],
)
def test_client_rejects_an_index_url_whose_secret_holds_a_raw_slash(url):
    index = demo_index()
    good = (
        url.replace("s3c/ret", "s3c%2Fret")
        .replace("s3c?ret", "s3c%3Fret")
        .replace("s3c#ret", "s3c%23ret")
    )  # the good twin: percent-encoded
    assert IndexClient(index, index_url=good).index_url == INDEX_URL
    with pytest.raises(InputError, match="must be percent-encoded") as err:
        IndexClient(index, index_url=url)
    assert "s3c" not in str(err.value) + (err.value.source or "")
    with pytest.raises(InputError):
        IndexClient(index, index_url=INDEX_URL, keys_url=url.replace("/simple/", "/"))
    assert index.requests == []


@pytest.mark.parametrize(
    "hashes",
    [
        '{"sha256": 5}',
        '{"sha256": ["ab"]}',
        '["sha256", "ab"]',
        '"ab"',
    ],
)
def test_simple_json_rejects_a_malformed_sha256(hashes):
    # a broken hash is a broken page, never "the index gives no hash" (which would skip
    # the hash check for that file)
    from pgpverify.errors import IndexResponseError

    body = f'{{"files": [{{"filename": "a.whl", "url": "a.whl", "hashes": {hashes}}}]}}'
    with pytest.raises(IndexResponseError, match=r"sha256|hashes"):
        parse_project_page(
            body.encode(),
            url="https://h/simple/p/",
            content_type="application/vnd.pypi.simple.v1+json",
        )


@pytest.mark.parametrize(
    ("hashes", "expected"),
    [('{"sha256": " AB "}', "ab"), ('{"md5": "x"}', None), ("{}", None), ("null", None)],
)
def test_simple_json_reads_a_sha256_or_none(hashes, expected):
    body = f'{{"files": [{{"filename": "a.whl", "url": "a.whl", "hashes": {hashes}}}]}}'
    [entry] = parse_project_page(
        body.encode(), url="https://h/simple/p/", content_type="application/vnd.pypi.simple.v1+json"
    )
    assert entry.sha256 == expected
