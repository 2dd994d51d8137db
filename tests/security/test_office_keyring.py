"""Issue 17 point 5: `office keygen` does not silently replace a key; `--rotate` keeps the old key in the office's
keyring so older tips still open with the new passphrase; a part that cannot be opened is explained."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main as cli
from bot.store.models import Office, Tip
from tests.integration.test_console_security import console  # noqa: F401
from tests.integration.test_tip_admin import cli_env  # noqa: F401
from tests.integration.test_tips import COMPANY, file_tip

FIRST, SECOND, THIRD = "first office passphrase", "second office passphrase", "third office passphrase"


def _keygen(env, new: str, *flags: str, old: str | None = None):  # type: ignore[no-untyped-def]
    env.setenv("FUNDGUARD_OFFICE_PASSPHRASE", new)
    if old is None:
        env.delenv("FUNDGUARD_OFFICE_OLD_PASSPHRASE", raising=False)
    else:
        env.setenv("FUNDGUARD_OFFICE_OLD_PASSPHRASE", old)
    return CliRunner().invoke(cli, ["office", "keygen", "--office", "shiquan", *flags])


def _open(env, tip_id: int, passphrase: str):  # type: ignore[no-untyped-def]
    env.setenv("FUNDGUARD_OFFICE_PASSPHRASE", passphrase)
    return CliRunner().invoke(cli, ["tips", "open", str(tip_id), "--actor", "staff-key"])


def _public(services) -> str:  # type: ignore[no-untyped-def]
    with services.uow() as uow:
        return uow.session.get(Office, "shiquan").public_key


def test_keygen_refuses_to_overwrite_and_rotation_keeps_older_tips_readable(client, services, cli_env):  # noqa: F811
    file_tip(client, "key-1")  # sealed to the development key
    before = _public(services)
    refused = _keygen(cli_env, FIRST)
    assert refused.exit_code != 0 and "--rotate" in refused.output and _public(services) == before
    assert _keygen(cli_env, FIRST, "--rotate").exit_code == 0  # a development key is kept without asking
    file_tip(client, "key-2")
    wrong = _keygen(cli_env, SECOND, "--rotate", old="not the passphrase")
    assert wrong.exit_code != 0 and "nothing changed" in wrong.output
    assert _keygen(cli_env, SECOND, "--rotate", old=FIRST).exit_code == 0
    file_tip(client, "key-3")
    with services.uow() as uow:
        tips = list(uow.session.scalars(select(Tip.id).order_by(Tip.id)))
    for tip_id in tips:  # the development-key tip, the first real key's tip, the current key's tip
        result = _open(cli_env, tip_id, SECOND)
        assert result.exit_code == 0 and COMPANY in result.output, result.output + result.stderr
    assert _open(cli_env, tips[0], FIRST).exit_code != 0  # only the current passphrase unlocks the office


def test_forgetting_the_old_key_is_explicit_and_its_tips_say_why(client, services, cli_env):  # noqa: F811
    file_tip(client, "key-4")
    assert _keygen(cli_env, FIRST, "--rotate").exit_code == 0
    file_tip(client, "key-5")
    forgot = _keygen(cli_env, SECOND, "--rotate", "--forget-old")
    assert forgot.exit_code == 0 and "NOT kept" in forgot.output
    with services.uow() as uow:
        old_tip = uow.session.scalars(select(Tip.id).order_by(Tip.id.desc())).first()
    result = _open(cli_env, old_tip, SECOND)
    assert "更换且没有保留" in result.stderr and "tampered?" not in result.stderr


def test_the_console_names_why_a_tip_cannot_be_opened(console):  # noqa: F811
    from bot.tips.keyring import rotate_key
    from bot.tips.sealing import TEST_MEMLIMIT, TEST_OPSLIMIT, generate_office_key
    from tests.integration.test_console_security import add_staff, file_via_chat, last_tip_id, sign_in, unlock

    client, svc = console
    file_via_chat(client, "old-key-tip")
    tip_id = last_tip_id(svc)
    new = generate_office_key(SECOND, opslimit=TEST_OPSLIMIT, memlimit=TEST_MEMLIMIT)
    with svc.uow() as uow:
        rotate_key(uow.session, "shiquan", new.unlock(SECOND), new, old=None)  # replaced without keeping it
        uow.commit()
    add_staff(svc, "sq-keys", "shiquan")
    sign_in(client, "sq-keys")
    assert unlock(client, SECOND).status_code == 303
    page = client.get(f"/console/tips/{tip_id}").text
    assert 'id="unreadable"' in page and "更换且没有保留" in page and "可能被篡改" not in page
