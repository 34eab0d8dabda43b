import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import open_conversation
from bot.channels.wechat.endpoint import ENDPOINT_KEY
from bot.records import open_records
from bot.settings import Settings, load_settings
from corpus.paths import BUNDLED_CORPUS
from tests.helpers import fake_wechat
from tests.helpers.fake_telegram import FakeTelegram
from tests.helpers.harness import Harness, bot_settings, running_bot
from tests.helpers.web import KEY, WebServer, running_web

ROOT = Path(__file__).resolve().parent.parent
# The sample newspaper page (shared/seeds/000_e3e9c234e3938044.txt), kept with the tests
# so that a clone runs them anywhere.
SEED_PAGE = ROOT / "tests" / "data" / "seed_page_000_e3e9c234e3938044.txt"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep every test away from the developer's own settings, .env and data folder."""
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_BASE_URL", "TELEGRAM_BASE_FILE_URL",
                 "LINLI_ADMIN_IDS", "LINLI_CORPUS_DIR", "LINLI_DATA_DIR", "LINLI_LOG_FORMAT",
                 "LINLI_LOG_QUESTIONS", "LINLI_WEBHOOK_SECRET", "LINLI_ENV_FILE",
                 "LINLI_USER_KEY", "LINLI_STALE_MONTHS", "LINLI_STAFF_SOURCE",
                 "LINLI_NOTIFY_DAYS", "LINLI_WECHAT_TOKEN",
                 "LINLI_WECHAT_APP_ID", "LINLI_WECHAT_AES_KEY", "LINLI_WEB_EMBED_ORIGINS",
                 "LINLI_WEB_TRUSTED_PROXIES", "LINLI_IMPORT_ALLOW_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LINLI_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A writable copy of the bundled sample corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(BUNDLED_CORPUS, target)
    return target


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    """A fake Bot API server on 127.0.0.1."""
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def bot(telegram: FakeTelegram, corpus_dir: Path, tmp_path: Path,
              ) -> AsyncIterator[Harness]:
    """The real Application, polling the fake server, on a copy of the sample corpus."""
    settings = bot_settings(telegram, corpus_dir, tmp_path / "data")
    async with running_bot(telegram, settings) as harness:
        yield harness


def web_settings(corpus_dir: Path, data_dir: Path, safe: bool = True,
                 **overrides: object) -> Settings:
    """Settings for the web page and WeChat: the fake's Token, and in safe mode its AppID
    and EncodingAESKey."""
    keys = ({"linli_wechat_app_id": fake_wechat.APP_ID,
             "linli_wechat_aes_key": fake_wechat.AES_KEY} if safe else {})
    return load_settings(linli_corpus_dir=corpus_dir, linli_data_dir=data_dir,
                         linli_wechat_token=fake_wechat.TOKEN, **keys, **overrides)


@pytest.fixture
async def web(corpus_dir: Path, tmp_path: Path,
              request: pytest.FixtureRequest) -> AsyncIterator[WebServer]:
    """The web page, its API and /wechat on 127.0.0.1, over a copy of the sample corpus.

    /wechat is in safe mode unless the test parametrizes `web` (indirect) with False.
    """
    settings = web_settings(corpus_dir, tmp_path / "data", safe=getattr(request, "param", True))
    records = open_records(settings.database_path, KEY)
    conversation = await asyncio.to_thread(open_conversation, settings, records)
    async with running_web(conversation, settings) as server:
        yield server
    records.close()


@pytest.fixture
async def wechat(web: WebServer) -> AsyncIterator[fake_wechat.FakeWeChat]:
    """WeChat's servers, posting to the `web` fixture's /wechat in its mode."""
    safe = web.app[ENDPOINT_KEY].safe is not None
    async with fake_wechat.FakeWeChat(f"{web.url}/wechat", safe=safe) as fake:
        yield fake
