"""Write reviewed drafts into a corpus folder, and describe each for the review table."""

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
    out_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.part")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
    if taken is not None:
        taken.add(path)
    return path
