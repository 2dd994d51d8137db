"""Replying to a tipster through the bot, without ever seeing who they are.

The reply is kept for the receipt (the tipster sees it at the next 查询 + code). When the key is
unlocked and the tip came from a channel that can push (WeChat, Telegram), it is also pushed to the
chat that filed it; the chat id is opened in memory only for that and never shown.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from bot.messages import Outbound
from bot.store.models import AuditEntry, TipEvent
from bot.tips import casework, opening
from webhook.console.context import PATH, Console, ConsoleRoute, Ctx
from webhook.console.routes_tips import TipId, _workable

router = APIRouter(prefix=PATH, route_class=ConsoleRoute, include_in_schema=False)
log = logging.getLogger(__name__)
PREFIX = "处非办给您的留言："


def _record(ctx: Ctx, tip_id: int, text: str) -> tuple[int, tuple[str, str] | None] | str:
    """Store the reply; return (event id, push target) or an error message."""
    tip = _workable(ctx, tip_id)
    try:
        event = casework.reply(ctx.session, ctx.services.tips, tip, text, ctx.actor)
    except casework.CaseError as exc:
        ctx.session.rollback()
        return str(exc)
    target = None
    key = ctx.key()
    if key is not None and tip.channel in ctx.services.senders:
        target = opening.relay_target(ctx.session, tip, key, ctx.staff.office_code)
    ctx.session.commit()
    return event.id, target


def _delivered(ctx: Ctx, event_id: int, tip_id: int) -> None:
    event = ctx.session.get(TipEvent, event_id)
    if event is not None:
        event.delivered = True
        ctx.session.add(AuditEntry(actor=ctx.actor, action="reply_pushed", tip_id=tip_id))
        ctx.session.commit()


@router.post("/tips/{tip_id}/reply")
async def reply(tip_id: TipId, ctx: Ctx = Console, text: Annotated[str, Form(max_length=4000)] = "") -> Response:
    """Send a message to the tipster: pushed to their chat where possible, else shown at the receipt check."""
    back = RedirectResponse(f"{PATH}/tips/{tip_id}", 303)
    outcome = await run_in_threadpool(_record, ctx, tip_id, text)
    if isinstance(outcome, str):
        ctx.flash(outcome, "error")
        return back
    event_id, target = outcome
    if target is not None:
        channel, chat_id = target
        try:
            result = await ctx.services.senders[channel].send(chat_id, [Outbound(text=PREFIX + text.strip())])
        except Exception as exc:  # the reply stays queued for the receipt check
            log.warning("reply push failed", extra={"tip_id": tip_id, "error_type": type(exc).__name__})
            result = None
        if result is not None and result.ok:
            await run_in_threadpool(_delivered, ctx, event_id, tip_id)
            ctx.flash("回复已发送到举报人的对话。")
            return back
    ctx.flash("回复已保存：举报人下次用回执码查询时会看到。")
    return back
