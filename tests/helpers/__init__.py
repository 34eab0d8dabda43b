"""Test helpers: article files, a fake Telegram Bot API server."""
