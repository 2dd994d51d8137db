"""The daily retention round also seals anew, under their own key, chat ids sealed under the draft key."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from bot.store.models import Subscriber, utcnow
from bot.tips.ciphers import CHAT_IDS, use_cipher
from bot.tips.retention import purge_expired
from bot.tips.sealing import TamperedOrWrongKey


def test_chat_ids_of_the_last_release_are_resealed_under_their_own_key(make_services, sqlite_url):
    svc = make_services(sqlite_url)
    now = utcnow()
    with svc.db.begin() as conn:  # as the last release stored them: under the draft key
        conn.execute(insert(Subscriber), [
            {"key": f"k{i}", "channel": "telegram", "sealed_chat_id": svc.drafts.encrypt_json(f"70000{i}"),
             "audience": "elderly", "county": None, "opted_in": True, "reachable": True, "last_interaction": now,
             "created_at": now, "updated_at": now} for i in range(3)])
    purge_expired(svc)
    own = use_cipher(svc.settings.secret_key, CHAT_IDS).current
    with svc.sessions() as s:
        sealed = list(s.scalars(select(Subscriber.sealed_chat_id).order_by(Subscriber.key)))
    assert [own.decrypt_json(x) for x in sealed] == ["700000", "700001", "700002"]
    for token in sealed:
        with pytest.raises(TamperedOrWrongKey):
            svc.drafts.decrypt_json(token)
    purge_expired(svc)  # a second round leaves them as they are
    with svc.sessions() as s:
        assert list(s.scalars(select(Subscriber.sealed_chat_id).order_by(Subscriber.key))) == sealed
    svc.db.dispose()
