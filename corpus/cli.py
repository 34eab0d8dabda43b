"""`linli corpus`, `linli import` and `linli import-page`: the corpus as admins see it."""

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from corpus.chunk import chunk_article
from corpus.load import load_corpus
from corpus.models import ArticleFormatError, check_date

if TYPE_CHECKING:
    from corpus.importers import ReviewRow


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register the corpus subcommands on the `linli` parser."""
    listing = commands.add_parser("corpus", help="list the articles of a corpus and its problems")
    listing.add_argument("dir", nargs="?", type=Path, default=None,
                         help="corpus folder (default: LINLI_CORPUS_DIR or the bundled corpus)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=corpus_command)

    add_import_command(commands)
    page = commands.add_parser("import-page", help="split a newspaper page into article files "
                                                   "(the same as `linli import PAGE.txt`)")
    page.add_argument("page", type=Path, help="the page as UTF-8 text")
    page.add_argument("--out", type=Path, required=True, help="folder to write the articles to")
    page.add_argument("--source", help="the publication, e.g. 管城报 (left out if unknown)")
    page.add_argument("--date", type=article_date,
                      help="YYYY-MM-DD, YYYY-MM or YYYY (left out if unknown)")
    page.add_argument("--force", action="store_true", help="overwrite existing files")
    page.set_defaults(handler=import_page_command)


def article_date(value: str) -> str:
    """Check a --date option (argparse rejects a bad one: exit 2)."""
    try:
        check_date(value)
    except ArticleFormatError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return value


def corpus_command(args: argparse.Namespace) -> int:
    """List the articles and problems; exit 1 on an error-level problem."""
    root = args.dir or args.default_corpus
    loaded = load_corpus(root)
    rows = [{"id": a.id, "title": a.title, "date": a.date, "source": a.source,
             "chunks": len(chunk_article(a))} for a in loaded.articles]
    if args.json:
        print(json.dumps({"corpus": str(root), "articles": rows,
                          "problems": [p.model_dump() for p in loaded.problems]},
                         ensure_ascii=False, indent=2))
    else:
        print(f"{root}: {len(rows)} articles, {len(loaded.problems)} problems")
        for row in rows:
            print(f"  {row['id']}\t{row['title']}\t{row['date'] or '-'}\t"
                  f"{row['source'] or '-'}\t{row['chunks']} chunks")
    for problem in loaded.problems:
        print(problem, file=sys.stderr)
    return 1 if loaded.errors else 0


def import_page_command(args: argparse.Namespace) -> int:
    """Import a page and print what was written, for review."""
    from corpus.newspaper import import_page  # here: the other commands do without it

    written = import_page(args.page, args.out, source=args.source, date=args.date,
                          force=args.force)
    print("file\ttitle\tparagraphs\tcharacters")
    for row in written:
        print(f"{row.path}\t{row.title}\t{row.paragraphs}\t{row.characters}")
    print(f"{written_count(len(written))}; review them before /reload.")
    return 0


def add_import_command(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register `linli import`: web pages, Word files, PDF and text pages into article files."""
    command = commands.add_parser(
        "import", help="turn web pages, .docx, .pdf and .txt pages into article files")
    command.add_argument("sources", nargs="+", metavar="SOURCE",
                         help="an http(s) URL, or a .html, .docx, .pdf or .txt newspaper page")
    command.add_argument("--out", type=Path, required=True, help="folder to write the articles to")
    command.add_argument("--source", help="the publication, e.g. 管城报 (wins over the page's)")
    command.add_argument("--date", type=article_date,
                         help="YYYY-MM-DD, YYYY-MM or YYYY (wins over the page's)")
    command.add_argument("--force", action="store_true", help="overwrite existing files")
    command.add_argument("--json", action="store_true", help="print JSON")
    command.set_defaults(handler=import_command)


def import_command(args: argparse.Namespace) -> int:
    """Import every source; one that fails is reported and the others still go in."""
    from corpus.importers import ImportRefused, ReviewRow, convert_source, write_draft
    # The settings are the bot's (the caller puts them on `args`); corpus/ never imports them.
    settings = getattr(args, "settings", None)
    allowed: frozenset[str] = getattr(settings, "linli_import_allow_hosts", frozenset())
    rows: list[ReviewRow] = []
    errors: list[str] = []
    taken: set[Path] = set()
    for source in args.sources:
        try:
            drafts = [d.with_metadata(args.source, args.date)
                      for d in convert_source(source, allow_hosts=allowed)]
        except ImportRefused as err:
            errors.append(str(err))
            continue
        for draft in drafts:
            try:
                path = write_draft(draft, args.out, force=args.force, taken=taken)
            except ImportRefused as err:
                errors.append(str(err))
                continue
            rows.append(ReviewRow.of(path, draft))
    _print_review(rows, errors, args.json)
    return 1 if errors else 0


def written_count(count: int) -> str:
    """Say how many articles were written: 1 article written, 3 articles written."""
    return f"{count} article{'' if count == 1 else 's'} written"


def _print_review(rows: list["ReviewRow"], errors: list[str], as_json: bool) -> None:
    if as_json:
        print(json.dumps({"written": [asdict(r) for r in rows], "errors": errors},
                         ensure_ascii=False, indent=2))
    elif rows:
        print("file\ttitle\tdate\tsource\tparagraphs\tcharacters\tnot found")
        for r in rows:
            print(f"{r.file}\t{r.title}\t{r.date or '-'}\t{r.source or '-'}\t{r.paragraphs}\t"
                  f"{r.characters}\t{', '.join(r.missing) or '-'}")
        print(f"{written_count(len(rows))}; review them before /reload.")
    else:
        print("no article written: every source failed (the errors say why)")
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
