from urllib.parse import quote

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pgpverify.urls import (
    Credentials,
    downgrade_problem,
    origin,
    redact_url,
    split_credentials,
    url_problem,
    userinfo_problem,
    with_credentials,
    without_credentials,
)


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        # pip's redact_auth_from_url, case for case
        ("https://user:pass@example.com/simple/", "https://user:****@example.com/simple/"),
        ("https://token@example.com/simple/", "https://****@example.com/simple/"),
        ("https://user:@example.com/", "https://user:****@example.com/"),
        ("https://example.com/simple/", "https://example.com/simple/"),
        (
            "https://user:p%40ss@example.com:8443/x?y=1#z",
            "https://user:****@example.com:8443/x?y=1#z",
        ),
        ("https://user:p@ss@example.com/", "https://user:****@example.com/"),
        ("https://u:secret@[::1/", "https://****@[::1/"),  # does not parse: still redacted
        ("not a url", "not a url"),
    ],
)
def test_redact_url_as_pip_does(url, redacted):
    assert redact_url(url) == redacted


@pytest.mark.parametrize(
    ("url", "plain", "credentials"),
    [
        (
            "https://alice:s3cret@host/simple/",
            "https://host/simple/",
            Credentials("alice", "s3cret"),
        ),
        ("https://t0ken@host:8443/", "https://host:8443/", Credentials("t0ken")),
        (
            "https://a%40b:p%3Aw%2F@[2001:db8::1]/",
            "https://[2001:db8::1]/",
            Credentials("a@b", "p:w/"),
        ),
        ("https://host/simple/", "https://host/simple/", None),
        ("https://@host/", "https://host/", None),
        ("https://u:x@[::1/", "https://u:x@[::1/", None),  # does not parse: the check reports it
    ],
)
def test_split_credentials(url, plain, credentials):
    assert split_credentials(url) == (plain, credentials)


def test_credentials_never_show_their_password():
    assert "s3cret" not in repr(Credentials("alice", "s3cret"))
    assert Credentials("alice", "s3cret").as_auth() == ("alice", "s3cret")
    assert Credentials("t0ken").as_auth() == ("t0ken", "")
    assert set(Credentials("alice", "s 3").secrets()) == {"s 3", "s%203"}
    assert Credentials("t0ken").secrets() == ("t0ken",)


def test_with_credentials_round_trips():
    credentials = Credentials("a@b", "p:w/%")
    url = with_credentials("https://host/simple/", credentials)
    assert url == f"https://a%40b:{quote('p:w/%', safe='')}@host/simple/"
    assert split_credentials(url) == ("https://host/simple/", credentials)
    assert with_credentials("https://host/", None) == "https://host/"
    assert without_credentials("https://x:y@host/") == "https://host/"


@pytest.mark.parametrize(
    ("url", "where"),
    [
        ("https://Host.Example./a", ("https", "host.example", 443)),
        ("HTTP://host:8080/", ("http", "host", 8080)),
        ("https://u:p@[::1]:8443/", ("https", "::1", 8443)),
        ("https:///nohost", None),
        ("https://host:99999/", None),
    ],
)
def test_origin(url, where):
    assert origin(url) == where


def test_origin_tells_hosts_ports_and_schemes_apart():
    base = origin("https://index.test/simple/")
    assert origin("https://index.test:443/pgp/") == base
    assert origin("https://index.test:8443/") != base
    assert origin("http://index.test/") != base
    assert origin("https://index.test.evil/") != base
    assert origin("https://evil@index.test/") == base  # userinfo is not part of the origin


@pytest.mark.parametrize(
    "url",
    [
        "https://host/",
        "http://127.0.0.1:8080/simple/",
        "https://[::1]/",
        "HTTPS://HOST",
    ],
)
def test_url_problem_accepts_http_urls_with_a_host(url):
    assert url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("file:///srv/simple/", "unsupported URL scheme 'file'"),
        ("ftp://host/", "unsupported URL scheme 'ftp'"),
        ("javascript:alert(1)", "unsupported URL scheme 'javascript'"),
        ("simple/", "no scheme"),
        ("https:///simple/", "no host"),
        ("https://:443/", "no host"),
        ("https://./", "no host"),
        ("https://host:99999/", "invalid URL"),
        ("https://[::1/", "invalid URL"),
    ],
)
def test_url_problem_rejects_unusable_urls(url, problem):
    found = url_problem(url)
    assert found is not None
    assert problem in found


@pytest.mark.parametrize(
    ("url", "context", "refused"),
    [
        ("http://127.0.0.1/x", "https://index.test/simple/x/", True),
        ("http://localhost/x", "HTTPS://index.test/", True),
        ("https://files.test/x", "https://index.test/", False),
        ("http://127.0.0.1/x", "http://127.0.0.1/simple/", False),
        ("https://files.test/x", "http://127.0.0.1/", False),
    ],
)
def test_downgrade_problem(url, context, refused):
    assert (downgrade_problem(url, context=context, allow_insecure=False) is not None) == refused
    assert downgrade_problem(url, context=context, allow_insecure=True) is None


_userinfo_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=6, max_size=20
)


@settings(max_examples=200, deadline=None)
@given(
    user=_userinfo_text,
    password=_userinfo_text,
    host=st.sampled_from(["host", "127.0.0.1", "[::1]", "h.example:8443"]),
    path=st.sampled_from(["", "/", "/simple/", "/a/b?c=d#e"]),
)
def test_redaction_never_leaks_the_password(user, password, host, path):
    secret = quote(password, safe="")
    # everything a shown URL may hold besides the secret: scheme, user, mask, host, path
    # (a password such as "https:" or "*" is in there by construction, not by a leak)
    visible = f"https://{quote(user, safe='')}:****@{host}{path} {user}"
    assume(secret not in visible and password not in visible)
    url = f"https://{quote(user, safe='')}:{secret}@{host}{path}"
    plain, credentials = split_credentials(url)
    assert credentials == Credentials(user, password)
    for shown in (redact_url(url), plain, without_credentials(url)):
        assert secret not in shown
        assert password not in shown
    assert with_credentials(plain, credentials) == url


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        # a secret with a raw '/': parsers see host "user" (or "se") and a path holding the rest
        ("https://user:se/cret@host/simple/", "https://****@host/simple/"),
        ("https://se/cret@host/simple/?q=1", "https://****@host/simple/?q=1"),
        ("https://a:b/c/d@e@host:8443/x#f", "https://****@host:8443/x#f"),
    ],
)
def test_redact_url_hides_a_secret_that_holds_a_raw_slash(url, redacted):
    assert redact_url(url) == redacted
    assert userinfo_problem(url) is not None


@pytest.mark.parametrize(
    "url",
    [
        "https://user:se%2Fcret@host/simple/",  # the good twin: percent-encoded
        "https://token@host/simple/",
        "https://host/simple/",
    ],
)
def test_userinfo_problem_accepts_a_well_formed_url(url):
    assert redact_url(url, strict=True) == redact_url(url)
    assert userinfo_problem(url) is None
    assert "cret" not in redact_url(url)


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("https://user:se?cret@host/simple/", "https://****@host/simple/"),
        ("https://user:se#cret@host/simple/", "https://****@host/simple/"),
        ("https://se?c/ret@host/", "https://****@host/"),
    ],
)
def test_strict_redaction_hides_a_secret_that_holds_a_raw_question_mark_or_hash(url, redacted):
    assert redact_url(url, strict=True) == redacted
    assert userinfo_problem(url) is not None


@pytest.mark.parametrize("url", ["https://host/simple/?next=a@b", "https://host/simple/#x@y"])
def test_an_index_url_with_an_at_sign_in_its_query_is_refused_but_a_link_is_shown(url):
    # an index URL has no business with an '@' there: it could end a secret
    assert userinfo_problem(url) is not None
    assert redact_url(url) == url  # any other URL (a link on a page) is shown as it is
