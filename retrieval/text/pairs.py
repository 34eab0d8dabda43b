"""Character pairs: a second field beside the words, scored as BM25 over each window's bigrams.

A resident's words and an article's are often cut differently by jieba (岳银欣苑 against
岳银/新苑, 办税 against 办/税), and names run across word boundaries; the character pairs
of the question find them regardless of the cut. The field scores only the passages the
word field already ranked first (measured on the gov and CMRC sets: rescoring the word
field's top 30 keeps all but 0.2-0.6 points of a full second index), so the index keeps
one table: in how many passages each pair occurs (`PairCounts`).

May import numpy and the standard library only (the index and search both use it).
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

# A pair never spans punctuation, a space or a line break: only runs of letters and digits.
_NOT_WORD = re.compile(r"[\W_]+")
_SHIFT = np.uint64(21)  # a code point fits in 21 bits: a pair is (first << 21) | second
PAIR_FILES = ("pairs.codes.npy", "pairs.df.npy")  # beside the index's own files
_BATCH = 4096  # passages counted at a time: their pairs stay a few megabytes


def pairs_of(text: str) -> list[str]:
    """Return the character pairs of `text` in order, within runs of letters and digits."""
    return [run[i : i + 2] for run in _NOT_WORD.split(text) for i in range(len(run) - 1)]


@cache
def _word_chars() -> NDArray[np.bool_]:
    """Tell which code points of the Basic Multilingual Plane are letters or digits."""
    plane = "".join(map(chr, range(0x10000)))
    marked = _NOT_WORD.sub(lambda found: "\x00" * len(found[0]), plane)
    return np.frombuffer(marked.encode("utf-32-le", "surrogatepass"), dtype=np.uint32) != 0


def _codes(text: str) -> NDArray[np.uint64]:
    """The pairs of `text` as 42-bit integers, in order, within runs of letters and digits."""
    chars = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    # Beyond the plane: CJK extensions and other letters; a rare symbol counts as a letter.
    word = np.where(chars < 0x10000, _word_chars()[np.minimum(chars, 0xFFFF)], True)
    codes = (chars[:-1].astype(np.uint64) << _SHIFT) | chars[1:].astype(np.uint64)
    return codes[word[:-1] & word[1:]]


def _code(pair: str) -> int:
    return (ord(pair[0]) << 21) | ord(pair[1])


@dataclass(frozen=True)
class PairCounts:
    """How many passages hold each character pair: sorted codes and their counts."""

    codes: NDArray[np.uint64]
    df: NDArray[np.int64]

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> "PairCounts":
        """Count the passages each pair occurs in (a pair counts once per passage)."""
        found: list[NDArray[np.uint64]] = []
        batch: list[NDArray[np.uint64]] = []
        for text in texts:
            batch.append(np.unique(_codes(text)))
            if len(batch) == _BATCH:
                found.append(np.concatenate(batch))
                batch = []
        if batch:
            found.append(np.concatenate(batch))
        if not found:
            return cls.empty()
        codes, counts = np.unique(np.concatenate(found), return_counts=True)
        return cls(codes.astype(np.uint64), counts.astype(np.int64))

    @classmethod
    def empty(cls) -> "PairCounts":
        """No pair at all."""
        return cls(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64))

    @classmethod
    def summed(cls, added: Sequence["PairCounts"],
               removed: Sequence["PairCounts"] = ()) -> "PairCounts":
        """The `added` counts together, less the `removed` ones (pairs left at 0 dropped)."""
        parts = [*added, *removed]
        if not parts:
            return cls.empty()
        codes = np.concatenate([c.codes for c in parts]).astype(np.uint64)
        counts = np.concatenate([np.asarray(c.df, dtype=np.int64) for c in added]
                                + [-np.asarray(c.df, dtype=np.int64) for c in removed])
        merged, where = np.unique(codes, return_inverse=True)
        total = np.zeros(len(merged), dtype=np.int64)
        np.add.at(total, where.ravel(), counts)
        keep = total > 0
        return cls(merged[keep].astype(np.uint64), total[keep])

    def updated(self, removed: Iterable[str], added: Iterable[str]) -> "PairCounts":
        """The counts without the `removed` passages' pairs, with the `added` ones'."""
        gone, new = PairCounts.from_texts(removed), PairCounts.from_texts(added)
        return PairCounts.summed([self, new], [gone])

    def lookup(self, pairs: Sequence[str]) -> list[int]:
        """How many passages hold each pair (0 for a pair no passage has)."""
        wanted = np.fromiter((_code(p) for p in pairs), dtype=np.uint64, count=len(pairs))
        return self.counts_of(wanted).tolist()

    def counts_of(self, wanted: NDArray[np.uint64]) -> NDArray[np.int64]:
        """How many passages hold each pair given by its code (0 for one no passage has)."""
        if not len(self.codes) or not len(wanted):
            return np.zeros(len(wanted), dtype=np.int64)
        at = np.minimum(np.searchsorted(self.codes, wanted), len(self.codes) - 1)
        return np.where(self.codes[at] == wanted, self.df[at], 0)

    def save(self, folder: Path) -> None:
        """Write the two arrays (`PAIR_FILES`) into `folder`."""
        np.save(folder / PAIR_FILES[0], self.codes, allow_pickle=False)
        np.save(folder / PAIR_FILES[1], self.df, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> "PairCounts":
        """Map the two arrays saved in `folder`; raise ValueError if they do not agree."""
        codes = np.load(folder / PAIR_FILES[0], mmap_mode="r", allow_pickle=False)
        df = np.load(folder / PAIR_FILES[1], mmap_mode="r", allow_pickle=False)
        if codes.shape != df.shape or codes.dtype != np.uint64 or df.dtype != np.int64:
            raise ValueError(f"{folder}: pair counts do not agree ({codes.shape}, {df.shape})")
        return cls(codes, df)


@dataclass(frozen=True)
class PairQuery:
    """A question's pairs that some passage holds, as sorted codes with their weights."""

    codes: NDArray[np.uint64]  # sorted
    weights: NDArray[np.float64]  # each pair's weight in the question times its IDF
    maximum: float  # the most a passage can score: every pair at saturation


class PairField:
    """BM25 over character pairs, for a few passages at a time (those the words ranked)."""

    def __init__(self, counts: PairCounts, passages: int, k1: float, b: float) -> None:
        self.counts, self.passages, self.k1, self.b = counts, passages, k1, b
        # Plain views of the mapped arrays: a memmap wraps every result it hands out,
        # which costs more than the lookups of a short question themselves.
        self._codes = np.asarray(counts.codes).view(np.ndarray)
        self._df = np.asarray(counts.df).view(np.ndarray)

    def query(self, weighted_texts: Iterable[tuple[str, float]]) -> PairQuery:
        """The pairs of each (normalised text, weight), with BM25Plus's IDF, log((N+1)/df)."""
        found = [(_codes(text), weight) for text, weight in weighted_texts]
        if len(found) == 1 and found[0][1] == 1.0:  # the usual case: the question alone
            codes, counted = np.unique(found[0][0], return_counts=True)
            summed = counted.astype(np.float64)  # whole counts: the same sums as below
        else:
            every = np.concatenate([codes for codes, _ in found])
            weights = np.concatenate([np.full(len(codes), weight) for codes, weight in found])
            codes, where = np.unique(every, return_inverse=True)
            # A pair typed twice weighs twice, as a word does.
            summed = np.bincount(where.ravel(), weights=weights, minlength=len(codes)).astype(
                np.float64)
        df = self._counts_of(codes)
        held = df > 0
        idf = np.log((self.passages + 1) / df[held])  # BM25Plus: log((N + 1) / df)
        values = np.asarray(summed[held] * idf, dtype=np.float64)
        return PairQuery(codes[held], values, float(values.sum()) * (self.k1 + 1))

    def _counts_of(self, wanted: NDArray[np.uint64]) -> NDArray[np.int64]:
        """`PairCounts.counts_of` on the plain views."""
        if not len(self._codes) or not len(wanted):
            return np.zeros(len(wanted), dtype=np.int64)
        at = np.minimum(np.searchsorted(self._codes, wanted), len(self._codes) - 1)
        return np.where(self._codes[at] == wanted, self._df[at], 0)

    def scores(self, query: PairQuery, texts: Sequence[str], windows: NDArray[np.int64],
               norms: NDArray[np.float64]) -> NDArray[np.float64]:
        """Score each window above BM25's baseline, as a share of its most possible score.

        `texts`: the passages' normalised texts; `windows`: one row per window, the
        positions in `texts` of its passages (-1: no such neighbour); `norms`: each
        window's length normalisation, 1 - b + b * length / average length. All the
        passages' pairs are matched in one pass over their characters.
        """
        wanted = query.codes
        if not query.maximum or not len(windows):
            return np.zeros(len(windows))
        chars = np.frombuffer("\x00".join(texts).encode("utf-32-le", "surrogatepass"),
                              dtype=np.uint32)
        # Only the places whose character starts a wanted pair are looked up (a few in a
        # hundred): a table of the first characters (clipped: beyond the plane, one
        # entry), then a binary search of those places' pairs.
        first = np.zeros(0x10001, dtype=np.bool_)
        first[np.minimum(wanted >> _SHIFT, 0x10000).astype(np.int64)] = True
        places = np.flatnonzero(first.take(chars[:-1], mode="clip"))
        codes = (chars[places].astype(np.uint64) << _SHIFT) | chars[places + 1].astype(np.uint64)
        at = np.minimum(np.searchsorted(wanted, codes), len(wanted) - 1)
        matched = wanted[at] == codes
        hit, at = places[matched], at[matched]
        # Which passage each pair starts in: a separator ends each passage but the last.
        starts = np.zeros(len(texts), dtype=np.int64)
        np.cumsum(np.fromiter(map(len, texts[:-1]), dtype=np.int64, count=len(texts) - 1) + 1,
                  out=starts[1:])
        passage = np.searchsorted(starts, hit, side="right") - 1
        # One row per passage and a last one of zeros: a missing neighbour (-1) reads it.
        tf = np.bincount(passage * len(wanted) + at, minlength=(len(texts) + 1) * len(wanted),
                         ).reshape(len(texts) + 1, len(wanted)).astype(np.float64)
        window_tf = tf[windows].sum(axis=1)
        gain = window_tf * (self.k1 + 1) / (window_tf + self.k1 * norms[:, None])
        return np.asarray(gain @ query.weights / query.maximum, dtype=np.float64)


def length_norms(doc_len: NDArray[np.int32], docs: NDArray[np.int64], b: float,
                 average: float) -> NDArray[np.float64]:
    """BM25's length normalisation of `docs` from the word field's window lengths."""
    return 1.0 - b + b * doc_len[docs].astype(np.float64) / (average or 1.0)
