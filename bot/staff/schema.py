"""The staff loop's tables in the records database (records format 2); plain SQL only.

- asked_words: each recorded question's searched words, the key that groups the same
  question in other words (no resident id: the questions table holds the hash).
- pairings: a group of questions (its words) answered by one passage, named by its
  article and the hash of its text, so it survives reindexing while the text is the same.
- subscriptions: the chat of a resident who pressed 有答复时通知我, kept only until
  notified or expired (LINLI_NOTIFY_DAYS).
"""

STAFF_TABLES = """
CREATE TABLE IF NOT EXISTS asked_words (
    question_id INTEGER PRIMARY KEY REFERENCES questions (id),
    words TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS asked_words_words ON asked_words (words);
CREATE TABLE IF NOT EXISTS pairings (
    words TEXT PRIMARY KEY,
    question TEXT NOT NULL,
    article_id TEXT NOT NULL,
    passage_hash TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('staff', 'link', 'designated')),
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS subscriptions (
    words TEXT NOT NULL,
    chat_id INTEGER NOT NULL,
    question TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (words, chat_id)
);
CREATE INDEX IF NOT EXISTS subscriptions_at ON subscriptions (at);
"""
