"""content/campaigns: every piece loads, renders per channel within the platforms' limits, and routes."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.campaigns.content import (
    FOOTER,
    GROUPS,
    UNSUBSCRIBE_BUTTON,
    WECHAT_LIMIT,
    CalendarEntry,
    Library,
    Piece,
)
from bot.campaigns.quiet import QuietHours
from bot.knowledge import KnowledgeBase, load_topic_ids

REPO = Path(__file__).resolve().parents[2]
VALUES = {"city_office": "安康市防范和处置非法集资工作领导小组办公室（示例）", "city_phone": "0915-0000000（示例）"}
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def lib() -> Library:
    return Library.load(REPO / "content", VALUES)


@pytest.fixture(scope="module")
def known_buttons() -> set[str]:
    kb = KnowledgeBase.load(REPO / "content", load_topic_ids(REPO / "content" / "spec" / "topics.yaml"), VALUES)
    return set(kb.button_map()) | {t.title for t in kb.topics.values()}


def test_two_pieces_or_more_for_each_group_and_the_public_and_every_button_routes(lib, known_buttons):
    assert lib.problems(known_buttons) == []
    regular = [p for p in lib.pieces.values() if not p.calendar]
    for group in (*GROUPS, "low_income", "public"):
        assert sum(p.audience == group for p in regular) >= 2, group
    assert UNSUBSCRIBE_BUTTON in known_buttons  # the button added to every push leads to unsubscribing


def test_the_calendar_has_the_five_occasions_with_pieces_for_their_readers(lib):
    by_id = {e.id: e for e in lib.calendar}
    assert {"june_month", "day_515", "chongyang", "graduation", "school_start"} <= set(by_id)
    assert by_id["chongyang"].audiences == ["elderly"] and lib.pieces[by_id["chongyang"].piece].audience == "elderly"
    for occasion in ("graduation", "school_start"):
        assert by_id[occasion].audiences == ["student"]
    for entry in lib.calendar:
        assert lib.pieces[entry.piece].calendar, entry.id


def test_calendar_dates_fall_on_the_right_days_and_outside_quiet_hours(lib):
    by_id = {e.id: e for e in lib.calendar}
    assert by_id["day_515"].occurrences(date(2027, 1, 1), date(2027, 12, 31), SHANGHAI) == [
        datetime(2027, 5, 15, 10, 0, tzinfo=SHANGHAI)]
    # 重阳节 2027 is the ninth day of the ninth lunar month: 8 October
    assert [d.date() for d in by_id["chongyang"].occurrences(date(2027, 1, 1), date(2027, 12, 31), SHANGHAI)] == [
        date(2027, 10, 8)]
    quiet = QuietHours("21:00-08:00")
    for entry in lib.calendar:
        for when in entry.occurrences(date(2026, 1, 1), date(2030, 12, 31), SHANGHAI):
            assert not quiet.is_quiet(when), entry.id


def test_telegram_rendering_has_title_basis_footer_and_buttons(lib):
    for piece in lib.pieces.values():
        out = piece.render("telegram", VALUES)
        assert out.text.startswith(f"【{piece.title}】") and f"【依据】{piece.basis}" in out.text
        assert out.text.endswith(FOOTER) and "${" not in out.text
        assert [b.label for b in out.buttons] == [*piece.buttons, UNSUBSCRIBE_BUTTON]
        assert len(out.text) <= 4096


def test_wechat_rendering_fits_one_customer_service_text(lib):
    for piece in lib.pieces.values():
        out = piece.render("wechat", VALUES)
        assert len(out.text.encode()) <= WECHAT_LIMIT and out.text.endswith(FOOTER), piece.id
        assert out.buttons == () and all(f"“{b}”" in out.text for b in piece.buttons)  # typed, not tapped


def test_a_wechat_article_renders_as_a_digest_with_a_link_and_a_wechat_text_replaces_the_common_one(lib):
    raw = lib.pieces["public_report"].model_dump()
    raw["wechat"] = {"article": {"url": "https://mp.weixin.qq.com/s/example", "digest": "四种举报渠道，信息保密。"}}
    article = Piece.model_validate(raw).render("wechat", VALUES)
    assert '<a href="https://mp.weixin.qq.com/s/example">' in article.text and "四种举报渠道" in article.text
    assert Piece.model_validate(raw).render("telegram", VALUES).text == lib.pieces["public_report"].render(
        "telegram", VALUES).text
    raw["wechat"] = {"text": "微信里写得更短的一版，专门给公众号读者看的提醒文字。"}
    assert "更短的一版" in Piece.model_validate(raw).render("wechat", VALUES).text
    raw["wechat"] = {"article": {"url": "http://insecure.example", "digest": "x"}}
    with pytest.raises(ValueError, match="https"):
        Piece.model_validate(raw)


@pytest.mark.parametrize("change, message", [
    ({"audience": "farmers"}, "unknown audience"),
    ({"buttons": []}, "at least 1"),
    ({"text": "长" * 1500}, "too long"),
])
def test_a_bad_piece_is_refused(lib, change, message):
    raw = {**lib.pieces["public_report"].model_dump(), **change}
    with pytest.raises(ValueError, match=message):
        Library(pieces={"public_report": Piece.model_validate(raw)}, calendar=[], values=VALUES)


def test_a_calendar_entry_must_name_a_piece_and_one_kind_of_date(lib):
    entry = {"id": "x_day", "name": "某个日子", "piece": "no_such_piece", "every_year": "03-15", "at": "10:00"}
    with pytest.raises(ValueError, match="unknown piece"):
        Library(pieces=lib.pieces, calendar=[CalendarEntry.model_validate(entry)], values=VALUES)
    with pytest.raises(ValueError, match="either"):
        CalendarEntry.model_validate({**entry, "on_dates": ["2027-03-15"]})


def test_loading_names_the_broken_file(tmp_path, lib):
    (tmp_path / "campaigns" / "pieces").mkdir(parents=True)
    (tmp_path / "campaigns" / "calendar.yaml").write_text("entries: []\n", encoding="utf-8")
    bad = {**lib.pieces["public_report"].model_dump(), "id": "broken", "audience": "aliens"}
    (tmp_path / "campaigns" / "pieces" / "broken.yaml").write_text(yaml.safe_dump(bad, allow_unicode=True),
                                                                   encoding="utf-8")
    with pytest.raises(ValueError, match="broken.yaml"):
        Library.load(tmp_path)
    # and an empty library is loadable but reported as not covering the groups
    (tmp_path / "campaigns" / "pieces" / "broken.yaml").unlink()
    assert len(Library.load(tmp_path).problems()) == 6  # four groups, low-income families, the public
