"""`linli doctor`: check a deployment, one line per check, with the fix for each failure.

May import `telegram` (to ask the Bot API whether it accepts the token), the bot's
settings and records, the WeChat endpoint's settings check, `corpus` and `retrieval`.
"""

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.records import database_problem, moved_aside_files
from bot.settings import Settings, SettingsError
from corpus.load import load_corpus
from corpus.models import CorpusError
from retrieval.index import Index, IndexFileError, article_hash, index_dir_for


@dataclass
class Check:
    """The outcome of one check."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False
    setting: bool = False  # failed for a missing or malformed setting: exit 2, not 1

    def line(self) -> str:
        """Render as one line: status, name, what was found, what to do."""
        status = "warn" if self.warning else ("ok" if self.ok else "FAIL")
        text = f"{status:4} {self.name}: {self.detail}"
        return f"{text} -> {self.fix}" if self.fix and (not self.ok or self.warning) else text


def check_settings(settings: Settings) -> Check:
    """Settings parsed (malformed ones never get here); admins configured."""
    source = (f"environment and {settings.env_file}" if settings.env_file else
              f"environment only (no .env in {Path.cwd()})")
    detail = (f"from the {source}; corpus {settings.linli_corpus_dir}, "
              f"data {settings.linli_data_dir}, {len(settings.linli_admin_ids)} admin(s)")
    if not settings.linli_admin_ids:
        return Check("settings", True, detail, "set LINLI_ADMIN_IDS so that someone can /reload",
                     warning=True)
    return Check("settings", True, detail)


async def _get_me(settings: Settings) -> str:
    kwargs = {}
    if settings.telegram_base_url:
        kwargs["base_url"] = settings.telegram_base_url
    async with Bot(settings.token(), **kwargs) as bot:  # type: ignore[arg-type]
        return bot.username


def check_token(settings: Settings) -> Check:
    """The Bot API accepts the token (getMe)."""
    try:
        username = asyncio.run(_get_me(settings))
    except SettingsError:
        if web_only(settings):
            return Check("token", True, "TELEGRAM_BOT_TOKEN is not set: no Telegram bot, "
                         "`linli web` serves the page and WeChat",
                         "set it (from @BotFather) to answer in Telegram too", warning=True)
        return Check("token", False, "TELEGRAM_BOT_TOKEN is not set",
                     "put the token from @BotFather in the environment or the settings file "
                     "(for the web page and WeChat alone, set LINLI_USER_KEY instead)",
                     setting=True)
    except InvalidToken:
        return Check("token", False, "the Bot API rejected the token",
                     "copy the token again from @BotFather into TELEGRAM_BOT_TOKEN")
    except NetworkError as err:
        return Check("token", False, f"the Bot API cannot be reached ({err})",
                     "check the network, a proxy, or TELEGRAM_BASE_URL")
    except TelegramError as err:
        return Check("token", False, f"the Bot API answered: {err}",
                     "check TELEGRAM_BOT_TOKEN and TELEGRAM_BASE_URL")
    return Check("token", True, f"accepted by the Bot API as @{username}")


def web_only(settings: Settings) -> bool:
    """Tell whether the settings are those of `linli web` alone (deploy/README says how)."""
    return settings.linli_user_key is not None or settings.linli_wechat_token is not None


def check_web(settings: Settings) -> Check:
    """The web page's and WeChat's settings: what `linli web` would refuse to start with."""
    from bot.channels.wechat.endpoint import account

    detail = f"frame-ancestors {settings.linli_web_embed_origins}; "
    if settings.linli_wechat_token is None:
        return Check("web", True, detail + "WeChat off (LINLI_WECHAT_TOKEN not set)")
    try:
        _, safe = account(settings)
    except SettingsError as err:
        return Check("web", False, f"WeChat: {err}", "fix the setting it names", setting=True)
    return Check("web", True, detail + ("WeChat in safe mode" if safe else "WeChat in plain mode"))


def check_corpus(settings: Settings) -> Check:
    """The corpus loads; its problems are listed."""
    try:
        loaded = load_corpus(settings.linli_corpus_dir)
    except CorpusError as err:
        return Check("corpus", False, str(err), "create the folder or fix LINLI_CORPUS_DIR")
    problems = "".join(f"\n       {p}" for p in loaded.problems)
    detail = f"{len(loaded.articles)} articles, {len(loaded.problems)} problems{problems}"
    if not loaded.articles:
        return Check("corpus", False, detail, "add .md or .txt articles to the corpus folder")
    if loaded.errors:
        return Check("corpus", False, detail, "fix the files named above, then /reload")
    return Check("corpus", True, detail)


def check_data_dir(settings: Settings) -> Check:
    """The data folder is writable, and the records database is linli's and readable."""
    folder, database = settings.linli_data_dir, settings.database_path
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
        problem = database_problem(database)
    except OSError as err:
        return Check("data", False, f"{folder} is not writable ({err})",
                     f"create {folder} and give the bot's user write access")
    if problem:
        return Check("data", False, f"the records database {database} {problem}",
                     f"restore it from a backup, or let `linli run` rename it to "
                     f"{database.name}.broken-TIME and start a new one")
    detail = f"{folder} is writable; records in {database.name}"
    aside = moved_aside_files(database)
    if aside:
        return Check("data", True, f"{detail}; broken records databases set aside: "
                     f"{', '.join(p.name for p in aside)}",
                     "inspect them (sqlite3), then delete them", warning=True)
    return Check("data", True, detail)


def check_index(settings: Settings) -> Check:
    """The saved index matches the corpus (else the bot rebuilds at start-up)."""
    index_dir = index_dir_for(settings.linli_data_dir, settings.linli_corpus_dir)
    try:
        index = Index.load(index_dir)
        loaded = load_corpus(settings.linli_corpus_dir)
    except (IndexFileError, CorpusError) as err:
        return Check("index", False, str(err),
                     "run `linli index` (or start the bot: it builds one)")
    current = {a.id: article_hash(a) for a in loaded.articles}
    if index.article_hashes != current:
        stale = sorted(set(current.items()) ^ set(index.article_hashes.items()))
        names = ", ".join(sorted({ident for ident, _ in stale}))
        return Check("index", False, f"the saved index differs from the corpus ({names})",
                     "run `linli index`, or /reload in the bot")
    return Check("index", True, f"{len(index.articles)} articles, {len(index.chunks)} chunks, "
                 "matches the corpus")


CHECKS: list[Callable[[Settings], Check]] = [check_settings, check_token, check_web,
                                             check_corpus, check_data_dir, check_index]


def run_doctor(settings: Settings) -> int:
    """Run every check; exit 2 when a setting is missing, else 1 when any check fails."""
    results = [check(settings) for check in CHECKS]
    for result in results:
        print(result.line())
    if any(r.setting and not r.ok for r in results):
        return 2
    return 0 if all(r.ok for r in results) else 1
