"""A staff answer is spliced into the index: it gives no local names, which would re-cut
every passage (a full build's time on an archive)."""

from pathlib import Path

from retrieval.index import refresh_index

ANSWER = """---
title: 社区卫生服务站电话多少？
source: 社区服务中心
date: '2026-12-04'
---

幸福里社区卫生服务站电话0371-66661234，位于幸福里社区服务中心一楼。
"""


def refresh_with(corpus_dir: Path, tmp_path: Path, folder: str) -> bool:
    """Build, add the answer under `folder`, refresh; return whether it was spliced."""
    index_dir = tmp_path / "index"
    index, _ = refresh_index(corpus_dir, index_dir)
    (corpus_dir / folder).mkdir(exist_ok=True)
    (corpus_dir / folder / "2026-12-04-电话.md").write_text(ANSWER, encoding="utf-8")
    _, report = refresh_index(corpus_dir, index_dir, keep_from=index)
    assert report.added == [f"{folder}/2026-12-04-电话"]
    return report.spliced


def test_a_staff_answer_with_a_new_place_name_is_spliced(corpus_dir: Path,
                                                          tmp_path: Path) -> None:
    assert refresh_with(corpus_dir, tmp_path, "答复")


def test_the_same_file_as_a_news_article_gives_its_names_and_rebuilds(
        corpus_dir: Path, tmp_path: Path) -> None:
    assert not refresh_with(corpus_dir, tmp_path, "新闻")  # what the rule above saves
