"""Settings from the environment (prefix FUNDGUARD_), pydantic-settings style.

Secrets have development defaults so that `make run` works out of the box; outside development
(`FUNDGUARD_ENVIRONMENT=production`) a missing or placeholder secret refuses to start.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-secret-change-me-in-production"
log = logging.getLogger(__name__)


def offices_are_sample(content_dir: Path) -> bool:
    """Whether content/offices.yaml still says `sample: true` (placeholder phones and addresses)."""
    path = content_dir / "offices.yaml"
    if not path.exists():
        return False  # a missing directory is refused where it is loaded, with its own message
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        return False  # not YAML: refused where it is loaded (and named by `fundguard content check`)
    return isinstance(data, dict) and data.get("sample") is True


PLACEHOLDER_WORDS = ("change_me", "changeme", "change-me", "replace_me", "replace-me", "your_secret",
                     "placeholder", "example", "xxxxxx", "secret_key", "dev-only", "password")
MIN_SECRET_BITS = 96  # the secret's length times its per-character Shannon entropy (token_hex(16) ≈ 118)


def entropy_bits(value: str) -> float:
    """Length × Shannon entropy per character: a rough upper bound of the randomness in a secret."""
    if not value:
        return 0.0
    counts = Counter(value)
    per_char = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return per_char * len(value)


def placeholder_reason(value: str, min_length: int = 32, min_bits: float = MIN_SECRET_BITS) -> str | None:
    """Why a secret looks like a placeholder or a weak value (None when it looks random enough)."""
    lowered = value.lower()
    if len(value) < min_length:
        return f"shorter than {min_length} characters"
    if any(word in lowered for word in PLACEHOLDER_WORDS):
        return "it looks like a placeholder (CHANGE_ME, example, ...)"
    if len(set(value)) <= 2:
        return "it is one character repeated"
    if len(set(value)) < 8 or entropy_bits(value) < min_bits:
        return "it has too little randomness"
    return None


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
    # Threads per process that run turns (synchronous: database, NLU, Argon2, OCR) off the event loop.
    turn_threads: int = Field(default=2, ge=1, le=64)  # CPU-bound turns: more threads only contend (bench/chat.py)
    # Keep each worker's event loop and turn threads on one CPU, moved when others crowd it: "" (not pinned), "auto"
    # (where the system can pin a thread) or CPU numbers "0,1". Not set: `fundguard serve` pins when its workers are
    # fewer than the CPUs (bot/cpus.py says when it pays).
    pin_cpus: str = ""
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
    # --- Pictures outside a tip (issue 15): read offline by RapidOCR; off | lazy (first picture) | startup
    ocr: Literal["off", "lazy", "startup"] = "lazy"
    ocr_threads: int = 1        # ONNX Runtime threads per reading (one reading at a time per process)
    ocr_max_side: int = 1600    # pixels: larger pictures are shrunk before reading
    # Links in chat: the page of a shared article or pasted URL is fetched only when this is true
    fetch_links: bool = False
    fetch_links_max_bytes: int = 512 * 1024
    fetch_links_timeout: float = 3.0
    fetch_links_private: bool = False  # allow private / loopback addresses (tests only: an SSRF guard otherwise)
    # --- Telegram (issue 7) ---
    telegram_token: str = ""
    telegram_webhook_secret: str = ""
    telegram_api_base: str = "https://api.telegram.org/bot"
    # --- security (issue 18) ---
    # Minutes after its last message that an unfinished tip draft (and any conversation's sealed state) is erased.
    draft_ttl_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # Who may reveal a real-name tipster's identity: the least role, per office code ("*" for the rest).
    # JSON, e.g. {"*": "supervisor", "hanbin": "handler"}.
    reveal_roles: dict[str, Literal["handler", "supervisor", "admin"]] = {"*": "supervisor"}

    @field_validator("pin_cpus")
    @classmethod
    def _usable_cpus(cls, value: str) -> str:
        from bot.cpus import parse

        parse(value)  # a ValueError says what is wrong
        return value

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
        if self.environment == "production":
            self._refuse_weak_secrets()
        if offices_are_sample(self.content_dir):
            message = (f"{self.content_dir / 'offices.yaml'} is sample data (`sample: true`): its phone numbers, "
                       "e-mails and addresses are placeholders")
            if self.environment == "production":
                raise ValueError(message + ". Put in the offices' real contacts and set `sample: false` "
                                 "before going live.")
            log.warning("%s; replace them and set `sample: false` before going live", message)
        return self

    def _refuse_weak_secrets(self) -> None:
        how = "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
        reason = "it is the development default" if self.secret_key == DEV_SECRET else placeholder_reason(
            self.secret_key)
        if reason:
            raise ValueError(f"FUNDGUARD_SECRET_KEY is refused in production: {reason}. "
                             f"Set a random value of at least 32 characters {how}")
        for name in ("metrics_token", "telegram_webhook_secret"):
            value = getattr(self, name)
            if value and (reason := placeholder_reason(value, min_length=16, min_bits=48)):
                raise ValueError(f"FUNDGUARD_{name.upper()} is refused in production: {reason} {how}")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def ensure_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
