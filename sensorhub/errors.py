"""The sensorhub error tree: every error says what went wrong and what to do next."""

from __future__ import annotations


class SensorhubError(Exception):
    """Root of every error sensorhub raises on purpose."""


class ConfigError(SensorhubError, ValueError):
    """A configuration file or option is wrong."""


class StorageError(SensorhubError):
    """The database cannot be reached, opened or written."""


class DeviceError(SensorhubError):
    """A wearable could not be found, connected or commanded."""


class OutboxError(StorageError):
    """The on-disk outbox cannot take a record (disk full, outbox full, damaged file)."""


class RecordingError(SensorhubError, ValueError):
    """A recording file cannot be read: missing, unreadable, wrong format, shape, units or values.

    The message names the file, says what is wrong with it (with the line or array where that
    helps) and what the file must contain instead; it is one line, for ``sensorhub: error: ...``.
    """
