import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from corpus.load import load_corpus
from retrieval.evaluation.gov import (
    GovDataError,
    index_sources,
    normalise_span,
    read_set,
    set_folders,
    write_corpus,
)
from retrieval.evaluation.gov_figures import Result, at_threshold, curve, figures

ROOT = Path(__file__).resolve().parent.parent
GOV = ROOT / "tests" / "data" / "gov"  # two tiny made-up sets


def test_the_reader_reads_a_set_as_it_is() -> None:
    notices = read_set(GOV / "notices")
    assert [a.id for a in notices.articles] == ["n-001", "n-002", "n-003"]
    assert [(q.present, q.article_id) for q in notices.questions][2:] == [
        (True, "n-003"), (False, "n-404"), (False, "n-405")]
    assert notices.questions[0].answers == ["每天晚上7时至10时"]


def test_the_articles_are_written_as_article_files_the_corpus_reads(tmp_path: Path) -> None:
    letters = read_set(GOV / "letters")
    loaded = load_corpus(write_corpus(letters, tmp_path))
    assert not loaded.problems
    first = next(a for a in loaded.articles if a.id == "reply-1")
    assert (first.title, first.date, first.source) == (
        "网友留言答复（示例1）", "2030-01-05", "示例问政平台")
    assert len(first.paragraphs) == 2 and first.paragraphs[0].startswith("网友您好！关于梧桐小区")


def test_a_parent_folder_gives_every_set_in_it_and_a_set_folder_itself() -> None:
    assert [p.name for p in set_folders(GOV)] == ["letters", "notices"]
    assert set_folders(GOV / "letters") == [GOV / "letters"]


def _set(tmp_path: Path, articles: list[str], questions: list[str]) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "articles.jsonl").write_text("\n".join(articles) + "\n", encoding="utf-8")
    (tmp_path / "questions.jsonl").write_text("\n".join(questions) + "\n", encoding="utf-8")
    return tmp_path


ARTICLE = '{"id": "a", "title": "示例", "date": "2030-01", "source": "", "text": "示例文本。"}'
QUESTION = '{"q": "示例吗", "in": true, "article_id": "a", "answers": []}'


@pytest.mark.parametrize(("articles", "questions", "where", "says"), [
    ([ARTICLE], [QUESTION, '{"q": "示例", "in": true'], "questions.jsonl:2", "Invalid JSON"),
    ([ARTICLE], ['{"q": "示例", "in": "yes", "article_id": "a"}'], "questions.jsonl:1", "in"),
    ([ARTICLE, '{"id": "b", "title": "示例"}'], [QUESTION], "articles.jsonl:2", "text"),
    ([ARTICLE, ARTICLE], [QUESTION], "articles.jsonl:2", "also on line 1"),
    ([ARTICLE.replace("2030-01", "2030-13")], [QUESTION], "articles.jsonl:1", "not a date"),
    ([ARTICLE.replace("示例文本。", " \\n\\n ")], [QUESTION], "articles.jsonl:1", "text is blank"),
    ([ARTICLE], [QUESTION.replace('"a"', '"z"')], "questions.jsonl:1", "'z' is not in"),
    ([ARTICLE], [QUESTION.replace("true", "false")], "questions.jsonl:1", "'a' is in"),
])
def test_a_broken_line_is_an_error_naming_the_file_and_line(
        tmp_path: Path, articles: list[str], questions: list[str], where: str, says: str) -> None:
    with pytest.raises(GovDataError) as err:
        read_set(_set(tmp_path, articles, questions))
    assert f"{tmp_path / where}:" in str(err.value) and says in str(err.value)


def _result(present: bool, rank: int | None, confidence: float, floors: bool, *,
            first_right: bool = False, shown_right: bool = False,
            span: bool | None = None) -> Result:
    return Result(present, rank, floors and confidence >= 0.63, shown_right, confidence, floors,
                  first_right, span)


# Four questions with their article, three without, at the gate's threshold 0.63:
HAND = [
    _result(True, 1, 0.90, True, first_right=True, shown_right=True, span=True),  # right
    # Answered with another article first, whose passage holds the answer too.
    _result(True, 5, 0.70, True, span=True),
    _result(True, 2, 0.50, True, first_right=True, shown_right=True, span=True),  # closest
    _result(True, 7, 0.20, False, span=False),  # nothing
    _result(False, None, 0.80, True),  # absent, answered
    _result(False, None, 0.40, True),  # absent, answered only from 0.40 down
    _result(False, None, 0.99, False),  # absent, kept out by the floors whatever the threshold
]


def test_the_figures_on_a_case_checked_by_hand() -> None:
    assert figures(HAND) == pytest.approx({
        "r@1": 1 / 4, "r@5": 3 / 4, "mrr@10": (1 + 1 / 5 + 1 / 2 + 1 / 7) / 4,
        "shown_first_right": 2 / 4, "answered_right": 1 / 4, "answered_wrong": 1 / 4,
        "absent_answered": 1 / 3, "span_shown": 3 / 4, "span_answered": 2 / 4})


def test_the_trade_off_on_a_case_checked_by_hand() -> None:
    assert at_threshold(HAND, 0.50) == pytest.approx(
        {"threshold": 0.50, "answered_right": 2 / 4, "answered_wrong": 1 / 4,
         "absent_answered": 1 / 3})
    assert at_threshold(HAND, 0.40)["absent_answered"] == pytest.approx(2 / 3)
    assert at_threshold(HAND, 0.95) == {"threshold": 0.95, "answered_right": 0.0,
                                        "answered_wrong": 0.0, "absent_answered": 0.0}
    rows = curve(HAND, 0.63)
    assert [row["threshold"] for row in rows][:3] == [0.30, 0.35, 0.40] and len(rows) == 15
    gate_row = next(row for row in rows if row["threshold"] == 0.63)
    assert {k: gate_row[k] for k in ("answered_right", "answered_wrong", "absent_answered")} == {
        k: figures(HAND)[k] for k in ("answered_right", "answered_wrong", "absent_answered")}


def test_a_set_without_answer_spans_reports_none_for_them() -> None:
    without = [r for r in HAND if not r.present] + [_result(True, 1, 0.9, True, first_right=True)]
    assert figures(without)["span_shown"] is None and figures(without)["r@1"] == 1.0


def test_the_answer_span_is_compared_normalised_on_both_sides() -> None:
    passage = "开放时间为每天晚上7时至10时，居民凭居住证免费使用。"
    assert normalise_span("每天晚上７时至１０时") in normalise_span(passage)
    assert normalise_span("每天晚上 7时至10时。") in normalise_span(passage)
    assert normalise_span("每天晚上8时至10时") not in normalise_span(passage)


def test_the_index_is_keyed_by_the_code_that_builds_it_not_by_searching() -> None:
    names = {str(p.relative_to(ROOT)) for p in index_sources()}
    assert {"corpus/chunk.py", "retrieval/text/tokenize.py", "retrieval/index/refresh.py",
            "retrieval/index/build.py", "retrieval/index/workers.py"} <= names
    assert not {"retrieval/search/searcher.py", "retrieval/evaluation/gov.py"} & names


def _eval(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["eval", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_eval_gov_measures_both_sets_and_reruns_from_its_cache(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--gov", str(GOV), "--work", str(tmp_path / "work"), "--json"]
    code, out, _ = _eval([*args, "--chart", str(tmp_path / "c.png")], capsys)
    assert code == 0
    first = json.loads(out)["sets"]
    assert [(s["name"], s["questions"], s["present"], s["absent"], s["index_built"])
            for s in first] == [("letters", 4, 3, 1, True), ("notices", 5, 3, 2, True)]
    letters, notices = (s["figures"] for s in first)
    assert letters["r@1"] == notices["r@1"] == 1.0
    assert letters["absent_answered"] == notices["absent_answered"] == 0.0
    assert letters["span_shown"] is None and notices["span_shown"] == 1.0
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, out, _ = _eval(args, capsys)
    again = json.loads(out)["sets"]
    assert code == 0 and [s["index_built"] for s in again] == [False, False]
    assert [s["figures"] for s in again] == [letters, notices]


def test_eval_gov_asks_as_linli_search_json_does(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    details = tmp_path / "details.jsonl"
    code, out, _ = _eval(["--gov", str(GOV / "notices"), "--work", str(tmp_path / "w"),
                          "--details", str(details)], capsys)
    assert code == 0 and "notices" in out and "answer span in the passage shown" in out
    rows = [json.loads(line) for line in details.read_text(encoding="utf-8").splitlines()]
    corpus = next((tmp_path / "w").glob("notices-*")) / "corpus"
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(r["q"] + "\n" for r in rows)))
    assert main(["search", "--json", "--corpus", str(corpus)]) == 0
    searched = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["answered"], round(r["confidence"], 4)) for r in rows] == [
        (s["answered"], s["confidence"]) for s in searched]
    assert [r["shown_right"] for r in rows] == [
        bool(s["hits"]) and s["hits"][0]["article_id"] == r["article_id"]
        for r, s in zip(rows, searched, strict=True)]


@pytest.mark.parametrize("args", [
    [], ["q.jsonl", "--gov", str(GOV)], ["--gov", str(GOV), "--corpus", "x"],
    ["q.jsonl", "--chart", "c.png"]])
def test_eval_with_neither_or_both_inputs_is_a_usage_error(
        args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _eval(args, capsys)
    assert code == 2 and "error: give QUESTIONS.jsonl" in err


def test_eval_gov_on_a_missing_folder_or_a_broken_line_exits_1_naming_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _eval(["--gov", str(tmp_path / "nope")], capsys)
    assert code == 1 and f"error: {tmp_path / 'nope'}: not found" in err
    broken = _set(tmp_path / "set", [ARTICLE], [QUESTION, "{not json"])
    code, out, err = _eval(["--gov", str(broken), "--work", str(tmp_path / "w")], capsys)
    assert code == 1 and f"error: {broken / 'questions.jsonl'}:2:" in err and out == ""
