"""POST /api/chat/image: the web page's pictures reach the engine as image messages; in a tip they are
sealed evidence like a WeChat or Telegram photo."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from bot.store.models import Tip, TipSeal
from bot.tips.keys import DEV_PASSPHRASE, unlock
from tests.integration.test_chat_api import say


def _jpeg() -> bytes:
    """A real (tiny, blank) JPEG: the route opens every picture before the engine sees it."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (250, 250, 250)).save(out, "JPEG")
    return out.getvalue()


JPEG = _jpeg()
ANSWERS = {"region": "石泉县", "subject": "石泉某某农业合作社", "description": "每月返息三分，保本保息，拉人头有奖励",
           "amount": "跳过", "participants": "跳过", "evidence": "好了", "contact": "匿名", "confirm": "确认"}


def picture(client, user: str, data: bytes = JPEG, name: str = "photo.jpg"):  # type: ignore[no-untyped-def]
    return client.post("/api/chat/image", data={"user": user}, files={"image": (name, data, "image/jpeg")})


def until(client, user: str, slot: str) -> None:  # type: ignore[no-untyped-def]
    body = say(client, user, "我要举报")
    for _ in range(12):
        if body["expects"] == slot:
            return
        body = say(client, user, ANSWERS[body["expects"]])
    pytest.fail(f"the tip flow never asked for {slot}")


def test_a_picture_in_the_tip_flow_is_sealed_evidence(client, services):
    until(client, "pic-tipster", "evidence")
    r = picture(client, "pic-tipster")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["expects"] == "evidence" and "第1张" in body["replies"][0]["text"]
    body = say(client, "pic-tipster", "好了")
    while body["expects"] != "confirm":
        body = say(client, "pic-tipster", ANSWERS[body["expects"]])
    assert "1张图片" in body["replies"][0]["text"]
    assert say(client, "pic-tipster", "确认")["receipt"]
    with services.uow() as uow:
        tip = uow.session.scalars(select(Tip)).one()
        seal = uow.session.scalars(select(TipSeal).where(TipSeal.tip_id == tip.id, TipSeal.part == "evidence")).one()
        assert JPEG not in seal.ciphertext  # sealed, not stored as given
        opened = unlock(uow.session, tip.office_code, DEV_PASSPHRASE).open_json(seal.ciphertext)
        assert base64.b64decode(opened["data"]) == JPEG


def test_a_picture_outside_a_tip_gets_the_engines_answer(client):
    body = picture(client, "pic-visitor").json()
    assert body["expects"] is None and "我要举报" in body["replies"][0]["buttons"]


@pytest.mark.parametrize(("kwargs", "status", "words"), [
    ({"data": {"user": "p1"}, "files": {"image": ("a.txt", b"hello, not a picture", "text/plain")}}, 415, "not a JPEG"),
    ({"data": {"user": "p1"}, "files": {"image": ("a.jpg", b"", "image/jpeg")}}, 400, "empty"),
    ({"data": {"user": "p1"}}, 422, "image"),
    ({"data": {"user": "bad user!"}, "files": {"image": ("a.jpg", JPEG, "image/jpeg")}}, 422, "user"),
    ({"data": {"user": "p1"}, "files": {"image": ("a.jpg", JPEG + b"0" * 5_300_000, "image/jpeg")}}, 413, ""),
])
def test_bad_uploads_get_a_clear_4xx(client, kwargs, status, words):
    r = client.post("/api/chat/image", **kwargs)
    assert r.status_code == status and words in r.json()["detail"]
