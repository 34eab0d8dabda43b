"""The Telegram bot: residents ask, it answers with a cited passage; admins keep the corpus."""
