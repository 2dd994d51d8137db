"""Wiring of the staff side from the app's services (called by the console and the CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.staff.accounts import StaffDirectory
from bot.staff.auth import Authenticator
from bot.staff.credentials import password_hasher
from bot.staff.labels import Labels
from bot.staff.sessions import SessionStore
from bot.tips.ciphers import DraftCipher, subkey

if TYPE_CHECKING:
    from bot.bootstrap import Services


@dataclass
class StaffKit:
    directory: StaffDirectory
    auth: Authenticator
    sessions: SessionStore
    labels: Labels
    city_code: str


def build_kit(services: Services) -> StaffKit:
    settings = services.settings
    strength = "moderate" if settings.environment == "production" else settings.kdf_strength
    directory = StaffDirectory(services.offices, password_hasher(strength),
                               DraftCipher(subkey(settings.secret_key, "staff-totp")))
    return StaffKit(directory=directory, auth=Authenticator(directory, services.hasher.digest),
                    sessions=SessionStore(services.hasher.digest),
                    labels=Labels.load(services.offices, settings.content_dir), city_code=services.offices.city.code)
