"""The 处非办 staff side: accounts, sign-in, sessions, roles, reports. No web framework here."""
