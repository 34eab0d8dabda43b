"""One rule for every `linli` command: 2 for usage or settings, 1 for a failed check or operation.

The rule is in README.md ("Exit codes"); a new command gets a row in ARGS and FAILURES.
"""

from pathlib import Path

import pytest

from bot.cli import build_parser, main
from tests.helpers.fake_telegram import TOKEN


def command_names() -> list[str]:
    commands = next(a for a in build_parser()._actions if a.dest == "command")
    return sorted(commands.choices)  # type: ignore[arg-type]


# The arguments each command needs to get past argparse.
ARGS: dict[str, list[str]] = {
    "bench": ["--data", "{tmp}/nope"], "calibrate": ["--data", "{tmp}/nope"],
    "backup": ["{tmp}/backup.db"], "chat": [],
    "corpus": [], "doctor": [], "eval": ["{tmp}/nope.jsonl"], "health": [],
    "import": ["{tmp}/nope.html", "--out", "{tmp}/out"],
    "import-page": ["{tmp}/nope.txt", "--out", "{tmp}/out"], "index": [], "run": [],
    "link": ["哪里可以下棋？", "--bot", "linli_bot"],
    "search": ["老年人"], "stats": [], "web": [], "pending": [],
    "bench-staff": ["--gov", "{tmp}/nope"],
}


def test_every_command_is_covered_by_the_exit_code_tests() -> None:
    assert sorted(ARGS) == command_names()


@pytest.mark.parametrize("command", command_names())
def test_a_usage_error_exits_2(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([command, "--no-such-option"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: linli") and "error: " in err


@pytest.mark.parametrize("command", sorted(ARGS))
def test_a_malformed_setting_exits_2_naming_the_variable(
        command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LINLI_ADMIN_IDS", "42,abc")
    assert main([command, *(a.format(tmp=tmp_path) for a in ARGS[command])]) == 2
    assert capsys.readouterr().err.startswith("error: LINLI_ADMIN_IDS: 'abc' is not")


@pytest.mark.parametrize("command", sorted(ARGS))
def test_a_missing_settings_file_exits_2(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--env-file", str(tmp_path / "linli.env"), command]
    assert main(args + [a.format(tmp=tmp_path) for a in ARGS[command]]) == 2
    assert "linli.env' does not exist" in capsys.readouterr().err


@pytest.mark.parametrize(("option", "value"), [
    (["search", "老年人", "-k"], "0"), (["stats", "--days"], "-3"),
    (["bench", "--data", "x", "--sizes"], "1000,lots"),
    (["import-page", "p", "--out", "o", "--date"], "2021-13"),
])
def test_a_bad_option_value_is_a_usage_error(
        option: list[str], value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([*option, value])
    assert stopped.value.code == 2
    assert f"'{value}'" in capsys.readouterr().err


# A way to make each command fail once it runs: (environment, arguments, what stderr says).
FAILURES: dict[str, tuple[dict[str, str], list[str], str]] = {
    "bench": ({}, ["--data", "{tmp}/nope"], "error: "),
    "calibrate": ({}, ["--data", "{tmp}/nope"], "cmrc_corpus.jsonl"),
    "import": ({}, ["{tmp}/nope.html", "--out", "{tmp}/out"], "nope.html"),
    "backup": ({}, ["{tmp}/backup.db"], "no records database yet"),
    "chat": ({"LINLI_CORPUS_DIR": "{tmp}/nope"}, [], "corpus folder does not exist"),
    "corpus": ({}, ["{tmp}/nope"], "corpus folder does not exist"),
    "doctor": ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": "http://127.0.0.1:9/bot"},
               [], ""),
    "eval": ({}, ["{tmp}/nope.jsonl"], "nope.jsonl"),
    "health": ({}, [], "unhealthy: "),
    "import-page": ({}, ["{tmp}/nope.txt", "--out", "{tmp}/out"], "nope.txt"),
    "index": ({}, ["--corpus", "{tmp}/nope"], "corpus folder does not exist"),
    "link": ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": "http://127.0.0.1:9/bot"},
             ["哪里可以下棋？"], "give it with --bot USERNAME"),
    "run": ({"TELEGRAM_BOT_TOKEN": TOKEN, "LINLI_CORPUS_DIR": "{tmp}/nope"}, [],
            "corpus folder does not exist"),
    "search": ({}, ["老年人", "--corpus", "{tmp}/nope"], "corpus folder does not exist"),
    "stats": ({}, [], "no records yet"),
    "pending": ({}, [], "no records yet"),
    "bench-staff": ({}, ["--gov", "{tmp}/nope"], "nope: not found"),
    "web": ({"LINLI_CORPUS_DIR": "{tmp}/nope"}, [], "corpus folder does not exist"),
}


def test_every_command_has_a_failure_to_test() -> None:
    assert sorted(FAILURES) == command_names()


@pytest.mark.parametrize("command", sorted(FAILURES))
def test_a_failed_operation_or_check_exits_1(
        command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    env, args, says = FAILURES[command]
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(tmp=tmp_path))
    assert main([command, *(a.format(tmp=tmp_path) for a in args)]) == 1
    out, err = capsys.readouterr()
    assert says in err, out + err


def test_doctor_without_a_token_exits_2_after_running_every_check(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor"]) == 2
    out = capsys.readouterr().out
    assert "FAIL token: TELEGRAM_BOT_TOKEN is not set" in out
    assert [line.split()[1] for line in out.splitlines() if line[:1] != " "] == [
        "settings:", "token:", "web:", "corpus:", "data:", "index:"]


def test_doctor_of_a_web_only_deployment_needs_no_token(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LINLI_USER_KEY", "k" * 32)
    monkeypatch.setenv("LINLI_WECHAT_TOKEN", "linliTestToken2026")
    code = main(["doctor"])
    out = capsys.readouterr().out
    assert "warn token: TELEGRAM_BOT_TOKEN is not set: no Telegram bot" in out
    assert "ok   web: frame-ancestors 'self'; WeChat in plain mode" in out
    assert code != 2, out


def test_doctor_names_half_set_safe_mode(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LINLI_USER_KEY", "k" * 32)
    monkeypatch.setenv("LINLI_WECHAT_TOKEN", "linliTestToken2026")
    monkeypatch.setenv("LINLI_WECHAT_AES_KEY", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
    assert main(["doctor"]) == 2
    out = capsys.readouterr().out
    assert "FAIL web: WeChat: LINLI_WECHAT_APP_ID is not set: safe mode needs both" in out
    assert "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG" not in out


def test_doctor_with_an_unreachable_bot_api_exits_1(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_BASE_URL", "http://127.0.0.1:9/bot")
    assert main(["doctor"]) == 1
    assert "FAIL token: the Bot API cannot be reached" in capsys.readouterr().out
