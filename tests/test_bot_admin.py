import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.fake_telegram import Failure, FakeTelegram
from tests.helpers.harness import ADMIN_ID, Harness, bot_settings, running_bot
from tests.test_bot_resident import labels

NEW_ARTICLE = """---
title: 测试用文章
date: 2021-07
---
测试段落：社区开设了老年食堂，每天中午供应午餐。
"""


async def test_admin_commands_are_refused_to_residents(bot: Harness) -> None:
    for command in ("/reload", "/stats"):
        assert (await bot.ask(command))["text"] == "抱歉，这个命令只有管理员可以使用。"
    await bot.telegram.send_document("x.md", NEW_ARTICLE.encode())
    [reply] = await bot.telegram.wait_for("sendMessage")
    assert reply["text"] == "抱歉，这个命令只有管理员可以使用。"
    assert not (bot.settings.linli_corpus_dir / "x.md").exists()


async def test_reload_reports_what_changed(bot: Harness) -> None:
    corpus = bot.settings.linli_corpus_dir
    (corpus / "食堂.md").write_text(NEW_ARTICLE, encoding="utf-8")
    await bot.telegram.send_text("/reload", user_id=ADMIN_ID)
    [_, report] = await bot.telegram.wait_for("sendMessage", count=2)
    assert report["text"].startswith("✅ 重新加载完成：5 篇文章")
    assert "新增（1）：食堂" in report["text"]
    assert "老年食堂" in (await bot.ask("哪里有老年食堂"))["text"]


async def test_a_reload_of_many_new_articles_names_ten_and_counts_the_rest(bot: Harness) -> None:
    corpus = bot.settings.linli_corpus_dir
    for i in range(13):
        (corpus / f"新{i:02d}.md").write_text(NEW_ARTICLE, encoding="utf-8")
    await bot.telegram.send_text("/reload", user_id=ADMIN_ID)
    [_, report] = await bot.telegram.wait_for("sendMessage", count=2)
    names = "、".join(f"新{i:02d}" for i in range(10))
    assert f"新增（13）：{names} 等（另有 3 篇）" in report["text"]
    assert "新10" not in report["text"]


async def test_reload_with_a_broken_file_keeps_the_old_article_and_says_why(
        bot: Harness) -> None:
    corpus = bot.settings.linli_corpus_dir
    target = next(corpus.glob("*学党史润初心*"))
    target.write_text(target.read_text(encoding="utf-8").replace("date: 2021-06",
                                                                 "date: 2021-13"),
                      encoding="utf-8")
    await bot.telegram.send_text("/reload", user_id=ADMIN_ID)
    [_, report] = await bot.telegram.wait_for("sendMessage", count=2)
    assert f"error: {target.name}:4: date &#x27;2021-13&#x27; is not a date" in report["text"] \
        or f"error: {target.name}:4: date '2021-13' is not a date" in report["text"]
    assert "the last good version stays in the index" in report["text"]
    assert "橡树玫瑰社区" in (await bot.ask("老年人活动区在哪里"))["text"]


async def test_reload_of_an_empty_corpus_keeps_the_old_index(bot: Harness) -> None:
    for path in bot.settings.linli_corpus_dir.iterdir():
        path.unlink()
    await bot.telegram.send_text("/reload", user_id=ADMIN_ID)
    [_, report] = await bot.telegram.wait_for("sendMessage", count=2)
    assert report["text"].startswith("❌ 重新加载失败，继续使用原来的索引。")
    assert "no article loaded" in report["text"]
    assert "橡树玫瑰社区" in (await bot.ask("老年人活动区在哪里"))["text"]


async def test_questions_during_a_reload_are_all_answered(bot: Harness) -> None:
    await bot.telegram.send_text("/reload", user_id=ADMIN_ID)
    for i in range(8):
        await bot.telegram.send_text("哪里可以免费量血压", user_id=3000 + i)
    sent = await bot.telegram.wait_for("sendMessage", count=10, timeout=30)
    answers = [m["text"] for m in sent if "量血压" in m["text"] or "测量血压" in m["text"]]
    assert len(answers) == 8
    assert any(m["text"].startswith("✅ 重新加载完成") for m in sent)


async def test_a_question_asked_during_a_reload_is_answered_wholly_from_the_old_index(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import conversation

    question = "老年人活动区在哪里？"
    before = await bot.ask(question)
    assert "棋牌桌" in before["text"]
    article = bot.settings.linli_corpus_dir / "2021-06-学党史润初心-办实事解民忧.md"
    article.write_text(article.read_text(encoding="utf-8").replace("棋牌桌", "乒乓球台"),
                       encoding="utf-8")
    original = conversation.resolve
    asked, reloaded = threading.Event(), threading.Event()

    def paused(*args: Any, **kwargs: Any) -> Any:
        # The question has taken the searcher in service; it searches after the reload.
        asked.set()
        reloaded.wait(10)
        return original(*args, **kwargs)

    monkeypatch.setattr(conversation, "resolve", paused)
    await bot.telegram.send_text(question)
    assert await asyncio.to_thread(asked.wait, 10)
    await bot.telegram.send_text("/reload", user_id=ADMIN_ID)
    await bot.telegram.wait_until_sent(lambda texts: any(t.startswith("✅") for t in texts))
    reloaded.set()
    [during] = [m for m in await bot.telegram.wait_for("sendMessage")
                if m["chat_id"] == before["params"]["chat_id"]]
    assert during["text"] == before["params"]["text"]  # the old index, whole
    after = await bot.ask(question)
    assert "乒乓球台" in after["text"] and "棋牌桌" not in after["text"]  # the new, whole


async def test_a_second_reload_while_one_runs_is_told_to_wait(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from bot import live_index

    original = live_index.refresh_index

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.5)  # an unchanged corpus reloads in milliseconds: make the first one last
        return original(*args, **kwargs)

    monkeypatch.setattr(live_index, "refresh_index", slow)
    await bot.telegram.send_text("/reload", user_id=ADMIN_ID)
    await bot.telegram.send_text("/reload", user_id=ADMIN_ID)
    busy = "正在重新加载文章，请稍候再试。"
    texts = await bot.telegram.wait_until_sent(
        lambda texts: any(t.startswith("✅") for t in texts) and busy in texts)
    await asyncio.sleep(0.5)  # room for a second report, which must not come
    assert sum(t.startswith("✅ 重新加载完成") for t in bot.telegram.sent_texts()) == 1
    assert texts.count(busy) == 1


async def test_stats_for_admins(bot: Harness) -> None:
    await bot.ask("哪里可以下棋")
    await bot.ask("怎么办理社保卡")
    await bot.ask("怎么办理社保卡", user_id=2002)
    stats = (await bot.ask("/stats", user_id=ADMIN_ID))["text"]
    assert "今天提问：3" in stats and "已回答 33%" in stats
    assert "1. 怎么办理社保卡（2 次）" in stats


async def test_admin_uploads_an_article_and_it_is_answered(bot: Harness) -> None:
    await bot.telegram.send_document("食堂.md", NEW_ARTICLE.encode(), user_id=ADMIN_ID)
    sent = await bot.telegram.wait_for("sendMessage", count=3)
    assert sent[0]["text"] == "📄 已保存《测试用文章》（食堂.md）。"
    assert sent[2]["text"].startswith("✅ 重新加载完成：5 篇文章")
    assert (bot.settings.linli_corpus_dir / "食堂.md").read_text(encoding="utf-8") == NEW_ARTICLE


async def test_a_broken_upload_is_refused_with_the_line(bot: Harness) -> None:
    broken = NEW_ARTICLE.replace("date: 2021-07", "date: 2021-7")
    await bot.telegram.send_document("坏.md", broken.encode(), user_id=ADMIN_ID)
    [reply] = await bot.telegram.wait_for("sendMessage")
    assert reply["text"].startswith("❌ 文章没有保存：坏.md:3: date ")
    assert not (bot.settings.linli_corpus_dir / "坏.md").exists()


async def test_overwriting_an_article_asks_first(bot: Harness) -> None:
    (bot.settings.linli_corpus_dir / "食堂.md").write_text(NEW_ARTICLE, encoding="utf-8")
    changed = NEW_ARTICLE.replace("午餐", "午餐和晚餐")
    await bot.telegram.send_document("食堂.md", changed.encode(), user_id=ADMIN_ID)
    [question] = await bot.telegram.wait_for("sendMessage")
    assert labels(bot.telegram.last_message()) == [["覆盖", "取消"]]
    assert "午餐和晚餐" not in (bot.settings.linli_corpus_dir / "食堂.md").read_text("utf-8")
    await bot.telegram.press(bot.telegram.last_message(), "覆盖", user_id=ADMIN_ID)
    [edit] = await bot.telegram.wait_for("editMessageText")
    assert edit["text"] == "📄 已覆盖《测试用文章》（食堂.md）。"
    assert "午餐和晚餐" in (bot.settings.linli_corpus_dir / "食堂.md").read_text("utf-8")
    assert question["text"] == "“食堂.md”已经存在。要用新文件覆盖它吗？"


async def test_buttons_still_work_after_a_restart_and_say_when_the_article_is_gone(
        telegram: FakeTelegram, corpus_dir: Path, tmp_path: Path) -> None:
    settings = bot_settings(telegram, corpus_dir, tmp_path / "data")
    async with running_bot(telegram, settings) as first:
        reply = await first.ask("党史学习教育")
        full = await first.ask("人大代表联络站")
    async with running_bot(telegram, settings) as second:
        await telegram.press(reply, "下一条 ▶")
        [edit] = await telegram.wait_for("editMessageText")
        assert "（第 2 条，共" in edit["text"]
        next(corpus_dir.glob("*搭建履职平台*")).unlink()
        await telegram.send_text("/reload", user_id=ADMIN_ID)
        await telegram.wait_for("sendMessage", count=2)
        await telegram.press(full, "📖 阅读全文")
        [gone] = await telegram.wait_for("answerCallbackQuery")
        assert gone["text"] == "抱歉，这篇文章已经下架或更新，请重新提问。"
        assert second.app.bot_data["conversation"].records.stats(7).questions == 2


async def test_flood_limits_are_waited_out_and_the_reply_arrives(bot: Harness) -> None:
    bot.telegram.failures.append(Failure("sendMessage", times=1, kind="flood"))
    reply = await bot.ask("哪里可以下棋")
    assert "下棋" in reply["text"]


async def test_telegram_errors_never_kill_the_bot(bot: Harness) -> None:
    bot.telegram.failures.append(Failure("sendMessage", times=2, kind="server"))
    await bot.telegram.send_text("哪里可以下棋")
    await asyncio.sleep(1.5)
    bot.telegram.failures.append(Failure("sendMessage", times=1, kind="blocked"))
    await bot.telegram.send_text("哪里可以下棋", user_id=2002)
    await asyncio.sleep(1.0)
    assert "测量血压" in (await bot.ask("哪里可以免费量血压", user_id=3003))["text"]
