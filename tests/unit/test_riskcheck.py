"""The risk check: the bars on the labelled sets, yields, context (warnings, negation, notices), the reply."""

from __future__ import annotations

import copy
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot.riskcheck.aligned import align
from bot.riskcheck.check import WECHAT_PASSIVE_LIMIT, Flag, RiskChecker, RiskReport, verdict_for
from bot.riskcheck.evaluate import SETS, evaluate, format_report, load_cases, meets_bars
from bot.riskcheck.lexicon import Lexicon, spec_flag_ids
from bot.riskcheck.numbers import find_rates, parse_number
from bot.riskcheck.reply import render_reply
from bot.textnorm import normalise

REPO = Path(__file__).resolve().parents[2]
LEXICON = REPO / "content" / "red_flags.yaml"
CASES = REPO / "tests" / "data" / "riskcheck_cases.yaml"
FRESH = REPO / "tests" / "data" / "riskcheck_fresh.yaml"
HOLDOUT = REPO / "tests" / "data" / "riskcheck_holdout.yaml"
STREET = REPO / "tests" / "data" / "riskcheck_street.yaml"
FLAG_IDS = spec_flag_ids(REPO / "content" / "spec")

ALL_FLAGS_TEXT = (
    "保本保息，稳赚不赔！年化36%，拉一人奖500元，限时三天，国家扶持，进群领鸡蛋，养老公寓、区块链挖矿、"
    "消费全返、金融互助、原始股即将上市、售后包租、艺术品份额、慈善众筹统统有，回报丰厚"
)


@pytest.fixture(scope="module")
def checker() -> RiskChecker:
    return RiskChecker.from_file(LEXICON)


@pytest.fixture(scope="module")
def labelled() -> list[dict]:
    return load_cases(CASES)


@pytest.fixture(scope="module")
def fresh() -> list[dict]:
    return load_cases(FRESH)


@pytest.fixture(scope="module")
def holdout() -> list[dict]:
    return load_cases(HOLDOUT)


@pytest.fixture(scope="module")
def street() -> list[dict]:
    return load_cases(STREET)


def ids(checker: RiskChecker, text: str) -> list[str]:
    return checker.analyse(text).flag_ids


# ------------------------------------------------------------------ the labelled set


def _well_formed(cases: list[dict]) -> None:
    support = Counter(f for c in cases for f in c["flags"])
    assert set(support) <= set(FLAG_IDS)
    assert all(len(set(c["flags"])) == len(c["flags"]) for c in cases)
    assert len({c["text"] for c in cases}) == len(cases)


def test_the_labelled_sets_are_big_varied_disjoint_and_use_contract_ids(labelled, fresh, holdout, street):
    assert len(labelled) >= 80 and sum(1 for c in labelled if not c["flags"]) >= 20
    assert len(fresh) >= 40 and sum(1 for c in fresh if not c["flags"]) >= 12
    assert len(holdout) >= 20 and sum(1 for c in holdout if not c["flags"]) >= 5
    assert len(street) >= 40 and sum(1 for c in street if not c["flags"]) >= 12
    for cases in (labelled, fresh, holdout, street):
        _well_formed(cases)
    support = Counter(f for c in labelled for f in c["flags"])
    assert {f: n for f, n in support.items() if n < 5} == {} and set(support) == set(FLAG_IDS)
    texts = [{c["text"] for c in cases} for cases in (labelled, fresh, holdout, street)]
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            assert not (texts[i] & texts[j]), (i, j)


@pytest.mark.parametrize("name", ["main", "main+fresh"])
def test_the_bars_hold_on_main_and_on_main_plus_fresh(checker, labelled, fresh, name):
    cases = labelled + (fresh if name == "main+fresh" else [])
    result = evaluate(checker, cases)
    report = format_report(result, name)
    assert result["micro"]["precision"] >= 0.90, report
    assert result["micro"]["recall"] >= 0.85, report
    assert result["legit"]["share"] == 1.0, report
    assert meets_bars(result)


def test_the_street_set_keeps_its_tuned_bars(checker, street):
    """Forwards as people send them (emoji, voice input, dialect, homophones): 1.00 / 1.00 once tuned on;
    the bar leaves room for a label argued either way, none for a flagged legitimate text."""
    result = evaluate(checker, street)
    report = format_report(result, "street")
    assert result["micro"]["precision"] >= 0.95, report
    assert result["micro"]["recall"] >= 0.90, report
    assert result["legit"]["share"] == 1.0, report


def test_no_legitimate_text_raises_a_flag(checker, labelled, fresh, street):
    flagged = {c["text"]: ids(checker, c["text"]) for c in labelled + fresh + street if not c["flags"]}
    assert {t: f for t, f in flagged.items() if f} == {}


def test_load_cases_rejects_a_malformed_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("cases:\n  - text: 保本保息\n", encoding="utf-8")
    with pytest.raises(ValueError, match="flags"):
        load_cases(bad)
    bad.write_text("heldout: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match="cases"):
        load_cases(bad)


def test_eval_prints_each_set_and_exits_on_the_main_bars(tmp_path, capsys):
    from bot.riskcheck.evaluate import main

    assert main(tuple(SETS), show_errors=False) == 0
    out = capsys.readouterr().out
    assert set(SETS) == {"main", "fresh", "holdout", "street"}
    for name in SETS:
        assert f"{name}: " in out
    assert out.count("legitimate texts with no flag:") == 4 and out.count("overall (micro)") == 4
    assert "pension_disguise" in out and "bars on main" in out and "met" in out
    failing = tmp_path / "main.yaml"
    failing.write_text('cases:\n  - text: "晚上吃饺子"\n    flags: [urgency]\n', encoding="utf-8")
    assert main(("main",), paths={"main": failing}) == 1
    assert "NOT met" in capsys.readouterr().out


def test_the_cli_command_takes_a_set(monkeypatch):
    from click.testing import CliRunner

    from bot.cli import main as cli

    result = CliRunner().invoke(cli, ["riskcheck", "eval", "--set", "fresh", "--no-errors"])
    assert result.exit_code == 0, result.output
    assert "fresh: " in result.output and "main: " not in result.output and "disagreements" not in result.output
    result = CliRunner().invoke(cli, ["riskcheck", "eval", "--set", "street", "--no-errors"])
    assert result.exit_code == 0, result.output
    assert "street: " in result.output and "main: " not in result.output
    assert CliRunner().invoke(cli, ["riskcheck", "eval", "--set", "nonsense"]).exit_code == 2


def test_evaluate_counts_and_formats():
    class Fixed:
        lexicon = Lexicon.load(LEXICON)

        def analyse(self, text):
            got = {"a": ["high_return"], "b": ["high_return", "urgency"], "c": []}[text]
            return RiskReport(tuple(Flag(f, "x", "y", "red_flags") for f in got), verdict_for(got), None)

    cases = [{"text": "a", "flags": ["high_return"]}, {"text": "b", "flags": ["high_return"]},
             {"text": "c", "flags": ["gift_lure"]}]
    result = evaluate(Fixed(), cases)  # type: ignore[arg-type]
    assert result["per_flag"]["high_return"] == {"tp": 2, "fp": 0, "fn": 0, "support": 2,
                                                 "precision": 1.0, "recall": 1.0}
    assert result["per_flag"]["urgency"]["fp"] == 1 and result["per_flag"]["urgency"]["precision"] == 0.0
    assert result["per_flag"]["gift_lure"]["recall"] == 0.0
    assert result["micro"]["precision"] == pytest.approx(2 / 3) and result["micro"]["recall"] == pytest.approx(2 / 3)
    assert result["legit"] == {"count": 0, "clean": 0, "share": None}
    text = format_report(result)
    assert "high_return" in text and "overall (micro)" in text and "extra urgency" in text


# ------------------------------------------------------------------ numbers


@pytest.mark.parametrize(
    ("token", "value"),
    [("十", 10), ("两", 2), ("三千", 3000), ("1.5万", 15000), ("十万", 100000), ("两万五", 25000),
     ("一万二", 12000), ("一千零五", 1005), ("一百二十", 120), ("三千五", 3500), ("10w", 100000), ("一点五", 1.5)],
)
def test_numbers_in_chinese_and_arabic(token, value):
    assert parse_number(token) == pytest.approx(value)


def test_a_word_is_not_a_number():
    assert parse_number("年化") is None and parse_number("") is None


@pytest.mark.parametrize(
    ("text", "annual"),
    [
        ("年化18%，保本保息", 0.18),
        ("月息2分，按月付息", 0.24),
        ("月息2%，到期还本", 0.24),
        ("两分利，随借随还", 0.24),
        ("日息千分之五", 1.825),                      # 0.5% a day × 365
        ("存1000元，每天返十元", 3.65),               # 10 / 1000 × 365
        ("投8000，一年返三千", 0.375),
        ("投资10万，每月返1500", 0.18),
        ("一万块钱存进去每月能拿两千", 2.4),
        ("一个床位8万，每年返还租金9600元", 0.12),   # the deposit from the nearest sum of money
        ("投入1000元，7天后拿回1300元", 0.3 * 365 / 7),
        ("这个币一年翻十倍", 9.0),                    # ×10 in a year: a gain of 900%
        ("你的钱半年翻倍", 2.0),
        ("周收益5%", 2.6),
        ("90天收益8%", 0.08 * 365 / 90),
        ("年化收益率百分之二十", 0.20),
        # forms people say rather than write
        ("一万块一周五百", 2.6),                        # deposit, period, payout side by side
        ("投一千块钱一天给你返八块", 2.92),
        ("一分五的利息，按月给", 0.18),
        ("月利率三分，每月付息", 0.36),
        ("泰达币搬砖，一天稳定两个点", 7.3),            # 个点 beside a day
        ("十五天出局拿一点五倍", 0.5 * 365 / 15),
        ("你拿一万进来，明年这个时候就变三万", 2.0),    # 一万变三万
        ("现在一块五一股，挂牌以后少说十块", 10 / 1.5 - 1),
        ("99元一个，开出来的藏品最低能卖300", 300 / 99 - 1),
        ("每户出三千块钱帮扶，年底每户分红一千二", 0.4),
        ("买台矿机8000，每个月能分1200", 1.8),
        ("社员入股一股五千，每年保底分红八百", 0.16),  # 一股 is a count, not the deposit
        ("投五万一年稳拿一万二", 0.24),                # 五万一年 is 五万 + 一年, not 51000
        ("捐一百元爱心款，一个月后返还一百二十元", 2.4),
        ("现在交2000元手续费，解冻后返还200万", 999.0),
        ("藏品上个月买的，现在涨了一倍", 1.0),          # 涨了一倍 = ×2
        ("会员储值一万元，每月赠送价值五百元的保健品", 0.6),
        ("投入1万元，每月领养老金800元", 0.96),           # a payout called 养老金 after a deposit
        ("养老项目一年给百分之二十", 0.2),                 # a percentage given, no yield word
        ("认养一头牛只要6800，养殖周期10个月，到期保底回报1200元", 1200 / 6800 * 365 / (10 * 365 / 12)),
        ("投五百 十五天出局拿回八百", 300 / 500 * 365 / 15),
        ("股权一块钱一股明年就上新三板了上了以后最少十块钱", 9.0),
    ],
)
def test_each_yield_form_becomes_a_simple_annual_rate(text, annual):
    rates = [r.annual for r in find_rates(normalise(text)) if r.annual is not None]
    assert rates and max(rates) == pytest.approx(annual, rel=1e-3)


@pytest.mark.parametrize(
    "text",
    ["超市全场打8折", "今天菜价翻倍了", "沪指涨1.2%，成交量放大", "会员占比30%",
     "超市周年庆，会员积分翻倍，满200送大米", "退休金每个月到账三千二，我每月存一千进去，一年下来能存一万二",
     "物业费每平米1.2元每月", "我妈每个月领养老金三千二，够用了"],
)
def test_figures_that_are_not_yields_are_ignored(text):
    assert find_rates(normalise(text)) == []


def test_a_high_yield_raises_high_return_and_reports_the_rate(checker):
    report = checker.analyse("投资10万，每月返1500，欢迎咨询")
    assert "high_return" in report.flag_ids
    assert report.annual_rate == pytest.approx(0.18)
    flag = next(f for f in report.flags if f.id == "high_return")
    assert flag.phrase == "每月返1500"


def test_an_ordinary_rate_is_reported_but_raises_nothing(checker):
    report = checker.analyse("这款理财产品年化收益3.2%，可随时赎回")
    assert report.flag_ids == [] and report.annual_rate == pytest.approx(0.032)
    assert "high_return" not in ids(checker, "年化8%，存取灵活")


def test_a_daily_payout_raises_high_return_even_without_a_deposit(checker):
    report = checker.analyse("加入就能每天返十元，天天到账")
    assert report.flag_ids == ["high_return"] and report.annual_rate is None


def test_a_monthly_sum_with_no_deposit_or_a_plain_give_is_not_a_yield(checker):
    assert ids(checker, "孙女考上研究生了，学校每个月给发600块钱补助，还挺好。") == []
    assert ids(checker, "每天给孙子十块零花钱") == []


def test_paying_back_more_than_was_paid_in_promises_the_principal(checker):
    report = checker.analyse("爱心人士每出资2000元，一年后基金会返还2400元")
    assert report.flag_ids[:2] == ["guaranteed_principal", "high_return"]
    assert "返还2400元" in next(f.phrase for f in report.flags if f.id == "guaranteed_principal")


# ------------------------------------------------------------------ context


@pytest.mark.parametrize(
    "text",
    [
        "凡是承诺保本保息的都要警惕",
        "警方提醒：高额回报、拉人头返利都是非法集资的套路",
        "三年期定期存款年利率1.75%，受《存款保险条例》保护",
        "储蓄国债 3年期 票面利率2.38%，到期还本付息，额度有限",
        "社区老年大学书法班免费报名",
        "不要相信什么保本高息，都是骗局",
        "切勿参与虚拟货币挖矿，谨防上当受骗",
        "防范非法集资：不轻信高额回报，不参与拉人头",
        "市中级法院判决：被告人以养老公寓为名，承诺每月返利3%，吸收资金2亿元",
        "保本理财是不是都不靠谱",
        "养老项目靠谱吗",
        "什么是虚拟货币",
    ],
)
def test_warnings_notices_and_questions_raise_nothing(checker, text):
    assert ids(checker, text) == []


@pytest.mark.parametrize(
    "text", ["本产品不承诺保本，不保证收益", "我们没有返利，也不搞拉人头", "本理财产品为非保本浮动收益型"]
)
def test_negated_phrases_raise_nothing(checker, text):
    assert ids(checker, text) == []


def test_negation_cancels_only_what_it_negates(checker):
    assert ids(checker, "我们不承诺保本，但年化收益可达20%") == ["high_return"]
    assert "guaranteed_principal" in ids(checker, "这个项目不仅保本，年化还有12%")


def test_a_pitch_that_merely_claims_state_support_is_flagged(checker):
    assert ids(checker, "国家支持的养老项目，投资5万每年分红6000") == [
        "high_return", "fake_endorsement", "pension_disguise"]


def test_pitch_words_that_look_like_warnings_do_not_hide_the_pitch(checker):
    assert ids(checker, "谨防错过！国家扶持项目，年化15%") == ["high_return", "fake_endorsement"]
    assert ids(checker, "这不是骗局，保本保息，名额有限") == ["guaranteed_principal", "urgency"]


def test_only_the_warning_sentence_is_suppressed(checker):
    text = "投资有风险，入市需谨慎。本平台保本保息，年化20%。"
    assert ids(checker, text) == ["guaranteed_principal", "high_return"]


def test_a_notice_naming_an_official_product_at_a_high_rate_is_still_a_pitch(checker):
    assert ids(checker, "比国债还稳！年化15%，到期还本") == ["guaranteed_principal", "high_return"]


def test_a_question_quoting_a_concrete_offer_is_checked(checker):
    assert ids(checker, "他们说投养老公寓每年返12%还保本，靠谱吗？") == [
        "guaranteed_principal", "high_return", "pension_disguise"]


def test_traditional_full_width_and_emoji_are_understood_and_quoted_as_written(checker):
    report = checker.analyse("🔥國家扶持🔥　養老項目，年化１８％，保本保息！")
    assert report.flag_ids == ["guaranteed_principal", "high_return", "fake_endorsement", "pension_disguise"]
    phrases = {f.id: f.phrase for f in report.flags}
    assert phrases["fake_endorsement"] == "國家扶持"
    assert phrases["high_return"] == "年化１８％"


def test_the_alignment_reproduces_normalise_on_every_labelled_text(labelled, fresh, holdout, street):
    for case in labelled + fresh + holdout + street:
        a = align(case["text"])
        assert a.norm == normalise(case["text"]) and a.index is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a warning that turns to the speaker's own offer warns only up to the turn
        ("别的平台都是骗人的，我们这个是真的，国家都备案了，日息百分之一", ["high_return", "fake_endorsement"]),
        # a denied cue is no warning
        ("我们这个绝对不是骗人的，保本保息，年化20%", ["guaranteed_principal", "high_return"]),
        # 要不要投 asks, it does not warn
        ("他说一年给百分之十五的利息，有国企担保，你看我要不要投", ["high_return", "fake_endorsement"]),
        # 再不上车 is pressure, not a negation
        ("这个项目一万块一周五百，你再不上车就晚了", ["high_return", "urgency"]),
    ],
)
def test_pitches_dressed_in_warning_words_are_still_pitches(checker, text, expected):
    assert ids(checker, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "XX银行温馨提示：本行从未通过微信群、短信推销高收益理财产品，请通过官方渠道办理。",  # 从未 negates the clause
        "今天股票又跌了，早知道就把钱存银行了，起码保本。",                                 # talk about a bank
        "财政部发行的储蓄国债是国家信用，到期还本付息，这个可以放心买，就是额度有限。",     # a bond, no rate said
        "我邻居在一个地方天天听课领鸡蛋，买了床垫每个月返六百，现在那里人去楼空了，大家千万小心！",  # a victim's story
        "爸你听我说那个什么保本保息一年返百分之二十的全是骗人的你可千万别把钱交给他们",      # voice, warning
    ],
)
def test_notices_stories_and_warnings_in_ordinary_words_raise_nothing(checker, text):
    assert ids(checker, text) == []


def test_a_comparison_with_a_bank_is_no_bank_notice(checker):
    assert "guaranteed_principal" in ids(checker, "放我们这里比存银行强多了，保本保息")
    assert ids(checker, "比国债还稳！年化15%，到期还本") == ["guaranteed_principal", "high_return"]


def test_variant_spellings_are_read_and_quoted_as_written(checker):
    report = checker.analyse("高利西 月月拿 稳转不赔 亲朋好友都可以参与")
    assert report.flag_ids == ["guaranteed_principal", "high_return", "public_solicitation"]
    phrases = {f.id: f.phrase for f in report.flags}
    assert phrases["guaranteed_principal"] == "稳转不赔" and phrases["high_return"] == "高利西"
    assert ids(checker, "yue息2分 保ben 可签合同 私聊") == ["guaranteed_principal", "high_return"]
    assert checker.prepare("benefit xi'an").norm == "benefit xi'an"  # Latin letters inside a word stay


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # homophones and slips of voice input
        ("高汇报低风险 稳砖不赔 日反百分之一 拉人有奖", ["guaranteed_principal", "high_return", "referral_reward"]),
        ("平台是正归的有营业只照，年花百分之十八", ["high_return", "fake_endorsement"]),
        # a deposit paid back in full after a span; a guarantor that pays for any loss
        ("买满1000元，分100天每天返10元，100天全部返还", ["guaranteed_principal", "high_return", "rebate_disguise"]),
        ("出了事担保公司全赔，月息两分", ["guaranteed_principal", "high_return", "fake_endorsement"]),
        ("充两万的会员卡每月返四百，卡里的钱一年后全部退给你，介绍老姐妹来办卡再给你五百",
         ["guaranteed_principal", "high_return", "referral_reward", "rebate_disguise"]),
        # a head count as pressure; a deadline to buy before
        ("养老理财讲座 月息1.5分 限额80人", ["high_return", "urgency", "public_solicitation", "pension_disguise"]),
        # a coin mined in an app, with a price that rises on listing
        ("注册就能挖币，一个币现在值两块多，上了交易所能涨到几十块，拉的人越多算力越高",
         ["high_return", "referral_reward", "crypto_disguise"]),
        # a 互助养老计划 that pays is a pitch; the rent of a bought bed is a leaseback, not a rebate
        ("互助養老計劃，每月繳納500元，滿一年後每月可領取1000元", ["high_return", "pension_disguise"]),
        ("买一个床位十二万，每年返租金一万四千四", ["high_return", "pension_disguise", "leaseback_disguise"]),
    ],
)
def test_street_phrasings_are_understood(checker, text, expected):
    assert ids(checker, text) == expected


@pytest.mark.parametrize(
    "text",
    ["押金在退房时全部返还，请保管好收据", "车险买全了，出了事保险公司全赔，放心开",
     "老年大学书法班限额30人，学费200元",
     "欢迎加入我们的广场舞队，每周三晚上七点社区广场", "今年大蒜价格涨到几十块一斤，真离谱",
     "互助养老服务点每周二免费量血压", "超市鸡蛋特价，过了今天就没有了，每人限购两斤",
     "老板说今年效益好，年终一年给百分之五的奖金"],
)
def test_street_words_in_ordinary_life_raise_nothing(checker, text):
    assert ids(checker, text) == []


def test_an_ask_in_front_of_the_quoted_text_is_kept_apart(checker):
    for ask in ("帮我看看这个靠谱吗：", "帮我看看这个靠谱吗 ", "幫我看看這個靠譜嗎：", "这个靠谱吗？", "帮我看看："):
        assert ids(checker, ask + "国家支持的养老项目，保本保息") == [
            "guaranteed_principal", "fake_endorsement", "pension_disguise"], ask
    assert ids(checker, "养老项目靠谱吗") == [] and ids(checker, "帮我看看这个") == []


@pytest.mark.parametrize("text", ["", "😊😊", "？？？", "。。。", " \n ", "……"])
def test_a_message_with_no_words_raises_nothing_and_is_no_pitch(checker, text):
    assert ids(checker, text) == [] and not checker.looks_like_pitch(text)
    assert "未发现明显危险信号" in render_reply(checker.analyse(text))


def test_line_breaks_separate_sentences(checker):
    flyer = "警惕高息陷阱\n本公司保本保息 年化20%"
    assert ids(checker, flyer) == ["guaranteed_principal", "high_return"]


# ------------------------------------------------------------------ verdict and pitch detection


@pytest.mark.parametrize(
    ("flags", "verdict"),
    [
        ([], "none"),
        (["urgency"], "caution"),
        (["guaranteed_principal"], "caution"),
        (["urgency", "gift_lure"], "caution"),
        (["high_return", "urgency"], "high"),
        (["guaranteed_principal", "high_return"], "high"),
        (["urgency", "gift_lure", "public_solicitation"], "high"),
    ],
)
def test_verdict_levels(flags, verdict):
    assert verdict_for(flags) == verdict


def test_verdicts_of_real_texts(checker):
    assert checker.analyse("保本保息，年化18%").verdict == "high"
    assert checker.analyse("名额有限，进群领鸡蛋，项目介绍会明天开").verdict == "high"
    assert checker.analyse("这个项目是政府扶持的，欢迎来公司看看").verdict == "caution"
    assert checker.analyse("晚上吃饺子，记得买醋").verdict == "none"


def test_flag_ids_follow_the_contract_order(checker):
    report = checker.analyse("养老公寓项目，名额有限，保本保息")
    assert report.flag_ids == [f for f in FLAG_IDS if f in report.flag_ids]
    shuffled = RiskReport(tuple(reversed(report.flags)), report.verdict, None)
    assert shuffled.flag_ids == report.flag_ids


@pytest.mark.parametrize(
    "text",
    [
        "国家支持的养老项目，年化18%，保本保息，名额有限",
        "投资10万，每月返1500元",
        "区块链挖矿，拉一个人奖励200元",
    ],
)
def test_plain_pitches_look_like_pitches(checker, text):
    assert checker.looks_like_pitch(text)


@pytest.mark.parametrize(
    "text",
    ["养老项目靠谱吗", "什么是虚拟货币", "保本理财是不是都不靠谱", "我要举报", "年化收益多少算高？",
     "这个项目是政府扶持的", "今天菜价翻倍了"],
)
def test_questions_and_chat_do_not_look_like_pitches(checker, text):
    assert not checker.looks_like_pitch(text)


# ------------------------------------------------------------------ the reply


def test_a_text_raising_every_flag_fits_one_wechat_reply(checker):
    report = checker.analyse(ALL_FLAGS_TEXT)
    assert report.flag_ids == list(FLAG_IDS)
    reply = render_reply(report)
    assert len(reply.encode("utf-8")) <= WECHAT_PASSIVE_LIMIT
    assert "明显高风险" in reply and "另有" in reply           # the flag list was cut, and says so
    assert "「保本保息」" in reply and "36%" in reply
    assert "《防范和处置非法集资条例》第二条" in reply and "（2022年修正）第一条" in reply


def test_the_reply_quotes_phrases_explains_them_and_says_what_to_do(checker):
    report = checker.analyse("投资10万，每月返1500，保本保息")
    reply = render_reply(report)
    for flag in report.flags:
        assert f"「{flag.phrase}」{flag.why}" in reply
    assert "18%" in reply and "2%" in reply and "单利" in reply
    assert "不要交钱" in reply and "不要拉亲友" in reply and "截图" in reply and "合同" in reply
    assert "我要举报" in reply and "110" in reply
    assert "非法性、公开性、利诱性、社会性" in reply


def test_the_caution_and_none_replies(checker):
    caution = render_reply(checker.analyse("这个项目是政府扶持的，欢迎来公司看看"))
    assert caution.startswith("【风险检查】结论：需要警惕") and "我要举报" in caution
    none = render_reply(checker.analyse("三年期定期存款年利率1.75%，受《存款保险条例》保护"))
    assert "未发现明显危险信号" in none and "不等于一定安全" in none and "持牌" in none
    assert "1.75%" in none and "我要举报" in none
    assert len(none.encode("utf-8")) <= WECHAT_PASSIVE_LIMIT


def test_very_long_phrases_are_shortened_in_the_reply():
    long = Flag("guaranteed_principal", "本金" * 40, "正规投资都有风险。", "red_flags")
    reply = render_reply(RiskReport((long,) * 15, "high", 123.0))
    assert len(reply.encode("utf-8")) <= WECHAT_PASSIVE_LIMIT and "…" in reply


# ------------------------------------------------------------------ the lexicon


def _raw() -> dict:
    return yaml.safe_load(LEXICON.read_text(encoding="utf-8"))


def test_the_lexicon_covers_exactly_the_contract_ids():
    lex = Lexicon.load(LEXICON)
    assert tuple(lex.flags) == FLAG_IDS
    topics = {fid: e.topic for fid, e in lex.flags.items()}
    assert topics["pension_disguise"] == "tactic_pension" and topics["crypto_disguise"] == "tactic_crypto"
    assert topics["leaseback_disguise"] == "tactic_real_estate" and topics["urgency"] == "red_flags"


def test_the_lexicon_rejects_an_unknown_flag_id():
    data = _raw()
    data["flags"]["ponzi_vibes"] = copy.deepcopy(data["flags"]["urgency"])
    with pytest.raises(ValueError, match="ponzi_vibes"):
        Lexicon.from_dict(data)


def test_the_lexicon_rejects_a_missing_flag_an_unknown_topic_and_a_bad_pattern():
    data = _raw()
    del data["flags"]["gift_lure"]
    with pytest.raises(ValueError, match="gift_lure"):
        Lexicon.from_dict(data)
    data = _raw()
    data["flags"]["urgency"]["topic"] = "no_such_topic"
    with pytest.raises(ValueError, match="no_such_topic"):
        Lexicon.from_dict(data)
    data = _raw()
    data["flags"]["urgency"]["patterns"] = ["(unclosed"]
    with pytest.raises(ValueError, match="unclosed"):
        Lexicon.from_dict(data)
    data = _raw()
    data["flags"]["urgency"]["phrases"], data["flags"]["urgency"]["patterns"] = [], []
    with pytest.raises(ValueError):
        Lexicon.from_dict(data)


def test_a_new_variant_spelling_needs_no_code():
    data = _raw()
    data["variants"]["保本金"] = "保本"
    assert "guaranteed_principal" in ids(RiskChecker(data), "这个产品保本金，年化20%")
    data["variants"]["有 空格"] = "保本"
    with pytest.raises(ValueError, match="space"):
        Lexicon.from_dict(data)


def test_a_new_scheme_name_needs_no_code():
    data = _raw()
    data["flags"]["crypto_disguise"]["phrases"].append("灵犀链")
    fresh = RiskChecker(data)
    assert ids(fresh, "灵犀鏈项目，投资一万元，天天有收益") == ["high_return", "crypto_disguise"]
    assert "crypto_disguise" not in ids(RiskChecker.from_file(LEXICON), "灵犀链项目，投资一万元")


# ------------------------------------------------------------------ the engine handler


def test_the_handler_takes_an_ask_with_text_and_a_plain_pitch_but_not_chat(checker):
    from bot.dialogue.riskflow import RiskCheckHandler

    handler = RiskCheckHandler(checker, render_reply, lambda topic: topic)
    assert handler.is_pitch("帮我看看这个靠谱吗：【XX银行】本行三年期定期存款年利率1.75%")  # even a legit one
    assert handler.is_pitch("幫我看看這個：本店會員充值一萬元，每月返利息三百元")
    assert handler.is_pitch("零风险！高回报！投资1万元，一年后拿回1.5万元，名额仅剩最后10个！")
    assert handler.is_pitch("老王啊我跟你讲那个养老院的床位你拿个五万块放进去每个月就给你七百五")
    for text in ("帮我看看这个靠谱吗", "这个靠谱吗？", "晚上吃饺子", "什么是非法集资", "保本理财是不是都不靠谱？"):
        assert not handler.is_pitch(text), text


@pytest.mark.parametrize(
    "text",
    ["养老公寓会员卡 交十万每年返8%还保本 是不是骗局", "币圈稳赚群 天天晒收益 年化百分之五十 进不进",
     "有人说保本保息月息3分 这种说法靠谱不", "养老院说交十万每年还给百分之十五的回报 俺爹非要交 咋办"],
)
def test_a_text_ending_in_the_senders_own_question_is_left_to_the_nlu(checker, text):
    from bot.dialogue.riskflow import RiskCheckHandler

    assert checker.analyse(text).flags  # the check would find something, but the sender asked a question
    assert not RiskCheckHandler(checker, render_reply, lambda t: t).is_pitch(text)


def test_a_pitch_that_ends_by_inviting_its_reader_is_still_a_pitch(checker):
    from bot.dialogue.riskflow import RiskCheckHandler

    handler = RiskCheckHandler(checker, render_reply, lambda t: t)
    assert handler.is_pitch("妈，我同事推荐了个养老理财，一万块一年能拿两千利息，还保本，要不你也投点？")
    assert handler.is_pitch("今天我们公司的黄金理财 一年收益百分之二十 还送一个金手镯 你要不要来看看")
