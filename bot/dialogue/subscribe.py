"""The subscribe flow: choose your group among the four target groups or the public, then your county.

    (start) ──► audience ──(group chosen)──► county ──(county or 全市)──► done
                   │ 取消 / a question            │ 取消 / a question
                   └──────────► leave ◄───────────┘
"""

from __future__ import annotations

from collections.abc import Callable

from bot.dialogue.context import Ctx, is_thanks, turn
from bot.messages import Turn
from bot.store.subscribers import AUDIENCES, SubscriberRepository

TOPIC = "subscribe"
CITYWIDE = "全市都要"
_AUDIENCE_WORDS = {
    "elderly": ("老年", "老人", "退休", "老伴", "爸妈", "父母", "大爷", "大妈", "阿姨", "家属"),
    "student": ("学生", "毕业", "大学", "学校", "实习", "研究生"),
    "finance_staff": ("金融", "银行", "代办", "信用社", "保险", "证券", "小贷", "柜员", "客户经理"),
    "civil_servant": ("公务", "公职", "机关", "干部", "事业单位", "政府"),
    "public": ("普通", "群众", "其他", "都不是", "一般", "市民", "村民", "居民"),
}


def match_audience(norm: str) -> str | None:
    for code, label in AUDIENCES.items():
        if norm == label:
            return code
    hits = [code for code, words in _AUDIENCE_WORDS.items() if any(w in norm for w in words)]
    return hits[0] if len(hits) == 1 else None


class SubscribeFlow:
    def __init__(self, counties: list[tuple[str, str]], resolve_county: Callable[[str], str | None],
                 seal_chat_id: Callable[[str], str]) -> None:
        self._counties = counties            # (code, name) in directory order
        self._resolve = resolve_county       # free text → county code or None
        self._seal = seal_chat_id

    def start(self, ctx: Ctx, confidence: float = 1.0) -> Turn:
        ctx.state.enter("subscribe", "audience")
        county = self._resolve(ctx.norm)  # 我想订阅 我是石泉县的: the county said already is not asked again
        if county is not None:
            ctx.state.data["f_county"] = county
        return turn(
            "好的，订阅后会不定期给您发防骗提醒，随时回复“退订”就停。\n请先选一下您的身份：",
            TOPIC, buttons=list(AUDIENCES.values()), confidence=confidence,
        )

    def step(self, ctx: Ctx) -> Turn | None:
        """None means the message is not an answer to this flow (the engine routes it afresh)."""
        if is_thanks(ctx.norm):  # 谢谢 while asked to choose: they are done; answered as thanks
            return None
        if ctx.state.step == "audience":
            audience = match_audience(ctx.norm)
            if audience is None:
                return None if len(ctx.norm) > 8 else self._reask_audience()
            ctx.state.data["f_audience"] = audience
            if ctx.state.data.get("f_county"):
                return self._subscribe(ctx, ctx.state.data["f_county"])
            ctx.state.step = "county"
            names = [name for _, name in self._counties]
            return turn("您在哪个县区？选一个，以后会优先收到本地的提醒：", TOPIC, buttons=[CITYWIDE, *names[:10]])
        county = self._resolve(ctx.norm)
        if county is None and not any(w in ctx.norm for w in ("全市", "都要", "不限", "跳过", "随便")):
            return None if len(ctx.norm) > 8 else turn(
                "没认出这个县区。请点下面的按钮，或回复“全市都要”。", TOPIC,
                buttons=[CITYWIDE, *[n for _, n in self._counties]])
        return self._subscribe(ctx, county)

    def _subscribe(self, ctx: Ctx, county: str | None) -> Turn:
        audience = ctx.state.data.get("f_audience", "public")
        SubscriberRepository(ctx.session).subscribe(
            ctx.key, ctx.msg.channel, self._seal(ctx.msg.user), audience, county)
        ctx.state.leave()
        where = dict(self._counties).get(county or "", "全市")
        note = "" if ctx.msg.channel != "web" else "\n网页版不能主动推送，关注我们的微信公众号就能收到提醒。"
        return turn(
            f"订阅好了：身份“{AUDIENCES[audience]}”，地区“{where}”。\n有新骗局、新提醒会发给您。"
            f"想停的时候回复“退订”即可。{note}",
            TOPIC, buttons=["怎么识别非法集资", "我要举报"],
        )

    def _reask_audience(self) -> Turn:
        return turn("请点下面一个按钮选身份，或回复“取消”。", TOPIC, buttons=list(AUDIENCES.values()))
