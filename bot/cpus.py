"""Keeping a worker's Python threads on one CPU (FUNDGUARD_PIN_CPUS), and off a CPU others crowd.

A worker runs Python on one core at a time (the GIL): its event loop hands each turn to a turn thread and takes the
reply back. When the scheduler puts those threads on different cores, every object both touch (reference counts
included) moves between the cores' caches, each hand-over of the GIL wakes the other core, and the two threads take
turns at the GIL thousands of times a second. On the 2-core machine of docs/bench/issue16.md that made a plain
question cost about twice the CPU it costs with the loop and the turn threads on one core. Pinning them together
loses nothing Python could use; other processes (PostgreSQL, the web server in front) stay free to use every core.

    FUNDGUARD_PIN_CPUS=auto     worker N on the N-th CPU this process may use; not pinned where the system cannot pin
                                a thread (not Linux)
    FUNDGUARD_PIN_CPUS=2,3      only those CPUs, round robin over the workers
    FUNDGUARD_PIN_CPUS=         not pinned
    (not set)                   `fundguard serve` pins (auto) when its workers are fewer than the CPUs, else not
                                (`serve_default`); every other command does not pin

It pays when a host has fewer busy workers than cores (one worker on a 2-core machine, the rest of the machine for
the web server in front and the database): there a pinned worker answered 1.6 to 2.0 times as many questions. With
as many busy workers as cores, or other busy processes on every core, the scheduler's own placing measured faster
(docs/bench/issue16.md), hence not pinned then.

A pinned worker is moved when others crowd its CPU (`Keeper`): several independent servers on one host (containers
that do not share their choices) all start on the first CPU, and within a few seconds each one that finds others
taking a good part of its CPU while another has room moves there, with every thread pinned with it. It does not
unpin a worker when every CPU is busy: judged from a few seconds of /proc/stat, that released a worker for good on a
passing peak (tried, docs/bench/issue16.md); a deployment whose cores are all busy should not pin.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

log = logging.getLogger(__name__)
WORKER_CPU = "FUNDGUARD_WORKER_CPU"  # set in a forked worker (webhook/serve.py): the CPU its master chose for it
BUSY = 0.25    # a worker that used at least this share of its CPU (an idle one is not kept from anything) …
CROWDED = 0.3  # … whose CPU others took at least this share of …
ROOM = 0.05    # … and another CPU has at least this much more free than they left it: move there


# read when this module is first imported, before any thread of the process is pinned (an affinity is per thread)
_ALLOWED = tuple(sorted(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else ()


def allowed() -> tuple[int, ...]:
    """The CPUs this process may run on (a container's cpuset included), in order."""
    return _ALLOWED


def parse(value: str) -> tuple[int, ...]:
    """The CPUs a setting names: () for none (not pinned). ValueError with a sentence for anything else."""
    value = value.strip().lower()
    if value in ("", "off", "no", "none"):
        return ()
    usable = allowed()
    if value == "auto":
        return usable  # () where a thread cannot be pinned: auto then means not pinned
    if not usable:
        raise ValueError("pinning to a CPU needs Linux (sched_setaffinity); set FUNDGUARD_PIN_CPUS to auto or empty")
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


def serve_default(workers: int, usable: tuple[int, ...] | None = None) -> str:
    """What `fundguard serve` pins when FUNDGUARD_PIN_CPUS is not set: `auto` when its workers leave at least one
    CPU to the rest of the machine (one worker on 2 cores answered 1.6-2.0 times as many questions pinned), else ""
    (as many workers as cores: the scheduler's placing measured ~10 % faster)."""
    return "auto" if workers < len(allowed() if usable is None else usable) else ""


def pin_this_thread(cpu: int | None) -> None:
    """Keep the calling thread (only it, and the threads it starts from now on) on `cpu`; None: nothing."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})


@contextlib.contextmanager
def every_cpu() -> Iterator[None]:
    """The calling thread may use every allowed CPU for the block: native thread pools made in it (ONNX Runtime's)
    are not held to its one CPU."""
    if not hasattr(os, "sched_getaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, set(allowed()) or before)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


# --- moving off a crowded CPU -----------------------------------------------------------------------------------

def cpu_ticks(stat: str) -> dict[int, tuple[int, int]]:
    """Each CPU's busy and total clock ticks, from the text of /proc/stat (idle and iowait are not busy)."""
    out: dict[int, tuple[int, int]] = {}
    for line in stat.splitlines():
        name, _, rest = line.partition(" ")
        if name.startswith("cpu") and name[3:].isdigit():
            ticks = [int(field) for field in rest.split()[:8]]  # user nice system idle iowait irq softirq steal
            total = sum(ticks)
            out[int(name[3:])] = (total - ticks[3] - ticks[4], total)
    return out


def choose(cpu: int, busy: dict[int, float], ours: float, among: tuple[int, ...]) -> int | None:
    """Where a worker on `cpu` should go: `busy` is each CPU's busy share of the last period, `ours` the share the
    worker's own threads used. Others took busy[cpu] - ours of it, leaving the worker the rest: the freest other CPU
    of `among` if that one is freer by ROOM, else None (it is idle, not crowded, or has nowhere better to go)."""
    others = busy.get(cpu, 0.0) - ours
    if ours < BUSY or others < CROWDED:
        return None
    room = {c: 1.0 - busy[c] for c in among if c != cpu and c in busy}
    if not room:
        return None
    best = max(room, key=lambda c: (room[c], -among.index(c)))
    return best if room[best] >= 1.0 - others + ROOM else None


class Keeper:
    """Moves a pinned worker, every thread of it on its CPU, to another of `among` when others crowd its CPU.

    `check()` takes one reading of /proc/stat and of the worker's threads since the last; `start()` checks every
    `period` seconds (±25 %, so that two crowded workers do not decide in step) in a daemon thread."""

    def __init__(self, cpu: int, among: tuple[int, ...], period: float = 2.0,
                 read_stat: Callable[[], str] = lambda: Path("/proc/stat").read_text(),
                 read_ours: Callable[[int], int] | None = None) -> None:
        """`read_stat`: /proc/stat's text; `read_ours`: the clock ticks the threads kept to a CPU used so far."""
        self.cpu, self.among, self.period = cpu, among, period
        self._read_stat = read_stat
        self._read_ours = read_ours or _ticks_of_threads_on
        self._stop = threading.Event()
        self._last = (cpu_ticks(read_stat()), self._our_ticks())

    def check(self) -> int | None:
        """The CPU the worker moved to, or None (it stays)."""
        now = (cpu_ticks(self._read_stat()), self._our_ticks())
        (stat0, ours0), (stat1, ours1) = self._last, now
        self._last = now
        busy = {c: (b - stat0[c][0]) / (t - stat0[c][1])
                for c, (b, t) in stat1.items() if c in stat0 and t > stat0[c][1]}
        span = stat1.get(self.cpu, (0, 0))[1] - stat0.get(self.cpu, (0, 0))[1]
        to = choose(self.cpu, busy, (ours1 - ours0) / span if span > 0 else 0.0, self.among)
        if to is not None:
            moved = self.move(to)
            log.warning("worker moved to a freer CPU",
                        extra={"from_cpu": self.cpu, "to_cpu": to, "threads": moved,
                               "busy": {c: round(b, 2) for c, b in busy.items()}})
            self.cpu, self._last = to, (cpu_ticks(self._read_stat()), self._our_ticks())
        return to

    def move(self, to: int) -> int:
        """Every thread of this process kept to the worker's CPU now keeps to `to`; how many there were."""
        moved = 0
        for tid in _threads_on(self.cpu):
            with contextlib.suppress(OSError):  # the thread ended meanwhile
                os.sched_setaffinity(tid, {to})
                moved += 1
        return moved

    def start(self) -> Keeper:
        threading.Thread(target=self._run, name="cpu-keeper", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        jitter = random.Random()
        while not self._stop.wait(self.period * jitter.uniform(0.75, 1.25)):
            try:
                if self.check() is not None:  # let the move show in the next readings before judging again
                    self._stop.wait(self.period * 2)
            except OSError as exc:  # /proc unreadable (a sandbox): stay where it is, and stop looking
                log.warning("cpu keeper stopped", extra={"error_type": type(exc).__name__})
                return

    def _our_ticks(self) -> int:
        return self._read_ours(self.cpu)


def _ticks_of_threads_on(cpu: int) -> int:
    total = 0
    for tid in _threads_on(cpu):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def _threads_on(cpu: int) -> list[int]:
    """This process's threads kept to `cpu` alone."""
    out = []
    for entry in os.scandir("/proc/self/task"):
        with contextlib.suppress(OSError, ValueError):
            if os.sched_getaffinity(int(entry.name)) == {cpu}:
                out.append(int(entry.name))
    return out


def keep(setting: str, cpu: int | None) -> Keeper | None:
    """A started Keeper for a worker pinned to `cpu` under this setting; None when it is not pinned or has nowhere
    else to go."""
    among = parse(setting)
    if cpu is None or len(among) < 2 or not Path("/proc/stat").exists():
        return None
    return Keeper(cpu, among).start()
