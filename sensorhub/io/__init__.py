"""Recording readers and the offline analysis of one recording (``sensorhub analyze``)."""

from sensorhub.errors import RecordingError
from sensorhub.io.csvfile import CsvRecording
from sensorhub.io.readers import AnyRecording, Recording, iter_blocks, read_recording

__all__ = [
    "AnyRecording",
    "CsvRecording",
    "Recording",
    "RecordingError",
    "iter_blocks",
    "read_recording",
]
