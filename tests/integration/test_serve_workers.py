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
from typing import Any

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


def start(tmp_path: Path, workers: int, pin: str | None) -> tuple[subprocess.Popen, int, Any]:
    """`fundguard serve` with FUNDGUARD_PIN_CPUS as given (None: not set at all)."""
    port = free_port()
    env = {**os.environ, "FUNDGUARD_DATA_DIR": str(tmp_path), "FUNDGUARD_KDF_STRENGTH": "min",
           "FUNDGUARD_ENVIRONMENT": "development", "FUNDGUARD_CHAT_PER_ADDRESS_PER_MINUTE": "0",
           "FUNDGUARD_CHAT_PER_USER_PER_MINUTE": "0", "FUNDGUARD_PIN_CPUS": pin or ""}
    if pin is None:
        del env["FUNDGUARD_PIN_CPUS"]
    env.pop("FUNDGUARD_DATABASE_URL", None)
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--workers", str(workers)], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    return proc, port, log


@pytest.fixture(params=["", "auto", None], ids=["not-pinned", "pinned", "not-set"])
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[subprocess.Popen, int, bool]]:
    proc, port, log = start(tmp_path, 2, request.param)
    # not set: two workers are pinned only where they leave a CPU free (bot.cpus.serve_default)
    pinned = request.param == "auto" or (request.param is None and len(os.sched_getaffinity(0)) > 2)
    try:
        wait_up(proc, port, tmp_path, workers=2)
        yield proc, port, pinned
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def wait_up(proc: subprocess.Popen, port: int, tmp_path: Path, workers: int) -> None:
    """Until the server answers /healthz with all its forked workers (one worker: no fork); its log if it fails."""
    deadline = time.monotonic() + 180
    while (workers > 1 and len(children(proc.pid)) < workers) or not _healthy(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail("server did not start: " + (tmp_path / "server.log").read_text(errors="replace")[-2000:])
        time.sleep(0.3)


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


def test_one_worker_is_pinned_by_default_where_a_cpu_is_left_free(tmp_path: Path) -> None:
    """FUNDGUARD_PIN_CPUS not set: `fundguard serve` (one worker) keeps its loop and turn threads on one CPU when
    the machine has another for the rest; on a one-CPU machine nothing is pinned."""
    proc, port, log = start(tmp_path, 1, None)
    try:
        wait_up(proc, port, tmp_path, workers=1)
        response = httpx.post(f"http://127.0.0.1:{port}/api/chat", json={"user": "p", "text": "啥叫非法集资"},
                              timeout=30)
        assert response.status_code == 200 and response.json()["topic"] == "definition"
        tasks = [int(t) for t in os.listdir(f"/proc/{proc.pid}/task")]
        loop = cpus_allowed(proc.pid, proc.pid)  # uvicorn runs the event loop in the main thread
        if len(os.sched_getaffinity(0)) > 1:
            assert loop.isdigit(), loop
            assert sum(cpus_allowed(proc.pid, t) == loop for t in tasks) >= 3  # the loop and its two turn threads
        else:
            assert not any(cpus_allowed(proc.pid, t) != loop for t in tasks)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()
