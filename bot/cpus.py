"""Keeping a worker's Python threads on one CPU (FUNDGUARD_PIN_CPUS).

A worker runs Python on one core at a time (the GIL): its event loop hands each turn to a turn thread and takes the
reply back. When the scheduler puts those threads on different cores, every object both touch (reference counts
included) moves between the cores' caches, and each hand-over wakes the other core. On the 2-core machine of
docs/bench/issue16.md that made a plain question cost about twice the CPU it costs with the loop and the turn threads
on one core. Pinning them together loses nothing Python could use; native work that runs beside the GIL (OCR's own
threads, other processes, PostgreSQL) stays free to use every core.

    FUNDGUARD_PIN_CPUS=         not pinned (the default: several independent servers on one host would all pick
                                the same first CPU)
    FUNDGUARD_PIN_CPUS=auto     worker N on the N-th CPU this process may use (round robin)
    FUNDGUARD_PIN_CPUS=2,3      only those CPUs, round robin over the workers

Linux only (sched_setaffinity pins the calling thread); elsewhere the setting is refused at start-up.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

WORKER_CPU = "FUNDGUARD_WORKER_CPU"  # set in a forked worker (webhook/serve.py): the CPU its master chose for it


def allowed() -> tuple[int, ...]:
    """The CPUs this process may run on (a container's cpuset included), in order."""
    if not hasattr(os, "sched_getaffinity"):
        return ()
    return tuple(sorted(os.sched_getaffinity(0)))


def parse(value: str) -> tuple[int, ...]:
    """The CPUs a setting names: () for none (not pinned). ValueError with a sentence for anything else."""
    value = value.strip().lower()
    if value in ("", "off", "no", "none"):
        return ()
    usable = allowed()
    if not usable:
        raise ValueError("pinning to a CPU needs Linux (sched_setaffinity); leave FUNDGUARD_PIN_CPUS empty")
    if value == "auto":
        return usable
    try:
        cpus = tuple(int(part) for part in value.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"FUNDGUARD_PIN_CPUS must be empty, 'auto' or CPU numbers like 0,1 (got {value!r})") from None
    outside = [cpu for cpu in cpus if cpu not in usable]
    if not cpus or outside:
        raise ValueError(f"FUNDGUARD_PIN_CPUS names CPUs this process may not use: {outside or value!r} "
                         f"(it may use {','.join(map(str, usable))})")
    return cpus


def pick(cpus: tuple[int, ...], taken: Iterable[int]) -> int:
    """The CPU among `cpus` with the fewest workers on it (the first of them on a tie)."""
    counts = {cpu: 0 for cpu in cpus}
    for cpu in taken:
        if cpu in counts:
            counts[cpu] += 1
    return min(cpus, key=lambda cpu: (counts[cpu], cpus.index(cpu)))


def worker_cpu(setting: str) -> int | None:
    """This worker's CPU: the one its master chose (several workers), else the first of the setting, else None."""
    chosen = os.environ.get(WORKER_CPU, "")
    if chosen.isdigit():
        return int(chosen)
    cpus = parse(setting)
    return cpus[0] if cpus else None


def pin_this_thread(cpu: int | None) -> None:
    """Keep the calling thread (only it) on `cpu`; None: nothing."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})

