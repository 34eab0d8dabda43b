"""Staff answers: an admin's text as an ordinary, dated, cited article file in 答复/.

The file goes through the importers' writer (corpus/importers/write.py), which checks
that it loads as an article before writing it atomically. Title = the question as
asked (editable), source = LINLI_STAFF_SOURCE, date = today; no byline unless staff
typed one. Imports bot.replies, bot.staff.pairings and corpus.
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.staff.pairings import whole_hit
from corpus.importers.draft import Draft, build_article
from corpus.importers.write import write_draft
from corpus.load import article_id, parse_article_text
from corpus.models import STAFF_FOLDER, Article
from retrieval.search import Hit

MAX_TITLE_CHARS = 100
MAX_ANSWER_CHARS = 3000  # the preview and the answer must fit one Telegram message


class StaffAnswerError(ValueError):
    """A staff answer cannot be saved; the message says why and what to do."""


@dataclass
class StaffDraft:
    """An answer an admin is writing for one queued question."""

    question_id: int
    words: str
    title: str
    text: str | None = None
    awaiting: Literal["text", "title", "none"] = "text"

    def paragraphs(self) -> list[str]:
        """The answer's paragraphs: each non-empty line is one."""
        return [line.strip() for line in (self.text or "").splitlines() if line.strip()]

    def draft(self, source: str, today: dt.date) -> Draft:
        """The answer as an importer's draft, ready for the writer."""
        if not self.paragraphs():
            raise StaffAnswerError("the answer is empty; send its text first")
        article = build_article(self.title, [("text", p) for p in self.paragraphs()])
        return Draft(origin="staff answer", article=article, date=today.isoformat(),
                     source=source)

    def article(self, source: str, today: dt.date) -> Article:
        """The answer as the index will read it (for the preview)."""
        draft = self.draft(source, today)
        name = draft.file_name()
        parsed, _ = parse_article_text(draft.markdown(), f"{STAFF_FOLDER}/{Path(name).stem}",
                                       name)
        return parsed

    def preview_hit(self, source: str, today: dt.date) -> Hit:
        """The answer as residents will see it."""
        return whole_hit(self.article(source, today))


def check_title(title: str) -> str:
    """Return a usable title (one line, not too long), or raise StaffAnswerError."""
    title = " ".join(title.split())
    if not title:
        raise StaffAnswerError("标题不能为空，请重新发送标题。")
    if len(title) > MAX_TITLE_CHARS:
        raise StaffAnswerError(f"标题有 {len(title)} 个字，超过 {MAX_TITLE_CHARS} 个字，"
                               "请发送一个短一些的标题。")
    return title


def check_text(text: str) -> str:
    """Return the answer's text, or raise StaffAnswerError if it cannot be an answer."""
    text = text.strip()
    if not text:
        raise StaffAnswerError("答复不能为空，请重新发送答复内容。")
    if len(text) > MAX_ANSWER_CHARS:
        raise StaffAnswerError(f"答复有 {len(text)} 个字，超过 {MAX_ANSWER_CHARS} 个字，"
                               "请精简后重新发送（或写成文章用 /import 导入）。")
    return text


def write_answer(draft: StaffDraft, corpus_dir: Path, source: str, today: dt.date) -> Path:
    """Write the answer into the corpus's staff folder; return the file's path."""
    folder = corpus_dir / STAFF_FOLDER
    converted = draft.draft(source, today)
    target = folder / converted.file_name()
    if target.exists():
        raise StaffAnswerError(f"已有同名的答复文件 {STAFF_FOLDER}/{target.name}："
                               "请用“改标题”换一个标题再保存，或编辑那个文件后 /reload。")
    return write_draft(converted, folder)


def answer_id(path: Path, corpus_dir: Path) -> str:
    """The article id of a written staff answer."""
    return article_id(path, corpus_dir)
