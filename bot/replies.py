"""What the bot says, as neutral replies that Telegram (HTML) and the terminal both render.

Residents' answers, citations and whole articles, and admins' reload and statistics
reports. Telegram-free: may import `corpus`, `retrieval` and the bot's records and
live index, never `telegram` or a channel.
"""

import html
from dataclasses import dataclass, field
from pathlib import Path

from bot.live_index import ReloadOutcome
from bot.records import Stats
from corpus.chunk import split_sentences
from corpus.models import Article, format_date, is_staff_answer, is_web_address
from retrieval.index import SHOWN_NAMES
from retrieval.search import Hit

# Telegram's limit on a message's text, telegram.constants.MessageLimit.MAX_TEXT_LENGTH
# (tests/test_replies.py checks that the two agree).
MAX_MESSAGE = 4096
MAX_CALLBACK_BYTES = 64

WELCOME = ("您好！我是“邻里”社区服务小助手。我根据已收录的本地新闻报道回答问题，"
           "每条回答都摘自原文并注明出处。\n直接发送您的问题，比如：")
HELP = ("直接用文字提问，比如“老年人活动区在哪里？”。\n"
        "我会给出报道原文中最相关的段落（重点句加粗），并注明文章标题、来源和日期。\n"
        "回答下方的按钮：下一条（换一篇报道）、阅读全文、👍/👎（告诉我们是否有用）。\n"
        "问完一个问题，可以接着简短追问，比如“几点开门？”“在哪里？”，我会接着上一个问题回答。\n"
        "在群聊里，请用 /ask 问题、@我，或回复我的消息来提问；"
        "在任何聊天里输入 @我的用户名 加问题，可以把答案直接发给家人。\n"
        "命令：/start 开始　/help 帮助　/about 关于")
NO_ANSWER = ("抱歉，现有的报道里没有找到能回答“{question}”的内容。"
             "我只根据已收录的文章回答，不做猜测。\n您可以换个说法，或试试下面这些问题：")
CLOSEST = "没有找到确切的答案，这篇报道可能相关：\n\n"
TOPIC = "关于“{topic}”：\n"  # a follow-up's answer says which topic it was read in
FOLLOWUP_NO = ("关于“{topic}”：抱歉，现有的报道里没有找到能回答“{question}”的内容。"
               "我只根据已收录的文章回答，不做猜测。\n您可以换个说法，或试试下面这些问题：")
STALE = "这篇报道发表于{date}，具体安排可能已有变化，请以社区最新通知为准。"
UNDATED = "日期不详"
INLINE_NOTHING = "没有找到相关报道"
INLINE_NOTHING_TEXT = ("邻里社区服务小助手：现有的报道里没有找到能回答“{question}”的内容。"
                       "我只根据已收录的文章回答，不做猜测。")
NOT_TEXT = "我只能读懂文字问题。请把您的问题打出来，比如“老年人活动区在哪里？”"
EMPTY = "请用文字描述您的问题，比如“哪里可以免费量血压？”"
SLOW_DOWN = "您提问有点快了，请稍等一分钟再问。"
CUT_NOTE = "（问题较长，只按前 {limit} 个字查找）"
APOLOGY = "抱歉，出了点问题，请稍后再试。"
NOT_ADMIN = "抱歉，这个命令只有管理员可以使用。"
ARTICLE_GONE = "抱歉，这篇文章已经下架或更新，请重新提问。"
QUESTION_GONE = "抱歉，找不到这条提问的记录了，请重新提问。"
NO_MORE = "没有更多相关报道了。"
THANKS = "谢谢您的反馈 🙏"
RELOAD_BUSY = "正在重新加载文章，请稍候再试。"
BUTTON_EXPIRED = "这个按钮已失效"
NOT_ASKER = "只有提问的人可以评价这条回答。"
PRIVATE_ONLY = "管理命令和文章上传只在与我的私聊中使用：请私聊 @{username}。"


@dataclass(frozen=True)
class Button:
    """An inline button: its label and the callback data it sends (at most 64 bytes)."""

    label: str
    data: str

    def __post_init__(self) -> None:
        if len(self.data.encode("utf-8")) > MAX_CALLBACK_BYTES:
            raise ValueError(f"callback data '{self.data}' is over {MAX_CALLBACK_BYTES} bytes")


@dataclass
class Reply:
    """A message: text pieces (some bold) and rows of buttons."""

    pieces: list[tuple[str, bool]] = field(default_factory=list)
    buttons: list[list[Button]] = field(default_factory=list)
    edit: bool = False  # replaces the message whose button was pressed
    notice: str | None = None  # a short pop-up for a button press

    @classmethod
    def text(cls, text: str, buttons: list[list[Button]] | None = None) -> "Reply":
        """A reply of plain text."""
        return cls(pieces=[(text, False)], buttons=buttons or [])

    def html(self) -> str:
        """Render for Telegram's HTML parse mode, everything from the corpus escaped."""
        return "".join(f"<b>{html.escape(t)}</b>" if bold else html.escape(t)
                       for t, bold in self.pieces)

    def plain(self, bold_start: str = "", bold_end: str = "") -> str:
        """Render as plain text, bold pieces wrapped in the given marks."""
        return "".join(f"{bold_start}{t}{bold_end}" if bold else t for t, bold in self.pieces)


def citation(hit_or_article: Hit | Article, section: str | None = None,
             links: bool = True) -> str:
    """Cite an article: 《title》, its section, then source · date · byline where known.

    An article without a date says so; `links=False` leaves out the web address.
    """
    article = hit_or_article
    date = format_date(article.date) or UNDATED
    ident = article.article_id if isinstance(article, Hit) else article.id
    lines = [f"{'📝' if is_staff_answer(ident) else '📰'}《{article.title}》"]
    if section:
        lines.append(f"　{section}")
    details = " · ".join(x for x in (article.source, date, article.byline) if x)
    if details:
        lines.append(f"　{details}")
    if links and is_web_address(article.url):  # never javascript: and the like
        lines.append(f"　{article.url}")
    return "\n".join(lines)


def answer(hit: Hit, position: int, total: int, buttons: list[list[Button]],
           closest: bool = False, topic: str | None = None, stale: bool = False,
           links: bool = True) -> Reply:
    """The passage with its best sentence in bold, then the citation.

    `closest`: the passage is only the closest match, and the reply says so first.
    `topic`: the topic a follow-up was read in, named first. `stale`: the article is
    old enough that its details may have changed, and a line says so.
    """
    text = hit.shown_text
    # A passage staff chose has no best sentence: it is shown without bold.
    before, found, after = (text.partition(hit.best_sentence) if hit.best_sentence
                            else (text, "", ""))
    body = [(before, False), (found, True), (after, False)] if found else [(text, False)]
    prefix = ([(TOPIC.format(topic=topic), False)] if topic else []) + (
        [(CLOSEST, False)] if closest else [])
    pieces = prefix + body
    footer = f"\n\n{citation(hit, hit.section, links)}"
    if stale and hit.date:
        footer += "\n" + STALE.format(date=format_date(hit.date))
    if total > 1:
        footer += f"\n（第 {position} 条，共 {total} 条相关报道）"
    reply = Reply(pieces=[p for p in pieces if p[0]] + [(footer, False)], buttons=buttons)
    if len(reply.html()) > MAX_MESSAGE:
        # A chunk is at most a few hundred characters; this guards a hand-made giant one.
        reply.pieces = [*prefix, (text[: MAX_MESSAGE - len(footer) - 200] + "…", False),
                        (footer, False)]
    return reply


def article_parts(article: Article, limit: int = MAX_MESSAGE) -> list[Reply]:
    """Split a whole article into messages under `limit`, on paragraph boundaries."""
    head = f"《{article.title}》"
    blocks: list[str] = []
    for section in article.sections:
        if section.heading:
            blocks.append(f"【{section.heading}】")
        for paragraph in section.paragraphs:
            blocks.extend(_pieces(paragraph, limit - 200))
    footer = citation(article)
    parts: list[list[str]] = [[]]
    for block in [*blocks, footer]:
        current = parts[-1]
        if current and len(html.escape("\n\n".join([*current, block]))) > limit - 200:
            parts.append([])
        parts[-1].append(block)
    total = len(parts)
    replies = []
    for i, body in enumerate(parts, start=1):
        title = head + (f"（{i}/{total}）" if total > 1 else "")
        replies.append(Reply(pieces=[(title, True), ("\n\n" + "\n\n".join(body), False)]))
    return replies


def _pieces(paragraph: str, limit: int) -> list[str]:
    """Cut an over-long paragraph at sentence ends, never mid-sentence unless it must."""
    if len(html.escape(paragraph)) <= limit:
        return [paragraph]
    pieces, current = [], ""
    for sentence in split_sentences(paragraph):
        while len(sentence) > limit:
            pieces.append(sentence[:limit])
            sentence = sentence[limit:]
        if len(html.escape(current + sentence)) > limit:
            pieces.append(current)
            current = ""
        current += sentence
    if current:
        pieces.append(current)
    return pieces


def reload_reply(outcome: ReloadOutcome) -> Reply:
    """Tell the admin what a reload did, or why the old index stayed live."""
    if outcome.report is None:
        return Reply.text(f"❌ 重新加载失败，继续使用原来的索引。\n原因：{outcome.error}")
    report = outcome.report
    lines = [f"✅ 重新加载完成：{report.articles} 篇文章，{report.chunks} 个段落，"
             f"用时 {report.seconds:.1f} 秒。"]
    for label, ids in (("新增", report.added), ("修改", report.changed), ("删除", report.removed)):
        if ids:
            more = f" 等（另有 {len(ids) - SHOWN_NAMES} 篇）" if len(ids) > SHOWN_NAMES else ""
            lines.append(f"{label}（{len(ids)}）：{'、'.join(ids[:SHOWN_NAMES])}{more}")
    if not (report.added or report.changed or report.removed):
        lines.append("文章没有变化。")
    if report.problems:
        lines.append(f"⚠️ {len(report.problems)} 个问题：")
        lines += [f"• {problem}" for problem in report.problems[:SHOWN_NAMES]]
        if len(report.problems) > SHOWN_NAMES:
            rest = len(report.problems) - SHOWN_NAMES
            lines.append(f"……另有 {rest} 个问题，全部写在服务日志里。")
    return Reply.text("\n".join(lines))


def stats_reply(stats: Stats, moved_aside: tuple[Path, str] | None = None) -> Reply:
    """Render the figures staff report on (and say if the records started afresh)."""
    lines = [f"📊 最近 {stats.days} 天",
             f"今天提问：{stats.questions_today}",
             f"{stats.days} 天内提问：{stats.questions}，已回答 {stats.answered_share:.0%}",
             f"反馈：👍 {stats.thumbs_up}　👎 {stats.thumbs_down}"]
    if stats.unanswered_top:
        lines.append("未能回答最多的问题（可据此补充文章）：")
        lines += [f"{i}. {q}（{n} 次）" for i, (q, n) in enumerate(stats.unanswered_top, 1)]
    else:
        lines.append("没有未能回答的问题。")
    if moved_aside:
        lines.append(moved_aside_note(*moved_aside))
    return Reply.text("\n".join(lines))


def moved_aside_note(aside: Path, problem: str) -> str:
    """Tell admins that the records started afresh, and where the old database is kept."""
    return (f"⚠️ 记录数据库无法使用（{problem}），已改名保存为 {aside.name}，"
            "统计从这次启动起重新计算。")
