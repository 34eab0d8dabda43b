import json
from pathlib import Path

import pytest

from corpus import CorpusError
from retrieval import index as index_module
from retrieval.index import Index, IndexFileError, refresh_index
from retrieval.search import Searcher
from tests.helpers.articles import write_article


def test_first_refresh_builds_and_second_loads_the_saved_index(
        corpus_dir: Path, tmp_path: Path) -> None:
    first, report = refresh_index(corpus_dir, tmp_path / "index")
    assert report.rebuilt and len(report.added) == 4 and report.chunks == len(first.chunks)
    second, report = refresh_index(corpus_dir, tmp_path / "index")
    assert not report.rebuilt
    assert [c.id for c in second.chunks] == [c.id for c in first.chunks]
    assert Searcher(second).search("哪里可以下棋")[0].title == "学党史润初心 办实事解民忧"


def test_changing_one_article_retokenises_only_its_chunks(
        corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refresh_index(corpus_dir, tmp_path / "index")
    target = next(corpus_dir.glob("*搭建履职平台*"))
    target.write_text(target.read_text(encoding="utf-8") + "\n联络站新增周末接待日。\n",
                      encoding="utf-8")
    write_article(corpus_dir, "new.md", title="新文章", body="社区开设了老年食堂。")
    calls: list[str] = []
    original = index_module.Tokenizer.tokenize

    def counting(self: index_module.Tokenizer, text: str) -> list[str]:
        calls.append(text)
        return original(self, text)

    monkeypatch.setattr(index_module.Tokenizer, "tokenize", counting)
    index, report = refresh_index(corpus_dir, tmp_path / "index")
    assert report.changed == [target.stem] and report.added == ["new"] and report.removed == []
    # Only the two new passages (text, title, section each); unchanged ones come from the cache.
    assert calls == ["联络站新增周末接待日。", "搭建履职平台 架构连心桥梁", "",
                     "社区开设了老年食堂。", "新文章", ""]
    assert any(c.text == "联络站新增周末接待日。" for c in index.chunks)


def test_removed_article_is_reported(corpus_dir: Path, tmp_path: Path) -> None:
    refresh_index(corpus_dir, tmp_path / "index")
    removed = next(corpus_dir.glob("*讲好党课*"))
    removed.unlink()
    _, report = refresh_index(corpus_dir, tmp_path / "index")
    assert report.removed == [removed.stem] and report.articles == 3


@pytest.mark.parametrize("damage", ["truncate_postings", "garbage_articles", "drop_vocab"])
def test_corrupt_index_is_rebuilt_not_trusted(
        corpus_dir: Path, tmp_path: Path, damage: str) -> None:
    folder = tmp_path / "index"
    refresh_index(corpus_dir, folder)
    if damage == "truncate_postings":
        data = (folder / "postings.npz").read_bytes()
        (folder / "postings.npz").write_bytes(data[: len(data) // 2])
    elif damage == "garbage_articles":
        (folder / "articles.jsonl").write_text("[{", encoding="utf-8")
    else:
        (folder / "vocab.json").write_text("[]", encoding="utf-8")
    with pytest.raises(IndexFileError, match="corrupt"):
        Index.load(folder)
    index, report = refresh_index(corpus_dir, folder)
    assert report.rebuilt and "corrupt" in report.reason
    assert Searcher(index).search("哪里可以下棋")


def test_index_from_an_older_format_is_rebuilt(corpus_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "index"
    refresh_index(corpus_dir, folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["format"] = 0
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    _, report = refresh_index(corpus_dir, folder)
    assert report.rebuilt and "index format 0 is not the current" in report.reason


def test_saved_index_has_no_pickle(corpus_dir: Path, tmp_path: Path) -> None:
    refresh_index(corpus_dir, tmp_path / "index")
    names = sorted(p.name for p in (tmp_path / "index").iterdir())
    assert names == ["article_ids.json", "articles.jsonl", "char_df.json", "chunks.npz",
                     "manifest.json", "postings.npz", "scores.npz", "searchable.bin",
                     "searchable.npz", "sections.json", "tokens.jsonl", "vocab.json"]


def test_empty_corpus_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match=r"no article loaded; add \.md or \.txt files"):
        refresh_index(tmp_path / "empty", tmp_path / "index")


def test_corpus_of_broken_files_names_them(tmp_path: Path) -> None:
    write_article(tmp_path / "c", "bad.md", date="2021-99")
    with pytest.raises(CorpusError, match=r"no article loaded .*bad\.md:3"):
        refresh_index(tmp_path / "c", tmp_path / "index")
