"""Fix homophone typos (免废 for 免费): what pinyin input methods get wrong most often.

Imports only pypinyin (on first use) and the standard library.
"""

import itertools
from collections import defaultdict
from collections.abc import Callable, Mapping
from functools import cached_property

MAX_WORD_CHARS = 6
MAX_CANDIDATES = 2000


class HomophoneFixer:
    """Replace characters the corpus never uses with corpus characters that sound the same."""

    def __init__(self, char_df: Mapping[str, int], is_term: Callable[[str], int]) -> None:
        self._char_df = char_df
        self._term_df = is_term

    @cached_property
    def _homophones(self) -> dict[str, list[str]]:
        from pypinyin import lazy_pinyin  # a third of a second to import: only for a typo

        by_sound: dict[str, list[str]] = defaultdict(list)
        for char in sorted(self._char_df, key=self._char_df.__getitem__, reverse=True):
            if "\u4e00" <= char <= "\u9fff":
                by_sound[lazy_pinyin(char)[0]].append(char)
        return by_sound

    def correct(self, word: str) -> str | None:
        """Return the most common corpus term that sounds like `word`, if `word` is a typo."""
        if not 2 <= len(word) <= MAX_WORD_CHARS or all(c in self._char_df for c in word):
            return None
        from pypinyin import lazy_pinyin

        options = []
        for char in word:
            if char in self._char_df:
                options.append([char])
            else:
                options.append(self._homophones.get(lazy_pinyin(char)[0], []))
        best, best_df = None, 0
        for combo in itertools.islice(itertools.product(*options), MAX_CANDIDATES):
            candidate = "".join(combo)
            df = self._term_df(candidate)
            if df > best_df:
                best, best_df = candidate, df
        return best
