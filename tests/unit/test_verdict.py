"""Issue 13: the yield reading of everyday forms, everyday pitch wording, and the person's own story."""

from __future__ import annotations

import pytest

from bot.riskcheck.check import RiskChecker
from bot.riskcheck.numbers import find_rates
from bot.riskcheck.reply import render_details, render_personal
from bot.textnorm import normalise


@pytest.fixture(scope="module")
def checker() -> RiskChecker:
    return RiskChecker.from_file()


@pytest.mark.parametrize(
    ("text", "annual"),
    [
        ("投十万每年返一万二", 0.12),            # amount + period + payout
        ("一万块一个月给三百", 0.36),
        ("月息两分", 0.24),                      # 分 a month = 1% a month
        ("日息千三", 1.095),                     # 千三 a day = 0.3% a day
        ("日息千分之三", 1.095),
        ("投进去的钱一年翻一番", 1.0),
        ("捐一万返两万", 1.0),                   # paid in, paid back more: over a year
        ("投一千块七天以后拿一千二", 0.2 * 365 / 7),
        ("社员入股一股五千保底分一千", 0.2),     # a guaranteed payout with no period is a year's
        ("说三个月以后按三倍价钱回收", 8.0),
        ("一年后公司加价50%回购", 0.5),
        ("年化8%", 0.08),
    ],
)
def test_every_yield_form_is_read_as_an_annual_rate(text, annual):
    rates = [r.annual for r in find_rates(normalise(text)) if r.annual is not None]
    assert rates and max(rates) == pytest.approx(annual, rel=1e-3), (text, rates)


@pytest.mark.parametrize(
    ("text", "flags", "verdict"),
    [
        ("王阿姨，我们这个项目投资入股，每月分红，到期退本，您放心。", {"guaranteed_principal", "high_return"}, "high"),
        ("投资入股，每月分红", {"high_return"}, None),
        ("拉一个人，奖励多少钱", {"referral_reward"}, None),
        ("捐一万返两万", {"charity_disguise", "high_return"}, "high"),
        ("到期公司回购，有人兜底", {"guaranteed_principal"}, None),
        ("马上上交易所，能翻几十倍", {"high_return", "ipo_equity_lure"}, "high"),
        ("充一万送两千", {"rebate_disguise"}, None),
        ("存一万，每月返息", {"high_return"}, None),
        ("几年后公司按原价加收益买回去", {"guaranteed_principal"}, None),
        ("消费就是存钱", {"rebate_disguise"}, None),
        ("买商铺，每年付你8%租金，十年后原价回购", {"leaseback_disguise", "guaranteed_principal", "high_return"},
         "high"),
        ("保本保息，年化8%", {"guaranteed_principal", "high_return"}, "high"),   # 6–10% guaranteed is dangerous
        ("推荐一个下线奖励五百元，发展下线越多拿得越多", {"referral_reward"}, None),
        ("購買養老床位，每年返八千，到期退本", {"pension_disguise", "guaranteed_principal", "high_return"}, "high"),
        ("这个项目保笨，月西两分", {"guaranteed_principal", "high_return"}, "high"),   # homophones
    ],
)
def test_everyday_pitch_wording_raises_its_flags(checker, text, flags, verdict):
    report = checker.analyse(text)
    assert flags <= set(report.flag_ids), (text, report.flag_ids)
    if verdict:
        assert report.verdict == verdict


@pytest.mark.parametrize(
    ("text", "flags", "verdict"),
    [
        ("俺家老头子在搞一个养老院的项目说投十万每年返一万二中不中", {"high_return", "pension_disguise"}, "high"),
        ("我妈在小区里听讲座 买了三万块保健品 说每个月返三百 还能拉人头拿提成 这个算不算非法集资啊",
         {"high_return", "referral_reward", "public_solicitation"}, "high"),
        ("银行的理财经理给我推荐了一个私募基金，年化8%，说保本，靠谱吗", {"guaranteed_principal", "high_return"},
         "high"),
        ("我大伯投了个合作社，说存五万一年给六千，我怕是骗局，老板要是跑路了咋办", {"high_return"}, "high"),
        ("他们说存一万一个月给一百，你说这个咋样", {"high_return"}, "high"),   # 12% a year stated: the mark itself
    ],
)
def test_a_persons_own_story_gets_its_flags_despite_their_worry(checker, text, flags, verdict):
    report = checker.analyse(text, personal=True)
    assert flags <= set(report.flag_ids), report.flag_ids
    assert report.verdict == verdict


ORDINARY = [
    "我在银行存了一年定期，利率1.5%，安全吗",
    "在邮局买了三年期储蓄国债，利率2.38%，这个能放心吧",
    "儿子在手机银行帮我开了基金定投，每个月五百，说有赚有赔",
    "借给表哥五万块钱周转，说好一年给我三厘利息，这算不算非法集资",
    "在人保买了一份养老保险，合同写着按月领钱，有没有风险",
    "社区通知下周三下午在活动室开防骗讲座，说不要钱也不卖东西，俺去不去",
    "看到派出所贴的提醒，说年化20%的养老项目都是骗局，让大家别信",
    "保本理财是不是都不靠谱",
    "有没有风险啊",
]


def test_the_first_screen_is_short_and_compares_with_the_deposit_rate(checker):
    report = checker.analyse("俺家老头子在搞一个养老院的项目说投十万每年返一万二中不中", personal=True)
    text = render_personal(report, checker.lexicon)
    assert "非法集资" in text and "每年返一万二」" in text and "12%" in text
    assert checker.lexicon.deposit_rate.text in text          # the rate an office keeps current in content
    assert len(text) <= 200, len(text)
    details = render_details(report, checker.lexicon)
    assert "【依据】" in details and "第二条" in details and "养老" in details


def test_the_deposit_rate_comes_from_content(checker):
    lexicon = checker.lexicon.model_copy(update={"deposit_rate": checker.lexicon.deposit_rate.model_copy(
        update={"text": "约1.1%", "percent": 1.1})})
    report = checker.analyse("投十万每年返一万二", personal=True)
    assert "约1.1%" in render_personal(report, lexicon)


def test_a_stated_high_yield_is_high_by_itself_and_is_quoted_with_its_deposit(checker):
    report = checker.analyse("投十万每年返一万二", personal=True)
    assert report.verdict == "high" and report.flags[0].phrase == "投十万每年返一万二"
    assert checker.analyse("高回报", personal=True).verdict == "caution"  # a word alone is not a stated yield


# --- session 5: wording met in a third blind set's tuning half, each with its own reading -----------------------
@pytest.mark.parametrize(
    ("text", "annual"),
    [
        ("投进去一千块过十五天能拿一千三", 0.3 * 365 / 15),     # a modal (能) between the span and the verb
        ("十五天能拿回本金再加百分之三十", 0.3 * 365 / 15),      # 本金再加 marks the percent as the gain
        ("投五千块一年以后返本金再加一千五的分红", 0.3),          # the gain said after 本金再加, not the total
        ("借给平台一千，一周后还一千一", 0.1 * 52 * 365 / 364),  # 借给 puts money in, 还 pays back the total
        ("投十萬每季配息四千五", 0.18),                          # Taiwan's 配息, a quarter's payout
        ("保本年化15能投吗", 0.15),                              # 年化 with a bare figure
        ("互助盘十天赚三成", 0.3 * 365 / 10),                    # 三成 = 30%
        ("一坛五千，三年后公司按八千回购", 0.2),                  # bought back dearer: the rise over the years
        # from the fourth blind set's tuning half
        ("买一份算力3000元，日产0.5%收益", 0.005 * 365),          # 日产: a day's output
        ("说是养老理财，一年12个点", 0.12),                         # 个点 beside a year
        ("放一千过十天就变一千三", 0.3 * 365 / 10),                 # 放 puts money in; 变 the total after
        ("捐一千给贫困生，学期末平台返还一千二", 0.2),               # after the term, no unit on the sum
        ("投五千块上线以后分成保底百分之三十", 0.3),                  # 分成 / 保底 name the percent a yield
        ("存一千，每十天出局一次拿回本金加两成", 0.2 * 365 / 10),     # 加两成 on the principal
        # read after the first four sets' holdout halves were opened (session 6)
        ("每份八千，两年后返一万一", 0.375 / 2),              # 每份 names the stake; 返 after a span: the total
        ("存三千一个月后领三千三", 0.1 * 12),                 # 领 after a span is the total paid back
        ("两百块买一个，一周后涨到四百", 1.0 * 52 * 365 / 364),  # 涨到: what it becomes
        ("五千块一天能涨一百", 0.02 * 365),                  # deposit, period, 涨 and the gain
        ("充两百返三百", 0.5),                               # 充 puts money in, unit or not
        ("会员费五万，年息一成", 0.1),                        # 一成 after 年息
        ("入股说一年能分三成红", 0.3),                        # 分三成
        # read after the fifth set was scored unseen, then opened
        ("投一千十五天后拿一千四", 0.4 * 365 / 15),          # 一千 then 十五天: a bare 十 after 千 starts a new number
        ("纪念钞，公司保证一年后加价三成回收", 0.3),          # 加价三成
        ("出五千块帮山里娃，年底连本带利还俺六千", 0.2),       # 出 puts money in; 还 after 年底 pays back
    ],
)
def test_more_yield_forms_are_read(text, annual):
    rates = [r.annual for r in find_rates(normalise(text)) if r.annual is not None]
    assert rates and max(rates) == pytest.approx(annual, rel=1e-2), (text, rates)


SESSION5_FLAGS = [
    ("上市后保证涨三倍，每股十五元", "guaranteed_principal"),
    ("交十二万，三年到期本金一次性退还，每月给利息", "guaranteed_principal"),
    ("认购一亩八万块，五年后公司按二十万回购", "guaranteed_principal"),
    ("借给平台一千一周后还一千一，说是跟学校合作的正规平台", "fake_endorsement"),
    ("投一万一年返两千，还说是教育局认可的", "fake_endorsement"),
    ("投十万每季配息四千五，有国营企业做担保", "fake_endorsement"),
    ("合作社挂着农业农村局的牌子，存钱月息一分五", "fake_endorsement"),
    ("每人限够十万，过了这周就不能买了，年底挂牌上市", "urgency"),
    ("这个原始股，业务员每天打电话来催我快点下单", "urgency"),
    ("抖音有个大哥天天晒收益，说投艺术品份额一个月涨40%", "public_solicitation"),
    ("一伙人挨家挨户敲门，说入一股两万年底保底分红四千", "public_solicitation"),
    ("要我们帮忙开个动员会，让村民投一万每年分两千五", "public_solicitation"),
    ("电梯里被人贴了广告：虚拟矿场招募合伙人，投三万日返三百", "crypto_disguise"),
    ("充五万每个月返2500，还送免费护理", "gift_lure"),
    ("老乡之间搞了个互助金，投两万一个月后拿两万六", "mutual_aid_disguise"),
    ("买窖藏收藏酒，一坛五千，三年后公司按八千回购", "collectibles_disguise"),
    ("有人打着乡村振兴办的名义搞认养，一棵树一千，每年返三百", "high_return"),   # how a person tells it
]


SESSION5_ORDINARY = [
    "堂哥找我借五万开分店，写个借条，年利率百分之四，到期一起还本付息，这合法吗",   # a loan's own terms
    "咖啡店办会员卡充200送20，这算不算充值返现骗局",                                # the word is in their ask
]


def test_a_bigger_sum_taken_back_is_no_principal_promise_unless_said_as_paid_back(checker):
    taken = checker.analyse("投一千块过十五天能拿一千三", personal=True).flag_ids
    paid_back = checker.analyse("捐一千，三个月后返一千三", personal=True).flag_ids
    assert "high_return" in taken and "guaranteed_principal" not in taken
    assert "guaranteed_principal" in paid_back


# --- wording met in a fourth blind set's tuning half ------------------------------------------------------------
FOURTH_SET_FLAGS = [
    ("加盟费五万，公司保证每月返四千", "guaranteed_principal"),
    ("买字画份额，平台承诺随时按买入价回购，每天涨1%", "guaranteed_principal"),
    ("先交两万保证金，保证金年息18%，到期退", "guaranteed_principal"),
    ("一个电话打过来，说可以内部认购股权，三个月后上市", "public_solicitation"),
    ("一个电话打过来，说可以内部认购股权，三个月后上市", "ipo_equity_lure"),
    ("学姐让我做校园代理，同学注册投钱，平台年化18%", "public_solicitation"),
    ("存了钱每十天拿回本金加两成，还得拉新人才能提现", "referral_reward"),
    ("国家新能源补贴项目名额只有五十个今天不交定金明天就没了年化百分之十八", "urgency"),
    ("充一万送利息每月两百", "rebate_disguise"),
    ("老乡给我推了个数字货必，说一个月翻一番", "crypto_disguise"),           # 货必: a slip for 货币
]


def test_an_asked_word_masks_only_when_it_is_asked(checker):
    """保险 in 保险公司 is no ask; 是正规的吗 is: a licensed insurer asked about raises nothing."""
    assert checker.analyse("买商业养老保险，保险公司是有牌照的，每年交一万，这种算正规吗", personal=True).flag_ids == []
    assert checker.analyse("保险业务员推荐重疾险，每年缴八千，这种是正规的吗", personal=True).flag_ids == []


# --- wording met in the fourth set's dialogues (tuning half) ----------------------------------------------------
FOURTH_SET_DIALOGUE_FLAGS = [
    ("那套纪念币现在五千八，公司保证三年后一万二回收", "guaranteed_principal"),
    ("会员卡充一万每月返八百，他们还要我拉亲戚充", "referral_reward"),
    ("先交3000手续费就能追回损失，说他们跟公安局合作", "fake_endorsement"),
    ("入社五万年底分红两成，说乡里有补贴亏不了", "fake_endorsement"),
    ("下载这个app 说是 国家 数字货币 试点 存两千每天返八十", "fake_endorsement"),
    ("一家理财公司打电话来说有内部消息，包赚，会员费三千", "public_solicitation"),
]


def test_a_bank_counter_selling_its_own_product_is_no_borrowed_name(checker):
    text = "柜台的银行客户经理推荐我买银行自己的理财，R2级，不保本，年化两点几，一万起"
    assert "fake_endorsement" not in checker.analyse(text, personal=True).flag_ids
    assert "fake_endorsement" in checker.analyse("这个养老项目是银行推荐的，投五万年返一万", personal=True).flag_ids


# --- read after the first four sets' holdout halves were opened (session 6) ---------------------------------------
HOLDOUT_FLAGS = [
    ("公司说包祖八年，每年百分之九的祖金，到期原价回构", "leaseback_disguise"),   # slips for 包租, 租金, 回购
    ("有个人给俺打电话，说他们的原始股要上室了", "public_solicitation"),
    ("这周之内认购还送购物卡，年化百分之十四", "urgency"),
    ("报名就送一部手机，三千起投，三个月回本", "gift_lure"),
    ("入股一股五千，年底分一千，亏了算合作社的", "guaranteed_principal"),
    ("月息百分之二，到期原数奉还", "guaranteed_principal"),
    ("年化12%，本金兜底", "guaranteed_principal"),
    ("老会员推荐新会员进来，每人奖励两千，投一台车十万", "referral_reward"),
    ("拉满十个人就能当社区长，投一万每天释放千分之三", "referral_reward"),
    ("本公司为上市公司全资子公司，年化8%，到期还本", "fake_endorsement"),
    ("买他们的灵芝粉，一年后公司两倍价格回收，等于白吃", "rebate_disguise"),
    ("专门给老年人设计的长寿基金，年息18%", "pension_disguise"),
    ("村里搞了个互助养老会，每月交两百，老了每月领一千", "pension_disguise"),
    ("他们说什么养老项目的都有，投五万每年返一万", "pension_disguise"),    # a list in their pitch is no news
    ("一只羊2800，一年后回购价3500，还送羊肉", "gift_lure"),
    ("交八万加盟费，公司每月打六千，三年后退还加盟费", "guaranteed_principal"),
    ("客服一直催，说这期份额下午五点截止，保底年化百分之二十四", "urgency"),
]


HOLDOUT_ORDINARY = [
    "手机银行定投公募基金，每月五百，没人给我保证收益，正规吧",            # 没人 … 保证收益: denied
    "合作社章程写按交易量分配盈余，没说保底，我们开社员大会公布账目",       # 没说保底; a coop's own meeting
    "借给弟弟五万买房，写借条，年息百分之三，比存银行多一点",             # the figure said is low
    "同学借我两千交房租，下个月还，多给五十当利息",                       # a loan, not a reward
    "上车了，开发商卖的普通商品房，没有返租没有回购",                      # 上车了: bought, no hurry
    "信用卡消费有百分之一的返现，每个月返到账单里",                        # a card's cashback
    "网购下单返现二十元，这跟消费返利骗局有什么不同",                      # the word is in their ask
    "这款理财年化收益3.2%，可随时赎回",                                   # redeeming is no guarantee
    "前几天看新闻说老人容易被骗，什么保健品、养老项目的都有，我不放心爸妈",   # kinds listed from the news
]


# --- read after the fifth set was scored unseen, then opened ----------------------------------------------------
FIFTH_SET_FLAGS = [
    ("镇上养老服务中心让交五万办会员，一年返百分之十二", "pension_disguise"),  # the centre taking deposits
    ("养老院预存3万 每月给800利息", "pension_disguise"),
    ("村里有人搞急资，一万块一个月返五百，到期还笨", "guaranteed_principal"),  # slips: 急资, 还笨
    ("我要是再介绍亲戚进去，每个人他给我提成一千，矿机两万八", "referral_reward"),
    ("有個投資顧問打電話說原始股明年上市，一年內保證翻倍", "public_solicitation"),
    ("商城买满一千每月返一百，说是商务局支持的试点", "fake_endorsement"),
    ("交十万押金每月返一千，五年后全退，说是民政上挂了号的", "fake_endorsement"),
    ("这个月底前签约打九五折，包租十年每年返租百分之八", "urgency"),
    ("就给俺们村留了二十个名额，一块钱一股原始股上市涨十倍", "urgency"),
    ("买书画的份额，上个月涨了百分之四十，还保证亏了补给我", "guaranteed_principal"),
    ("认养黑猪一头两千，年底返两千六，猪死了也不赔本", "guaranteed_principal"),
    ("商铺包租15年，年回报8%，到期开发商回购", "guaranteed_principal"),
    ("入社一股一万每年分红一千五，三年期满退还股本", "guaranteed_principal"),
    ("国债一年给八个点，村里好多人买", "high_return"),                      # no licensed product pays that
    # read after the sixth set was scored unseen, then opened
    ("认养一头羊交两千，出栏给他两千六，公司负责养", "high_return"),          # a payout at 出栏
    ("入社一万年底给一千八分红，村干部挨家收", "high_return"),                # 一千八 before 分红 is a sum
    ("网贷平台出借一万，年化百分之十五，风险准备金兜底", "guaranteed_principal"),
    ("交二十万住进去，每年返百分之九，不住了全退", "guaranteed_principal"),
    ("捐五千，项目结束后除了返本金还有两成回报", "guaranteed_principal"),
    ("发传单招人投资，拉来一个投资的给两百", "referral_reward"),
    ("投五百每周分红五十，拉人入伙还能多分", "referral_reward"),
    ("捐一万三年后返还一万五，还有政府领导题字", "fake_endorsement"),
    ("公寓包租每年返百分之八，今天交定金还打九五折", "urgency"),
    ("每人每月缴五千轮流收会款，会头说保证每期都有人接，介绍新人还有奖金", "referral_reward"),
    ("有人在脸书广告上推公益众筹，投资一万元每月回馈三百元", "high_return"),
    ("小伙子给俺塞了张单子，交五万块一年领七千，搞养老旅居", "pension_disguise"),
]


@pytest.mark.parametrize(
    "text",
    [
        "俺老伴住镇上敬老院，一个月交两千二，没说有啥返钱",                 # a fee, and no payout said
        "听人说镇上有人搞原始股骗了好些老人，俺咋跟老姐妹们说",               # a report, no offer to them
        "社区发了个防骗宣传单，上面说高利息都是陷阱，具体咋辨别",              # a notice's words
        "商铺总价28万，每年给你百分之十的租金，十五年以后想卖公司给你收回去",   # an optional buyback, no promise
    ],
)
def test_ordinary_cases_read_after_the_fifth_set_opened(checker, text):
    assert "guaranteed_principal" not in checker.analyse(text, personal=True).flag_ids
    if "租金" not in text:
        assert checker.analyse(text, personal=True).flag_ids == []


def test_a_text_read_again_is_served_from_the_cache_and_the_same(checker):
    text = "俺家老头子在搞一个养老院的项目说投十万每年返一万二中不中"
    first, second = checker.analyse(text, personal=True), checker.analyse(text, personal=True)
    assert first is second and "high_return" in first.flag_ids  # immutable, so sharing it is safe
    assert checker.analyse(text) is not first  # the pasted reading is a different one


# --- read after the sixth set was scored unseen, then opened ----------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "俺妈住进了县里公办养老院，每月交两千二的伙食护理费，啥也不返",  # 公办: nobody 办s it as a scheme
        "我弟借我八万扩建农家乐，借两年，年息百分之三，到期连本带利一起还，写了借条",  # a loan's own terms
        "老客户说他投的公司月息三分，我该咋提醒他",  # staff asking: still flagged below
    ],
)
def test_ordinary_or_asked_cases_read_after_the_sixth_set_opened(checker, text):
    flags = checker.analyse(text, personal=True).flag_ids
    assert flags == (["high_return"] if "月息三分" in text else [])  # 咋提醒他 is their intent, no warning


# --- every reading above whose whole check is "this flag is raised" or "nothing is raised": one test each ----------
@pytest.mark.parametrize(("text", "flag"), [*SESSION5_FLAGS, *FOURTH_SET_FLAGS, *FOURTH_SET_DIALOGUE_FLAGS,
                                            *HOLDOUT_FLAGS, *FIFTH_SET_FLAGS])
def test_wording_raises_its_flag(checker, text, flag):
    assert flag in checker.analyse(text, personal=True).flag_ids


@pytest.mark.parametrize("text", [*ORDINARY, *SESSION5_ORDINARY, *HOLDOUT_ORDINARY])
def test_ordinary_wording_raises_nothing(checker, text):
    assert checker.analyse(text, personal=True).flag_ids == []
