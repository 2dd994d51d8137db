"""A platform message id is handled once, whichever process sees it first."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func, select

from bot.store.models import InboundSeen


def test_first_time_is_true_once_per_id_even_under_concurrency(services) -> None:  # type: ignore[no-untyped-def]
    deduper = services.deduper
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: deduper.first_time("wechat", "msg-1"), range(8)))
    assert results.count(True) == 1
    assert deduper.first_time("telegram", "msg-1") is True  # ids are per channel
    deduper.forget("wechat", "msg-1")
    assert deduper.first_time("wechat", "msg-1") is True


def test_ids_are_stored_hashed_and_pruned(services) -> None:  # type: ignore[no-untyped-def]
    services.deduper.first_time("wechat", "oUSER-42:1700000000")
    with services.uow() as uow:
        keys = list(uow.session.scalars(select(InboundSeen.key)))
        assert keys and all("oUSER" not in k for k in keys)
        assert services.deduper.prune(uow.session, older_than=timedelta(seconds=-1)) == 1
        uow.commit()
        assert uow.session.scalar(select(func.count()).select_from(InboundSeen)) == 0
