"""The distinct archive of `linli bench --files N --distinct`: no file, no passage key twice."""

from pathlib import Path

from corpus import load_corpus
from corpus.chunk import chunk_corpus
from corpus.models import Article, Section
from retrieval.evaluation.distinct_archive import distinct_texts, write_distinct_archive


def _contexts() -> list[Article]:
    text = "".join(f"第{i}句说的是第{i}件事。" for i in range(40))
    return [Article(id=f"c{j}", title="", sections=(Section(paragraphs=(text,)),))
            for j in range(2)]


def test_distinct_texts_repeat_no_file_and_the_seed_fixes_them() -> None:
    sentences = [f"第{i}句。" for i in range(20)]
    texts = distinct_texts(sentences, 500)
    assert len({tuple(t) for t in texts}) == 500
    assert all(3 <= len(t) <= 12 for t in texts)
    assert texts == distinct_texts(sentences, 500)
    assert texts != distinct_texts(sentences, 500, seed=1)


def test_a_distinct_archive_loads_with_no_passage_key_twice(tmp_path: Path) -> None:
    paths = write_distinct_archive(_contexts(), 60, tmp_path)
    loaded = load_corpus(tmp_path)
    assert len(paths) == len(loaded.articles) == 60 and not loaded.problems
    chunks = chunk_corpus(loaded.articles)
    keys = [(c.title, c.section, c.text) for c in chunks]
    assert len(set(keys)) == len(keys)
    # The sentences are the contexts' own, each at most once in a file (40 distinct ones).
    assert {len(a.title) for a in loaded.articles} == {len("档案000000号")}
