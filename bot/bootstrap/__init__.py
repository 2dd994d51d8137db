"""The composition root: the one place that builds every part and hands each its dependencies.

Called once at start-up (the web app's lifespan, each CLI command, the campaign worker), never at import
time and never on a first request. Nothing under bot/channels, bot/campaigns, bot/staff, bot/tips or
bot/dialogue imports this package: they are given their parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine as SqlEngine
from sqlalchemy.orm import Session, sessionmaker

from bot.bootstrap.channels import build_senders, build_telegram, build_wechat, telegram_parts
from bot.bootstrap.dialogue import build_engine, build_nlu, build_parser, build_tips
from bot.bootstrap.keys import KDF_LIMITS, check_office_keys, subkey
from bot.bootstrap.preload import Preloaded, ensure_keys
from bot.channels.base import Sender
from bot.cpus import worker_cpu
from bot.dialogue.engine import Engine
from bot.dialogue.turns import TurnRunner
from bot.knowledge import KnowledgeBase
from bot.offices import OfficeDirectory
from bot.riskcheck.check import RiskChecker
from bot.settings import Settings
from bot.staff.accounts import StaffDirectory
from bot.staff.auth import Authenticator
from bot.staff.credentials import password_hasher
from bot.staff.kit import StaffKit
from bot.staff.labels import Labels, use_zone
from bot.staff.sessions import SessionStore
from bot.store.db import make_engine, make_session_factory
from bot.store.dedupe import InboundDeduper
from bot.store.uow import UnitOfWork
from bot.tips.ciphers import DraftCipher, KeyedHasher
from bot.tips.service import TipService
from nlu.base import NLUParser
from nlu.embedded import EmbeddedNLU

if TYPE_CHECKING:
    from bot.channels.telegram.app import TelegramParts, TelegramWebhook
    from bot.channels.wechat.gateway import WeChatGateway

__all__ = ["KDF_LIMITS", "Preloaded", "Services", "bootstrap", "build_nlu", "ensure_keys", "subkey"]


@dataclass
class Conversation:
    """The talking side, present when the app serves people (not for the office commands)."""

    nlu: NLUParser
    embedded: EmbeddedNLU
    engine: Engine
    turns: TurnRunner  # the engine for async callers: turns in a bounded pool of threads
    wechat: WeChatGateway | None = None
    telegram: TelegramParts | None = None
    telegram_webhook: TelegramWebhook | None = None


@dataclass
class Services:
    settings: Settings
    db: SqlEngine
    sessions: sessionmaker[Session]
    knowledge: KnowledgeBase
    offices: OfficeDirectory
    hasher: KeyedHasher
    drafts: DraftCipher
    risk: RiskChecker
    tips: TipService
    deduper: InboundDeduper
    staff: StaffKit
    senders: dict[str, Sender] = field(default_factory=dict)  # push-capable channels by name, when configured
    talk: Conversation | None = None

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)

    @property
    def engine(self) -> Engine | None:
        return self.talk.engine if self.talk is not None else None

    @property
    def turns(self) -> TurnRunner | None:
        return self.talk.turns if self.talk is not None else None

    @property
    def nlu(self) -> NLUParser | None:
        return self.talk.nlu if self.talk is not None else None

    @property
    def embedded(self) -> EmbeddedNLU | None:
        return self.talk.embedded if self.talk is not None else None


def bootstrap(
    settings: Settings | None = None, *, nlu: NLUParser | None = None, embedded: EmbeddedNLU | None = None,
    with_engine: bool = True, preloaded: Preloaded | None = None,
) -> Services:
    """Wire everything; `with_engine=False` (office commands) skips the NLU, the engine and the channels."""
    settings = settings or Settings()
    settings.ensure_dirs()
    use_zone(settings.timezone)  # every time shown to staff (console, exports, CLI) in this one zone
    parts = preloaded or Preloaded.load(settings)  # a preforking server loaded them once, before the fork
    services = _core(settings, parts, serving=with_engine)
    if with_engine:
        services.talk = _conversation(services, parts, nlu, embedded)
    return services


def _core(settings: Settings, parts: Preloaded, *, serving: bool) -> Services:
    db = make_engine(settings.database_url)
    sessions = make_session_factory(db)
    offices, kb, risk = parts.offices, parts.kb, parts.risk
    hasher = KeyedHasher(subkey(settings.secret_key, "keyed-hash"))
    drafts = DraftCipher(subkey(settings.secret_key, "draft"))
    kdf = KDF_LIMITS[settings.kdf_strength]
    check_office_keys(sessions, offices, production=settings.environment == "production", serving=serving, kdf=kdf)
    staff = staff_kit(settings, offices, hasher)
    return Services(settings, db, sessions, kb, offices, hasher, drafts, risk,
                    tips=build_tips(settings, offices, risk, kdf, parts.categories),
                    deduper=InboundDeduper(sessions, hasher.digest),
                    staff=staff, senders=build_senders(settings, sessions, hasher))


def staff_kit(settings: Settings, offices: OfficeDirectory, hasher: KeyedHasher) -> StaffKit:
    strength = "moderate" if settings.environment == "production" else settings.kdf_strength
    directory = StaffDirectory(offices, password_hasher(strength),
                               DraftCipher(subkey(settings.secret_key, "staff-totp")))
    return StaffKit(directory=directory, auth=Authenticator(directory, hasher.digest),
                    sessions=SessionStore(hasher.digest), labels=Labels.load(offices, settings.content_dir),
                    city_code=offices.city.code)


def _conversation(s: Services, parts: Preloaded, nlu: NLUParser | None,
                  embedded: EmbeddedNLU | None) -> Conversation:
    settings = s.settings
    topic_ids = parts.topic_ids
    embedded = embedded or parts.embedded or build_nlu(settings)
    parser = nlu or build_parser(settings, embedded, topic_ids)
    engine = build_engine(settings, nlu=parser, kb=s.knowledge, topic_ids=topic_ids, offices=s.offices,
                          sessions=s.sessions, hasher=s.hasher, drafts=s.drafts, risk=s.risk, tips=s.tips,
                          hints=parts.hints)
    turns = TurnRunner(engine, settings.turn_threads, cpu=worker_cpu(settings.pin_cpus))
    wechat = build_wechat(settings, engine=engine, turns=turns, sessions=s.sessions, hasher=s.hasher,
                          deduper=s.deduper, offices=s.offices, client=s.senders.get("wechat"))
    telegram = telegram_parts(settings, turns=turns, sessions=s.sessions, hasher=s.hasher,
                              deduper=s.deduper) if settings.telegram_token else None
    return Conversation(parser, embedded, engine, turns, wechat, telegram, build_telegram(settings, telegram))
