"""What the Telegram channel says by itself, and its commands mapped to words the engine understands."""

from __future__ import annotations

# (command, menu description, what the engine is sent). None: the channel answers, or adds an argument.
COMMANDS: tuple[tuple[str, str, str | None], ...] = (
    ("start", "开始使用，订阅防骗提醒", None),
    ("help", "我能做什么", "你能做什么"),
    ("report", "匿名举报非法集资（请私聊）", "我要举报"),
    ("status", "凭回执码查询举报进度", "查询举报进度"),
    ("check", "帮我看看宣传靠不靠谱", "帮我看看靠不靠谱"),
    ("subscribe", "订阅防骗提醒", "订阅防骗提醒"),
    ("unsubscribe", "退订推送", "退订推送"),
    ("cancel", "取消正在办的事", "取消"),
)
ENGINE_TEXT = {name: text for name, _, text in COMMANDS if text is not None}
CANCEL = "取消"
SUBSCRIBE = "订阅防骗提醒"
REPORT = "我要举报"
# Commands that concern one person's tip or subscription: only in a private chat (the engine's topics and words
# for those come from bot.dialogue.flows).
PRIVATE_COMMANDS = frozenset({"start", "report", "status", "subscribe", "unsubscribe"})

WELCOME = ("您好！我是防范非法集资服务助手，是自动回复的程序。\n"
           "我能解答问题、帮您看看宣传靠不靠谱、接收匿名举报。\n"
           "先订阅防骗提醒吧：有新骗局会告诉您。不想订阅，点“取消”就行。")
WELCOME_BACK = "您好，欢迎回来！有问题直接问我，或点下面的按钮。"
HELP = ("可以直接打字问我，也可以用这些命令：\n"
        "/report 匿名举报（请私聊）\n/status 回执码 查询举报进度\n/check 帮我看看宣传靠不靠谱\n"
        "/subscribe 订阅提醒　/unsubscribe 退订\n/cancel 取消正在办的事")
HELP_IN_FLOW = "您正在办的事还没完成，接着回答上面的问题就行；不想继续，发送 /cancel 。\n\n"
PRIVATE_ONLY = "为了保护您，这件事请私聊我办理。点下面的按钮就能私聊。"
PRIVATE_BUTTON = "私聊助手"
UNKNOWN_COMMAND = "没有这个命令。\n"
NOTHING_TO_CANCEL = "现在没有正在办的事。有问题直接问我就行。"
UNSUPPORTED = "我现在只能看懂文字和图片，请打字告诉我。"
BUTTON_EXPIRED = "这个按钮已经过期了，请直接打字告诉我。"
IMAGE_TOO_BIG = "图片太大了，请压缩后再发，或者截图发给我。"
SORRY = "抱歉，我这边出了点问题，请稍后再发一次。情况紧急请直接拨打110。"
