"""deploy/: what can be checked without a Docker engine, checked."""

import os
import re
import shlex
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


def test_dockerfile_makes_the_wheel_in_a_stage_and_never_deletes_its_working_directory() -> None:
    instructions = dockerfile_instructions()
    stages = [arg for op, arg in instructions if op == "FROM"]
    assert len(stages) == 2 and stages[0].endswith(" AS wheel")
    assert any(op == "COPY" and arg.startswith("--from=wheel ") for op, arg in instructions)
    workdir = "/"
    for op, arg in instructions:
        if op == "FROM":
            workdir = "/"
        elif op == "WORKDIR":
            workdir = arg
        elif op == "RUN":
            for removed in re.findall(r"rm -rf (\S+)", arg):
                # jieba (imported later in the RUN) dies in a deleted current directory.
                assert not (workdir + "/").startswith(removed.rstrip("/") + "/"), (workdir, arg)
    [install] = [arg for op, arg in instructions if op == "RUN" and "pip install" in arg]
    assert "/wheels/linli-" in install and "LICENSE" in " ".join(
        arg for op, arg in instructions if op == "COPY")


def test_smoke_script_without_a_container_engine_says_so_and_exits_2(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(DEPLOY / "smoke_image.py")],
                            env={"PATH": str(tmp_path)}, capture_output=True, text=True,
                            check=False, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: no container engine answers")


@pytest.mark.skipif(not os.environ.get("LINLI_SMOKE_IMAGE"),
                    reason="builds the image, which downloads the base image and the "
                    "dependencies; set LINLI_SMOKE_IMAGE to the smoke script's options "
                    "(or to 1) to run it")
def test_image_builds_answers_and_stops_cleanly() -> None:
    options = os.environ["LINLI_SMOKE_IMAGE"]
    result = subprocess.run([sys.executable, str(DEPLOY / "smoke_image.py"),
                             *(shlex.split(options) if options != "1" else [])],
                            capture_output=True, text=True, check=False, timeout=3600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS:" in result.stdout and "ok   token: accepted by the Bot API" in result.stdout


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


def test_nginx_site_uses_no_directive_older_nginx_rejects() -> None:
    site = (DEPLOY / "nginx" / "linli.conf").read_text(encoding="utf-8")
    directives = [line.split("#")[0].strip() for line in site.splitlines()]
    assert "http2 on;" not in directives  # nginx < 1.25.1 (Debian 12, Ubuntu 24.04) rejects it
    assert "listen 443 ssl http2;" in directives


def nginx_test_config(tmp_path: Path, changes: dict[str, str] | None = None,
                      access_log: str = "off") -> Path:
    """Wrap the site in a minimal nginx.conf, with a self-signed certificate in tmp_path.

    `access_log`: the http block's default (a file, to check what the site keeps out of it).
    """
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=bot.example.org", "-keyout", str(tmp_path / "key.pem"),
                    "-out", str(tmp_path / "cert.pem")], capture_output=True, check=True)
    site = (DEPLOY / "nginx" / "linli.conf").read_text(encoding="utf-8")
    site = site.replace("/etc/letsencrypt/live/bot.example.org/fullchain.pem",
                        str(tmp_path / "cert.pem"))
    site = site.replace("/etc/letsencrypt/live/bot.example.org/privkey.pem",
                        str(tmp_path / "key.pem"))
    assert str(tmp_path / "key.pem") in site  # the site still names its certificate there
    for before, after in (changes or {}).items():
        assert before in site, before
        site = site.replace(before, after)
    (tmp_path / "linli.conf").write_text(site, encoding="utf-8")
    temp = "".join(f"    {kind}_temp_path {tmp_path / kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"pid {tmp_path / 'nginx.pid'};\nerror_log stderr;\nevents {{}}\n"
                    f"http {{\n    access_log {access_log};\n{temp}"
                    f"    include {tmp_path / 'linli.conf'};\n}}\n",
                    encoding="utf-8")
    return conf


@pytest.mark.skipif(shutil.which("nginx") is None or shutil.which("openssl") is None,
                    reason="nginx -t needs nginx and openssl (apt-get install nginx openssl)")
def test_nginx_site_passes_nginx_t(tmp_path: Path) -> None:
    conf = nginx_test_config(tmp_path)
    result = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-c", str(conf)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_the_docs_give_one_host_one_iframe_url_and_one_embed_origins_example() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    deploy = (DEPLOY / "README.md").read_text(encoding="utf-8")
    site = (DEPLOY / "nginx" / "linli.conf").read_text(encoding="utf-8")
    [host] = set(re.findall(r"server_name ([\w.-]+);", site))
    for text in (readme, deploy):
        hosts = set(re.findall(r"https://([\w.-]+)/(?:embed\.js|\?embed=1|wechat)", text))
        assert hosts == {host}, hosts  # the page, the embed and WeChat: linli.conf's host
        frames = set(re.findall(r'<iframe src="([^"]+)"', text))
        assert frames == {f"https://{host}/?embed=1"}, frames
    examples = set(re.findall(r"LINLI_WEB_EMBED_ORIGINS=\"([^\"]+)\"", deploy))
    assert examples and all(f"e.g. {e}" in settings_fields()["LINLI_WEB_EMBED_ORIGINS"]
                            for e in examples), examples
    assert "send the `question_id` and `conversation` that `/api/ask` returned" in readme
