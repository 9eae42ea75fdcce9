"""Issue 13: static bouts agree with the postures and walks of the same analysis, on real
recordings (a few here; ``make eval`` checks every open recording with the same rules,
eval/bout_consistency.py). The lower-back daily-living circuits (Test11) and the first HAPT
recording are the ones where "sitting" bouts used to span walks, standing, stairs and lying."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.bout_consistency import violations
from sensorhub.io.analysis import analyze_recording
from sensorhub.io.readers import read_recording
from sensorhub.model import Placement

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"

pytestmark = pytest.mark.skipif(
    not (DATASETS / "index.json").is_file(),
    reason=f"shared datasets not found at {DATASETS} (they sit beside the repository)",
)


@pytest.mark.parametrize(
    ("dataset", "recording", "placement"),
    [
        ("gait_lowerback_mobgap", "HA001_Test11_Trial1", Placement.LOWER_BACK),
        ("gait_lowerback_mobgap", "HA002_Test11_Trial1", Placement.LOWER_BACK),
        ("gait_lowerback_mobgap", "MS001_Test11_Trial1", Placement.LOWER_BACK),
        ("posture_hip_hapt", "exp01_user01", Placement.HIP),
        ("samples_back_thigh_harth", "har70plus_501_first201s", Placement.LOWER_BACK),
        ("falls_pocket_mobifall", "sub02_STD_1", Placement.POCKET),
    ],
)
def test_static_bouts_agree_with_postures_and_walks(
    dataset: str, recording: str, placement: Placement
) -> None:
    path = DATASETS / dataset / f"{recording}.npz"
    if not path.is_file():
        pytest.skip(f"{path} not in this copy of the datasets")
    doc = analyze_recording(read_recording(path), placement)
    assert violations(doc) == []
