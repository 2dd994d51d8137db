"""The words of a follow-up: what a person says after their case was answered (那怎么办, 我已经投了五万,
不是，我是说养老院那个, 那能交吗, 还有啥要注意的), as the personal verdict reads them (bot.dialogue.verdict)."""

from __future__ import annotations

import re

WHAT_NOW = re.compile(
    r"(怎么办|咋办|咋整|咋弄|怎么弄|怎么做|咋做|怎么处理|咋处理|怎么整|如何是好|怎么搞|咋搞|下一步|该干啥|该做啥|"
    r"该咋|该怎么|要咋|要怎么|应该干嘛|那我呢|然后呢|接下来|咋个办|咋个整|咋个弄|怎个办|怎么个办|啷个办|咋个搞|"
    r"咋弄|怎办|咋搞嘛|如何处理|如何应对|怎么应对|咋应对)"
)
INVESTED = re.compile(
    r"(已经|都|早就|早|刚|前几天|前阵子|上个?月|上周|去年|前年|年初)[^,。!?]{0,6}(投|交|存|买|充|转|打|入|给|捐|借)"
    r"|(投|交|存|买|充|转|打)(了|进去了?|过)[^,。!?]{0,6}(\d|[一二两三四五六七八九十几百千万])"
    r"|(投|交|存|买|充|转|打)(了|过)?(钱|款)了"
)
CORRECTION = re.compile(
    r"^(不是|不对|不不|没有没有|我是说|我说的是|我问的是|我想问的是|我指的是|说的是|是说)[,.!。\s]*"
    r"(我是说|我说的是|我问的是|说的是|是|问的是)?[,.!。\s]*"
)
# 还有啥要注意的: what else to mind about the case just told
NOTES = re.compile(r"还有(啥|什么|哪些|没有)?(要|需要|该|得)?(注意|小心|留意|当心)|要?注意(啥|什么|哪些)|注意事项")

REASSURE = re.compile(
    r"能继续|可以继续|还能投|还能买|继续投|接着投|放心|能买|能交|能存|能投|能参加|能去|能办|能入|中不中|行不行|成不成|可以吗|可以买|可以存|可以投|可以交|靠谱吧|"
    r"没问题吧|安全吧|能信|那就好|得劲不|妥不妥|稳不稳|要不要紧|没事吧|不要紧吧"
)
# 好的那我放心了，谢谢: thanks said, nothing asked (那我放心了吧 still asks)
THANKS = re.compile(r"谢谢|多谢|感谢|谢了|谢啦|拜拜|再见")
ASKS = re.compile(r"[吗吧嘛么?？]|不$|没$|能不能|可不可以|行不行|中不中|是不是")
# 怎么查一个公司有没有牌照…他说他是正规的: asking how to check a claim, not telling a promise
VERIFY_ASK = re.compile(
    r"(怎么|咋|如何|怎样|去哪|在哪|哪里|能不能|可以)(能|才能|去|儿)?(查|核实|核查|验证|确认|辨别|分辨|知道)"
    r"|(怎么|咋|如何|怎样)(看|判断)[^,。;!?]{0,10}(是不是|是否|有没有)"
)
# 那我放心了 / 行，那就放心了: relief, said as thanks (那我放心了吧 asks, and is answered as a question)
RELIEF = re.compile(
    r"^((好的?|行|嗯|哦|那|那就|那我|我就|这下)[,，\s]*)*(我|俺)?(就|也)?(放心|安心|踏实)(了|啦)[.。!！~]*$"
)
# 犯法不 / 这违法吗 / 他们犯不犯法: whether what was told is a crime
LEGALITY = re.compile(
    r"^(那|这|那这|这个|这样|他们|那他们|老板|这种)?(个|样)?(算|是)?(不)?(犯法|违法|合法|犯罪|犯不犯法|违不违法|合不合法)"
    r"(不|吗|么|没|嘛|啊|吧|呢|的吗|了吗|没有)?[?？!！]*$"
)
# 那这算被骗吗 / 这是不是骗局: after an ordinary case, asking whether it is a scam
CLASSIFY = re.compile(
    r"(这|那|这个|那个|这样|这种|他们|它)?(算不算|是不是|属不属于|算|属于)(被骗|骗局|非法集资|诈骗|传销|骗人|套路)"
    r"|(这|那|这个|那个|这样|这种)是(被骗|骗局|非法集资|诈骗|传销|骗人|套路)"
)
# 他们说是国家支持的啊 / 人家有营业执照: a claim of standing, said back after a verdict
CLAIM_BACK = re.compile(
    r"(国家|政府|央企|国企|上面|银行|民政|县里|市里|省里)[^,。;!?]{0,3}(支持|扶持|批准|批的|背景|备案|认可|担保|兜底|发行|项目)"
    r"|有(营业)?执照|有牌照|有资质|是正规|正规(的)?公司|正规平台|合法(的|经营)|有备案|备过案|上过电视|央视"
    r"|(跟|和|同)银行(一样|差不多)|比银行(还)?(稳|安全)"
)
# 提现不了了, 客服也联系不上: the money is stuck, they are a victim now
BLOCKED = re.compile(r"提现不了|提不出|取不出|提不了|不能提现|提现失败|不给提|到不了账|联系不上|跑路|跑了|人去楼空")
# 可是我朋友已经提现好几次了啊: early payouts, said back as proof
PAID_OUT = re.compile(
    r"(提现|提出来|拿到钱|拿到了|到账|返了|兑现|赚到|赚了)[^,。!?]{0,6}(好几次|好多次|几次|好几回|了|过)"
)
# 那买国债行不行: a different, ordinary product asked about, not the case just told
OTHER_PRODUCT = re.compile(r"国债|定期|存款|大额存单|银行理财|基金定投|公募基金|存银行|余额宝|保险公司|商业保险")
