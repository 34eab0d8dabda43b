import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from corpus.paths import BUNDLED_CORPUS
from tests.helpers.fake_telegram import FakeTelegram
from tests.helpers.harness import Harness, bot_settings, running_bot

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
                 "LINLI_USER_KEY", "LINLI_STALE_MONTHS",
                 "LINLI_IMPORT_ALLOW_HOSTS"):
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
