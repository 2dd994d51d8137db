"""Checking a tip by its receipt code, from any chat and without identity; adding information.

    查询 + code ─► status (+ office replies) ─► menu ─(补充材料)─► add ─(text or image)─► done
                                                     ─(我看到了)─► replies marked seen ─► menu
    查询 alone ─► code ─(the code)─► status …
Every look-up is counted per conversation and per address (each costs an Argon2 run, done off the event
loop), and so are wrong codes; all are reserved before the code is hashed. The answer never says more
than "not found".
An office's message is shown on every check until the person says they saw it (a lost page or a
missed message does not lose it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from bot.dialogue.context import Ctx, turn
from bot.messages import Turn
from bot.store.models import Tip, TipEvent
from bot.store.ratelimit import RateLimiter
from bot.tips.receipts import canonical_receipt
from bot.tips.service import STATUS_LABELS, TipService, image_payload

TOPIC = "report_status"
ADD = "补充材料"
SEEN = "我看到了"
SEEN_WORDS = frozenset({SEEN, "看到了", "我已看到", "已看到", "收到", "收到了", "知道了", "已读"})
WINDOW = timedelta(hours=1)


class StatusFlow:
    def __init__(self, service: TipService, hash_address: Callable[[str], str], *, failures_per_hour: int = 5,
                 failures_per_address_per_hour: int = 20, lookups_per_hour: int = 12,
                 lookups_per_address_per_hour: int = 60) -> None:
        self.service = service
        self._hash_address = hash_address
        self.limit = failures_per_hour
        self.address_limit = failures_per_address_per_hour
        self.lookups = lookups_per_hour
        self.address_lookups = lookups_per_address_per_hour

    @staticmethod
    def has_code(text: str) -> bool:
        return canonical_receipt(text) is not None

    def start(self, ctx: Ctx, confidence: float = 1.0) -> Turn:
        code = canonical_receipt(ctx.text)
        if code is None:
            ctx.state.enter("status", "code")
            return turn("请发送您的回执码（20位字母数字，形如 ABCDE-FGHJK-MNPQR-STVWX）。", TOPIC,
                        confidence=confidence)
        return self._lookup(ctx, code, confidence)

    def step(self, ctx: Ctx) -> Turn | None:
        step = ctx.state.step
        if step == "code":
            code = canonical_receipt(ctx.text)
            if code is None:
                ctx.state.leave()
                return None
            return self._lookup(ctx, code)
        if step == "menu":
            if ctx.norm.strip() in (ADD, "补充", "补充信息", "追加"):
                ctx.state.step = "add"
                return turn("请发送要补充的内容：文字或图片都可以。内容同样加密，只有处非办能看到。", TOPIC)
            shown = (ctx.state.secret or {}).get("replies") or []
            tip = self._tip(ctx)
            if shown and tip is not None and ctx.norm.strip(" 。.!！") in SEEN_WORDS:
                self.service.mark_replies_seen(ctx.session, tip, shown)
                ctx.state.secret = {"tip": tip.id}
                return turn("好的，留言已标记为看过，以后查询就不再显示。\n想补充情况或证据，请回复“补充材料”。",
                            TOPIC, buttons=[ADD])
            ctx.state.leave()
            return None
        if step == "add":
            tip = self._tip(ctx)
            if tip is None:
                ctx.state.leave()
                return turn("会话已过期，请重新发送“查询 回执码”。", TOPIC)
            if ctx.msg.kind == "image" and ctx.msg.media:
                self.service.add_information(ctx.session, tip, image=image_payload(ctx.msg.media))
            else:
                self.service.add_information(ctx.session, tip, text=ctx.text)
            ctx.state.leave()
            return turn("已补充到您的举报里，谢谢！处非办会一并核查。", TOPIC, buttons=["我要举报"])
        ctx.state.leave()
        return None

    def _reserve(self, ctx: Ctx, limiter: RateLimiter) -> list[tuple[str, str]] | None:
        """Reserve one look-up and one possible failure, per conversation and per address; None: throttled.

        Returns the failure reservations, given back when the code turns out right."""
        addr = self._hash_address(ctx.msg.address) if ctx.msg.address else None
        wanted = [("receipt_lookup", ctx.key, self.lookups), ("receipt_fail", ctx.key, self.limit)]
        if addr:
            wanted += [("receipt_lookup_ip", addr, self.address_lookups), ("receipt_fail_ip", addr, self.address_limit)]
        taken: list[tuple[str, str]] = []
        for bucket, key, limit in wanted:
            if not limiter.reserve(bucket, key, limit, WINDOW):
                for done in taken:
                    if done[0].startswith("receipt_fail"):
                        limiter.release(*done)
                return None
            taken.append((bucket, key))
        return [t for t in taken if t[0].startswith("receipt_fail")]

    def _lookup(self, ctx: Ctx, code: str, confidence: float = 1.0) -> Turn:
        limiter = RateLimiter(ctx.session)
        failures = self._reserve(ctx, limiter)
        ctx.session.commit()  # counted before the slow hash; the gates are free again meanwhile
        if failures is None:
            ctx.state.leave()
            return turn("查询次数太多了，为保护举报信息，请一小时后再试。", TOPIC, confidence=confidence)
        tip = self.service.find(ctx.session, code)
        if tip is None:
            ctx.state.leave()
            return turn("没有查到这个回执码。请核对后再发一次（注意字母和数字，比如不含0和O）。", TOPIC,
                        confidence=confidence)
        for bucket, key in failures:
            limiter.release(bucket, key)
        ctx.state.enter("status", "menu")
        lines = [self._status_line(ctx, tip)]
        replies = self.service.unseen_replies(ctx.session, tip)
        ctx.state.secret = {"tip": tip.id, "replies": [event_id for event_id, _ in replies]}
        buttons = [ADD, "举报会泄露身份吗"]
        if replies:
            lines.append("\n处非办给您的留言：")
            lines += [f"· {text}" for _, text in replies]
            lines.append("\n看完请回复“我看到了”；不回复的话，下次查询还会显示。")
            buttons = [SEEN, ADD]
        lines.append("\n想补充情况或证据，请回复“补充材料”。")
        return turn("\n".join(lines), TOPIC, buttons=buttons, confidence=confidence)

    @staticmethod
    def _status_line(ctx: Ctx, tip: Tip) -> str:
        """The status; a tip merged into another one (the same matter told twice) follows that one's."""
        merged = ctx.session.scalar(select(TipEvent.detail).where(
            TipEvent.tip_id == tip.id, TipEvent.kind == "merge", TipEvent.detail.like("into:%")).limit(1))
        main = ctx.session.get(Tip, int(merged[5:])) if merged and merged[5:].isdigit() else None
        filed = f"您的举报（{tip.created_at:%Y年%m月%d日}提交）"
        if main is not None:
            return (f"{filed}和其他群众反映的是同一件事，已合并在一起办理，"
                    f"目前状态：{STATUS_LABELS.get(main.status, main.status)}。")
        return f"{filed}目前状态：{STATUS_LABELS.get(tip.status, tip.status)}。"

    def _tip(self, ctx: Ctx) -> Tip | None:
        tip_id = (ctx.state.secret or {}).get("tip")
        return ctx.session.get(Tip, tip_id) if tip_id else None
