"""The staff console at /console: one router that gathers the console's pages."""

from __future__ import annotations

from fastapi import APIRouter

from webhook.console import routes_admin, routes_auth, routes_queue, routes_reply, routes_reports, routes_tips

router = APIRouter()
for part in (routes_auth, routes_queue, routes_tips, routes_reply, routes_reports, routes_admin):
    router.include_router(part.router)
