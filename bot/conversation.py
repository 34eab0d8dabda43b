"""What the bot does with a question or a button press, independent of Telegram.

Handlers (Telegram) and `linli chat` (the terminal) both call this and render
the `Reply` it returns; buttons carry compact callback data that still works
after a restart or a reload, because it names a recorded question or an article.
Telegram-free: may import the bot's core (`replies`, `context`, `records`, `live_index`),
`retrieval` and `corpus`, never `telegram` or a channel.
"""

import datetime as dt
import hashlib
import logging
import re
import time
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

from bot import replies
from bot.context import Contexts
from bot.live_index import LiveIndex
from bot.records import Records
from bot.replies import Button, Reply
from bot.staff.loop import StaffLoop
from corpus.models import Article, format_date
from retrieval.search import MAX_QUESTION_CHARS, Answer, Hit, Outcome, Searcher
from retrieval.search.followup import resolve, topic_of
from retrieval.search.kinds import FACILITY_ENDS
from retrieval.search.recency import months_old

logger = logging.getLogger(__name__)

MAX_SOURCES = 3  # sources per question: 下一条 goes through them
RATE_LIMIT = 10  # questions
RATE_WINDOW = 60.0  # seconds
EXAMPLE_COUNT = 3
_MEANINGFUL = re.compile(r"[\w]", re.UNICODE)
INERT = "x"  # the callback data of a button that is only a label (谢谢您的反馈): does nothing
# What the bot's own buttons carry; anything else was forged or is from an old version.
_NEXT = re.compile(r"([1-9][0-9]{0,17}):([1-9][0-9]?)")
_FULL = re.compile(r"[0-9a-f]{12}")
_VOTE = re.compile(r"([1-9][0-9]{0,17}):(1|-1)")
_QID = re.compile(r"[1-9][0-9]{0,17}")
STALE_MONTHS = 12  # an article older than this gets a note that details may have changed
MAX_FOLLOWUP_QIDS = 1000  # follow-ups whose 下一条 button still knows their context


def _candidate_questions(searcher: Searcher) -> list[str]:
    """Example questions to try: where each place the corpus names is (residents ask that)."""
    from retrieval.text.lexicon import user_words

    places = sorted({w for w in (*user_words(), *searcher.index.local_names)
                     if w.endswith(FACILITY_ENDS) and searcher.term_frequency(w)})
    return [f"{w}在哪里？" for w in places]


INLINE_TITLE = 60  # characters of an inline result's title and description shown
INLINE_DESCRIPTION = 90


def _clip(text: str, limit: int) -> str:
    """Cut text to `limit` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def article_key(article_id: str) -> str:
    """A short, stable key for an article id (ids can be long Chinese paths)."""
    return hashlib.sha1(article_id.encode("utf-8")).hexdigest()[:12]


def _well_formed(text: str) -> str:
    """Join surrogate pairs and replace lone surrogates (JSON allows them; UTF-8 does not)."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


@dataclass
class InlineItem:
    """One inline result: a title, a one-line description and the message it sends."""

    key: str
    title: str
    description: str
    reply: Reply


@dataclass
class Asked:
    """A question that was answered or not, for the caller to log."""

    reply: Reply
    answered: bool
    latency_ms: float
    question_id: int | None
    skipped: str = ""  # why the question was not recorded ("empty", "rate limited"), if not
    # What the search found and the topic a follow-up was read in: for channels that
    # render the answer themselves (the web page's JSON, WeChat's text).
    found: Answer | None = None
    topic: str | None = None
    cut: bool = False  # the question was cut to MAX_QUESTION_CHARS


class Conversation:
    """Answers questions and button presses from the live index, recording each."""

    def __init__(self, live: LiveIndex, records: Records, stale_months: int = STALE_MONTHS,
                 contexts: Contexts | None = None, staff: StaffLoop | None = None) -> None:
        self.live, self.records = live, records
        self.staff = staff or StaffLoop(records)
        self.stale_months = stale_months
        self.contexts = contexts or Contexts()
        self.today: Callable[[], dt.date] = dt.date.today
        # A follow-up's question id -> the question it continued (for 下一条).
        self._followups: OrderedDict[int, str] = OrderedDict()
        self._asked: dict[int, deque[float]] = defaultdict(deque)
        self._noticed: dict[int, float] = {}  # when each user was last told to slow down
        self.dropped = 0  # questions past the limit, after the notice: not answered
        self._examples: tuple[Searcher | None, list[str]] = (None, [])
        self._keys: tuple[Searcher | None, dict[str, str]] = (None, {})

    def too_fast(self, user_id: int, now: float | None = None) -> bool:
        """Tell whether a user asked more than RATE_LIMIT questions in the last minute."""
        now = time.monotonic() if now is None else now
        asked = self._asked[user_id]
        while asked and now - asked[0] > RATE_WINDOW:
            asked.popleft()
        if len(asked) >= RATE_LIMIT:
            return True
        asked.append(now)
        return False

    def admit(self, user_id: int, now: float | None = None) -> str:
        """Say what a user's next question gets: "ask", "notice" (slow down) or "drop".

        Past RATE_LIMIT questions a minute, a user is told to slow down at most once a
        RATE_WINDOW; the questions after the notice are dropped unanswered, so that one
        flooding user costs the others neither searches nor sends. Cheap: the caller
        may decide on the event loop, before any worker thread.
        """
        now = time.monotonic() if now is None else now
        if not self.too_fast(user_id, now):
            return "ask"
        if now - self._noticed.get(user_id, -RATE_WINDOW) >= RATE_WINDOW:
            self._noticed[user_id] = now
            return "notice"
        self.dropped += 1
        return "drop"

    def retry_after(self, user_id: int, now: float | None = None) -> int:
        """Seconds until a rate-limited user may ask again (0 if they may now)."""
        now = time.monotonic() if now is None else now
        asked = self._asked.get(user_id)
        if not asked or len(asked) < RATE_LIMIT:
            return 0
        return max(1, int(RATE_WINDOW - (now - asked[0])) + 1)

    def ask(self, user_id: int, chat_type: str, text: str, chat_id: int | None = None,
            admitted: bool = False) -> Asked:
        """Answer one question: the best passage with its citation, or an honest no.

        A question whose group (its searched words) staff paired with a passage gets
        that passage first (bot/staff). A short follow-up is read in the context of the
        user's previous question in the same chat (`chat_id`, the user's private chat if
        not given). An honest no or a closest match in a private chat offers 🔔.
        `admitted`: the caller already asked `admit` (Telegram: one notice a minute, the
        rest dropped); else a question past the rate limit gets the slow-down reply each
        time (a web request, `linli chat`: each asks and is answered).
        """
        started = time.perf_counter()
        chat_id = user_id if chat_id is None else chat_id
        question = _well_formed(text).strip()
        if not _MEANINGFUL.search(question):
            return Asked(Reply.text(replies.EMPTY, self.example_buttons()), False, 0.0, None,
                         "empty")
        if not admitted and self.too_fast(user_id):  # a reply to every request (web, chat)
            return Asked(Reply.text(replies.SLOW_DOWN), False, 0.0, None, "rate limited")
        cut = len(question) > MAX_QUESTION_CHARS
        question = question[:MAX_QUESTION_CHARS]
        searcher = self.live.current()
        words = self.staff.words(searcher, question)
        paired = self.staff.paired(searcher, words)
        if paired is not None:  # staff answered this question: their answer comes first
            asked = self._paired(user_id, chat_type, chat_id, question, words, paired, started)
            asked.cut = cut
            return asked
        previous = self.contexts.get(user_id, chat_id)
        resolved = resolve(searcher, question, previous, k=MAX_SOURCES)
        found, topic = resolved.answer, resolved.heading
        latency = (time.perf_counter() - started) * 1000
        first = found.hits[0] if found.hits else None
        # A closest match is not an answer: it counts as unanswered in the records.
        qid = self.records.record_question(
            user_id, chat_type, question, found.answered, first.article_id if first else None,
            first.chunk_id if first else None, latency)
        if qid is not None:  # None: the records write failed (the answer goes all the same)
            self.staff.remember(qid, words)
        self._remember_context(user_id, chat_id, qid, question, previous, resolved.followup,
                               bool(found.hits), resolved.headed)  # qid None: not recorded
        if not found.hits:
            template = replies.FOLLOWUP_NO if topic else replies.NO_ANSWER
            reply = Reply.text(template.format(question=question, topic=topic),
                               self.example_buttons())
        else:
            reply = self._answer(qid, found.hits, 0, closest=not found.answered, topic=topic)
        # 🔔 needs the recorded question; a group's chat is not the asker's.
        if not found.answered and chat_type == "private" and qid is not None:
            reply.buttons.append(self.staff.button(qid))
        if cut:
            reply.pieces.insert(0, (replies.CUT_NOTE.format(limit=MAX_QUESTION_CHARS) + "\n",
                                    False))
        return Asked(reply, found.answered, latency, qid, found=found, topic=topic, cut=cut)

    def _paired(self, user_id: int, chat_type: str, chat_id: int, question: str, words: str,
                hit: Hit, started: float) -> Asked:
        """Answer with the passage staff chose for the question's group."""
        latency = (time.perf_counter() - started) * 1000
        qid = self.records.record_question(user_id, chat_type, question, True, hit.article_id,
                                           hit.chunk_id, latency)
        if qid is not None:
            self.staff.remember(qid, words)
        self.contexts.set(user_id, chat_id, question)
        # Staff chose it: an answer, whatever the search's confidence would have been.
        found = Answer(outcome=Outcome.ANSWERED, confidence=1.0, hits=[hit])
        return Asked(self._answer(qid, [hit], 0), True, latency, qid, found=found)

    def _remember_context(self, user_id: int, chat_id: int, qid: int | None, question: str,
                          previous: str | None, followup: bool, found: bool,
                          headed: bool = True) -> None:
        """A follow-up keeps its context fresh; a new question with an answer replaces it.

        `headed`: the follow-up was answered in the context (下一条 reads it there too).
        """
        if followup and previous:
            self.contexts.set(user_id, chat_id, previous)
            if headed and qid is not None:
                self._followups[qid] = previous
            while len(self._followups) > MAX_FOLLOWUP_QIDS:
                self._followups.popitem(last=False)
        elif found:
            self.contexts.set(user_id, chat_id, question)
        else:
            self.contexts.forget(user_id, chat_id)

    def is_stale(self, hit: Hit) -> bool:
        """Tell whether the hit's article is older than `stale_months`."""
        age = months_old(hit.date, self.today())
        return age is not None and age >= self.stale_months

    def _answer(self, qid: int | None, hits: list[Hit], position: int, closest: bool = False,
                topic: str | None = None) -> Reply:
        """Render a hit; without a recorded question (qid None) no 下一条 or vote buttons."""
        hit = hits[position]
        row = []
        if position + 1 < len(hits) and qid is not None:
            row.append(Button("下一条 ▶", f"n:{qid}:{position + 1}"))
        row.append(Button("📖 阅读全文", f"f:{article_key(hit.article_id)}"))
        rows = [row]
        if qid is not None:
            rows.append([Button("👍 有用", f"v:{qid}:1"), Button("👎 没用", f"v:{qid}:-1")])
        return replies.answer(hit, position + 1, len(hits), rows, closest, topic,
                              self.is_stale(hit))

    def inline(self, text: str) -> list[InlineItem]:
        """Inline mode: the top answers as sendable items, or one saying nothing was found."""
        question = text.strip()[:MAX_QUESTION_CHARS]
        if not _MEANINGFUL.search(question):
            return []
        found = self.live.current().answer(question, k=MAX_SOURCES)
        if not found.answered:
            nothing = Reply.text(replies.INLINE_NOTHING_TEXT.format(question=question))
            return [InlineItem("none", replies.INLINE_NOTHING, question[:INLINE_TITLE], nothing)]
        items = []
        for hit in found.hits:
            reply = replies.answer(hit, 1, 1, [], stale=self.is_stale(hit), links=False)
            reply.pieces.insert(0, (f"❓{_clip(question, INLINE_TITLE)}\n\n", False))
            details = " · ".join(x for x in (hit.source, format_date(hit.date)) if x)
            items.append(InlineItem(hashlib.sha1(hit.chunk_id.encode("utf-8")).hexdigest()[:16],
                                    _clip(hit.best_sentence, INLINE_TITLE),
                                    _clip(f"《{hit.title}》{details}", INLINE_DESCRIPTION),
                                    reply))
        return items

    def press(self, user_id: int, data: str) -> list[Reply]:
        """Handle a button press; return the replies (the first may edit the message).

        Telegram clients can send any data: what the bot's buttons never carry gets
        only a short "expired" notice.
        """
        kind, _, rest = data.partition(":")
        if kind == "n" and (found := _NEXT.fullmatch(rest)):
            return [self._next(int(found[1]), int(found[2]))]
        if kind == "f" and _FULL.fullmatch(rest):
            return self._full_article(rest)
        if kind == "v" and (found := _VOTE.fullmatch(rest)):
            return [self._vote(user_id, int(found[1]), int(found[2]))]
        if kind == "sn" and _QID.fullmatch(rest):
            return [self.staff.subscribe(user_id, int(rest))]
        if kind == "a" and rest and len(data.encode("utf-8")) <= replies.MAX_CALLBACK_BYTES:
            return [self.ask(user_id, "private", rest).reply]
        if data == INERT:
            return [Reply(notice="")]
        return [Reply(notice=replies.BUTTON_EXPIRED)]

    def _vote(self, user_id: int, qid: int, value: int) -> Reply:
        if self.records.question(qid) is None:
            return Reply(notice=replies.BUTTON_EXPIRED)
        if self.records.record_feedback(qid, user_id, value) is False:  # None: not stored
            return Reply(notice=replies.NOT_ASKER)
        return Reply(notice=replies.THANKS, edit=True,
                     buttons=[[Button(replies.THANKS, INERT)]])

    def _next(self, qid: int, position: int) -> Reply:
        question = self.records.question(qid)
        if question is None:
            return Reply(notice=replies.QUESTION_GONE)
        context = self._followups.get(qid)
        searcher = self.live.current()
        found = searcher.answer(question, k=MAX_SOURCES, context=context)
        if position >= len(found.hits):
            return Reply(notice=replies.NO_MORE)
        topic = topic_of(searcher, context) if context else None
        reply = self._answer(qid, found.hits, position, closest=not found.answered,
                             topic=topic)
        reply.edit = True
        return reply

    def article_by_key(self, key: str) -> Article | None:
        """Return the article whose `article_key` is `key`, or None if it is gone."""
        searcher = self.live.current()
        if self._keys[0] is not searcher:  # hash every id once per index, not per press
            self._keys = (searcher, {article_key(i): i for i in searcher.index.article_ids})
        ident = self._keys[1].get(key)
        return searcher.article(ident) if ident else None

    def _full_article(self, key: str) -> list[Reply]:
        article = self.article_by_key(key)
        if article is None:
            return [Reply(notice=replies.ARTICLE_GONE, pieces=[(replies.ARTICLE_GONE, False)])]
        return replies.article_parts(article)

    def example_questions(self) -> list[str]:
        """Questions the corpus answers best: each article's most confident one, best first.

        Candidates ask where a place is or where a service is, for the service words
        and local names the corpus holds; the retrieval's own confidence picks them.
        """
        searcher = self.live.current()
        if self._examples[0] is searcher:
            return self._examples[1]
        best: dict[str, tuple[float, str]] = {}
        for question in _candidate_questions(searcher):
            found = searcher.answer(question, k=1)
            if found.answered:
                ident = found.hits[0].article_id
                if found.confidence > best.get(ident, (-1.0, ""))[0]:
                    best[ident] = (found.confidence, question)
        ranked = sorted(best.values(), key=lambda cq: (-cq[0], cq[1]))
        examples = [question for _, question in ranked[:EXAMPLE_COUNT]]
        self._examples = (searcher, examples)
        return examples

    def example_buttons(self) -> list[list[Button]]:
        """One button per example question (its text is the callback data)."""
        return [[Button(q, f"a:{q}")] for q in self.example_questions()
                if len(f"a:{q}".encode()) <= replies.MAX_CALLBACK_BYTES]

    def welcome(self) -> Reply:
        """The /start message: what the bot does, with example questions as buttons."""
        return Reply.text(replies.WELCOME, self.example_buttons())

    def about(self) -> Reply:
        """The /about message: how many articles, the newest date, where answers come from."""
        articles = self.live.current().index.articles
        dates = sorted((a.date for a in articles if a.date), reverse=True)
        sources = sorted({a.source for a in articles if a.source})
        lines = [f"已收录 {len(articles)} 篇本地新闻报道"]
        if dates:
            lines[0] += f"，最新一篇发表于 {format_date(dates[0])}"
        lines[0] += "。"
        if sources:
            lines.append(f"来源：{'、'.join(sources)}。")
        lines.append("每条回答都是报道原文的摘录，并注明文章标题、来源和日期；"
                     "报道里没有的内容，我会如实说找不到，不做猜测。")
        return Reply.text("\n".join(lines))
