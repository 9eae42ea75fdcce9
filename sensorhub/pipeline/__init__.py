"""Per-wearer streaming detection pipeline: sample blocks in, events out (pure computation).

``Pipeline.feed(block)`` accepts :class:`~sensorhub.model.SampleBlock` s of any size and returns
a :class:`PipelineOutput`: the events whose evidence is complete, the finished epoch summaries,
the confirmed steps and the live state. The same code serves live BLE streams and recorded
files (``sensorhub analyze``): the input is resampled onto an absolute time grid, cut into
absolute one-second frames with a fixed context window, and every later stage works on frames
in order, so the output does not depend on how the stream was chunked (tests prove it).
Memory is bounded: a call returns everything it produced, and only the context window, the
open bouts, the open epoch and each stage's short history are kept.

Stages (DESIGN.md section 3), each a small class with one action method that returns what it
produced; :class:`Pipeline` (``pipeline.py``) is the chain that wires them:

- resampling and framing (:mod:`sensorhub.signal.resample`, :mod:`sensorhub.signal.frames`)
  -> frame features (gravity, movement, periodicity; :mod:`sensorhub.signal.features`)
- posture/activity per frame (:class:`~sensorhub.detect.posture.PostureClassifier`, with
  sit-to-stand transition evidence at the lower back and hip)
- non-wear (:class:`~sensorhub.detect.wear.WearDetector`)
- static load (:class:`~sensorhub.detect.static_load.StaticLoadTracker`: StaticBout events
  and the live current bout; a pipeline can resume a bout left open by a restart)
- posture segments (:class:`~sensorhub.pipeline.segments.PostureSegmenter`, ``segments.py``)
- candidate steps (:class:`~sensorhub.pipeline.step_timeline.StepTimeline`,
  ``step_timeline.py``: detection, limb strides, the minimum step interval) -> confirmed steps
  and gait bouts (:class:`~sensorhub.detect.gait.GaitBoutAssembler`)
- falls (:class:`~sensorhub.detect.falls.FallDetector`)
- epoch summaries (:class:`~sensorhub.pipeline.epochs.EpochAccumulator`, ``epochs.py``)

Tunables live in :class:`PipelineSettings` (``settings.py``), the call results in
``output.py``.
"""

from sensorhub.pipeline.output import LiveState, PipelineOutput
from sensorhub.pipeline.pipeline import Pipeline
from sensorhub.pipeline.settings import PipelineSettings

__all__ = ["LiveState", "Pipeline", "PipelineOutput", "PipelineSettings"]
