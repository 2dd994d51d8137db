"""`fundguard office …` and `fundguard tips …`: office keys, opening tips (audited), retention."""

from __future__ import annotations

import getpass
import json
import os
from datetime import timedelta
from typing import TYPE_CHECKING

import click

from bot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.bootstrap import Services
    from bot.store.models import Office
    from bot.tips.sealing import UnlockedOfficeKey


def _services() -> Services:
    from bot.bootstrap import bootstrap

    return bootstrap(Settings(), with_engine=False)


def _passphrase(prompt: str, confirm: bool = False, env: str = "FUNDGUARD_OFFICE_PASSPHRASE") -> str:
    value = os.environ.get(env)
    if value:
        return value
    value = getpass.getpass(prompt)
    if confirm and getpass.getpass("Again: ") != value:
        raise click.ClickException("the passphrases differ")
    return value


@click.group()
def office() -> None:
    """Office keys."""


@office.command("keygen")
@click.option("--office", "code", required=True, help="the office code from content/offices.yaml")
@click.option("--export", type=click.Path(dir_okay=False), help="also write the encrypted key file here")
@click.option("--rotate", is_flag=True, help="replace the office's existing key (older tips stay readable)")
@click.option("--forget-old", is_flag=True, help="with --rotate: do not keep the old key (its tips become unreadable)")
def keygen(code: str, export: str | None, rotate: bool, forget_old: bool) -> None:
    """Make an office keypair; the private key is encrypted under a passphrase (Argon2id).

    An office that has a key keeps it unless --rotate is given; the old key then joins the office's keyring
    (it needs the current passphrase once) so that tips sealed to it still open with the new passphrase."""
    from bot.bootstrap import KDF_LIMITS
    from bot.store.models import Office
    from bot.tips.keyring import rotate_key
    from bot.tips.sealing import generate_office_key

    svc = _services()
    if svc.offices.get(code) is None:
        raise click.ClickException(f"unknown office {code!r}")
    with svc.uow() as uow:
        existing = uow.session.get(Office, code)
        if existing is not None and not rotate:
            raise click.ClickException(
                f"office {code} already has a key (made {existing.created_at:%Y-%m-%d}); replacing it makes its "
                "tips unreadable unless the old key is kept: use --rotate (asks for the current passphrase)")
        old = _old_key(uow.session, code, existing, forget_old) if existing is not None else None
        passphrase = _passphrase(f"New passphrase for {code}: ", confirm=True)
        if len(passphrase) < 12:
            raise click.ClickException("use a passphrase of at least 12 characters")
        ops, mem = KDF_LIMITS["moderate" if svc.settings.environment == "production" else svc.settings.kdf_strength]
        key = generate_office_key(passphrase, opslimit=ops, memlimit=mem)
        kept = rotate_key(uow.session, code, key.unlock(passphrase), key, old)
        uow.commit()
    if export:
        with open(export, "w", encoding="utf-8") as fh:
            fh.write(key.to_json())
    click.echo(f"office {code}: new key, public key {key.public_key}")
    if existing is not None:
        click.echo(f"earlier keys kept in the keyring: {kept}" if old is not None else
                   "the old key was NOT kept: tips sealed to it can no longer be opened")


def _old_key(session: Session, code: str, existing: Office, forget_old: bool) -> UnlockedOfficeKey | None:
    """The office's current key unlocked (to keep it), or None with --forget-old."""
    from bot.tips.keys import DEV_PASSPHRASE, unlock
    from bot.tips.sealing import SealingError

    if forget_old:
        return None
    passphrase = DEV_PASSPHRASE if existing.development_key else _passphrase(
        f"Current passphrase for {code}: ", env="FUNDGUARD_OFFICE_OLD_PASSPHRASE")
    try:
        return unlock(session, code, passphrase)
    except SealingError as exc:
        raise click.ClickException("the current passphrase does not open the office key; nothing changed "
                                   "(--forget-old replaces it without keeping it)") from exc


@click.group()
def tips() -> None:
    """Tips: open (audited), purge."""


@tips.command("open")
@click.argument("tip_id", type=int)
@click.option("--office", "code", help="open with this office's key (default: the tip's office)")
@click.option("--actor", default=lambda: getpass.getuser(), help="who is opening it (for the audit log)")
@click.option("--reveal-identity", is_flag=True, help="also show the tipster's contact (needs --reason)")
@click.option("--reason", default="", help="why; required to reveal an identity")
def open_tip(tip_id: int, code: str | None, actor: str, reveal_identity: bool, reason: str) -> None:
    """Show a tip as the console will; every opening writes an audit row."""
    from bot.staff.labels import fmt
    from bot.store.models import Tip
    from bot.tips.keys import unlock
    from bot.tips.opening import NotSealedHere, open_tip
    from bot.tips.sealing import SealingError
    from bot.tips.service import STATUS_LABELS

    if reveal_identity and not reason.strip():
        raise click.ClickException("revealing an identity needs --reason")
    svc = _services()
    with svc.uow() as uow:
        tip = uow.session.get(Tip, tip_id)
        if tip is None:
            raise click.ClickException(f"no tip {tip_id}")
        code = code or tip.office_code
        try:
            key = unlock(uow.session, code, _passphrase(f"Passphrase for {code}: "))
        except (SealingError, LookupError) as exc:
            raise click.ClickException(str(exc)) from exc
        try:  # the console opens tips the same way: bot/tips/casework.py (audited there)
            opened = open_tip(uow.session, tip, key, code, actor, reveal=reveal_identity, reason=reason)
        except NotSealedHere as exc:
            raise click.ClickException(str(exc)) from exc
        uow.commit()
        office = svc.offices.get(tip.office_code)
        click.echo(f"tip {tip.id} · {office.area if office else tip.office_code} · {tip.category} · "
                   f"{'URGENT · ' if tip.urgent else ''}{STATUS_LABELS.get(tip.status, tip.status)} · "
                   f"{fmt(tip.created_at, '%Y-%m-%d %H:%M %Z')} · flags: {', '.join(tip.flags) or '-'}")
        for part, body in opened.parts:
            if part == "evidence":
                click.echo(f"evidence: {body.get('mime')} image, {body.get('bytes')} bytes")
            else:
                click.echo(f"{part}: {json.dumps(body, ensure_ascii=False, indent=1)}")
        if not reveal_identity:
            click.echo("identity: (sealed; use --reveal-identity --reason …)")
        if opened.unreadable:
            click.echo(f"WARNING: {opened.unreadable} sealed part(s) could not be opened: "
                       + "; ".join(opened.causes), err=True)


@tips.command("purge")
@click.option("--older-than-days", type=int, default=None, help="default: FUNDGUARD_TIP_RETENTION_DAYS")
def purge(older_than_days: int | None) -> None:
    """Delete closed tips older than the retention period."""
    svc = _services()
    days = older_than_days if older_than_days is not None else svc.settings.tip_retention_days
    with svc.uow() as uow:
        n = svc.tips.purge_closed(uow.session, timedelta(days=days))
        uow.commit()
    click.echo(f"purged {n} closed tip(s) older than {days} days")
