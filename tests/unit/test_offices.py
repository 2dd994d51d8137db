"""The offices directory: validation and finding the office a message names."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from bot.offices import OfficeDirectory

OFFICES_YAML = Path(__file__).resolve().parents[2] / "content" / "offices.yaml"
COUNTIES = {
    "hanbin": "汉滨区", "hanyin": "汉阴县", "shiquan": "石泉县", "ningshan": "宁陕县", "ziyang": "紫阳县",
    "langao": "岚皋县", "pingli": "平利县", "zhenping": "镇坪县", "xunyang": "旬阳市", "baihe": "白河县",
}


@pytest.fixture(scope="module")
def directory() -> OfficeDirectory:
    return OfficeDirectory.load(OFFICES_YAML)


def test_city_and_counties(directory):
    city = directory.city
    assert city.code == "ankang" and city.is_city and city.parent is None
    assert city.name == "安康市防范和处置非法集资工作领导小组办公室"
    assert [o.code for o in directory.counties] == list(COUNTIES)
    assert all(o.parent == "ankang" and not o.is_city for o in directory.counties)
    assert directory.get("xunyang").area == "旬阳市"
    assert directory.get("beijing") is None


@pytest.mark.parametrize("code", list(COUNTIES))
def test_every_county_resolves_by_name_and_aliases(directory, code):
    office = directory.get(code)
    assert directory.resolve(COUNTIES[code]) is office
    assert directory.resolve(f"我在{COUNTIES[code]}城关镇，有人拉我投资") is office
    assert office.aliases
    for alias in office.aliases:
        assert directory.resolve(f"事情发生在{alias}那边") is office, alias


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("漢濱區有個理財公司", "hanbin"),
        ("旬陽縣", "xunyang"),
        ("嵐皋縣", "langao"),
        ("寧陝", "ningshan"),
        ("旬阳县", "xunyang"),
        ("旬阳", "xunyang"),
        ("洵阳县", "xunyang"),
        ("兰皋县有人非法集资", "langao"),
        ("安康市汉滨区江北街道", "hanbin"),     # the county, not the city it sits in
        ("陕西省安康市白河县", "baihe"),
        ("安康", "ankang"),
        ("安康市", "ankang"),
        ("我在安康市区", "ankang"),
    ],
)
def test_resolve(directory, text, code):
    assert directory.resolve(text).code == code


@pytest.mark.parametrize("text", ["北京", "西安市雁塔区", "我不知道在哪", "", "水平利率很高", "祝您身体安康"])
def test_unknown_or_out_of_area_resolves_to_none_but_or_city_gives_city(directory, text):
    assert directory.resolve(text) is None
    assert directory.resolve_or_city(text) is directory.city


def test_false_friend_context_does_not_hide_a_real_mention(directory):
    assert directory.resolve("平利县有人说水平利率很高").code == "pingli"


def test_sample_contacts_are_marked_as_examples(directory):
    raw = OFFICES_YAML.read_text(encoding="utf-8")
    assert directory.sample is True
    assert "部署时替换" in raw and "must replace" in raw.lower()
    for office in directory.offices:
        assert "示例" in office.contacts.phone and "部署时替换" in office.contacts.phone
        assert office.contacts.email.endswith("@example.invalid")
        assert "示例" in office.contacts.address
        assert office.public_key is None


def _write(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load(OFFICES_YAML.read_text(encoding="utf-8"))
    mutate(data["offices"])
    path = tmp_path / "offices.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_the_unchanged_copy_loads(tmp_path):
    assert len(OfficeDirectory.load(_write(tmp_path, lambda offices: None)).counties) == 10


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda o: o[2]["aliases"].append("汉滨"), "alias"),                 # hanyin also claims 汉滨
        (lambda o: o[3]["aliases"].append("漢濱區"), "alias"),               # same after normalising
        (lambda o: o[2].update(code="hanbin"), "duplicate office codes"),
        (lambda o: o[1].update(is_city=True, parent=None), "exactly one city"),
        (lambda o: o[0].update(is_city=False), "exactly one city"),
        (lambda o: o[4].update(parent="xian"), "parent"),
        (lambda o: o[5].update(public_key="not-a-key"), "public_key"),
    ],
)
def test_validation_rejects_a_bad_directory(tmp_path, mutate, message):
    with pytest.raises(ValidationError, match=message):
        OfficeDirectory.load(_write(tmp_path, mutate))
