"""Behind a proxy: `fundguard serve` believes X-Forwarded-For only from FUNDGUARD_TRUSTED_PROXIES.

The limits on wrong receipt codes and on /api/chat are keyed by the client's address. From a trusted
proxy each client has its own; from an untrusted peer the header is ignored, so a forged one cannot
dodge a limit.
"""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import server_env, start_server

WRONG = "ABCDE-FGHJK-MNPQR-STVWX"  # well-formed, never issued


def chat(base: str, user: str, text: str, client_ip: str) -> httpx.Response:
    return httpx.post(f"{base}/api/chat", json={"user": user, "text": text},
                      headers={"X-Forwarded-For": client_ip}, timeout=15)


def lock_out_by_wrong_codes(base: str, client_ip: str) -> None:
    """20 wrong codes from 20 different conversations at one address (5 each would lock a conversation)."""
    for i in range(20):
        r = chat(base, f"guess{i}", f"查询 {WRONG}", client_ip)
        assert r.status_code == 200 and "没有查到" in r.json()["replies"][0]["text"]


def locked(base: str, user: str, client_ip: str) -> bool:
    r = chat(base, user, f"查询 {WRONG}", client_ip)
    assert r.status_code == 200
    return "次数太多" in r.json()["replies"][0]["text"]  # 查询次数太多了…一小时后再试


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, seed_nlu):  # type: ignore[no-untyped-def]
    """Two servers: one that trusts the loopback peer as a proxy, one that trusts no proxy."""
    trusted, untrusted = (seed_nlu(tmp_path_factory.mktemp(name)) for name in ("proxy-trusted", "proxy-none"))
    limits = {"FUNDGUARD_CHAT_PER_ADDRESS_PER_MINUTE": "30", "FUNDGUARD_CHAT_PER_USER_PER_MINUTE": "30"}
    with start_server(trusted, server_env(trusted, FUNDGUARD_TRUSTED_PROXIES="127.0.0.1", **limits)) as a, \
            start_server(untrusted, server_env(untrusted, **limits)) as b:
        yield a, b


def test_wrong_codes_behind_a_trusted_proxy_lock_out_only_their_sender(servers):
    base, _ = servers
    lock_out_by_wrong_codes(base, "203.0.113.7")
    assert locked(base, "someone-new", "203.0.113.7")  # same address: locked, whatever the user id
    assert not locked(base, "another-tipster", "198.51.100.20")  # another person behind the same proxy


def test_a_forged_header_from_an_untrusted_peer_changes_nothing(servers):
    _, base = servers
    lock_out_by_wrong_codes(base, "203.0.113.7")
    # The peer is not a trusted proxy: its header is ignored, and the lock-out is the peer's own address.
    assert locked(base, "another-tipster", "198.51.100.20")


def test_the_chat_limit_per_address_follows_the_forwarded_client(servers):
    trusted, untrusted = servers
    for base, fresh_address in ((trusted, True), (untrusted, False)):
        answered = 0
        while (r := chat(base, f"flood{answered}", "你好", "192.0.2.55")).status_code == 200 and answered < 40:
            answered += 1
        assert r.status_code == 429 and "太快" in r.json()["detail"] and int(r.headers["Retry-After"]) >= 1
        other = chat(base, "neighbour", "你好", "192.0.2.99")
        if fresh_address:  # 192.0.2.55 had sent nothing before; its neighbour is untouched
            assert answered == 30 and other.status_code == 200
        else:  # the forged header is ignored: both "clients" are the peer, which has used up its minute
            assert other.status_code == 429
