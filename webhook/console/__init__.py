"""The 处非办 staff console (server-rendered pages under /console)."""

from webhook.console.router import router

__all__ = ["router"]
