"""Turn text into the normalised jieba tokens that the index and the questions share.

May import jieba, opencc, corpus's text, `retrieval.text.lexicon` and `retrieval.collector`.
"""

import bisect
import hashlib
import json
import logging
import marshal
import os
import re
import sys
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import opencc

from corpus.text import normalize_text
from retrieval.collector import collection_paused
from retrieval.text import lexicon

# jieba imports pkg_resources only to find its own files, and that import takes 0.15 s
# of every start; made to fail, jieba opens the same files by path (its own fallback).
_PKG_RESOURCES_LOADED = "pkg_resources" in sys.modules
if not _PKG_RESOURCES_LOADED:
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # an import raises
try:
    import jieba
finally:
    if not _PKG_RESOURCES_LOADED:
        del sys.modules["pkg_resources"]

logger = logging.getLogger(__name__)

# Bump when tokenising changes in a way the dictionaries do not show.
TOKENIZER_VERSION = 1
_WORD = re.compile(r"\w", re.UNICODE)


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def normalize_for_search(text: str) -> str:
    """Normalise text as the index sees it: NFKC, lower-case, Traditional to Simplified."""
    return _t2s().convert(normalize_text(text).lower())


@cache
def _base_dictionary() -> tuple[dict[str, int], int]:
    """Load jieba's dictionary and the maintained user words once per process.

    jieba caches its parsed dictionary in the temporary folder (TMPDIR): the
    Docker image ships it; systemd points TMPDIR at a cache directory.
    """
    base = jieba.Tokenizer()
    cached = _jieba_cache()
    if cached is None:
        base.initialize()
    else:
        base.FREQ, base.total = cached
        base.initialized = True
    for word in lexicon.user_words():
        base.add_word(word)
    return dict(base.FREQ), base.total


def _jieba_cache() -> Any:
    """Read jieba's own cache of its parsed dictionary (None if there is none yet).

    jieba reads it with `marshal.load` from the file, a few bytes a call (1.5 s);
    `marshal.loads` of the whole file gives the same dictionary in a quarter of that.
    """
    path = Path(tempfile.gettempdir()) / "jieba.cache"
    try:
        with collection_paused(collect=False):
            freq, total = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return (freq, total) if isinstance(freq, dict) and isinstance(total, int) else None


@cache
def word_tags() -> dict[str, str]:
    """Load jieba's part-of-speech table once per process, from a JSON copy when there is one.

    Parsed from jieba's dictionary as `jieba.posseg` does (1 s, and importing
    `jieba.posseg` parses it once more); the copy, beside jieba's own cache, loads faster.
    """
    copy = Path(tempfile.gettempdir()) / f"linli-word-tags-{jieba.__version__}.json"
    try:
        with collection_paused(collect=False):
            tags: dict[str, str] = json.loads(copy.read_text(encoding="utf-8"))
        if isinstance(tags, dict):
            return tags
    except (OSError, ValueError):
        pass
    tags = {}
    with jieba.get_module_res(jieba.DEFAULT_DICT_NAME) as raw:
        for line in raw.read().split(b"\n"):
            if text := line.strip().decode("utf-8"):
                word, _, tag = text.split(" ")
                tags[word] = tag
    try:
        staging = copy.with_name(f".{copy.name}.{os.getpid()}")
        staging.write_text(json.dumps(tags, ensure_ascii=False), encoding="utf-8")
        os.replace(staging, copy)
    except OSError as err:
        logger.debug("cannot keep a copy of jieba's word tags: %s", err)
    return tags


class SortedTags:
    """The part-of-speech table of jieba as sorted `word tag` lines; a lookup bisects them.

    Loading the whole table as a dict takes a third of a second; harvesting one edited
    article's names looks up a few hundred words. UTF-8 bytes sort as code points do.
    """

    def __init__(self, lines: bytes) -> None:
        import numpy as np

        self.lines = lines
        ends = np.flatnonzero(np.frombuffer(lines, dtype=np.uint8) == ord("\n"))
        self._starts: list[int] = [0, *(ends[:-1] + 1).tolist()] if len(ends) else []
        self._found: dict[str, str | None] = {}

    @classmethod
    def from_tags(cls, tags: dict[str, str]) -> "SortedTags":
        """Lay a tag table out as sorted lines."""
        return cls("".join(f"{word} {tags[word]}\n" for word in sorted(tags)).encode("utf-8"))

    def _word(self, i: int) -> bytes:
        start = self._starts[i]
        return self.lines[start : self.lines.index(b" ", start)]

    def get(self, word: str, default: str) -> str:
        """The word's tag, or `default` if jieba's dictionary has no tag for it."""
        if word not in self._found:
            wanted = word.encode("utf-8")
            i = bisect.bisect_left(range(len(self._starts)), wanted, key=self._word)
            tag = None
            if i < len(self._starts) and self._word(i) == wanted:
                space = self.lines.index(b" ", self._starts[i])
                tag = self.lines[space + 1 : self.lines.index(b"\n", space)].decode("utf-8")
            self._found[word] = tag
        found = self._found[word]
        return default if found is None else found


@cache
def sorted_word_tags() -> SortedTags:
    """Load jieba's part-of-speech table for a few lookups, from a sorted copy if there is one.

    The copy starts with the CRC-32 of the rest: a damaged one is made again, never used.
    """
    copy = Path(tempfile.gettempdir()) / f"linli-word-tags-{jieba.__version__}.txt"
    try:
        head, lines = copy.read_bytes().split(b"\n", 1)
        if head == b"%08x" % zlib.crc32(lines) and lines.endswith(b"\n"):
            return SortedTags(lines)
    except (OSError, ValueError):
        pass
    table = SortedTags.from_tags(word_tags())
    try:
        staging = copy.with_name(f".{copy.name}.{os.getpid()}")
        staging.write_bytes(b"%08x\n" % zlib.crc32(table.lines) + table.lines)
        os.replace(staging, copy)
    except OSError as err:
        logger.debug("cannot keep a sorted copy of jieba's word tags: %s", err)
    return table


# jieba.posseg's patterns (its cut without HMM, below, is its `__cut_internal`).
_HAN = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._]+)")
_SKIP = re.compile("(\r\n|\\s)")
_ENG = re.compile("[a-zA-Z0-9]+")
_NUM = re.compile("[\\.0-9]+")
_ENG1 = re.compile("^[a-zA-Z0-9]$", re.U)


def _tag_without_hmm(cutter: jieba.Tokenizer, tags: "dict[str, str] | SortedTags",
                     sentence: str) -> Iterator[tuple[str, str]]:
    """Cut and tag as `jieba.posseg`'s `cut(sentence, HMM=False)`, without importing it.

    Importing `jieba.posseg` parses jieba's whole dictionary for its own default
    tagger (a second), and loads HMM tables this cut never uses.
    """
    for block in _HAN.split(sentence):
        if _HAN.match(block):
            yield from _tag_block(cutter, tags, block)
            continue
        for part in _SKIP.split(block):
            if _SKIP.match(part):
                yield part, "x"
                continue
            for char in part:
                yield char, "m" if _NUM.match(char) else "eng" if _ENG.match(part) else "x"


def _tag_block(cutter: jieba.Tokenizer, tags: "dict[str, str] | SortedTags",
               block: str) -> Iterator[tuple[str, str]]:
    route: dict[int, tuple[float, int]] = {}
    cutter.calc(block, cutter.get_DAG(block), route)
    x, letters = 0, ""
    while x < len(block):
        y = route[x][1] + 1
        word = block[x:y]
        if _ENG1.match(word):
            letters += word
        else:
            if letters:
                yield letters, "eng"
                letters = ""
            yield word, tags.get(word, "x")
        x = y
    if letters:
        yield letters, "eng"


def fingerprint(local_names: Iterable[str]) -> str:
    """The fingerprint a tokenizer with these local names has (without loading jieba)."""
    digest = hashlib.sha256(f"v{TOKENIZER_VERSION}\n{jieba.__version__}\n".encode())
    for words in (lexicon.user_words(), tuple(sorted(set(local_names))),
                  sorted(lexicon.stopwords())):
        digest.update("\n".join(words).encode("utf-8") + b"\x00")
    return digest.hexdigest()[:16]


class Tokenizer:
    """A private jieba tokenizer with linli's dictionaries; never jieba's process-wide one."""

    def __init__(self, local_names: Iterable[str] = ()) -> None:
        freq, total = _base_dictionary()
        self._jieba = jieba.Tokenizer()
        # A copy of the loaded dictionary: each tokenizer adds its own corpus's names.
        self._jieba.FREQ, self._jieba.total = dict(freq), total
        self._jieba.initialized = True
        self.local_names = tuple(sorted(set(local_names)))
        for name in self.local_names:
            self._jieba.add_word(name)
        self._stopwords = lexicon.stopwords()

    @property
    def fingerprint(self) -> str:
        """Hash of everything that decides the tokens: version, dictionaries, stopwords."""
        return fingerprint(self.local_names)

    def keep(self, token: str) -> bool:
        """Tell whether a token carries meaning: not blank, not punctuation, not a stopword."""
        return bool(_WORD.search(token)) and token not in self._stopwords

    def subwords(self, word: str) -> list[str]:
        """Return the dictionary words of two and three characters inside `word`.

        The same sub-words jieba's search mode adds (`cut_for_search`).
        """
        found = []
        for size in (2, 3):
            if len(word) > size:
                found += [word[i : i + size] for i in range(len(word) - size + 1)
                          if self._jieba.FREQ.get(word[i : i + size])]
        return found

    def analyze(self, text: str) -> tuple[list[str], list[str]]:
        """Return the search-mode tokens and the precise-mode words of `text` from one cut."""
        words = self._cut(normalize_for_search(text))
        tokens = [t for w in words for t in [*self.subwords(w), w] if self.keep(t)]
        return tokens, [w for w in words if self.keep(w)]

    def _cut(self, normalised: str) -> list[str]:
        return [w for w in (w.strip() for w in self._jieba.cut(normalised)) if w]

    def tokenize(self, text: str) -> list[str]:
        """Return search-mode tokens (words and their sub-words) of normalised text."""
        return self.analyze(text)[0]

    def words(self, text: str, normalised: bool = False) -> list[str]:
        """Return the meaningful words of text in precise mode (no sub-words), in order.

        `normalised`: `text` is already `normalize_for_search`'s output.
        """
        return [w for w in self._cut(text if normalised else normalize_for_search(text))
                if self.keep(w)]

    def tagged(self, text: str, few: bool = False) -> list[tuple[str, str]]:
        """Return every precise-mode token with its part of speech (for harvesting names).

        `few`: only a few texts are tagged in this process (the tags are then looked up
        one by one instead of loading the whole table).
        """
        tags = sorted_word_tags() if few else word_tags()
        return [(word, tag) for word, tag in _tag_without_hmm(
            self._jieba, tags, normalize_for_search(text)) if word.strip()]
