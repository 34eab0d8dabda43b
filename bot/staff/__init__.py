"""The staff loop: the pending queue, staff answers, pairings and notifications (issue 20).

Telegram-free: the channels (bot/channels/telegram, `linli chat`) render what it returns.
Nothing is re-exported here, so that bot.records can import bot.staff.schema alone.
"""
