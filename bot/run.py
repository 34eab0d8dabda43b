"""`linli run`: serve Telegram by long polling or by webhook, until SIGINT or SIGTERM.

May import `telegram` and `bot.app` (which wires the channels).
"""

import asyncio
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

from telegram import Bot
from telegram.error import InvalidToken, NetworkError

from bot.app import ALLOWED_UPDATES, build_application, open_conversation
from bot.channels.telegram.webhook import run_webhook
from bot.instance import InstanceLock
from bot.ops.logs import install_redaction
from bot.settings import Settings, SettingsError
from corpus.load import check_corpus_dir

logger = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 60.0


def parse_listen(value: str, option: str = "--listen") -> tuple[str, int]:
    """Split HOST:PORT; raise SettingsError naming the value and the fix."""
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        example = "127.0.0.1:8080" if option == "--web" else "127.0.0.1:8443"
        raise SettingsError(f"{option} '{value}' is not HOST:PORT; write e.g. {example}")
    return host.strip("[]"), int(port)


def webhook_options(settings: Settings, webhook: str, listen: str) -> dict[str, Any]:
    """The arguments of PTB's run_webhook / start_webhook for a public URL and HOST:PORT."""
    if urlsplit(webhook).scheme != "https":
        raise SettingsError(f"--webhook '{webhook}' must be an https:// URL (Telegram's rule)")
    host, port = parse_listen(listen)
    secret = (settings.linli_webhook_secret.get_secret_value()
              if settings.linli_webhook_secret else secrets.token_urlsafe(32))
    # PTB answers 403 to any request whose X-Telegram-Bot-Api-Secret-Token is not `secret`.
    return {"listen": host, "port": port, "url_path": urlsplit(webhook).path.strip("/"),
            "webhook_url": webhook, "secret_token": secret, "allowed_updates": ALLOWED_UPDATES}


async def wait_for_telegram(settings: Settings, first_delay: float = FIRST_RETRY_SECONDS,
                            max_delay: float = MAX_RETRY_SECONDS) -> str:
    """Ask the Bot API who the bot is, retrying with backoff until it answers.

    Raise `SettingsError` if it rejects the token: retrying cannot help then.
    """
    kwargs = {"base_url": settings.telegram_base_url} if settings.telegram_base_url else {}
    delay, attempt = first_delay, 1
    while True:
        bot = Bot(settings.token(), **kwargs)  # type: ignore[arg-type]
        try:
            # Bot.get_me, not Bot.initialize: initialize puts the token in its error message.
            await bot.request.initialize()
            me = await bot.get_me()
            return str(me.username)
        except InvalidToken as err:
            raise SettingsError(f"Telegram rejected TELEGRAM_BOT_TOKEN ({err.message}); copy "
                                "the token again from @BotFather, or check TELEGRAM_BASE_URL"
                                ) from None
        except NetworkError as err:
            logger.warning("the Bot API cannot be reached (attempt %d: %s); retrying in %.0f s",
                           attempt, err.message, delay)
        finally:
            await bot.request.shutdown()
        await asyncio.sleep(delay)
        delay, attempt = min(delay * 2, max_delay), attempt + 1


def run_bot(settings: Settings, webhook: str | None = None, listen: str | None = None,
            web: str | None = None) -> int:
    """Start the bot; return when a stop signal arrives (PTB stops cleanly on it).

    `web` (HOST:PORT): also serve the web page and WeChat there, on the bot's event loop.
    """
    settings.token()  # fail early, with the variable's name, if there is no token
    install_redaction(settings.secrets())
    # PTB's debug lines print whole updates: residents' ids and words. Never log them.
    logging.getLogger("telegram").setLevel(max(logging.INFO, logging.getLogger().level))
    options = webhook_options(settings, webhook, listen or "127.0.0.1:8443") if webhook else None
    web_address = parse_listen(web, "--web") if web else None
    if web_address:
        from bot.channels.web.server import check_settings

        check_settings(settings)
    # A missing corpus folder is reported at once, not after Telegram answers.
    check_corpus_dir(settings.linli_corpus_dir)
    lock = InstanceLock(settings.linli_data_dir).acquire()  # before Telegram hears of us
    try:
        return _serve(settings, options, web_address)
    finally:
        lock.release()


def _serve(settings: Settings, options: dict[str, Any] | None,
           web_address: tuple[str, int] | None) -> int:
    """Serve until a stop signal (the data folder's lock held by the caller)."""
    username = asyncio.run(wait_for_telegram(settings))
    logger.info("the Bot API accepts the token: @%s", username)
    conversation = open_conversation(settings)
    application = build_application(settings, conversation)
    if web_address:
        from bot.channels.web.server import serve_beside

        serve_beside(application, conversation, settings, *web_address)
    # Should the network drop between that check and the start, PTB keeps retrying too.
    if options:
        logger.info("serving the webhook on %s:%d/%s", options["listen"], options["port"],
                    options["url_path"])
        asyncio.run(run_webhook(application, options))
    else:
        logger.info("long polling Telegram for updates")
        application.run_polling(allowed_updates=ALLOWED_UPDATES, bootstrap_retries=-1)
    logger.info("stopped")
    return 0
