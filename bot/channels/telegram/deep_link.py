"""Links that open the bot with a question answered: https://t.me/<bot>?start=<payload>.

Telegram allows a payload of 64 characters of [A-Za-z0-9_-]; the question's UTF-8
bytes in base64url (no padding) fit that for questions of up to 16 Chinese characters,
and need no table on the server: the link still works after a restart or a move.
May import `telegram` and the bot's settings.
"""

import asyncio
import base64
import binascii

from telegram import Bot
from telegram.constants import MessageLimit
from telegram.error import TelegramError
from telegram.helpers import create_deep_linked_url

from bot.settings import Settings

MAX_PAYLOAD = MessageLimit.DEEP_LINK_LENGTH  # 64


def encode_question(question: str) -> str:
    """Return the /start payload of a question; raise ValueError if it is too long."""
    question = question.strip()
    if not question:
        raise ValueError("the question is empty; write it in quotes: "
                         "linli link \"老年人活动区在哪里？\"")
    payload = base64.urlsafe_b64encode(question.encode("utf-8")).decode("ascii").rstrip("=")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"question '{question}' needs a {len(payload)}-character link payload; "
                         f"Telegram allows {MAX_PAYLOAD}: shorten it to at most 16 Chinese "
                         "characters (48 bytes of UTF-8)")
    return payload


def decode_payload(payload: str) -> str | None:
    """Return the question in a /start payload, or None if it is not one of ours."""
    try:
        question = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return question.strip() or None


def question_link(bot_username: str, question: str) -> str:
    """The t.me link that opens the bot with `question` answered."""
    return create_deep_linked_url(bot_username.lstrip("@"), encode_question(question))


def ask_username(settings: Settings) -> str:
    """Ask Telegram (getMe) for the bot's username, with the token from the settings."""

    async def username() -> str:
        bot = Bot(settings.token(), base_url=settings.telegram_base_url or
                  "https://api.telegram.org/bot")
        async with bot:
            return bot.username

    try:
        return asyncio.run(username())
    except TelegramError as err:
        raise ValueError(f"could not ask Telegram for the bot's username ({err}); "
                         "give it with --bot USERNAME") from None
