"""`fundguard staff …`: console accounts (add, list, password, TOTP, deactivate)."""

from __future__ import annotations

import getpass
import os
from typing import TYPE_CHECKING

import click

from bot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.bootstrap import Services
    from bot.staff.accounts import Issued
    from bot.staff.kit import StaffKit
    from bot.store.console_models import StaffAccount


def _kit() -> tuple[Services, StaffKit]:
    from bot.bootstrap import bootstrap

    services = bootstrap(Settings(), with_engine=False)
    return services, services.staff


def _password(prompt: str) -> str:
    value = os.environ.get("FUNDGUARD_STAFF_PASSWORD")
    if value:
        return value
    value = getpass.getpass(prompt)
    if getpass.getpass("Again: ") != value:
        raise click.ClickException("the passwords differ")
    return value


def _show_totp(issued: Issued) -> None:
    if issued.totp_secret:
        click.echo("TOTP secret (shown once; add it to an authenticator app now):")
        click.echo(f"  secret: {issued.totp_secret}")
        click.echo(f"  uri:    {issued.totp_uri}")


@click.group()
def staff() -> None:
    """Staff accounts of the console."""


@staff.command("add")
@click.option("--username", required=True, help="lower-case login name")
@click.option("--name", "display_name", required=True, help="the person's name, as colleagues see it")
@click.option("--office", "office_code", required=True, help="office code from content/offices.yaml")
@click.option("--role", type=click.Choice(["handler", "supervisor", "admin"]), default="handler", show_default=True)
@click.option("--totp/--no-totp", default=False, help="TOTP for a handler (always on for supervisors and admins)")
def add(username: str, display_name: str, office_code: str, role: str, totp: bool) -> None:
    """Add an account; the password is asked for (or FUNDGUARD_STAFF_PASSWORD)."""
    from bot.staff.accounts import StaffError
    from bot.staff.credentials import WeakPassword
    from bot.store.models import AuditEntry

    services, kit = _kit()
    password = _password(f"Password for {username}: ")
    with services.uow() as uow:
        try:
            issued = kit.directory.add(uow.session, username=username, display_name=display_name,
                                       office_code=office_code, role=role, password=password, totp=totp)
        except (StaffError, WeakPassword) as exc:
            raise click.ClickException(str(exc)) from exc
        uow.session.add(AuditEntry(actor=f"cli:{getpass.getuser()}", action="staff_add",
                                   reason=f"{issued.account.username} {role}"))
        uow.commit()
    click.echo(f"staff {issued.account.username} ({role}, {office_code}) added")
    _show_totp(issued)


@staff.command("list")
def list_staff() -> None:
    """List the accounts."""
    services, kit = _kit()
    with services.uow() as uow:
        for a in kit.directory.list(uow.session):
            click.echo(f"{a.username:20} {a.role:10} {a.office_code:10} {'active' if a.active else 'inactive':8} "
                       f"totp={'yes' if a.totp_sealed else 'no'}")


def _account(kit: StaffKit, session: Session, username: str) -> StaffAccount:
    account = kit.directory.by_username(session, username)
    if account is None:
        raise click.ClickException(f"no staff account {username!r}")
    return account


@staff.command("passwd")
@click.argument("username")
def passwd(username: str) -> None:
    """Set a new password (ends the account's sessions)."""
    from bot.staff.credentials import WeakPassword

    services, kit = _kit()
    with services.uow() as uow:
        account = _account(kit, uow.session, username)
        try:
            kit.directory.set_password(uow.session, account, _password(f"New password for {username}: "))
        except WeakPassword as exc:
            raise click.ClickException(str(exc)) from exc
        uow.commit()
    click.echo(f"password of {username} changed")


@staff.command("totp-reset")
@click.argument("username")
def totp_reset(username: str) -> None:
    """Issue a new TOTP secret (the old one stops working)."""
    services, kit = _kit()
    with services.uow() as uow:
        issued = kit.directory.reset_totp(uow.session, _account(kit, uow.session, username))
        uow.commit()
    _show_totp(issued)


@staff.command("deactivate")
@click.argument("username")
@click.option("--reactivate", is_flag=True, help="turn the account back on instead")
def deactivate(username: str, reactivate: bool) -> None:
    """Turn an account off (its sessions end at once) or back on."""
    services, kit = _kit()
    with services.uow() as uow:
        kit.directory.set_active(uow.session, _account(kit, uow.session, username), reactivate)
        uow.commit()
    click.echo(f"{username}: {'active' if reactivate else 'deactivated'}")
