"""The staff side's parts (accounts, sign-in, sessions, labels), made once by the bootstrap."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.offices import OfficeDirectory
from bot.staff.accounts import StaffDirectory
from bot.staff.auth import Authenticator
from bot.staff.credentials import password_hasher
from bot.staff.labels import Labels
from bot.staff.sessions import SessionStore
from bot.tips.sealing import DraftCipher


@dataclass
class StaffKit:
    directory: StaffDirectory
    auth: Authenticator
    sessions: SessionStore
    labels: Labels
    city_code: str


def build_kit(offices: OfficeDirectory, *, digest: Callable[[str, str], str], totp_cipher: DraftCipher,
              password_strength: str, content_dir: Path) -> StaffKit:
    directory = StaffDirectory(offices, password_hasher(password_strength), totp_cipher)
    return StaffKit(directory=directory, auth=Authenticator(directory, digest), sessions=SessionStore(digest),
                    labels=Labels.load(offices, content_dir), city_code=offices.city.code)
