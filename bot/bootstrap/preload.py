"""The read-only parts (content, the risk lexicon, the NLU model) loaded once: a preforking server loads them
in its master, and every worker forked from it shares their pages (webhook/serve.py)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.bootstrap.dialogue import build_nlu
from bot.bootstrap.keys import KDF_LIMITS, check_office_keys
from bot.dialogue.hints import TopicHints
from bot.knowledge import KnowledgeBase, load_topic_ids
from bot.offices import OfficeDirectory
from bot.riskcheck.check import RiskChecker
from bot.settings import Settings
from bot.store.db import make_engine, make_session_factory
from bot.tips.extract import Categories
from nlu.embedded import EmbeddedNLU


@dataclass(frozen=True)
class Preloaded:
    offices: OfficeDirectory
    topic_ids: dict[str, str]
    kb: KnowledgeBase
    risk: RiskChecker
    categories: Categories
    hints: TopicHints
    embedded: EmbeddedNLU | None = None

    @classmethod
    def load(cls, settings: Settings, *, with_nlu: bool = False) -> Preloaded:
        content = settings.content_dir
        offices = OfficeDirectory.load(content / "offices.yaml")
        topic_ids = load_topic_ids(content / "spec" / "topics.yaml")
        return cls(offices, topic_ids, KnowledgeBase.load(content, topic_ids, offices.placeholder_values()),
                   RiskChecker.from_file(content / "red_flags.yaml"),
                   Categories.load(content / "tip_categories.yaml"),
                   TopicHints.load(content / "topic_hints.yaml", topic_ids),
                   build_nlu(settings) if with_nlu else None)


def ensure_keys(settings: Settings, offices: OfficeDirectory) -> None:
    """Outside production, make missing development keys once, before several workers start."""
    if settings.environment == "production":
        return
    db = make_engine(settings.database_url)
    try:
        check_office_keys(make_session_factory(db), offices, production=False, serving=False,
                          kdf=KDF_LIMITS[settings.kdf_strength])
    finally:
        db.dispose()
