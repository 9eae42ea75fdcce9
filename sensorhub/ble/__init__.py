"""BLE adapter: find wearables, connect, stream, reconnect and nudge, on bleak's public API.

``session.py`` — :class:`DeviceSession` — one device of any profile: scan, connect with
bleak-retry-connector, reconnect with jittered exponential backoff, stall watchdog,
queue-only notification callback, bounded queue, supervised consumer, clean stop, nudges,
health and availability (one device's failures never reach the others).
``drivers.py`` — :class:`ProfileDriver` per protocol family — subscriptions, start/stop
commands and decoders from the device registry; the best nudge method the device exposes.
``streams.py`` — :class:`ImuStream` — sans-I/O continuity: sequence counters, duplicates,
out-of-order frames, gaps, clock steps and reboots -> :class:`~sensorhub.model.SampleBlock`.
``timesync.py`` — :class:`DeviceClockMapper` — device clock -> UTC by minimum delay and a
linear fit of the lower envelope (offset and drift).
``clock.py`` — host clocks: :class:`SystemClock`, time-compressed :class:`ScaledClock`.
``retry.py`` — :func:`backoff_delay_s`, :class:`RateLimitedLog` — capped jittered reconnect
backoff that cannot overflow; loud first failure, quiet repeats with periodic summaries.
"""
