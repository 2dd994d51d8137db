"""`fundguard serve`, `db upgrade` and `chat`: run the bot."""

from __future__ import annotations

import os

import click

from bot.cpus import serve_default
from bot.settings import Settings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@click.option("--workers", default=1, type=int, show_default=True)
@click.option("--forwarded-allow-ips", default=None, metavar="IPS",
              help="proxies trusted to set X-Forwarded-For (IPs or CIDRs, comma-separated); "
                   "default: FUNDGUARD_TRUSTED_PROXIES, empty = trust none")
def serve(host: str, port: int, workers: int, forwarded_allow_ips: str | None) -> None:
    """Start the web app (uvicorn; several workers: forked from one process that loaded the model once)."""
    import uvicorn

    from bot import logs
    from bot.store.db import upgrade

    settings = Settings()
    if "pin_cpus" not in settings.model_fields_set:  # not set: pinned when the workers leave a CPU free (bot/cpus.py)
        settings = settings.model_copy(update={"pin_cpus": serve_default(workers)})
        os.environ["FUNDGUARD_PIN_CPUS"] = settings.pin_cpus  # read again by the app's own Settings() (one worker)
    trusted = trusted_proxies(settings.trusted_proxies if forwarded_allow_ips is None else forwarded_allow_ips)
    logs.configure(settings.log_level)
    settings.ensure_dirs()
    upgrade(settings.database_url)  # idempotent: a fresh database is ready before the first request
    if workers > 1:
        from webhook.serve import serve as prefork

        prefork(settings, host, port, workers, trusted)
        return
    # Only a trusted peer's X-Forwarded-For names the client: the rate limits key on that address.
    uvicorn.run("webhook.app:create_app", factory=True, host=host, port=port,
                log_config=None, access_log=False, server_header=False,
                proxy_headers=bool(trusted), forwarded_allow_ips=trusted or None)


def trusted_proxies(value: str) -> list[str]:
    """The trusted proxies as uvicorn takes them; a clear error for an entry that is no address or network."""
    import ipaddress

    items = [item.strip() for item in value.split(",") if item.strip()]
    for item in items:
        if item == "*" or item.startswith("unix:"):
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise click.BadParameter(f"{item!r} is not an IP address or network (e.g. 10.0.0.5 or 172.16.0.0/12)",
                                     param_hint="FUNDGUARD_TRUSTED_PROXIES / --forwarded-allow-ips") from None
    return items


@click.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the Alembic migrations to FUNDGUARD_DATABASE_URL."""
    from bot.store.db import upgrade

    settings = Settings()
    settings.ensure_dirs()
    upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}")


@click.command()
@click.option("--user", default="terminal", show_default=True)
def chat(user: str) -> None:
    """Talk to the bot in the terminal (the same engine as every channel)."""
    from bot.bootstrap import bootstrap
    from bot.messages import Inbound

    engine = bootstrap(Settings()).engine
    assert engine is not None
    click.echo("FundGuard 防范非法集资助手。输入问题回车发送，Ctrl-D 退出。")
    while True:
        try:
            text = input("你> ")
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return
        if not text.strip():
            continue
        turn = engine.handle(Inbound(channel="terminal", user=user, text=text))  # no event loop here: at once
        for reply in turn.replies:
            click.echo(f"助手> {reply.text}")
            if reply.buttons:
                click.echo("      [" + "] [".join(b.label for b in reply.buttons) + "]")
        extra = [f"topic={turn.topic}", f"confidence={turn.confidence:.2f}"]
        if turn.expects:
            extra.append(f"expects={turn.expects}")
        if turn.receipt:
            extra.append(f"receipt={turn.receipt}")
        click.secho("      (" + " ".join(extra) + ")", dim=True)
