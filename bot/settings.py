"""Settings from the environment (prefix FUNDGUARD_), pydantic-settings style.

Secrets have development defaults so that `make run` works out of the box; outside development
(`FUNDGUARD_ENVIRONMENT=production`) a missing or placeholder secret refuses to start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-secret-change-me-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FUNDGUARD_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("var")
    database_url: str = ""
    nlu_backend: Literal["embedded", "rasa"] = "embedded"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = ""
    rasa_timeout: float = 1.5
    content_dir: Path = REPO_ROOT / "content"
    nlu_data_dir: Path = REPO_ROOT / "nlu" / "rasa" / "data"
    secret_key: str = DEV_SECRET
    log_level: str = "INFO"
    # The NLU's top-1 probability below which the bot asks which topic was meant.
    nlu_threshold: float = 0.32
    redis_url: str = ""
    # When set, /metrics requires `Authorization: Bearer <token>` (Prometheus' bearer_token).
    metrics_token: str = ""
    # Argon2id cost of office keys made at start-up for development, and of receipt hashes.
    kdf_strength: Literal["moderate", "interactive", "min"] = "interactive"
    tip_retention_days: int = 365
    tips_per_day: int = 5
    tips_per_address_per_day: int = 20
    # POST /api/chat: messages a minute per user id and per client address (0: no limit).
    chat_per_user_per_minute: int = 30
    chat_per_address_per_minute: int = 300
    # Proxies whose X-Forwarded-For names the real client (comma-separated IPs or CIDRs, `*` for any);
    # empty: the peer's own address is the client's, and X-Forwarded-For is ignored.
    trusted_proxies: str = ""
    # The time zone of every time shown to staff (console, exports, CLI); stored times are UTC.
    timezone: str = "Asia/Shanghai"
    # The console marks a tip overdue: new and not acted on after this many days, or open and not updated.
    console_first_action_days: int = 3
    console_open_days: int = 30
    notify_wecom_url: str = ""
    notify_smtp_host: str = ""
    notify_smtp_port: int = 25
    notify_smtp_from: str = "fundguard@localhost"
    notify_smtp_to: str = ""  # comma-separated; default: the offices' e-mail addresses
    notify_smtp_starttls: bool = False
    notify_smtp_username: str = ""
    notify_smtp_password: str = ""
    # --- WeChat official account (issue 6) ---
    wechat_token: str = ""
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_aes_key: str = ""  # EncodingAESKey: safe (encrypted) mode when set
    wechat_api_base: str = "https://api.weixin.qq.com/cgi-bin/"
    # Seconds to wait for an answer before replying `success` and sending it as a customer-service message
    # (WeChat gives up after 5 s).
    wechat_reply_budget: float = 4.0
    # --- Telegram (issue 7) ---
    telegram_token: str = ""
    telegram_webhook_secret: str = ""
    telegram_api_base: str = "https://api.telegram.org/bot"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as Asia/Shanghai)") from None
        return value

    @model_validator(mode="after")
    def _defaults_and_secrets(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'fundguard.db').as_posix()}"
        if self.environment == "production" and (
            self.secret_key == DEV_SECRET or len(self.secret_key) < 32
        ):
            raise ValueError(
                "FUNDGUARD_SECRET_KEY must be set to a random value of at least 32 characters "
                "in production (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def ensure_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
