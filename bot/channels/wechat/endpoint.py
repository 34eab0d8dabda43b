"""GET /wechat (WeChat's server check) and POST /wechat (followers' messages), on aiohttp.

Every request must carry WeChat's signature of the Token; safe mode's messages are also
signed and encrypted with the EncodingAESKey. A passive reply goes back in the same HTTP
response, within WeChat's 5 seconds. May import the WeChat channel's modules,
bot.channels, bot.conversation, bot.replies, bot.settings and aiohttp.
"""

import asyncio
import logging
import secrets
import time
from typing import Any

from aiohttp import web

from bot import replies
from bot.channels.identity import channel_user
from bot.channels.text import MAX_INPUT_CHARS, clean_question
from bot.channels.wechat import format as wechat_text
from bot.channels.wechat.crypto import SafeMode, WeChatCryptoError, signature, signature_matches
from bot.channels.wechat.messages import (
    Message,
    MessageError,
    encrypted_reply,
    parse_message,
    parse_xml,
    text_reply,
)
from bot.channels.wechat.session import Follower, Followers, Nonces, Pending
from bot.conversation import Conversation, article_key
from bot.settings import Settings, SettingsError

logger = logging.getLogger(__name__)

CHANNEL = "wechat"
REPLY_SECONDS = 4.0  # WeChat waits 5 s for the passive reply, then retries
TIMESTAMP_SLACK = 600  # seconds a signed request's timestamp may be off; its nonce is kept
SUCCESS = "success"  # WeChat's word for "received, no reply"


class WeChatEndpoint:
    """One official account's endpoint: its keys, the conversation, followers' state."""

    def __init__(self, conversation: Conversation, token: str, safe: SafeMode | None,
                 user_key: bytes, log_questions: bool = False) -> None:
        self.conversation, self.token, self.safe = conversation, token, safe
        self.user_key, self.log_questions = user_key, log_questions
        self.followers, self.pending = Followers(), Pending()
        self.nonces = Nonces(TIMESTAMP_SLACK)

    def signed(self, query: Any) -> bool:
        """Tell whether the query's signature is the Token's over its timestamp and nonce."""
        return signature_matches(query.get("signature", ""), self.token,
                                 query.get("timestamp", ""), query.get("nonce", ""))

    async def check(self, request: web.Request) -> web.Response:
        """GET: WeChat checks the server; answer its echostr if the signature is right."""
        if not self.signed(request.query):
            logger.warning("refused a WeChat server check: bad signature")
            raise web.HTTPForbidden(text="bad signature")
        return web.Response(text=request.query.get("echostr", ""), content_type="text/plain")

    async def receive(self, request: web.Request) -> web.Response:
        """POST: a follower's message; the reply is the response body."""
        query = request.query
        if not self.signed(query) or not fresh(query.get("timestamp", "")):
            logger.warning("refused a WeChat message: bad or stale signature")
            raise web.HTTPForbidden(text="bad signature")
        encrypted = query.get("encrypt_type") == "aes"
        if self.safe is not None and not encrypted:
            # In safe mode WeChat encrypts every message; a plain one is a forgery that
            # would only need one signed query (the plain signature covers no body).
            logger.warning("refused a WeChat message: not encrypted, but safe mode is set")
            raise web.HTTPForbidden(text="bad message")
        posted = await request.read()
        if not self.nonces.allows(query.get("timestamp", ""), query.get("nonce", ""), posted):
            logger.warning("refused a WeChat message: its signed query was used before")
            raise web.HTTPForbidden(text="bad signature")
        try:
            message = self.read(posted, query, encrypted)
        except (MessageError, WeChatCryptoError) as err:
            logger.warning("refused a WeChat message: %s", err)
            raise web.HTTPForbidden(text="bad message") from None
        content = await self.reply_to(message)
        if not content:
            return web.Response(text=SUCCESS, content_type="text/plain")
        body = text_reply(message, content)
        if encrypted and self.safe is not None:
            body = self.seal(self.safe, body, query.get("nonce", ""))
        return web.Response(text=body, content_type="application/xml")

    def read(self, body: bytes, query: Any, encrypted: bool) -> Message:
        """The message in the body, checked and decrypted in safe mode."""
        fields = parse_xml(body)
        if encrypted:
            if self.safe is None:
                raise MessageError("a safe-mode message, but LINLI_WECHAT_AES_KEY or "
                                   "LINLI_WECHAT_APP_ID is not set")
            ciphertext = fields.get("Encrypt", "")
            if not signature_matches(query.get("msg_signature", ""), self.token,
                                     query.get("timestamp", ""), query.get("nonce", ""),
                                     ciphertext):
                raise MessageError("bad msg_signature")
            fields = parse_xml(self.safe.decrypt(ciphertext).encode("utf-8"))
        return parse_message(fields)

    def seal(self, safe: SafeMode, body: str, nonce: str) -> str:
        """Encrypt and sign a reply for safe mode."""
        timestamp = str(int(time.time()))
        nonce = nonce if nonce.isdigit() and len(nonce) <= 32 else str(secrets.randbelow(10**9))
        ciphertext = safe.encrypt(body)
        return encrypted_reply(ciphertext, signature(self.token, timestamp, nonce, ciphertext),
                               timestamp, nonce)

    async def reply_to(self, message: Message) -> str:
        """The reply text, made once per message however often WeChat posts it."""
        future = self.pending.get(message.key)
        if future is None:
            future = asyncio.ensure_future(self.respond(message))
            self.pending.add(message.key, future)
        try:
            return await asyncio.wait_for(asyncio.shield(future), REPLY_SECONDS)
        except TimeoutError:
            logger.warning("a WeChat reply took over %.0f s; told the follower to ask again",
                           REPLY_SECONDS)
            return wechat_text.SLOW_SEARCH
        except Exception:  # a bug must not leave the follower with WeChat's "无法提供服务"
            logger.exception("error while answering a WeChat message")
            return replies.APOLOGY

    async def respond(self, message: Message) -> str:
        """What to answer a message or an event ('' for none)."""
        user = channel_user(self.user_key, CHANNEL, message.from_user)
        follower = self.followers.get(user)
        if message.msg_type == "event":
            if message.event != "subscribe":
                return ""
            follower.examples = await asyncio.to_thread(self.conversation.example_questions)
            return wechat_text.with_examples(wechat_text.GREETING, follower.examples)
        if message.msg_type not in ("text", "voice") or (
                message.msg_type == "voice" and not message.content.strip()):
            return replies.NOT_TEXT  # a picture, or a voice WeChat could not recognise
        # A blank text goes to the conversation, which answers it as the page does.
        text = clean_question(message.content[:MAX_INPUT_CHARS]).strip()
        if text.lower() in wechat_text.HELP_WORDS:
            return wechat_text.HELP
        if text == wechat_text.FULL_TEXT:
            return await asyncio.to_thread(self.full_text, follower)
        if text.isdecimal() and 1 <= int(text) <= len(follower.examples):
            text = follower.examples[int(text) - 1]
        return await self.ask(user, follower, text)

    async def ask(self, user: int, follower: Follower, question: str) -> str:
        """Ask the conversation and shape its answer for WeChat."""
        asked = await asyncio.to_thread(self.conversation.ask, user, CHANNEL, question)
        if asked.skipped:
            logger.info("question not recorded (%s)", asked.skipped,
                        extra={"skipped": asked.skipped, "chat_type": CHANNEL})
        else:
            extra: dict[str, Any] = {"answered": asked.answered, "chat_type": CHANNEL,
                                     "latency_ms": round(asked.latency_ms, 1)}
            if self.log_questions:
                extra["question"] = question
            logger.info("question answered=%s latency_ms=%.1f", asked.answered,
                        asked.latency_ms, extra=extra)
        found = asked.found
        if asked.skipped == "rate limited":
            return replies.SLOW_DOWN
        if found is None or not found.hits:
            follower.examples = await asyncio.to_thread(self.conversation.example_questions)
            return wechat_text.with_examples(asked.reply.plain(), follower.examples)
        hit = found.hits[0]
        follower.examples, follower.article_key, follower.next_part = [], article_key(
            hit.article_id), 0
        return wechat_text.answer(hit, not found.answered, asked.topic,
                                  self.conversation.is_stale(hit), asked.cut)

    def full_text(self, follower: Follower) -> str:
        """The next part of the article last answered from."""
        if follower.article_key is None:
            return wechat_text.NO_ARTICLE
        article = self.conversation.article_by_key(follower.article_key)
        if article is None:
            return replies.ARTICLE_GONE
        parts = wechat_text.article_parts(article)
        part = parts[min(follower.next_part, len(parts) - 1)]
        follower.next_part = (follower.next_part + 1) % len(parts)
        return part


ENDPOINT_KEY: web.AppKey[WeChatEndpoint] = web.AppKey("wechat", WeChatEndpoint)


def fresh(timestamp: str, now: float | None = None) -> bool:
    """Tell whether a signed timestamp is within TIMESTAMP_SLACK of now."""
    now = time.time() if now is None else now
    return timestamp.isdigit() and abs(int(timestamp) - now) <= TIMESTAMP_SLACK


def account(settings: Settings) -> tuple[str, SafeMode | None]:
    """The account's Token and safe mode from the settings; SettingsError if they are half set."""
    if settings.linli_wechat_token is None:
        raise SettingsError("LINLI_WECHAT_TOKEN is not set; copy the Token from the official "
                            "account's server settings")
    token = settings.linli_wechat_token.get_secret_value().strip()
    aes, app_id = settings.linli_wechat_aes_key, settings.linli_wechat_app_id
    if (aes is None) != (app_id is None):
        missing = "LINLI_WECHAT_APP_ID" if app_id is None else "LINLI_WECHAT_AES_KEY"
        raise SettingsError(f"{missing} is not set: safe mode needs both the AppID and the "
                            "EncodingAESKey (or set neither for plain mode)")
    if aes is None or app_id is None:
        return token, None
    try:
        return token, SafeMode(aes.get_secret_value().strip(), app_id.get_secret_value().strip())
    except ValueError as err:
        raise SettingsError(f"LINLI_WECHAT_AES_KEY: {err}") from None


def add_routes(app: web.Application, conversation: Conversation, settings: Settings,
               user_key: bytes) -> None:
    """Serve /wechat for the account in the settings (its Token must be set)."""
    token, safe = account(settings)
    endpoint = WeChatEndpoint(conversation, token, safe, user_key, settings.linli_log_questions)
    app[ENDPOINT_KEY] = endpoint
    app.router.add_get("/wechat", endpoint.check)
    app.router.add_post("/wechat", endpoint.receive)
