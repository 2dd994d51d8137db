"""Receipt codes: what a tipster keeps to ask about a tip later, without giving any identity.

A code is 20 characters from an alphabet without look-alikes (no 0/O, 1/I/L, U), about 98 bits of
randomness, shown as XXXXX-XXXXX-XXXXX-XXXXX. Only a slow, peppered hash of it is stored; the hash is
deterministic so a typed code can be looked up by equality.
"""

from __future__ import annotations

import hmac
import re
import secrets

import nacl.encoding
import nacl.hash
import nacl.pwhash

from bot.textnorm import normalise

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 20
GROUP = 5
_ALPHABET_SET = frozenset(ALPHABET)
# Runs of letters/digits; the gaps between runs of one candidate may only hold these separators.
_CHUNK = re.compile(r"[A-Z0-9]+")
_SEPARATORS = re.compile(r"[\s\-_.·•—–‐‑―~/|,，、]*")
_argon2id = nacl.pwhash.argon2id
DEFAULT_OPSLIMIT = _argon2id.OPSLIMIT_INTERACTIVE   # ~50-100 ms per hash on a server core
DEFAULT_MEMLIMIT = _argon2id.MEMLIMIT_INTERACTIVE
TEST_OPSLIMIT = _argon2id.OPSLIMIT_MIN
TEST_MEMLIMIT = _argon2id.MEMLIMIT_MIN


def new_receipt() -> str:
    """A fresh code: 20 characters, canonical form (no separators). Show it with `format_receipt`."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def format_receipt(code: str) -> str:
    """XXXXX-XXXXX-XXXXX-XXXXX, for showing to a person."""
    canonical = canonical_receipt(code)
    if canonical is None:
        raise ValueError("not a receipt code")
    return "-".join(canonical[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def _valid(chars: str) -> bool:
    return len(chars) == LENGTH and set(chars) <= _ALPHABET_SET


def canonical_receipt(text: str) -> str | None:
    """The canonical code found in what a person typed, or None.

    Accepts lower case, full-width characters, spaces or dashes between groups, and a code embedded
    in a sentence ("查询 abcde-fghjk-..." / "回执码ABCDE FGHJK MNPQR STVWX 进度"). Characters outside
    the alphabet are not guessed at: a code with an O or a 1 in it is simply not a code.
    """
    upper = normalise(text).upper()
    chunks = list(_CHUNK.finditer(upper))
    # Chains: consecutive chunks joined only by separators (a Chinese word or a letter breaks a chain).
    chains: list[list[str]] = []
    for i, match in enumerate(chunks):
        joined = i > 0 and _SEPARATORS.fullmatch(upper, chunks[i - 1].end(), match.start()) is not None
        if joined:
            chains[-1].append(match.group())
        else:
            chains.append([match.group()])
    fallback: str | None = None
    for chain in chains:
        for start in range(len(chain)):
            parts: list[str] = []
            for part in chain[start:]:
                parts.append(part)
                if sum(map(len, parts)) >= LENGTH:
                    break
            candidate = "".join(parts)
            if not _valid(candidate):
                continue
            if len(parts) == 1 or all(len(p) == GROUP for p in parts):
                return candidate  # a well-formed code: one run, or four groups of five
            fallback = fallback or candidate
    return fallback


class ReceiptHasher:
    """Deterministic slow hash of a receipt code: Argon2id with a salt derived from a secret pepper.

    The stored value can be looked up by equality; guessing codes costs one Argon2id run each. The
    pepper and the limits must never change for a deployment, or stored receipts stop matching.
    """

    def __init__(self, pepper: bytes, opslimit: int = DEFAULT_OPSLIMIT, memlimit: int = DEFAULT_MEMLIMIT):
        if not isinstance(pepper, bytes | bytearray) or len(pepper) < 16:
            raise ValueError("the pepper must be at least 16 bytes")
        pepper = bytes(pepper)
        if len(pepper) > nacl.hash.BLAKE2B_KEYBYTES_MAX:
            pepper = nacl.hash.blake2b(pepper, digest_size=64, encoder=nacl.encoding.RawEncoder)
        self._salt = nacl.hash.blake2b(b"receipt-salt-v1", digest_size=_argon2id.SALTBYTES, key=pepper,
                                       person=b"fg-receipt-salt", encoder=nacl.encoding.RawEncoder)
        self._opslimit = opslimit
        self._memlimit = memlimit

    def hash(self, code: str) -> str:
        """Hex digest of a code in any accepted typed form; ValueError if it holds no code."""
        canonical = canonical_receipt(code)
        if canonical is None:
            raise ValueError("not a receipt code")
        return _argon2id.kdf(32, canonical.encode("ascii"), self._salt,
                             opslimit=self._opslimit, memlimit=self._memlimit).hex()

    def verify(self, code: str, stored: str) -> bool:
        """Constant-time check of a typed code against a stored hash."""
        try:
            return hmac.compare_digest(self.hash(code), stored)
        except ValueError:
            return False

    def __repr__(self) -> str:
        return "ReceiptHasher(<pepper>)"
