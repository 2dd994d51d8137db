from bot.textnorm import normalise, to_half_width


def test_traditional_becomes_simplified():
    assert normalise("俺想問問這個養老項目靠譜嗎") == "俺想问问这个养老项目靠谱吗"


def test_full_width_becomes_half_width_and_lower_case():
    assert to_half_width("ＡＢＣ１２３！") == "ABC123!"
    assert normalise("ＵＳＤＴ　理財") == "usdt 理财"


def test_emoji_are_dropped_and_spaces_folded():
    assert normalise("  非法集资😟🙏  是啥  ") == "非法集资 是啥"
