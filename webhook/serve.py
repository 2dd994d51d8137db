"""`fundguard serve --workers N` (N > 1): load once, then fork the workers (gunicorn, uvicorn's worker class).

The master loads the read-only parts (the NLU model with jieba's dictionary, the content, the risk lexicon)
and warms them; each worker forked from it shares those pages copy-on-write. `gc.freeze()` just before each
fork keeps the collector of a worker from writing to the master's objects (which would copy their pages).
Whatever holds sockets, threads or an event loop (database pools, Redis, the OCR session, Telegram, the
background tasks) is made after the fork, in each worker's lifespan (webhook/app.py).
"""

from __future__ import annotations

import gc
import logging
import os
import warnings
from typing import Any

from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from bot.bootstrap import Preloaded, ensure_keys
from bot.cpus import WORKER_CPU, parse, pick
from bot.settings import Settings
from webhook.app import create_app

with warnings.catch_warnings():  # the module is deprecated for the uvicorn-worker package; same class
    warnings.simplefilter("ignore", DeprecationWarning)
    from uvicorn.workers import UvicornWorker

WARM_TEXTS = ("帮我看看这个靠谱吗：投五万每个月返两千，拉人还有提成，保本保息", "什么是非法集资？")


def preload(settings: Settings) -> Preloaded:
    """The read-only parts, loaded and used once so that nothing is loaded lazily after the fork."""
    parts = Preloaded.load(settings, with_nlu=True)
    if parts.embedded is not None:
        parts.embedded.warm()
    for text in WARM_TEXTS:
        parts.risk.analyse(text)
    ensure_keys(settings, parts.offices)  # once here, not raced by the workers
    return parts


def worker_class(trusted: list[str]) -> type[UvicornWorker]:
    """uvicorn's worker with the options `fundguard serve` gives uvicorn itself."""

    class Worker(UvicornWorker):
        # Only a trusted peer's X-Forwarded-For names the client: the rate limits key on that address.
        CONFIG_KWARGS = {"loop": "auto", "http": "auto", "server_header": False, "access_log": False,
                         "proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or None}

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            error, access = logging.getLogger("uvicorn.error"), logging.getLogger("uvicorn.access")
            error.handlers, error.propagate = [], True  # to the root logger's JSON lines, as with uvicorn
            access.handlers, access.propagate = [], False  # no access log, as with uvicorn

    return Worker


class JsonLogger(glogging.Logger):  # type: ignore[misc]  # gunicorn ships no type information
    """gunicorn's own messages go through the root logger (JSON lines, bot.logs); no access log."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            logger.handlers, logger.propagate = [], True


def pre_fork(settings: Settings):  # type: ignore[no-untyped-def]
    cpus = parse(settings.pin_cpus)

    def hook(server: Any, worker: Any) -> None:
        if cpus:  # the CPU with the fewest live workers (a replaced worker takes its predecessor's place)
            worker.fundguard_cpu = pick(cpus, [getattr(w, "fundguard_cpu", -1) for w in server.WORKERS.values()])
        gc.freeze()  # everything the master made so far: its pages stay shared by the worker

    return hook


def _post_fork(server: Any, worker: Any) -> None:
    cpu = getattr(worker, "fundguard_cpu", None)
    if cpu is not None:  # read by the worker's bootstrap (bot.cpus.worker_cpu)
        os.environ[WORKER_CPU] = str(cpu)


def _child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # a dead worker's gauges leave /metrics
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


class PreforkServer(BaseApplication):  # type: ignore[misc]
    """gunicorn run from code: the app object is built here, in the master, before the workers fork."""

    def __init__(self, app: Any, options: dict[str, Any]) -> None:
        self.application, self.options = app, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application


def serve(settings: Settings, host: str, port: int, workers: int, trusted: list[str]) -> None:
    """Load once, fork `workers` workers, serve until SIGTERM or SIGINT."""
    app = create_app(settings, preloaded=preload(settings))
    gc.collect()
    gc.freeze()
    PreforkServer(app, {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers, "worker_class": worker_class(trusted), "preload_app": True,
        "logger_class": JsonLogger, "loglevel": settings.log_level.lower(), "accesslog": None,
        "keepalive": 5,  # uvicorn's default
        "timeout": 120,  # a worker silent this long (a stuck event loop) is replaced
        "pre_fork": pre_fork(settings), "post_fork": _post_fork, "child_exit": _child_exit,
        "control_socket_disable": True,  # gunicorn's control socket: a thread in the master, not needed
        "proc_name": "fundguard",
    }).run()
