"""WeChat text rendering: numbered buttons, numbers mapped back, pages within 2048 bytes (no I/O)."""

from __future__ import annotations

from bot.channels.wechat.render import MORE_HINT, PAGE_BYTES, paginate, pick, render, with_more_hint
from bot.messages import Button, Outbound


def test_buttons_become_a_numbered_list_and_numbers_map_back():
    answer = render([Outbound("请选择身份：", (Button("老年人及家属"), Button("普通群众")))])
    assert answer.pages == ("请选择身份：\n\n请回复数字选择：\n1. 老年人及家属\n2. 普通群众",)
    assert [pick(s, answer.buttons) for s in ("1", "２", " 2。", "3", "0", "12", "一", "1号")] == \
        ["老年人及家属", "普通群众", "普通群众", None, None, None, None, None]


def test_a_single_button_is_a_reply_hint_and_never_captures_a_number():
    answer = render([Outbound("大概多少钱？", (Button("跳过"),))])
    assert answer.pages == ("大概多少钱？\n\n回复“跳过”",) and answer.buttons == ()
    assert pick("1", answer.buttons) is None  # "1" may be an amount or a head count
    said = render([Outbound("不清楚回复“跳过”", (Button("跳过"),))])
    assert said.pages == ("不清楚回复“跳过”",)


def test_pages_fit_with_the_more_hint_and_lose_nothing():
    lines = [f"第{i}行：" + "防范非法集资人人有责。" * (i % 7 + 1) for i in range(200)]
    pages = paginate("\n".join(lines))
    assert len(pages) > 3
    assert all(len(with_more_hint(p, True).encode("utf-8")) <= PAGE_BYTES for p in pages)
    assert "\n".join(pages).split("\n") == lines


def test_an_endless_line_is_cut_by_characters():
    pages = paginate("骗" * 2000)
    assert "".join(pages) == "骗" * 2000
    assert all(len(p.encode("utf-8")) <= PAGE_BYTES - len(MORE_HINT.encode("utf-8")) for p in pages)


def test_several_replies_join_and_share_their_buttons():
    replies = [Outbound("第一段", (Button("我要举报"),)), Outbound("第二段", (Button("我要举报"), Button("订阅")))]
    answer = render(replies, prefix="欢迎")
    assert answer.pages[0].startswith("欢迎\n\n第一段\n\n第二段\n\n请回复数字选择：\n1. 我要举报\n2. 订阅")
    assert answer.buttons == ("我要举报", "订阅")
