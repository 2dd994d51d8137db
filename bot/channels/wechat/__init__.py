"""The WeChat official account channel: protocol (signed, encrypted XML), gateway, dialogue, rendering,
the outbound client and pushes, and what the channel stores. wechatpy objects stop here."""
