"""The push half of the fake WeChat API (used by FakeWeChatAPI in tests/fakes/wechat_api.py):
user tags, media upload, 群发 by tag with its MASSSENDJOBFINISH event, and 订阅通知.

It keeps the platform's rules and errcodes: 50 openids a batch (40032), 30-character tag names
(45158), unique names (45157), 100 tags an account (45056), 20 tags a person (45059), openids that
do not follow (40003); a mass send needs `filter.tag_id` (47001 without it), an existing tag (45159),
an uploaded article for mpnews (40007); a repeated `clientmsgid` within 24 h is refused (45065); a
spent send quota answers 45028; each person receives at most 4 mass messages a calendar month (more
are filtered out, as on a 服务号). After a job is accepted, the finish event is posted to the bot's
/wechat callback by a `WeChatPusher` (signed, and encrypted in safe mode, as WeChat does).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

MAX_TAGS = 100
MAX_TAGS_PER_USER = 20
MONTHLY_PER_USER = 4
JPEG = b"\xff\xd8\xff"


def _err(code: int, msg: str) -> dict:
    return {"errcode": code, "errmsg": msg}


@dataclass
class MassJob:
    msg_id: int
    tag_id: int
    kind: str
    content: Any
    client_msg_id: str
    recipients: list[str]          # everyone with the tag when the job ran
    delivered: list[str]           # after the monthly filter
    event_status: int | None = None  # HTTP status of the posted finish event


@dataclass
class FakePush:
    tags: dict[int, str] = field(default_factory=dict)
    members: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    unfollowed: set[str] = field(default_factory=set)
    thumbs: dict[str, bytes] = field(default_factory=dict)
    news: dict[str, list[dict]] = field(default_factory=dict)
    jobs: list[MassJob] = field(default_factory=list)
    received: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # openid → months
    mass_quota: int | None = None       # mass sends the account may still make (None: no limit)
    templates: set[str] = field(default_factory=set)
    consents: dict[tuple[str, str], int] = field(default_factory=dict)  # (openid, template) → uses (-1: long-term)
    subscribe_sent: list[tuple[str, str, dict]] = field(default_factory=list)
    callback: Any = None                # a WeChatPusher aimed at the bot's /wechat
    posters: list[threading.Thread] = field(default_factory=list)  # finish events being posted
    event_delay: float = 0.05
    next_tag: int = 100
    next_msg: int = 1000001
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- control ----------------------------------------------------------------------------------
    def tagged(self, name: str) -> set[str]:
        ids = [i for i, n in self.tags.items() if n == name]
        return set(self.members.get(ids[0], set())) if ids else set()

    def accept(self, openid: str, template_id: str, long_term: bool = False) -> None:
        """The person taps 允许 on the subscribe pop-up (the bot hears it as an event, see `popup_xml`)."""
        with self.lock:
            left = self.consents.get((openid, template_id), 0)
            self.consents[(openid, template_id)] = -1 if long_term else left + 1

    # -- endpoints --------------------------------------------------------------------------------
    def answer(self, endpoint: str, query: dict[str, str], body: Any, raw: bytes) -> dict | None:
        handler = _ROUTES.get(endpoint)
        if handler is None:
            return None
        with self.lock:
            return handler(self, query, body, raw)

    def _tags_get(self, query: dict, body: Any, raw: bytes) -> dict:
        return {"tags": [{"id": i, "name": n, "count": len(self.members.get(i, ()))} for i, n in self.tags.items()]}

    def _tags_create(self, query: dict, body: Any, raw: bytes) -> dict:
        name = str(((body or {}).get("tag") or {}).get("name") or "")
        if not name or len(name) > 30:
            return _err(45158, "tag name too long")
        if name in self.tags.values():
            return _err(45157, "invalid tag name")
        if len(self.tags) >= MAX_TAGS:
            return _err(45056, "too many tags")
        self.next_tag += 1
        self.tags[self.next_tag] = name
        return {"tag": {"id": self.next_tag, "name": name}}

    def _batch(self, body: Any, tagging: bool) -> dict:
        tag_id, openids = (body or {}).get("tagid"), (body or {}).get("openid_list")
        if tag_id not in self.tags:
            return _err(45159, "invalid tag id")
        if not isinstance(openids, list) or not openids or len(openids) > 50:
            return _err(40032, "invalid openid list size")
        if any(not isinstance(o, str) or not o or o in self.unfollowed for o in openids):
            return _err(40003, "invalid openid")
        if tagging:
            over = [o for o in openids if sum(o in m for m in self.members.values()) >= MAX_TAGS_PER_USER
                    and o not in self.members[tag_id]]
            if over:
                return _err(45059, "tag count of a fan exceeds the limit")
            self.members[tag_id].update(openids)
        else:
            self.members[tag_id].difference_update(openids)
        return _err(0, "ok")

    def _upload(self, query: dict, body: Any, raw: bytes) -> dict:
        data = _multipart_file(raw)
        if data is None:
            return _err(41005, "media data missing")
        if query.get("type") != "thumb" or not data.startswith(JPEG) or len(data) > 64 * 1024:
            return _err(40004, "invalid media type")
        media_id = f"THUMB{len(self.thumbs) + 1:06d}"
        self.thumbs[media_id] = data
        return {"type": "thumb", "thumb_media_id": media_id, "created_at": int(time.time())}

    def _uploadnews(self, query: dict, body: Any, raw: bytes) -> dict:
        articles = (body or {}).get("articles")
        if not isinstance(articles, list) or not articles:
            return _err(44002, "empty post data")
        for a in articles:
            if a.get("thumb_media_id") not in self.thumbs or not a.get("title") or not a.get("content"):
                return _err(40007, "invalid media_id")
        media_id = f"NEWS{len(self.news) + 1:06d}"
        self.news[media_id] = articles
        return {"type": "news", "media_id": media_id, "created_at": int(time.time())}

    def _sendall(self, query: dict, body: Any, raw: bytes) -> dict:
        flt, kind = (body or {}).get("filter") or {}, (body or {}).get("msgtype")
        if "tag_id" not in flt and not flt.get("is_to_all"):
            return _err(47001, "data format error")  # e.g. the old group_id filter
        tag_id = flt.get("tag_id")
        if not flt.get("is_to_all") and tag_id not in self.tags:
            return _err(45159, "invalid tag id")
        if kind == "text" and not ((body.get("text") or {}).get("content")):
            return _err(44003, "empty news data")
        if kind == "mpnews" and (body.get("mpnews") or {}).get("media_id") not in self.news:
            return _err(40007, "invalid media_id")
        if kind not in ("text", "mpnews"):
            return _err(40008, "invalid message type")
        client_id = str(body.get("clientmsgid") or "")
        if client_id and any(j.client_msg_id == client_id for j in self.jobs):
            return _err(45065, "clientmsgid exist")
        if self.mass_quota is not None and self.mass_quota <= 0:
            return _err(45028, "has no masssend quota")
        if self.mass_quota is not None:
            self.mass_quota -= 1
        return self._run_job(tag_id, kind, body.get(kind), client_id)

    def _run_job(self, tag_id: int | None, kind: str, content: Any, client_id: str) -> dict:
        everyone = set().union(*self.members.values()) if self.members else set()
        recipients = sorted((self.members[tag_id] if tag_id is not None else everyone) - self.unfollowed)
        month = time.strftime("%Y-%m")
        delivered = [o for o in recipients if self.received[o].count(month) < MONTHLY_PER_USER]
        self.next_msg += 1
        job = MassJob(self.next_msg, tag_id or 0, kind, content, client_id, recipients, delivered)
        for o in delivered:
            self.received[o].append(month)
        self.jobs.append(job)
        if self.callback is not None:
            poster = threading.Thread(target=self._post_finish, args=(job,), daemon=True)
            self.posters.append(poster)
            poster.start()
        return {"errcode": 0, "errmsg": "send job submission success", "msg_id": job.msg_id,
                "msg_data_id": job.msg_id * 10}

    def quiesce(self, timeout: float = 10.0) -> None:
        """No more finish events, and the ones under way finished: a post racing the app's shutdown could
        leave the test client waiting for a lifespan that never ends."""
        self.callback = None
        for poster in self.posters:
            poster.join(timeout)

    def _post_finish(self, job: MassJob) -> None:
        time.sleep(self.event_delay)
        callback = self.callback
        if callback is None:  # quiesced while this event waited: the bot is going away, nothing is posted
            job.event_status = -1
            return
        xml = finish_xml(callback.account, job)
        try:
            job.event_status = callback.post(xml).status_code
        except Exception:  # the bot is gone (its test ended): WeChat would just give up too
            job.event_status = -1

    def _bizsend(self, query: dict, body: Any, raw: bytes) -> dict:
        openid, tpl = str((body or {}).get("touser") or ""), str((body or {}).get("template_id") or "")
        if tpl not in self.templates:
            return _err(40037, "invalid template_id")
        if not openid or openid in self.unfollowed:
            return _err(40003, "invalid openid")
        if not isinstance(body.get("data"), dict) or not body["data"]:
            return _err(47003, "argument invalid! data is empty")
        left = self.consents.get((openid, tpl), 0)
        if left == 0:
            return _err(43101, "user refuse to accept the msg")
        if left > 0:
            self.consents[(openid, tpl)] = left - 1
        self.subscribe_sent.append((openid, tpl, body["data"]))
        return _err(0, "ok")


_ROUTES = {
    "tags/get": FakePush._tags_get, "tags/create": FakePush._tags_create,
    "tags/members/batchtagging": lambda s, q, b, r: s._batch(b, True),
    "tags/members/batchuntagging": lambda s, q, b, r: s._batch(b, False),
    "media/upload": FakePush._upload, "media/uploadnews": FakePush._uploadnews,
    "message/mass/sendall": FakePush._sendall, "message/subscribe/bizsend": FakePush._bizsend,
}
MULTIPART = {"media/upload"}  # endpoints whose body is multipart/form-data, not JSON


def _multipart_file(raw: bytes) -> bytes | None:
    """The first file part of a multipart/form-data body (the boundary is its first line)."""
    if not raw.startswith(b"--"):
        return None
    boundary = raw.split(b"\r\n", 1)[0]
    for part in raw.split(boundary)[1:]:
        head, sep, data = part.partition(b"\r\n\r\n")
        if sep and b"filename=" in head:
            return data[:-2] if data.endswith(b"\r\n") else data
    return None


def finish_xml(account: str, job: MassJob) -> str:
    """MASSSENDJOBFINISH as WeChat posts it (FromUserName: the account's 群发 helper)."""
    filtered = len(job.delivered)
    return ("<xml><ToUserName><![CDATA[" + account + "]]></ToUserName>"
            "<FromUserName><![CDATA[oMassSendHelper00000000001]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[MASSSENDJOBFINISH]]></Event><MsgID>{job.msg_id}</MsgID>"
            f"<Status><![CDATA[send success]]></Status><TotalCount>{len(job.recipients)}</TotalCount>"
            f"<FilterCount>{filtered}</FilterCount><SentCount>{filtered}</SentCount>"
            "<ErrorCount>0</ErrorCount></xml>")


def popup_xml(account: str, openid: str, template_id: str, accept: bool = True) -> str:
    """subscribe_msg_popup_event: the person answered the 订阅通知 pop-up."""
    status = "accept" if accept else "reject"
    return ("<xml><ToUserName><![CDATA[" + account + "]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{int(time.time())}</CreateTime>"
            "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_popup_event]]></Event>"
            f"<SubscribeMsgPopupEvent><List><TemplateId><![CDATA[{template_id}]]></TemplateId>"
            f"<SubscribeStatusString><![CDATA[{status}]]></SubscribeStatusString>"
            "<PopupScene>2</PopupScene></List></SubscribeMsgPopupEvent></xml>")
