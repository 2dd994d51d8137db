"""`fundguard serve --workers 2`: one process loads the model and forks two workers; both answer /api/chat,
share most of their memory with it, and SIGTERM leaves no process behind."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def smaps_kb(pid: int, *fields: str) -> int:
    rows = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
    return sum(int(rows[f].split()[0]) for f in fields)


def owner(server_port: int, client_port: int, pids: list[int]) -> int | None:
    """Which process holds the server's end of the TCP connection from `client_port` (/proc/net/tcp)."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        cols = line.split()
        if int(cols[1].split(":")[1], 16) == server_port and int(cols[2].split(":")[1], 16) == client_port:
            inode = cols[9]
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


def cpus_allowed(pid: int, tid: int) -> str:
    status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
    return next(line.split(":", 1)[1].strip() for line in status.splitlines() if line.startswith("Cpus_allowed_list"))


@pytest.fixture(params=["", "auto"], ids=["not-pinned", "pinned"])
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[subprocess.Popen, int, bool]]:
    port = free_port()
    env = {**os.environ, "FUNDGUARD_DATA_DIR": str(tmp_path), "FUNDGUARD_KDF_STRENGTH": "min",
           "FUNDGUARD_PIN_CPUS": request.param,
           "FUNDGUARD_ENVIRONMENT": "development", "FUNDGUARD_CHAT_PER_ADDRESS_PER_MINUTE": "0",
           "FUNDGUARD_CHAT_PER_USER_PER_MINUTE": "0"}
    env.pop("FUNDGUARD_DATABASE_URL", None)
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--workers", "2"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while len(children(proc.pid)) < 2 or not _healthy(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("server did not start: " + (tmp_path / "server.log").read_text(errors="replace")[-2000:])
            time.sleep(0.3)
        yield proc, port, request.param == "auto"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_two_forked_workers_answer_and_sigterm_leaves_no_process(server):
    proc, port, pinned = server
    workers = children(proc.pid)
    assert len(workers) == 2
    answered: set[int] = set()
    connections = []
    for n in range(200):  # keep-alive connections, each accepted by one worker, until both have answered
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", "/api/chat", json.dumps({"user": f"w{n}", "text": "啥叫非法集资"}),
                     {"Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["topic"] == "definition"
        answered.add(owner(port, conn.sock.getsockname()[1], workers))
        connections.append(conn)
        if answered == set(workers):
            break
    assert answered == set(workers)
    for pid in workers:  # forked after the model was loaded: most of each worker's pages are the master's
        assert smaps_kb(pid, "Private_Clean", "Private_Dirty") < smaps_kb(pid, "Rss") / 2
    everywhere = cpus_allowed(proc.pid, proc.pid)
    loops = [cpus_allowed(pid, pid) for pid in workers]  # each worker's main thread runs its event loop
    if pinned:
        assert all(loop.isdigit() for loop in loops), loops  # one CPU each
        if len(os.sched_getaffinity(0)) > 1:
            assert loops[0] != loops[1], loops  # round robin: not both on the first CPU
        for pid, loop in zip(workers, loops, strict=True):  # the loop and its turn threads together
            tasks = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
            assert sum(cpus_allowed(pid, t) == loop for t in tasks) >= 2, (pid, loop)
    else:
        assert loops == [everywhere, everywhere]
    for conn in connections:
        conn.close()

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    assert [pid for pid in workers if alive(pid)] == []
