"""Article files admins send: checked before anything is written, then saved into the corpus.

Telegram-free: may import `corpus`, never `telegram` or a channel. The file is written
by the corpus's one article writer (`corpus.importers.write`).
"""

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from corpus.importers import write_article_file
from corpus.load import ARTICLE_SUFFIXES, MAX_FILE_BYTES, parse_article_text
from corpus.models import ArticleFormatError

_SAFE_NAME = re.compile(r"^[^/\\\x00]+$")
# File systems allow 255 bytes a name; the temporary ".NAME.part" needs 6 more.
MAX_NAME_BYTES = 200


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
    write_article_file(target, upload.data)
    return target
