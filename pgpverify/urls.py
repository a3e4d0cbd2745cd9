"""URLs of an index: the policy every followed URL obeys, and credentials kept out of sight.

Index URLs often carry a secret (``https://user:token@host/simple/``, as ``PIP_INDEX_URL``
allows). Threat model: that secret belongs to the index's origin alone. It is split off the
URL where the URL enters (:func:`split_credentials`), sent only to the same origin
(scheme, host, port: :func:`origin`), and never written: every URL that reaches a message, a
cache row or a lock file is either stripped (:func:`without_credentials`) or redacted as pip
redacts it (:func:`redact_url`: ``https://user:****@host/``, a lone user name being the
token: ``https://****@host/``).

:func:`url_problem` is the structural policy for any URL pgpverify requests: an ``http`` or
``https`` scheme, a non-empty host, a valid port. What plain HTTP may reach is the
transport's business (:mod:`pgpverify.index.http`); :func:`downgrade_problem` refuses a link
from an HTTPS context to plain HTTP (loopback included).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit, urlunsplit

__all__ = [
    "Credentials",
    "Origin",
    "downgrade_problem",
    "origin",
    "redact_url",
    "split_credentials",
    "url_problem",
    "userinfo_problem",
    "with_credentials",
    "without_credentials",
]

_DEFAULT_PORTS = {"http": 80, "https": 443}

#: (scheme, host, port): where a credential may be sent
Origin = tuple[str, str, int | None]


@dataclass(frozen=True, slots=True)
class Credentials:
    """A user name and password (either may be the token), decoded from a URL."""

    username: str
    password: str | None = field(default=None, repr=False)

    def as_auth(self) -> tuple[str, str]:
        """``(user, password)`` for HTTP Basic authentication (pip's form)."""
        return self.username, self.password or ""

    def secrets(self) -> tuple[str, ...]:
        """The strings no output may contain: the password, or a lone user name (a token)."""
        found = [self.password] if self.password else [self.username]
        return tuple({s for text in found if text for s in (text, quote(text, safe=""))})


def _split_netloc(netloc: str) -> tuple[str, str | None, str | None]:
    """(netloc without userinfo, raw user, raw password); the last '@' ends the userinfo."""
    if "@" not in netloc:
        return netloc, None, None
    userinfo, _, host = netloc.rpartition("@")
    user, colon, password = userinfo.partition(":")
    return host, user, password if colon else None


def split_credentials(url: str) -> tuple[str, Credentials | None]:
    """``url`` without its userinfo, and the credentials it carried (None when none).

    Never raises: a URL that does not parse is returned unchanged (the policy check that
    follows reports it).
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url, None
    host, user, password = _split_netloc(parts.netloc)
    if user is None:
        return url, None
    plain = urlunsplit(parts._replace(netloc=host))
    credentials = Credentials(unquote(user), None if password is None else unquote(password))
    if not credentials.username and not credentials.password:
        return plain, None
    return plain, credentials


def without_credentials(url: str) -> str:
    """``url`` with any ``user:password@`` removed (for cache keys and links)."""
    return split_credentials(url)[0]


def with_credentials(url: str, credentials: Credentials | None) -> str:
    """``url`` carrying ``credentials`` (percent-encoded), for a transport call only."""
    if credentials is None:
        return url
    parts = urlsplit(url)
    host = _split_netloc(parts.netloc)[0]
    userinfo = quote(credentials.username, safe="")
    if credentials.password is not None:
        userinfo += ":" + quote(credentials.password, safe="")
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


def _hidden_userinfo(url: str, *, strict: bool = False) -> int | None:
    """Where a userinfo that a URL parser does not see ends (the index of its '@'), if any.

    ``https://user:se/cret@host/``: a password (or token) holding a raw '/' ends the
    authority early, so parsers take ``user`` for the host and ``se/cret@host/`` for the
    path. The last '@' before any '?' or '#', when a '/' comes before it, ends such a
    userinfo; everything up to it is treated as secret. ``strict`` (for an index URL,
    where an '@' has no other business) also counts a raw '?' or '#' in the secret: the
    last '@' anywhere, when one of '/?#' comes before it.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    region = rest if strict else rest.split("?", 1)[0].split("#", 1)[0]
    at = region.rfind("@")
    if at < 0 or not any(c in region[:at] for c in ("/?#" if strict else "/")):
        return None
    return len(scheme) + len(sep) + at


def userinfo_problem(url: str) -> str | None:
    """Refuse an index or keys URL whose password or token holds a raw '/', '?' or '#'.

    Such a URL names another host (the part of the secret before that character): it must
    never be requested, and its secret never shown (:func:`redact_url` with ``strict``).
    """
    if _hidden_userinfo(url, strict=True) is None:
        return None
    return (
        "an '@' after a '/', '?' or '#': a user name, password or token that holds one "
        "must be percent-encoded (%2F, %3F, %23)"
    )


def redact_url(url: str, *, strict: bool = False) -> str:
    """``url`` safe to show or store, as pip's ``redact_auth_from_url`` makes it.

    ``https://user:pass@host/`` -> ``https://user:****@host/``; ``https://token@host/`` ->
    ``https://****@host/``. A URL that does not parse loses everything up to the last '@'
    of what looks like its authority, so a secret never survives a parse failure; so does
    one whose secret holds a raw '/' (``https://user:se/cret@host/`` -> ``https://****@host/``),
    or, with ``strict`` (an index URL), a raw '?' or '#'.
    """
    hidden = _hidden_userinfo(url, strict=strict)
    if hidden is not None:
        return url[: url.index("://") + 3] + "****" + url[hidden:]
    try:
        parts = urlsplit(url)
    except ValueError:
        scheme, sep, rest = url.partition("://")
        if not sep:
            return url
        authority, slash, tail = rest.partition("/")
        if "@" not in authority:
            return url
        return f"{scheme}://****@{authority.rpartition('@')[2]}{slash}{tail}"
    host, user, password = _split_netloc(parts.netloc)
    if user is None:
        return url
    userinfo = "****" if password is None else f"{user}:****"
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


def origin(url: str) -> Origin | None:
    """(scheme, host, port) of ``url``, lower-cased, default ports filled; None if unusable."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if not scheme or not host:
        return None
    return scheme, host, port if port is not None else _DEFAULT_PORTS.get(scheme)


def url_problem(url: str) -> str | None:
    """What makes ``url`` unfit to request (scheme, host, port), or None when it is fit."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a bad port
    except ValueError as err:
        return f"invalid URL: {' '.join(str(err).split())}"
    scheme = parts.scheme.lower()
    if not scheme:
        return "invalid URL: no scheme (expected https://...)"
    if scheme not in _DEFAULT_PORTS:
        return f"unsupported URL scheme {scheme!r}: use https://"
    if not (parts.hostname or "").rstrip("."):
        return "invalid URL: no host"
    return None


def downgrade_problem(url: str, *, context: str, allow_insecure: bool) -> str | None:
    """Refuse ``url`` when it leads from an HTTPS ``context`` to plain HTTP.

    Applies to loopback hosts too: a page fetched over HTTPS never sends us to plain HTTP
    unless ``allow_insecure`` (``--allow-insecure``) says so.
    """
    if allow_insecure:
        return None
    try:
        downgrade = (
            urlsplit(context).scheme.lower() == "https" and urlsplit(url).scheme.lower() == "http"
        )
    except ValueError:
        return None  # url_problem reports a URL that does not parse
    if downgrade:
        return "refusing a plain-HTTP link from an HTTPS index; use HTTPS or --allow-insecure"
    return None
