"""WeChat's server protocol: signatures, plaintext / compatible / safe (AES) modes, safe XML, replies.

Every request is checked before its body is read as XML: the signature over (token, timestamp,
nonce), the timestamp's age, the size, and the absence of any DTD or entity declaration (billion
laughs, external entities). XML is then parsed by wechatpy (xmltodict over expat, entities disabled).
Nothing of wechatpy leaves this module: callers get `WeChatMessage` and strings.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import xmltodict
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner

from bot.textnorm import ascii_digits

MAX_XML = 64 * 1024
MAX_SKEW = 600                      # seconds: a captured signature is useless after ten minutes
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_NONCE = re.compile(r"^[A-Za-z0-9]{1,64}$")
_ECHO = re.compile(r"^[A-Za-z0-9_=+/.-]{1,128}$")
_DECLARATION = re.compile(rb"<!\s*(doctype|entity|element|attlist)", re.IGNORECASE)
_EVENTS = {"subscribe": "subscribe", "subscribe_scan": "subscribe", "unsubscribe": "unsubscribe",
           "click": "click", "masssendjobfinish": "mass_finish", "subscribe_msg_popup_event": "subscribe_msg",
           "subscribe_msg_change_event": "subscribe_msg"}
_MASS_FIELDS = {"MsgID": "msg_id", "Status": "status", "TotalCount": "total", "FilterCount": "filtered",
                "SentCount": "sent", "ErrorCount": "errors"}


class Rejected(Exception):
    """A request refused: `status` is the HTTP status, `reason` a short English sentence."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class WeChatMessage:
    """One message or event, reduced to what the bot uses. `user` is the person's openid."""

    kind: str           # text | voice | image | link | event | other
    user: str
    account: str        # the official account's id (ToUserName): the reply's sender
    dedupe_key: str     # MsgId, or FromUserName + CreateTime (+ event) for events
    text: str = ""      # text; voice recognition; link title, description and URL (one a line)
    media_id: str = ""
    event: str = ""     # subscribe | unsubscribe | click | other (lower case)
    event_key: str = ""
    # event details: a mass send's result (msg_id, status, counts); 订阅通知 answers (template id →
    # "accept" | "reject")
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Envelope:
    """How the request came, so the reply goes back the same way."""

    encrypted: bool
    timestamp: str
    nonce: str


def signature_of(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


def cdata_safe(text: str) -> str:
    """Text safe inside <![CDATA[...]]>: split any ']]>' and drop characters XML cannot carry."""
    text = "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20)
    return text.replace("]]>", "]]]]><![CDATA[>")


class WeChatProtocol:
    def __init__(self, token: str, app_id: str = "", aes_key: str = "", *, max_skew: int = MAX_SKEW) -> None:
        if not token:
            raise ValueError("FUNDGUARD_WECHAT_TOKEN is required for the WeChat channel")
        if aes_key and not app_id:
            raise ValueError("safe mode (FUNDGUARD_WECHAT_AES_KEY) needs FUNDGUARD_WECHAT_APP_ID")
        self._token = token
        self._app_id = app_id
        self._max_skew = max_skew
        try:
            self._crypto = WeChatCrypto(token, aes_key, app_id) if aes_key else None
        except Exception as exc:  # wrong length or not base64
            raise ValueError("FUNDGUARD_WECHAT_AES_KEY must be the 43-character EncodingAESKey") from exc

    @property
    def safe_mode(self) -> bool:
        return self._crypto is not None

    def _check(self, signature: str, timestamp: str, nonce: str) -> None:
        if not (ascii_digits(timestamp) and len(timestamp) <= 12 and _NONCE.match(nonce)):
            raise Rejected(403, "missing or malformed signature parameters")
        if not hmac.compare_digest(signature_of(self._token, timestamp, nonce).encode(), signature.encode()):
            raise Rejected(403, "bad signature")
        if abs(time.time() - int(timestamp)) > self._max_skew:
            raise Rejected(403, "stale timestamp")

    def handshake(self, signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """The server-verification GET: the echostr back when the signature holds."""
        self._check(signature, timestamp, nonce)
        if not _ECHO.match(echostr):
            raise Rejected(400, "malformed echostr")
        return echostr

    def open(self, query: Mapping[str, str], body: bytes) -> tuple[WeChatMessage, Envelope]:
        """Verify and parse one POST. Raises Rejected (403 signature, 413 size, 400 anything else)."""
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        self._check(query.get("signature", ""), timestamp, nonce)
        fields = _parse(body)
        encrypted = query.get("encrypt_type", "raw").lower() == "aes"
        if self._crypto is not None:
            if not encrypted:
                raise Rejected(403, "safe mode: plaintext messages are refused")
            if not isinstance(fields.get("Encrypt"), str):
                raise Rejected(400, "no Encrypt element")
            try:
                inner = self._crypto.decrypt_message(fields, query.get("msg_signature", ""), timestamp, nonce)
            except (InvalidSignatureException, InvalidAppIdException) as exc:
                raise Rejected(403, "bad message signature") from exc
            except Exception as exc:  # bad base64, padding, length: not WeChat's
                raise Rejected(400, "cannot decrypt the message") from exc
            xml = inner.encode("utf-8")
            _parse(xml)  # the same checks on the decrypted XML before wechatpy reads it
        elif "MsgType" in fields:  # plaintext, or compatible mode without our key: the clear fields
            xml = body
        elif "Encrypt" in fields:
            raise Rejected(400, "encrypted message but FUNDGUARD_WECHAT_AES_KEY is not set")
        else:
            raise Rejected(400, "no MsgType")
        return _message(xml), Envelope(encrypted and self._crypto is not None, timestamp, nonce)

    def reply(self, msg: WeChatMessage, text: str | None, envelope: Envelope) -> tuple[str, str]:
        """The passive reply body and its media type; `success` when there is nothing to say now."""
        if not text:
            return "success", "text/plain"
        xml = TextReply(source=msg.account, target=msg.user, content=cdata_safe(text),
                        time=int(time.time())).render()
        if envelope.encrypted and self._crypto is not None:
            xml = self._crypto.encrypt_message(xml, envelope.nonce, envelope.timestamp)
        return xml, "application/xml"


def _parse(body: bytes) -> dict[str, Any]:
    if len(body) > MAX_XML:
        raise Rejected(413, f"message too large (limit {MAX_XML} bytes)")
    if _DECLARATION.search(body):
        raise Rejected(400, "DTDs and entity declarations are refused")
    try:
        doc = xmltodict.parse(body.decode("utf-8"), disable_entities=True)
    except Exception as exc:  # ExpatError, UnicodeDecodeError, ValueError (entities)
        raise Rejected(400, "malformed XML") from exc
    fields = doc.get("xml") if isinstance(doc, dict) else None
    if not isinstance(fields, dict):
        raise Rejected(400, "the root element must be <xml> with fields")
    return fields


def _message(xml: bytes) -> WeChatMessage:
    try:
        raw = parse_message(xml.decode("utf-8"))
        kind = str(raw._data.get("MsgType") or "").lower()
        user, account = str(raw.source or ""), str(raw.target or "")
        created = str(raw._data.get("CreateTime") or "")
        msg_id = str(raw._data.get("MsgId") or "")
    except Exception as exc:
        raise Rejected(400, "not a WeChat message") from exc
    if not (_ID.match(user) and _ID.match(account) and ascii_digits(created)):
        raise Rejected(400, "missing or malformed FromUserName, ToUserName or CreateTime")
    if msg_id and not ascii_digits(msg_id):
        raise Rejected(400, "malformed MsgId")

    def field(name: str) -> str:
        value = raw._data.get(name)
        return value.strip() if isinstance(value, str) else ""

    if kind == "event":
        event = _EVENTS.get(str(getattr(raw, "event", "") or field("Event")).lower(), "other")
        extra = _event_extra(raw._data, event)
        key = f"{user}:{created}:{event}" + (f":{extra['msg_id']}" if extra.get("msg_id") else "")
        return WeChatMessage("event", dedupe_key=key, event=event, event_key=field("EventKey"), extra=extra,
                             user=user, account=account)
    key = msg_id or f"{user}:{created}"
    if kind == "text":
        return WeChatMessage("text", dedupe_key=key, text=field("Content"), user=user, account=account)
    if kind == "voice":
        return WeChatMessage("voice", dedupe_key=key, text=field("Recognition"), user=user, account=account)
    if kind == "image":
        return WeChatMessage("image", dedupe_key=key, media_id=field("MediaId"), user=user, account=account)
    if kind == "link":
        text = "\n".join(t for t in (field("Title"), field("Description"), field("Url")) if t)
        return WeChatMessage("link", dedupe_key=key, text=text, user=user, account=account)
    return WeChatMessage("other", dedupe_key=key, user=user, account=account)


def _event_extra(data: dict[str, Any], event: str) -> dict[str, str]:
    """The details of a mass-send result or of a 订阅通知 answer, as short strings."""
    out: dict[str, str] = {}
    if event == "mass_finish":
        for name, key in _MASS_FIELDS.items():
            value = data.get(name)
            if isinstance(value, str | int):
                out[key] = str(value).strip()[:64]
        if not ascii_digits(out.get("msg_id", "")):
            out.pop("msg_id", None)
    elif event == "subscribe_msg":
        box = data.get("SubscribeMsgPopupEvent") or data.get("SubscribeMsgChangeEvent") or {}
        items = box.get("List") if isinstance(box, dict) else None
        for item in items if isinstance(items, list) else [items]:
            if isinstance(item, dict) and _ID.match(str(item.get("TemplateId") or "")):
                out[str(item["TemplateId"])] = str(item.get("SubscribeStatusString") or "")[:16].lower()
    return out
