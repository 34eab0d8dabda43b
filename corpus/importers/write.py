"""Write article files into a corpus folder: reviewed drafts, and admins' uploads.

`write_article_file` is the one place an article file is written (atomically);
`write_draft` checks a draft first. Never imports telegram or bot.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from corpus.importers.draft import Draft, ImportRefused
from corpus.load import parse_article_text
from corpus.models import ArticleFormatError


@dataclass(frozen=True)
class ReviewRow:
    """One line of the review table: what was written where, and what was not found."""

    file: str
    title: str
    date: str | None
    source: str | None
    paragraphs: int
    characters: int
    missing: list[str]
    origin: str

    @classmethod
    def of(cls, path: Path, draft: Draft) -> "ReviewRow":
        """Describe a written draft."""
        return cls(str(path), draft.article.title, draft.date, draft.source,
                   len(draft.article.paragraphs), draft.characters, draft.missing, draft.origin)


def write_draft(draft: Draft, out_dir: Path, *, force: bool = False,
                taken: set[Path] | None = None) -> Path:
    """Check the draft loads as an article, then write it; never overwrite unless forced.

    `taken` holds the files this run already wrote, which even --force does not overwrite.
    """
    path = out_dir / draft.file_name()
    if taken is not None and path in taken:
        raise ImportRefused(f"{draft.origin}: '{draft.article.title}' would overwrite "
                            f"{path}, written by this import; rename one title")
    if path.exists() and not force:
        raise ImportRefused(f"{path}: already exists; review it, then use --force to "
                            "overwrite")
    text = draft.markdown()
    try:
        parse_article_text(text, path.stem, path.name)  # what /reload reads must load
    except ArticleFormatError as err:
        raise ImportRefused(f"{draft.origin}: the converted article does not load ({err}); "
                            "write the article file by hand") from None
    write_article_file(path, text.encode("utf-8"))
    if taken is not None:
        taken.add(path)
    return path


def write_article_file(path: Path, data: bytes) -> None:
    """Write an article file whole or not at all, creating its folder if need be.

    Readers (a /reload, the loader) see the old file or the new one, never half of it:
    the bytes go to a hidden ".NAME.part" beside it, reach the disk, then replace it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.part")
    try:
        with partial.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(path)  # atomic on one file system
    finally:
        partial.unlink(missing_ok=True)
