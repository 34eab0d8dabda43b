"""`linli chat`: the bot's conversation in a terminal, without Telegram or a token.

May import the Telegram-free core of `bot` (and `bot.app` for `open_conversation`).
"""

import sys
from pathlib import Path
from typing import TextIO

from bot import replies
from bot.app import open_conversation
from bot.conversation import INERT, Conversation
from bot.records import Records
from bot.replies import Button, Reply
from bot.settings import Settings

CHAT_USER = 0
INTRO = ("邻里 linli chat：输入问题后回车；简短的追问（如“有什么设施？”）接着上一个问题回答；"
         "输入按钮前的数字选择按钮；/start /help /about /reload；Ctrl-D 退出。")


class TerminalChat:
    """Render replies as plain text; buttons become numbered choices."""

    def __init__(self, conversation: Conversation, out: TextIO, color: bool) -> None:
        self.conversation, self.out, self.color = conversation, out, color
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
            for reply in self.conversation.press(CHAT_USER, self.buttons[number - 1].data):
                self.show(reply)
            return
        choices = f"（可选 1–{len(self.buttons)}）" if self.buttons else ""
        print(f"没有第 {number} 个选项{choices}", file=self.out)
        print(file=self.out, flush=True)

    def handle(self, line: str) -> None:
        """Answer one line typed by the user."""
        line = line.strip()
        if line.isdecimal():
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


def run_chat(settings: Settings, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    """Talk to the bot in the terminal; questions are not recorded."""
    stdin, out = stdin or sys.stdin, out or sys.stdout  # the streams of now, not of import
    conversation = open_conversation(settings, Records(Path(":memory:")))
    chat = TerminalChat(conversation, out, color=out.isatty())
    interactive = stdin.isatty()
    print(INTRO, file=out)
    chat.show(conversation.welcome())
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
