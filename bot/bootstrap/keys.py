"""Keys derived from the app secret, the Argon2id costs, and the office keys checked at start-up."""

from __future__ import annotations

import logging

import nacl.pwhash
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.offices import OfficeDirectory
from bot.store.uow import UnitOfWork
from bot.tips.ciphers import subkey
from bot.tips.keys import ensure_development_keys, refuse_development_keys

__all__ = ["KDF_LIMITS", "check_office_keys", "subkey"]

log = logging.getLogger(__name__)
KDF_LIMITS = {
    "moderate": (nacl.pwhash.argon2id.OPSLIMIT_MODERATE, nacl.pwhash.argon2id.MEMLIMIT_MODERATE),
    "interactive": (nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE, nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE),
    "min": (nacl.pwhash.argon2id.OPSLIMIT_MIN, nacl.pwhash.argon2id.MEMLIMIT_MIN),
}


def check_office_keys(sessions: sessionmaker[Session], offices: OfficeDirectory, *, production: bool,
                      serving: bool, kdf: tuple[int, int]) -> None:
    """Development: make missing office keys. Production, when serving: refuse development keys."""
    if not production:
        _development_keys(sessions, offices, *kdf)
    elif serving:  # not the office commands that replace such keys
        with UnitOfWork(sessions) as uow:
            refuse_development_keys(uow.session)


def _development_keys(sessions: sessionmaker[Session], offices: OfficeDirectory, ops: int, mem: int) -> None:
    """Make missing development keys; several workers starting at once may race, the first one wins."""
    try:
        with UnitOfWork(sessions) as uow:
            ensure_development_keys(uow.session, offices, ops, mem)
            uow.commit()
    except IntegrityError:
        log.info("development keys were made by another process")
