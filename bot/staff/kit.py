"""The staff side's parts (accounts, sign-in, sessions, labels), made once by bot.bootstrap.staff_kit."""

from __future__ import annotations

from dataclasses import dataclass

from bot.staff.accounts import StaffDirectory
from bot.staff.auth import Authenticator
from bot.staff.labels import Labels
from bot.staff.sessions import SessionStore


@dataclass
class StaffKit:
    directory: StaffDirectory
    auth: Authenticator
    sessions: SessionStore
    labels: Labels
    city_code: str
