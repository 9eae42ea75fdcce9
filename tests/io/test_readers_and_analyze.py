"""Readers (CSV, NPZ, NPY), their errors, and the analyze command's JSON contract."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from sensorhub.cli import analyze
from sensorhub.io.analysis import SCHEMA, analyze_recording
from sensorhub.io.readers import RecordingError, iter_blocks, read_recording
from sensorhub.model import NS_PER_S, Placement
from sensorhub.signal.calibration import apply_calibration
from sensorhub.signal.synthetic import make_signal

SCRIPT = [("standing", 90), ("walking", 60), ("sitting", 90)]


@pytest.fixture(scope="module")
def sig() -> tuple[np.ndarray, np.ndarray]:
    s = make_signal(SCRIPT, placement=Placement.LOWER_BACK, fs_hz=50.0, start_ns=0, seed=3)
    return s.t_ns / NS_PER_S, s.acc_g


def write_csv(path: Path, t: np.ndarray, acc: np.ndarray) -> None:
    rows = np.column_stack([t, acc])
    np.savetxt(
        path, rows, delimiter=",", header="time_s,acc_x,acc_y,acc_z", comments="", fmt="%.6f"
    )


def test_csv_npz_npy_read_the_same(tmp_path: Path, sig: tuple[np.ndarray, np.ndarray]) -> None:
    t, acc = sig
    write_csv(tmp_path / "r.csv", t, acc)
    np.savez(tmp_path / "r.npz", acc=acc.astype(np.float32), fs=np.float64(50.0))
    np.save(tmp_path / "r.npy", acc)
    recs = [
        read_recording(tmp_path / "r.csv"),
        read_recording(tmp_path / "r.npz"),
        read_recording(tmp_path / "r.npy", fs_hz=50.0),
    ]
    for r in recs:
        assert r.fs_hz == pytest.approx(50.0)
        assert len(r) == len(t)
        np.testing.assert_allclose(np.asarray(r.acc_g), acc, atol=1e-5)
    assert isinstance(recs[2].acc_g, np.memmap)


def test_irregular_npz(tmp_path: Path, sig: tuple[np.ndarray, np.ndarray]) -> None:
    t, acc = sig
    keep = np.random.default_rng(0).random(len(t)) < 0.7
    np.savez(tmp_path / "irr.npz", acc=acc[keep], fs=np.float64(np.nan), t=t[keep])
    rec = read_recording(tmp_path / "irr.npz")
    assert rec.t_s is not None
    blocks = list(iter_blocks(rec, block_s=30))
    assert sum(len(b) for b in blocks) == keep.sum()
    doc = analyze_recording(rec, Placement.LOWER_BACK)
    assert doc["gait_bouts"], doc


@pytest.mark.parametrize(
    ("name", "content", "fs", "message"),
    [
        ("missing.csv", None, None, "no such file"),
        ("bad.txt", b"x", None, "unknown recording format"),
        ("hdr.csv", b"a,b,c\n1,2,3\n", None, "header must contain"),
        ("val.csv", b"time_s,acc_x,acc_y,acc_z\n0,1,x,0\n", None, "unreadable CSV"),
        ("order.csv", b"time_s,acc_x,acc_y,acc_z\n1,0,0,1\n0,0,0,1\n", None, "non-decreasing"),
        ("nofs.npy", "npy", None, "pass --fs"),
        ("junk.npz", b"not a zip", None, "not a readable .npz"),
        ("shape.npy", "npy2", 50.0, r"shape \(N, 3\)"),
    ],
)
def test_bad_files_give_clear_errors(
    tmp_path: Path, name: str, content: bytes | str | None, fs: float | None, message: str
) -> None:
    p = tmp_path / name
    if content == "npy":
        np.save(p, np.zeros((10, 3)))
    elif content == "npy2":
        np.save(p, np.zeros((10, 2)))
    elif isinstance(content, bytes):
        p.write_bytes(content)
    with pytest.raises(RecordingError, match=message):
        read_recording(p, fs_hz=fs)


def _args(*argv: str) -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    analyze.add_parser(ap.add_subparsers())
    return ap.parse_args(["analyze", *argv])


def test_analyze_command_json_contract(
    tmp_path: Path, sig: tuple[np.ndarray, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    t, acc = sig
    write_csv(tmp_path / "r.csv", t, acc)
    out = tmp_path / "o.json"
    args = _args(
        str(tmp_path / "r.csv"),
        "--placement",
        "lower_back",
        "--out",
        str(out),
        "--height-m",
        "1.75",
    )
    assert args.run(args) == 0
    doc = json.loads(out.read_text())
    assert doc["schema"] == SCHEMA
    assert set(doc) >= {
        "placement",
        "fs_hz",
        "duration_s",
        "steps",
        "gait_bouts",
        "posture",
        "static_bouts",
        "falls",
        "nonwear",
        "summary",
        "calibration",
    }
    assert set(doc["calibration"]) >= {
        "applied",
        "offset_g",
        "scale",
        "error_before_mg",
        "error_after_mg",
        "reason",
    }
    assert doc["duration_s"] == pytest.approx(240, abs=0.1)
    assert 90 <= doc["steps"]["count"] <= 120  # 60 s at 105 steps/min
    (bout,) = doc["gait_bouts"]
    assert bout["start_s"] == pytest.approx(90, abs=3)
    assert bout["cadence_spm"] == pytest.approx(105, abs=2)
    assert set(bout) >= {
        "steps",
        "stride_time_s",
        "stride_time_cv_pct",
        "step_regularity",
        "stride_regularity",
        "asymmetry_pct",
        "speed_mps",
    }
    labels = {p["posture"] for p in doc["posture"]}
    assert "walking" in labels
    args = _args(str(tmp_path / "r.csv"), "--placement", "lower_back", "--format", "table")
    assert args.run(args) == 0
    table = capsys.readouterr().out
    assert "gait bout" in table
    for column in ("step_reg", "strd_reg", "asym%", "HR", "shuffle%", "speed", "CV%"):
        assert column in table, column


def test_analyze_rejects_bad_options(tmp_path: Path) -> None:
    args = _args(str(tmp_path / "x.npy"), "--placement", "wrist", "--fs", "-5")
    with pytest.raises(RecordingError, match="--fs must be positive"):
        args.run(args)


def miscalibrated_device(fs: float = 50.0) -> np.ndarray:
    """Six orientations held 60 s each (with 2 s of movement between), read through a known
    offset and scale, 5 mg noise."""
    rng = np.random.default_rng(7)
    dirs = np.vstack([np.eye(3), -np.eye(3)])
    parts = []
    for d in dirs:
        parts += [np.repeat(d[None], int(60 * fs), axis=0), d + rng.normal(0, 0.3, (100, 3))]
    true = np.concatenate(parts)
    return (
        true / np.array([1.03, 0.98, 1.01])
        + np.array([0.02, -0.03, 0.015])
        + rng.normal(0, 0.005, true.shape)
    )


def test_analyze_autocalibrates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A miscalibrated device seen in six orientations is corrected before the pipeline; the
    document reports the fit, and ``--no-calibration`` leaves the samples alone."""
    acc = miscalibrated_device()
    np.savez(tmp_path / "r.npz", acc=acc, fs=50.0)
    out = tmp_path / "o.json"
    args = _args(str(tmp_path / "r.npz"), "--placement", "thigh", "--out", str(out))
    assert args.run(args) == 0
    cal = json.loads(out.read_text())["calibration"]
    assert cal["applied"] is True
    assert cal["reason"] == ""
    assert cal["offset_g"] == pytest.approx([0.02, -0.03, 0.015], abs=0.003)
    assert cal["scale"] == pytest.approx([1.03, 0.98, 1.01], rel=0.003)
    assert cal["error_before_mg"] > 20 > 3 > cal["error_after_mg"]
    assert cal["still_windows"] >= 30

    # the pipeline saw the corrected samples: same events as a pre-corrected recording
    rec = read_recording(tmp_path / "r.npz")
    doc = analyze_recording(rec, Placement.THIGH)
    fixed = apply_calibration(acc, np.array(cal["offset_g"]), np.array(cal["scale"]))
    np.savez(tmp_path / "fixed.npz", acc=fixed, fs=50.0)
    ref = analyze_recording(
        read_recording(tmp_path / "fixed.npz"), Placement.THIGH, calibrate=False
    )
    for key in ("posture", "static_bouts", "steps", "summary"):
        assert doc[key] == ref[key]

    args = _args(
        str(tmp_path / "r.npz"), "--placement", "thigh", "--out", str(out), "--no-calibration"
    )
    assert args.run(args) == 0
    cal = json.loads(out.read_text())["calibration"]
    assert cal["applied"] is False
    assert "not attempted" in cal["reason"]

    args = _args(str(tmp_path / "r.npz"), "--placement", "thigh", "--format", "table")
    assert args.run(args) == 0
    assert "calibration: offset" in capsys.readouterr().out


def test_analyze_one_orientation_stays_uncalibrated(tmp_path: Path) -> None:
    """Five minutes still in one orientation: the document says why nothing was applied."""
    acc = np.tile(miscalibrated_device()[: 60 * 50], (5, 1))  # 5 min lying one way
    rec_path = tmp_path / "r.npz"
    np.savez(rec_path, acc=acc, fs=50.0)
    cal = analyze_recording(read_recording(rec_path), Placement.THIGH)["calibration"]
    assert cal["applied"] is False
    assert cal["offset_g"] is None
    assert "not enough orientations" in cal["reason"]
