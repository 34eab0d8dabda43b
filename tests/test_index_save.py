"""Saving an index: a crash at any point leaves the old index loadable and serving."""

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from corpus import load_corpus
from retrieval.index import Index, build_index, refresh_index, remove_leftovers
from retrieval.index import model as index_model
from retrieval.search import Searcher

QUESTION = "哪里可以下棋"


class Crash(Exception):
    """Stands for the process dying at this point of the save."""


class Crasher:
    """Crash the `step`-th call of all the functions it wraps, counted together."""

    def __init__(self, step: int) -> None:
        self.step, self.calls = step, 0

    def wrap(self, real: Callable[..., object]) -> Callable[..., object]:
        """Return `real`, crashing instead of running at the chosen step."""
        def wrapped(*args: object, **kwargs: object) -> object:
            self.calls += 1
            if self.calls == self.step:
                raise Crash(f"crash at step {self.step}")
            return real(*args, **kwargs)

        return wrapped


def _saved_and_new(corpus_dir: Path, index_dir: Path) -> tuple[Index, Index]:
    """Save the corpus's index in `index_dir`; return it loaded, and an edited corpus's index."""
    refresh_index(corpus_dir, index_dir)
    target = next(corpus_dir.glob("*学党史润初心*"))
    target.write_text(target.read_text(encoding="utf-8").replace("下棋", "打牌"),
                      encoding="utf-8")
    return Index.load(index_dir), build_index(load_corpus(corpus_dir).articles)


def test_a_crash_in_the_middle_of_writing_the_new_index_leaves_the_old_one_serving(
        corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index_dir = tmp_path / "index"
    old, new = _saved_and_new(corpus_dir, index_dir)
    serving = Searcher(old)
    before = serving.answer(QUESTION)
    assert before.answered and QUESTION[-2:] in before.hits[0].best_sentence
    # The save dies at the fourth array file of the new index, three written before it.
    monkeypatch.setattr(index_model, "save_array", Crasher(4).wrap(index_model.save_array))
    with pytest.raises(Crash):
        new.save(index_dir)
    monkeypatch.undo()
    # The searcher in service reads the old files (mapped): it answers as before.
    assert serving.answer(QUESTION) == before
    remove_leftovers(index_dir.parent)
    reloaded = Index.load(index_dir)
    assert reloaded.stamp == old.stamp
    assert Searcher(reloaded).answer(QUESTION) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "index"]


@pytest.mark.parametrize("step", range(1, 7))
def test_a_crash_at_any_step_of_putting_the_new_index_in_place_leaves_one_whole_index(
        corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: int) -> None:
    # Putting the new folder in place must be renames: a crash between a delete and a
    # copy would leave no index, or half of one. Every step that moves, copies or
    # deletes files is crashed in turn.
    index_dir = tmp_path / "index"
    old, new = _saved_and_new(corpus_dir, index_dir)
    crasher = Crasher(step)  # writing the new folder (a fresh build) moves no file
    monkeypatch.setattr(os, "replace", crasher.wrap(os.replace))
    for name in ("rmtree", "copytree", "copy2", "copyfile", "move"):
        monkeypatch.setattr(shutil, name, crasher.wrap(getattr(shutil, name)))
    try:
        new.save(index_dir)
        crashed = False
    except Crash:
        crashed = True
    monkeypatch.undo()
    remove_leftovers(index_dir.parent)  # what the bot and `linli index` do first
    reloaded = Index.load(index_dir)
    # Whole: the old index, or the new one once it was in place (the crash came after).
    assert reloaded.stamp in {old.stamp, new.stamp}
    assert crashed or reloaded.stamp == new.stamp
    whole = old if reloaded.stamp == old.stamp else new
    assert Searcher(reloaded).answer(QUESTION) == Searcher(whole).answer(QUESTION)
