"""Erasing unfinished tip drafts: a conversation's sealed state (a draft with a name and a phone number, or the
tip a receipt check is adding to) is kept only FUNDGUARD_DRAFT_TTL_MINUTES after its last message."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from bot.store.db import affected
from bot.store.models import Conversation, utcnow


def purge_stale_drafts(session: Session, ttl: timedelta) -> int:
    """Clear the sealed state and the open flow of every conversation idle longer than `ttl`; how many."""
    cutoff = utcnow() - ttl
    result = session.execute(
        update(Conversation)
        .where(Conversation.updated_at < cutoff, or_(Conversation.sealed.is_not(None), Conversation.flow.is_not(None)))
        .values(sealed=None, flow=None, step=None)
        .execution_options(synchronize_session=False))
    return affected(result) or 0
