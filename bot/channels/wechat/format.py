"""What a follower reads in WeChat: plain text, 【】 around the bold sentence, citation lines.

A passive reply holds at most 2,048 bytes and no HTML. An answer links its article where it
has a web address, else says to reply 全文; an honest no lists example questions to reply
by number; 全文 pages through a whole article. May import bot.replies, corpus and retrieval.
"""

from bot import replies
from corpus.models import Article, format_date, is_web_address
from retrieval.search import MAX_QUESTION_CHARS, Hit

LIMIT = 2000  # bytes of content, a margin under WeChat's 2,048
FULL_TEXT = "全文"
MORE = "回复“全文”阅读全文"
NEXT_PART = "回复“全文”看下一段"
PICK = "回复数字即可提问。"
GREETING = ("您好，欢迎关注！我是“邻里”社区服务小助手。我根据已收录的本地新闻报道回答问题，"
            "每条回答都摘自原文并注明出处。直接发送您的问题，比如：")
HELP = ("直接发送文字问题，比如“老年人活动区在哪里？”。\n"
        "我会回复报道原文中最相关的段落，重点句用【】标出，并注明文章标题、来源和日期。\n"
        "回复“全文”可以阅读这篇报道的全文。\n"
        "问完一个问题，5 分钟内可以接着简短追问，比如“几点开门？”，我会接着上一个问题回答。\n"
        "报道里没有的内容，我会如实说找不到，不做猜测。")
SLOW_SEARCH = "这次查找用时较长，请稍后再发一次您的问题。"
NO_ARTICLE = "请先提一个问题，再回复“全文”阅读那篇报道。"
HELP_WORDS = frozenset({"帮助", "help", "?", "？", "菜单"})


def size(text: str) -> int:
    """The bytes WeChat counts."""
    return len(text.encode("utf-8"))


def clip_bytes(text: str, limit: int) -> str:
    """Cut text to at most `limit` UTF-8 bytes on a character boundary, marking the cut."""
    if size(text) <= limit:
        return text
    return text.encode("utf-8")[: max(0, limit - 3)].decode("utf-8", "ignore") + "…"


def _window(text: str, bold: str, limit: int) -> str:
    """A piece of the passage under `limit` bytes that keeps the bold sentence whole."""
    if size(text) <= limit:
        return text
    at = text.find(bold) if bold else -1
    if at < 0:
        return clip_bytes(text, limit)
    start = at
    while start > 0 and size(text[start - 1: at + len(bold)]) < limit * 0.4:
        start -= 1
    head = "…" if start else ""
    return head + clip_bytes(text[start:], limit - size(head))


def answer(hit: Hit, closest: bool, topic: str | None, stale: bool, cut: bool) -> str:
    """An answer: the passage with 【bold】, then the citation and how to read it all."""
    footer = "\n\n" + replies.citation(hit, hit.section)
    if stale and hit.date:
        footer += "\n" + replies.STALE.format(date=format_date(hit.date))
    if not is_web_address(hit.url):
        footer += "\n" + MORE
    lead = replies.CUT_NOTE.format(limit=MAX_QUESTION_CHARS) + "\n" if cut else ""
    if topic:
        lead += replies.TOPIC.format(topic=topic)
    if closest:
        lead += replies.CLOSEST
    text = hit.shown_text
    bold = hit.best_sentence if hit.best_sentence in text else ""
    shown = _window(text, bold, LIMIT - size(lead + footer) - 8)
    body = shown.replace(bold, f"【{bold}】", 1) if bold and bold in shown else shown
    return clip_bytes(lead + body + footer, LIMIT)


def with_examples(text: str, examples: list[str]) -> str:
    """A message followed by numbered example questions to reply with."""
    if not examples:
        return clip_bytes(text, LIMIT)
    lines = [f"{i}. {q}" for i, q in enumerate(examples, 1)]
    return clip_bytes("\n".join([text, *lines, PICK]), LIMIT)


def article_parts(article: Article) -> list[str]:
    """The whole article as messages under the limit, on paragraph boundaries."""
    blocks: list[str] = []
    for section in article.sections:
        if section.heading:
            blocks.append(f"【{section.heading}】")
        blocks.extend(clip_bytes(p, LIMIT - 300) for p in section.paragraphs)
    blocks.append(replies.citation(article))
    parts: list[list[str]] = [[]]
    for block in blocks:
        if parts[-1] and size("\n\n".join([*parts[-1], block])) > LIMIT - 300:
            parts.append([])
        parts[-1].append(block)
    total = len(parts)
    texts = []
    for number, body in enumerate(parts, 1):
        head = f"《{article.title}》" + (f"（{number}/{total}）" if total > 1 else "")
        tail = f"\n\n{NEXT_PART}" if number < total else ""
        texts.append(clip_bytes(f"{head}\n\n" + "\n\n".join(body) + tail, LIMIT))
    return texts
