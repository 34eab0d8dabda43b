"""Getting answers to residents: owed before sent, retried within a bound, resent after a crash.

At least once: an answer is recorded as owed before it is sent and forgotten once
Telegram has it; a start sends the answers still owed from the last few minutes
(`OWED_SECONDS`), each once. A Bot API 5xx or a 429 that outlasts the rate limiter's own
retries is retried with backoff, at most `SEND_ATTEMPTS` times. The replies waiting to
be sent are bounded (`MAX_WAITING`, `MAX_SENDING` of them in flight), and once the bot
is stopping no new send starts and no retry waits: a reply that cannot go now stays owed
for the next start, so a shutdown takes seconds.
May import `telegram` and the Telegram-free core of `bot`.
"""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from telegram import InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ChatType, ParseMode
from telegram.error import NetworkError, RetryAfter
from telegram.ext import Application, ContextTypes

from bot.channels.telegram.common import conversation_of, markup
from bot.records import Records
from bot.replies import Reply

logger = logging.getLogger(__name__)

OWED_SECONDS = 10 * 60  # answers owed for longer than this are not sent after a restart
SEND_ATTEMPTS = 4  # the first try and three retries
FIRST_BACKOFF = 1.0  # seconds; doubled after each failure
MAX_RETRY_AFTER = 30.0  # a longer flood wait is not waited for: the reply stays owed
MAX_SENDING = 30  # sends in flight at once (Telegram takes about 30 messages a second)
MAX_WAITING = 1000  # replies queued for a send; past it a reply stays owed


@dataclass
class Outbox:
    """The sends under way and what became of the others (kept in `bot_data`)."""

    waiting: int = 0  # replies queued or in flight
    deferred: int = 0  # replies left owed: queue full or shutting down
    failed: int = 0  # replies whose every attempt failed (still owed)
    sending: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(MAX_SENDING))


def outbox_of(application: Application) -> Outbox:
    """The application's outbox (made on first use)."""
    outbox: Outbox = application.bot_data.setdefault("outbox", Outbox())
    return outbox


async def with_retries(send: Callable[[], Awaitable[Any]],
                       keep_going: Callable[[], bool] = lambda: True,
                       first_backoff: float = FIRST_BACKOFF) -> Any:
    """Run `send`, again after a 5xx, a network error or a flood wait, within the bound.

    `keep_going` is asked before each retry: a bot that is stopping does not wait.
    """
    delay = first_backoff
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return await send()
        except RetryAfter as err:
            wait = err.retry_after
            seconds = wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)
            if attempt == SEND_ATTEMPTS or seconds > MAX_RETRY_AFTER or not keep_going():
                raise
            logger.warning("the Bot API asks to wait %.0f s (attempt %d); retrying", seconds,
                           attempt)
            await asyncio.sleep(seconds)
        except NetworkError as err:  # 5xx, a dropped connection, a timeout
            if attempt == SEND_ATTEMPTS or not keep_going():
                raise
            logger.warning("sending failed (attempt %d: %s); retrying in %.0f s", attempt,
                           err.message, delay)
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")  # the loop returns or raises


async def deliver(message: Message, reply: Reply, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Send a resident's answer at least once; return whether Telegram has it now."""
    records = conversation_of(context).records
    html, keyboard = reply.html(), markup(reply)
    group = message.chat.type != ChatType.PRIVATE
    owed = await asyncio.to_thread(records.owe, message.chat.id,
                                   message.message_id if group else None, html,
                                   keyboard.to_json() if keyboard else None)
    outbox = outbox_of(context.application)
    if outbox.waiting >= MAX_WAITING:
        return _defer(outbox, "too many waiting")
    outbox.waiting += 1
    try:
        async with outbox.sending:  # a queue in order, at most MAX_SENDING in flight
            if not context.application.running:  # stopping: no new send, the reply stays owed
                return _defer(outbox, "stopping")
            await with_retries(lambda: message.reply_html(html, reply_markup=keyboard,
                                                          do_quote=group),
                               lambda: context.application.running)
    except (NetworkError, RetryAfter) as err:
        outbox.failed += 1
        logger.error("reply not delivered (%s); it stays owed for the next start",
                     err.message)
        return False
    finally:
        outbox.waiting -= 1
    if owed is not None:
        await asyncio.to_thread(records.delivered, owed)
    return True


def _defer(outbox: Outbox, why: str) -> bool:
    """Leave a reply owed (sent at the next start) and say so."""
    outbox.deferred += 1
    logger.warning("reply left owed (%s; %d so far): sent at the next start", why,
                   outbox.deferred)
    return False


async def send_owed(application: Application, records: Records) -> int:
    """Send, once, the answers still owed from the last OWED_SECONDS; return how many went."""
    owed = await asyncio.to_thread(records.owed, OWED_SECONDS)
    sent = 0
    for reply in owed:
        keyboard = (InlineKeyboardMarkup.de_json(json.loads(reply.markup), application.bot)
                    if reply.markup else None)
        quote = (ReplyParameters(reply.reply_to, allow_sending_without_reply=True)
                 if reply.reply_to else None)
        try:
            await with_retries(partial(application.bot.send_message, reply.chat_id, reply.text,
                                       parse_mode=ParseMode.HTML, reply_markup=keyboard,
                                       reply_parameters=quote))
        except Exception as err:  # one chat's failure (blocked, gone) never stops the rest
            logger.warning("an owed reply could not be sent (%s: %s); dropped",
                           type(err).__name__, err)
        else:
            sent += 1
        await asyncio.to_thread(records.delivered, reply.id)  # sent once, or not at all
    if owed:
        logger.info("sent %d of %d answers owed from before the restart", sent, len(owed))
    return sent
