"""The `fundguard` command: one group, one module per command group (bot/cli/*.py)."""

from __future__ import annotations

import click


@click.group()
def main() -> None:
    """FundGuard: the 处非办 chat bot."""


def _register() -> None:
    from bot.cli.campaign import campaign
    from bot.cli.content import content, riskcheck, verdict
    from bot.cli.nlu import nlu
    from bot.cli.rasa import rasa
    from bot.cli.serve import chat, db, serve
    from bot.cli.staff import staff
    from bot.cli.telegram import telegram
    from bot.cli.tips import office, tips
    from bot.cli.wechat import wechat
    from bot.cli.worker import worker

    for command in (serve, db, chat, nlu, content, riskcheck, verdict, office, tips, staff, telegram, wechat,
                    rasa, campaign, worker):
        main.add_command(command)


_register()
