"""Fixed replies of the personal verdict's follow-ups (bot.dialogue.verdict): plain words, short sentences."""

from __future__ import annotations

# "那能交吗" after a flagged case
REASSURE_RISKY = ("不能交。按您前面说的，这是非法集资常见的说法，钱交出去很可能要不回来。\n"
                  "已经交了的别再追加，把凭证留好；想让处非办查一查，回复“我要举报”。")
# "那中不中" after an ordinary case
REASSURE_PLAIN = ("按您说的，没看到非法集资的典型说法（保本高息、拉人头、打着养老旗号收钱）。\n"
                "正规的理财也有风险：认准银行、证券、保险等持牌机构，合同看清楚，看不懂的别买。\n"
                "以后对方要是说保本、高息、拉人有奖，就先别交钱，回复“我要举报”。")
# "我已经投了五万" after a case told as a scheme
INVESTED_HIGH = "按您前面说的，这很像非法集资，越早报案越好。"
# "他们说是国家支持的啊" after a flagged case
CLAIMED = ("说有国家支持、有执照、是正规公司，都不等于能收老百姓的钱：\n"
           "· 营业执照不是金融许可。吸收存款、卖理财，要有金融牌照。\n"
           "· 国家不会给哪个项目的高回报兜底。\n"
           "按您前面说的，还是非法集资的说法，先别交钱。\n"
           "想核实：到国家金融监督管理总局网站查许可证，或打12345问。\n"
           "依据：《防范和处置非法集资条例》第二条，没有国务院金融管理部门许可，不得向社会公众吸收资金。")


def what_now(high: bool, office_line: str) -> str:
    """"那怎么办" after a case: what to do now, the county office's phone last."""
    return "\n".join(["按您说的情况，这样做：",
                      "①还没交钱：别交。" if high else "①先别交钱，问清是哪家机构、有没有金融牌照。",
                      "②已经交了：别再追加，合同、收据、转账和聊天记录都留好，去派出所报案。",
                      "③别拉亲友参加，介绍别人也可能担责任。",
                      "④想让处非办查一查：回复“我要举报”，可以匿名。",
                      office_line])
