"""The one place that wires concrete parts together. Called at start-up, never at import time."""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

import nacl.pwhash
from sqlalchemy import Engine as SqlEngine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Sender
from bot.dialogue.engine import Engine
from bot.dialogue.riskflow import RiskCheckHandler
from bot.dialogue.state import StateRepository
from bot.dialogue.subscribe import SubscribeFlow
from bot.dialogue.verdict import TopicHints, VerdictHandler
from bot.knowledge import KnowledgeBase, load_topic_ids
from bot.media.links import LinkReader
from bot.offices import OfficeDirectory
from bot.riskcheck.check import RiskChecker
from bot.riskcheck.reply import render_pasted
from bot.settings import Settings
from bot.staff.labels import use_zone
from bot.store.db import make_engine, make_session_factory
from bot.store.dedupe import InboundDeduper
from bot.store.uow import UnitOfWork
from bot.tips.extract import Categories
from bot.tips.flow import TipFlow
from bot.tips.keys import ensure_development_keys, refuse_development_keys
from bot.tips.notify import FanOutNotifier, Notifier, NullNotifier, SmtpNotifier, WeComRobotNotifier
from bot.tips.receipts import ReceiptHasher
from bot.tips.sealing import DraftCipher, KeyedHasher
from bot.tips.service import TipService
from bot.tips.status import StatusFlow
from nlu.base import NLUParser
from nlu.embedded import EmbeddedNLU

if TYPE_CHECKING:
    from bot.media.pictures import PictureReader

log = logging.getLogger(__name__)


def subkey(secret: str, purpose: str) -> bytes:
    """A 32-byte key for one purpose, derived from the app secret."""
    return hashlib.blake2b(secret.encode(), key=purpose.encode()[:64], digest_size=32).digest()


@dataclass
class Services:
    settings: Settings
    db: SqlEngine
    sessions: sessionmaker[Session]
    knowledge: KnowledgeBase
    offices: OfficeDirectory
    nlu: NLUParser | None
    embedded: EmbeddedNLU | None
    hasher: KeyedHasher
    drafts: DraftCipher
    risk: RiskChecker
    tips: TipService
    engine: Engine | None
    # Push-capable channels by name ("wechat", "telegram"), filled by build_senders when configured.
    senders: dict[str, Sender] = field(default_factory=dict)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)

    @property
    def deduper(self) -> InboundDeduper:
        return InboundDeduper(self.sessions, self.hasher.digest)


KDF_LIMITS = {
    "moderate": (nacl.pwhash.argon2id.OPSLIMIT_MODERATE, nacl.pwhash.argon2id.MEMLIMIT_MODERATE),
    "interactive": (nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE, nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE),
    "min": (nacl.pwhash.argon2id.OPSLIMIT_MIN, nacl.pwhash.argon2id.MEMLIMIT_MIN),
}


def build_notifier(settings: Settings, offices: OfficeDirectory) -> Notifier:
    notifiers: list[Notifier] = []
    if settings.notify_wecom_url:
        notifiers.append(WeComRobotNotifier(settings.notify_wecom_url))
    if settings.notify_smtp_host:
        to = [a.strip() for a in settings.notify_smtp_to.split(",") if a.strip()] or [offices.city.contacts.email]
        notifiers.append(SmtpNotifier(settings.notify_smtp_host, settings.notify_smtp_port, settings.notify_smtp_from,
                                      to, starttls=settings.notify_smtp_starttls,
                                      username=settings.notify_smtp_username,
                                      password=settings.notify_smtp_password))
    return FanOutNotifier(notifiers) if notifiers else NullNotifier()


def _development_keys(sessions: sessionmaker[Session], offices: OfficeDirectory, ops: int, mem: int) -> None:
    """Make missing development keys; several workers starting at once may race, the first one wins."""
    try:
        with UnitOfWork(sessions) as uow:
            ensure_development_keys(uow.session, offices, ops, mem)
            uow.commit()
    except IntegrityError:
        log.info("development keys were made by another process")


def build_nlu(settings: Settings) -> EmbeddedNLU:
    return EmbeddedNLU.load_or_train(settings.nlu_data_dir, settings.data_dir / "cache")


def bootstrap(
    settings: Settings | None = None, *, nlu: NLUParser | None = None, embedded: EmbeddedNLU | None = None,
    with_engine: bool = True,
) -> Services:
    """Wire everything; `with_engine=False` (office commands) skips the NLU and the engine."""
    settings = settings or Settings()
    settings.ensure_dirs()
    use_zone(settings.timezone)  # every time shown to staff (console, exports, CLI) in this one zone
    db = make_engine(settings.database_url)
    sessions = make_session_factory(db)
    offices = OfficeDirectory.load(settings.content_dir / "offices.yaml")
    city = offices.city
    values = offices.placeholder_values()
    topic_ids = load_topic_ids(settings.content_dir / "spec" / "topics.yaml")
    kb = KnowledgeBase.load(settings.content_dir, topic_ids, values)
    hasher = KeyedHasher(subkey(settings.secret_key, "keyed-hash"))
    drafts = DraftCipher(subkey(settings.secret_key, "draft"))
    risk = RiskChecker.from_file(settings.content_dir / "red_flags.yaml")
    ops, mem = KDF_LIMITS[settings.kdf_strength]
    if settings.environment != "production":
        _development_keys(sessions, offices, ops, mem)
    elif with_engine:  # serving (not the office commands that replace such keys)
        with UnitOfWork(sessions) as uow:
            refuse_development_keys(uow.session)
    tips = TipService(
        offices=offices,
        categories=Categories.load(settings.content_dir / "tip_categories.yaml"),
        receipts=ReceiptHasher(subkey(settings.secret_key, "receipt-pepper"), ops, mem),
        relay_cipher=DraftCipher(subkey(settings.secret_key, "relay")),
        notifier=build_notifier(settings, offices),
        flagger=lambda text: risk.analyse(text).flag_ids,
    )

    def hash_address(address: str) -> str:
        return hasher.digest("ip", address)

    tip_flow = TipFlow(tips, offices, per_day=settings.tips_per_day,
                       per_address_per_day=settings.tips_per_address_per_day)
    tip_flow.service_hash = hasher.digest
    counties = [(o.code, o.area) for o in offices.counties]

    def resolve_county(text: str) -> str | None:
        office = offices.resolve(text)
        return office.code if office is not None and office.code != city.code else None

    if not with_engine:
        services = Services(settings, db, sessions, kb, offices, None, None, hasher, drafts, risk, tips, None)
        services.senders = build_senders(services)
        return services
    embedded = embedded or build_nlu(settings)
    parser: NLUParser = nlu or embedded
    if nlu is None and settings.nlu_backend == "rasa":  # Rasa first, the embedded model when it fails
        from nlu.rasa_http import FallbackNLU, RasaHTTP, resolve_token

        rasa = RasaHTTP(settings.rasa_url, resolve_token(settings.rasa_token, settings.environment),
                        timeout=settings.rasa_timeout, intents=topic_ids)
        parser = FallbackNLU(rasa, embedded)
    hints = TopicHints.load(settings.content_dir / "topic_hints.yaml", topic_ids)
    engine = Engine(
        nlu=parser,
        knowledge=kb,
        uow_factory=partial(UnitOfWork, sessions),
        keyer=hasher.digest,
        states=StateRepository(drafts, timedelta(minutes=settings.draft_ttl_minutes)),
        subscribe=SubscribeFlow(counties, resolve_county, lambda chat_id: drafts.encrypt_json(chat_id)),
        riskcheck=RiskCheckHandler(risk, partial(render_pasted, lexicon=risk.lexicon), kb.title),
        verdict=VerdictHandler(risk, kb, offices, hints),
        offices=offices,
        tip=tip_flow, status=StatusFlow(tips, hash_address),
        threshold=settings.nlu_threshold,
        pictures=build_pictures(settings, risk),
        links=LinkReader(fetch=settings.fetch_links, max_bytes=settings.fetch_links_max_bytes,
                         timeout=settings.fetch_links_timeout, allow_private=settings.fetch_links_private),
    )
    services = Services(settings, db, sessions, kb, offices, parser, embedded, hasher, drafts, risk, tips, engine)
    services.senders = build_senders(services)
    return services


def build_pictures(settings: Settings, risk: RiskChecker) -> PictureReader | None:
    """The picture reader (OCR) for pictures sent outside a tip, or None when FUNDGUARD_OCR=off."""
    if settings.ocr == "off":
        return None
    from bot.media.ocr import RapidOcrReader
    from bot.media.pictures import PictureReader

    reader = RapidOcrReader(max_side=settings.ocr_max_side, threads=settings.ocr_threads)
    if settings.ocr == "startup":  # loaded in the background: the first picture does not wait for it
        threading.Thread(target=reader.load, name="ocr-load", daemon=True).start()
    return PictureReader(reader, risk)


def build_senders(services: Services) -> dict[str, Sender]:
    """The push-capable channels that are configured. Each channel adds its branch here."""
    senders: dict[str, Sender] = {}
    # --- channel senders (one branch per channel; keep imports inside the branch) ---
    if services.settings.telegram_token:
        from bot.channels.telegram.sender import build_sender as telegram_sender

        senders["telegram"] = telegram_sender(services)
    if services.settings.wechat_app_id:
        from bot.channels.wechat.client import WeChatClient

        senders["wechat"] = WeChatClient.from_services(services)
    return senders
