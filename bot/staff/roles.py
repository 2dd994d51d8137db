"""Roles and scope: who sees which tips, who may do what.

handler: works the tips of their office. supervisor: also assigns, sees escalations, exports reports,
reads the audit log. admin: also manages staff. County staff see only their county's tips; the city
office sees every county's tips and works the urgent ones (sealed to the city too) and its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

ROLES = ("handler", "supervisor", "admin")
ROLE_LABELS = {"handler": "承办人", "supervisor": "负责人", "admin": "管理员"}
TOTP_REQUIRED = frozenset({"supervisor", "admin"})
_RANK = {role: i for i, role in enumerate(ROLES)}


class StaffLike(Protocol):
    role: str
    office_code: str


class TipLike(Protocol):
    office_code: str
    urgent: bool


def at_least(staff: StaffLike, role: str) -> bool:
    """True when the staff member's role is `role` or above."""
    return _RANK.get(staff.role, -1) >= _RANK[role]


def is_city(staff: StaffLike, city_code: str) -> bool:
    return staff.office_code == city_code


def visible_offices(staff: StaffLike, city_code: str) -> frozenset[str] | None:
    """The offices whose tips this person sees; None means every office (the city)."""
    return None if is_city(staff, city_code) else frozenset({staff.office_code})


def can_see(staff: StaffLike, tip: TipLike, city_code: str) -> bool:
    return is_city(staff, city_code) or tip.office_code == staff.office_code


def can_work(staff: StaffLike, tip: TipLike, city_code: str) -> bool:
    """May change its status, write notes, reply: the tip's own office, or the city for urgent tips."""
    return tip.office_code == staff.office_code or (is_city(staff, city_code) and tip.urgent)


def can_assign(staff: StaffLike, tip: TipLike, city_code: str) -> bool:
    return at_least(staff, "supervisor") and can_work(staff, tip, city_code)


def reveal_role(office_code: str, reveal_roles: Mapping[str, str]) -> str:
    """The least role that may reveal a tipster's identity in this office (FUNDGUARD_REVEAL_ROLES)."""
    role = reveal_roles.get(office_code) or reveal_roles.get("*") or "supervisor"
    return role if role in _RANK else "supervisor"


def can_reveal(staff: StaffLike, tip: TipLike, city_code: str, reveal_roles: Mapping[str, str]) -> bool:
    """May see a real-name tipster's contact: works the tip, and holds the office's reveal role (default
    supervisor)."""
    return can_work(staff, tip, city_code) and at_least(staff, reveal_role(staff.office_code, reveal_roles))


def can_export(staff: StaffLike) -> bool:
    return at_least(staff, "supervisor")


def can_read_audit(staff: StaffLike) -> bool:
    return at_least(staff, "supervisor")


def can_manage_staff(staff: StaffLike, office_code: str, city_code: str) -> bool:
    """Admins manage the staff of their own office; the city's admins manage every office's staff."""
    return at_least(staff, "admin") and (is_city(staff, city_code) or office_code == staff.office_code)
