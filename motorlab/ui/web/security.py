"""Who may talk to the local server: per-run token, Host and Origin checks, security headers.

Threats this guards against (a local server holding children's data):

* another user or program on the machine, or a web page in the browser, calling
  the server: every request must carry the per-run secret token — in the URL the
  command opens (``?token=``), which is swapped at once for an ``HttpOnly``,
  ``SameSite=Strict`` cookie and a redirect to the same page without it;
* DNS rebinding (a hostile name resolving to 127.0.0.1): the ``Host`` header must
  be one of the addresses the server was bound to, with its port;
* cross-site requests (CSRF, cross-site WebSocket hijacking): state-changing
  requests and WebSocket upgrades must carry an ``Origin`` equal to the server's
  own (``http://<Host>``). A form post from our own page carries ``Origin: null``
  (browsers do so under ``Referrer-Policy: no-referrer``) and is accepted only
  with ``Sec-Fetch-Site: same-origin``, a header pages cannot set;
* framing, sniffing and leaks: a strict Content-Security-Policy (``default-src
  'self'``, ``frame-ancestors 'none'``), ``nosniff``, ``Referrer-Policy:
  no-referrer`` and ``Cache-Control: no-store`` on every response.

With ``--lan`` the run token is still accepted only from the machine itself;
another device gets a token of its own by pairing (:mod:`.pairing`). The
middleware is plain ASGI, so it covers HTTP and WebSocket alike.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_HOST = "127.0.0.1"
#: query parameter carrying the token on the first request
TOKEN_PARAM = "token"
#: HTTP methods that change nothing (no Origin needed)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: reachable without a token, and only while LAN pairing is on: the pairing form and its style sheet
PAIRING_PATHS = frozenset({"/pair", "/static/app.css"})

CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cache-control", "no-store"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-embedder-policy", "require-corp"),
    ("cross-origin-resource-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
)

#: who made a request, stored in ``scope["state"]["motorlab_role"]``
ROLE_THERAPIST = "therapist"  # the run token, from this machine
ROLE_DEVICE = "device"  # a paired LAN device
ROLE_PAIRING = "pairing"  # no token, on the pairing form only


def new_token() -> str:
    """A fresh secret (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@dataclass
class PairedDevice:
    """A device that entered the pairing code: its label and address when it paired."""

    label: str
    address: str
    token: str = field(repr=False)


@dataclass
class Access:
    """The server's addresses and the tokens it accepts.

    Attributes:
        port: the bound TCP port.
        token: the run token (the therapist's, accepted from loopback clients only).
        lan_host: the LAN address also bound with ``--lan``, else None.
    """

    port: int
    token: str = field(default_factory=new_token, repr=False)
    lan_host: str | None = None
    devices: dict[str, PairedDevice] = field(default_factory=dict)

    @property
    def cookie_name(self) -> str:
        """Cookies are shared across ports of one host, so the name carries the port."""
        return f"motorlab_{self.port}"

    @property
    def allowed_hosts(self) -> frozenset[str]:
        hosts = {f"{LOOPBACK_HOST}:{self.port}", f"localhost:{self.port}"}
        if self.lan_host:
            hosts.add(f"{self.lan_host}:{self.port}")
        return frozenset(hosts)

    @property
    def url(self) -> str:
        """The therapist's first URL (carries the run token)."""
        return f"http://{LOOPBACK_HOST}:{self.port}/?{TOKEN_PARAM}={self.token}"

    def role_of(self, token: str | None, client: str | None) -> str | None:
        """The role a token grants to a client address (None: refused)."""
        if not token:
            return None
        if hmac.compare_digest(token.encode(), self.token.encode()):
            return ROLE_THERAPIST if is_loopback(client) else None
        for t in self.devices:
            if hmac.compare_digest(token.encode(), t.encode()):
                return ROLE_DEVICE
        return None

    def add_device(self, label: str, address: str) -> PairedDevice:
        dev = PairedDevice(label, address, new_token())
        self.devices[dev.token] = dev
        return dev

    def revoke(self, label: str) -> bool:
        for t, d in list(self.devices.items()):
            if d.label == label:
                del self.devices[t]
                return True
        return False

    def cookie_header(self, token: str) -> str:
        return f"{self.cookie_name}={token}; Path=/; HttpOnly; SameSite=Strict"


def _headers(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in scope.get("headers", []):
        out.setdefault(k.decode("latin-1").lower(), v.decode("latin-1"))
    return out


def _cookie(headers: dict[str, str], name: str) -> str | None:
    raw = headers.get("cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except (ValueError, KeyError):  # a malformed cookie header is simply no token
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def add_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` plus every :data:`SECURITY_HEADERS` entry the response did not set itself."""
    present = {k.decode("latin-1").lower() for k, _ in headers}
    extra = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS if k not in present]
    return [*headers, *extra]


async def _refuse_http(send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]] = ()) -> None:  # type: ignore[assignment]
    body = (text + "\n").encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": add_security_headers(headers)})
    await send({"type": "http.response.body", "body": body})


async def _refuse_ws(send: Send, text: str) -> None:
    """Refuse a WebSocket handshake: the server answers HTTP 403 (ASGI websocket denial)."""
    await send({"type": "websocket.close", "code": 1008, "reason": text[:120]})


class SecurityMiddleware:
    """Checks Host, token and Origin of every HTTP request and WebSocket upgrade; adds headers.

    Args:
        app: the ASGI app behind it.
        access: addresses and tokens (:class:`Access`).
        pairing_open: callable telling whether unauthenticated pairing is allowed (``--lan``).
    """

    def __init__(self, app: ASGIApp, access: Access, pairing_open: Callable[[], bool] = lambda: False):
        self.app = app
        self.access = access
        self.pairing_open = pairing_open

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        ws = kind == "websocket"
        headers = _headers(scope)

        async def refuse(status: int, text: str) -> None:
            if ws:
                await _refuse_ws(send, text)
            else:
                await _refuse_http(send, status, text)

        host = headers.get("host", "")
        if host not in self.access.allowed_hosts:
            await refuse(403, f"forbidden: this server does not answer to host {host!r}")
            return
        method = scope.get("method", "GET")
        if ws or method not in SAFE_METHODS:
            origin = headers.get("origin")
            # with Referrer-Policy no-referrer a browser sends "Origin: null" on same-origin form posts;
            # then the browser-set, unforgeable-by-pages Sec-Fetch-Site must say same-origin
            same_origin_form = not ws and origin == "null" and headers.get("sec-fetch-site") == "same-origin"
            if origin != f"http://{host}" and not same_origin_form:
                await refuse(403, f"forbidden: cross-site request (origin {origin!r})")
                return

        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        from_query = query.get(TOKEN_PARAM)
        token = from_query or _cookie(headers, self.access.cookie_name)
        client = (scope.get("client") or (None, None))[0]
        role = self.access.role_of(token, client)
        path = scope.get("path", "")
        if role is None and path in PAIRING_PATHS and self.pairing_open() and not ws:
            role = ROLE_PAIRING
        if role is None:
            await refuse(
                403,
                "forbidden: this page needs the link printed by 'motorlab app' (it carries a secret key)"
                + ("; a tablet pairs at /pair" if self.pairing_open() else ""),
            )
            return
        scope.setdefault("state", {})["motorlab_role"] = role

        if from_query and not ws and method in SAFE_METHODS and role != ROLE_PAIRING:
            # swap the token in the URL for a cookie, and drop it from the address bar and history
            rest = urlencode([(k, v) for k, v in query.items() if k != TOKEN_PARAM])
            location = "/" + path.lstrip("/") + (f"?{rest}" if rest else "")  # never //host: no open redirect
            assert token is not None
            await _refuse_http(
                send,
                303,
                "see other",
                [
                    (b"location", location.encode()),
                    (b"set-cookie", self.access.cookie_header(token).encode()),
                ],
            )
            return

        if ws:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = add_security_headers(list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, send_with_headers)
