"""HttpFetcher against real misbehaving servers on 127.0.0.1 (tests/faultserver.py).

Backoff sleeps are recorded, not slept; timeouts are fractions of a second. Every server,
proxy and fetcher is closed at teardown and no test may leave a thread behind.
"""

from __future__ import annotations

import base64
import datetime as dt
import gc
import ipaddress
import json
import socket
import ssl
import threading
import time
import tracemalloc

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from faultserver import ETAG, HTML, LAST_MODIFIED, FaultServer, closed_port

from pgpverify import __version__
from pgpverify.errors import NetworkError, ResponseTooLargeError
from pgpverify.index.fetch import Fetcher, Response
from pgpverify.index.http import HttpConfig, HttpFetcher, max_age

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def _no_threads_left_and_clean_environment(monkeypatch):
    for name in (*PROXY_VARIABLES, "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    before = set(threading.enumerate())
    yield
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    for thread in left:
        thread.join(5)
    assert [t for t in left if t.is_alive()] == []
    gc.collect()  # an unclosed socket or response warns now, inside this test


@pytest.fixture
def server():
    with FaultServer() as running:
        yield running


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def make_fetcher(sleeps):
    made = []

    def make(**overrides):
        settings = {
            "connect_timeout": 2.0,
            "read_timeout": 2.0,
            "retries": 3,
            "backoff": 0.01,
            "sleep": sleeps.append,
        }
        settings.update(overrides)
        fetcher = HttpFetcher(HttpConfig(**settings))
        made.append(fetcher)
        return fetcher

    yield make
    for fetcher in made:
        fetcher.close()


@pytest.fixture
def fetcher(make_fetcher):
    return make_fetcher()


def fails(fetcher, url, **kwargs):
    kwargs.setdefault("max_bytes", 1 << 20)
    with pytest.raises(NetworkError) as caught:
        fetcher.get(url, **kwargs)
    err = caught.value
    assert err.source == url
    assert "\n" not in str(err)
    assert str(err).startswith(url + ": ")
    assert err.__cause__ is None
    return err.message


# -- the happy path and the Fetcher contract ----------------------------------------------


def test_http_fetcher_is_a_fetcher(fetcher):
    typed: Fetcher = fetcher
    assert typed is fetcher


def test_http_config_defaults():
    config = HttpConfig()
    assert (config.connect_timeout, config.read_timeout, config.retries) == (5.0, 30.0, 3)
    assert config.backoff == 0.5
    assert config.allow_insecure is False
    assert config.ca_bundle is None
    assert config.client_cert is None
    assert config.user_agent == f"pgpverify/{__version__}"
    assert [config.delay(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0]


@pytest.mark.parametrize("bad", [{"retries": -1}, {"read_timeout": 0}, {"backoff": -1}])
def test_http_config_rejects_impossible_settings(bad):
    with pytest.raises(ValueError):
        HttpConfig(**bad)


def test_http_get_ok_returns_body_and_validators(server, fetcher):
    response = fetcher.get(server.url + "/ok", max_bytes=100)
    assert response == Response(
        url=server.url + "/ok",
        status=200,
        body=b"hello",
        content_type="text/plain",
        etag=ETAG,
        last_modified=LAST_MODIFIED,
    )
    assert response.found


def test_http_sends_accept_and_user_agent(server, fetcher):
    response = fetcher.get(
        server.url + "/echo", max_bytes=10_000, accept="application/vnd.pypi.simple.v1+json"
    )
    sent = json.loads(response.body)
    assert sent["Accept"] == "application/vnd.pypi.simple.v1+json"
    assert sent["User-Agent"] == f"pgpverify/{__version__}"
    assert "If-None-Match" not in sent
    assert "If-Modified-Since" not in sent


def test_http_body_of_exactly_the_cap_is_accepted(server, fetcher):
    for mode in ("length", "chunked", "close"):
        response = fetcher.get(server.url + f"/big?size=5000&mode={mode}", max_bytes=5000)
        assert response.body == b"x" * 5000


def test_http_one_session_for_many_requests(server, fetcher):
    for _ in range(3):
        assert fetcher.get(server.url + "/ok", max_bytes=100).status == 200
    assert server.count("/ok") == 3


def test_http_fetcher_context_manager_closes(server):
    with HttpFetcher(HttpConfig(retries=0)) as fetcher:
        assert fetcher.get(server.url + "/ok", max_bytes=100).body == b"hello"


# -- answers that are not failures ----------------------------------------------------------


@pytest.mark.parametrize("code", [404, 410])
def test_http_not_found_is_a_response(server, fetcher, code, sleeps):
    url = server.url + f"/status?code={code}"
    response = fetcher.get(url, max_bytes=100)
    assert response == Response(url=url, status=code)
    assert not response.found
    assert server.count(f"/status?code={code}") == 1
    assert sleeps == []


def test_http_conditional_etag_gives_304(server, fetcher):
    url = server.url + "/conditional"
    first = fetcher.get(url, max_bytes=100)
    assert (first.status, first.body, first.etag) == (200, b"fresh", ETAG)
    again = fetcher.get(url, max_bytes=100, etag=first.etag)
    assert (again.status, again.body) == (304, b"")
    assert again.found
    sent = server.headers[-1][1]
    assert sent["If-None-Match"] == ETAG


def test_http_conditional_last_modified_gives_304(server, fetcher):
    url = server.url + "/conditional"
    again = fetcher.get(url, max_bytes=100, last_modified=LAST_MODIFIED)
    assert (again.status, again.body) == (304, b"")
    assert server.headers[-1][1]["If-Modified-Since"] == LAST_MODIFIED


def test_http_stale_validator_gets_the_new_body(server, fetcher):
    response = fetcher.get(server.url + "/conditional", max_bytes=100, etag='"old"')
    assert (response.status, response.body) == (200, b"fresh")


def test_http_html_where_json_expected_is_passed_through(server, fetcher):
    # the JSON check is the caller's job: the fetcher reports what the server said it sent
    response = fetcher.get(
        server.url + "/html", max_bytes=10_000, accept="application/vnd.pypi.simple.v1+json"
    )
    assert response.status == 200
    assert response.body == HTML
    assert response.content_type == "text/html; charset=utf-8"


def test_http_content_type_is_passed_through(server, fetcher):
    response = fetcher.get(server.url + "/json", max_bytes=10_000)
    assert response.content_type == "application/vnd.pypi.simple.v1+json"
    assert json.loads(response.body)["name"] == "x"


# -- retries ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_http_retries_server_errors_then_succeeds(server, fetcher, sleeps, status):
    path = f"/flaky?fail=2&status={status}"
    response = fetcher.get(server.url + path, max_bytes=100)
    assert response.body == b"recovered"
    assert server.count(path) == 3
    assert sleeps == [0.01, 0.02]


def test_http_rejects_server_error_after_retries(server, fetcher, sleeps):
    path = "/flaky?fail=99&status=500"
    message = fails(fetcher, server.url + path)
    assert message == "HTTP 500 Internal Server Error (after 4 attempts)"
    assert server.count(path) == 4
    assert sleeps == [0.01, 0.02, 0.04]


def test_http_no_retries_when_configured_so(server, make_fetcher, sleeps):
    path = "/flaky?fail=1&status=503"
    message = fails(make_fetcher(retries=0), server.url + path)
    assert message == "HTTP 503 Service Unavailable"
    assert server.count(path) == 1
    assert sleeps == []


def test_http_honours_retry_after(server, fetcher, sleeps):
    response = fetcher.get(server.url + "/retry-after?secs=2&fail=1", max_bytes=100)
    assert response.body == b"recovered"
    assert sleeps == [2.0]


def test_http_caps_a_long_retry_after(server, make_fetcher, sleeps):
    fetcher = make_fetcher(backoff_max=3.0)
    path = "/retry-after?secs=3600&fail=1&status=429"
    assert fetcher.get(server.url + path, max_bytes=100).body == b"recovered"
    assert sleeps == [3.0]


def test_http_ignores_a_date_retry_after(server, fetcher, sleeps):
    path = "/retry-after?secs=Wed,%2021%20Oct%202015%2007:28:00%20GMT&fail=1"
    assert fetcher.get(server.url + path, max_bytes=100).body == b"recovered"
    assert sleeps == [0.01]


@pytest.mark.parametrize("code", [400, 401, 403, 405, 418, 451, 501])
def test_http_rejects_other_statuses_without_retry(server, fetcher, sleeps, code):
    message = fails(fetcher, server.url + f"/status?code={code}")
    assert message.startswith(f"HTTP {code} ")
    assert server.count(f"/status?code={code}") == 1
    assert sleeps == []


def test_http_retries_a_connection_dropped_mid_body(server, fetcher, sleeps):
    path = "/drop?times=2"
    response = fetcher.get(server.url + path, max_bytes=5000)
    assert response.body == b"x" * 1000
    assert server.count(path) == 3
    assert len(sleeps) == 2


def test_http_rejects_a_connection_always_dropped_mid_body(server, fetcher):
    path = "/drop?times=99"
    message = fails(fetcher, server.url + path)
    assert message == "connection closed before the end of the body (after 4 attempts)"
    assert server.count(path) == 4


def test_http_rejects_connection_refused(make_fetcher, sleeps):
    url = f"http://127.0.0.1:{closed_port()}/simple/"
    message = fails(make_fetcher(retries=2), url)
    assert message == "connection refused (after 3 attempts)"
    assert sleeps == [0.01, 0.02]


def test_http_rejects_connection_refused_under_a_budget_below_the_connect_timeout(
    make_fetcher, sleeps
):
    # found by the CLI fuzzer (--timeout 1): urllib3's NewConnectionError is a
    # ConnectTimeoutError, so a refused connection read as the budget spent: "timeout",
    # and never retried
    url = f"http://127.0.0.1:{closed_port()}/simple/"
    message = fails(make_fetcher(retries=2, total_timeout=1.0), url)
    assert message == "connection refused (after 3 attempts)"
    assert sleeps == [0.01, 0.02]


# -- size caps ---------------------------------------------------------------------------------


def test_http_rejects_content_length_over_the_cap_early(server, fetcher, sleeps):
    message = fails(fetcher, server.url + "/big?size=5001&mode=length", max_bytes=5000)
    assert message == "response larger than 5000 bytes (Content-Length: 5001)"
    assert sleeps == []


@pytest.mark.parametrize("mode", ["chunked", "close"])
def test_http_rejects_unannounced_body_over_the_cap(server, fetcher, sleeps, mode):
    path = f"/big?size=200000&mode={mode}"
    message = fails(fetcher, server.url + path, max_bytes=5000)
    assert message == "response larger than 5000 bytes"
    assert server.count(path) == 1
    assert sleeps == []


def test_http_counts_bytes_not_the_announced_length(server, fetcher):
    # urllib3 stops at Content-Length: the extra bytes are never read as body
    response = fetcher.get(server.url + "/lying-length?size=100000", max_bytes=10)
    assert response.body == b"xxxxx"


def test_http_counts_decompressed_bytes(server, fetcher):
    assert fetcher.get(server.url + "/gzip?size=5000", max_bytes=5000).body == b"x" * 5000


def test_http_rejects_a_gzip_bomb(server, fetcher):
    # 10 MB of "x" is about 10 kB compressed: the cap is on what comes out
    path = "/gzip?size=10000000"
    message = fails(fetcher, server.url + path, max_bytes=100_000)
    assert message == "response larger than 100000 bytes"
    assert server.count(path) == 1


def test_http_rejects_a_body_that_does_not_decode(server, fetcher, sleeps):
    message = fails(fetcher, server.url + "/bad-gzip")
    assert message == (
        "cannot decode the compressed body: "
        "Error -3 while decompressing data: incorrect header check"
    )
    assert sleeps == []


# -- timeouts --------------------------------------------------------------------------------


def test_http_rejects_a_stalled_response(server, make_fetcher, sleeps):
    fetcher = make_fetcher(read_timeout=0.3, retries=1)
    path = "/stall?secs=3"
    message = fails(fetcher, server.url + path)
    assert message == "timeout after 0.3 s waiting for data (after 2 attempts)"
    assert server.count(path) == 2


def test_http_rejects_a_body_that_stalls(server, make_fetcher):
    fetcher = make_fetcher(read_timeout=0.3, retries=0)
    message = fails(fetcher, server.url + "/stall-body?secs=3")
    assert message == "timeout after 0.3 s waiting for data"


def test_http_rejects_a_server_that_never_accepts(make_fetcher):
    # a listener nobody accepts on: Linux completes the handshake from the backlog (then
    # the read times out); elsewhere the SYN may go unanswered (a connect timeout)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fetcher = make_fetcher(connect_timeout=0.2, read_timeout=0.2, retries=0)
        message = fails(fetcher, f"http://127.0.0.1:{port}/")
    assert message.startswith("timeout after 0.2 s")


# -- redirects and the plain-HTTP policy ------------------------------------------------------


def test_http_follows_redirects(server, fetcher):
    response = fetcher.get(server.url + "/chain?n=5", max_bytes=100)
    assert response.body == b"end of chain"
    assert response.url == server.url + "/chain?n=0"


def test_http_rejects_too_many_redirects(server, fetcher):
    message = fails(fetcher, server.url + "/chain?n=6")
    assert message == "too many redirects (more than 5)"
    assert server.count("/chain?n=0") == 0


def test_http_rejects_a_redirect_loop(server, fetcher, sleeps):
    message = fails(fetcher, server.url + "/loop")
    assert message == "too many redirects (more than 5)"
    assert server.count("/loop") == 6
    assert sleeps == []


def test_http_refuses_redirect_to_plain_http_elsewhere(server, fetcher, monkeypatch):
    connections = record_connections(monkeypatch)
    url = server.url + "/redirect?to=http://example.invalid/simple/"
    message = fails(fetcher, url)
    assert message == (
        "redirected to http://example.invalid/simple/: refusing plain HTTP to "
        "example.invalid; use HTTPS or --allow-insecure"
    )
    assert all(host in ("127.0.0.1", "localhost") for host in connections)


def test_http_keeps_the_status_of_the_redirect_target(server, fetcher):
    target = server.url + "/status?code=404"
    response = fetcher.get(server.url + f"/redirect?to={target}&code=301", max_bytes=100)
    assert response.status == 404


def test_http_rejects_a_redirect_without_location(server, fetcher):
    message = fails(fetcher, server.url + "/status?code=302")
    assert message == "HTTP 302 Found without a Location header"


def record_connections(monkeypatch):
    """Record every host name resolved and every socket connected."""
    seen = []
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def getaddrinfo(host, *args, **kwargs):
        seen.append(host)
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(sock, address):
        seen.append(address[0])
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


@pytest.mark.parametrize(
    "url",
    [
        "http://example.invalid/simple/",
        "http://pypi.org/simple/",
        "http://10.0.0.1/simple/",
        "http://[::ffff:7f00:1]/",
        "HTTP://Example.Invalid/x",
    ],
)
def test_http_refuses_plain_http_without_traffic(fetcher, monkeypatch, url):
    connections = record_connections(monkeypatch)
    message = fails(fetcher, url)
    assert message.startswith("refusing plain HTTP to ")
    assert message.endswith("; use HTTPS or --allow-insecure")
    assert connections == []


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/x",
        "file:///etc/passwd",
        "127.0.0.1/simple/",
        "http://[::1/",
        "http://127.0.0.1:99999/",
        "https:///nohost",
    ],
)
def test_http_rejects_bad_urls_without_traffic(fetcher, monkeypatch, url):
    connections = record_connections(monkeypatch)
    message = fails(fetcher, url)
    assert message.startswith(("invalid URL: ", "unsupported URL scheme "))
    assert connections == []


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "[::1]", "localhost"])
def test_http_allows_plain_http_to_loopback(make_fetcher, host):
    # nothing listens there: the policy let the request through to a connection attempt
    url = f"http://{host}:{closed_port()}/"
    message = fails(make_fetcher(retries=0), url)
    assert "refusing" not in message


def test_http_allow_insecure_permits_plain_http(make_fetcher, monkeypatch):
    connections = record_connections(monkeypatch)
    fetcher = make_fetcher(allow_insecure=True, retries=0, connect_timeout=0.5)
    message = fails(fetcher, "http://example.invalid/simple/")
    assert message.startswith("cannot resolve host example.invalid")
    assert "example.invalid" in connections


def test_http_masks_credentials_in_errors(make_fetcher):
    url = f"http://user:s3cret@127.0.0.1:{closed_port()}/simple/"
    with pytest.raises(NetworkError) as caught:
        make_fetcher(retries=0).get(url, max_bytes=100)
    assert "s3cret" not in str(caught.value)
    assert caught.value.source == url.replace("s3cret", "****")


# -- HTTPS with a custom CA -------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A test-only CA and a server certificate for 127.0.0.1 signed by it."""
    directory = tmp_path_factory.mktemp("pki")
    start = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    end = dt.datetime(2099, 1, 1, tzinfo=dt.timezone.utc)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pgpverify test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pgpverify client")]))
        .issuer_name(ca_name)
        .public_key(client_key.public_key())
        .serial_number(3)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (directory / "client.crt").write_bytes(client.public_bytes(pem))
    (directory / "client.key").write_bytes(
        client_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    (directory / "ca.pem").write_bytes(ca.public_bytes(pem))
    (directory / "server.pem").write_bytes(
        cert.public_bytes(pem)
        + key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return directory


@pytest.fixture
def tls_server(pki):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki / "server.pem")
    with FaultServer(ssl_context=context) as running:
        yield running


@pytest.fixture
def mtls_server(pki):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki / "server.pem")
    context.load_verify_locations(pki / "ca.pem")
    context.verify_mode = ssl.CERT_REQUIRED
    with FaultServer(ssl_context=context) as running:
        yield running


def test_https_sends_the_client_certificate(mtls_server, make_fetcher, pki):
    fetcher = make_fetcher(
        ca_bundle=str(pki / "ca.pem"),
        client_cert=(str(pki / "client.crt"), str(pki / "client.key")),
    )
    assert fetcher.get(mtls_server.url + "/ok", max_bytes=100).body == b"hello"


def test_https_without_the_client_certificate_is_an_error(mtls_server, make_fetcher, pki):
    fetcher = make_fetcher(ca_bundle=str(pki / "ca.pem"), retries=0)
    fails(fetcher, mtls_server.url + "/ok")
    assert mtls_server.count("/ok") == 0


def test_https_rejects_an_unknown_ca(tls_server, fetcher, sleeps):
    message = fails(fetcher, tls_server.url + "/ok")
    assert message.startswith("TLS certificate verify failed: ")
    assert "certificate" in message.removeprefix("TLS certificate verify failed: ")
    assert sleeps == []


def test_https_accepts_the_ca_bundle(tls_server, make_fetcher, pki):
    fetcher = make_fetcher(ca_bundle=str(pki / "ca.pem"))
    assert fetcher.get(tls_server.url + "/ok", max_bytes=100).body == b"hello"


def test_https_accepts_requests_ca_bundle_from_the_environment(
    tls_server, fetcher, pki, monkeypatch
):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki / "ca.pem"))
    assert fetcher.get(tls_server.url + "/ok", max_bytes=100).body == b"hello"


def test_https_rejects_a_name_mismatch(tls_server, make_fetcher, pki):
    # the certificate names 127.0.0.1, not localhost
    fetcher = make_fetcher(ca_bundle=str(pki / "ca.pem"))
    url = f"https://localhost:{tls_server.port}/ok"
    message = fails(fetcher, url)
    assert message.startswith("TLS certificate verify failed: ")
    assert "localhost" in message


def test_https_rejects_plain_http_spoken_to_a_tls_port(tls_server, make_fetcher):
    message = fails(make_fetcher(retries=0), f"http://127.0.0.1:{tls_server.port}/ok")
    assert message.startswith("connection ")


def test_https_rejects_a_tls_handshake_with_a_plain_server(server, make_fetcher, sleeps):
    message = fails(make_fetcher(), f"https://127.0.0.1:{server.port}/ok")
    assert message.startswith("TLS error: ")
    assert "_ssl.c" not in message
    assert sleeps == []


def test_https_refuses_a_redirect_down_to_plain_http(tls_server, server, make_fetcher, pki):
    fetcher = make_fetcher(ca_bundle=str(pki / "ca.pem"))
    url = tls_server.url + f"/redirect?to={server.url}/ok"
    message = fails(fetcher, url)
    assert message == (
        f"redirected to {server.url}/ok: refusing a redirect from HTTPS to "
        "plain HTTP; use --allow-insecure"
    )
    assert server.count("/ok") == 0


def test_https_redirect_down_to_plain_http_with_allow_insecure(
    tls_server, server, make_fetcher, pki
):
    fetcher = make_fetcher(ca_bundle=str(pki / "ca.pem"), allow_insecure=True)
    url = tls_server.url + f"/redirect?to={server.url}/ok"
    assert fetcher.get(url, max_bytes=100).body == b"hello"


# -- proxies from the environment --------------------------------------------------------------


@pytest.fixture
def proxy():
    with FaultServer(proxy=True) as running:
        yield running


def clear_no_proxy(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setenv("no_proxy", "")


def test_http_uses_the_proxy_from_the_environment(server, proxy, fetcher, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    clear_no_proxy(monkeypatch)
    response = fetcher.get(server.url + "/ok", max_bytes=100)
    assert response.body == b"hello"
    assert proxy.count(server.url + "/ok") == 1
    assert server.count("/ok") == 1
    assert server.headers[-1][1]["Via"] == "1.1 faultproxy"


def test_http_proxy_resolves_names_we_cannot(proxy, make_fetcher, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    clear_no_proxy(monkeypatch)
    connections = record_connections(monkeypatch)
    fetcher = make_fetcher(allow_insecure=True)
    response = fetcher.get("http://index.test/simple/", max_bytes=1000)
    assert response.body == b"answered by the proxy for http://index.test/simple/"
    assert proxy.count("http://index.test/simple/") == 1
    assert "index.test" not in connections


def test_http_no_proxy_bypasses_the_proxy(server, proxy, fetcher, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert fetcher.get(server.url + "/ok", max_bytes=100).body == b"hello"
    assert proxy.count(server.url + "/ok") == 0


def test_http_proxy_errors_are_network_errors(server, proxy, fetcher, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    clear_no_proxy(monkeypatch)
    message = fails(fetcher, server.url + "/ok")
    assert message.startswith("proxy error: ")
    assert server.count("/ok") == 0


# -- the whole-download budget (--timeout) ----------------------------------------------------
#
# A per-read timeout does not bound a server that sends one byte just before each read
# times out. The drip route sends a byte every 0.05 s (1000 bytes: 50 s in all); every read
# succeeds well within read_timeout, so only the budget and its watchdog can end it. The
# server counts the bytes it managed to send: the watchdog cut the connection after about
# budget / interval of them.

DRIP_EVERY = 0.05
BUDGET = 0.5


def elapsed_fetch(fetcher, url):
    started = time.monotonic()
    message = fails(fetcher, url)
    return message, time.monotonic() - started


@pytest.mark.parametrize("where", ["body", "header"])
def test_http_rejects_a_download_that_drips_past_the_budget(server, make_fetcher, sleeps, where):
    fetcher = make_fetcher(total_timeout=BUDGET, read_timeout=2.0, retries=3)
    path = f"/drip?every={DRIP_EVERY}&size=1000&where={where}"
    message, took = elapsed_fetch(fetcher, server.url + path)
    assert message == f"timeout: the download took more than {BUDGET:g} s in all (--timeout)"
    assert took < BUDGET + 1.5  # without the budget: 50 s
    assert server.count(path) == 1  # a spent budget is not retried
    assert sleeps == []
    assert 0 < server.dripped[path] <= BUDGET / DRIP_EVERY + 10


def test_https_rejects_a_download_that_drips_past_the_budget(tls_server, make_fetcher, pki):
    # the watchdog holds a duplicate of the socket's descriptor: it reaches a TLS socket too
    fetcher = make_fetcher(total_timeout=BUDGET, ca_bundle=str(pki / "ca.pem"), retries=0)
    path = f"/drip?every={DRIP_EVERY}&size=1000"
    message, took = elapsed_fetch(fetcher, tls_server.url + path)
    assert message.startswith("timeout: the download took more than")
    assert took < BUDGET + 1.5
    assert tls_server.dripped[path] <= BUDGET / DRIP_EVERY + 10


def test_http_budget_leaves_the_waits_between_retries_aside(server, make_fetcher):
    clock = [0.0]

    def sleep(seconds):  # the only thing that moves this clock: a long backoff
        clock[0] += seconds

    fetcher = make_fetcher(
        total_timeout=1.0, backoff=50.0, backoff_max=100.0, sleep=sleep, monotonic=lambda: clock[0]
    )
    response = fetcher.get(server.url + "/flaky?fail=3&id=budget-sleep", max_bytes=100)
    assert response.body == b"recovered"
    assert clock[0] == 50.0 + 100.0 + 100.0


def test_http_budget_spans_every_attempt_and_redirect(server, make_fetcher, sleeps):
    clock = [0.0]

    def monotonic():  # every look at the clock costs 0.3 s of "network time"
        clock[0] += 0.3
        return clock[0]

    fetcher = make_fetcher(total_timeout=1.0, retries=10, monotonic=monotonic)
    path = "/flaky?fail=20&id=budget-attempts"
    message = fails(fetcher, server.url + path)
    assert message == "timeout: the download took more than 1 s in all (--timeout)"
    assert 1 <= server.count(path) <= 3


def test_http_budget_cuts_per_read_timeouts_to_what_is_left(server, make_fetcher, sleeps):
    # a stall longer than the budget but shorter than read_timeout: the budget speaks
    fetcher = make_fetcher(total_timeout=0.3, read_timeout=2.0, retries=2)
    message, took = elapsed_fetch(fetcher, server.url + "/stall?secs=3&id=budget-read")
    assert message == "timeout: the download took more than 0.3 s in all (--timeout)"
    assert took < 1.5
    assert sleeps == []


def test_http_config_rejects_a_zero_budget():
    with pytest.raises(ValueError, match="timeouts must be > 0"):
        HttpConfig(total_timeout=0)


# -- credentials in the URL ---------------------------------------------------------------------

SECRET = "s3cret-t0ken"


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def other_server():
    with FaultServer() as running:
        yield running


def test_http_sends_credentials_to_their_origin(server, fetcher):
    url = server.url.replace("//", f"//alice:{SECRET}@") + "/auth"
    response = fetcher.get(url, max_bytes=100)
    assert response.body.decode() == basic("alice", SECRET)
    assert response.url == server.url + "/auth"  # never handed back with the secret


def test_http_sends_a_token_user_name_as_pip_does(server, fetcher):
    url = server.url.replace("//", f"//{SECRET}@") + "/auth"
    assert fetcher.get(url, max_bytes=100).body.decode() == basic(SECRET, "")


def test_http_keeps_credentials_on_a_same_origin_redirect(server, fetcher):
    url = server.url.replace("//", f"//alice:{SECRET}@") + "/redirect?to=/auth"
    assert fetcher.get(url, max_bytes=100).body.decode() == basic("alice", SECRET)


@pytest.mark.parametrize("userinfo", ["", "mallory:stolen@"])
def test_http_rejects_sending_credentials_to_another_origin(
    server, other_server, fetcher, sleeps, userinfo
):
    target = other_server.url.replace("//", f"//{userinfo}") + "/auth"
    url = server.url.replace("//", f"//alice:{SECRET}@") + f"/redirect?to={target}"
    with pytest.raises(NetworkError) as caught:
        fetcher.get(url, max_bytes=100)
    assert "HTTP 401" in caught.value.message
    assert SECRET not in str(caught.value)
    assert caught.value.source == url.replace(SECRET, "****")
    assert [h for _, h in other_server.headers if "Authorization" in h] == []
    assert other_server.count("/auth") == 1


def test_http_masks_credentials_in_every_error(server, make_fetcher):
    fetcher = make_fetcher(retries=0)
    for route in ("/status?code=500", "/redirect?to=/loop", "/big?size=500", "/nothing"):
        url = server.url.replace("//", f"//{SECRET}@") + route
        try:
            fetcher.get(url, max_bytes=100)
        except NetworkError as err:
            text = f"{err} {err.message} {err.source}"
        else:
            text = "404 answered"
        assert SECRET not in text


def test_http_budget_cuts_a_kept_alive_connection_too(make_fetcher, sleeps):
    # one connection for two requests: the second (a trickle) reuses the socket, so the
    # watchdog must take it when the request starts, not only when a socket is created
    stop = threading.Event()
    accepted = []

    def serve(listener):
        conn, _ = listener.accept()
        accepted.append(conn)
        with conn:
            conn.settimeout(5)
            reader = conn.makefile("rb")
            for number in (1, 2):
                while reader.readline() not in (b"\r\n", b""):
                    pass
                if number == 1:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    continue
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
                for _ in range(1000):
                    try:
                        conn.sendall(b"x")
                    except OSError:
                        break
                    if stop.wait(DRIP_EVERY):
                        break
            reader.close()

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        thread = threading.Thread(target=serve, args=(listener,))
        thread.start()
        try:
            fetcher = make_fetcher(total_timeout=BUDGET, retries=0)
            assert fetcher.get(url + "/first", max_bytes=100).body == b"ok"
            message, took = elapsed_fetch(fetcher, url + "/second")
        finally:
            stop.set()
            thread.join(5)
    assert message.startswith("timeout: the download took more than")
    assert took < BUDGET + 1.5
    assert len(accepted) == 1


# -- freshness: Cache-Control max-age --------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("max-age=300", 300.0),
        ("public, max-age=0", 0.0),
        ("MAX-AGE = 60", 60.0),
        ('max-age="30"', 30.0),
        ("max-age=600, s-maxage=10", 600.0),
    ],
)
def test_http_max_age_of_cache_control(header, seconds):
    assert max_age(header) == seconds


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "public",
        "no-cache, max-age=300",
        "max-age=300, no-store",
        "max-age=-1",
        "max-age=abc",
        "max-age=1.5",
        "max-age=",
        "max-age=1, max-age=2",
        "max-age=\u0661\u0662",
        "max-age=" + "9" * 40,
        "s-maxage=300",
    ],
)
def test_http_max_age_rejects_what_gives_no_freshness(header):
    assert max_age(header) is None


def test_http_watchdogs_share_one_alarm_thread(server, make_fetcher, monkeypatch):
    # a thread started and joined per request cost about 0.5 ms of each: one thread fires
    # every watchdog, and it still ends once nothing runs (the fixture checks that)
    import pgpverify.index.http as http_module

    monkeypatch.setattr(http_module, "_ALARM_LINGER", 1.0)
    started = []
    real = threading.Thread

    def counting(*args, **kwargs):
        if kwargs.get("name") == "pgpverify-watchdog":
            started.append(kwargs["name"])
        return real(*args, **kwargs)

    monkeypatch.setattr(http_module.threading, "Thread", counting)
    fetcher = make_fetcher()
    for _ in range(20):
        assert fetcher.get(server.url + "/ok", max_bytes=100).body == b"hello"
    assert len(started) <= 1
    # and it still cuts a download that drips past the budget, after those 20
    dripping = make_fetcher(total_timeout=BUDGET, read_timeout=2.0, retries=0)
    path = f"/drip?every={DRIP_EVERY}&size=1000&where=body"
    message, took = elapsed_fetch(dripping, server.url + path)
    assert message.startswith("timeout: the download took more than")
    assert took < BUDGET + 1.5


# -- streaming (a distribution file read once, never held) ----------------------------------


def read_stream(fetcher, url, *, max_bytes=1 << 20, piece=1000):
    with fetcher.stream(url, max_bytes=max_bytes) as download:
        parts = []
        while chunk := download.body.read(piece):
            parts.append(chunk)
        return download, b"".join(parts)


@pytest.mark.parametrize("mode", ["length", "chunked", "close"])
def test_http_stream_reads_the_body_in_pieces(server, fetcher, mode):
    download, body = read_stream(fetcher, server.url + f"/big?size=200000&mode={mode}")
    assert download.status == 200
    assert body == b"x" * 200000


def test_http_stream_follows_redirects_and_answers_not_found(server, fetcher):
    download, body = read_stream(fetcher, server.url + "/chain?n=3")
    assert (download.url, body) == (server.url + "/chain?n=0", b"end of chain")
    download, body = read_stream(fetcher, server.url + "/status?code=404")
    assert (download.found, download.status, body) == (False, 404, b"")


def test_http_stream_rejects_content_length_over_the_cap_early(server, fetcher, sleeps):
    url = server.url + "/big?size=5001&mode=length"
    with pytest.raises(ResponseTooLargeError) as caught, fetcher.stream(url, max_bytes=5000):
        pass
    assert caught.value.source == url
    assert str(caught.value).endswith("response larger than 5000 bytes (Content-Length: 5001)")
    assert sleeps == []


@pytest.mark.parametrize("mode", ["chunked", "close"])
def test_http_stream_rejects_unannounced_body_over_the_cap(server, fetcher, mode):
    url = server.url + f"/big?size=200000&mode={mode}"
    with pytest.raises(ResponseTooLargeError) as caught:
        read_stream(fetcher, url, max_bytes=5000)
    assert caught.value.source == url
    assert str(caught.value).endswith("response larger than 5000 bytes")
    _, body = read_stream(fetcher, url, max_bytes=200000)  # the good twin: at the cap
    assert len(body) == 200000


def test_http_get_rejects_a_body_over_the_cap_as_response_too_large(server, fetcher):
    with pytest.raises(ResponseTooLargeError):
        fetcher.get(server.url + "/big?size=5001&mode=length", max_bytes=5000)
    with pytest.raises(ResponseTooLargeError):
        fetcher.get(server.url + "/big?size=200000&mode=chunked", max_bytes=5000)
    assert len(fetcher.get(server.url + "/big?size=5000", max_bytes=5000).body) == 5000


def test_http_stream_rejects_a_connection_dropped_mid_body(server, fetcher, sleeps):
    # once the body started, what was read is consumed: no retry, an error (never an end)
    url = server.url + "/drop?times=99"
    with pytest.raises(NetworkError) as caught:
        read_stream(fetcher, url)
    assert not isinstance(caught.value, ResponseTooLargeError)
    assert "connection closed before the end of the body" in str(caught.value)
    assert server.count("/drop?times=99") == 1


def test_http_stream_retries_before_the_body_starts(server, fetcher, sleeps):
    _, body = read_stream(fetcher, server.url + "/flaky?fail=2")
    assert body == b"recovered"
    assert len(sleeps) == 2


def test_http_stream_rejects_a_download_that_drips_past_the_budget(server, make_fetcher, sleeps):
    fetcher = make_fetcher(total_timeout=BUDGET, read_timeout=2.0, retries=3)
    path = f"/drip?every={DRIP_EVERY}&size=1000"
    started = time.monotonic()
    with pytest.raises(NetworkError) as caught:
        read_stream(fetcher, server.url + path)
    assert str(caught.value).endswith(
        f"timeout: the download took more than {BUDGET:g} s in all (--timeout)"
    )
    assert time.monotonic() - started < BUDGET + 1.5
    assert server.count(path) == 1


def test_http_stream_refuses_plain_http_and_masks_credentials(fetcher, make_fetcher):
    with pytest.raises(NetworkError), fetcher.stream("http://example.com/f.whl", max_bytes=10):
        pass
    url = f"http://user:s3cret@127.0.0.1:{closed_port()}/f.whl"
    with pytest.raises(NetworkError) as caught, make_fetcher(retries=0).stream(url, max_bytes=9):
        pass
    assert "s3cret" not in str(caught.value)
    assert caught.value.source == url.replace("s3cret", "****")


def test_http_stream_reads_a_large_body_in_flat_memory(server, fetcher):
    size = 64 << 20
    url = server.url + f"/big?size={size}&mode=chunked"  # written in 4 KiB pieces
    tracemalloc.start()
    try:
        with fetcher.stream(url, max_bytes=size) as download:
            total = 0
            while chunk := download.body.read(1 << 20):
                total += len(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == size
    assert peak < 4 << 20, f"peak {peak / 2**20:.1f} MiB for a 64 MiB body"


def _slow_dns(monkeypatch, names):
    """Resolve ``names`` to 127.0.0.1; a look-up of any other name hangs until released."""
    release = threading.Event()
    looked_up = []
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        looked_up.append(host)
        if host in names:
            return real_getaddrinfo("127.0.0.1", port, *args, **kwargs)
        if host == "127.0.0.1":
            return real_getaddrinfo(host, port, *args, **kwargs)
        release.wait(10)  # a resolver that does not answer
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return release, looked_up


def test_http_rejects_a_name_look_up_past_the_budget(make_fetcher, monkeypatch):
    # a look-up has no socket to shut down: it is waited for only until the deadline
    release, looked_up = _slow_dns(monkeypatch, set())
    fetcher = make_fetcher(allow_insecure=True, total_timeout=0.3, retries=0)
    started = time.monotonic()
    try:
        message = fails(fetcher, "http://slow-dns.invalid/simple/")
    finally:
        release.set()  # the resolver thread ends (no thread may be left behind)
    assert time.monotonic() - started < 2.0
    assert message.startswith("timeout: the download took more than 0.3 s in all")
    assert looked_up == ["slow-dns.invalid"]


def test_http_connects_to_the_looked_up_address_under_the_name(server, make_fetcher, monkeypatch):
    # the good twin: the look-up answers, the request goes to that address and still
    # names the host (Host header), as urllib3's own connection does
    _, looked_up = _slow_dns(monkeypatch, {"index.test"})
    fetcher = make_fetcher(allow_insecure=True, total_timeout=5.0, retries=0)
    response = fetcher.get(f"http://index.test:{server.port}/echo", max_bytes=1 << 16)
    assert response.status == 200
    assert json.loads(response.body)["Host"] == f"index.test:{server.port}"
    assert looked_up == ["index.test"]


def test_http_urllib3_still_has_what_the_watched_connection_uses():
    # the watched connections replace urllib3's _new_conn: a release that renames what it
    # reads fails here, loudly, instead of connecting some other way
    import urllib3.connection
    import urllib3.util.connection

    conn = urllib3.connection.HTTPConnection("index.test.", 8080)
    assert conn._dns_host == "index.test."
    assert conn.host == "index.test"
    assert callable(urllib3.util.connection.allowed_gai_family)
    for name in ("socket_options", "source_address", "timeout", "port"):
        assert hasattr(conn, name)
