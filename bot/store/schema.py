"""Every table of the app on one MetaData: each part's model module, imported here for its tables.

Migrations, the dashboard's read of another part's table, and the tests' truncation use `metadata`; the
model modules themselves import only `Base` from bot.store.models, so the store has no import cycle.
"""

from __future__ import annotations

from bot.store import campaign_models, console_models, models

metadata = models.Base.metadata
PARTS = (models, campaign_models, console_models)  # the modules whose tables `metadata` holds
