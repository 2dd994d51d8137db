"""The app's symmetric secrets, each under a key of its own derived from the app secret (no database code).

- `subkey` derives a 32-byte key for one purpose; each use has its own (a key is never shared by two uses,
  so one can be rotated, or leak, without touching the others).
- `DraftCipher` seals small JSON values (a tip draft held in conversation state, a staff TOTP secret, ...).
- `use_cipher` is the cipher of one use that also still reads values sealed before that use had its own key
  (under the key once shared by drafts, subscriber chat ids and shared values).
- `KeyedHasher` gives keyed, domain-separated digests (chat ids, IP addresses) for look-ups without
  storing the values themselves.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import nacl.exceptions
import nacl.secret

from bot.tips.sealing import TamperedOrWrongKey, _blake2b, _dumps, _master_key, b64d, b64e

DRAFTS = "draft"                    # conversation drafts (and, before each had its own, the two below)
CHAT_IDS = "subscriber-chat-id"     # subscribers' chat ids, opened to push a campaign
SHARED_VALUES = "shared-value"      # the shared_values table (WeChat access token, retries, pages)


def subkey(secret: str, purpose: str) -> bytes:
    """A 32-byte key for one purpose, derived from the app secret."""
    return hashlib.blake2b(secret.encode(), key=purpose.encode()[:64], digest_size=32).digest()


class DraftCipher:
    """Symmetric encryption of a tip draft kept in conversation state, keyed from the app secret."""

    def __init__(self, secret: bytes) -> None:
        key = _blake2b(b"tip-draft-v1", key=_master_key(secret), person=b"fg-draft-cipher")
        self._box = nacl.secret.SecretBox(key)

    def encrypt_json(self, obj: Any) -> str:
        return b64e(bytes(self._box.encrypt(_dumps(obj))))

    def decrypt_json(self, token: str) -> Any:
        try:
            plaintext = self._box.decrypt(b64d(token))
        except (ValueError, nacl.exceptions.CryptoError) as exc:
            raise TamperedOrWrongKey("the draft was altered or encrypted under another secret") from exc
        return json.loads(plaintext.decode("utf-8"))

    def __repr__(self) -> str:
        return "DraftCipher(<secret>)"


class KeyedHasher:
    """Keyed BLAKE2b, one derived key per kind ("chat", "ip", ...): stable, hex, not reversible."""

    def __init__(self, secret: bytes) -> None:
        self._master = _master_key(secret)
        self._subkeys: dict[str, bytes] = {}

    def _subkey(self, kind: str) -> bytes:
        if not kind:
            raise ValueError("a digest needs a kind")
        if kind not in self._subkeys:
            self._subkeys[kind] = _blake2b(kind.encode("utf-8"), key=self._master, person=b"fg-hash-kind")
        return self._subkeys[kind]

    def digest(self, kind: str, value: str) -> str:
        return _blake2b(value.encode("utf-8"), key=self._subkey(kind), person=b"fg-hash-value").hex()

    def matches(self, kind: str, value: str, digest: str) -> bool:
        """Constant-time check of a value against a stored digest."""
        return hmac.compare_digest(self.digest(kind, value), digest)

    def __repr__(self) -> str:
        return "KeyedHasher(<secret>)"


class ReadsOlder:
    """Seals under its own key; opens what it sealed, and what was sealed under an older key of its use."""

    def __init__(self, current: DraftCipher, older: DraftCipher) -> None:
        self.current, self.older = current, older

    def encrypt_json(self, obj: Any) -> str:
        return self.current.encrypt_json(obj)

    def decrypt_json(self, token: str) -> Any:
        try:
            return self.current.decrypt_json(token)
        except TamperedOrWrongKey:
            return self.older.decrypt_json(token)

    def reseal(self, token: str) -> str | None:
        """The value sealed anew under the current key, when it is still under the older one; else None."""
        try:
            self.current.decrypt_json(token)
            return None
        except TamperedOrWrongKey:
            return self.current.encrypt_json(self.older.decrypt_json(token))

    def __repr__(self) -> str:
        return "ReadsOlder(<secret>)"


def use_cipher(secret: str, use: str) -> ReadsOlder:
    """The cipher of one use (CHAT_IDS, SHARED_VALUES): its own key, reading values sealed before it had one."""
    if use == DRAFTS:
        raise ValueError("drafts are sealed under their own key already: DraftCipher(subkey(secret, DRAFTS))")
    return ReadsOlder(DraftCipher(subkey(secret, use)), DraftCipher(subkey(secret, DRAFTS)))
