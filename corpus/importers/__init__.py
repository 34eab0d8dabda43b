"""Articles from where district staff have them: web pages, Word files, PDF and text pages.

Each converter turns one source into drafts (`Draft`); `write_draft` checks a draft
and writes it in the corpus format. Converters never import telegram.
"""

from corpus.importers.draft import Draft, ImportRefused
from corpus.importers.sources import SUFFIXES, convert_file, convert_source
from corpus.importers.write import ReviewRow, write_article_file, write_draft

__all__ = ["SUFFIXES", "Draft", "ImportRefused", "ReviewRow", "convert_file", "convert_source",
           "write_article_file", "write_draft"]
