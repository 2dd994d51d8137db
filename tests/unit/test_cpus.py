"""FUNDGUARD_PIN_CPUS (bot/cpus.py): what the setting accepts, which CPU a worker gets, and that a turn runs on it."""

from __future__ import annotations

import asyncio
import os

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
