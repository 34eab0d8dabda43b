import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from corpus import CorpusError
from retrieval.index import Index, IndexFileError, refresh_index
from retrieval.index import manifest as manifest_module
from retrieval.search import Searcher
from retrieval.text.tokenize import Tokenizer
from tests.helpers.articles import write_article


def test_first_refresh_builds_and_second_loads_the_saved_index(
        corpus_dir: Path, tmp_path: Path) -> None:
    first, report = refresh_index(corpus_dir, tmp_path / "index")
    assert report.rebuilt and len(report.added) == 4 and report.chunks == len(first.chunks)
    second, report = refresh_index(corpus_dir, tmp_path / "index")
    assert not report.rebuilt
    assert [c.id for c in second.chunks] == [c.id for c in first.chunks]
    assert Searcher(second).search("哪里可以下棋")[0].title == "学党史润初心 办实事解民忧"


def test_changing_one_article_retokenises_only_its_passages(
        corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refresh_index(corpus_dir, tmp_path / "index")
    target = next(corpus_dir.glob("*搭建履职平台*"))
    target.write_text(target.read_text(encoding="utf-8") + "\n联络站新增周末接待日。\n",
                      encoding="utf-8")
    write_article(corpus_dir, "new.md", title="新文章", body="社区开设了老年食堂。")
    calls: list[str] = []
    original = Tokenizer.tokenize

    def counting(self: Tokenizer, text: str) -> list[str]:
        calls.append(text)
        return original(self, text)

    monkeypatch.setattr(Tokenizer, "tokenize", counting)
    index, report = refresh_index(corpus_dir, tmp_path / "index")
    assert report.changed == [target.stem] and report.added == ["new"] and report.removed == []
    # Only the passages of the two articles (text, title, section each), nothing else.
    fresh = [c for c in index.chunks if c.article_id in (target.stem, "new")]
    assert len(fresh) < len(index.chunks) // 2
    assert calls == [t for c in fresh for t in (c.text, c.title, c.section or "")]
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
        data = (folder / "postings.doc_ids.npy").read_bytes()
        (folder / "postings.doc_ids.npy").write_bytes(data[: len(data) // 2])
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
    assert names == [
        "article_ids.json", "articles.jsonl", "articles.npy", "char_df.json",
        "chunks.article.npy", "chunks.end.npy", "chunks.ordinal.npy", "chunks.section.npy",
        "chunks.start.npy", "corpus.json", "manifest.json", "pairs.codes.npy", "pairs.df.npy",
        "postings.doc_ids.npy",
        "postings.doc_len.npy", "postings.indptr.npy", "postings.tfs.npy", "scores.gain.npy",
        "scores.idf.npy", "scores.max_gain.npy", "searchable.bin", "searchable.npy",
        "sections.json", "tokens.jsonl", "vocab.json"]


def test_empty_corpus_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match=r"no article loaded; add \.md or \.txt files"):
        refresh_index(tmp_path / "empty", tmp_path / "index")


def test_corpus_of_broken_files_names_them(tmp_path: Path) -> None:
    write_article(tmp_path / "c", "bad.md", date="2021-99")
    with pytest.raises(CorpusError, match=r"no article loaded .*bad\.md:3"):
        refresh_index(tmp_path / "c", tmp_path / "index")


def _age(corpus_dir: Path) -> None:
    """Date every corpus file an hour back: older than the manifest's racy window."""
    for path in corpus_dir.rglob("*"):
        os.utime(path, ns=(path.stat().st_atime_ns, time.time_ns() - 3600 * 10**9))


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    parsed: list[str] = []
    original = manifest_module.read_article

    def counting(path: Path, ident: str, shown: str) -> tuple[object, object]:
        parsed.append(shown)
        return original(path, ident, shown)

    monkeypatch.setattr(manifest_module, "read_article", counting)
    return parsed


def _spy_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the name of every corpus file read (all reads go through `read_file`)."""
    import corpus.load

    opened: list[str] = []
    for module in (manifest_module, corpus.load):
        original = module.read_file

        def spying(path: str | Path, max_bytes: int, original: Any = original) -> bytes:
            opened.append(Path(path).name)
            return bytes(original(path, max_bytes))

        monkeypatch.setattr(module, "read_file", spying)
    return opened


def test_a_start_on_an_unchanged_corpus_opens_no_file_and_still_reports_problems(
        corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (corpus_dir / "坏.md").write_text("no front matter", encoding="utf-8")
    _age(corpus_dir)
    _, first = refresh_index(corpus_dir, tmp_path / "index")
    opened = _spy_reads(monkeypatch)
    _, again = refresh_index(corpus_dir, tmp_path / "index")
    assert opened == [] and not again.rebuilt
    assert [str(p) for p in again.problems] == [str(p) for p in first.problems]
    assert any(p.path == "坏.md" and p.level == "error" for p in again.problems)


def test_a_touched_file_costs_a_hash_not_a_parse(
        corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _age(corpus_dir)
    refresh_index(corpus_dir, tmp_path / "index")
    touched = next(corpus_dir.glob("*讲好党课*"))
    os.utime(touched)
    parsed = _count_parses(monkeypatch)
    _, report = refresh_index(corpus_dir, tmp_path / "index")
    assert parsed == [] and not report.rebuilt and report.changed == []


def test_an_edited_file_is_parsed_alone(
        corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _age(corpus_dir)
    refresh_index(corpus_dir, tmp_path / "index")
    target = next(corpus_dir.glob("*讲好党课*"))
    target.write_text(target.read_text(encoding="utf-8") + "\n新增一段。\n", encoding="utf-8")
    parsed = _count_parses(monkeypatch)
    index, report = refresh_index(corpus_dir, tmp_path / "index")
    assert parsed == [target.name] and report.changed == [target.stem]
    assert any("新增一段。" in c.text for c in index.chunks)


@pytest.mark.parametrize("damage", ["garbage", "half", "edited"])
def test_a_corrupt_corpus_manifest_is_not_trusted(
        corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    _age(corpus_dir)
    refresh_index(corpus_dir, tmp_path / "index")
    path = tmp_path / "index" / "corpus.json"
    text = path.read_text(encoding="utf-8")
    assert '.md": [' in text  # each file's size comes first: the edit below changes it
    path.write_text({"garbage": "not json", "half": text[: len(text) // 2],
                     "edited": text.replace('.md": [', '.md": [1')}[damage], encoding="utf-8")
    parsed = _count_parses(monkeypatch)
    _, report = refresh_index(corpus_dir, tmp_path / "index")
    assert len(parsed) == 4 and report.articles == 4 and not report.rebuilt
    parsed.clear()
    refresh_index(corpus_dir, tmp_path / "index")  # the manifest was written again
    assert parsed == []


def test_a_file_changed_just_before_it_was_read_is_hashed_at_the_next_start(
        corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _age(corpus_dir)
    fresh = next(corpus_dir.glob("*讲好党课*"))
    os.utime(fresh)  # now: a second edit in the same clock tick would keep this time
    refresh_index(corpus_dir, tmp_path / "index")
    opened = _spy_reads(monkeypatch)
    parsed = _count_parses(monkeypatch)
    _, report = refresh_index(corpus_dir, tmp_path / "index")
    # Only the file seen within the racy window is read again, for a hash, not a parse;
    # the others were seen long after their last change.
    assert opened == [fresh.name] and parsed == [] and not report.rebuilt
    real = time.time_ns
    monkeypatch.setattr(manifest_module.time, "time_ns", lambda: real() + 3 * 10**9)
    refresh_index(corpus_dir, tmp_path / "index")  # hashed once more, seconds later
    opened.clear()
    refresh_index(corpus_dir, tmp_path / "index")
    assert opened == []  # seen well after its last change: vouched for by size and time
