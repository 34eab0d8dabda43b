"""What the saved index reads on demand: chunks as columns, texts and articles as bytes.

Validating 100,000 chunk objects, or decoding 50 MB of text, at start-up takes
seconds; these load in milliseconds and make an object only when a hit needs it.
May import corpus's models and `retrieval.index.store` (the array writer).
"""

import json
import mmap
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar, overload

import numpy as np
from numpy.typing import NDArray

from corpus.models import Article, Chunk, Section
from retrieval.index.store import save_array

T = TypeVar("T")
COLUMNS = ("article", "ordinal", "start", "end", "section")


def map_array(path: Path) -> NDArray[Any]:
    """Map a .npy file read-only: its pages are read when touched, and shared, not copied."""
    mapped = np.load(path, mmap_mode="r", allow_pickle=False)
    # A plain array over the mapped pages (it keeps the map alive): np.memmap's subclass
    # hooks run on every slice, and a question takes thousands of them.
    array: NDArray[Any] = mapped.view(np.ndarray)
    return array


def map_bytes(path: Path) -> "bytes | mmap.mmap":
    """Map a file read-only (an empty file gives b"")."""
    with path.open("rb") as raw:
        if not path.stat().st_size:
            return b""
        return mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ)


class _OnDemand(Sequence[T]):
    """A read-only sequence whose items are made by `_make(i)` when read."""

    def __len__(self) -> int:
        raise NotImplementedError

    def _make(self, i: int) -> T:
        raise NotImplementedError

    @overload
    def __getitem__(self, i: int) -> T: ...
    @overload
    def __getitem__(self, i: slice) -> list[T]: ...

    def __getitem__(self, i: int | slice) -> T | list[T]:
        if isinstance(i, slice):
            return [self._make(j) for j in range(*i.indices(len(self)))]
        size = len(self)
        if not -size <= i < size:
            raise IndexError(i)
        return self._make(i if i >= 0 else i + size)

    def __iter__(self) -> Iterator[T]:
        return (self._make(i) for i in range(len(self)))


class ChunkTable(_OnDemand[Chunk]):
    """A read-only sequence of chunks backed by arrays."""

    def __init__(self, articles: Sequence[Article], article: NDArray[np.int32],
                 ordinal: NDArray[np.int32], start: NDArray[np.int32], end: NDArray[np.int32],
                 section: NDArray[np.int32], sections: list[str]) -> None:
        self.articles, self.sections = articles, sections
        self.article, self.ordinal, self.start, self.end, self.section = (
            article, ordinal, start, end, section)
        self._body = lru_cache(maxsize=4096)(lambda i: self.articles[i].body)

    @classmethod
    def from_chunks(cls, articles: Sequence[Article], chunks: list[Chunk]) -> "ChunkTable":
        """Lay out chunks of `articles` as columns."""
        position = {a.id: i for i, a in enumerate(articles)}
        sections: dict[str, int] = {}
        section = [-1 if c.section is None else sections.setdefault(c.section, len(sections))
                   for c in chunks]
        return cls(articles,
                   np.asarray([position[c.article_id] for c in chunks], dtype=np.int32),
                   np.asarray([c.ordinal for c in chunks], dtype=np.int32),
                   np.asarray([c.start for c in chunks], dtype=np.int32),
                   np.asarray([c.end for c in chunks], dtype=np.int32),
                   np.asarray(section, dtype=np.int32), list(sections))

    def save(self, folder: Path) -> None:
        """Write the columns (`chunks.<column>.npy`) and the headings (`sections.json`)."""
        for name in COLUMNS:
            save_array(folder / f"chunks.{name}.npy", getattr(self, name))
        (folder / "sections.json").write_text(json.dumps(self.sections, ensure_ascii=False),
                                              encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, articles: Sequence[Article]) -> "ChunkTable":
        """Map the columns back; raise ValueError if they do not fit the articles."""
        columns = {name: map_array(folder / f"chunks.{name}.npy") for name in COLUMNS}
        sections = json.loads((folder / "sections.json").read_text(encoding="utf-8"))
        table = cls(articles, sections=sections, **columns)
        sizes = {len(column) for column in columns.values()}
        if len(sizes) != 1 or (len(table) and (
                int(table.article.max()) >= len(articles)
                or int(table.section.max()) >= len(sections))):
            raise ValueError("chunk columns do not fit the articles")
        return table

    def __len__(self) -> int:
        return len(self.article)

    def text(self, i: int) -> str:
        """Chunk i's text, without building the Chunk."""
        return self._body(int(self.article[i]))[int(self.start[i]) : int(self.end[i])]

    def _make(self, i: int) -> Chunk:
        a = int(self.article[i])
        article = self.articles[a]
        start, end, section = int(self.start[i]), int(self.end[i]), int(self.section[i])
        return Chunk.model_construct(
            id=f"{article.id}#{int(self.ordinal[i])}", article_id=article.id,
            title=article.title, section=None if section < 0 else self.sections[section],
            ordinal=int(self.ordinal[i]), text=self._body(a)[start:end], start=start, end=end)


class TextColumn(_OnDemand[str]):
    """Many texts kept as one UTF-8 byte string (or a mapped file) and offsets."""

    def __init__(self, blob: "bytes | mmap.mmap", offsets: NDArray[np.int64]) -> None:
        self.blob, self.offsets = blob, offsets

    @classmethod
    def from_texts(cls, texts: Sequence[str]) -> "TextColumn":
        """Pack texts."""
        encoded = [t.encode("utf-8") for t in texts]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        return cls(b"".join(encoded), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def _make(self, i: int) -> str:
        return self.blob[int(self.offsets[i]) : int(self.offsets[i + 1])].decode("utf-8")


def _article_from_json(line: bytes) -> Article:
    """Rebuild an article the index wrote itself (its file's checksum was checked at load)."""
    data = json.loads(line)
    sections = tuple(
        Section.model_construct(heading=s["heading"], paragraphs=tuple(s["paragraphs"]))
        for s in data.pop("sections"))
    return Article.model_construct(sections=sections, **data)


class ArticleTable(_OnDemand[Article]):
    """Articles kept as their JSON lines; each parsed the first time it is read."""

    def __init__(self, lines: TextColumn) -> None:
        self.lines = lines
        self._article = lru_cache(maxsize=4096)(lambda i: _article_from_json(self.line(i)))

    @classmethod
    def from_lines(cls, lines: Sequence[bytes]) -> "ArticleTable":
        """Keep JSON lines given one by one."""
        offsets = np.zeros(len(lines) + 1, dtype=np.int64)
        np.cumsum([len(line) + 1 for line in lines], out=offsets[1:])
        return cls(TextColumn(b"".join(line + b"\n" for line in lines), offsets))

    def line(self, i: int) -> bytes:
        """The JSON line of article i, as saved (without its new line)."""
        start, end = int(self.lines.offsets[i]), int(self.lines.offsets[i + 1])
        return self.lines.blob[start : end - 1]

    def __len__(self) -> int:
        return len(self.lines)

    def _make(self, i: int) -> Article:
        article: Article = self._article(i)
        return article
