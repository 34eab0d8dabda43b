"""Run the real bot Application against the fake Bot API server."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram.ext import Application

from bot.app import ALLOWED_UPDATES, build_application, open_conversation
from bot.settings import Settings, load_settings
from tests.helpers.fake_telegram import TOKEN, FakeTelegram

ADMIN_ID = 42
RESIDENT_ID = 1001


@dataclass
class Harness:
    """A running bot and the fake Telegram it talks to."""

    telegram: FakeTelegram
    app: Application
    settings: Settings

    async def ask(self, text: str, user_id: int = RESIDENT_ID) -> dict[str, Any]:
        """Send a question in a private chat and return the bot's reply as it stands."""
        await self.telegram.send_text(text, user_id=user_id)
        [sent] = await self.telegram.wait_for("sendMessage")
        return self.telegram.last_message() | {"params": sent}


def bot_settings(telegram: FakeTelegram, corpus_dir: Path, data_dir: Path) -> Settings:
    """Settings that point the bot at the fake server."""
    return load_settings(telegram_bot_token=TOKEN, telegram_base_url=telegram.base_url,
                         telegram_base_file_url=telegram.base_file_url,
                         linli_admin_ids=str(ADMIN_ID), linli_corpus_dir=corpus_dir,
                         linli_data_dir=data_dir)


@asynccontextmanager
async def running_bot(telegram: FakeTelegram, settings: Settings) -> AsyncIterator[Harness]:
    """Start the Application polling the fake server; stop it cleanly afterwards."""
    conversation = await asyncio.to_thread(open_conversation, settings)
    app = build_application(settings, conversation)
    async with app:
        if app.post_init:  # run_polling calls it: the command menu, the heartbeat
            await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1,
                                        allowed_updates=ALLOWED_UPDATES)
        try:
            yield Harness(telegram, app, settings)
        finally:
            await app.updater.stop()
            await app.stop()
            if app.post_stop:
                await app.post_stop(app)
