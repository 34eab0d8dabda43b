import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.replies import citation
from corpus import load_corpus
from corpus.importers import ImportRefused, convert_source
from corpus.importers import pdf as pdf_import
from corpus.importers import sources as source_import
from retrieval.index import build_index
from retrieval.search import Searcher
from tests.conftest import SEED_PAGE
from tests.helpers.sources import (
    CANONICAL,
    CANTEEN,
    CANTEEN_TITLE,
    EPAPER,
    district_page,
    list_page,
    pdf_file,
    scanned_pdf,
    word_file,
)


def first_hit(corpus: Path, question: str) -> tuple[str, str]:
    """The title of the first answer to `question`, and its citation."""
    hit = Searcher(build_index(load_corpus(corpus).articles)).search(question)[0]
    return hit.title, citation(hit)


def front_matter(path: Path) -> str:
    return path.read_text(encoding="utf-8").split("---")[1]


def test_a_district_news_page_becomes_one_cited_article(
        tmp_path: Path, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "12345.html"
    page.write_text(district_page(), encoding="utf-8")
    assert main(["import", str(page), "--out", str(corpus_dir)]) == 0
    written = corpus_dir / "2021-07-08-社区食堂开到家门口-老人吃饭不再难.md"
    text = written.read_text(encoding="utf-8")
    assert f"title: {CANTEEN_TITLE}\n" in text
    assert "byline: 记者 王小明\n" in text and f"url: {CANONICAL}\n" in text
    assert "## 一荤两素只要十元\n\n食堂每天提供一荤两素的套餐" in text
    for boilerplate in ("首页", "相关新闻", "分享到", "豫ICP备", "南关街道开展义诊活动"):
        assert boilerplate not in text
    out = capsys.readouterr().out
    assert (f"{written}\t{CANTEEN_TITLE}\t2021-07-08\t管城回族区人民政府\t3\t205\t-\n") in out
    title, cited = first_hit(corpus_dir, "老年食堂几点供应午餐")
    assert title == CANTEEN_TITLE
    assert "管城回族区人民政府 · 2021年7月8日 · 记者 王小明" in cited


def test_command_line_metadata_wins_over_the_page(tmp_path: Path) -> None:
    page = tmp_path / "a.html"
    page.write_text(district_page(), encoding="utf-8")
    assert main(["import", str(page), "--out", str(tmp_path / "out"), "--source", "管城报",
                 "--date", "2021-07"]) == 0
    [written] = (tmp_path / "out").iterdir()
    assert written.name.startswith("2021-07-社区食堂")
    assert "source: 管城报\ndate: 2021-07\n" in front_matter(written)


def test_a_page_without_date_or_canonical_says_what_it_could_not_find(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "a.html"
    page.write_text(district_page(date=None, canonical=None).replace("发布时间：", ""),
                    encoding="utf-8")
    assert main(["import", str(page), "--out", str(tmp_path / "out"), "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)["written"]
    assert row["title"] == CANTEEN_TITLE
    assert row["missing"] == ["date", "url"]


def test_a_page_saved_in_gbk_reads_as_chinese(tmp_path: Path) -> None:
    page = tmp_path / "gbk.html"
    page.write_bytes(district_page().replace('charset="utf-8"', 'charset="gbk"').encode("gbk"))
    [draft] = convert_source(str(page))
    assert (draft.article.title, draft.date) == (CANTEEN_TITLE, "2021-07-08")
    assert draft.article.paragraphs[0].startswith("本报讯 7月7日，南关街道橡树玫瑰社区")


def test_a_list_page_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "list.html"
    page.write_text(list_page(), encoding="utf-8")
    assert main(["import", str(page), "--out", str(tmp_path / "out")]) == 1
    assert f"error: {page}: no article text found" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_word_file_keeps_its_title_headings_and_byline(
        tmp_path: Path, corpus_dir: Path) -> None:
    source = word_file(tmp_path / "食堂.docx", CANTEEN_TITLE, CANTEEN, byline="记者 王小明")
    assert main(["import", str(source), "--out", str(corpus_dir), "--source", "管城报",
                 "--date", "2021-07-08"]) == 0
    text = (corpus_dir / "2021-07-08-社区食堂开到家门口-老人吃饭不再难.md").read_text("utf-8")
    assert "byline: 记者 王小明\n" in text
    assert "## 志愿者轮流帮厨\n\n食堂的帮厨和送餐" in text
    title, cited = first_hit(corpus_dir, "食堂的帮厨由谁承担")
    assert title == CANTEEN_TITLE
    assert "管城报 · 2021年7月8日" in cited


def test_a_word_file_without_heading_takes_the_document_title(tmp_path: Path) -> None:
    source = word_file(tmp_path / "a.docx", None, CANTEEN, core_title="老年食堂开业")
    [draft] = convert_source(str(source))
    assert draft.article.title == "老年食堂开业"
    assert draft.article.paragraphs[0].startswith("本报讯 7月7日")


def test_a_word_file_without_any_title_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = word_file(tmp_path / "a.docx", None, CANTEEN)
    assert main(["import", str(source), "--out", str(tmp_path / "out")]) == 1
    assert "a.docx: no title found; give the document a heading" in capsys.readouterr().err


def test_an_old_doc_renamed_docx_is_refused(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "old.docx"
    source.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    assert main(["import", str(source), "--out", str(tmp_path / "out")]) == 1
    assert "old.docx: not a Word .docx file" in capsys.readouterr().err


def test_an_epaper_pdf_page_splits_into_its_articles(tmp_path: Path, corpus_dir: Path) -> None:
    source = pdf_file(tmp_path / "第3版.pdf", [EPAPER])
    assert main(["import", str(source), "--out", str(corpus_dir), "--source", "管城报",
                 "--date", "2021-07-10"]) == 0
    canteen = (corpus_dir / "2021-07-10-社区食堂开到家门口.md").read_text(encoding="utf-8")
    assert "老年食堂正式开门营业。食堂每天中午" in canteen  # the cut word is joined, no space
    assert "byline: 记者 王小明\n" in canteen
    clinic = (corpus_dir / "2021-07-10-义诊进社区.md").read_text(encoding="utf-8")
    assert "免费测量血压、血糖" in clinic
    assert "byline: 记者 李红 通讯员 张强\n" in clinic
    title, cited = first_hit(corpus_dir, "哪里可以免费测血糖")
    assert title == "义诊进社区"
    assert "管城报 · 2021年7月10日 · 记者 李红 通讯员 张强" in cited


def test_an_article_continued_on_the_next_pdf_page_stays_one(tmp_path: Path) -> None:
    source = pdf_file(tmp_path / "a.pdf", [EPAPER[:2], EPAPER[2:4]])
    [draft] = convert_source(str(source))
    assert draft.article.paragraphs == [
        "本报讯 7月7日，南关街道橡树玫瑰社区的老年食堂正式开门营业。食堂每天中午供应午餐，"
        "六十岁以上的老人就餐享受八折优惠。"]


def test_a_scanned_pdf_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = scanned_pdf(tmp_path / "scan.pdf")
    assert main(["import", str(source), "--out", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err == (f"error: {source}: this PDF has no text layer (a scan); "
                                       "it needs OCR first\n")


def test_an_encrypted_pdf_is_named_as_such(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    source = pdf_file(tmp_path / "locked.pdf", [EPAPER], password="secret")
    assert main(["import", str(source), "--out", str(tmp_path / "out")]) == 1
    assert f"{source}: this PDF is encrypted (password-protected)" in capsys.readouterr().err


def test_a_pdf_only_locked_against_editing_is_read(tmp_path: Path) -> None:
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    path = tmp_path / "print-only.pdf"
    pdf = canvas.Canvas(str(path), encrypt=StandardEncryption("", ownerPassword="owner",
                                                              canModify=0))
    pdf.setFont("STSong-Light", 11)
    for i, line in enumerate(EPAPER[:4]):
        pdf.drawString(40, 800 - 16 * i, line)
    pdf.save()
    assert [d.article.title for d in convert_source(str(path))] == ["社区食堂开到家门口"]


def test_a_pdf_over_the_page_cap_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(pdf_import, "MAX_PDF_PAGES", 2)
    source = pdf_file(tmp_path / "issue.pdf", [EPAPER[:4], EPAPER[4:], EPAPER[:4]])
    assert main(["import", str(source), "--out", str(tmp_path / "out")]) == 1
    assert "issue.pdf: 3 pages, over the 2 page limit" in capsys.readouterr().err


def test_a_text_page_imports_as_import_page_does(tmp_path: Path) -> None:
    assert main(["import", str(SEED_PAGE), "--out", str(tmp_path / "new"), "--date",
                 "2021-06"]) == 0
    assert main(["import-page", str(SEED_PAGE), "--out", str(tmp_path / "old"), "--date",
                 "2021-06"]) == 0
    new = {p.name: p.read_text("utf-8") for p in (tmp_path / "new").iterdir()}
    old = {p.name: p.read_text("utf-8") for p in (tmp_path / "old").iterdir()}
    assert new == old and len(new) == 4


def test_existing_files_are_kept_unless_forced(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "a.html"
    page.write_text(district_page(), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["import", str(page), "--out", str(out)]) == 0
    [written] = out.iterdir()
    written.write_text("edited by hand", encoding="utf-8")
    assert main(["import", str(page), "--out", str(out)]) == 1
    assert f"error: {written}: already exists; review it, then use --force" in \
        capsys.readouterr().err
    assert written.read_text(encoding="utf-8") == "edited by hand"
    assert main(["import", str(page), "--out", str(out), "--force"]) == 0
    assert CANTEEN_TITLE in written.read_text(encoding="utf-8")


def test_one_failing_source_does_not_stop_the_others(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def broken(data: bytes, name: str, url: str | None) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(source_import, "_webpage", broken)
    page = tmp_path / "a.html"
    page.write_text(district_page(), encoding="utf-8")
    pdf = pdf_file(tmp_path / "b.pdf", [EPAPER])
    unknown = tmp_path / "c.odt"
    unknown.write_bytes(b"x")
    assert main(["import", str(page), str(pdf), str(unknown), "--out",
                 str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert f"error: {page}: the web page converter failed (RecursionError" in err
    assert f"error: {unknown}: cannot import a '.odt' file; use .html, .docx, .pdf" in err
    assert len(list((tmp_path / "out").iterdir())) == 2


def test_a_word_file_that_unpacks_too_big_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from corpus.importers import word

    source = word_file(tmp_path / "a.docx", CANTEEN_TITLE, CANTEEN)
    monkeypatch.setattr(word, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(ImportRefused, match=r"a\.docx: unpacks to \d+ bytes, over the 1000"):
        convert_source(str(source))


def test_a_conversion_that_takes_too_long_is_that_sources_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import threading

    release = threading.Event()

    def stuck(data: bytes, name: str, url: str | None) -> None:
        release.wait(10)  # a pathological page: the converter does not come back

    monkeypatch.setattr(source_import, "_webpage", stuck)
    monkeypatch.setattr(source_import, "CONVERT_SECONDS", 0.2)
    page = tmp_path / "a.html"
    page.write_text(district_page(), encoding="utf-8")
    pdf = pdf_file(tmp_path / "b.pdf", [EPAPER])
    try:
        assert main(["import", str(page), str(pdf), "--out", str(tmp_path / "out")]) == 1
    finally:
        release.set()
    err = capsys.readouterr().err
    assert f"error: {page}: the web page converter took longer than 0.2 s" in err
    assert len(list((tmp_path / "out").iterdir())) == 2  # the PDF's two articles still go in
