"""The JSON API of the web page: POST /api/ask, GET /api/article/<id>, POST /api/feedback.

Search and SQLite writes run in a worker thread, so one slow question never holds up the
others. May import bot.conversation, bot.replies, bot.channels and aiohttp.
"""

import asyncio
import json
import logging
import re
import secrets
from typing import Any

from aiohttp import web

from bot import replies
from bot.channels.identity import channel_user
from bot.channels.text import MAX_INPUT_CHARS, clean_question
from bot.channels.web import payload
from bot.channels.web.guard import ClientLimits, cross_site
from bot.conversation import Conversation

logger = logging.getLogger(__name__)

CHANNEL = "web"
_CONVERSATION = re.compile(r"[A-Za-z0-9_-]{16,64}")
_ARTICLE = re.compile(r"[0-9a-f]{12}")
TOO_LONG = f"问题太长了（最多 {MAX_INPUT_CHARS} 个字），请说得简短一些。"
BAD_REQUEST = "请求的格式不对。"

CONVERSATION_KEY: web.AppKey[Conversation] = web.AppKey("conversation", Conversation)
LIMITS_KEY: web.AppKey[ClientLimits] = web.AppKey("limits", ClientLimits)
USER_KEY: web.AppKey[bytes] = web.AppKey("user_key", bytes)
LOG_QUESTIONS_KEY: web.AppKey[bool] = web.AppKey("log_questions", bool)


def error(status: int, message: str, **extra: Any) -> web.Response:
    """A JSON error the page shows as it is (Chinese, for the resident)."""
    return web.json_response({"error": message, **extra}, status=status,
                             dumps=lambda o: json.dumps(o, ensure_ascii=False))


def reply(body: dict[str, Any]) -> web.Response:
    """A JSON reply, Chinese kept as it is."""
    return web.json_response(body, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def slow_down(limits: ClientLimits, client: str) -> web.Response:
    """The 429 of a client over its limit, with when it may ask again."""
    logger.info("question not recorded (client rate limited)",
                extra={"skipped": "client rate limited", "chat_type": CHANNEL})
    response = error(429, replies.SLOW_DOWN)
    response.headers["Retry-After"] = str(limits.retry_after(client))
    return response


async def read_body(request: web.Request, limits: ClientLimits | None = None
                    ) -> dict[str, Any] | web.Response:
    """The POSTed JSON object, or the error response to send instead.

    With `limits`, the client's request is counted before its body is parsed, so that a
    flood of costly bodies is refused cheaply.
    """
    refused = cross_site(request)
    if refused:
        logger.info("refused a web request: %s", refused, extra={"refused": refused})
        return error(403, refused)
    if limits is not None:
        client = limits.client(request)
        if limits.too_fast(client):
            return slow_down(limits, client)
    try:
        body = await request.json()
    except web.HTTPRequestEntityTooLarge:
        return error(413, TOO_LONG)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: deep nesting
        return error(400, BAD_REQUEST)
    if not isinstance(body, dict):
        return error(400, BAD_REQUEST)
    return body


def conversation_id(body: dict[str, Any]) -> str | None:
    """The client's conversation id, a new one if it sent none, None if it is malformed."""
    given = body.get("conversation")
    if given is None or given == "":
        return secrets.token_urlsafe(16)
    return given if isinstance(given, str) and _CONVERSATION.fullmatch(given) else None


async def ask(request: web.Request) -> web.Response:
    """Answer a question: the passage, its bold sentence and citation, or an honest no."""
    body = await read_body(request, request.app[LIMITS_KEY])
    if isinstance(body, web.Response):
        return body
    ident, question = conversation_id(body), body.get("question")
    if ident is None or not isinstance(question, str):
        return error(400, BAD_REQUEST)
    if len(question) > MAX_INPUT_CHARS:
        return error(413, TOO_LONG)
    conversation = request.app[CONVERSATION_KEY]
    user = channel_user(request.app[USER_KEY], CHANNEL, ident)
    asked = await asyncio.to_thread(conversation.ask, user, CHANNEL, clean_question(question))
    if asked.skipped == "rate limited":
        logger.info("question not recorded (rate limited)",
                    extra={"skipped": asked.skipped, "chat_type": CHANNEL})
        response = error(429, replies.SLOW_DOWN)
        response.headers["Retry-After"] = str(max(1, conversation.retry_after(user)))
        return response
    extra: dict[str, Any] = {"answered": asked.answered, "latency_ms": round(asked.latency_ms, 1),
                             "chat_type": CHANNEL}
    if request.app[LOG_QUESTIONS_KEY]:
        extra["question"] = question
    logger.info("question answered=%s latency_ms=%.1f", asked.answered, asked.latency_ms,
                extra=extra)
    result = await asyncio.to_thread(payload.asked, conversation, asked, ident)
    return reply(result)


async def article(request: web.Request) -> web.Response:
    """The whole article, section by section, as plain text for the page to show."""
    key = request.match_info["article_id"]
    if not _ARTICLE.fullmatch(key):
        return error(404, replies.ARTICLE_GONE)
    found = await asyncio.to_thread(request.app[CONVERSATION_KEY].article_by_key, key)
    if found is None:
        return error(404, replies.ARTICLE_GONE)
    return reply(payload.article(found))


async def feedback(request: web.Request) -> web.Response:
    """Record 👍 (1) or 👎 (-1) from the conversation that asked the question."""
    body = await read_body(request)
    if isinstance(body, web.Response):
        return body
    ident, qid, value = body.get("conversation"), body.get("question_id"), body.get("value")
    if (not isinstance(ident, str) or not _CONVERSATION.fullmatch(ident)
            or type(qid) is not int or not 0 < qid < 10**18 or value not in (1, -1)
            or type(value) is not int):
        return error(400, BAD_REQUEST)
    user = channel_user(request.app[USER_KEY], CHANNEL, ident)
    [done] = await asyncio.to_thread(request.app[CONVERSATION_KEY].press, user,
                                     f"v:{qid}:{value}")
    if done.notice == replies.THANKS:
        return reply({"ok": True, "text": replies.THANKS})
    status = 403 if done.notice == replies.NOT_ASKER else 404
    return error(status, done.notice or replies.BUTTON_EXPIRED)


async def welcome(request: web.Request) -> web.Response:
    """The welcome and the example questions (the page shows them first)."""
    conversation = request.app[CONVERSATION_KEY]
    return reply(await asyncio.to_thread(payload.welcome, conversation))


def add_routes(app: web.Application) -> None:
    """Add the API's routes."""
    app.router.add_post("/api/ask", ask)
    app.router.add_get("/api/article/{article_id}", article)
    app.router.add_post("/api/feedback", feedback)
    app.router.add_get("/api/welcome", welcome)
