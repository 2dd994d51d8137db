"""Point 2: with a dump of the database and FUNDGUARD_SECRET_KEY (the app server's own view), a tip cannot be
joined to the chat or the subscriber that filed it, and abandoned drafts are erased after their expiry.

The attack is the penetration test's: decrypt every subscriber's chat id with the draft key, recompute every
keyed hash an identity has, and look for any of them (or any conversation key) anywhere on the tip side."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import inspect, select, text, update

from bot.bootstrap import subkey
from bot.messages import Inbound
from bot.store.models import Conversation, RateEvent, Subscriber, Tip, utcnow
from bot.tips.ciphers import CHAT_IDS, DraftCipher, KeyedHasher, use_cipher
from bot.tips.drafts import purge_stale_drafts
from bot.tips.retention import purge_drafts

TIPSTER = "424242"
NAME_PHONE = "王五 13700001111"
TIP_TABLES = ("tips", "tip_seals", "tip_events", "tip_cases", "audit_log")


def _say(svc, user: str, text_: str):  # type: ignore[no-untyped-def]
    return svc.engine.handle(Inbound(channel="telegram", user=user, text=text_))


def _file(svc, user: str) -> str:  # type: ignore[no-untyped-def]
    answers = {"region": "石泉县", "subject": "鑫盛祥瑞农业合作社", "description": "保本保息每月返息三分，拉人头有奖",
               "amount": "跳过", "participants": "跳过", "evidence": "跳过", "contact": NAME_PHONE, "confirm": "确认"}
    result = _say(svc, user, "我要举报")
    while result.expects:
        result = _say(svc, user, answers[result.expects])
    assert result.receipt
    return result.receipt


def _dump(svc, tables) -> list[str]:  # type: ignore[no-untyped-def]
    """Every value of every row of these tables, as text (what a dump shows)."""
    out = []
    with svc.db.connect() as conn:
        for table in tables:
            for row in conn.execute(text(f"select * from {table}")):  # noqa: S608 - fixed table names
                out += [v.hex() if isinstance(v, bytes | memoryview) else str(v) for v in row]
    return out


def test_a_dump_plus_the_secret_cannot_join_a_tip_to_its_chat_or_subscriber(services):
    svc = services
    for said in ("订阅防骗提醒", "老年人", "全市都要"):
        _say(svc, TIPSTER, said)
    _file(svc, TIPSTER)
    # The attacker's view: every identity the subscribers table reveals, and every keyed hash of it.
    secret = svc.settings.secret_key
    hasher = KeyedHasher(subkey(secret, "keyed-hash"))
    with svc.uow() as uow:
        subs = [(s.key, s.sealed_chat_id) for s in uow.session.scalars(select(Subscriber))]
        conversations = [c.key for c in uow.session.scalars(select(Conversation))]
        tip_id, handle = uow.session.execute(select(Tip.id, Tip.handle)).one()
        hour_events = [e.created_at for e in uow.session.scalars(select(RateEvent).where(RateEvent.bucket == "tip"))]
    chat_ids = {str(use_cipher(secret, CHAT_IDS).decrypt_json(sealed)) for _, sealed in subs}
    assert TIPSTER in chat_ids  # the subscriber's chat id is readable with the secret (pushes need it)
    linkable = {k for k, _ in subs} | set(conversations) | chat_ids
    for chat in chat_ids:
        for kind in ("chat", "ip", "tip", "telegram", "staff-login"):
            linkable |= {hasher.digest(kind, f"telegram:{chat}"), hasher.digest(kind, chat)}
    tip_side = set(_dump(svc, TIP_TABLES))
    assert not linkable & tip_side
    assert "chat_key" not in {c["name"] for c in inspect(svc.db).get_columns("tips")}
    assert handle and len(handle) == 32
    # Nothing in a conversation names the tip it filed, and the tip's count is kept to the hour only.
    with svc.uow() as uow:
        states = [(c.data or {}, c.sealed) for c in uow.session.scalars(select(Conversation))]
    assert all(tip_id not in data.values() and "filed" not in data and sealed is None for data, sealed in states)
    assert all(t.minute == 0 and t.second == 0 for t in hour_events)


def test_abandoned_drafts_are_erased_after_the_draft_ttl(services):
    svc = services
    story = ("我要举报", "石泉县", "某某合作社", "保本保息每月返息三分，拉人头有奖", "跳过", "跳过", "跳过", NAME_PHONE)
    for said in story:
        _say(svc, "quitter", said)
    key = svc.engine.conversation_key(Inbound(channel="telegram", user="quitter"))
    drafts = DraftCipher(subkey(svc.settings.secret_key, "draft"))
    with svc.uow() as uow:
        sealed = uow.session.get(Conversation, key).sealed
    assert NAME_PHONE in str(drafts.decrypt_json(sealed))  # the draft is there while it is fresh
    assert purge_drafts(svc) == 0
    assert svc.settings.draft_ttl_minutes == 30
    with svc.uow() as uow:
        uow.session.execute(update(Conversation).where(Conversation.key == key)
                            .values(updated_at=utcnow() - timedelta(minutes=31)))
        uow.commit()
    assert purge_drafts(svc) == 1
    with svc.uow() as uow:
        row = uow.session.get(Conversation, key)
        assert (row.sealed, row.flow, row.step) == (None, None, None)
        assert purge_stale_drafts(uow.session, timedelta(minutes=30)) == 0


def test_the_security_migration_goes_down_and_up_with_tips_in_it(services):
    from alembic import command
    from alembic.config import Config

    from bot.store.db import MIGRATIONS_DIR

    _file(services, "migrating")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", services.settings.database_url)
    cfg.attributes["configure_logger"] = False
    services.db.dispose()
    command.downgrade(cfg, "0004")
    columns = {c["name"] for c in inspect(services.db).get_columns("tips")}
    assert "chat_key" in columns and "handle" not in columns
    command.upgrade(cfg, "head")
    with services.uow() as uow:
        handles = list(uow.session.scalars(select(Tip.handle)))
    assert len(handles) == 1 and len(handles[0]) == 32
    assert "chat_key" not in {c["name"] for c in inspect(services.db).get_columns("tips")}
