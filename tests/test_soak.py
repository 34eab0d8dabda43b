"""Soak: 50 residents ask 10 questions each while an admin reloads twice."""

import asyncio
import logging
import sqlite3
from collections import Counter
from contextlib import closing

import pytest

from tests.helpers.harness import ADMIN_ID, Harness

USERS = 50
QUESTIONS = ["老年人活动区在哪里", "哪里可以免费量血压", "哪里可以下棋", "党史学习教育",
             "人大代表联络站", "怎么办理社保卡", "社区食堂几点开门", "理论宣讲", "志愿服务",
             "😀 哪里可以理发？"]
NEW = ("---\ntitle: 测试用文章{n}\ndate: 2021-07\n---\n"
       "测试段落{n}：社区开设了老年食堂，每天中午供应午餐。\n")


def replies_per_chat(bot: Harness) -> Counter[int]:
    return Counter(int(m["chat_id"]) for m in bot.telegram.sent())


@pytest.mark.slow
async def test_500_questions_during_two_reloads_get_one_reply_and_one_record_each(
        bot: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    users = [5000 + i for i in range(USERS)]
    corpus = bot.settings.linli_corpus_dir
    for n, questions in enumerate((QUESTIONS[:5], QUESTIONS[5:]), start=1):
        (corpus / f"新{n}.md").write_text(NEW.format(n=n), encoding="utf-8")
        await bot.telegram.send_text("/reload", user_id=ADMIN_ID)
        for question in questions:
            for user in users:
                await bot.telegram.send_text(question, user_id=user)
        await bot.telegram.wait_until_sent(
            lambda texts, n=n: sum(t.startswith("✅") for t in texts) == n, timeout=60)
    await bot.telegram.wait_until_sent(
        lambda _: all(replies_per_chat(bot)[u] >= len(QUESTIONS) for u in users), timeout=120)
    await asyncio.sleep(0.5)  # room for a second reply, which must not come
    per_chat = replies_per_chat(bot)
    assert all(per_chat[u] == len(QUESTIONS) for u in users)
    records = bot.app.bot_data["conversation"].records
    # A second reader of the database file (WAL: it sees every committed row).
    with closing(sqlite3.connect(records.path)) as db:
        per_user = dict(db.execute(
            "SELECT user_hash, count(*) FROM questions GROUP BY user_hash").fetchall())
    assert per_user == {records.user_hash(u): len(QUESTIONS) for u in users}
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert "测试段落2" in (await bot.ask("测试段落2 老年食堂", user_id=9999))["text"]
    # The reloads ran while residents were being answered, not before or after.
    sent = [(int(m["chat_id"]), m["text"]) for m in bot.telegram.sent()]
    starts = [i for i, (_, text) in enumerate(sent) if text.startswith("⏳")]
    ends = [i for i, (_, text) in enumerate(sent) if text.startswith("✅")]
    assert len(starts) == len(ends) == 2
    for start, end in zip(starts, ends, strict=True):
        assert any(chat in users for chat, _ in sent[start:end])
