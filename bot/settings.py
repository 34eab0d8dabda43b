"""Every setting of linli, read from the environment and an optional `.env` file.

The file is `--env-file FILE`, else `LINLI_ENV_FILE`, else `.env` in the current directory
if there is one; the environment wins over the file. Telegram-free: may import pydantic-settings,
the bot's core (`conversation`, `records`) and `corpus`.
"""

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.conversation import STALE_MONTHS
from bot.records import user_key
from corpus.paths import BUNDLED_CORPUS

_TOKEN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{30,}$")
_WECHAT_TOKEN = re.compile(r"^[A-Za-z0-9]{3,32}$")
_AES_KEY = re.compile(r"^[A-Za-z0-9+/]{43}$")
_FRAME_SOURCE = re.compile(r"^('self'|'none'|https?://[A-Za-z0-9*.-]+(:[0-9]{1,5})?)$")
ENV_FILE_VARIABLE = "LINLI_ENV_FILE"
DEFAULT_ENV_FILE = Path(".env")


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable and the fix."""


class Settings(BaseSettings):
    """linli's settings; each field is read from the environment variable of the same name."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8",
                                      extra="ignore")

    telegram_bot_token: SecretStr | None = Field(
        default=None, description="the bot's token from @BotFather (secret; needed by `linli run`)")
    telegram_base_url: str | None = Field(
        default=None, description="Bot API base URL ending in /bot, for a local Bot API server "
        "(default: Telegram's own)")
    telegram_base_file_url: str | None = Field(
        default=None,
        description="Bot API file URL ending in /file/bot, for a local Bot API server")
    linli_admin_ids: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(), description="Telegram user ids of the admins, comma-separated")
    linli_corpus_dir: Path = Field(
        default=BUNDLED_CORPUS, description="folder of article files (default: the bundled corpus)")
    linli_data_dir: Path = Field(
        default=Path(platformdirs.user_data_dir("linli")),
        description="folder for the index, the records database and the heartbeat "
        "(default: a per-user data folder)")
    linli_webhook_secret: SecretStr | None = Field(
        default=None, description="secret token Telegram sends with each webhook call "
        "(webhook mode; generated if unset)")
    linli_user_key: SecretStr | None = Field(
        default=None, description="secret key of the user-id hashes in the records "
        "(default: derived from TELEGRAM_BOT_TOKEN)")
    linli_log_format: Literal["text", "json"] = Field(
        default="text", description="log line format: text or json")
    linli_log_questions: bool = Field(
        default=False, description="log the text of each question at INFO level")
    linli_answer_threshold: float | None = Field(
        default=None, ge=0.0, le=1.0, description="confidence (0 to 1) at which the bot answers; "
        "below it the closest match is shown as possibly related (default: the fitted gate's "
        "threshold in retrieval/data/gate.json)")
    linli_stale_months: int = Field(
        default=STALE_MONTHS, ge=1, description="months after which an answer says its article "
        "may be out of date")
    linli_import_allow_hosts: Annotated[frozenset[str], NoDecode] = Field(
        default=frozenset(), description="host names `/import` and `linli import` may fetch "
        "even at an internal address (an intranet site), comma-separated; other internal "
        "addresses are refused")
    linli_staff_source: str = Field(
        default="社区服务中心", min_length=1, description="the source cited on staff answers "
        "(the district's name for them, e.g. 管城区社区服务中心)")
    linli_notify_days: int = Field(
        default=30, ge=1, description="days a resident's chat id is kept for 有答复时通知我 "
        "before it is deleted unanswered")
    linli_web_embed_origins: str = Field(
        default="'self'", description="sites allowed to show the web chat page in a frame "
        "(CSP frame-ancestors), space-separated, e.g. 'self' https://www.example.gov.cn")
    linli_web_trusted_proxies: Annotated[frozenset[str], NoDecode] = Field(
        default=frozenset({"127.0.0.1", "::1"}), description="addresses of the reverse proxies "
        "whose X-Real-IP header names the client (for the web page's rate limit), "
        "comma-separated")
    linli_wechat_token: SecretStr | None = Field(
        default=None, description="the Token of the WeChat official account's server settings "
        "(secret; turns on /wechat)")
    linli_wechat_app_id: SecretStr | None = Field(
        default=None, description="the official account's AppID (needed in safe mode)")
    linli_wechat_aes_key: SecretStr | None = Field(
        default=None, description="the EncodingAESKey, 43 characters (secret; safe mode)")
    _env_file: Path | None = PrivateAttr(default=None)

    @field_validator("linli_web_embed_origins")
    @classmethod
    def _origins_are_csp_sources(cls, value: str) -> str:
        sources = value.split()
        bad = [s for s in sources if not _FRAME_SOURCE.match(s)]
        if bad or not sources:
            raise ValueError(f"'{bad[0] if bad else value}' is not a site to allow; write "
                             "'self' and addresses like https://www.example.gov.cn, "
                             "separated by spaces")
        return " ".join(sources)

    @field_validator("linli_web_trusted_proxies", mode="before")
    @classmethod
    def _comma_separated_addresses(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        return frozenset(p.strip() for p in value.split(",") if p.strip())

    @field_validator("linli_wechat_token")
    @classmethod
    def _wechat_token_as_wechat_takes_it(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WECHAT_TOKEN.match(value.get_secret_value().strip()):
            raise ValueError("is not a WeChat Token (3 to 32 letters and digits, as typed in "
                             "the official account's server settings)")
        return value

    @field_validator("linli_wechat_aes_key")
    @classmethod
    def _aes_key_is_43_characters(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _AES_KEY.match(value.get_secret_value().strip()):
            raise ValueError("is not an EncodingAESKey (43 letters and digits, as the "
                             "official account's server settings generate it)")
        return value

    @field_validator("linli_answer_threshold", mode="before")
    @classmethod
    def _empty_threshold_is_the_default(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_looks_like_a_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TOKEN.match(value.get_secret_value().strip()):
            raise ValueError("is not a bot token (digits, a colon, then 30+ letters, "
                             "as @BotFather gives it)")
        return value

    @field_validator("linli_import_allow_hosts", mode="before")
    @classmethod
    def _comma_separated_hosts(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        return frozenset(h.strip().lower() for h in value.split(",") if h.strip())

    @field_validator("linli_admin_ids", mode="before")
    @classmethod
    def _comma_separated_ids(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        ids = set()
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            if not part.lstrip("-").isdigit():
                raise ValueError(f"'{part}' is not a Telegram user id (a number); "
                                 "write ids separated by commas, e.g. 12345,67890")
            ids.add(int(part))
        return frozenset(ids)

    @property
    def env_file(self) -> Path | None:
        """The settings file that was read (absolute), or None: the environment only."""
        return self._env_file

    @property
    def index_dir(self) -> Path:
        """Where the saved index lives."""
        return self.linli_data_dir / "index"

    @property
    def database_path(self) -> Path:
        """Where the records database lives."""
        return self.linli_data_dir / "linli.sqlite3"

    def token(self) -> str:
        """Return the bot token, or raise `SettingsError` naming the variable."""
        if self.telegram_bot_token is None:
            raise SettingsError("TELEGRAM_BOT_TOKEN is not set; put the token from @BotFather "
                                "in the environment or in .env")
        return self.telegram_bot_token.get_secret_value().strip()

    def user_key(self) -> bytes:
        """Return the key of the user-id hashes: from LINLI_USER_KEY, else from the token."""
        if self.linli_user_key is not None and self.linli_user_key.get_secret_value().strip():
            return user_key(self.linli_user_key.get_secret_value().strip())
        return user_key(self.token())

    def secrets(self) -> list[str]:
        """The secret values no log line may show."""
        values = [self.telegram_bot_token, self.linli_webhook_secret, self.linli_user_key,
                  self.linli_wechat_token, self.linli_wechat_aes_key]
        return [v.get_secret_value().strip() for v in values
                if v is not None and v.get_secret_value().strip()]


def find_env_file(env_file: Path | None = None) -> Path | None:
    """Return the settings file to read: --env-file, LINLI_ENV_FILE, or ./.env if present."""
    named = env_file or os.environ.get(ENV_FILE_VARIABLE)
    if not named:
        return DEFAULT_ENV_FILE.resolve() if DEFAULT_ENV_FILE.is_file() else None
    path = Path(named)
    if not path.is_file():
        source = "--env-file" if env_file else ENV_FILE_VARIABLE
        raise SettingsError(f"{source}: settings file '{path}' does not exist; "
                            "give the path of an existing file (see deploy/.env.example)")
    return path.resolve()


def load_settings(env_file: Path | None = None, **overrides: object) -> Settings:
    """Read the settings; raise `SettingsError` with one line naming the bad variable."""
    path = find_env_file(env_file)
    try:
        settings = Settings(_env_file=path, **overrides)  # type: ignore[arg-type,call-arg]
    except ValidationError as err:
        raise SettingsError(describe_invalid(err, path)) from None
    settings._env_file = path
    return settings


def describe_invalid(err: ValidationError, env_file: Path | None) -> str:
    """Say which setting is wrong, what its value is and where it came from, and the fix."""
    first = err.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    name = field.upper() or "settings"
    rule = _rule(first)
    if field not in Settings.model_fields:
        return f"{name}: {rule}"
    origin = ("the environment" if name in os.environ or env_file is None
              else str(env_file))
    secret = "SecretStr" in str(Settings.model_fields[field].annotation)
    value = "the value" if secret else f"it is '{first.get('input')}'"  # a secret: never echoed
    return (f"{name}: {rule} ({value} in {origin}); correct it there, or remove it to use the "
            "default (every setting: deploy/README.md, Settings)")


def _rule(error: Any) -> str:
    """Word pydantic's complaint as a rule the value breaks."""
    context = error.get("ctx") or {}
    rules = {"less_than_equal": f"must be at most {context.get('le')}",
             "greater_than_equal": f"must be at least {context.get('ge')}",
             "int_parsing": "is not a whole number", "float_parsing": "is not a number",
             "bool_parsing": "must be true or false",
             "literal_error": f"must be {context.get('expected')}"}
    return rules.get(error["type"], str(error["msg"]).removeprefix("Value error, "))
