"""`linli chat`: the bot's conversation in a terminal, without Telegram or a token.

The terminal is both a resident and the admin: /pending and its buttons work here, and
the questions go into the bot's records database (LINLI_DATA_DIR/linli.sqlite3), so that
`linli pending` and `linli stats` see them. May import the Telegram-free core of `bot`
(and `bot.app` for `open_conversation`).
"""

import re
import sys
from typing import TextIO

from bot import replies
from bot.app import open_conversation
from bot.conversation import INERT, Conversation
from bot.records import open_records, user_key
from bot.replies import Button, Reply
from bot.settings import Settings, SettingsError
from bot.staff.desk import PATTERN, Desk, DeskResult

CHAT_USER = 0
INTRO = ("邻里 linli chat：输入问题后回车；简短的追问（如“有什么设施？”）接着上一个问题回答；"
         "输入按钮前的数字选择按钮；/start /help /about /reload /pending；"
         "写答复时用 \\n 分段；Ctrl-D 退出。")


class TerminalChat:
    """Render replies as plain text; buttons become numbered choices."""

    def __init__(self, conversation: Conversation, out: TextIO, color: bool,
                 desk: Desk | None = None) -> None:
        self.conversation, self.out, self.color = conversation, out, color
        self.desk = desk
        self.buttons: list[Button] = []

    def show(self, reply: Reply) -> None:
        """Print a reply and remember its buttons for the next numbered choice."""
        if reply.notice:
            print(f"（{reply.notice}）", file=self.out)
        if reply.pieces:
            bold = ("\033[1m", "\033[0m") if self.color else ("**", "**")
            print(reply.plain(*bold), file=self.out)
        if reply.buttons or reply.edit:
            # An edit replaces the buttons it was pressed on; a label-only button is not shown.
            self.buttons = [b for row in reply.buttons for b in row if b.data != INERT]
            if self.buttons:
                print("  ".join(f"[{i}] {b.label}" for i, b in enumerate(self.buttons, 1)),
                      file=self.out)
        print(file=self.out, flush=True)

    def choose(self, number: int) -> None:
        """Press the button with this number, or say that there is none."""
        if 1 <= number <= len(self.buttons):
            data = self.buttons[number - 1].data
            if self.desk is not None and re.match(PATTERN, data):
                self.deliver(self.desk.press(CHAT_USER, data))
                return
            for reply in self.conversation.press(CHAT_USER, data):
                self.show(reply)
            return
        choices = f"（可选 1–{len(self.buttons)}）" if self.buttons else ""
        print(f"没有第 {number} 个选项{choices}", file=self.out)
        print(file=self.out, flush=True)

    def deliver(self, result: DeskResult) -> None:
        """Show a desk action's replies; reload after a staff answer; show notifications."""
        for reply in result.replies:
            self.show(reply)
        if result.reload and self.desk is not None:
            self.show(replies.reload_reply(self.conversation.live.reload_now()))
            self.deliver(self.desk.saved(CHAT_USER))
        for notification in result.notifications:
            print(f"（发给聊天 {notification.chat_id} 的通知）", file=self.out)
            self.show(notification.reply)

    def handle(self, line: str) -> None:
        """Answer one line typed by the user."""
        line = line.strip()
        if self.desk is not None and self.desk.awaiting(CHAT_USER) and not line.startswith("/"):
            self.deliver(self.desk.take(CHAT_USER, line.replace("\\n", "\n")))
        elif line == "/pending" and self.desk is not None:
            self.show(self.desk.page())
        elif line.isdecimal():
            self.choose(int(line))
        elif line == "/start":
            self.show(self.conversation.welcome())
        elif line == "/help":
            self.show(Reply.text(replies.HELP))
        elif line == "/about":
            self.show(self.conversation.about())
        elif line == "/reload":
            self.show(replies.reload_reply(self.conversation.live.reload_now()))
        else:
            # Past the rate limit each question gets the notice (Telegram's handler drops a
            # flood after one notice a minute; a terminal is never left silent).
            self.show(self.conversation.ask(CHAT_USER, "private", line).reply)


def chat_key(settings: Settings) -> bytes:
    """The user-hash key: the bot's own if set, else a fixed one for the terminal's user 0."""
    try:
        return settings.user_key()
    except SettingsError:
        return user_key("linli chat")


def run_chat(settings: Settings, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    """Talk to the bot in the terminal; questions are recorded in the bot's records file."""
    stdin, out = stdin or sys.stdin, out or sys.stdout  # the streams of now, not of import
    records = open_records(settings.database_path, chat_key(settings))
    conversation = open_conversation(settings, records)
    desk = Desk(conversation, settings.linli_corpus_dir, settings.linli_staff_source)
    chat = TerminalChat(conversation, out, color=out.isatty(), desk=desk)
    print(f"（提问记录在 {settings.database_path}）", file=out)
    try:
        return _converse(chat, stdin, out)
    finally:
        records.close()


def _converse(chat: TerminalChat, stdin: TextIO, out: TextIO) -> int:
    """Read lines until the end of input, answering each."""
    interactive = stdin.isatty()
    print(INTRO, file=out)
    chat.show(chat.conversation.welcome())
    while True:
        if interactive:
            print("> ", end="", file=out, flush=True)
        line = stdin.readline()
        if not line:
            return 0
        if line.strip():
            if not interactive:
                print(f"> {line.strip()}", file=out)
            chat.handle(line)
