"""BLE adapter: find wearables, connect, stream, reconnect and nudge, on bleak's public API."""
