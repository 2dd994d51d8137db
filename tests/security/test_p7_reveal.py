"""Point 7: revealing a real-name tipster is a supervisor's action by default (configurable per office), needs a
reason and a second confirmation, and shows in the office supervisors' audit log."""

from __future__ import annotations

from tests.integration.test_console_security import (  # noqa: F401
    PHONE,
    add_staff,
    audit,
    console,
    csrf_of,
    file_via_chat,
    last_tip_id,
    sign_in,
    unlock,
)

WHY = "核实后发放举报奖励"


def _reveal(client, tip_id: int, **extra: str):  # type: ignore[no-untyped-def]
    return client.post(f"/console/tips/{tip_id}/reveal", data={"csrf": csrf_of(client), "reason": WHY, **extra})


def test_only_supervisors_reveal_by_default_and_only_after_confirming(console):  # noqa: F811
    client, svc = console
    file_via_chat(client, "real-1", contact=f"王德福 {PHONE}", amount="两百万")  # urgent: sealed to the city too
    tip_id = last_tip_id(svc)
    add_staff(svc, "sq-h", "shiquan")
    add_staff(svc, "city-h", "ankang")
    boss = add_staff(svc, "sq-boss", "shiquan", role="supervisor")
    for handler in ("sq-h", "city-h"):  # the county's handler, and a city handler on an urgent tip
        sign_in(client, handler)
        assert unlock(client).status_code == 303
        page = client.get(f"/console/tips/{tip_id}").text
        assert 'id="reveal"' not in page and PHONE not in page
        assert _reveal(client, tip_id).status_code == 403
        assert _reveal(client, tip_id, confirm="yes").status_code == 403
    assert audit(svc, "reveal_identity") == []
    sign_in(client, "sq-boss", boss)
    assert unlock(client).status_code == 303
    assert 'id="reveal"' in client.get(f"/console/tips/{tip_id}").text
    first = _reveal(client, tip_id)
    assert first.status_code == 200 and "reveal-confirm" in first.text and PHONE not in first.text
    assert audit(svc, "reveal_identity") == []  # nothing opened before the second confirmation
    second = _reveal(client, tip_id, confirm="yes")
    assert second.status_code == 200 and PHONE in second.text
    assert audit(svc, "reveal_identity") == [("sq-boss", tip_id, WHY)]
    log = client.get("/console/audit", params={"action": "reveal_identity"}).text
    assert WHY in log and "sq-boss" in log


def test_an_office_can_let_its_handlers_reveal(console):  # noqa: F811
    client, svc = console
    svc.settings.reveal_roles = {"*": "supervisor", "shiquan": "handler"}
    file_via_chat(client, "real-2", contact=f"王德福 {PHONE}")
    tip_id = last_tip_id(svc)
    add_staff(svc, "sq-h2", "shiquan")
    sign_in(client, "sq-h2")
    assert unlock(client).status_code == 303
    assert PHONE in _reveal(client, tip_id, confirm="yes").text
    file_via_chat(client, "real-3", region="汉滨区", contact=f"王德福 {PHONE}")
    other = last_tip_id(svc)
    add_staff(svc, "hb-h", "hanbin")
    sign_in(client, "hb-h")
    assert unlock(client).status_code == 303
    assert _reveal(client, other, confirm="yes").status_code == 403  # hanbin keeps the default
