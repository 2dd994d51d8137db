"""The Telegram channel (python-telegram-bot): validation and parsing of updates, the dialogue, the
application fed by webhook or polling, and the push sender. PTB objects stop here."""
