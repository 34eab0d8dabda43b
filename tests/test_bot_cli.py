import io

import pytest

from bot.cli import main


def test_chat_answers_in_the_terminal_with_numbered_buttons(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("老年人活动区在哪里\n1\n明天天气怎么样\n"))
    assert main(["chat"]) == 0
    out = capsys.readouterr().out
    assert "**吸引李大爷前来下棋的好地方,正是管城区橡树玫瑰社区首个建成的老年人活动区。**" in out
    assert "[1] 📖 阅读全文  [2] 👍 有用  [3] 👎 没用" in out
    assert "**《学党史润初心 办实事解民忧》**" in out  # the whole article, after choosing 1
    assert "抱歉，现有的报道里没有找到能回答“明天天气怎么样”的内容" in out


def test_chat_shows_only_buttons_that_do_something_and_names_a_missing_choice(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("1\n老年人活动区在哪里\n2\n1\n9\n"))
    assert main(["chat"]) == 0
    out = capsys.readouterr().out
    welcome, example_answer, _, liked, after_like, nine = out.split("\n> ")
    example = welcome.split("[1] ", 1)[1].split("  ")[0].split("\n")[0]
    assert example.endswith("？") and example_answer.startswith("1\n")
    assert "📰《" in example_answer  # 1 asked the first example question, and got an answer
    assert liked.startswith("2\n（谢谢您的反馈 🙏）")
    assert "[1]" not in liked  # the thanks label is not offered as a choice
    assert after_like.strip() == "1\n没有第 1 个选项"
    assert nine.strip() == "9\n没有第 9 个选项"
    assert "没有找到能回答" not in out  # a number is never searched as a question


def test_chat_out_of_range_number_names_the_choices_there_are(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("老年人活动区在哪里\n9\n3\n"))
    assert main(["chat"]) == 0
    out = capsys.readouterr().out
    assert "> 9\n没有第 9 个选项（可选 1–3）" in out
    assert "> 3\n（谢谢您的反馈 🙏）" in out  # 3 is 👎, and it works


def test_run_without_a_token_names_the_variable_and_exits_2(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 2
    assert capsys.readouterr().err.startswith("error: TELEGRAM_BOT_TOKEN is not set")


@pytest.mark.parametrize(("name", "value", "message"), [
    ("TELEGRAM_BOT_TOKEN", "not-a-token", "error: TELEGRAM_BOT_TOKEN: is not a bot token"),
    ("LINLI_ADMIN_IDS", "42,abc", "error: LINLI_ADMIN_IDS: 'abc' is not a Telegram user id"),
])
def test_malformed_settings_stop_start_up_with_one_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        name: str, value: str, message: str) -> None:
    monkeypatch.setenv(name, value)
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1
    assert "not-a-token" not in err  # the secret is never echoed


def test_webhook_needs_https_and_a_host_port(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi")
    assert main(["run", "--webhook", "http://example.org/linli"]) == 2
    assert "must be an https:// URL" in capsys.readouterr().err
    assert main(["run", "--webhook", "https://example.org/linli", "--listen", "8443"]) == 2
    assert "--listen '8443' is not HOST:PORT" in capsys.readouterr().err


def test_chat_reads_a_follow_up_in_context_and_dates_the_answer(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    typed = "老年人活动区在哪里？\n有什么设施？\n电话多少？\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(typed))
    assert main(["chat"]) == 0
    out = capsys.readouterr().out
    assert "> 有什么设施？\n关于“老年人活动区”：\n" in out
    assert "在老年人活动区中修建健身器材、休息长椅、棋牌桌等设施。**" in out
    assert "这篇报道发表于2021年6月，具体安排可能已有变化，请以社区最新通知为准。" in out
    assert "关于“老年人活动区”：抱歉，现有的报道里没有找到能回答“电话多少？”的内容" in out


def test_link_prints_a_deep_link_that_fits_telegrams_limit(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["link", "老年人活动区在哪里？", "--bot", "linli_bot"]) == 0
    link = capsys.readouterr().out.strip()
    assert link.startswith("https://t.me/linli_bot?start=")
    assert len(link.split("?start=")[1]) <= 64
    assert main(["link", "老年人活动区里的棋牌桌和休息长椅每天晚上几点关门？", "--bot",
                 "linli_bot"]) == 1
    assert "Telegram allows 64" in capsys.readouterr().err
