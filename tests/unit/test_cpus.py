"""FUNDGUARD_PIN_CPUS (bot/cpus.py): what the setting accepts, which CPU a worker gets, and that a turn runs on it."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest
from pydantic import ValidationError

from bot import cpus
from bot.dialogue.turns import TurnRunner
from bot.settings import Settings

USABLE = cpus.allowed()


def test_the_setting() -> None:
    assert cpus.parse("") == cpus.parse("off") == ()
    assert cpus.parse("auto") == USABLE and USABLE
    assert cpus.parse(f" {USABLE[-1]} ") == (USABLE[-1],)
    with pytest.raises(ValueError, match="may not use"):
        cpus.parse("100000")
    with pytest.raises(ValueError, match="CPU numbers"):
        cpus.parse("first")
    with pytest.raises(ValidationError, match="CPU numbers"):  # refused at start-up with the sentence
        Settings(pin_cpus="0-1")


def test_workers_go_round_robin_and_a_replacement_takes_the_free_cpu() -> None:
    assert cpus.pick((0, 1), []) == 0
    assert cpus.pick((0, 1), [0]) == 1
    assert cpus.pick((0, 1), [0, 1]) == 0
    assert cpus.pick((0, 1), [1, 0, 1]) == 0  # worker on 0 died twice over: its replacement goes back to 0
    assert cpus.pick((2, 3), [-1, 7]) == 2  # workers of no (or another) CPU do not count


def test_a_worker_takes_the_cpu_its_master_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cpus.WORKER_CPU, raising=False)
    assert cpus.worker_cpu("") is None
    assert cpus.worker_cpu("auto") == USABLE[0]
    monkeypatch.setenv(cpus.WORKER_CPU, str(USABLE[-1]))
    assert cpus.worker_cpu("auto") == USABLE[-1]


class WhereAmI:
    def handle(self, msg: object) -> frozenset[int]:
        return frozenset(os.sched_getaffinity(0))


@pytest.mark.parametrize("cpu", [None, USABLE[-1]])
def test_turn_threads_keep_to_the_cpu(cpu: int | None) -> None:
    runner = TurnRunner(WhereAmI(), threads=2, cpu=cpu)  # type: ignore[arg-type]
    try:
        seen = asyncio.run(runner.handle(object()))  # type: ignore[arg-type]
    finally:
        runner.close()
    assert seen == (frozenset({cpu}) if cpu is not None else frozenset(USABLE))
    assert frozenset(os.sched_getaffinity(0)) == frozenset(USABLE)  # the caller's thread is untouched


def test_auto_means_not_pinned_where_a_thread_cannot_be_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpus, "allowed", lambda: ())
    assert cpus.parse("auto") == ()  # the default works on any system
    with pytest.raises(ValueError, match="needs Linux"):
        cpus.parse("0")


STAT = """cpu  300 0 100 600 0 0 0 0 0 0
cpu0 200 10 50 100 40 0 0 0 0 0
cpu1 100 0 50 500 0 0 0 0 0 0
intr 12345 0 0
"""


def test_busy_and_total_ticks_per_cpu_from_proc_stat() -> None:
    assert cpus.cpu_ticks(STAT) == {0: (260, 400), 1: (150, 650)}  # idle and iowait are not busy; "cpu " is the sum


def test_where_a_crowded_worker_goes() -> None:
    assert cpus.choose(0, {0: 1.0, 1: 0.2}, ours=0.5, among=(0, 1)) == 1  # others took half of CPU 0; 1 is freer
    assert cpus.choose(0, {0: 1.0, 1: 0.2}, ours=0.9, among=(0, 1)) is None  # the load on CPU 0 is the worker's own
    assert cpus.choose(0, {0: 1.0, 1: 1.0}, ours=0.1, among=(0, 1)) is None  # an idle worker is kept from nothing
    assert cpus.choose(0, {0: 1.0, 1: 0.6}, ours=0.5, among=(0, 1)) is None  # no CPU is freer
    assert cpus.choose(0, {0: 1.0, 1: 0.47}, ours=0.5, among=(0, 1)) is None  # a little freer: not worth a move
    assert cpus.choose(0, {0: 1.0, 1: 0.4}, ours=0.5, among=(0, 1)) == 1
    assert cpus.choose(0, {0: 1.0, 1: 0.2, 2: 0.0}, ours=0.5, among=(0, 1)) == 1  # only CPUs of the setting
    assert cpus.choose(0, {0: 1.0, 1: 0.1, 2: 0.1}, ours=0.3, among=(0, 1, 2)) == 1  # a tie: the first
    assert cpus.choose(2, {0: 0.5, 1: 0.1, 2: 0.9}, ours=0.3, among=(0, 1, 2)) == 1  # the freest
    assert cpus.choose(0, {0: 1.0}, ours=0.5, among=(0,)) is None  # nowhere else to go


@pytest.mark.skipif(len(USABLE) < 2, reason="moving between CPUs needs two of them")
@pytest.mark.parametrize("second_busy", [0, 1000])
def test_a_crowded_worker_moves_with_every_thread_kept_to_its_cpu(second_busy: int) -> None:
    """CPU `first` busy all the period, 40 % of it by the worker; `second` idle: the worker's threads go there.
    `second` as busy: they stay."""
    first, second = USABLE[0], USABLE[1]
    readings = iter([
        f"cpu{first} 0 0 0 1000 0 0 0 0\ncpu{second} 0 0 0 1000 0 0 0 0\n",
        f"cpu{first} 1000 0 0 1000 0 0 0 0\ncpu{second} {second_busy} 0 0 {2000 - second_busy} 0 0 0 0\n",
        f"cpu{first} 1000 0 0 1000 0 0 0 0\ncpu{second} {second_busy} 0 0 {2000 - second_busy} 0 0 0 0\n"])
    release, pinned, seen = threading.Event(), [], {}

    def worker(name: str, cpu: int | None) -> None:
        cpus.pin_this_thread(cpu)
        pinned.append(name)
        release.wait(10)
        seen[name] = frozenset(os.sched_getaffinity(0))

    threads = [threading.Thread(target=worker, args=(name, cpu)) for name, cpu in
               (("loop", first), ("turn", first), ("other", None))]
    for thread in threads:
        thread.start()
    while len(pinned) < 3:
        time.sleep(0.01)
    ours = iter([0, 400, 400])
    keeper = cpus.Keeper(first, (first, second), read_stat=lambda: next(readings), read_ours=lambda cpu: next(ours))
    to, where = (second, {second}) if not second_busy else (None, {first})
    try:
        assert keeper.check() == to
    finally:
        release.set()
        for thread in threads:
            thread.join()
    assert seen == {"loop": where, "turn": where, "other": frozenset(USABLE)}


@pytest.mark.skipif(len(USABLE) < 2, reason="needs two CPUs")
def test_a_native_pool_made_inside_every_cpu_is_not_held_to_one() -> None:
    seen = {}

    def pinned_thread() -> None:
        cpus.pin_this_thread(USABLE[0])
        with cpus.every_cpu():
            seen["inside"] = frozenset(os.sched_getaffinity(0))
        seen["after"] = frozenset(os.sched_getaffinity(0))

    thread = threading.Thread(target=pinned_thread)
    thread.start()
    thread.join()
    assert seen == {"inside": frozenset(USABLE), "after": {USABLE[0]}}


def test_no_keeper_where_there_is_nowhere_to_go() -> None:
    assert cpus.keep("", None) is None
    assert cpus.keep(str(USABLE[0]), USABLE[0]) is None  # one CPU named: it stays there


def test_serve_pins_by_default_only_when_its_workers_leave_a_cpu_free() -> None:
    assert cpus.serve_default(1, (0, 1)) == "auto"
    assert cpus.serve_default(2, (0, 1)) == ""  # as many workers as CPUs: the scheduler places them
    assert cpus.serve_default(2, (0, 1, 2, 3)) == "auto"
    assert cpus.serve_default(1, (0,)) == ""
