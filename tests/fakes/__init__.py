"""Fake platform servers on localhost that speak the real wire format (Telegram Bot API, WeChat API)."""
