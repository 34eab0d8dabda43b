"""`linli bench --files N --distinct`: an archive of articles whose texts never repeat.

`--files` alone copies the CMRC 2018 contexts under new ids, so the token cache
tokenises each distinct passage once and a copy costs next to nothing. Here every
file is drawn afresh: 3 to 12 sentences of the contexts picked at random (a fixed
seed, the same archive every run), under a title of its own, so that no two files,
and no two passages' cache keys, are the same: a build tokenises every passage, as
it would a real city's archive. May import corpus only.
"""

import random
from collections.abc import Sequence
from pathlib import Path

from corpus.chunk import split_sentences
from corpus.models import Article

SEED = 2018
SENTENCES_PER_FILE = (3, 12)


def corpus_sentences(articles: Sequence[Article]) -> list[str]:
    """The contexts' distinct sentences, in the order first met."""
    found: dict[str, None] = {}
    for article in articles:
        for sentence in split_sentences(article.body):
            if sentence.strip():
                found.setdefault(sentence.strip(), None)
    return list(found)


def distinct_texts(sentences: Sequence[str], n_files: int,
                   seed: int = SEED) -> list[list[str]]:
    """Draw `n_files` sentence lists (3 to 12 sentences each), no list drawn twice."""
    if len(sentences) < SENTENCES_PER_FILE[1]:
        raise ValueError(f"{len(sentences)} sentences are too few to draw distinct articles "
                         f"from (at least {SENTENCES_PER_FILE[1]} needed)")
    pick = random.Random(seed)
    seen: set[tuple[str, ...]] = set()
    texts: list[list[str]] = []
    while len(texts) < n_files:
        drawn = pick.sample(sentences, pick.randint(*SENTENCES_PER_FILE))
        if tuple(drawn) not in seen:
            seen.add(tuple(drawn))
            texts.append(drawn)
    return texts


def write_distinct_archive(articles: Sequence[Article], n_files: int, folder: Path,
                           seed: int = SEED) -> list[Path]:
    """Write `n_files` Markdown articles of distinct text drawn from the contexts."""
    paths = []
    for i, drawn in enumerate(distinct_texts(corpus_sentences(articles), n_files, seed)):
        path = folder / f"d{i:06d}.md"
        # Two paragraphs when there is enough text: an article as a paper prints it.
        middle = len(drawn) // 2 if len(drawn) >= 6 else len(drawn)
        body = "".join(drawn[:middle]) + ("\n\n" + "".join(drawn[middle:])
                                           if middle < len(drawn) else "")
        path.write_text(f"---\ntitle: 档案{i:06d}号\n---\n{body}\n", encoding="utf-8")
        paths.append(path)
    return paths
