"""Staff credentials: Argon2id password hashes and TOTP codes (RFC 6238) with a replay guard."""

from __future__ import annotations

import hmac
import time
import unicodedata
from typing import TypedDict

import pyotp
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from bot.textnorm import ascii_digits


# Argon2id costs by the deployment's kdf_strength. "moderate" is argon2-cffi's RFC 9106 low-memory
# profile; "interactive" the OWASP minimum; "min" only for tests.
class Profile(TypedDict):
    time_cost: int
    memory_cost: int
    parallelism: int


PROFILES: dict[str, Profile] = {
    "moderate": {"time_cost": 3, "memory_cost": 65536, "parallelism": 4},
    "interactive": {"time_cost": 2, "memory_cost": 19456, "parallelism": 1},
    "min": {"time_cost": 1, "memory_cost": 8, "parallelism": 1},
}
MIN_PASSWORD = 12
TOTP_STEP = 30
ISSUER = "FundGuard 处非办"


class WeakPassword(ValueError):
    """The password does not meet the policy."""


def password_hasher(strength: str) -> PasswordHasher:
    return PasswordHasher(type=Type.ID, **PROFILES.get(strength, PROFILES["moderate"]))


def check_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"密码至少{MIN_PASSWORD}位")
    if len(set(password)) < 5:
        raise WeakPassword("密码太简单：请混用不同的字母、数字和符号")


def verify_password(hasher: PasswordHasher, stored: str, password: str) -> bool:
    try:
        return hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def new_totp_secret() -> str:
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def totp_step(code: str, secret: str, last_step: int | None, now: float | None = None) -> int | None:
    """The time step a 6-digit code matches (now ± one step), if newer than `last_step`; else None."""
    # Full-width digits (a Chinese input method) count as digits; other scripts' digits do not.
    code = unicodedata.normalize("NFKC", code or "").strip().replace(" ", "")
    if len(code) != 6 or not ascii_digits(code):
        return None
    now = time.time() if now is None else now
    totp = pyotp.TOTP(secret, interval=TOTP_STEP)
    current = int(now // TOTP_STEP)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * TOTP_STEP), code) and (last_step is None or step > last_step):
            return step
    return None
