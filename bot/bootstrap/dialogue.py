"""The conversation side: the NLU, the tip service and its flows, pictures and links, the engine."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from bot.bootstrap.keys import subkey
from bot.dialogue.engine import Engine
from bot.dialogue.hints import TopicHints
from bot.dialogue.riskflow import RiskCheckHandler
from bot.dialogue.state import StateRepository
from bot.dialogue.subscribe import SubscribeFlow
from bot.dialogue.verdict import VerdictHandler
from bot.knowledge import KnowledgeBase
from bot.media.links import LinkReader
from bot.media.pictures import PictureReader
from bot.offices import OfficeDirectory
from bot.riskcheck.check import RiskChecker
from bot.riskcheck.reply import render_pasted
from bot.settings import Settings
from bot.store.convrows import ConversationRows
from bot.store.uow import UnitOfWork
from bot.tips.ciphers import CHAT_IDS, DraftCipher, KeyedHasher, use_cipher
from bot.tips.extract import Categories
from bot.tips.flow import TipFlow
from bot.tips.notify import FanOutNotifier, Notifier, NullNotifier, SmtpNotifier, WeComRobotNotifier
from bot.tips.receipts import ReceiptHasher
from bot.tips.service import TipService
from bot.tips.status import StatusFlow
from nlu.base import NLUParser
from nlu.embedded import EmbeddedNLU

if TYPE_CHECKING:
    from nlu.rasa_http import RasaHTTP


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


def build_tips(settings: Settings, offices: OfficeDirectory, risk: RiskChecker, kdf: tuple[int, int],
               categories: Categories | None = None) -> TipService:
    return TipService(
        offices=offices,
        categories=categories or Categories.load(settings.content_dir / "tip_categories.yaml"),
        receipts=ReceiptHasher(subkey(settings.secret_key, "receipt-pepper"), *kdf),
        relay_cipher=DraftCipher(subkey(settings.secret_key, "relay")),
        notifier=build_notifier(settings, offices),
        flagger=lambda text: risk.analyse(text).flag_ids,
    )


def build_nlu(settings: Settings) -> EmbeddedNLU:
    return EmbeddedNLU.load_or_train(settings.nlu_data_dir, settings.data_dir / "cache")


def build_rasa(settings: Settings, *, timeout: float, intents: Iterable[str] | None = None) -> RasaHTTP:
    from nlu.rasa_http import RasaHTTP, resolve_token

    return RasaHTTP(settings.rasa_url, resolve_token(settings.rasa_token, settings.environment), timeout=timeout,
                    intents=intents)


def build_parser(settings: Settings, embedded: EmbeddedNLU, topic_ids: Iterable[str]) -> NLUParser:
    """The embedded model, or Rasa first and the embedded model when it fails (FUNDGUARD_NLU_BACKEND=rasa)."""
    if settings.nlu_backend != "rasa":
        return embedded
    from nlu.rasa_http import FallbackNLU

    return FallbackNLU(build_rasa(settings, timeout=settings.rasa_timeout, intents=topic_ids), embedded)


def build_pictures(settings: Settings, risk: RiskChecker) -> PictureReader | None:
    """The picture reader (OCR) for pictures sent outside a tip, or None when FUNDGUARD_OCR=off."""
    if settings.ocr == "off":
        return None
    from bot.media.ocr import RapidOcrReader

    reader = RapidOcrReader(max_side=settings.ocr_max_side, threads=settings.ocr_threads)
    if settings.ocr == "startup":  # loaded in the background: the first picture does not wait for it
        threading.Thread(target=reader.load, name="ocr-load", daemon=True).start()
    return PictureReader(reader, risk)


def build_engine(settings: Settings, *, nlu: NLUParser, kb: KnowledgeBase, topic_ids: Iterable[str],
                 offices: OfficeDirectory,
                 sessions: sessionmaker[Session], hasher: KeyedHasher, drafts: DraftCipher, risk: RiskChecker,
                 tips: TipService, hints: TopicHints | None = None) -> Engine:
    city = offices.city
    counties = [(o.code, o.area) for o in offices.counties]

    def resolve_county(text: str) -> str | None:
        office = offices.resolve(text)
        return office.code if office is not None and office.code != city.code else None

    hints = hints or TopicHints.load(settings.content_dir / "topic_hints.yaml", topic_ids)
    tip_flow = TipFlow(tips, offices, address_hash=hasher.digest, per_day=settings.tips_per_day,
                       per_address_per_day=settings.tips_per_address_per_day)
    return Engine(
        nlu=nlu,
        knowledge=kb,
        uow_factory=partial(UnitOfWork, sessions),
        keyer=hasher.digest,
        states=StateRepository(drafts, timedelta(minutes=settings.draft_ttl_minutes),
                               rows=ConversationRows.for_engine(sessions.kw["bind"])),
        subscribe=SubscribeFlow(counties, resolve_county, use_cipher(settings.secret_key, CHAT_IDS).encrypt_json),
        riskcheck=RiskCheckHandler(risk, partial(render_pasted, lexicon=risk.lexicon), kb.title),
        verdict=VerdictHandler(risk, kb, offices, hints),
        offices=offices,
        flows={"tip": tip_flow, "status": StatusFlow(tips, lambda address: hasher.digest("ip", address))},
        threshold=settings.nlu_threshold,
        pictures=build_pictures(settings, risk),
        links=LinkReader(fetch=settings.fetch_links, max_bytes=settings.fetch_links_max_bytes,
                         timeout=settings.fetch_links_timeout, allow_private=settings.fetch_links_private),
    )
