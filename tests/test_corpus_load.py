from pathlib import Path

import pytest

from corpus import CorpusError, load_corpus
from corpus.load import MAX_FILE_BYTES
from corpus.models import Article, Section
from tests.conftest import BUNDLED_CORPUS
from tests.helpers.articles import write_article


def only_problem(root: Path) -> str:
    loaded = load_corpus(root)
    assert len(loaded.problems) == 1, loaded.problems
    return str(loaded.problems[0])


def test_bundled_corpus_loads_four_articles_without_problems() -> None:
    loaded = load_corpus(BUNDLED_CORPUS)
    assert loaded.problems == []
    assert sorted(a.title for a in loaded.articles) == sorted([
        "坚守初心使命 奋力担当作为", "搭建履职平台 架构连心桥梁",
        "讲好党课凝聚力量 坚定信仰奋力前行", "学党史润初心 办实事解民忧",
    ])


def test_article_fields_sections_and_id_come_from_the_file(tmp_path: Path) -> None:
    write_article(tmp_path, "news/2021/a.md", title="学党史", subtitle="副题", source="管城报",
                  date="2021-06-29", byline="记者 柴琳琳",
                  body="第一段。\n\n## 一节\n第二段\n接着写。\n\n第三段。")
    [article] = load_corpus(tmp_path).articles
    assert article.id == "news/2021/a"
    assert (article.subtitle, article.source, article.date) == ("副题", "管城报", "2021-06-29")
    assert [(s.heading, s.paragraphs) for s in article.sections] == [
        (None, ("第一段。",)), ("一节", ("第二段接着写。", "第三段。"))]
    assert article.date_display == "2021年6月29日"


def test_plain_text_file_takes_its_first_line_as_title(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("\n便民服务\n\n第一段。\n\n第二段。\n", encoding="utf-8")
    [article] = load_corpus(tmp_path).articles
    assert article.title == "便民服务"
    assert article.paragraphs == ["第一段。", "第二段。"]


def test_full_width_digits_and_letters_are_normalised(tmp_path: Path) -> None:
    write_article(tmp_path, "a.md", body="每周一到周五，ＡＢＣ社区１２３号。")
    [article] = load_corpus(tmp_path).articles
    assert article.paragraphs == ["每周一到周五，ABC社区123号。"]


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "gbk.md").write_bytes("---\ntitle: 标题\n---\n正文。".encode("gbk"))
    assert only_problem(tmp_path) == (
        "error: gbk.md:2: not UTF-8 text; save the file as UTF-8 (not GBK)")


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty.md").write_text("  \n", encoding="utf-8")
    assert "empty.md: empty file" in only_problem(tmp_path)


def test_missing_front_matter_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("标题\n\n正文。", encoding="utf-8")
    assert "a.md:1: no front matter" in only_problem(tmp_path)


def test_front_matter_that_is_not_yaml_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: 标题\ndate: [2021\n---\n正文。",
                                   encoding="utf-8")
    problem = only_problem(tmp_path)
    assert problem.startswith("error: a.md:3: front matter is not YAML")


@pytest.mark.parametrize(("fields", "line", "fix"), [
    ("title: 标题\ndate: [2021-06\nbyline: 记者 张三", 3, 'date: "[2021-06"'),
    ("title: 标题\nbyline: 记者: 张三\ndate: 2021-06", 3, 'byline: "记者: 张三"'),
    ("title: 标题\nsource: {管城报\ndate: 2021-06", 3, 'source: "{管城报"'),
    ('title: 标题\nbyline: 记者 "张三": 李四', 3, """byline: '记者 "张三": 李四'"""),
    ('title: 标题\nbyline: 记者 "张三": 李四\'s', 3, """byline: '记者 "张三": 李四\'\'s'"""),
])
def test_yaml_error_names_the_line_of_the_cause_and_suggests_quotes(
        tmp_path: Path, fields: str, line: int, fix: str) -> None:
    (tmp_path / "a.md").write_text(f"---\n{fields}\n---\n正文。", encoding="utf-8")
    problem = only_problem(tmp_path)
    assert problem.startswith(f"error: a.md:{line}: front matter is not YAML"), problem
    assert problem.endswith(f"; put the value in quotes: {fix}"), problem
    fixed = f"---\n{fields.splitlines()[0]}\n{fix}\n---\n正文。"
    (tmp_path / "a.md").write_text(fixed, encoding="utf-8")
    assert "not YAML" not in str(load_corpus(tmp_path).problems)  # the suggestion is YAML


def test_yaml_error_without_a_colon_or_bracket_in_the_value_gives_the_field_syntax(
        tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: 标题\n  source: 管城报\n---\n正文。",
                                   encoding="utf-8")
    assert only_problem(tmp_path).endswith(
        ":3: front matter is not YAML (mapping values are not allowed here); "
        "write each field as 'name: value'")


def test_missing_title_is_an_error(tmp_path: Path) -> None:
    write_article(tmp_path, "a.md", title=None, source="管城报")
    assert only_problem(tmp_path) == "error: a.md:2: no title; add 'title: ...' to the front matter"


@pytest.mark.parametrize("value", ["2021-13-01", "2021-02-30", "June 2021", "21-06"])
def test_bad_date_names_the_value_and_line(tmp_path: Path, value: str) -> None:
    write_article(tmp_path, "a.md", date=value)
    assert only_problem(tmp_path) == (
        f"error: a.md:3: date '{value}' is not a date (YYYY-MM-DD, YYYY-MM or YYYY); "
        "write e.g. 'date: 2021-06'")


@pytest.mark.parametrize("value", ["javascript:alert(3)", "www.example.gov.cn/a.html",
                                   "file:///etc/passwd", "https://"])
def test_a_url_that_is_not_a_web_address_names_the_value_and_line(
        tmp_path: Path, value: str) -> None:
    write_article(tmp_path, "a.md", url=value)
    problem = only_problem(tmp_path)
    assert problem.startswith("error: a.md:") and (
        f"url '{value}' is not a web address (http:// or https://); write e.g. 'url: https://"
        in problem), problem


def test_channels_never_show_an_address_that_is_not_http() -> None:
    from bot.channels.web import payload
    from bot.replies import citation

    text = Section(paragraphs=("正文。",))
    bad = Article(id="a", title="标题", url="javascript:alert(3)", sections=(text,))
    good = bad.model_copy(update={"url": "https://www.example.gov.cn/1.html"})
    assert "javascript" not in citation(bad) and payload.citation(bad)["url"] is None
    assert "https://www.example.gov.cn/1.html" in citation(good)
    assert payload.citation(good)["url"] == "https://www.example.gov.cn/1.html"


def test_an_http_url_is_kept(tmp_path: Path) -> None:
    write_article(tmp_path, "a.md", url="HTTPS://www.example.gov.cn/news/1.html")
    assert load_corpus(tmp_path).articles[0].url == "HTTPS://www.example.gov.cn/news/1.html"


@pytest.mark.parametrize("value", ["2021", "2021-06", "2021-06-29"])
def test_partial_dates_are_accepted(tmp_path: Path, value: str) -> None:
    write_article(tmp_path, "a.md", date=value)
    assert load_corpus(tmp_path).articles[0].date == value


def test_unknown_field_is_a_warning_and_the_article_still_loads(tmp_path: Path) -> None:
    write_article(tmp_path, "a.md", author="someone")
    loaded = load_corpus(tmp_path)
    assert len(loaded.articles) == 1
    assert [str(p) for p in loaded.problems] == [
        "warning: a.md:3: unknown field 'author' is ignored; "
        "use only title, subtitle, source, date, byline, url"]


def test_two_files_with_the_same_id_keep_the_first(tmp_path: Path) -> None:
    write_article(tmp_path, "a.md", title="一")
    (tmp_path / "a.txt").write_text("二\n正文。", encoding="utf-8")
    loaded = load_corpus(tmp_path)
    assert [a.title for a in loaded.articles] == ["一"]
    assert str(loaded.problems[0]) == (
        "error: a.txt: same article id 'a' as a.md; rename one of the two files")


def test_oversized_file_is_an_error(tmp_path: Path) -> None:
    write_article(tmp_path, "big.md", body="很长。" * (MAX_FILE_BYTES // 6))
    assert "over the 1048576 byte limit" in only_problem(tmp_path)


def test_binary_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "photo.md").write_bytes(b"\x89PNG\x00\x00data")
    assert "photo.md: binary file, not text" in only_problem(tmp_path)


def test_article_without_text_is_an_error(tmp_path: Path) -> None:
    write_article(tmp_path, "a.md", body="")
    assert "a.md:4: no text after the front matter" in only_problem(tmp_path)


def test_other_files_are_reported_not_silently_skipped(tmp_path: Path) -> None:
    (tmp_path / "notes.docx").write_bytes(b"PK")
    (tmp_path / ".hidden.md").write_text("x", encoding="utf-8")
    assert only_problem(tmp_path).startswith("warning: notes.docx: not an article file")


def test_one_broken_file_never_stops_the_others(tmp_path: Path) -> None:
    write_article(tmp_path, "good.md", title="好")
    write_article(tmp_path, "bad.md", date="2021-13")
    loaded = load_corpus(tmp_path)
    assert [a.title for a in loaded.articles] == ["好"]
    assert [p.path for p in loaded.errors] == ["bad.md"]


def test_missing_folder_raises_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="nowhere: corpus folder does not exist"):
        load_corpus(tmp_path / "nowhere")


def test_c_loader_reads_plain_front_matter_and_the_counting_one_guards_nesting() -> None:
    from corpus import load

    plain = "title: 标题\ndate: 2021-06-01\nsource: 管城报"
    deep = "title: " + "[" * 25 + "]" * 25
    assert load._loader_for(plain) is load._FastFrontMatterLoader
    assert load._loader_for(deep) is load._FrontMatterLoader
    assert load._load_yaml(plain) == {"title": "标题", "date": "2021-06-01", "source": "管城报"}
