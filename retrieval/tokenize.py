"""Turn text into the normalised jieba tokens that the index and the questions share."""

import hashlib
import logging
import re
from collections.abc import Iterable
from functools import cache

import jieba
import jieba.posseg
import opencc

from corpus.text import normalize_text
from retrieval import lexicon

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
    base.initialize()
    for word in lexicon.user_words():
        base.add_word(word)
    return dict(base.FREQ), base.total


@cache
def _word_tags() -> dict[str, str]:
    """Load jieba's part-of-speech table once per process (it takes half a second)."""
    tags: dict[str, str] = jieba.posseg.POSTokenizer(tokenizer=jieba.Tokenizer()).word_tag_tab
    return tags


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
        words = [w for w in (w.strip() for w in self._jieba.cut(normalize_for_search(text))) if w]
        tokens = [t for w in words for t in [*self.subwords(w), w] if self.keep(t)]
        return tokens, [w for w in words if self.keep(w)]

    def tokenize(self, text: str) -> list[str]:
        """Return search-mode tokens (words and their sub-words) of normalised text."""
        return self.analyze(text)[0]

    def words(self, text: str) -> list[str]:
        """Return the meaningful words of text in precise mode (no sub-words), in order."""
        return self.analyze(text)[1]

    def tagged(self, text: str) -> list[tuple[str, str]]:
        """Return every precise-mode token with its part of speech (for harvesting names)."""
        tagger = jieba.posseg.POSTokenizer.__new__(jieba.posseg.POSTokenizer)
        tagger.tokenizer, tagger.word_tag_tab = self._jieba, _word_tags()
        return [(p.word, p.flag) for p in tagger.cut(normalize_for_search(text), HMM=False)
                if p.word.strip()]
