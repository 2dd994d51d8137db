"""Sealing, drafts, keyed hashes and receipt codes (fast: minimal Argon2 limits)."""

from __future__ import annotations

import base64
import json
import re

import pytest

from bot.tips import receipts, sealing
from bot.tips.ciphers import DraftCipher, KeyedHasher
from bot.tips.receipts import ReceiptHasher, canonical_receipt, format_receipt, new_receipt
from bot.tips.sealing import (
    OfficeKeyFile,
    TamperedOrWrongKey,
    WrongPassphrase,
    generate_office_key,
    open_json,
    seal,
    seal_for,
    seal_json,
)

FAST = {"opslimit": sealing.TEST_OPSLIMIT, "memlimit": sealing.TEST_MEMLIMIT}
FAST_RECEIPT = {"opslimit": receipts.TEST_OPSLIMIT, "memlimit": receipts.TEST_MEMLIMIT}
SECRET = b"an-app-secret-of-at-least-32-bytes!!"


@pytest.fixture(scope="module")
def office_a() -> tuple[OfficeKeyFile, sealing.UnlockedOfficeKey]:
    keyfile = generate_office_key("passphrase A 汉滨", **FAST)
    return keyfile, keyfile.unlock("passphrase A 汉滨")


@pytest.fixture(scope="module")
def office_b() -> tuple[OfficeKeyFile, sealing.UnlockedOfficeKey]:
    keyfile = generate_office_key("passphrase B", **FAST)
    return keyfile, keyfile.unlock("passphrase B")


def flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


# ---- office keys and sealed tips ---------------------------------------------------------------


def test_sealed_tip_opens_with_its_office_key(office_a):
    keyfile, key = office_a
    ciphertext = seal(keyfile.public_key, "某公司承诺年息20%".encode())
    assert "某公司".encode() not in ciphertext
    assert key.open(ciphertext).decode() == "某公司承诺年息20%"


def test_office_a_key_cannot_open_office_b_tip(office_a, office_b):
    ciphertext = seal(office_b[0].public_key, b"tip for B")
    with pytest.raises(TamperedOrWrongKey):
        office_a[1].open(ciphertext)
    assert office_b[1].open(ciphertext) == b"tip for B"


def test_wrong_passphrase_cannot_unlock(office_a):
    keyfile, _ = office_a
    with pytest.raises(WrongPassphrase):
        keyfile.unlock("passphrase a 汉滨")
    with pytest.raises(WrongPassphrase):
        OfficeKeyFile.from_json(keyfile.to_json()).unlock("")


@pytest.mark.parametrize("index", [0, 40, -1])
def test_tampered_ciphertext_is_rejected(office_a, index):
    keyfile, key = office_a
    ciphertext = seal(keyfile.public_key, b"the original tip")
    with pytest.raises(TamperedOrWrongKey):
        key.open(flip(ciphertext, index))


def test_truncated_or_garbage_ciphertext_is_rejected(office_a):
    _, key = office_a
    for bad in (b"", b"short", bytes(100)):
        with pytest.raises(TamperedOrWrongKey):
            key.open(bad)


def test_key_json_round_trips_without_plaintext_private_key(office_a):
    keyfile, key = office_a
    text = keyfile.to_json()
    raw_private = bytes(key._private)
    assert raw_private not in text.encode("utf-8")
    for encoded in (base64.b64encode(raw_private), base64.urlsafe_b64encode(raw_private)):
        assert encoded.decode() not in text
        assert encoded.decode().rstrip("=")[:20] not in text
    assert raw_private.hex() not in text
    doc = json.loads(text)
    assert doc["version"] == 1 and doc["kdf"]["alg"] == "argon2id13"
    assert doc["kdf"]["opslimit"] == sealing.TEST_OPSLIMIT and doc["kdf"]["salt"]

    again = OfficeKeyFile.from_json(text)
    assert again == keyfile
    reopened = again.unlock("passphrase A 汉滨")
    assert reopened.public_key_b64 == keyfile.public_key
    assert reopened.open(seal(keyfile.public_key, b"x")) == b"x"
    assert raw_private.hex() not in repr(reopened)


def test_each_key_gets_its_own_salt_and_keypair():
    one = generate_office_key("same passphrase", **FAST)
    two = generate_office_key("same passphrase", **FAST)
    assert one.salt != two.salt and one.public_key != two.public_key


def test_default_kdf_limits_are_moderate():
    assert sealing.DEFAULT_OPSLIMIT >= sealing._argon2id.OPSLIMIT_MODERATE
    assert sealing.DEFAULT_MEMLIMIT >= sealing._argon2id.MEMLIMIT_MODERATE


def test_malformed_key_files_are_refused(office_a):
    doc = json.loads(office_a[0].to_json())
    for change in ({"version": 2}, {"public_key": "bm90IGEga2V5"}, {"kdf": {**doc["kdf"], "opslimit": 0}}):
        with pytest.raises(sealing.InvalidKeyFile):
            OfficeKeyFile.from_json(json.dumps({**doc, **change}))
    with pytest.raises(sealing.InvalidKeyFile):
        OfficeKeyFile.from_json("{}")


def test_seal_refuses_a_malformed_public_key():
    with pytest.raises(ValueError):
        seal("not base64!", b"x")
    with pytest.raises(ValueError):
        seal(base64.b64encode(bytes(31)).decode(), b"x")


def test_json_payload_round_trip(office_a):
    keyfile, key = office_a
    tip = {"region": "hanbin", "subject": "某理财工作室", "amount": 50000, "contact": None}
    ciphertext = seal_json(keyfile.public_key, tip)
    assert "理财".encode() not in ciphertext
    assert open_json(key, ciphertext) == tip
    assert key.open_json(ciphertext) == tip


def test_seal_for_two_recipients_each_opens(office_a, office_b):
    tip = {"urgent": True, "description": "明天要卷款跑路"}
    sealed = seal_for({"hanbin": office_a[0].public_key, "ankang": office_b[0].public_key}, tip)
    assert set(sealed) == {"hanbin", "ankang"}
    assert sealed["hanbin"] != sealed["ankang"]
    assert office_a[1].open_json(sealed["hanbin"]) == tip
    assert office_b[1].open_json(sealed["ankang"]) == tip
    with pytest.raises(TamperedOrWrongKey):
        office_a[1].open(sealed["ankang"])
    with pytest.raises(ValueError):
        seal_for({}, tip)


# ---- drafts and keyed hashes -------------------------------------------------------------------


def test_draft_cipher_round_trip_and_tamper_rejection():
    cipher = DraftCipher(SECRET)
    draft = {"slot": "subject", "subject": "某养老项目", "amount": None}
    token = cipher.encrypt_json(draft)
    assert isinstance(token, str) and "养老" not in token
    assert cipher.decrypt_json(token) == draft
    assert cipher.encrypt_json(draft) != token  # random nonce
    raw = base64.b64decode(token)
    tampered = base64.b64encode(flip(raw, len(raw) - 3)).decode()
    with pytest.raises(TamperedOrWrongKey):
        cipher.decrypt_json(tampered)
    with pytest.raises(TamperedOrWrongKey):
        cipher.decrypt_json("not base64 at all!")
    with pytest.raises(TamperedOrWrongKey):
        DraftCipher(b"another-app-secret-of-32-bytes!!!!").decrypt_json(token)


def test_secrets_must_not_be_short():
    with pytest.raises(ValueError):
        DraftCipher(b"short")
    with pytest.raises(ValueError):
        KeyedHasher(b"")


def test_keyed_hasher_stable_and_separated_by_kind_and_secret():
    hasher = KeyedHasher(SECRET)
    digest = hasher.digest("chat", "wechat:o6_bmjrPTlm6_2sgVt7hMZOPfL2M")
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == KeyedHasher(SECRET).digest("chat", "wechat:o6_bmjrPTlm6_2sgVt7hMZOPfL2M")
    assert digest != hasher.digest("ip", "wechat:o6_bmjrPTlm6_2sgVt7hMZOPfL2M")
    assert digest != hasher.digest("chat", "wechat:o6_bmjrPTlm6_2sgVt7hMZOPfL2N")
    assert digest != KeyedHasher(b"another-app-secret-of-32-bytes!!!!").digest(
        "chat", "wechat:o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
    )
    assert hasher.matches("chat", "wechat:o6_bmjrPTlm6_2sgVt7hMZOPfL2M", digest)
    assert not hasher.matches("ip", "wechat:o6_bmjrPTlm6_2sgVt7hMZOPfL2M", digest)
    # a long secret (over BLAKE2b's 64-byte key limit) works and differs from its prefix
    long_secret = SECRET * 3
    assert KeyedHasher(long_secret).digest("chat", "x") != KeyedHasher(long_secret[:64]).digest("chat", "x")


@pytest.mark.parametrize(("key", "person", "size"), [(b"k" * 32, b"fg-hash-value", 32), (b"", b"fg-long-secret", 64),
                                                     (bytes(range(64)), b"fg-hash-kind", 32), (b"x" * 16, b"", 16)])
def test_blake2b_is_libsodiums_byte_for_byte(key, person, size):
    # stored digests (conversation keys, subscriber keys, address hashes) were made with libsodium's BLAKE2b;
    # the faster hashlib one must give the very same bytes
    import nacl.encoding
    import nacl.hash

    for data in (b"", b"web:0f3a", "wechat:老人".encode(), bytes(range(256)) * 3):
        expected = nacl.hash.blake2b(data, digest_size=size, key=key, person=person, encoder=nacl.encoding.RawEncoder)
        assert sealing._blake2b(data, key=key, person=person, size=size) == expected


# ---- receipts ----------------------------------------------------------------------------------


def test_new_receipt_length_and_alphabet():
    code = new_receipt()
    assert len(code) == 20
    assert set(code) <= set("23456789ABCDEFGHJKMNPQRSTVWXYZ")
    assert not set(code) & set("01OILU")


def test_receipts_are_unique_and_use_the_whole_alphabet():
    codes = {new_receipt() for _ in range(10_000)}
    assert len(codes) == 10_000
    assert set("".join(codes)) == set(receipts.ALPHABET)


def test_format_groups_in_fives():
    assert format_receipt("ABCDEFGHJKMNPQRSTVWX") == "ABCDE-FGHJK-MNPQR-STVWX"
    assert canonical_receipt(format_receipt(new_receipt())) is not None


CODE = "ABCDEFGHJKMNPQRSTVWX"


@pytest.mark.parametrize(
    "typed",
    [
        "ABCDEFGHJKMNPQRSTVWX",
        "ABCDE-FGHJK-MNPQR-STVWX",
        "abcde-fghjk-mnpqr-stvwx",
        "abcde fghjk mnpqr stvwx",
        "  AbCdE   FgHjK—MNPQR – stvwx ",
        "ＡＢＣＤＥ－ＦＧＨＪＫ－ＭＮＰＱＲ－ＳＴＶＷＸ",
        "ａｂｃｄｅ　ｆｇｈｊｋ　ｍｎｐｑｒ　ｓｔｖｗｘ",
        "查询 abcde-fghjk-mnpqr-stvwx",
        "回执码ABCDE FGHJK MNPQR STVWX 进度",
        "我的回执码是：abcdefghjkmnpqrstvwx，请帮我查一下",
        "my code is ABCDE-FGHJK-MNPQR-STVWX thanks",
    ],
)
def test_canonical_receipt_accepts_typed_variants(typed):
    assert canonical_receipt(typed) == CODE


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "查询进度",
        "ABCDE-FGHJK-MNPQR-STVW",          # 19
        "ABCDE-FGHJK-MNPQR-STVWXY",        # 21
        "ABCDE-FGHJK-MNPQR-STVW0",         # 0 is not in the alphabet
        "ABCDE-FGHJK-MNPQR-STVWO",         # nor O
        "ABCDE-FGHJK-MNPQR-STVW1",         # nor 1 / I / L / U
        "ABCDE-FGHJK-MNPQR-STVWI",
        "ABCDE-FGHJK-MNPQR-STVWU",
        "电话13800138000",
    ],
)
def test_canonical_receipt_rejects_wrong_length_or_alphabet(typed):
    assert canonical_receipt(typed) is None


def test_receipt_hasher_deterministic_and_distinct():
    pepper = b"receipt-pepper-at-least-16-bytes"
    hasher = ReceiptHasher(pepper, **FAST_RECEIPT)
    code = new_receipt()
    stored = hasher.hash(code)
    assert re.fullmatch(r"[0-9a-f]{64}", stored)
    assert stored == ReceiptHasher(pepper, **FAST_RECEIPT).hash(code)
    assert hasher.hash(format_receipt(code).lower()) == stored  # typed forms hash alike
    other = code[:-1] + ("2" if code[-1] != "2" else "3")
    assert hasher.hash(other) != stored
    assert ReceiptHasher(b"another-pepper-of-16-bytes", **FAST_RECEIPT).hash(code) != stored
    assert hasher.verify(format_receipt(code), stored)
    assert not hasher.verify(other, stored)
    assert not hasher.verify("no code here", stored)
    with pytest.raises(ValueError):
        hasher.hash("not a code")
    with pytest.raises(ValueError):
        ReceiptHasher(b"short")


def test_receipt_hasher_defaults_are_slow():
    assert receipts.DEFAULT_OPSLIMIT >= receipts._argon2id.OPSLIMIT_INTERACTIVE
    assert receipts.DEFAULT_MEMLIMIT >= receipts._argon2id.MEMLIMIT_INTERACTIVE
