"""Smoke checks on a few real recordings from ../shared/datasets (the full figures come from
``make eval``; these only guard against gross regressions and stay fast)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sensorhub.io.analysis import analyze_recording
from sensorhub.io.readers import read_recording
from sensorhub.model import Placement
from sensorhub.pipeline import PipelineSettings

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"

pytestmark = pytest.mark.skipif(
    not (DATASETS / "index.json").is_file(),
    reason=f"shared datasets not found at {DATASETS} (they sit beside the repository)",
)


def run(dataset: str, recording: str) -> tuple[dict[str, Any], dict[str, Any]]:
    truth = json.loads((DATASETS / dataset / f"{recording}.truth.json").read_text())
    placement = Placement({"other": "pocket"}.get(truth["placement"], truth["placement"]))
    subject = truth.get("subject") or {}
    st = PipelineSettings(sensor_height_m=subject.get("sensor_height_m"))
    doc = analyze_recording(
        read_recording(DATASETS / dataset / f"{recording}.npz"), placement, settings=st
    )
    return truth, doc


def test_lower_back_straight_walk() -> None:
    truth, doc = run("gait_lowerback_mobgap", "HA001_Test5_Trial2")
    ref = truth["gait_bouts"][0]
    (bout,) = doc["gait_bouts"]
    assert bout["cadence_spm"] == pytest.approx(ref["cadence_spm"], abs=6)
    assert bout["speed_mps"] == pytest.approx(ref["speed_mps"], abs=0.3)
    assert abs(doc["steps"]["count"] - len(truth["initial_contacts_s"])) <= 4


@pytest.mark.parametrize(
    "recording", ["Pixel_Jamie_Hard_FrontPocket_1", "Samsung_Carmelo_Hard_InHand_1"]
)
def test_phone_step_count(recording: str) -> None:
    truth, doc = run("steps_phone_oxford", recording)
    assert doc["steps"]["count"] == pytest.approx(truth["step_count"], rel=0.06)


@pytest.mark.parametrize(
    ("recording", "falls"), [("sub01_FOL_1", 1), ("sub02_JUM_1", 0), ("sub02_SCH_1", 0)]
)
def test_mobifall_trials(recording: str, falls: int) -> None:
    _, doc = run("falls_pocket_mobifall", recording)
    assert len(doc["falls"]) == falls


def test_hip_postures() -> None:
    _truth, doc = run("posture_hip_hapt", "exp01_user01")
    labels = {p["posture"] for p in doc["posture"]}
    assert {"lying", "walking"} <= labels
    assert labels & {"sitting", "standing"}


def test_limb_sensor_gait_does_not_depend_on_block_boundaries(tmp_path: Path) -> None:
    """Regression on real recordings, tiled as the 7-day benchmark tiles them: a walk of a
    pocket phone that straddles a block boundary (at 1100 s here) was split into two short
    sequences and lost, because the other leg's step (placed halfway between two stride
    peaks) arrives only with the next block."""
    import numpy as np

    from bench.bench_analyze import build

    tiled = tmp_path / "tiled.npy"
    build(tiled, 100 * 47_600)
    window = tmp_path / "window.npy"
    np.save(window, np.load(tiled, mmap_mode="r")[100 * 46_000 :])
    recording = read_recording(window, fs_hz=100.0)
    whole = analyze_recording(recording, Placement.POCKET, block_s=1600.0)
    split = analyze_recording(recording, Placement.POCKET, block_s=1100.0)
    assert split["steps"] == whole["steps"]
    assert split["gait_bouts"] == whole["gait_bouts"]


@pytest.mark.parametrize(
    "recording",
    ["HA001_Test5_Trial1", "HA001_Test5_Trial2", "MS001_Test5_Trial1", "MS001_Test5_Trial2"],
)
def test_lower_back_harmonic_ratio_is_physiological(recording: str) -> None:
    # straight walks at the participants' own pace: healthy adults walk with a vertical
    # harmonic ratio of about 2-3.5 (Menz et al. 2003); the bouts here are 12-15 steps with
    # gait initiation and termination in them, which lowers it (smoke check, not a fit)
    _, doc = run("gait_lowerback_mobgap", recording)
    assert doc["gait_bouts"]
    for bout in doc["gait_bouts"]:
        assert 1.3 <= bout["harmonic_ratio"] <= 4.0
        assert bout["shuffling_pct"] is not None  # the sensor height is known


def test_harth_shuffling_is_null_without_sensor_height() -> None:
    # the labelled shuffling here is a few seconds of standing leg movement, too short for a
    # gait bout; the one bout is the labelled walk, and with no sensor height it has no value
    _, doc = run("samples_back_thigh_harth", "har70plus_501_first201s")
    assert len(doc["gait_bouts"]) == 1
    assert all(b["shuffling_pct"] is None for b in doc["gait_bouts"])
    assert doc["summary"]["mean_mad_mg"] > 0


def test_worn_devices_move_in_static_postures() -> None:
    """The evidence behind the nudge engine's motionless hold (sensorhub.nudge.rules): a worn
    phone is rarely still by GGIR's criterion (dynamic RMS over 3 s below 13 mg) even while
    its wearer sits, stands or lies, and never below the hold's 5 mg, so ten minutes without
    any movement suggest it is off."""
    windows: list[float] = []
    segments_moving: list[bool] = []
    for tp in sorted((DATASETS / "posture_hip_hapt").glob("*.truth.json")):
        truth = json.loads(tp.read_text())
        z = np.load(tp.with_name(tp.name.replace(".truth.json", ".npz")))
        fs, acc = float(z["fs"]), np.asarray(z["acc"], dtype=float)
        for seg in truth["posture_segments"]:
            if seg["label"] not in ("sitting", "standing", "lying"):
                continue
            x = acc[round((seg["start_s"] + 1) * fs) : round((seg["end_s"] - 1) * fs)]
            w = round(3 * fs)
            rms = [
                float(np.sqrt(((x[i : i + w] - x[i : i + w].mean(axis=0)) ** 2).sum(axis=1).mean()))
                for i in range(0, len(x) - w, round(fs))
            ]
            if rms:
                windows += rms
                segments_moving.append(max(rms) > 0.013)
    assert len(segments_moving) > 200
    assert np.mean(np.asarray(windows) > 0.013) > 1 / 3  # 37 % when written
    assert np.mean(segments_moving) > 0.7  # 80 % when written
    assert min(windows) > 0.005  # 6.6 mg when written: above the motionless level of the hold
