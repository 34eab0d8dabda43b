from pathlib import Path

import pytest

from bot.cli import main
from corpus import load_corpus
from corpus.newspaper import is_byline, split_page
from tests.conftest import SEED_PAGE

TITLES = ["坚守初心使命 奋力担当作为", "搭建履职平台 架构连心桥梁",
          "讲好党课凝聚力量 坚定信仰奋力前行", "学党史润初心 办实事解民忧"]


@pytest.fixture
def page() -> str:
    return SEED_PAGE.read_text(encoding="utf-8")


def test_sample_page_splits_into_its_four_articles(page: str) -> None:
    assert [a.title for a in split_page(page)] == TITLES


def test_broken_lines_are_repaired_without_stray_breaks(page: str) -> None:
    text = "\n".join(p for a in split_page(page) for p in a.paragraphs)
    for word in ("朱光表示", "全天候连心桥", "全面推行", "全面从严治党", "进站开展活动",
                 "对外开放以来", "回顾了百年来"):
        assert word in text
    assert all("\n" not in p for a in split_page(page) for p in a.paragraphs)


def test_bylines_are_kept_out_of_the_text(page: str) -> None:
    articles = split_page(page)
    assert articles[0].bylines == ["记者 柴琳琳 通讯员 姜璞 文/图"]
    assert articles[3].bylines == ["记者 柴琳琳 通讯员 黄帅"]
    assert not any(is_byline(p) for a in articles for p in a.paragraphs)
    # The first article's byline stands mid-text: the paragraphs after it stay in that article.
    assert articles[0].paragraphs[-1].endswith("率先垂范。")


def test_last_article_keeps_its_two_headings_as_sections(page: str) -> None:
    last = split_page(page)[3]
    assert last.subtitle == "管城回族区党史学习教育与社区服务同频共振"
    assert [heading for heading, _ in last.sections] == [
        None, "理论宣讲“好声音”持续深刻入民心", "社区服务项目化 走深走实顺民意"]


def test_import_page_writes_loadable_files_and_refuses_to_overwrite(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "articles"
    assert main(["import-page", str(SEED_PAGE), "--date", "2021-06", "--out", str(out)]) == 0
    report = capsys.readouterr().out
    assert "4 articles written" in report and "学党史润初心 办实事解民忧\t10\t" in report
    loaded = load_corpus(out)
    assert loaded.problems == []
    assert sorted(a.title for a in loaded.articles) == sorted(TITLES)
    assert {a.date for a in loaded.articles} == {"2021-06"}
    assert {a.source for a in loaded.articles} == {None}

    again = ["import-page", str(SEED_PAGE), "--date", "2021-06", "--out", str(out)]
    assert main(again) == 1
    assert "already exists; review it, then use --force" in capsys.readouterr().err
    assert main([*again, "--force"]) == 0


def test_import_page_rejects_a_bad_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:  # a bad option value is a usage error: exit 2
        main(["import-page", str(SEED_PAGE), "--date", "2021-6", "--out", str(tmp_path)])
    assert stopped.value.code == 2
    assert "date '2021-6' is not a date" in capsys.readouterr().err
