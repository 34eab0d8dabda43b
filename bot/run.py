"""`linli run`: serve Telegram by long polling or by webhook, until SIGINT or SIGTERM."""

import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

from bot.app import ALLOWED_UPDATES, build_application, open_conversation
from bot.settings import Settings, SettingsError

logger = logging.getLogger(__name__)


def parse_listen(value: str) -> tuple[str, int]:
    """Split HOST:PORT; raise SettingsError naming the value and the fix."""
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(f"--listen '{value}' is not HOST:PORT; write e.g. 127.0.0.1:8443")
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


def run_bot(settings: Settings, webhook: str | None = None, listen: str | None = None) -> int:
    """Start the bot; return when a stop signal arrives (PTB stops cleanly on it)."""
    settings.token()  # fail early, with the variable's name, if there is no token
    options = webhook_options(settings, webhook, listen or "127.0.0.1:8443") if webhook else None
    application = build_application(settings, open_conversation(settings))
    if options:
        logger.info("serving the webhook on %s:%d/%s", options["listen"], options["port"],
                    options["url_path"])
        application.run_webhook(**options)
    else:
        logger.info("long polling Telegram for updates")
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
    logger.info("stopped")
    return 0
