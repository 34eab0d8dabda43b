"""One rule for every `linli` command: 2 for usage or settings, 1 for a failed check or operation.

The rule is in README.md ("Exit codes"); a new command gets a row in ARGS and FAILURES.
"""

import asyncio
import re
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from tests.helpers.articles import write_article
from tests.helpers.fake_telegram import TOKEN, FakeTelegram


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
    (["import", "p.html", "--out", "o", "--date"], "2021-13"),
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
    "stats": ({}, ["--chart", "{tmp}/nope/c.png"], "nope/c.png: No such file or directory"),
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


# The README's exit-code table, walked: each case it names (the phrase as written in its
# row) and a command that meets it. A phrase missing from the README, a backticked example
# in the README with no case here, or a command exiting otherwise fails the walk.
WRONG_TOKEN = "654321:" + "Zz9_" * 9
README_CASES: dict[int, dict[str, list[tuple[dict[str, str], list[str]]]]] = {
    0: {"done; every check passed": [({}, ["corpus", "{good}"]), ({}, ["index"])]},
    1: {"a corpus file with an error": [({}, ["corpus", "{broken}"]),
                                        ({}, ["index", "--corpus", "{broken}"])],
        "a missing file or folder": [({}, ["corpus", "{tmp}/nope"]),
                                     ({}, ["eval", "{tmp}/nope.jsonl"])],
        "a `doctor` check": [({"TELEGRAM_BOT_TOKEN": TOKEN,
                               "TELEGRAM_BASE_URL": "http://127.0.0.1:9/bot"}, ["doctor"])],
        "an unhealthy bot": [({}, ["health"])]},
    2: {"an unknown option": [({}, ["search", "老年人", "--no-such-option"])],
        "`-k 0`": [({}, ["search", "老年人", "-k", "0"])],
        "`--date 2021-13`": [({}, ["import", "a.html", "--out", "o", "--date", "2021-13"]),
                             ({}, ["import-page", "a.txt", "--out", "o", "--date", "2021-13"])],
        "an empty question": [({}, ["search", "！？"])],
        "a token Telegram rejects": [({"TELEGRAM_BOT_TOKEN": WRONG_TOKEN,
                                       "TELEGRAM_BASE_URL": "{api}"}, ["run"])],
        "`linli run` or `linli doctor` without `TELEGRAM_BOT_TOKEN`": [({}, ["run"]),
                                                                       ({}, ["doctor"])],
        "`LINLI_ADMIN_IDS=abc`": [({"LINLI_ADMIN_IDS": "abc"}, ["corpus"])],
        "a settings file that does not exist": [({}, ["--env-file", "{tmp}/nope.env", "corpus"])]},
}


def readme_exit_rows() -> dict[int, str]:
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    table = text.split("**Exit codes**", 1)[1].split("\n\n", 2)[1]
    return {int(code): meaning for code, meaning in
            re.findall(r"^\| ([0-9]) \| (.+) \|$", table, flags=re.MULTILINE)}


def test_the_readme_names_every_case_walked_and_nothing_else() -> None:
    rows = readme_exit_rows()
    assert sorted(rows) == sorted(README_CASES)
    for code, meaning in rows.items():
        for phrase in README_CASES[code]:
            assert phrase in meaning, (code, phrase)
        walked = " ".join(README_CASES[code])
        for example in re.findall(r"`[^`]+`", meaning):
            assert example in walked, (code, example)


async def test_every_case_of_the_readme_exit_code_table_exits_with_its_code(
        telegram: FakeTelegram, corpus_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "broken"
    write_article(broken, "good.md")
    write_article(broken, "bad.md", date="2021-13-01")
    values = {"tmp": str(tmp_path), "good": str(corpus_dir), "broken": str(broken),
              "api": telegram.base_url}
    monkeypatch.setenv("LINLI_CORPUS_DIR", str(corpus_dir))
    for code, cases in README_CASES.items():
        for phrase, runs in cases.items():
            for env, args in runs:
                with monkeypatch.context() as patch:
                    for name, value in env.items():
                        patch.setenv(name, value.format(**values))
                    try:
                        got = await asyncio.to_thread(main, [a.format(**values) for a in args])
                    except SystemExit as stopped:  # argparse
                        got = int(stopped.code or 0)
                assert got == code, (phrase, args)
