"""The admins' side of the staff loop, Telegram-free: /pending, 回答, link pick, designation.

`Desk.press` and `Desk.take` return a `DeskResult`: replies for the admin, notifications
for residents, and, after a staff answer was written, `reload=True`: the channel then
reloads the index the way /reload does and calls `Desk.saved`. Imports bot (not
bot.channels) and retrieval.
"""

import datetime as dt
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.conversation import Conversation, article_key
from bot.records import Records
from bot.replies import Button, Reply, answer
from bot.staff.answers import (
    MAX_TITLE_CHARS,
    StaffAnswerError,
    StaffDraft,
    answer_id,
    check_text,
    check_title,
    write_answer,
)
from bot.staff.history import history_page, remove
from bot.staff.loop import Notification
from bot.staff.pairings import (
    WHOLE,
    Kind,
    all_pairings,
    changed_groups,
    find_passage,
    pair,
    passage_hash,
)
from bot.staff.queue import PendingGroup, pending_groups, words_of
from corpus.importers.draft import ImportRefused
from corpus.models import ArticleFormatError, is_staff_answer

logger = logging.getLogger(__name__)

PAGE_SIZE = 5
CANDIDATES = 3
DESIGNATIONS = 8
PATTERN = r"^s[pacelkdgshx]:"  # the desk's buttons (sn: is the residents', in Conversation)
_ID = r"[1-9][0-9]{0,17}"
_BUTTONS = {kind: re.compile(rest) for kind, rest in (
    ("sp", r"([0-9]{1,4})"), ("sa", f"({_ID})"), ("sl", f"({_ID})"), ("sd", f"({_ID})"),
    ("sk", f"({_ID}):([0-9a-f]{{12}})"), ("sg", f"({_ID}):([0-9a-f]{{12}})"),
    ("ss", f"({_ID})"), ("se", f"({_ID})"), ("sc", f"({_ID})"), ("sh", r"([0-9]{1,4})"),
    ("sx", r"([0-9a-f]{12})"))}
ASK_TEXT = ("✍️ 请发送对“{question}”的答复（可以多段，每行一段）。\n"
            "发送后我会先给您预览，确认后才保存。")
EXPIRED = "这个操作已经过期，请重新发送 /pending。"


@dataclass
class DeskResult:
    """What a desk action produced for the channel to deliver."""

    replies: list[Reply] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    reload: bool = False  # a staff answer was written: reload, then call Desk.saved


class Desk:
    """The staff actions on the queue, for every admin (each has at most one draft)."""

    def __init__(self, conversation: Conversation, corpus_dir: Path, source: str,
                 days: int = 30) -> None:
        self.conversation, self.corpus_dir, self.source = conversation, corpus_dir, source
        self.days = days  # how far back the queue looks
        self.drafts: dict[int, StaffDraft] = {}
        self.written: dict[int, tuple[StaffDraft, Path]] = {}
        self.today: Callable[[], dt.date] = dt.date.today

    @property
    def records(self) -> Records:
        """The records database (the conversation's)."""
        return self.conversation.records

    def queue(self) -> list[PendingGroup]:
        """The pending groups, those whose paired passage changed flagged."""
        changed = changed_groups(self.records, self.conversation.live.current())
        return pending_groups(self.records, self.days, changed)

    # --- the queue ------------------------------------------------------------------------
    def page(self, number: int = 0) -> Reply:
        """One page of the queue: a line per question, 回答 and 选段落 buttons for each."""
        groups = self.queue()
        history = [Button("📚 已答复", "sh:0")] if all_pairings(self.records) else []
        if not groups:
            return Reply.text("✅ 没有待答复的问题。", [history] if history else [])
        pages = (len(groups) + PAGE_SIZE - 1) // PAGE_SIZE
        number = min(max(number, 0), pages - 1)
        shown = groups[number * PAGE_SIZE : (number + 1) * PAGE_SIZE]
        lines = [f"📋 待答复的问题：共 {len(groups)} 个（第 {number + 1}/{pages} 页，"
                 "问得多的、新近的在前）"]
        buttons = []
        for i, group in enumerate(shown, number * PAGE_SIZE + 1):
            when = time.strftime("%m-%d", time.localtime(group.last_asked))
            lines.append(f"{i}. {group.question}（{group.asked} 次，最近 {when}；{group.kinds()}）")
            buttons.append([Button(f"✍️ 回答 {i}", f"sa:{group.question_id}"),
                            Button(f"🔗 选段落 {i}", f"sl:{group.question_id}")])
        nav = []
        if number > 0:
            nav.append(Button("◀ 上一页", f"sp:{number - 1}"))
        if number + 1 < pages:
            nav.append(Button("下一页 ▶", f"sp:{number + 1}"))
        nav += history
        return Reply.text("\n".join(lines), buttons + ([nav] if nav else []))

    # --- dispatch ---------------------------------------------------------------------------
    def press(self, admin: int, data: str) -> DeskResult:
        """Handle one of the desk's buttons (the caller checked that `admin` is one)."""
        kind, _, rest = data.partition(":")
        pattern = _BUTTONS.get(kind)
        found = pattern.fullmatch(rest) if pattern else None
        if found is None:
            return DeskResult([Reply(notice=EXPIRED)])
        if kind == "sx":
            removed, reload = remove(self.records, self.corpus_dir, found[1])
            return DeskResult([removed], reload=reload)
        first = int(found[1])
        if kind == "sp":
            return DeskResult([self.page(first)])
        if kind == "sh":
            return DeskResult([history_page(self.records, self.conversation.live.current(),
                                            first)])
        if kind in ("ss", "se", "sc") and self.drafts.get(admin, None) is None:
            return DeskResult([Reply(notice=EXPIRED)])
        actions: dict[str, Callable[[], DeskResult]] = {
            "sa": lambda: self.begin(admin, first), "sl": lambda: self.candidates(first),
            "sd": lambda: self.designations(first),
            "sk": lambda: self.pick(first, found[2]), "sg": lambda: self.designate(first, found[2]),
            "ss": lambda: self.save(admin), "se": lambda: self.retitle(admin),
            "sc": lambda: self.cancel(admin)}
        return actions[kind]()

    # --- 回答: a staff answer -----------------------------------------------------------------
    def begin(self, admin: int, question_id: int) -> DeskResult:
        """Start an answer to a queued question: the admin's next message is its text."""
        question = self.records.question(question_id)
        words = words_of(self.records, question_id)
        if question is None or words is None:
            return DeskResult([Reply.text(EXPIRED)])
        title = " ".join(question.split())[:MAX_TITLE_CHARS]  # editable: 改标题
        self.drafts[admin] = StaffDraft(question_id, words, title)
        return DeskResult([Reply.text(ASK_TEXT.format(question=question),
                                      [[Button("取消", f"sc:{question_id}")]])])

    def awaiting(self, admin: int) -> bool:
        """Tell whether the admin's next message is an answer's text or title."""
        draft = self.drafts.get(admin)
        return draft is not None and draft.awaiting != "none"

    def take(self, admin: int, text: str) -> DeskResult:
        """Take the admin's message as the answer's text (or new title); show the preview."""
        draft = self.drafts[admin]
        try:
            if draft.awaiting == "title":
                draft.title = check_title(text)
            else:
                draft.text = check_text(text)
        except StaffAnswerError as err:
            return DeskResult([Reply.text(f"❌ {err}")])
        draft.awaiting = "none"
        return DeskResult([self.preview(draft)])

    def preview(self, draft: StaffDraft) -> Reply:
        """The answer exactly as residents will see it, with 保存 / 改标题 / 取消."""
        shown = answer(draft.preview_hit(self.source, self.today()), 1, 1, [])
        shown.pieces.insert(0, ("👀 预览：居民提问后将看到下面的回答\n\n", False))
        qid = draft.question_id
        shown.buttons = [[Button("✅ 保存", f"ss:{qid}"), Button("✏️ 改标题", f"se:{qid}"),
                          Button("取消", f"sc:{qid}")]]
        return shown

    def retitle(self, admin: int) -> DeskResult:
        """Ask for a new title; the next message is it."""
        draft = self.drafts[admin]
        draft.awaiting = "title"
        return DeskResult([Reply.text(f"现在的标题：{draft.title}\n请发送新的标题。")])

    def cancel(self, admin: int) -> DeskResult:
        """Drop the draft: nothing is written."""
        draft = self.drafts.pop(admin)
        return DeskResult([Reply(notice="已取消", edit=True,
                                 pieces=[(f"已取消，对“{draft.title}”的答复没有保存。", False)])])

    def save(self, admin: int) -> DeskResult:
        """Write the answer file; the channel reloads, then calls `saved`."""
        draft = self.drafts[admin]
        try:
            path = write_answer(draft, self.corpus_dir, self.source, self.today())
        except (StaffAnswerError, ImportRefused, ArticleFormatError, OSError) as err:
            return DeskResult([Reply.text(f"❌ 答复没有保存：{err}")])
        del self.drafts[admin]
        self.written[admin] = (draft, path)
        # The file is named after the question: its name stays out of the log.
        logger.info("staff answer written (%d characters)", len(draft.text or ""))
        note = f"📝 已保存为 {path.relative_to(self.corpus_dir).as_posix()}，正在重新加载……"
        return DeskResult([Reply(notice="已保存", edit=True, pieces=[(note, False)])],
                          reload=True)

    def saved(self, admin: int) -> DeskResult:
        """After the reload: pair the group with the new answer and notify who waits."""
        written = self.written.pop(admin, None)
        if written is None:
            return DeskResult()
        draft, path = written
        ident = answer_id(path, self.corpus_dir)
        if self.conversation.live.current().article(ident) is None:
            return DeskResult([Reply.text(f"❌ {path.name} 没有进入索引（见上面的加载报告）；"
                                          "修正文件后 /reload。")])
        return self._paired(draft.words, draft.title, ident, WHOLE, "staff")

    # --- 选段落 and designated replies ----------------------------------------------------------
    def candidates(self, question_id: int) -> DeskResult:
        """The top passages for a queued question; the admin picks the one that answers it."""
        question = self.records.question(question_id)
        if question is None:
            return DeskResult([Reply.text(EXPIRED)])
        hits = self.conversation.live.current().rank(question, k=CANDIDATES)
        lines = [f"🔗 “{question}”：哪一段回答了它？"]
        rows = []
        for i, hit in enumerate(hits, 1):
            lines.append(f"\n{i}. 《{hit.title}》\n{_clip(hit.text, 160)}")
            rows.append([Button(f"用第 {i} 段", f"sk:{question_id}:{passage_hash(hit.text)}")])
        rows.append([Button("都不对，我来回答", f"sa:{question_id}"),
                     Button("指定答复", f"sd:{question_id}")])
        return DeskResult([Reply.text("\n".join(lines), rows)])

    def pick(self, question_id: int, passage: str) -> DeskResult:
        """Pair the question's group with the passage picked among the candidates."""
        question, words = self.records.question(question_id), words_of(self.records, question_id)
        searcher = self.conversation.live.current()
        hits = searcher.rank(question, k=CANDIDATES) if question else []
        hit = next((h for h in hits if passage_hash(h.text) == passage), None)
        if question is None or words is None or hit is None:
            return DeskResult([Reply.text(EXPIRED)])
        return self._paired(words, question, hit.article_id, passage, "link")

    def designations(self, question_id: int) -> DeskResult:
        """The staff answers to designate as the reply (e.g. 请拨打12345政务服务热线)."""
        articles = [a for a in self.conversation.live.current().index.articles
                    if is_staff_answer(a.id)]
        articles.sort(key=lambda a: (a.date or "", a.id), reverse=True)
        if not articles:
            return DeskResult([Reply.text("还没有工作人员的答复可以指定；请先“回答”一个问题。")])
        rows = [[Button(_clip(a.title, 30), f"sg:{question_id}:{article_key(a.id)}")]
                for a in articles[:DESIGNATIONS]]
        return DeskResult([Reply.text("选择用哪条答复回答这个问题：", rows)])

    def designate(self, question_id: int, key: str) -> DeskResult:
        """Pair the question's group with a staff answer."""
        question, words = self.records.question(question_id), words_of(self.records, question_id)
        ident = next((a.id for a in self.conversation.live.current().index.articles
                      if is_staff_answer(a.id) and article_key(a.id) == key), None)
        if question is None or words is None or ident is None:
            return DeskResult([Reply.text(EXPIRED)])
        return self._paired(words, question, ident, WHOLE, "designated")

    def _paired(self, words: str, question: str, ident: str, passage: str,
                kind: Kind) -> DeskResult:
        pairing = pair(self.records, words, question, ident, passage, kind)
        hit = find_passage(self.conversation.live.current(), pairing)
        if hit is None:  # it was there a moment ago; say so rather than pretend
            return DeskResult([Reply.text(EXPIRED)])
        notifications = self.conversation.staff.notifications(hit, words)
        told = f"已通知 {len(notifications)} 位等待答复的居民。" if notifications else ""
        logger.info("paired a question group (%s), %d notified", kind, len(notifications),
                    extra={"pairing": kind, "notified": len(notifications)})
        text = (f"✅ 以后居民问“{question}”（或同样意思的问题），会收到《{hit.title}》"
                f"这段回答。{told}")
        return DeskResult([Reply.text(text)], notifications)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

