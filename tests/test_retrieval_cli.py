import io
import json
import re
from pathlib import Path

import pytest

from bot.cli import main

QUESTIONS = Path(__file__).parent / "data" / "eval_questions.jsonl"


def test_search_json_prints_hits_with_citation_fields(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "老年人活动区在哪里", "-k", "2", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["question"] == "老年人活动区在哪里" and answer["answered"] is True
    assert answer["outcome"] == "answered" and answer["confidence"] >= 0.5
    first = answer["hits"][0]
    assert set(first) == {"rank", "score", "article_id", "title", "source", "date", "byline",
                          "url", "section", "text", "best_sentence", "extra_sentence",
                          "coverage"}
    assert first["title"] == "学党史润初心 办实事解民忧" and "橡树玫瑰社区" in first["text"]


def test_search_json_shows_the_closest_match_as_not_answered(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "儿童微乐园几点关门", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["answered"], answer["outcome"]) == (False, "closest")
    assert "儿童微乐园" in answer["hits"][0]["text"]
    assert 0.0 <= answer["confidence"] <= 1.0


def test_search_reads_one_question_a_line_from_stdin(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("哪里可以下棋\n\n明天天气怎么样\n"))
    assert main(["search", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # One answer a line, a blank one included, so the outputs stay in step with the input.
    assert [(a["question"], a["answered"], a["empty"]) for a in lines] == [
        ("哪里可以下棋", True, False), ("", False, True), ("明天天气怎么样", False, False)]


def test_a_closest_match_says_which_missing_detail_kept_it_from_answering(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "港湾社区有养老服务中心吗"]) == 0
    assert "the passage does not name the place asked about); the closest match:" in (
        capsys.readouterr().out)


def test_search_on_a_terminal_says_no_answer_plainly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "你好"]) == 0
    assert "no answer: the articles do not cover this question" in capsys.readouterr().out


@pytest.mark.parametrize("question", ["", "   ", "😀🙏", "？！"])
def test_search_with_an_empty_question_says_so_and_exits_2(
        capsys: pytest.CaptureFixture[str], question: str) -> None:
    assert main(["search", question]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("error: the question is empty") and out == ""


def test_search_from_stdin_names_an_empty_line_without_searching_it(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("😀\n哪里可以下棋\n"))
    assert main(["search"]) == 0
    out = capsys.readouterr().out
    assert "? 😀\n   the question is empty (no words)" in out
    assert "no answer:" not in out and "? 哪里可以下棋\n   answered (confidence" in out
    assert "\n1. 《" in out


def test_search_shows_the_start_of_a_long_question_and_says_it_was_cut(
        capsys: pytest.CaptureFixture[str]) -> None:
    question = "老年人活动区在哪里" * 1200
    assert main(["search", question]) == 0
    out = capsys.readouterr().out
    assert (question[:200] + "…\n   (cut: only the first 200 of 10800 characters are searched)"
            in out)
    assert question[:201] not in out and len(out) < 2000
    assert main(["search", question, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["question"] == question[:200] and answer["cut"] is True and answer["answered"]


def test_index_reports_what_it_built_then_that_it_is_up_to_date(
        corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", "--corpus", str(corpus_dir)]) == 0
    out = capsys.readouterr().out
    assert "index rebuilt: 4 articles" in out and "added (4)" in out
    assert main(["index", "--corpus", str(corpus_dir)]) == 0
    assert "index up to date: 4 articles" in capsys.readouterr().out


def test_index_names_at_most_ten_articles_a_kind_and_json_names_all(
        corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", "--corpus", str(corpus_dir)]) == 0
    capsys.readouterr()
    for i in range(12):
        (corpus_dir / f"新{i:02d}.md").write_text(
            f"---\ntitle: 新文章{i}\n---\n社区第{i}次开设讲座。\n", encoding="utf-8")
    assert main(["index", "--corpus", str(corpus_dir)]) == 0
    out = capsys.readouterr().out
    names = ", ".join(f"新{i:02d}" for i in range(10))
    assert f"  added (12): {names} and 2 more (--json lists all)" in out
    assert "新10" not in out
    (corpus_dir / "新11.md").unlink()
    assert main(["index", "--corpus", str(corpus_dir), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["removed"] == ["新11"] and report["rebuilt"] and report["articles"] == 15


def test_eval_prints_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(QUESTIONS), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["hit@1"] >= 0.87 and figures["no_answer_accuracy"] == 1.0


def test_eval_names_a_bad_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"q": "下棋", "answer_any": ["下棋"], "title_any": ["x"]}\n{"x": 1}\n',
                   encoding="utf-8")
    assert main(["eval", str(bad)]) == 1
    assert f"{bad}:2: not an evaluation line" in capsys.readouterr().err


def test_search_with_a_missing_corpus_is_a_clear_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "下棋", "--corpus", str(tmp_path / "nope")]) == 1
    assert "corpus folder does not exist" in capsys.readouterr().err


def test_eval_reports_follow_up_pairs_separately(capsys: pytest.CaptureFixture[str]) -> None:
    followups = Path(__file__).parent / "data" / "eval_followups.jsonl"
    assert main(["eval", str(followups)]) == 0
    out = capsys.readouterr().out
    assert "Hit@1" not in out  # only follow-up pairs: only their figures
    assert "follow-up pairs: 26" in out and "asked alone, without context:" in out
    assert re.search(r"resolved with the right citation \(or an honest no\): \d+/26 \(\d+\.\d%\)",
                     out)


def test_the_answer_threshold_setting_moves_the_gate(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINLI_ANSWER_THRESHOLD", "1")
    assert main(["search", "老年人活动区在哪里", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["answered"], answer["outcome"]) == (False, "closest")
    monkeypatch.setenv("LINLI_ANSWER_THRESHOLD", "")  # empty: the fitted default
    assert main(["search", "老年人活动区在哪里", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["answered"] is True


def test_progress_on_a_terminal_is_one_bar_with_a_rate_and_an_estimate(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from retrieval import cli as retrieval_cli

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    show = retrieval_cli.progress_printer()
    show(200, 800)
    show(800, 800)
    err = capsys.readouterr().err
    assert err.startswith("\rtokenising:   0%|")
    assert "tokenising: 100%|" in err and "| 800/800 [00:00<00:00, " in err  # time left
    assert err.rstrip().endswith(" passages/s]")  # the rate
    assert err.endswith("\n") and err.count("\n") == 1


def test_progress_in_a_log_is_a_plain_line_every_tenth(
        caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from retrieval import cli as retrieval_cli

    show = retrieval_cli.progress_printer()
    with caplog.at_level(logging.INFO, logger="retrieval.cli"):
        for done in range(0, 1001, 50):
            show(done, 1000)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 11 and lines[-1].startswith("tokenising: 1000/1000 passages, ")
    assert all(line.endswith(" left") and "\r" not in line for line in lines)
