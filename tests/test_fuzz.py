"""Random input where residents and editors put it: nothing raises, every bad file is named."""

import itertools
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot import replies
from bot.app import open_conversation
from bot.conversation import Conversation
from bot.records import Records
from bot.settings import load_settings
from corpus.load import load_corpus
from tests.conftest import BUNDLED_CORPUS

# Every code point Python allows in a str, lone surrogates included.
ANY_CHARACTER = st.characters(exclude_categories=())
QUESTIONS = st.one_of(
    st.text(ANY_CHARACTER, max_size=300),
    st.builds(lambda part, times: part * times, st.text(ANY_CHARACTER, min_size=1, max_size=3),
              st.integers(min_value=1000, max_value=10_000)),
)
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
_users = itertools.count(10_000)


@pytest.fixture(scope="module")
def conversation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Conversation]:
    """The conversation over the sample corpus, with records in memory."""
    data = tmp_path_factory.mktemp("data")
    settings_ = load_settings(linli_corpus_dir=BUNDLED_CORPUS, linli_data_dir=data)
    conversation = open_conversation(settings_, Records(Path(":memory:")))
    yield conversation
    conversation.records.close()


def sendable(text: str) -> None:
    """Check what Telegram would get: UTF-8 text within one message."""
    assert len(text) <= replies.MAX_MESSAGE
    text.encode("utf-8")
    json.dumps({"text": text})


@FUZZ
@given(question=QUESTIONS)
@example(question="👨‍👩‍👧‍👦🏳️‍🌈老年人活动区在哪里？🙏")
@example(question="\u202e里哪在区动活人年老\u202c\u200f")
@example(question="\x00\x07\x1b[31m哪里可以下棋\r\n\t")
@example(question="量血压" * 3334)
@example(question="\ud800哪里\udfff可以\ud83d\ude00下棋")
def test_any_question_gets_one_sendable_reply(conversation: Conversation,
                                              question: str) -> None:
    user = next(_users)
    asked = conversation.ask(user, "private", question)
    pressed = conversation.press(user, asked.reply.buttons[0][0].data) \
        if asked.reply.buttons else []
    for reply in (asked.reply, *pressed):
        if reply.pieces:
            sendable(reply.html())
    if asked.question_id is not None:
        assert conversation.records.question(asked.question_id) is not None


@FUZZ
@given(data=st.text(ANY_CHARACTER, max_size=80))
@example(data="v:abc:1")
@example(data="n:99999999999999999999999:1")
@example(data="f:" + "0" * 12)
def test_any_button_data_is_handled(conversation: Conversation, data: str) -> None:
    for reply in conversation.press(next(_users), data):
        if reply.pieces:
            sendable(reply.html())
        assert reply.notice is None or len(reply.notice) <= 200


def assert_named(root: Path, name: str) -> None:
    """Load the folder: the one file is an article, or an error naming it; nothing raises."""
    loaded = load_corpus(root)
    assert [p.path for p in loaded.errors] in ([], [name])
    assert len(loaded.articles) + len(loaded.errors) == 1
    assert all(p.message and p.fix for p in loaded.problems)


@FUZZ
@given(raw=st.binary(max_size=2000), suffix=st.sampled_from([".md", ".txt"]))
@example(raw=b"\xef\xbb\xbf---\ntitle: t\n---\n", suffix=".md")
@example(raw=b"---\nx: " + b"[" * 800 + b"\n---\n", suffix=".md")
def test_random_bytes_as_an_article_file_are_an_article_or_a_named_problem(
        raw: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / f"文章{suffix}").write_bytes(raw)
        assert_named(Path(folder), f"文章{suffix}")


YAMLISH = st.text(st.sampled_from(list("[]{}:-,?!&*|>'\"#%@` \n\tab1é中\x85\u2028")),
                  max_size=400)


@FUZZ
@given(front=st.one_of(YAMLISH, st.text(ANY_CHARACTER, max_size=400)))
@example(front="x: " + "[" * 700 + "]" * 700)
@example(front="a: &a [" + "*a," * 50 + "]\nb: &b [" + "*a," * 50 + "]\ntitle: *b")
@example(front="title: !!python/object:os.system ls")
@example(front="? [a, b]\n: c")
def test_random_front_matter_is_an_article_or_a_named_problem(front: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        text = f"---\n{front}\n---\n社区开设了老年食堂。\n"
        (Path(folder) / "文章.md").write_text(text, encoding="utf-8", errors="surrogatepass")
        assert_named(Path(folder), "文章.md")
