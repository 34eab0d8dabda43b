import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.helpers.articles import write_article


def test_corpus_lists_the_bundled_articles(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["corpus", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert len(listing["articles"]) == 4
    assert listing["problems"] == []
    assert all(row["chunks"] >= 1 and row["date"] == "2021-06" for row in listing["articles"])


def test_corpus_reports_errors_on_stderr_and_exits_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_article(tmp_path / "c", "good.md")
    write_article(tmp_path / "c", "bad.md", date="2021-02-30")
    assert main(["corpus", str(tmp_path / "c")]) == 1
    out, err = capsys.readouterr()
    assert "1 articles, 1 problems" in out
    assert "error: bad.md:3: date '2021-02-30' is not a date" in err


def test_corpus_on_a_missing_folder_is_a_clear_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["corpus", str(tmp_path / "nope")]) == 1
    assert "corpus folder does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["corpus", "{c}"], ["index", "--corpus", "{c}"],
                                     ["search", "老年人", "--corpus", "{c}"], ["doctor"]])
def test_each_problem_is_printed_once_as_a_plain_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        command: list[str]) -> None:
    write_article(tmp_path / "c", "good.md")
    write_article(tmp_path / "c", "bad.md", date="2021-02-30")
    monkeypatch.setenv("LINLI_CORPUS_DIR", str(tmp_path / "c"))
    main([part.format(c=tmp_path / "c") for part in command])
    out, err = capsys.readouterr()
    assert (out + err).count("date '2021-02-30' is not a date") == 1, out + err
    assert "ERROR corpus" not in err  # no log line beside the plain one
