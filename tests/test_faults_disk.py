"""Issue 22, row 1: a full data disk never stops an answer; bookkeeping is what gives way."""

import logging
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers.fake_telegram import FakeTelegram
from tests.helpers.harness import bot_settings, running_bot
from tests.helpers.privileges import fill, needs_tmpfs, small_disk
from tests.test_service import LINLI


@needs_tmpfs
async def test_residents_get_answers_while_the_data_disk_is_full(
        telegram: FakeTelegram, corpus_dir: Path, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    with small_disk(tmp_path / "data") as data:
        settings = bot_settings(telegram, corpus_dir, data)
        async with running_bot(telegram, settings) as bot:
            assert "📰《" in (await bot.ask("老年人活动区在哪里"))["text"]  # recorded
            filler = fill(data)
            with caplog.at_level(logging.ERROR, logger="bot.records"):
                for n, question in enumerate(("哪里可以免费量血压", "儿童微乐园有什么",
                                              "人大代表联络站在哪里")):
                    reply = await bot.ask(question, user_id=2000 + n)
                    assert "📰《" in reply["text"] and "出了点问题" not in reply["text"]
                    labels = [b["text"] for row in reply["reply_markup"]["inline_keyboard"]
                              for b in row]
                    assert "📖 阅读全文" in labels and "👍 有用" not in labels  # nothing to vote on
            records = bot.app.bot_data["conversation"].records
            assert records.failed_writes >= 6  # each answer: its question and its owed row
            [line] = [r for r in caplog.records if "could not be recorded" in r.getMessage()]
            assert str(data / "linli.sqlite3") in line.getMessage()
            assert "free space on the data disk" in line.getMessage()
            filler.unlink()  # space again: questions are recorded again
            reply = await bot.ask("老年人活动区在哪里", user_id=3000)
            assert "👍 有用" in str(reply["reply_markup"])
            assert records.stats(1).questions == 2


@needs_tmpfs
def test_linli_index_on_a_full_disk_names_the_file_it_could_not_write(
        corpus_dir: Path, tmp_path: Path) -> None:
    with small_disk(tmp_path / "data") as data:
        env = {**os.environ, "LINLI_CORPUS_DIR": str(corpus_dir), "LINLI_DATA_DIR": str(data)}
        fill(data)
        done = subprocess.run([LINLI, "index", "--force"], env=env, capture_output=True,
                              text=True, timeout=180, check=False)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    [line] = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert line.startswith(f"error: {data}/index/")
    assert line.endswith(": No space left on device; free space on that disk (or give linli "
                         "a bigger one), then try again")
