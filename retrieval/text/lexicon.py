"""The word lists behind tokenising: stopwords, the user dictionary, synonyms, local names.

Imports only the standard library (the lists ship in retrieval/data/).
"""

import re
from collections import Counter
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path

# Local names end in one of these; the words before them make the name (橡树玫瑰 + 社区).
PLACE_SUFFIXES = ("社区", "街道", "小区", "花园", "驿站", "中心", "服务站", "联络站", "广场",
                  "公园", "医院", "学校", "小学", "中学", "路", "街", "村", "苑", "园")
# A name never reaches back across a larger place (…区, …街道) or a word of this list.
_NAME_STOPS = ("区", "市", "省", "县", "镇", "乡", "街道", "社区")
_CJK = re.compile(r"^[\u4e00-\u9fff]+$")
MAX_NAME_CHARS = 8
# jieba part-of-speech tags: place, person and other proper names may end a name...
_PLACE_TAGS = ("ns", "nr", "nz", "nt")
# ...and verbs, adverbs, pronouns, prepositions, conjunctions, particles never start one.
_NOT_NAME_TAGS = ("v", "d", "r", "p", "c", "u", "ad", "f", "q")


def _data_lines(name: str) -> list[str]:
    text = resources.files("retrieval").joinpath("data", name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


@cache
def stopwords() -> frozenset[str]:
    """Return the stopword list kept in `retrieval/data/stopwords.txt`."""
    return frozenset(word for line in _data_lines("stopwords.txt") for word in line.split())


@cache
def user_words() -> tuple[str, ...]:
    """Return the maintained community-service words of `retrieval/data/userdict.txt`."""
    return tuple(line.split()[0] for line in _data_lines("userdict.txt"))


def read_synonyms(path: Path | None = None) -> list[tuple[str, ...]]:
    """Read synonym groups: the bundled files (synonyms.txt, colloquial.txt), or `path`."""
    if path is None:
        lines = _data_lines("synonyms.txt") + _data_lines("colloquial.txt")
    else:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                 if line.strip() and not line.startswith("#")]
    return [tuple(line.split()) for line in lines if len(line.split()) > 1]


def _is_place_token(word: str, tag: str) -> str | None:
    """Return the place suffix a token is or ends with, if it can end a name."""
    if not _CJK.match(word):
        return None
    if word in PLACE_SUFFIXES:
        return word
    if tag in _PLACE_TAGS:
        return next((s for s in PLACE_SUFFIXES if word.endswith(s)), None)
    return None


def harvest_names(tagged_texts: Iterable[list[tuple[str, str]]]) -> list[str]:
    """Find local names (十八里河街道, 橡树玫瑰社区) in part-of-speech tagged jieba tokens.

    A name is a place token with the one or two name-like tokens before it
    (nouns, names, adjectives, numbers: never verbs, adverbs or pronouns).
    """
    found: Counter[str] = Counter()
    for tokens in tagged_texts:
        for i, (token, tag) in enumerate(tokens):
            suffix = _is_place_token(token, tag)
            if suffix is None:
                continue
            name = token
            for before, before_tag in reversed(tokens[max(0, i - 2) : i]):
                if (not _CJK.match(before) or before.endswith(_NAME_STOPS)
                        or before_tag.startswith(_NOT_NAME_TAGS) or before in stopwords()
                        or len(before + name) > MAX_NAME_CHARS):
                    break
                name = before + name
            if len(name) > len(suffix) + 1 and name != token:
                found[name] += 1
    return sorted(found)
