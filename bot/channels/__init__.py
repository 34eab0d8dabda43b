"""The doors residents come in by: each channel renders the Telegram-free conversation."""
