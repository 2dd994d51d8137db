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
from bot.staff import tipdesk
from webhook.console.context import PATH, Console, ConsoleRoute, Ctx
from webhook.console.routes_tips import TipId

router = APIRouter(prefix=PATH, route_class=ConsoleRoute, include_in_schema=False)
log = logging.getLogger(__name__)
PREFIX = "处非办给您的留言："


@router.post("/tips/{tip_id}/reply")
async def reply(tip_id: TipId, ctx: Ctx = Console, text: Annotated[str, Form(max_length=4000)] = "") -> Response:
    """Send a message to the tipster: pushed to their chat where possible, else shown at the receipt check."""
    back = RedirectResponse(f"{PATH}/tips/{tip_id}", 303)
    senders = ctx.services.senders
    outcome = await run_in_threadpool(tipdesk.record_reply, ctx.desk, ctx.services.tips, tip_id, text, senders)
    if isinstance(outcome, str):
        ctx.flash(outcome, "error")
        return back
    event_id, target = outcome
    if target is not None:
        channel, chat_id = target
        try:
            result = await senders[channel].send(chat_id, [Outbound(text=PREFIX + text.strip())])
        except Exception as exc:  # the reply stays queued for the receipt check
            log.warning("reply push failed", extra={"tip_id": tip_id, "error_type": type(exc).__name__})
            result = None
        if result is not None and result.ok:
            await run_in_threadpool(tipdesk.reply_delivered, ctx.desk, event_id, tip_id)
            ctx.flash("回复已发送到举报人的对话。")
            return back
    ctx.flash("回复已保存：举报人下次用回执码查询时会看到。")
    return back
