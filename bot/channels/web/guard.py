"""What keeps the web page safe and fair: security headers, the CSRF check, per-client limits.

A client is the address that connected, or the X-Real-IP a trusted proxy (nginx) names;
it is kept only in memory, as a keyed hash with a key of this process, and never logged.
May import aiohttp and the standard library.
"""

import hashlib
import hmac
import json
import logging
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware
from multidict import CIMultiDict

CLIENT_LIMIT = 30  # questions a minute from one address (a household or an office shares one)
CLIENT_WINDOW = 60.0
MAX_CLIENTS = 10_000  # addresses remembered; the least recent are forgotten first
JSON = "application/json"
# What the page shows a resident whose request is refused (the API's errors are Chinese).
NOT_JSON = f"请求的格式不对（请以 {JSON} 发送）。"
CROSS_SITE = "请在本站的问答页面提问（不接受来自其他网站的请求）。"

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def content_security_policy(frame_ancestors: str) -> str:
    """The page's CSP: only linli's own script and style, no inline script, framed as set."""
    return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            "connect-src 'self'; base-uri 'none'; form-action 'self'; "
            f"frame-ancestors {frame_ancestors}")


def security_headers(frame_ancestors: str) -> Middleware:
    """A middleware that sets the security headers on every response, errors included."""
    policy = content_security_policy(frame_ancestors)

    def apply(request: web.Request, headers: "CIMultiDict[str]") -> None:
        headers.setdefault("Content-Security-Policy", policy)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if request.path.startswith("/api/"):
            headers["Cache-Control"] = "no-store"

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as err:
            apply(request, err.headers)
            raise
        apply(request, response.headers)
        return response

    return middleware


def unexpected_errors(apology: str) -> Middleware:
    """A middleware that logs a failure without the client's address and apologises.

    aiohttp's own handler would log "Error handling request from <address>".
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception:
            logger.exception("error while handling %s %s", request.method, request.path)
            return web.json_response({"error": apology}, status=500,
                                     dumps=lambda o: json.dumps(o, ensure_ascii=False))

    return middleware


def cross_site(request: web.Request) -> str | None:
    """Say (in Chinese) why a POST is refused as cross-site (CSRF), or None if it is the page's.

    Only JSON is accepted (a form on another site cannot send it without a preflight,
    which is never granted), and an Origin, if sent, must be this host.
    """
    if request.content_type != JSON:
        return NOT_JSON
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return CROSS_SITE
    origin = request.headers.get("Origin")
    if origin is not None and urlsplit(origin).netloc != request.host:
        return CROSS_SITE
    return None


class ClientLimits:
    """A sliding window of questions per client address, bounded in memory."""

    def __init__(self, trusted_proxies: frozenset[str], limit: int = CLIENT_LIMIT,
                 window: float = CLIENT_WINDOW, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.trusted, self.limit, self.window, self.clock = trusted_proxies, limit, window, clock
        self._key = secrets.token_bytes(32)  # this process only: the hashes mean nothing later
        self._asked: OrderedDict[str, deque[float]] = OrderedDict()
        self._warned = False

    def client(self, request: web.Request) -> str:
        """The keyed hash of the client's address (X-Real-IP from a trusted proxy)."""
        address = request.remote or ""
        forwarded = request.headers.get("X-Real-IP")
        if forwarded and address in self.trusted:
            address = forwarded.strip()
        elif forwarded and not self._warned:
            # Likely a proxy whose address is not in the list (a compose network's gateway):
            # every resident would then share the proxy's one bucket. Said once, no address.
            self._warned = True
            logger.warning("X-Real-IP came from a peer not in LINLI_WEB_TRUSTED_PROXIES and "
                           "was ignored: if nginx is in front, add its address as linli sees "
                           "it (under Docker: docker network inspect <network>, the Gateway), "
                           "or every client shares the proxy's rate limit")
        return hmac.new(self._key, address.encode("utf-8", "replace"),
                        hashlib.sha256).hexdigest()[:24]

    def too_fast(self, client: str) -> bool:
        """Count one question from `client`; tell whether it is over the limit."""
        now = self.clock()
        asked = self._asked.pop(client, None) or deque()
        self._asked[client] = asked
        while asked and now - asked[0] > self.window:
            asked.popleft()
        while len(self._asked) > MAX_CLIENTS:
            self._asked.popitem(last=False)
        if len(asked) >= self.limit:
            return True
        asked.append(now)
        return False

    def retry_after(self, client: str) -> int:
        """Seconds until the client may ask again."""
        asked = self._asked.get(client)
        if not asked:
            return 0
        return max(1, int(self.window - (self.clock() - asked[0])) + 1)
