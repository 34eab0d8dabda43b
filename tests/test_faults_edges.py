"""Issue 22's rough edges, tried as a new user would: each says what it does, plainly.

`linli import` with a bad date or nothing written, a page's 来源：/作者： lines, `linli stats`
on a fresh install and its chart's log lines, OS errors that name their path.
"""

import json
import os
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest

from bot.cli import describe_error, main
from bot.records import Records
from corpus.importers.webpage import convert_html, info_fields
from tests.helpers.sources import district_page
from tests.test_service import LINLI


def bare_page(extra_body: str = "", info_line: bool = True) -> bytes:
    """A district page without author or site-name metadata: only its visible lines say them."""
    page = district_page(canonical=None).replace("_管城回族区人民政府", "")
    page = re.sub(r'<meta name="author"[^>]*>|<meta property="og:site_name"[^>]*>', "", page)
    if not info_line:
        page = re.sub(r'<div class="info">.*?</div>', "", page)
    return page.replace('<div class="content">', f'<div class="content">{extra_body}').encode()


def test_import_with_a_date_that_is_not_one_is_a_usage_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["import", "a.html", "--out", "out", "--date", "2021-13"])
    assert stopped.value.code == 2
    assert "date '2021-13' is not a date" in capsys.readouterr().err


def test_import_where_every_source_failed_prints_no_table(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(tmp_path / "a.html"), str(tmp_path / "b.pdf"),
                 "--out", str(tmp_path / "out")]) == 1
    out, err = capsys.readouterr()
    assert out == "no article written: every source failed (the errors say why)\n"
    assert err.count("error: ") == 2


def test_import_of_one_article_says_one_article(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.html").write_text(district_page(), encoding="utf-8")
    assert main(["import", str(tmp_path / "a.html"), "--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "1 article written; review them before /reload.")


def test_the_pages_source_and_author_lines_are_found() -> None:
    draft = convert_html(bare_page(), "a.html")
    assert draft.byline == "记者 王小明" and draft.source == "管城回族区人民政府"


def test_source_and_author_lines_in_the_article_text_go_to_the_citation() -> None:
    draft = convert_html(bare_page("<p>来源：管城区融媒体中心　作者：李红</p>", info_line=False),
                         "a.html")
    text = "\n".join(p for _, paragraphs in draft.article.sections for p in paragraphs)
    assert "来源" not in text and "作者" not in text
    assert draft.source == "管城区融媒体中心" and draft.byline == "李红"


@pytest.mark.parametrize(("line", "fields"), [
    ("发布时间：2021-07-08 来源：管城区融媒体中心 作者：记者 王小明",
     {"发布时间": "2021-07-08", "来源": "管城区融媒体中心", "作者": "记者 王小明"}),
    ("来源: 郑州日报 | 编辑：张三", {"来源": "郑州日报", "编辑": "张三"}),
    ("社区的来源：居民自发组织的志愿队。", None),  # a sentence, not an information line
    ("发布时间：2021-07-08", None),  # neither a source nor an author
])
def test_an_information_line_is_split_into_its_labelled_values(
        line: str, fields: dict[str, str] | None) -> None:
    assert info_fields(line) == fields


def test_stats_on_a_fresh_install_prints_zero_counts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--json"]) == 0
    out, err = capsys.readouterr()
    figures = json.loads(out)
    assert figures["questions"] == 0 and figures["answered"] == 0 and figures["days"] == 7
    assert "no records yet" in err and "the figures are zero" in err


def test_stats_chart_prints_no_log_lines_of_matplotlib(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    records = Records(data / "linli.sqlite3")
    for n in range(3):
        records.record_question(n, "private", f"问题{n}", n % 2 == 0, None, None, 5.0)
    records.close()
    env = {**os.environ, "LINLI_DATA_DIR": str(data),
           "MPLCONFIGDIR": str(tmp_path / "mpl")}  # a fresh font cache: matplotlib logs it
    done = subprocess.run([LINLI, "stats", "--chart", str(tmp_path / "c.png")], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    with sqlite3.connect(data / "linli.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM questions").fetchone()[0] == 3
    db.close()


def test_an_os_error_names_its_path_and_the_fix() -> None:
    full = OSError(28, "No space left on device", "/data/index/.index-x/vocab.json")
    assert describe_error(full) == ("/data/index/.index-x/vocab.json: No space left on device; "
                                    "free space on that disk (or give linli a bigger one), "
                                    "then try again")
    assert describe_error(OSError(28, "No space left on device")).startswith(
        "(path unknown): No space left on device")


def test_a_malformed_setting_names_the_setting_its_file_and_the_fix(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings_file = tmp_path / "linli.env"
    settings_file.write_text("LINLI_ANSWER_THRESHOLD=1.5\n", encoding="utf-8")
    assert main(["--env-file", str(settings_file), "corpus"]) == 2
    assert capsys.readouterr().err == (
        f"error: LINLI_ANSWER_THRESHOLD: must be at most 1.0 (it is '1.5' in {settings_file}); "
        "correct it there, or remove it to use the default (every setting: deploy/README.md, "
        "Settings)\n")


def test_a_malformed_secret_is_named_but_never_echoed(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "s3cr3t-but-wrong")
    assert main(["corpus"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: TELEGRAM_BOT_TOKEN: is not a bot token")
    assert "(the value in the environment)" in err and "s3cr3t" not in err


def test_linli_chat_says_its_rate_limit_at_every_question_past_it(
        corpus_dir: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import io

    monkeypatch.setenv("LINLI_CORPUS_DIR", str(corpus_dir))
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"哪里可以下棋{n}\n" for n in range(12))))
    assert main(["chat"]) == 0
    out = capsys.readouterr().out
    assert out.count("您提问有点快了，请稍等一分钟再问。") == 2  # the 11th and the 12th
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `linli chat` |"))
    assert "at most 10 questions a minute" in row and "您提问有点快了" in row
