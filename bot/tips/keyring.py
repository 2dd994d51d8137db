"""An office's keyring: its earlier keys, kept at `office keygen --rotate` so that older tips still open.

The earlier private keys are encrypted (SecretBox) under a key derived from the office's *current* private key,
so one passphrase (one Argon2 run) unlocks the whole ring; a rotation re-wraps them under the new key. A key
replaced without its passphrase (`--forget-old`) is recorded with an empty key_file: tips sealed to it cannot
be opened, and `unreadable_cause` says so.
"""

from __future__ import annotations

import nacl.exceptions
import nacl.secret
from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.models import Office, OfficeKey, TipSeal, utcnow
from bot.tips.sealing import (
    InvalidKeyFile,
    OfficeKeyFile,
    UnlockedOfficeKey,
    b64d,
    b64e,
    fingerprint,
)


def wrap_private(wrap_key: bytes, private: bytes) -> str:
    return b64e(bytes(nacl.secret.SecretBox(wrap_key).encrypt(private)))


def unwrap_private(wrap_key: bytes, wrapped: str) -> PrivateKey:
    try:
        return PrivateKey(nacl.secret.SecretBox(wrap_key).decrypt(b64d(wrapped)))
    except (ValueError, nacl.exceptions.CryptoError) as exc:
        raise InvalidKeyFile("an earlier key of this office does not open with the current key") from exc


def keyring(session: Session, code: str) -> list[OfficeKey]:
    """The office's earlier keys, newest first (key_file empty: replaced without being kept)."""
    return list(session.scalars(select(OfficeKey).where(OfficeKey.office_code == code)
                                .order_by(OfficeKey.retired_at.desc(), OfficeKey.id.desc())))


def rotate_key(session: Session, code: str, new: UnlockedOfficeKey, new_file: OfficeKeyFile,
               old: UnlockedOfficeKey | None) -> int:
    """Make `new` the office's key. With the old key unlocked, it and its keyring stay usable (re-wrapped under
    the new key); without it, they are recorded as not kept. Returns how many earlier keys stay usable."""
    row = session.get(Office, code)
    if row is None:
        session.add(Office(code=code, public_key=new_file.public_key, key_file=new_file.to_json(),
                           development_key=False))
        return 0
    earlier = keyring(session, code)
    now = utcnow()
    if old is not None:
        for item in earlier:
            session.delete(item)
        session.flush()
        for i, private in enumerate(old.private_bytes()):
            public = _public_of(private)
            created = row.created_at if i == 0 else next((e.created_at for e in earlier if e.public_key == public), now)
            session.add(OfficeKey(office_code=code, public_key=public, key_file=wrap_private(new.wrap_key(), private),
                                  development_key=row.development_key if i == 0 else False,
                                  created_at=created, retired_at=now))
        kept = len(old.private_bytes())
    else:
        for item in earlier:
            item.key_file = ""  # wrapped under the replaced key: gone with it
        session.add(OfficeKey(office_code=code, public_key=row.public_key, key_file="",
                              development_key=row.development_key, created_at=row.created_at, retired_at=now))
        kept = 0
    row.public_key, row.key_file, row.development_key, row.created_at = \
        new_file.public_key, new_file.to_json(), False, now
    return kept


def _public_of(private: bytes) -> str:
    return b64e(bytes(PrivateKey(private).public_key))


def replaced_key(session: Session, code: str, key_fp: str) -> OfficeKey | None:
    """The earlier key of this office with this fingerprint, if it was recorded."""
    return next((k for k in keyring(session, code) if fingerprint(k.public_key) == key_fp), None)




def unreadable_cause(session: Session, seal: TipSeal, key: UnlockedOfficeKey) -> str:
    """Why a sealed part does not open with this office's keyring, in words for staff."""
    if seal.key_fp is not None and seal.key_fp in key.fingerprints:
        return "内容被改动过（密钥对得上，但数据不完整或被篡改）"
    if seal.key_fp is None:
        return "可能是用本单位已更换且没有保留的旧密钥加密的，也可能被改动过"
    earlier = replaced_key(session, seal.office_code, seal.key_fp)
    if earlier is not None and not earlier.key_file:
        when = earlier.retired_at.strftime("%Y-%m-%d")
        return f"用本单位旧密钥加密，该密钥已于{when}更换且没有保留（换密钥时未提供旧口令）"
    return "用本单位密钥环里没有的密钥加密（可能是在别的数据库里生成的密钥）"
