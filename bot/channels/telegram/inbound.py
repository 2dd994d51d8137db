"""Telegram updates → what the person said (`Incoming`): commands, button presses, photos, forwards, groups.

Groups: a message counts only when it mentions the bot, replies to the bot, or is one of the bot's
commands; the mention is removed from the text. The conversation in a group is kept apart from the
person's private chat (user "<user id>@<chat id>"), so nothing of a private tip can surface there.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from telegram import Message, Update
from telegram.constants import ChatType, MessageEntityType

from bot.channels.telegram.texts import ENGINE_TEXT

MAX_IMAGE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Incoming:
    chat_id: int
    user: str                        # Inbound.user: the Telegram user id (private) or "<user>@<chat>" (group)
    private: bool
    text: str = ""
    command: str | None = None       # "start", "report", ... (without the slash)
    argument: str = ""               # what follows the command
    forwarded: bool = False
    image: str | None = None         # the file_id of a photo (or an image sent as a file)
    image_too_big: bool = False
    unsupported: bool = False        # voice, sticker, video, location ...: the channel says so itself
    callback_id: str | None = None   # a button press: answered with answerCallbackQuery
    expired: bool = False            # a button press whose label can no longer be found
    message_id: int | None = None    # to reply to in a group


def parse_update(update: Update, bot_id: int, username: str) -> Incoming | None:
    """What this update asks of the bot, or None when the bot should stay silent."""
    if update.callback_query is not None:
        return _callback(update, bot_id)
    msg = update.message
    if msg is None or msg.from_user is None or msg.from_user.is_bot:
        return None  # edits, channel posts, service updates, other bots
    chat_type = msg.chat.type
    if chat_type not in (ChatType.PRIVATE, ChatType.GROUP, ChatType.SUPERGROUP):
        return None
    private = chat_type == ChatType.PRIVATE
    text = msg.text if isinstance(msg.text, str) else msg.caption if isinstance(msg.caption, str) else ""
    command, argument, addressed = _command(msg, text, username)
    if command is None and not private and not (_mentions(msg, bot_id, username) or _replies_to(msg, bot_id)):
        return None
    if not private:
        text = _strip_mention(text, username)
    user = str(msg.from_user.id) if private else f"{msg.from_user.id}@{msg.chat.id}"
    base = partial(Incoming, chat_id=msg.chat.id, user=user, private=private, message_id=msg.message_id)
    if command is not None:
        if not private and not addressed and command not in ENGINE_TEXT and command != "start":
            return None  # another bot's bare command in a group
        return base(command=command, argument=argument)
    image, too_big = _image(msg)
    if image is None and not too_big and not text.strip():
        return base(unsupported=_is_media(msg)) if _is_media(msg) else None
    return base(text=text.strip(), forwarded=msg.forward_origin is not None, image=image, image_too_big=too_big)


def _callback(update: Update, bot_id: int) -> Incoming | None:
    query = update.callback_query
    assert query is not None
    message = query.message
    if message is None:
        return None
    private = message.chat.type == ChatType.PRIVATE
    user = str(query.from_user.id) if private else f"{query.from_user.id}@{message.chat.id}"
    base = partial(Incoming, chat_id=message.chat.id, user=user, private=private, callback_id=query.id)
    label = None
    if isinstance(message, Message) and message.reply_markup is not None:
        label = next((b.text for row in message.reply_markup.inline_keyboard for b in row
                      if b.callback_data == query.data), None)
    if label is None:
        return base(expired=True)
    return base(text=label, message_id=message.message_id)


def _command(msg: Message, text: str, username: str) -> tuple[str | None, str, bool]:
    """(command, argument, addressed to this bot by name) for a message starting with a bot command."""
    entities = msg.entities or ()
    if not entities or entities[0].type != MessageEntityType.BOT_COMMAND or entities[0].offset != 0:
        return None, "", False
    word = msg.parse_entity(entities[0])[1:]
    name, _, target = word.partition("@")
    if target and target.lower() != username.lower():
        return None, "", False
    argument = text[len(msg.parse_entity(entities[0])):].strip()
    return name.lower(), argument, bool(target)


def _mentions(msg: Message, bot_id: int, username: str) -> bool:
    found = {**msg.parse_entities([MessageEntityType.MENTION, MessageEntityType.TEXT_MENTION]),
             **msg.parse_caption_entities([MessageEntityType.MENTION, MessageEntityType.TEXT_MENTION])}
    for entity, text in found.items():
        if entity.type == MessageEntityType.MENTION and text.lower() == "@" + username.lower():
            return True
        if entity.type == MessageEntityType.TEXT_MENTION and entity.user is not None and entity.user.id == bot_id:
            return True
    return False


def _replies_to(msg: Message, bot_id: int) -> bool:
    replied = msg.reply_to_message
    return replied is not None and replied.from_user is not None and replied.from_user.id == bot_id


def _strip_mention(text: str, username: str) -> str:
    mention = "@" + username
    while (at := text.lower().find(mention.lower())) >= 0:
        text = text[:at] + text[at + len(mention):]
    return text.strip()


def _image(msg: Message) -> tuple[str | None, bool]:
    """The largest photo size that may be fetched (Bot API downloads are limited), or an image document."""
    if msg.photo:
        sizes = sorted(msg.photo, key=lambda p: p.width * p.height)
        fitting = [p for p in sizes if (p.file_size or 0) <= MAX_IMAGE_BYTES]
        return (fitting[-1].file_id, False) if fitting else (None, True)
    doc = msg.document
    if doc is not None and (doc.mime_type or "").startswith("image/"):
        return (doc.file_id, False) if (doc.file_size or 0) <= MAX_IMAGE_BYTES else (None, True)
    return None, False


def _is_media(msg: Message) -> bool:
    return any(getattr(msg, kind) is not None for kind in (
        "voice", "audio", "video", "video_note", "sticker", "animation", "document", "location", "contact",
        "venue", "poll", "dice"))
