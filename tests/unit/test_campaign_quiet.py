"""Quiet hours: nothing is pushed between 21:00 and 08:00 Beijing time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.campaigns.quiet import QuietHours

BJ = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("hh, mm, quiet", [
    (20, 59, False), (21, 0, True), (23, 30, True), (0, 0, True), (7, 59, True), (8, 0, False), (12, 0, False),
])
def test_the_default_range_wraps_past_midnight(hh, mm, quiet):
    assert QuietHours().is_quiet(datetime(2027, 6, 1, hh, mm, tzinfo=BJ)) is quiet


def test_it_is_local_time_whatever_the_clock_zone():
    # 13:30 UTC is 21:30 in Beijing
    assert QuietHours().is_quiet(datetime(2027, 6, 1, 13, 30, tzinfo=UTC))
    assert not QuietHours().is_quiet(datetime(2027, 6, 1, 1, 0, tzinfo=UTC))  # 09:00 in Beijing


def test_next_open_is_eight_the_same_or_the_next_morning():
    q = QuietHours()
    assert q.next_open(datetime(2027, 6, 1, 22, 15, tzinfo=BJ)) == datetime(2027, 6, 2, 8, 0, tzinfo=BJ)
    assert q.next_open(datetime(2027, 6, 2, 6, 0, tzinfo=BJ)) == datetime(2027, 6, 2, 8, 0, tzinfo=BJ)
    noon = datetime(2027, 6, 2, 12, 0, tzinfo=BJ)
    assert q.next_open(noon) == noon


def test_an_empty_spec_switches_them_off_and_a_same_day_range_works():
    assert not QuietHours("").is_quiet(datetime(2027, 6, 1, 23, 0, tzinfo=BJ))
    lunch = QuietHours("12:00-13:30")
    assert lunch.is_quiet(datetime(2027, 6, 1, 12, 45, tzinfo=BJ))
    assert not lunch.is_quiet(datetime(2027, 6, 1, 13, 30, tzinfo=BJ))
    with pytest.raises(ValueError):
        QuietHours("08:00-08:00")
