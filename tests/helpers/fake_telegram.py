"""A fake Telegram Bot API server over HTTP, for end-to-end tests of the real Application.

The bot under test talks to it through `base_url`, exactly as it talks to Telegram:
long polling with getUpdates, sendMessage, editMessageText, answerCallbackQuery,
getFile and file downloads, setMyCommands, sendChatAction and answerInlineQuery.
Tests push updates as Telegram would deliver them (messages, button presses, inline
queries) and read what the bot sent back, which is what the user would see. Text sent
with parse_mode HTML is parsed as Telegram does: a tag it does not know, an unclosed
tag or a stray `<`/`&` is refused with 400 "can't parse entities", and a text over
4096 characters with 400 "message is too long".
"""

import asyncio
import contextlib
import html
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

BOT_ID = 7000001
BOT_USERNAME = "linli_test_bot"
TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi"
# The tags Telegram's HTML parse mode knows (core.telegram.org/bots/api#html-style).
HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
             "a", "tg-emoji", "code", "pre", "blockquote"}
MAX_TEXT = 4096


@dataclass
class Call:
    """One Bot API request the bot made."""

    method: str
    params: dict[str, Any]


@dataclass
class Failure:
    """Make the next `times` calls of `method` fail: 429 with retry_after, a 502, 403 or 409."""

    method: str
    times: int
    kind: str = "flood"  # "flood" | "server" | "blocked" | "conflict"


@dataclass
class FakeTelegram:
    """The server's state: queued updates, calls received, messages in each chat."""

    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    url: str = ""
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _update_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _runner: web.AppRunner | None = None

    # --- the server -------------------------------------------------------------------
    async def start(self, port: int = 0) -> None:
        """Listen on `port` of 127.0.0.1 (a free one if 0)."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """What TELEGRAM_BASE_URL is set to."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """What TELEGRAM_BASE_FILE_URL is set to."""
        return f"{self.url}/file/bot"

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await _params(request)
        failure = next((f for f in self.failures if f.method == method and f.times), None)
        if failure:
            failure.times -= 1
            return _failure(failure)
        problem = _html_problem(method, params)
        if problem:
            return web.json_response({"ok": False, "error_code": 400,
                                      "description": f"Bad Request: {problem}"}, status=400)
        if method != "getUpdates":
            async with self._changed:
                self.calls.append(Call(method, params))
                self._changed.notify_all()
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return web.json_response({"ok": True, "result": True})
        return web.json_response({"ok": True, "result": await handler(params)})

    async def _file(self, request: web.Request) -> web.Response:
        return web.Response(body=self.files[request.match_info["path"]])

    # --- Bot API methods ----------------------------------------------------------------
    async def _getMe(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "邻里", "username": BOT_USERNAME,
                "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": True}

    async def _getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset", 0) or 0)
        timeout = float(params.get("timeout", 0) or 0)
        async with self._changed:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            if not self.updates and timeout:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait_for(lambda: bool(self.updates)),
                                           min(timeout, 1.0))
            return list(self.updates)

    async def _sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._bot_message(int(params["chat_id"]), params)
        return message

    async def _editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self.messages[int(params["message_id"])]
        message["text"] = params["text"]
        message["reply_markup"] = params.get("reply_markup")
        if not message["reply_markup"]:
            message.pop("reply_markup")
        return message

    async def _editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self.messages[int(params["message_id"])]
        message["reply_markup"] = params.get("reply_markup")
        return message

    async def _getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params["file_id"]
        return {"file_id": file_id, "file_unique_id": file_id, "file_path": file_id,
                "file_size": len(self.files[file_id])}

    def _bot_message(self, chat_id: int, params: dict[str, Any]) -> dict[str, Any]:
        message = {"message_id": next(self._ids), "date": int(time.time()),
                   "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                   "from": {"id": BOT_ID, "is_bot": True, "first_name": "邻里",
                            "username": BOT_USERNAME},
                   "text": params["text"]}
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.messages[int(message["message_id"])] = message
        return message

    # --- what a user does ---------------------------------------------------------------
    async def _push(self, update: dict[str, Any]) -> None:
        async with self._changed:
            update["update_id"] = next(self._update_ids)
            self.updates.append(update)
            self._changed.notify_all()

    async def send_text(self, text: str, user_id: int = 1001, chat_id: int | None = None,
                        reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        """A user sends a text message (in a private chat unless chat_id < 0); return it."""
        message = self._user_message(user_id, chat_id)
        message["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(command)}]
        if reply_to:
            message["reply_to_message"] = reply_to
        await self._push({"message": message})
        return message

    async def send_message(self, user_id: int = 1001, **content: Any) -> None:
        """A user sends any other message (a sticker, a photo, a voice note...)."""
        message = self._user_message(user_id, None)
        message.update(content)
        await self._push({"message": message})

    async def send_document(self, name: str, data: bytes, user_id: int = 1001,
                            chat_id: int | None = None) -> None:
        """A user sends a file (in a private chat unless chat_id < 0)."""
        file_id = f"file-{next(self._ids)}"
        self.files[file_id] = data
        message = self._user_message(user_id, chat_id)
        message["document"] = {"file_id": file_id, "file_unique_id": file_id,
                               "file_name": name, "file_size": len(data)}
        await self._push({"message": message})

    async def press(self, message: dict[str, Any], label: str, user_id: int = 1001) -> None:
        """A user presses the button labelled `label` under a bot message."""
        data = next(b["callback_data"] for row in message["reply_markup"]["inline_keyboard"]
                    for b in row if b["text"] == label)
        await self.press_data(message, data, user_id)

    async def press_data(self, message: dict[str, Any], data: str, user_id: int = 1001) -> None:
        """A client sends any callback data for a bot message, as a forged button would."""
        await self._push({"callback_query": {
            "id": str(next(self._ids)), "chat_instance": "1", "data": data,
            "from": {"id": user_id, "is_bot": False, "first_name": "居民"},
            "message": self.messages[message["message_id"]]}})

    async def send_inline(self, query: str, user_id: int = 1001) -> None:
        """A user types `@bot query` in any chat."""
        await self._push({"inline_query": {
            "id": str(next(self._ids)), "query": query, "offset": "",
            "from": {"id": user_id, "is_bot": False, "first_name": "居民"}}})

    def _user_message(self, user_id: int, chat_id: int | None) -> dict[str, Any]:
        chat_id = user_id if chat_id is None else chat_id
        chat = ({"id": chat_id, "type": "private", "first_name": "居民"} if chat_id > 0
                else {"id": chat_id, "type": "group", "title": "邻里群"})
        return {"message_id": next(self._ids), "date": int(time.time()), "chat": chat,
                "from": {"id": user_id, "is_bot": False, "first_name": "居民"}}

    # --- what the tests read ----------------------------------------------------------------
    def sent_texts(self) -> list[str]:
        """The text of every message the bot sent."""
        return [m["text"] for m in self.sent()]

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        """The parameters of every call of `method` so far."""
        return [c.params for c in self.calls if c.method == method]

    async def wait_for(self, method: str = "sendMessage", count: int = 1,
                       timeout: float = 15.0) -> list[dict[str, Any]]:
        """Wait until the bot has made `count` more calls of `method`; return them."""
        already = len(self.sent(method))
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.sent(method)) >= already + count),
                timeout)
        return self.sent(method)[already : already + count]

    async def wait_until_sent(self, predicate: Callable[[list[str]], bool],
                              timeout: float = 30.0) -> list[str]:
        """Wait until the texts of all sent messages satisfy `predicate`; return them."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: predicate(self.sent_texts())), timeout)
        return self.sent_texts()

    def last_message(self) -> dict[str, Any]:
        """The last message the bot sent, as it stands now (after edits)."""
        return self.messages[max(self.messages)]


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        return dict(await request.json())
    form = await request.post()
    params: dict[str, Any] = {}
    for key, value in form.items():
        text = value if isinstance(value, str) else ""
        try:
            decoded = json.loads(text)
            params[key] = decoded if isinstance(decoded, dict | list) else text
        except ValueError:
            params[key] = text
    return params


class _TelegramHTML(HTMLParser):
    """Parse HTML as Telegram's parse mode does; collect the first problem and the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problem: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HTML_TAGS:
            self.problem = self.problem or f"can't parse entities: unsupported start tag \"{tag}\""
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.problem = self.problem or f"can't parse entities: unmatched end tag \"{tag}\""

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def html_problem(text: str) -> str | None:
    """What Telegram would refuse in an HTML text, or None if it renders."""
    # A bare & or < that is not an entity or a tag is refused by Telegram.
    stripped = text.replace("&lt;", "").replace("&gt;", "").replace("&amp;", "").replace(
        "&quot;", "").replace("&#x27;", "").replace("&#39;", "")
    if "&" in stripped:
        return "can't parse entities: unescaped '&'"
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    if parser.problem:
        return parser.problem
    if parser.open:
        return f"can't parse entities: no end tag for start tag \"{parser.open[-1]}\""
    if len(html.unescape("".join(parser.text))) > MAX_TEXT:
        return "message is too long"
    return None


def _html_problem(method: str, params: dict[str, Any]) -> str | None:
    texts: list[tuple[str, str | None]] = []
    if method in ("sendMessage", "editMessageText"):
        texts.append((str(params.get("text", "")), params.get("parse_mode")))
    if method == "answerInlineQuery":
        for result in params.get("results") or []:
            content = result.get("input_message_content") or {}
            texts.append((str(content.get("message_text", "")), content.get("parse_mode")))
    for text, mode in texts:
        problem = html_problem(text) if mode == "HTML" else None
        if problem is None and mode != "HTML" and len(text) > MAX_TEXT:
            problem = "message is too long"
        if problem:
            return problem
    return None


def _failure(failure: Failure) -> web.Response:
    if failure.kind == "flood":
        return web.json_response({"ok": False, "error_code": 429,
                                  "description": "Too Many Requests: retry after 1",
                                  "parameters": {"retry_after": 1}}, status=429)
    if failure.kind == "conflict":  # another process polls with the same token
        return web.json_response({"ok": False, "error_code": 409, "description":
                                  "Conflict: terminated by other getUpdates request; make sure "
                                  "that only one bot instance is running"}, status=409)
    if failure.kind == "blocked":
        return web.json_response({"ok": False, "error_code": 403,
                                  "description": "Forbidden: bot was blocked by the user"},
                                 status=403)
    return web.json_response({"ok": False, "error_code": 502, "description": "Bad Gateway"},
                             status=502)
