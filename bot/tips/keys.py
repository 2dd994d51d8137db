"""Office keys in the database: public keys seal tips; private keys stay encrypted under passphrases."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.offices import OfficeDirectory
from bot.store.models import Office
from bot.tips.keyring import keyring, unwrap_private
from bot.tips.sealing import InvalidKeyFile, OfficeKeyFile, UnlockedOfficeKey, generate_office_key

log = logging.getLogger(__name__)
DEV_PASSPHRASE = "fundguard-dev-only"


class NoOfficeKey(LookupError):
    pass


class DevelopmentKeysInProduction(RuntimeError):
    """Production found office keys made for development (their passphrase is public)."""


def development_offices(session: Session) -> list[str]:
    return sorted(session.scalars(select(Office.code).where(Office.development_key.is_(True))))


def refuse_development_keys(session: Session) -> None:
    """Production must not seal a tip to a key whose passphrase is in this project's source."""
    codes = development_offices(session)
    if codes:
        raise DevelopmentKeysInProduction(
            "refusing to start in production: office key(s) of " + ", ".join(codes) + " are DEVELOPMENT keys "
            "(their passphrase is public). Make real keys with `fundguard office keygen --office CODE --rotate` "
            "for each, then start again.")


def public_keys(session: Session) -> dict[str, str]:
    return {o.code: o.public_key for o in session.scalars(select(Office))}


def store_key(session: Session, code: str, key: OfficeKeyFile, *, development: bool = False) -> None:
    row = session.get(Office, code)
    if row is None:
        row = Office(code=code)
        session.add(row)
    row.public_key, row.key_file, row.development_key = key.public_key, key.to_json(), development


def unlock(session: Session, code: str, passphrase: str) -> UnlockedOfficeKey:
    """The office's current key and every earlier key kept in its keyring (one Argon2 run)."""
    row = session.get(Office, code)
    if row is None:
        raise NoOfficeKey(f"office {code!r} has no key; run `fundguard office keygen --office {code}`")
    current = OfficeKeyFile.from_json(row.key_file).unlock(passphrase)
    older = []
    for kept in keyring(session, code):
        if kept.key_file:
            try:
                older.append(unwrap_private(current.wrap_key(), kept.key_file))
            except InvalidKeyFile:
                log.warning("an earlier office key cannot be opened", extra={"office": code, "key_id": kept.id})
    return current.with_older(older)


def ensure_development_keys(session: Session, offices: OfficeDirectory, opslimit: int, memlimit: int) -> list[str]:
    """Give every office without a key a development key (passphrase DEV_PASSPHRASE), loudly."""
    have = set(public_keys(session))
    made = []
    for office in [offices.city, *offices.counties]:
        if office.code not in have:
            key = generate_office_key(DEV_PASSPHRASE, opslimit=opslimit, memlimit=memlimit)
            store_key(session, office.code, key, development=True)
            made.append(office.code)
    if made:
        log.warning(
            "DEVELOPMENT office keys created; tips sealed to them can be opened by anyone who reads this "
            "project. Production keys must be made with `fundguard office keygen --office CODE`.",
            extra={"offices": made, "passphrase_hint": "see bot/tips/keys.py DEV_PASSPHRASE"},
        )
    return made
