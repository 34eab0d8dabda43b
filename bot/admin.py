"""What admins get: reload reports, statistics, article uploads (independent of Telegram)."""

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from bot.live_index import ReloadOutcome
from bot.records import Stats
from bot.replies import Reply
from corpus.load import ARTICLE_SUFFIXES, MAX_FILE_BYTES, parse_article_text
from corpus.models import ArticleFormatError
from retrieval.index import SHOWN_NAMES

_SAFE_NAME = re.compile(r"^[^/\\\x00]+$")
# File systems allow 255 bytes a name; the temporary ".NAME.part" needs 6 more.
MAX_NAME_BYTES = 200


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


@dataclass
class Upload:
    """An article file an admin sent, checked and ready to save."""

    name: str
    data: bytes
    title: str


def check_name(name: str) -> None:
    """Refuse a file name that is unsafe, invisible in parts, or too long for the disk."""
    hidden = sorted({f"U+{ord(c):04X}" for c in name if unicodedata.category(c) in ("Cc", "Cf")})
    if hidden:
        raise ArticleFormatError(f"{name!r}: the file name contains control or direction "
                                 f"characters ({', '.join(hidden)}); rename it, e.g. 文章.md")
    if not _SAFE_NAME.match(name) or name.startswith(".") or name != name.strip():
        raise ArticleFormatError(f"'{name}' is not a usable file name; rename it, e.g. 文章.md")
    size = len(name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise ArticleFormatError(f"'{name[:20]}…': the file name is {size} bytes in UTF-8, over "
                                 f"the {MAX_NAME_BYTES} byte limit; give it a shorter name")


def check_size(name: str, size: int) -> None:
    """Refuse a file over the corpus loader's size limit."""
    if size > MAX_FILE_BYTES:
        raise ArticleFormatError(f"{name}: file is {size} bytes, over the "
                                 f"{MAX_FILE_BYTES} byte limit; split it into one file per article")


def check_upload(name: str, data: bytes) -> Upload:
    """Validate an uploaded article; raise ArticleFormatError naming the line and the fix."""
    check_name(name)
    if not name.lower().endswith(ARTICLE_SUFFIXES):
        raise ArticleFormatError(f"{name}: not an article file; send a .md or .txt file")
    check_size(name, len(data))
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise ArticleFormatError(f"{name}:{line}: contains NUL bytes, so it is not text; "
                                 "save the article as UTF-8 text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ArticleFormatError(f"{name}:{line}: not UTF-8 text; save the file as UTF-8") from None
    article, _ = parse_article_text(text, Path(name).stem, name)
    return Upload(name=name, data=data, title=article.title)


def save_upload(upload: Upload, corpus_dir: Path, overwrite: bool) -> Path | None:
    """Write the article into the corpus; return None if it exists and overwrite is False.

    Raise `ArticleFormatError` if a file of the other suffix holds the same article id.
    """
    target = corpus_dir / upload.name
    for suffix in ARTICLE_SUFFIXES:  # 食堂.txt beside 食堂.md: the same article id, refused
        other = target.with_suffix(suffix)
        if other.name != target.name and other.exists():
            raise ArticleFormatError(f"{upload.name}: {other.name} already holds this article "
                                     f"id; send it as {other.name} to replace that file")
    if target.exists() and not overwrite:
        return None
    corpus_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{upload.name}.part")
    try:
        with partial.open("wb") as out:
            out.write(upload.data)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(target)  # atomic: readers see the old file or the new, never half
    finally:
        partial.unlink(missing_ok=True)
    return target
