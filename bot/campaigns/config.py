"""Campaign dispatch settings (env prefix FUNDGUARD_CAMPAIGN_); the broker URL is FUNDGUARD_REDIS_URL."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class CampaignConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FUNDGUARD_CAMPAIGN_", env_file=".env", extra="ignore")

    # No pushes in this local-time range ("" switches quiet hours off, e.g. for tests).
    quiet_hours: str = "21:00-08:00"
    timezone: str = "Asia/Shanghai"
    # Platform limits, held by every worker together through Redis.
    telegram_rate: float = 30.0    # messages per second, all chats together
    wechat_rate: float = 20.0      # customer-service messages per second (an operator's choice)
    per_chat_seconds: int = 1      # at least this long between two messages to one chat
    burst: int = 3                 # the global limit is counted in slices of `burst` messages
    wechat_window_hours: int = 48  # WeChat customer-service messages only inside this window
    # Keys in Redis (limits, pauses, broker queues) start with this; tests use a unique one.
    redis_prefix: str = "fundguard"
    rabbitmq_url: str = ""         # set to use RabbitMQ as the broker instead of Redis
    # Work layout.
    worker_threads: int = 4
    drains: int = 8                # dispatch actors per campaign and channel (≥ all workers' threads)
    drain_seconds: float = 20.0    # one actor run works this long, then hands over
    max_attempts: int = 3          # failed sends are tried again up to this many times in all
    # Crash recovery: a worker silent for `dead_after` seconds is dead; its claims are in doubt.
    heartbeat_seconds: float = 2.0
    dead_after: float = 15.0
    tick_seconds: float = 2.0      # how often the scheduler looks for due, stalled or finished work
    # A claim whose worker died: "resend" (nobody misses it; a rare duplicate) or "skip" (no duplicate;
    # a rare loss, counted as failed with error "in_doubt").
    in_doubt: Literal["resend", "skip"] = "resend"
    # A piece goes to one person at most once in this many days (`campaign create --force` overrides).
    repeat_days: int = 30
    # WeChat: how a campaign reaches people unless `campaign create --wechat-path` says otherwise:
    # "service" (customer-service messages, 48-hour window), "mass" (群发 by tag), "subscribe" (订阅通知).
    wechat_path: Literal["service", "mass", "subscribe"] = "service"
    wechat_mass_quota: int = 4         # 群发 campaigns a calendar month (a 服务号 reaches a person 4 times)
    wechat_mass_thumb: str = ""        # a JPEG cover (≤ 64 KB): pieces go by 群发 as an article, else as text
    wechat_tag_rate: float = 50.0      # tag API calls a second (batches of 50 openids)
    wechat_tag_sync_seconds: float = 600.0  # workers re-sync WeChat tags this often (0: only before 群发)
    wechat_subscribe_template: str = ""  # the 订阅通知 template id; empty: no subscribe messages
    wechat_subscribe_long_term: bool = False  # a 长期订阅 template (government accounts): no use-up
    # the template's fields: which of them get the piece's title and its one-line summary
    wechat_subscribe_fields: str = "thing1=title,thing2=summary"
