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
    assert "gait bout" in capsys.readouterr().out


def test_analyze_rejects_bad_options(tmp_path: Path) -> None:
    args = _args(str(tmp_path / "x.npy"), "--placement", "wrist", "--fs", "-5")
    with pytest.raises(RecordingError, match="--fs must be positive"):
        args.run(args)
