"""The webhook: the secret checked before the body is read, the body capped, replays ignored.

PTB's own webhook server buffers a whole body before its handler sees the secret, answers
malformed JSON with 500 and a CRITICAL line, and queues a replayed update again. This one
streams the body (tornado's `stream_request_body`): the secret header is checked when the
headers arrive (403, nothing read), a body over `MAX_BODY_BYTES` is refused (413), JSON
that is not an update gets 400, and an `update_id` seen among the last `REMEMBERED`
updates is acknowledged and dropped. May import `telegram`, tornado (PTB's webhook
extra) and the Telegram-free core of `bot`.
"""

import asyncio
import hmac
import json
import logging
from collections import deque
from http import HTTPStatus
from typing import Any

import tornado.web
from telegram import Update
from telegram.error import NetworkError
from telegram.ext import Application
from tornado.http1connection import HTTP1Connection
from tornado.httpserver import HTTPServer

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024  # Telegram's updates are a few KB; a file comes by getFile
REMEMBERED = 10_000  # update ids kept to find a replay
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class SeenUpdates:
    """The last REMEMBERED update ids, to acknowledge a replay without answering it twice."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self._order: deque[int] = deque()
        self._ids: set[int] = set()
        self.size = size

    def first_time(self, update_id: int) -> bool:
        """Remember `update_id`; tell whether it is new."""
        if update_id in self._ids:
            return False
        self._ids.add(update_id)
        self._order.append(update_id)
        if len(self._order) > self.size:
            self._ids.discard(self._order.popleft())
        return True


@tornado.web.stream_request_body
class UpdateHandler(tornado.web.RequestHandler):
    """POST of one update from Telegram."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, bot_app: Application,
                   secret: str, seen: SeenUpdates) -> None:
        """Take the shared objects (tornado's way of passing them)."""
        self.bot_app = bot_app
        self.secret, self.seen = secret, seen
        self.body = bytearray()
        self.refused = False

    def prepare(self) -> None:
        """Check the secret and the declared size before a byte of the body is read."""
        token = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(token.encode(), self.secret.encode()):
            self._refuse(HTTPStatus.FORBIDDEN, "wrong or missing secret token")
            return
        declared = self.request.headers.get("Content-Length", "0")
        if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body over the size limit")
            return
        if isinstance(self.request.connection, HTTP1Connection):
            self.request.connection.set_max_body_size(MAX_BODY_BYTES)

    def data_received(self, chunk: bytes) -> None:
        """Collect the body, within the cap (a chunked body declares no length)."""
        if self.refused:
            return
        self.body += chunk
        if len(self.body) > MAX_BODY_BYTES:
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body over the size limit")

    async def post(self) -> None:
        """Queue the update once; 400 if the body is not one."""
        if self.refused:
            return
        try:
            data = json.loads(bytes(self.body).decode("utf-8"))
            update_id = data["update_id"] if isinstance(data, dict) else None
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                raise ValueError("no update_id")
            update = Update.de_json(data, self.bot_app.bot)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            self._refuse(HTTPStatus.BAD_REQUEST, "not a Telegram update")
            return
        if not self.seen.first_time(update_id):
            logger.info("webhook: update replayed; acknowledged, not answered again")
            return
        await self.bot_app.update_queue.put(update)

    def _refuse(self, status: HTTPStatus, why: str) -> None:
        self.refused = True
        logger.warning("webhook: refused a request (%d: %s)", status, why)
        self.set_status(status)
        self.set_header("Connection", "close")  # the body, if any, is never read
        self.finish()

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """Log a handler failure as one line (tornado's default logs the request too)."""
        logger.error("webhook: %s", value)


async def start_webhook(application: Application,
                        options: dict[str, Any]) -> HTTPServer:
    """Register the webhook with Telegram and serve it; return the server (stop it after)."""
    app = tornado.web.Application([(f"/{options['url_path']}/?", UpdateHandler, {
        "bot_app": application, "secret": options["secret_token"],
        "seen": SeenUpdates()})])
    server = HTTPServer(app, max_body_size=MAX_BODY_BYTES, max_buffer_size=MAX_BODY_BYTES)
    server.listen(options["port"], address=options["listen"])
    delay = 1.0
    while True:  # as PTB's bootstrap_retries=-1: Telegram may be out of reach at start
        try:
            await application.bot.set_webhook(options["webhook_url"],
                                              secret_token=options["secret_token"],
                                              allowed_updates=options["allowed_updates"])
            return server
        except NetworkError as err:
            logger.warning("setWebhook failed (%s); retrying in %.0f s", err.message, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)


async def stop_webhook(server: HTTPServer) -> None:
    """Stop accepting requests and close the open connections."""
    server.stop()
    await server.close_all_connections()


async def run_webhook(application: Application,
                      options: dict[str, Any]) -> None:
    """Serve the webhook until SIGINT or SIGTERM, as PTB's run_webhook does, with this handler."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    async with application:
        if application.post_init:
            await application.post_init(application)
        await application.start()
        server = await start_webhook(application, options)
        try:
            await stop.wait()
        finally:
            await stop_webhook(server)
            await application.stop()
            if application.post_stop:
                await application.post_stop(application)
    if application.post_shutdown:
        await application.post_shutdown(application)
