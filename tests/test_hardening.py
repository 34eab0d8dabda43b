"""Faults and hostile input, through the running bot (fake Bot API) or the module that failed.

Each test reproduces one failure of the adversarial trial in issue 9; the ones first seen
against a real `linli run` process are repeated against one in tests/test_faults_service.py.
"""

import asyncio
import io
import logging
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bot.ops.doctor import check_data_dir
from bot.ops.logs import JsonFormatter, RedactSecrets
from bot.records import Records, RecordsError, database_problem, open_records, user_key
from bot.settings import load_settings
from bot.uploads import MAX_NAME_BYTES
from corpus.load import MAX_FILE_BYTES, MAX_FRONT_MATTER_BYTES, load_corpus, parse_article_text
from corpus.models import ArticleFormatError
from retrieval.index import Index, IndexFileError, build_index, refresh_index, remove_leftovers
from tests.helpers.fake_telegram import TOKEN
from tests.helpers.harness import ADMIN_ID, Harness

GOOD = "---\ntitle: 老年食堂开张\ndate: 2021-07\n---\n社区开设了老年食堂，每天中午供应午餐。\n"
NESTED = "---\ntitle: 嵌套\nx: " + "[" * 700 + "]" * 700 + "\n---\n正文。\n"
EXPIRED = "这个按钮已失效"


def feedback_rows(bot: Harness) -> int:
    records = bot.app.bot_data["conversation"].records
    # A second reader of the database file (WAL: it sees every committed row).
    with closing(sqlite3.connect(records.path)) as db:
        return int(db.execute("SELECT count(*) FROM feedback").fetchone()[0])


# 1. One deeply nested or huge front matter is only that file's error ----------------------

def test_deeply_nested_front_matter_is_one_files_error(corpus_dir: Path) -> None:
    (corpus_dir / "嵌套.md").write_text(NESTED, encoding="utf-8")
    assert len(NESTED.encode()) < 4096
    loaded = load_corpus(corpus_dir)
    [problem] = loaded.errors
    assert problem.path == "嵌套.md" and "nested more than 20 levels deep" in problem.message
    assert len(loaded.articles) == 4


def test_huge_front_matter_is_refused_by_size(tmp_path: Path) -> None:
    (tmp_path / "大.md").write_text("---\ntitle: 大\nnote: " + "很" * 8000 + "\n---\n正文。\n",
                                   encoding="utf-8")
    [problem] = load_corpus(tmp_path).errors
    assert f"over the {MAX_FRONT_MATTER_BYTES} byte limit" in problem.message


def test_any_failure_while_parsing_a_file_is_that_files_problem(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.md").write_text(GOOD.replace("老年食堂开张", "坏"), encoding="utf-8")
    import corpus.load

    real = corpus.load._markdown_sections

    def fail_on_b(body: str, title: str) -> object:
        if title == "坏":
            raise RecursionError("maximum recursion depth exceeded")
        return real(body, title)

    monkeypatch.setattr(corpus.load, "_markdown_sections", fail_on_b)
    loaded = load_corpus(tmp_path)
    assert [a.id for a in loaded.articles] == ["a"]
    assert [str(p) for p in loaded.errors] == [
        "error: b.md: cannot be read (RecursionError); rewrite it as a plain article file"]
    with pytest.raises(ArticleFormatError, match=r"b\.md: cannot be read"):
        parse_article_text(GOOD.replace("老年食堂开张", "坏"), "b", "b.md")


async def test_reload_with_a_nested_file_still_loads_the_good_new_one(bot: Harness) -> None:
    corpus = bot.settings.linli_corpus_dir
    (corpus / "嵌套.md").write_text(NESTED, encoding="utf-8")
    (corpus / "食堂.md").write_text(GOOD, encoding="utf-8")
    await bot.telegram.send_text("/reload", user_id=ADMIN_ID)
    [_, report] = await bot.telegram.wait_for("sendMessage", count=2)
    assert report["text"].startswith("✅ 重新加载完成：5 篇文章")
    assert "嵌套.md:3: front matter is nested more than 20 levels deep" in report["text"]
    assert "老年食堂" in (await bot.ask("哪里有老年食堂"))["text"]


async def test_any_failure_during_a_reload_keeps_the_old_index_and_says_why(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import live_index

    def fail(*args: object, **kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(live_index, "refresh_index", fail)
    await bot.telegram.send_text("/reload", user_id=ADMIN_ID)
    [_, report] = await bot.telegram.wait_for("sendMessage", count=2)
    assert report["text"] == ("❌ 重新加载失败，继续使用原来的索引。\n"
                              "原因：RecursionError: maximum recursion depth exceeded")
    assert "橡树玫瑰社区" in (await bot.ask("老年人活动区在哪里"))["text"]


# 2. A records database that cannot be used is moved aside, never lost --------------------

@pytest.mark.parametrize("content", [b"", b"garbage\x00" * 500, "other"])
def test_an_unusable_records_database_is_moved_aside_and_kept(
        tmp_path: Path, content: bytes | str, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "linli.sqlite3"
    if content == "other":  # somebody else's SQLite database
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE customers (name TEXT)")
        db.close()
        content = path.read_bytes()
    else:
        path.write_bytes(content)  # type: ignore[arg-type]
    path.with_name("linli.sqlite3-wal").write_bytes(b"left by a crash")
    with pytest.raises(RecordsError, match="moves it aside"):
        Records(path)
    records = open_records(path, b"k")
    assert records.moved_aside is not None
    aside, problem = records.moved_aside
    assert aside.parent == tmp_path and aside.name.startswith("linli.sqlite3.broken-")
    assert aside.read_bytes() == content  # kept as it was, with its WAL file
    assert aside.with_name(aside.name + "-wal").read_bytes() == b"left by a crash"
    records.record_question(1, "private", "下棋", True, None, None, 1.0)
    assert records.stats(1).questions == 1
    records.close()
    [line] = [r for r in caplog.records if r.name == "bot.records"]
    assert line.levelname == "ERROR" and aside.name in line.getMessage()
    assert problem in line.getMessage()
    assert check_data_dir(load_settings(linli_data_dir=tmp_path)).warning


def test_doctor_fails_on_a_garbled_database_without_touching_it(tmp_path: Path) -> None:
    path = tmp_path / "linli.sqlite3"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    check = check_data_dir(load_settings(linli_data_dir=tmp_path))
    assert not check.ok and "linli.sqlite3.broken-TIME" in check.line()
    assert path.read_bytes()[:6] == b"SQLite" and sorted(tmp_path.iterdir()) == [path]


def test_a_good_database_is_opened_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "linli.sqlite3"
    records = open_records(path, b"k")
    records.record_question(1, "private", "下棋", True, None, None, 1.0)
    records.close()
    assert database_problem(path) is None
    again = open_records(path, b"k")
    assert again.moved_aside is None and again.stats(1).questions == 1
    again.close()


# 5. User ids are hashed under a key that is not in the database -------------------------

def test_user_hashes_need_the_key_and_old_salts_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    with sqlite3.connect(path) as db:  # a database of the old kind, salt beside the hashes
        db.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                         "INSERT INTO meta VALUES ('schema', '1'), ('salt', 'd1ff1cu1t5a1t');")
    db.close()
    records = Records(path, user_key("secret one"))
    first = records.user_hash(6002)
    records.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT key FROM meta").fetchall() == [("schema",)]
    db.close()
    assert b"d1ff1cu1t5a1t" not in b"".join(p.read_bytes() for p in tmp_path.glob("r.sqlite3*"))
    assert Records(path, user_key("secret one")).user_hash(6002) == first
    assert Records(path, user_key("secret two")).user_hash(6002) != first


def test_the_key_comes_from_linli_user_key_else_from_the_token() -> None:
    by_token = load_settings(telegram_bot_token=TOKEN).user_key()
    assert by_token == user_key(TOKEN)
    own = load_settings(telegram_bot_token=TOKEN, linli_user_key="rotated-2026").user_key()
    assert own == user_key("rotated-2026") != by_token


# 4. Secrets never reach a log line, not even in a traceback -----------------------------

@pytest.mark.parametrize("formatter", [logging.Formatter("%(levelname)s %(message)s"),
                                       JsonFormatter()])
def test_the_token_is_redacted_from_messages_tracebacks_and_extras(
        formatter: logging.Formatter) -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    handler.addFilter(RedactSecrets([TOKEN]))
    log = logging.getLogger("test.redaction")
    log.addHandler(handler)
    log.propagate = False
    try:
        try:
            raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
        except RuntimeError:
            log.exception("calling https://api.telegram.org/bot%s/getMe", TOKEN,
                          extra={"url": f"/bot{TOKEN}/getMe"})
        log.warning("half a token: %s", TOKEN.split(":")[1])
    finally:
        log.removeHandler(handler)
    text = out.getvalue()
    assert "was rejected by the server" in text and "Traceback" in text
    assert TOKEN not in text and TOKEN.split(":")[1] not in text
    assert text.count("[redacted]") >= 3


# 3. Admin commands and uploads only in a private chat -----------------------------------

async def test_admin_commands_in_a_group_get_a_pointer_to_the_private_chat(
        bot: Harness) -> None:
    await bot.ask("怎么办理社保卡，我家住幸福路8号")  # an unanswered question with an address
    pointer = "管理命令和文章上传只在与我的私聊中使用：请私聊 @linli_test_bot。"
    for command in ("/stats", "/reload"):
        await bot.telegram.send_text(command, user_id=ADMIN_ID, chat_id=-100)
        [reply] = await bot.telegram.wait_for("sendMessage")
        assert reply["text"] == pointer and int(reply["chat_id"]) == -100
    await bot.telegram.send_document("食堂.md", GOOD.encode(), user_id=ADMIN_ID, chat_id=-100)
    [reply] = await bot.telegram.wait_for("sendMessage")
    assert reply["text"] == pointer
    await asyncio.sleep(0.5)  # room for a report or a reload, which must not come
    in_group = [m["text"] for m in bot.telegram.sent() if int(m["chat_id"]) == -100]
    assert in_group == [pointer] * 3
    assert not any(t.startswith(("📊", "✅", "⏳")) for t in bot.telegram.sent_texts())
    assert not (bot.settings.linli_corpus_dir / "食堂.md").exists()
    stats = (await bot.ask("/stats", user_id=ADMIN_ID))["text"]  # private: works
    assert "幸福路8号" in stats


# 6. Forged button data ------------------------------------------------------------------

@pytest.mark.parametrize("data", ["v:abc:1", "v:99999:1", "v:1:5", "n:x:1", "n:1", "f:../x",
                                  "zzz", "", "a:", "ow"])
async def test_forged_button_data_gets_a_short_toast_and_nothing_else(
        bot: Harness, data: str) -> None:
    answer = await bot.ask("老年人活动区在哪里")
    if data == "ow":  # the overwrite confirmation, sent by a resident
        data = "ow:0000"
    await bot.telegram.press_data(answer, data)
    [toast] = await bot.telegram.wait_for("answerCallbackQuery")
    expected = "抱歉，这个命令只有管理员可以使用。" if data == "ow:0000" else EXPIRED
    assert toast.get("text") == expected
    await asyncio.sleep(0.3)  # room for a message or an edit, which must not come
    assert [c.method for c in bot.telegram.calls][-1] == "answerCallbackQuery"
    assert bot.telegram.sent("editMessageText") == bot.telegram.sent("editMessageReplyMarkup") == []
    assert feedback_rows(bot) == 0


async def test_only_the_asker_can_vote_on_an_answer(bot: Harness) -> None:
    answer = await bot.ask("老年人活动区在哪里")
    await bot.telegram.press(answer, "👍 有用", user_id=2002)
    [toast] = await bot.telegram.wait_for("answerCallbackQuery")
    assert toast["text"] == "只有提问的人可以评价这条回答。" and feedback_rows(bot) == 0
    await bot.telegram.press(answer, "👍 有用")
    [toast] = await bot.telegram.wait_for("answerCallbackQuery")
    assert toast["text"] == "谢谢您的反馈 🙏" and feedback_rows(bot) == 1


# 7. Upload names and contents are checked before anything is written ---------------------

async def test_an_upload_with_the_id_of_an_existing_article_is_refused(bot: Harness) -> None:
    (bot.settings.linli_corpus_dir / "食堂.md").write_text(GOOD, encoding="utf-8")
    await bot.telegram.send_document("食堂.txt", "老年食堂\n\n每天中午供应午餐。".encode(),
                                     user_id=ADMIN_ID)
    [reply] = await bot.telegram.wait_for("sendMessage")
    assert reply["text"] == ("❌ 文章没有保存：食堂.txt: 食堂.md already holds this article id; "
                             "send it as 食堂.md to replace that file")
    assert not (bot.settings.linli_corpus_dir / "食堂.txt").exists()


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("食\n堂.md", GOOD.encode(), "control or direction characters (U+000A)"),
    ("食堂\u202edm.txt", GOOD.encode(), "control or direction characters (U+202E)"),
    ("长" * 100 + ".md", GOOD.encode(), f"303 bytes in UTF-8, over the {MAX_NAME_BYTES}"),
    ("食堂.md", GOOD.encode().replace("午餐".encode(), b"\x00"), "contains NUL bytes"),
    ("食堂.md", b"---\ntitle: x\n---\n", "no text after the front matter"),
    ("食堂.md", GOOD.encode() + b"x" * MAX_FILE_BYTES, "over the 1048576 byte limit"),
])
async def test_bad_upload_names_and_contents_are_refused_with_the_reason(
        bot: Harness, name: str, data: bytes, reason: str) -> None:
    before = sorted(os.listdir(bot.settings.linli_corpus_dir))
    await bot.telegram.send_document(name, data, user_id=ADMIN_ID)
    [reply] = await bot.telegram.wait_for("sendMessage")
    assert reply["text"].startswith("❌ 文章没有保存：") and reason in reply["text"]
    assert sorted(os.listdir(bot.settings.linli_corpus_dir)) == before


# 8. Leftover temporary folders are cleaned; every saved index file is checksummed --------

def test_a_half_written_index_folder_is_removed_at_start(tmp_path: Path,
                                                         corpus_dir: Path) -> None:
    index_dir = tmp_path / "data" / "index" / "abc"
    refresh_index(corpus_dir, index_dir)
    left = index_dir.parent / ".index-k1ll3d"
    left.mkdir()
    (left / "vocab.json").write_text("[", encoding="utf-8")
    assert remove_leftovers(index_dir.parent) == [left]
    assert sorted(p.name for p in index_dir.parent.iterdir()) == ["abc"]


def test_a_kill_between_the_two_renames_keeps_the_old_index(tmp_path: Path,
                                                           corpus_dir: Path) -> None:
    index_dir = tmp_path / "index" / "abc"
    refresh_index(corpus_dir, index_dir)
    index_dir.rename(index_dir.with_name("abc.old"))
    remove_leftovers(index_dir.parent)
    assert len(Index.load(index_dir).articles) == 4


@pytest.mark.parametrize("name", ["vocab.json", "char_df.json", "tokens.jsonl",
                                  "sections.json", "article_ids.json"])
def test_a_same_size_edit_of_any_index_file_is_found(corpus_dir: Path, tmp_path: Path,
                                                     name: str) -> None:
    index = build_index(load_corpus(corpus_dir).articles)
    index.save(tmp_path / "index")
    path = tmp_path / "index" / name
    data = bytearray(path.read_bytes())
    i = next(i for i in range(len(data) - 1) if data[i] != data[i + 1])
    data[i], data[i + 1] = data[i + 1], data[i]  # swap two bytes: same size, other content
    assert len(data) == path.stat().st_size and bytes(data) != path.read_bytes()
    path.write_bytes(bytes(data))
    with pytest.raises(IndexFileError, match=f"{name}: saved index is corrupt"):
        Index.load(tmp_path / "index")


# 9. Rate-limited questions: the log and the records agree --------------------------------

async def test_rate_limited_questions_are_neither_recorded_nor_logged_as_answered(
        bot: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.channels.telegram.resident")
    for i in range(12):
        await bot.telegram.send_text(f"哪里可以下棋{i}", user_id=3003)
    # Issue 22: one slow-down notice a minute; the 12th question is dropped, not answered.
    sent = await bot.telegram.wait_for("sendMessage", count=11)
    await asyncio.sleep(0.5)
    assert len(bot.telegram.sent()) == 11
    assert sum(m["text"] == "您提问有点快了，请稍等一分钟再问。" for m in sent) == 1
    logged = [r.getMessage() for r in caplog.records if r.name == "bot.channels.telegram.resident"]
    answered = [m for m in logged if m.startswith("question answered=")]
    assert len(answered) == bot.app.bot_data["conversation"].records.stats(1).questions == 10
    assert logged.count("question not recorded (rate limited)") == 1
    assert all("3003" not in r.getMessage() for r in caplog.records)
