"""What every response and request goes through on the way: security headers (with HSTS
when the service is reached over HTTPS), cookies named and marked for where they are sent,
the client's address and scheme as a trusted reverse proxy forwarded them, and whether an
unsafe request was sent from another site."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from litestar.datastructures import Cookie, Headers, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from governance.settings import Network, get_settings

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cross-origin-opener-policy": "same-origin",
}
# Sent only when the base URL is https://: a browser that has seen it will not reach the
# service over plain HTTP for a year. (Over http://, e.g. local development, it would be
# ignored at best, and would lock a host name that later moves to HTTPS out of HTTP.)
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"


def security_headers() -> dict[str, str]:
    """The headers every response carries."""
    if get_settings().is_https:
        return {**SECURITY_HEADERS, "strict-transport-security": STRICT_TRANSPORT_SECURITY}
    return dict(SECURITY_HEADERS)


class SecurityHeadersMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in security_headers().items():
                    if name not in headers:
                        headers[name] = value
                if scope.get("user") is not None and "cache-control" not in headers:
                    # Pages for a signed-in person must not be kept by shared caches.
                    headers["cache-control"] = "no-store"
            await send(message)

        await next_app(scope, receive, send_with_headers)


# --- cookies -------------------------------------------------------------------------------


def cookie_name(name: str, secure: bool | None = None) -> str:
    """`__Host-<name>` when cookies are Secure: a browser keeps such a cookie only if it is
    Secure, for Path=/ and with no Domain, so no other host (a sibling subdomain, a network
    attacker over plain HTTP) can set or shadow it. The plain name over http://, where a
    Secure cookie would not be sent back (local development)."""
    if secure is None:
        secure = get_settings().secure_cookies
    return f"__Host-{name}" if secure else name


def cookie(name: str, value: str, max_age: int) -> Cookie:
    """A cookie of the service: HttpOnly, SameSite=Lax, for the whole site, Secure and
    `__Host-` named when cookies are Secure; `max_age` 0 clears it."""
    secure = get_settings().secure_cookies
    return Cookie(
        key=cookie_name(name, secure),
        value=value,
        max_age=max_age,
        expires=0 if max_age == 0 else None,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


# --- forwarded headers ---------------------------------------------------------------------


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _trusted(value: str, proxies: tuple[Network, ...]) -> bool:
    address = _address(value)
    return address is not None and any(address in network for network in proxies)


def _forwarded_client(hops: list[str], proxies: tuple[Network, ...]) -> str | None:
    """The nearest address in X-Forwarded-For that is not one of our proxies: each proxy
    appends the address it was reached from, and what the client wrote itself lies to the
    left of them, unbelieved."""
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop if _address(hop) is not None else None
    return hops[0] if hops else None


class TrustedProxyMiddleware(ASGIMiddleware):
    """The client's address and scheme as a trusted reverse proxy forwarded them, in
    X-Forwarded-For and X-Forwarded-Proto, believed only from a peer listed in
    GOVERNANCE_TRUSTED_PROXIES (none by default); from any other peer, the peer is the
    client. Everything that reads the client's address (sign-in throttling, the address a
    session records) or the scheme (the same-site check) reads it from the scope, after this.
    """

    scopes = (ScopeType.HTTP,)

    def __init__(self, proxies: tuple[Network, ...]) -> None:
        self.proxies = proxies

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        peer = scope.get("client")
        if self.proxies and peer and _trusted(peer[0], self.proxies):
            _believe_forwarded(scope, self.proxies)
        await next_app(scope, receive, send)


def _believe_forwarded(scope: Scope, proxies: tuple[Network, ...]) -> None:
    headers = Headers.from_scope(scope)
    hops = [
        hop.strip()
        for value in headers.getall("x-forwarded-for", [])
        for hop in value.split(",")
        if hop.strip()
    ]
    client = _forwarded_client(hops, proxies)
    if client is not None:
        scope["client"] = (client, 0)
    # The scheme the nearest proxy was reached with.
    scheme = headers.get("x-forwarded-proto", "").rsplit(",", 1)[-1].strip().lower()
    if scheme in {"http", "https"}:
        scope["scheme"] = scheme


# --- requests from another site --------------------------------------------------------------

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CROSS_SITE = "This request came from another site, so it was refused."
DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> str | None:
    """`scheme://host:port`, with the port spelled out, or None if `url` has no origin."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    return f"{parts.scheme.lower()}://{parts.hostname.lower()}:{port}"


def sent_from_another_site(scope: Scope) -> bool:
    """Whether an unsafe request was sent by a page of another site. Its Origin must be the
    service's own (its base URL's, or the address the request was sent to); a request
    without Origin is judged by Sec-Fetch-Site, which only "same-origin" and "none" (typed
    or bookmarked by the person) pass; one with neither (not a browser) is let through to
    the CSRF token check."""
    if scope.get("method") not in UNSAFE_METHODS:
        return False
    headers = Headers.from_scope(scope)
    origin = headers.get("origin")
    if origin is not None:
        own = {_origin(get_settings().base_url)}
        if host := headers.get("host"):
            own.add(_origin(f"{scope['scheme']}://{host}"))
        return _origin(origin) is None or _origin(origin) not in own
    fetch_site = headers.get("sec-fetch-site")
    return fetch_site is not None and fetch_site.strip().lower() not in {"same-origin", "none"}
