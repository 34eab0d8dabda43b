"""deploy/: what can be checked without a Docker engine, checked."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.settings import Settings
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    return [(line.split()[0].upper(), line.split(maxsplit=1)[1]) for line in text.splitlines()
            if line.strip() and not line.startswith("#")]


def test_dockerfile_runs_as_non_root_with_volumes_and_a_healthcheck() -> None:
    instructions = dockerfile_instructions()
    users = [arg for op, arg in instructions if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    [volume] = [arg for op, arg in instructions if op == "VOLUME"]
    assert '"/corpus"' in volume and '"/data"' in volume
    [health] = [arg for op, arg in instructions if op == "HEALTHCHECK"]
    assert health.endswith('CMD ["linli", "health"]')
    env = " ".join(arg for op, arg in instructions if op == "ENV")
    assert "LINLI_CORPUS_DIR=/corpus" in env and "LINLI_DATA_DIR=/data" in env
    assert any("Tokenizer()" in arg for op, arg in instructions if op == "RUN")  # jieba cache


@pytest.mark.skipif(shutil.which("hadolint") is None and not
                    (Path(sys.executable).parent / "hadolint").exists(),
                    reason="hadolint is installed with the dev extra on Linux x86_64 only")
def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    result = subprocess.run([hadolint, str(DEPLOY / "Dockerfile")], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_mounts_corpus_and_data_and_reads_the_env_file() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    service = compose["services"]["linli"]
    assert service["env_file"] == ".env" and service["restart"] == "unless-stopped"
    assert sorted(service["volumes"]) == ["corpus:/corpus", "data:/data"]
    assert service["build"]["dockerfile"] == "deploy/Dockerfile"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    linli = Path(sys.executable).parent / "linli"
    unit = (DEPLOY / "linli.service").read_text(encoding="utf-8")
    assert "ExecStart=/opt/linli/venv/bin/linli run" in unit
    copy = tmp_path / "linli.service"
    copy.write_text(unit.replace("/opt/linli/venv/bin/linli", str(linli)), encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_systemd_unit_restarts_runs_as_its_user_and_writes_only_data() -> None:
    unit = (DEPLOY / "linli.service").read_text(encoding="utf-8")
    for line in ("Restart=on-failure", "User=linli", "ProtectSystem=strict",
                 "StateDirectory=linli", "NoNewPrivileges=true",
                 "EnvironmentFile=/etc/linli/linli.env"):
        assert line in unit.splitlines()


def settings_fields() -> dict[str, str]:
    return {name.upper(): field.description or "" for name, field in Settings.model_fields.items()}


def test_env_example_lists_every_setting() -> None:
    text = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    named = set(re.findall(r"^#? ?([A-Z_]+)=", text, flags=re.MULTILINE))
    assert named == set(settings_fields())


def test_deploy_readme_settings_table_matches_the_settings_class() -> None:
    text = (DEPLOY / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([A-Z_]+)` \| (.+) \|$", text, flags=re.MULTILINE))
    assert rows == settings_fields()


def test_nginx_site_forwards_the_webhook_path_to_the_default_listen_port() -> None:
    site = (DEPLOY / "nginx" / "linli.conf").read_text(encoding="utf-8")
    assert "location = /linli-webhook {" in site
    assert "proxy_pass http://127.0.0.1:8443;" in site
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    assert ("--webhook https://bot.example.org/linli-webhook --listen 127.0.0.1:8443"
            in readme)
