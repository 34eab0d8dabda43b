"""`linli corpus` and `linli import-page`: the corpus as admins and developers see it."""

import argparse
import json
import sys
from pathlib import Path

from corpus.chunk import chunk_article
from corpus.load import load_corpus
from corpus.models import ArticleFormatError, check_date
from corpus.newspaper import import_page

BUNDLED_CORPUS = Path(__file__).parent / "articles"


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register the corpus subcommands on the `linli` parser."""
    listing = commands.add_parser("corpus", help="list the articles of a corpus and its problems")
    listing.add_argument("dir", nargs="?", type=Path, default=None,
                         help="corpus folder (default: LINLI_CORPUS_DIR or the bundled corpus)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=corpus_command)

    page = commands.add_parser("import-page", help="split a newspaper page into article files")
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
    written = import_page(args.page, args.out, source=args.source, date=args.date,
                          force=args.force)
    print("file\ttitle\tparagraphs\tcharacters")
    for row in written:
        print(f"{row.path}\t{row.title}\t{row.paragraphs}\t{row.characters}")
    print(f"{len(written)} articles written; review them before /reload.")
    return 0
