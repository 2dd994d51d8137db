"""Pictures outside a tip are read (real RapidOCR on rendered images) and checked like a forwarded text;
inside a tip a picture stays sealed evidence and is never read. The web upload route and its limits."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image

from bot.media.ocr import RapidOcrReader
from bot.media.pictures import UNREAD
from bot.messages import Inbound
from tests.fakes.pictures import render

LINES = ["王经理：咱们的养老项目月息三分，", "保本保息，稳赚不赔。", "介绍朋友入股还有提成，名额有限！"]
TYPED = "\n".join(LINES)


@pytest.fixture(scope="module")
def pitch_png() -> bytes:
    return render(LINES)


class CountingReader(RapidOcrReader):
    """The real reader, counting how often it is asked to read."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def read_sync(self, image: bytes) -> str:
        self.reads += 1
        return super().read_sync(image)


def counting(services) -> CountingReader:  # type: ignore[no-untyped-def]
    reader = CountingReader()
    services.engine.pictures.reader = reader
    return reader


def upload(client, png: bytes, user: str = "webpic1"):  # type: ignore[no-untyped-def]
    return client.post("/api/chat/image", data={"user": user}, files={"image": ("flyer.png", png, "image/png")})


def test_a_picture_uploaded_on_the_web_is_read_and_checked_like_the_typed_text(sqlite_client, pitch_png):
    response = upload(sqlite_client, pitch_png)
    assert response.status_code == 200, response.text
    body = response.json()
    services = sqlite_client.app.state.services
    typed = services.risk.analyse(TYPED)
    assert typed.flag_ids and body["red_flags"] == typed.flag_ids  # the same flags as the text typed in
    first = body["replies"][0]["text"]
    assert first.startswith("我读了您发来的图片") and "月息三分" in first
    for flag in typed.flags[:5]:
        assert f"「{flag.phrase}」" in first  # the phrases relied on are quoted
    assert body["topic"] == "risk_check"


def test_the_same_picture_as_json_base64(sqlite_client, pitch_png):
    image = "data:image/png;base64," + base64.b64encode(pitch_png).decode()
    response = sqlite_client.post("/api/chat/image", json={"user": "webpic2", "image": image})
    assert response.status_code == 200 and "guaranteed_principal" in response.json()["red_flags"]


def _blank(size: tuple[int, int], fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, fmt)
    return buf.getvalue()


def test_upload_limits_give_clear_4xx(sqlite_client):
    c = sqlite_client
    assert upload(c, b"%PDF-1.4 not a picture").status_code == 415
    assert upload(c, b"\x89PNG\r\n\x1a\n broken").status_code == 400
    assert upload(c, b"\xff\xd8\xff" + b"\0" * (5 * 1024 * 1024)).status_code == 413
    huge = c.post("/api/chat/image", content=b"x" * (8 * 1024 * 1024), headers={"content-type": "image/png"})
    assert huge.status_code == 413  # refused on its Content-Length before it is read
    assert c.post("/api/chat/image", content=b"abc", headers={"content-type": "image/png"}).status_code == 415
    assert c.post("/api/chat/image", json={"user": "u1", "image": "***"}).status_code == 400
    assert c.post("/api/chat/image", json={"user": "u1"}).status_code == 422
    assert upload(c, _blank((20, 20)), user="bad user!").status_code == 422
    missing = c.post("/api/chat/image", data={"user": "u1"}, files={"other": ("a.png", b"x", "image/png")})
    assert missing.status_code == 422 and "image" in missing.json()["error"]
    assert c.post("/api/chat", json={"user": "u1", "text": "x" * 300_000}).status_code == 413  # chat stays small


def test_a_picture_without_text_gets_a_kind_answer(sqlite_client):
    response = upload(sqlite_client, _blank((400, 300), "JPEG"), user="webpic3")
    assert response.status_code == 200 and response.json()["replies"][0]["text"] == UNREAD


async def test_inside_a_tip_a_picture_is_sealed_evidence_and_never_read(services, pitch_png):
    reader = counting(services)

    async def say(text: str = "", media: bytes | None = None):  # type: ignore[no-untyped-def]
        kind = "image" if media else "text"
        return await services.turns.handle(Inbound(channel="telegram", user="30001", text=text, kind=kind,
                                                    media=media))

    for text in ("我要举报", "汉阴县", "某某养老公司", "他们说月息三分保本保息，拉了很多老人", "跳过", "跳过"):
        await say(text)
    turn = await say(media=pitch_png)
    assert "收到第1张图片" in turn.replies[0].text and turn.red_flags == ()
    assert reader.reads == 0
    assert await say("退订") and reader.reads == 0


async def test_a_picture_sent_when_asked_for_a_pitch_is_read(services, pitch_png):
    reader = counting(services)
    user = Inbound(channel="wechat", user="oPicUser1", text="帮我看看靠不靠谱")
    await services.turns.handle(user)
    turn = await services.turns.handle(Inbound(channel="wechat", user="oPicUser1", kind="image", media=pitch_png))
    assert reader.reads == 1 and "high_return" in turn.red_flags
    assert turn.extra["ocr_text"].replace("\n", "") == TYPED.replace("\n", "")


async def test_with_ocr_off_a_picture_is_not_read(make_services, sqlite_url, pitch_png):
    svc = make_services(sqlite_url, ocr="off")
    assert svc.engine.pictures is None
    turn = await svc.turns.handle(Inbound(channel="web", user="off1", kind="image", media=pitch_png))
    assert "没能看图片上的字" in turn.replies[0].text and turn.red_flags == ()
    svc.db.dispose()


def test_the_models_ship_inside_the_wheel_and_load_without_network(pitch_png):
    import rapidocr_onnxruntime

    models = Path(rapidocr_onnxruntime.__file__).parent / "models"
    assert {p.name for p in models.glob("*.onnx")} >= {"ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx"}
    reader = RapidOcrReader()
    assert reader.load()  # under the suite's network guard: any connection beyond localhost would fail
    assert "月息三分" in reader.read_sync(pitch_png)
