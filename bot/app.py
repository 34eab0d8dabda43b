"""Wire the bot: open the conversation (index, records), build the Telegram application.

`open_conversation` is Telegram-free (the bot and `linli chat` share it); `build_application`
registers the handlers of `bot.channels.telegram`. May import telegram and any channel.
"""

import asyncio
import logging
import os

from telegram import Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.channels.telegram import (
    admin,
    common,
    delivery,
    importing,
    inline,
    menu,
    resident,
    staff,
)
from bot.conversation import Conversation
from bot.live_index import LiveIndex
from bot.records import Records, open_records
from bot.settings import Settings
from bot.staff.desk import Desk
from bot.staff.loop import StaffLoop

logger = logging.getLogger(__name__)

# The running bot touches this file; `linli health` (Docker's HEALTHCHECK) reads its age.
HEARTBEAT_FILE = "heartbeat"
HEARTBEAT_SECONDS = 30


def open_conversation(settings: Settings, records: Records | None = None) -> Conversation:
    """Load the index and open the records: what both the bot and `linli chat` need."""
    live = LiveIndex(settings.linli_corpus_dir, settings.linli_data_dir,
                     settings.linli_answer_threshold)
    report = live.load()
    logger.info("index ready: %d articles, %d chunks (%s)", report.articles, report.chunks,
                "rebuilt" if report.rebuilt else "loaded")
    if records is None:
        records = open_records(settings.database_path, settings.user_key())
    return Conversation(live, records, stale_months=settings.linli_stale_months,
                        staff=StaffLoop(records, settings.linli_notify_days))


def build_application(settings: Settings, conversation: Conversation) -> Application:
    """Build the bot: long polling or webhook is the caller's choice."""
    # Opt in to PTB 22's timedelta durations (RetryAfter.retry_after) instead of a warning.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    # Retry after Telegram's flood limits (RetryAfter) instead of failing the reply;
    # concurrent updates, so that a /reload never holds up residents' questions.
    builder = (ApplicationBuilder().token(settings.token())
               .rate_limiter(AIORateLimiter(max_retries=3)).concurrent_updates(True))
    if settings.telegram_base_url:
        builder = builder.base_url(settings.telegram_base_url)
    if settings.telegram_base_file_url:
        builder = builder.base_file_url(settings.telegram_base_file_url)

    async def close_records(_: Application) -> None:
        conversation.records.close()

    heartbeat = settings.linli_data_dir / HEARTBEAT_FILE

    async def start_heartbeat(application: Application) -> None:
        async def beat() -> None:
            while True:
                await asyncio.to_thread(heartbeat.touch)
                await asyncio.sleep(HEARTBEAT_SECONDS)

        application.bot_data["heartbeat"] = asyncio.create_task(beat())
        application.bot_data["purge"] = asyncio.create_task(
            staff.purge_notifications(application))
        await admin.tell_admins_records_moved(application)
        await menu.set_commands(application.bot, settings.linli_admin_ids)
        await delivery.send_owed(application, conversation.records)  # answers a crash owed

    async def stop_heartbeat(application: Application) -> None:
        for name in ("heartbeat", "purge"):
            task = application.bot_data.pop(name, None)
            if task:
                task.cancel()

    application = (builder.post_init(start_heartbeat).post_stop(stop_heartbeat)
                   .post_shutdown(close_records).build())
    desk = Desk(conversation, settings.linli_corpus_dir, settings.linli_staff_source)
    application.bot_data.update(conversation=conversation, settings=settings,
                                pending_uploads={}, desk=desk)
    private, groups = filters.ChatType.PRIVATE, filters.ChatType.GROUPS
    application.add_handlers([
        CommandHandler("start", resident.start),
        CommandHandler("help", resident.help_command),
        CommandHandler("about", resident.about_command),
        CommandHandler("ask", resident.ask_command),
        CommandHandler("reload", admin.reload_command),
        CommandHandler("stats", admin.stats_command),
        CommandHandler("pending", staff.pending_command),
        CommandHandler("import", importing.import_command, filters=private),
        CallbackQueryHandler(importing.import_button, pattern=importing.BUTTON_PATTERN),
        CallbackQueryHandler(staff.staff_button, pattern=staff.BUTTON_PATTERN),
        CallbackQueryHandler(resident.button),
        InlineQueryHandler(inline.inline_query),
        MessageHandler(private & importing.IMPORTABLE, importing.import_file),
        MessageHandler(filters.Document.ALL, admin.document),
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, resident.private_text),
        MessageHandler(groups & filters.TEXT & ~filters.COMMAND, resident.group_text),
        MessageHandler(private & ~filters.TEXT & ~filters.COMMAND, resident.not_text),
    ])
    # Before the resident handlers: an admin's message may be the staff answer asked for.
    application.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND,
                                           staff.staff_text), group=-1)
    application.add_error_handler(common.error_handler)
    return application


ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]
