"""How common a word is in general Chinese: a common word says little about what is asked.

A four-article corpus has never seen 开始, 还有 or 附近, so by its own counts they look as
rare as 理发; the general document frequencies jieba ships (jieba/analyse/idf.txt, from a
large mixed corpus) know better. `retrieval/data/common_words.txt` keeps the words whose
general IDF is below GENERAL_IDF_KEPT; regenerate it with `python -m retrieval.text.commonness`.
Imports only the standard library (jieba, to regenerate the list).
"""

import sys
from functools import cache
from importlib import resources
from pathlib import Path

# Words at least this rare in general text carry their full weight in a question.
FULL_WEIGHT_IDF = 9.0
# The data file keeps the words below this general IDF (the rest count in full).
GENERAL_IDF_KEPT = 9.0
_HEADER = ("# Words common in general Chinese and their IDF there (from jieba/analyse/idf.txt,\n"
           "# MIT licence), those below {kept}.\n"
           "# Written by `python -m retrieval.text.commonness`.\n")


@cache
def _general_idf() -> dict[str, float]:
    text = resources.files("retrieval").joinpath("data", "common_words.txt").read_text(
        encoding="utf-8")
    table = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            word, _, value = line.partition(" ")
            table[word] = float(value)
    return table


def weight_factor(word: str) -> float:
    """Return the share of its IDF a question word keeps: below 1 for common words."""
    idf = _general_idf().get(word)
    return 1.0 if idf is None else max(min(idf / FULL_WEIGHT_IDF, 1.0), 0.0)


def write_common_words(jieba_idf: Path, out: Path, kept: float = GENERAL_IDF_KEPT) -> int:
    """Write the words of jieba's IDF file below `kept`, most common first; return how many."""
    rows = []
    for number, line in enumerate(jieba_idf.read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split()
        if len(parts) != 2:
            raise ValueError(f"{jieba_idf}:{number}: expected 'word idf', got {line!r}")
        if float(parts[1]) < kept:
            rows.append((float(parts[1]), parts[0]))
    rows.sort()
    out.write_text(_HEADER.format(kept=kept)
                   + "".join(f"{word} {idf:.3f}\n" for idf, word in rows), encoding="utf-8")
    return len(rows)


def main() -> int:
    """Regenerate retrieval/data/common_words.txt from the installed jieba."""
    import jieba.analyse

    source = Path(jieba.analyse.__file__).parent / "idf.txt"
    out = Path(__file__).resolve().parents[1] / "data" / "common_words.txt"  # retrieval/data
    print(f"{write_common_words(source, out)} words written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
