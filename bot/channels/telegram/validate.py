"""Checking a Telegram update's shape before python-telegram-bot sees it.

PTB builds its objects without checking JSON types: a `from.id` that is an object or a list becomes an
unhashable user id that fails deep inside the Application (a 500). Here every field that the bot or PTB's
Application reads is checked against the Bot API's type; unknown fields pass (Telegram adds fields), and
update kinds the bot did not subscribe to are dropped before PTB.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAX_ID = 2**63 - 1
MAX_DEPTH = 4  # reply_to_message / pinned_message nest; Telegram sends at most one level
KINDS = ("message", "callback_query", "my_chat_member")  # the bot's allowed_updates


class NotAnUpdate(ValueError):
    """The body is not a Telegram update the bot can handle; the message says where."""


def _int(value: Any, where: str) -> None:
    if type(value) is not int or not -MAX_ID <= value <= MAX_ID:
        raise NotAnUpdate(f"{where} must be an integer")


def _str(value: Any, where: str) -> None:
    if not isinstance(value, str):
        raise NotAnUpdate(f"{where} must be a string")


def _bool(value: Any, where: str) -> None:
    if not isinstance(value, bool):
        raise NotAnUpdate(f"{where} must be true or false")


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise NotAnUpdate(f"{where} must be an object")
    return value


def _fields(obj: dict[str, Any], where: str, required: dict[str, Any], optional: dict[str, Any],
            depth: int = 0) -> None:
    for name in required:
        if obj.get(name) is None:
            raise NotAnUpdate(f"{where}.{name} is missing")
    for name, check in {**required, **optional}.items():
        if name in obj and obj[name] is not None:
            if check in (_message, _origin):
                check(obj[name], f"{where}.{name}", depth + 1)
            else:
                check(obj[name], f"{where}.{name}")


def _list_of(check: Callable[[Any, str], None]) -> Callable[[Any, str], None]:
    def checked(value: Any, where: str) -> None:
        if not isinstance(value, list):
            raise NotAnUpdate(f"{where} must be a list")
        for i, item in enumerate(value):
            check(item, f"{where}[{i}]")
    return checked


def _user(value: Any, where: str) -> None:
    _fields(_obj(value, where), where, {"id": _int, "is_bot": _bool, "first_name": _str},
            {"last_name": _str, "username": _str, "language_code": _str})


def _chat(value: Any, where: str) -> None:
    _fields(_obj(value, where), where, {"id": _int, "type": _str}, {"title": _str, "username": _str})


def _entity(value: Any, where: str) -> None:
    _fields(_obj(value, where), where, {"type": _str, "offset": _int, "length": _int}, {"user": _user, "url": _str})


def _photo(value: Any, where: str) -> None:
    _fields(_obj(value, where), where, {"file_id": _str, "file_unique_id": _str, "width": _int, "height": _int},
            {"file_size": _int})


def _document(value: Any, where: str) -> None:
    _fields(_obj(value, where), where, {"file_id": _str, "file_unique_id": _str},
            {"mime_type": _str, "file_name": _str, "file_size": _int})


def _origin(value: Any, where: str, depth: int = 0) -> None:
    _fields(_obj(value, where), where, {"type": _str, "date": _int},
            {"sender_user": _user, "sender_chat": _chat, "chat": _chat, "sender_user_name": _str})


def _button(value: Any, where: str) -> None:
    _fields(_obj(value, where), where, {"text": _str}, {"callback_data": _str, "url": _str})


def _markup(value: Any, where: str) -> None:
    _fields(_obj(value, where), where, {}, {"inline_keyboard": _list_of(_list_of(_button))})


def _message(value: Any, where: str, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise NotAnUpdate(f"{where} is nested too deeply")
    obj = _obj(value, where)
    for entities, text in (("entities", "text"), ("caption_entities", "caption")):
        if obj.get(entities) and not (isinstance(obj.get(text), str) and obj[text]):  # PTB: no text, no entity
            raise NotAnUpdate(f"{where}.{entities} need {where}.{text}")
    _fields(obj, where, {"message_id": _int, "date": _int, "chat": _chat}, {
        "reply_markup": _markup,
        "from": _user, "sender_chat": _chat, "text": _str, "caption": _str, "entities": _list_of(_entity),
        "caption_entities": _list_of(_entity), "photo": _list_of(_photo), "document": _document,
        "reply_to_message": _message, "pinned_message": _message, "forward_origin": _origin,
        "forward_from": _user, "forward_from_chat": _chat, "forward_date": _int, "via_bot": _user,
        "edit_date": _int, "is_automatic_forward": _bool, "media_group_id": _str,
        "new_chat_members": _list_of(_user), "left_chat_member": _user,
    }, depth)


def _callback(value: Any, where: str) -> None:
    _fields(_obj(value, where), where, {"id": _str, "from": _user, "chat_instance": _str},
            {"message": _message, "data": _str, "inline_message_id": _str})


def _member(value: Any, where: str) -> None:
    _fields(_obj(value, where), where, {"status": _str, "user": _user}, {})


def _member_update(value: Any, where: str) -> None:
    _fields(_obj(value, where), where,
            {"chat": _chat, "from": _user, "date": _int, "old_chat_member": _member, "new_chat_member": _member}, {})


CHECKS = {"message": _message, "callback_query": _callback, "my_chat_member": _member_update}


def validated_update(data: Any) -> dict[str, Any]:
    """The update with only the kinds the bot handles, each checked; NotAnUpdate says what is wrong."""
    if not isinstance(data, dict):
        raise NotAnUpdate("an update is a JSON object")
    _int(data.get("update_id"), "update_id")
    kept: dict[str, Any] = {"update_id": data["update_id"]}
    for kind in KINDS:
        if data.get(kind) is not None:
            CHECKS[kind](data[kind], kind)
            kept[kind] = data[kind]
    return kept
