"""FundGuard: the conversation engine and its domain (no web framework, no chat SDK)."""
