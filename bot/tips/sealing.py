"""Sealing tips to an office's key (libsodium via PyNaCl). No database code here.

- Each office has a Curve25519 keypair. The public key seals tips (sealed boxes: anyone can seal,
  only the office can open). The private key is stored encrypted under a key derived from a staff
  passphrase with Argon2id, in a small JSON document (`OfficeKeyFile`).
- The app's symmetric secrets (drafts, chat ids, keyed digests) are in `bot.tips.ciphers`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import nacl.exceptions
import nacl.hash
import nacl.pwhash
import nacl.secret
import nacl.utils
from nacl.public import PrivateKey, PublicKey, SealedBox

KEY_FILE_VERSION = 1
_argon2id = nacl.pwhash.argon2id
DEFAULT_OPSLIMIT = _argon2id.OPSLIMIT_MODERATE
DEFAULT_MEMLIMIT = _argon2id.MEMLIMIT_MODERATE
# Tests: fast. Never use these for a real office key.
TEST_OPSLIMIT = _argon2id.OPSLIMIT_MIN
TEST_MEMLIMIT = _argon2id.MEMLIMIT_MIN


class SealingError(Exception):
    """Base class of this module's errors."""


class WrongPassphrase(SealingError):
    """The passphrase does not unlock this office key file."""


class TamperedOrWrongKey(SealingError):
    """The ciphertext was altered, is not a ciphertext, or was sealed for another key."""


class InvalidKeyFile(SealingError, ValueError):
    """The office key file is malformed, of an unknown version, or inconsistent."""


def b64e(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64d(text: str) -> bytes:
    """Strict base64 decoding; raises ValueError on anything else."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, AttributeError) as exc:
        raise ValueError("not valid base64") from exc


def _blake2b(data: bytes, *, key: bytes, person: bytes, size: int = 32) -> bytes:
    # hashlib's BLAKE2b is libsodium's byte for byte (person padded with zeros the same way), without the binding's
    # checks: a conversation key is hashed on every turn (tests/unit/test_sealing.py compares the two)
    return hashlib.blake2b(data, digest_size=size, key=key, person=person).digest()


def _master_key(secret: bytes) -> bytes:
    """An app secret of any length (at least 16 bytes) as a BLAKE2b key of at most 64 bytes."""
    if not isinstance(secret, bytes | bytearray) or len(secret) < 16:
        raise ValueError("the secret must be at least 16 bytes")
    secret = bytes(secret)
    if len(secret) > nacl.hash.BLAKE2B_KEYBYTES_MAX:
        secret = _blake2b(secret, key=b"", person=b"fg-long-secret", size=64)
    return secret


def _public_key(public_key_b64: str) -> PublicKey:
    try:
        raw = b64d(public_key_b64)
    except ValueError:
        raw = b""
    if len(raw) != PublicKey.SIZE:
        raise ValueError("an office public key is 32 bytes in base64")
    return PublicKey(raw)


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


# ---- office keys -------------------------------------------------------------------------------


class UnlockedOfficeKey:
    """An office's private key in memory, after the passphrase unlocked it, with the office's earlier keys
    (its keyring, kept at rotation). Opens sealed tips, trying the current key first."""

    def __init__(self, private_key: PrivateKey, older: list[PrivateKey] | None = None) -> None:
        self._private = private_key
        self._keys = [private_key, *(older or [])]
        self._boxes = [SealedBox(k) for k in self._keys]
        self.fingerprints = frozenset(fingerprint(b64e(bytes(k.public_key))) for k in self._keys)

    @property
    def public_key_b64(self) -> str:
        return b64e(bytes(self._private.public_key))

    def open(self, ciphertext: bytes) -> bytes:
        for box in self._boxes:
            try:
                return box.decrypt(bytes(ciphertext))
            except (nacl.exceptions.CryptoError, TypeError, ValueError):
                continue
        raise TamperedOrWrongKey("cannot open: tampered, or sealed for a key not in this office's keyring")

    def open_json(self, ciphertext: bytes) -> Any:
        return json.loads(self.open(ciphertext).decode("utf-8"))

    def wrap_key(self) -> bytes:
        """A symmetric key derived from the current private key: it encrypts the office's earlier keys."""
        return _blake2b(b"keyring-v1", key=bytes(self._private), person=b"fg-keyring")

    def private_bytes(self) -> list[bytes]:
        """Every private key held (current first), for re-wrapping at a rotation; never shown or stored bare."""
        return [bytes(k) for k in self._keys]

    def with_older(self, older: list[PrivateKey]) -> UnlockedOfficeKey:
        return UnlockedOfficeKey(self._private, older)

    def __repr__(self) -> str:  # never show the key
        return f"UnlockedOfficeKey(public_key={self.public_key_b64!r}, keys={len(self._boxes)})"


@dataclass(frozen=True)
class OfficeKeyFile:
    """The public key plus the private key encrypted under Argon2id(passphrase) + SecretBox."""

    public_key: str           # base64
    encrypted_private: str    # base64 of SecretBox output (nonce + ciphertext)
    salt: str                 # base64, argon2id.SALTBYTES
    opslimit: int
    memlimit: int
    version: int = KEY_FILE_VERSION

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": self.version,
                "public_key": self.public_key,
                "kdf": {"alg": "argon2id13", "opslimit": self.opslimit, "memlimit": self.memlimit,
                        "salt": self.salt},
                "cipher": "xsalsa20poly1305",
                "encrypted_private_key": self.encrypted_private,
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> OfficeKeyFile:
        try:
            doc = json.loads(text)
            kdf = doc["kdf"]
            if doc["version"] != KEY_FILE_VERSION or kdf["alg"] != "argon2id13":
                raise InvalidKeyFile(f"unsupported key file (version {doc['version']!r}, kdf {kdf['alg']!r})")
            keyfile = cls(public_key=doc["public_key"], encrypted_private=doc["encrypted_private_key"],
                          salt=kdf["salt"], opslimit=int(kdf["opslimit"]), memlimit=int(kdf["memlimit"]))
            _public_key(keyfile.public_key)
            if len(b64d(keyfile.salt)) != _argon2id.SALTBYTES:
                raise InvalidKeyFile("bad salt length")
            b64d(keyfile.encrypted_private)
        except InvalidKeyFile:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidKeyFile(f"not an office key file: {exc}") from exc
        if not (_argon2id.OPSLIMIT_MIN <= keyfile.opslimit <= _argon2id.OPSLIMIT_MAX
                and _argon2id.MEMLIMIT_MIN <= keyfile.memlimit <= _argon2id.MEMLIMIT_MAX):
            raise InvalidKeyFile("kdf limits out of range")
        return keyfile

    def unlock(self, passphrase: str) -> UnlockedOfficeKey:
        key = _argon2id.kdf(nacl.secret.SecretBox.KEY_SIZE, passphrase.encode("utf-8"), b64d(self.salt),
                            opslimit=self.opslimit, memlimit=self.memlimit)
        try:
            raw = nacl.secret.SecretBox(key).decrypt(b64d(self.encrypted_private))
        except nacl.exceptions.CryptoError as exc:
            raise WrongPassphrase("wrong passphrase for this office key") from exc
        private = PrivateKey(raw)
        if not hmac.compare_digest(bytes(private.public_key), b64d(self.public_key)):
            raise InvalidKeyFile("the private key does not match the public key")
        return UnlockedOfficeKey(private)


def generate_office_key(passphrase: str, *, opslimit: int = DEFAULT_OPSLIMIT,
                        memlimit: int = DEFAULT_MEMLIMIT) -> OfficeKeyFile:
    """A new office keypair, the private half encrypted under the passphrase."""
    if not passphrase:
        raise ValueError("an empty passphrase cannot protect an office key")
    private = PrivateKey.generate()
    salt = nacl.utils.random(_argon2id.SALTBYTES)
    key = _argon2id.kdf(nacl.secret.SecretBox.KEY_SIZE, passphrase.encode("utf-8"), salt,
                        opslimit=opslimit, memlimit=memlimit)
    encrypted = nacl.secret.SecretBox(key).encrypt(bytes(private))
    return OfficeKeyFile(public_key=b64e(bytes(private.public_key)), encrypted_private=b64e(bytes(encrypted)),
                         salt=b64e(salt), opslimit=opslimit, memlimit=memlimit)


# ---- sealing -----------------------------------------------------------------------------------


def seal(public_key_b64: str, plaintext: bytes) -> bytes:
    """Seal bytes to an office's public key; only that office's private key opens them."""
    return SealedBox(_public_key(public_key_b64)).encrypt(bytes(plaintext))


def fingerprint(public_key_b64: str) -> str:
    """A short, stable name of an office public key (16 hex), to tell which key sealed a part."""
    return _blake2b(_public_key(public_key_b64).encode(), key=b"", person=b"fg-key-fp", size=8).hex()


def seal_json(public_key_b64: str, obj: Any) -> bytes:
    return seal(public_key_b64, _dumps(obj))


def open_json(key: UnlockedOfficeKey, ciphertext: bytes) -> Any:
    return key.open_json(ciphertext)


def seal_for(recipients: dict[str, str], obj: Any) -> dict[str, bytes]:
    """Seal one JSON payload separately to each office (office code → public key): code → ciphertext."""
    if not recipients:
        raise ValueError("no recipients to seal for")
    payload = _dumps(obj)
    return {code: seal(public_key, payload) for code, public_key in recipients.items()}
