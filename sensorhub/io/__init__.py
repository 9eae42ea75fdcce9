"""Recording readers and the offline analysis of one recording (``sensorhub analyze``)."""

from sensorhub.io.readers import Recording, RecordingError, iter_blocks, read_recording

__all__ = ["Recording", "RecordingError", "iter_blocks", "read_recording"]
