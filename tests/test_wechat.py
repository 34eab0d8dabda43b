"""The WeChat official account, end to end: a fake of WeChat's servers posts signed XML."""

import asyncio
import time
from pathlib import Path

import pytest

from bot import replies
from bot.app import open_conversation
from bot.channels.wechat import format as wechat_text
from bot.channels.wechat.endpoint import ENDPOINT_KEY
from bot.records import open_records
from tests.conftest import web_settings
from tests.helpers.articles import write_article
from tests.helpers.fake_wechat import FakeWeChat, sign
from tests.helpers.web import KEY, WebServer, running_web

A4 = "学党史润初心 办实事解民忧"
BOLD = "吸引李大爷前来下棋的好地方,正是管城区橡树玫瑰社区首个建成的老年人活动区。"


def questions_recorded(web: WebServer) -> int:
    conversation = web.app[ENDPOINT_KEY].conversation
    return conversation.records.stats(7).questions


MODES = pytest.mark.parametrize("web", [False, True], ids=["plain", "safe mode"], indirect=True)


@MODES
async def test_question_gets_bold_in_brackets_citation_lines_and_how_to_read_it_all(
        wechat: FakeWeChat) -> None:
    reply = await wechat.send_text("oOpenIdResident1", "老年人活动区在哪里？")
    assert reply.status == 200
    assert reply.fields["MsgType"] == "text"
    assert reply.fields["ToUserName"] == "oOpenIdResident1"
    assert reply.fields["FromUserName"] == "gh_linli_test"
    text = reply.content
    assert f"【{BOLD}】" in text
    assert (f"📰《{A4}》\n　社区服务项目化 走深走实顺民意\n"
            "　2021年6月 · 记者 柴琳琳 通讯员 黄帅") in text
    assert "\n回复“全文”阅读全文" in text
    assert "<b>" not in text and "**" not in text
    assert len(text.encode()) <= 2048
    if wechat.safe:
        assert "<Encrypt>" in reply.body and BOLD not in reply.body  # sealed on the wire


async def test_server_check_echoes_only_when_signed(wechat: FakeWeChat) -> None:
    assert await wechat.check_server("echo-5837") == (200, "echo-5837")
    status, text = await wechat.check_server("echo-5837", signature="0" * 40)
    assert status == 403 and "echo-5837" not in text


@MODES
async def test_bad_signature_is_refused_and_nothing_is_recorded(
        web: WebServer, wechat: FakeWeChat) -> None:
    reply = await wechat.send_text("oOpenIdResident1", "老年人活动区在哪里？",
                                   signature="f" * 40)
    assert reply.status == 403 and not reply.fields
    assert questions_recorded(web) == 0


async def test_a_replayed_old_message_is_refused(web: WebServer, wechat: FakeWeChat) -> None:
    old = str(int(time.time()) - 3600)
    reply = await wechat.send_text("oOpenIdResident1", "老年人活动区在哪里？", timestamp=old)
    assert reply.status == 403
    assert questions_recorded(web) == 0


async def test_safe_mode_message_with_a_forged_msg_signature_is_refused(
        web: WebServer, wechat: FakeWeChat) -> None:
    xml = wechat.message_xml("oOpenIdResident1", Content="老年人活动区在哪里？")
    timestamp, nonce = str(int(time.time())), "123"
    ciphertext = wechat.encrypt(xml)
    body = f"<xml><Encrypt><![CDATA[{ciphertext}]]></Encrypt></xml>"
    query = {"signature": sign(wechat.token, timestamp, nonce), "timestamp": timestamp,
             "nonce": nonce, "encrypt_type": "aes", "msg_signature": "0" * 40}
    assert await wechat.post_raw(body, query) == 403
    assert questions_recorded(web) == 0
    good = query | {"msg_signature": sign(wechat.token, timestamp, nonce, ciphertext)}
    assert await wechat.post_raw(body, good) == 200  # the same message, signed, is answered
    assert questions_recorded(web) == 1


async def test_safe_mode_refuses_a_plain_message_even_with_a_good_signature(
        web: WebServer, wechat: FakeWeChat) -> None:
    await wechat.send_text("oVictim", "老年人活动区在哪里？")
    # One signed query (any follower's, from a log) and a plain body "from" the victim.
    forged = await wechat.send_text("oVictim", "有什么设施？", encrypted=False)
    assert forged.status == 403 and not forged.fields
    assert (await wechat.send_text("oVictim", "全文", encrypted=False)).status == 403
    assert questions_recorded(web) == 1


@MODES
async def test_a_signed_query_used_again_with_another_body_is_refused(
        web: WebServer, wechat: FakeWeChat) -> None:
    timestamp, nonce = str(int(time.time())), "31337"
    query = {"signature": sign(wechat.token, timestamp, nonce), "timestamp": timestamp,
             "nonce": nonce}

    def signed(openid: str, words: str) -> tuple[str, dict[str, str]]:
        xml = wechat.message_xml(openid, Content=words)
        if not wechat.safe:
            return xml, query
        ciphertext = wechat.encrypt(xml)
        return (f"<xml><Encrypt><![CDATA[{ciphertext}]]></Encrypt></xml>",
                query | {"encrypt_type": "aes",
                         "msg_signature": sign(wechat.token, timestamp, nonce, ciphertext)})

    first = signed("oFirst", "老年人活动区在哪里？")
    assert await wechat.post_raw(*first) == 200
    assert await wechat.post_raw(*first) == 200  # WeChat's retry: the same body
    assert await wechat.post_raw(*signed("oForger", "全文")) == 403
    assert questions_recorded(web) == 1


async def test_follow_up_by_the_same_openid_is_read_in_context_and_not_by_another(
        wechat: FakeWeChat) -> None:
    await wechat.send_text("oOpenIdA", "老年人活动区在哪里？")
    follow = await wechat.send_text("oOpenIdA", "有什么设施？")
    assert follow.content.startswith("关于“老年人活动区”：")
    assert "健身器材" in follow.content
    other = await wechat.send_text("oOpenIdB", "有什么设施？")
    assert not other.content.startswith("关于“老年人活动区”")


async def test_honest_no_lists_examples_and_a_number_asks_one(wechat: FakeWeChat) -> None:
    reply = await wechat.send_text("oOpenIdA", "怎么办理社保卡")
    text = reply.content
    assert text.startswith("抱歉，现有的报道里没有找到能回答“怎么办理社保卡”的内容")
    assert "📰" not in text
    lines = text.splitlines()
    examples = [line.split(". ", 1)[1] for line in lines if line[:2] in ("1.", "2.", "3.")]
    assert len(examples) == 3 and lines[-1] == wechat_text.PICK
    picked = await wechat.send_text("oOpenIdA", "2")
    asked = await wechat.send_text("oOpenIdC", examples[1])
    assert "📰《" in picked.content and picked.content == asked.content


async def test_subscribe_greets_with_examples_and_help_explains(wechat: FakeWeChat) -> None:
    greeting = await wechat.subscribe("oOpenIdNew", encrypted=True)
    assert greeting.content.startswith(wechat_text.GREETING)
    assert "1. " in greeting.content and greeting.content.endswith(wechat_text.PICK)
    assert (await wechat.send_text("oOpenIdNew", "帮助")).content == wechat_text.HELP


async def test_full_text_pages_through_the_article_of_the_last_answer(
        wechat: FakeWeChat) -> None:
    assert (await wechat.send_text("oOpenIdA", "全文")).content == wechat_text.NO_ARTICLE
    await wechat.send_text("oOpenIdA", "哪里可以免费量血压")
    first = (await wechat.send_text("oOpenIdA", "全文")).content
    assert first.startswith(f"《{A4}》（1/")
    total = int(first.split("（1/")[1].split("）")[0])
    parts = [first] + [(await wechat.send_text("oOpenIdA", "全文")).content
                       for _ in range(total - 1)]
    assert all(len(p.encode()) <= 2048 for p in parts)
    assert parts[-1].split("\n\n")[-1].startswith(f"📰《{A4}》")
    whole = "".join(parts)
    assert "【理论宣讲“好声音”持续深刻入民心】" in whole and "社区党委书记朱光表示" in whole


async def test_an_article_with_a_url_is_linked_instead_of_offering_full_text(
        tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_article(corpus, "canteen.md", title="社区食堂开业", date="2026-11-02",
                  url="https://www.example.gov.cn/news/canteen.html", source="管城区融媒体中心",
                  body="橡树玫瑰社区的老年食堂正式开门营业。食堂设在社区党群服务中心一楼，"
                       "每天中午十一点到十二点半供应午餐。")
    settings = web_settings(corpus, tmp_path / "data")
    records = open_records(settings.database_path, KEY)
    conversation = await asyncio.to_thread(open_conversation, settings, records)
    async with running_web(conversation, settings) as web, \
            FakeWeChat(f"{web.url}/wechat") as wechat:
        text = (await wechat.send_text("oOpenIdA", "老年食堂在哪里？")).content
    records.close()
    assert text.startswith("【") and "】" in text
    assert "📰《社区食堂开业》\n　管城区融媒体中心 · 2026年11月2日\n" in text
    assert "　https://www.example.gov.cn/news/canteen.html" in text
    assert "回复“全文”" not in text


async def test_wechat_retrying_a_message_gets_the_same_reply_recorded_once(
        web: WebServer, wechat: FakeWeChat) -> None:
    first = await wechat.send_text("oOpenIdA", "老年人活动区在哪里？", msg_id=424242)
    again = await wechat.send_text("oOpenIdA", "老年人活动区在哪里？", msg_id=424242)
    assert first.content == again.content and BOLD in first.content
    assert questions_recorded(web) == 1
    other = await wechat.send_text("oOpenIdB", "火车站几点开门", msg_id=424242)
    assert other.fields["ToUserName"] == "oOpenIdB" and BOLD not in other.content
    assert other.content.startswith("抱歉") and questions_recorded(web) == 2


async def test_pictures_get_a_hint_and_other_events_get_success(wechat: FakeWeChat) -> None:
    picture = await wechat.post(wechat.message_xml("oOpenIdA", "image", PicUrl="x"), "oOpenIdA")
    assert "文字" in picture.content
    click = await wechat.post(wechat.message_xml("oOpenIdA", "event", Event="unsubscribe"),
                              "oOpenIdA")
    assert click.status == 200 and click.body == "success"


async def test_a_voice_message_is_read_as_wechats_recognised_text(wechat: FakeWeChat) -> None:
    voice = wechat.message_xml("oOpenIdA", "voice", MediaId="m1", Format="amr",
                               Recognition="老年人活动区在哪里")
    reply = await wechat.post(voice, "oOpenIdA")
    assert f"【{BOLD}】" in reply.content
    unrecognised = await wechat.post(wechat.message_xml("oOpenIdA", "voice", MediaId="m2"),
                                     "oOpenIdA")
    assert "文字" in unrecognised.content


async def test_hostile_wechat_messages_get_a_clean_reply_or_a_refusal(
        web: WebServer, wechat: FakeWeChat) -> None:
    empty = await wechat.send_text("oOpenIdH", "   ")
    assert empty.status == 200 and empty.content.startswith(replies.EMPTY)  # as the page
    assert (await wechat.send_text("oOpenIdH", "\u3000\u200b")).content.startswith(replies.EMPTY)
    # XML can carry tabs, DEL and C1 controls; the C0 ones make the body no XML: refused.
    controls = await wechat.send_text("oOpenIdH", "\t哪里\x7f可以\x85下棋\r\n\u202e")
    clean = await wechat.send_text("oOpenIdI", "哪里可以下棋")
    assert controls.content == clean.content and "📰《" in clean.content
    assert (await wechat.send_text("oOpenIdH", "\x07哪里\x1b可以下棋")).status == 403
    long = await wechat.send_text("oOpenIdJ", "量血压" * 700, encrypted=True)
    assert long.content.startswith("（问题较长，只按前") and len(long.content.encode()) <= 2048
    bidi = await wechat.send_text("oOpenIdK", "\u202e怎么办理社保卡\u2066")
    assert "\u202e" not in bidi.content and "\u2066" not in bidi.content
    bomb = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><xml><ToUserName>x</ToUserName>'
            '<FromUserName>oOpenIdH</FromUserName><MsgType>text</MsgType>'
            '<Content>&b;</Content></xml>')
    assert (await wechat.post(bomb, "oOpenIdH")).status == 403
    assert (await wechat.post("<xml><Content>no sender</Content></xml>", "o")).status == 403
    assert (await wechat.post("not xml at all", "o")).status == 403
    assert (await wechat.post("<xml><Encrypt>garbage</Encrypt></xml>", "o",
                              encrypted=False)).status == 403


@pytest.mark.parametrize("web", [False], ids=["plain"], indirect=True)
async def test_a_document_type_in_utf_16_is_refused_too(
        web: WebServer, wechat: FakeWeChat) -> None:
    bomb = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><xml><ToUserName>x</ToUserName>'
            '<FromUserName>oOpenIdH</FromUserName><MsgType>text</MsgType>'
            '<Content>&b;</Content></xml>')
    for raw in (bomb.encode("utf-16"), bomb.encode("utf-16-le")):  # with and without a BOM
        timestamp, nonce = str(int(time.time())), str(len(raw) + raw[0])
        query = {"signature": sign(wechat.token, timestamp, nonce), "timestamp": timestamp,
                 "nonce": nonce}
        assert await wechat.post_bytes(raw, query) == 403
    assert questions_recorded(web) == 0


async def test_a_search_slower_than_wechat_waits_gets_a_reply_in_time(
        web: WebServer, wechat: FakeWeChat, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.channels.wechat import endpoint

    conversation = web.app[ENDPOINT_KEY].conversation
    ask = conversation.ask

    def slow(*args: object, **kwargs: object) -> object:
        time.sleep(1.0)
        return ask(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(endpoint, "REPLY_SECONDS", 0.2)  # WeChat's 5 s, scaled down
    monkeypatch.setattr(conversation, "ask", slow)
    started = time.perf_counter()
    reply = await wechat.send_text("oOpenIdSlow", "老年人活动区在哪里？", msg_id=777)
    assert time.perf_counter() - started < 1.0
    assert reply.content == wechat_text.SLOW_SEARCH
    await asyncio.sleep(1.0)  # the search finishes; a retry of the message gets its answer
    again = await wechat.send_text("oOpenIdSlow", "老年人活动区在哪里？", msg_id=777)
    assert f"【{BOLD}】" in again.content
    assert questions_recorded(web) == 1
