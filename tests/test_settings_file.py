"""Where settings come from: --env-file, else LINLI_ENV_FILE, else .env in the current directory."""

from pathlib import Path

import pytest

from bot.cli import main


def settings_line(capsys: pytest.CaptureFixture[str]) -> str:
    return next(line for line in capsys.readouterr().out.splitlines()
                if line.split()[1] == "settings:")


def env_file(path: Path, corpus: Path) -> Path:
    path.write_text(f"LINLI_CORPUS_DIR={corpus}\nLINLI_ADMIN_IDS=42\n", encoding="utf-8")
    return path


def test_doctor_names_the_env_file_of_the_current_directory(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env_file(tmp_path / ".env", tmp_path / "here")  # conftest made tmp_path the current dir
    main(["doctor"])
    line = settings_line(capsys)
    assert f"from the environment and {tmp_path / '.env'};" in line
    assert f"corpus {tmp_path / 'here'}," in line and "1 admin(s)" in line


def test_doctor_says_when_no_settings_file_is_read(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["doctor"])
    assert f"from the environment only (no .env in {tmp_path})" in settings_line(capsys)


def test_linli_env_file_is_read_instead_of_the_current_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    env_file(tmp_path / ".env", tmp_path / "here")
    chosen = env_file(tmp_path / "linli.env", tmp_path / "service")
    monkeypatch.setenv("LINLI_ENV_FILE", str(chosen))
    main(["doctor"])
    line = settings_line(capsys)
    assert f"and {chosen};" in line and f"corpus {tmp_path / 'service'}," in line


def test_env_file_option_wins_over_linli_env_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LINLI_ENV_FILE", str(env_file(tmp_path / "a.env", tmp_path / "a")))
    chosen = env_file(tmp_path / "b.env", tmp_path / "b")
    main(["--env-file", str(chosen), "doctor"])
    assert f"corpus {tmp_path / 'b'}," in settings_line(capsys)


def test_the_environment_wins_over_the_settings_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    env_file(tmp_path / ".env", tmp_path / "from-file")
    monkeypatch.setenv("LINLI_CORPUS_DIR", str(tmp_path / "from-env"))
    main(["doctor"])
    assert f"corpus {tmp_path / 'from-env'}," in settings_line(capsys)


def test_a_missing_linli_env_file_names_the_variable_and_exits_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LINLI_ENV_FILE", str(tmp_path / "gone.env"))
    assert main(["doctor"]) == 2
    assert capsys.readouterr().err == (
        f"error: LINLI_ENV_FILE: settings file '{tmp_path / 'gone.env'}' does not exist; "
        "give the path of an existing file (see deploy/.env.example)\n")
