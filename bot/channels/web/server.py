"""Wire the web server: the page, the JSON API and (when its Token is set) WeChat's endpoint.

aiohttp serves them: it runs on asyncio like python-telegram-bot, so `linli run --web`
serves Telegram and the page from one process and one event loop. May import the web and
WeChat channels, bot.app (open_conversation, the heartbeat), bot.live_index, bot.records,
bot.settings, bot.ops.logs, corpus.load and aiohttp; python-telegram-bot's Application only
as a type. `linli web` re-reads the corpus on SIGHUP (there is no /reload without Telegram).
"""

import asyncio
import logging
import secrets
import signal
from collections.abc import AsyncIterator
from contextlib import suppress
from typing import TYPE_CHECKING

from aiohttp import web

from bot import replies
from bot.app import HEARTBEAT_FILE, HEARTBEAT_SECONDS, open_conversation
from bot.channels.web import api, page
from bot.channels.web.guard import ClientLimits, security_headers, unexpected_errors
from bot.conversation import Conversation
from bot.live_index import ReloadBusyError
from bot.records import open_records
from bot.settings import Settings, SettingsError
from corpus.load import check_corpus_dir

if TYPE_CHECKING:
    from telegram.ext import Application

logger = logging.getLogger(__name__)

# A question is at most 4,096 characters: 24 KiB as JSON's \uXXXX escapes, the most it takes.
MAX_BODY = 64 * 1024
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8080


def records_key(settings: Settings) -> bytes:
    """The key of the records' user hashes; without a token or LINLI_USER_KEY, one per run."""
    try:
        return settings.user_key()
    except SettingsError:
        logger.warning("neither LINLI_USER_KEY nor TELEGRAM_BOT_TOKEN is set: the records hash "
                       "ids with a key for this run only (feedback on an earlier run's answers "
                       "is refused); set LINLI_USER_KEY to keep it")
        return secrets.token_bytes(32)


def build_web_app(conversation: Conversation, settings: Settings, key: bytes) -> web.Application:
    """The aiohttp application: page, assets, API, and /wechat when it is configured."""
    app = web.Application(client_max_size=MAX_BODY,
                          middlewares=[security_headers(settings.linli_web_embed_origins),
                                       unexpected_errors(replies.APOLOGY)])
    app[api.CONVERSATION_KEY] = conversation
    app[api.LIMITS_KEY] = ClientLimits(settings.linli_web_trusted_proxies)
    app[api.USER_KEY] = key
    app[api.LOG_QUESTIONS_KEY] = settings.linli_log_questions
    page.add_routes(app, conversation)
    api.add_routes(app)
    if settings.linli_wechat_token is not None:
        from bot.channels.wechat.endpoint import add_routes as add_wechat

        add_wechat(app, conversation, settings, key)
    return app


async def start_site(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start serving `app` on host:port in the running event loop; return its runner."""
    # No access log: it would write each client's address and WeChat's openid query.
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    logger.info("serving the web page on http://%s:%d/%s", host, port,
                " and WeChat on /wechat" if serves_wechat(app) else "")
    return runner


def serves_wechat(app: web.Application) -> bool:
    """Tell whether the app serves /wechat."""
    return any(r.resource is not None and r.resource.canonical == "/wechat"
               for r in app.router.routes())


async def heartbeat(settings: Settings) -> None:
    """Touch the heartbeat file that `linli health` reads, as the Telegram bot does."""
    beat = settings.linli_data_dir / HEARTBEAT_FILE
    while True:
        await asyncio.to_thread(beat.touch)
        await asyncio.sleep(HEARTBEAT_SECONDS)


async def reload_corpus(conversation: Conversation) -> None:
    """Re-read the corpus into the live index (the old one stays live on failure); log it."""
    try:
        outcome = await asyncio.to_thread(conversation.live.reload_now)
    except ReloadBusyError:
        logger.warning("SIGHUP: a reload is already running")
        return
    if outcome.error:
        logger.error("SIGHUP: reload failed, the old index stays live: %s", outcome.error)
    else:
        logger.info("SIGHUP: reloaded the corpus")


def check_settings(settings: Settings) -> None:
    """Fail at once, naming the setting, on what would stop the server later."""
    check_corpus_dir(settings.linli_corpus_dir)  # before the records are opened
    if settings.linli_wechat_token is not None:
        from bot.channels.wechat.endpoint import account

        account(settings)


def run_web(settings: Settings, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> int:
    """`linli web`: serve the page (and WeChat) until SIGINT or SIGTERM."""
    from bot.ops.logs import install_redaction

    install_redaction(settings.secrets())
    check_settings(settings)
    key = records_key(settings)
    conversation = open_conversation(settings, open_records(settings.database_path, key))
    app = build_web_app(conversation, settings, key)

    async def beating(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(heartbeat(settings))
        reloads: set[asyncio.Task[None]] = set()

        def hangup() -> None:  # no /reload without Telegram: SIGHUP re-reads the corpus
            reload = asyncio.create_task(reload_corpus(conversation))
            reloads.add(reload)
            reload.add_done_callback(reloads.discard)

        with suppress(NotImplementedError, AttributeError):  # no SIGHUP on Windows
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, hangup)
        yield
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        conversation.records.close()

    app.cleanup_ctx.append(beating)

    def serving(_: str) -> None:  # run_app calls it once the socket is bound, not before
        logger.info("serving the web page on http://%s:%d/%s", host, port,
                    " and WeChat on /wechat" if serves_wechat(app) else "")

    web.run_app(app, host=host, port=port, access_log=None, print=serving)
    logger.info("stopped")
    return 0


def serve_beside(application: "Application", conversation: Conversation, settings: Settings,
                 host: str, port: int) -> None:
    """`linli run --web`: start the web server with the bot, on its loop; stop it with it."""
    # The bot has a token, so the key is the bot's: Telegram's ids and the web's hash alike.
    app = build_web_app(conversation, settings, settings.user_key())
    started, stopped = application.post_init, application.post_stop

    async def post_init(application: "Application") -> None:
        if started:
            await started(application)
        application.bot_data["web_runner"] = await start_site(app, host, port)

    async def post_stop(application: "Application") -> None:
        runner = application.bot_data.pop("web_runner", None)
        if runner is not None:
            await runner.cleanup()
        if stopped:
            await stopped(application)

    application.post_init, application.post_stop = post_init, post_stop

