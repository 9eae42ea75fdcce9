"""Device registry, JSON view, the ``decode`` and ``devices`` subcommands, doctests, layering."""

from __future__ import annotations

import argparse
import ast
import contextlib
import doctest
import json
import re
from pathlib import Path

import numpy as np
import pytest

import firmware_protocols
from firmware_protocols import (
    infinitime,
    jsonview,
    metawear,
    open_imu,
    polar_pmd,
    profiles,
    sig,
    thingy52,
)
from firmware_protocols.errors import DecodeError
from firmware_protocols.profiles import PROFILES, get_profile, match_profile
from sensorhub.cli import decode as decode_cli
from sensorhub.cli import devices as devices_cli
from tests.support.protocols import REPO_ROOT, load_vectors, vector_bytes

KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
PLACEMENTS = {"wrist", "lower_back", "hip", "thigh", "chest", "pocket", "foot"}


# ----------------------------------------------------------------------- registry


def test_required_models_exist() -> None:
    models = {p.model for p in PROFILES}
    assert {
        "polar-h10",
        "polar-verity-sense",
        "infinitime",
        "thingy52",
        "metawear",
        "sig",
        "rsc-footpod",
        "open-imu",
    } <= models
    assert len(models) == len(PROFILES)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.model)
def test_profile_is_well_formed(profile: profiles.DeviceProfile) -> None:
    assert KEBAB.match(profile.model)
    assert profile.default_placement in PLACEMENTS
    assert profile.nudge in (None, "immediate-alert", "alert-notification")
    if profile.nudge is not None:
        assert profile.nudge_methods[0] == profile.nudge
        char = "new-alert" if profile.nudge == "alert-notification" else "alert-level"
        assert char in profile.characteristics
    if profile.stream is not None:
        assert profile.stream in profile.characteristics
    assert profile.yields
    for name, c in profile.characteristics.items():
        assert KEBAB.match(name), name
        assert c.uuid == c.uuid.lower()
        assert re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", c.uuid)
        assert c.decode is not None
        assert c.encode is not None
        assert set(c.properties) <= {
            "read",
            "write",
            "write-without-response",
            "notify",
            "indicate",
        }


def test_issue_examples_resolve() -> None:
    pairs = [
        ("polar-h10", "pmd-data"),
        ("polar-h10", "pmd-control"),
        ("infinitime", "motion-raw"),
        ("thingy52", "raw-motion"),
        ("metawear", "acc-data"),
        ("sig", "heart-rate-measurement"),
        ("sig", "rsc-measurement"),
        ("sig", "battery-level"),
        ("sig", "current-time"),
    ]
    for model, char in pairs:
        assert char in get_profile(model).characteristics
    with pytest.raises(KeyError, match="known models"):
        get_profile("fitbit")


def test_match_profile() -> None:
    assert match_profile("Polar H10 8C4E2A1F", []).model == "polar-h10"  # type: ignore[union-attr]
    assert match_profile("Polar Sense B5C3D2E1", []).model == "polar-verity-sense"  # type: ignore[union-attr]
    assert match_profile("polar oh1 1234", []).model == "polar-oh1"  # type: ignore[union-attr]
    # InfiniTime advertises Heart Rate too; the name wins over the generic SIG profile
    assert match_profile("InfiniTime", ["180d"]).model == "infinitime"  # type: ignore[union-attr]
    assert match_profile(None, ["0000180D-0000-1000-8000-00805F9B34FB"]).model == "sig"  # type: ignore[union-attr]
    assert match_profile("Stryd", ["0x1814", "180f"]).model == "rsc-footpod"  # type: ignore[union-attr]
    assert match_profile("MyBand", [open_imu.SERVICE_UUID.upper()]).model == "open-imu"  # type: ignore[union-attr]
    assert match_profile("MetaWear", []).model == "metawear"  # type: ignore[union-attr]
    assert match_profile(None, [metawear.SERVICE_UUID]).model == "metawear"  # type: ignore[union-attr]
    assert match_profile("Thingy", []).model == "thingy52"  # type: ignore[union-attr]
    assert match_profile(None, [], {0x006B: b"\x01"}).model == "polar-h10"  # type: ignore[union-attr]
    assert match_profile("Headphones", ["110b"], {0x004C: b""}) is None
    assert profiles.normalize_uuid("2A37") == sig.HEART_RATE_MEASUREMENT_UUID


def test_registry_codecs_roundtrip_vectors() -> None:
    """Every vector whose characteristic UUID is in a profile decodes through the registry."""
    by_uuid: dict[str, profiles.Characteristic] = {}
    for p in PROFILES:  # first profile wins where two characteristics share a UUID
        for c in p.characteristics.values():
            by_uuid.setdefault(c.uuid, c)
    checked = 0
    for v in load_vectors()["vectors"]:
        if v["direction"] != "decode" or v["characteristic_uuid"] not in by_uuid:
            continue
        if v["id"] == "polar-pmd-settings-tlv":  # a parameters blob, not a whole CP value
            continue
        c = by_uuid[v["characteristic_uuid"]]
        raw = bytes.fromhex(v["hex"])
        if v["id"].startswith("metawear"):
            packet = c.decode(raw, range_g=v["context"]["range"]["value"])  # type: ignore[misc]
        else:
            packet = c.decode(raw)  # type: ignore[misc]
        assert c.encode is not None
        again = c.encode(packet)
        if v["id"] != "polar-pmd-acc-delta-type1":  # non-zero padding bits in the SDK vector
            assert again == raw, v["id"]
        json.dumps(jsonview.to_jsonable(packet))
        checked += 1
    assert checked >= 15


# ----------------------------------------------------------------------- JSON view


def test_jsonview_units() -> None:
    frame = polar_pmd.decode_pmd_data(vector_bytes("polar-pmd-gyro-delta-type0"), factor=0.5)
    doc = jsonview.to_jsonable(frame)
    assert doc["measurement"] == "GYRO"
    assert doc["gyro_dps"] == (np.array(doc["samples"]) * 0.5).tolist()
    assert "acc_g" not in doc
    feats = jsonview.to_jsonable(polar_pmd.decode_features(bytes.fromhex("0f0500")))
    assert feats["measurements"] == ["ACC", "ECG"]
    assert jsonview.to_jsonable(sig.RscFeature(3)) == ["STRIDE_LENGTH", "TOTAL_DISTANCE"]
    assert jsonview.to_jsonable(float("nan")) is None
    with pytest.raises(TypeError):
        jsonview.to_jsonable(object())
    assert jsonview.dumps({"a": [[1, 2, 3]]}) == '{\n  "a": [\n    [1, 2, 3]\n  ]\n}'


# ----------------------------------------------------------------------- CLI


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="sensorhub")
    sub = parser.add_subparsers(dest="command", required=True)
    decode_cli.add_parser(sub)
    devices_cli.add_parser(sub)
    args = parser.parse_args(argv)
    return int(args.run(args))


def test_decode_pmd(capsys: pytest.CaptureFixture[str]) -> None:
    hexstr = vector_bytes("polar-pmd-acc-raw-type1").hex()
    assert _run(["decode", "--device", "polar-h10", "--char", "pmd-data", hexstr]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["device"] == "polar-h10"
    assert doc["packet"]["measurement"] == "ACC"
    assert doc["packet"]["acc_g"][0] == [-0.009, -0.001, 0.999]
    assert len(doc["packet"]["acc_g"]) == 36


def test_decode_with_context_and_spaces(capsys: pytest.CaptureFixture[str]) -> None:
    hexstr = vector_bytes("polar-pmd-acc-delta-type0").hex()
    argv = ["decode", "--device", "polar-verity-sense", "--char", "pmd-data"]
    assert _run([*argv, "--factor", "0.000244", hexstr]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["packet"]["factor"] == 0.000244
    assert abs(doc["packet"]["acc_g"][0][0] - 1905 * 0.000244) < 1e-12
    argv = ["decode", "--device", "metawear", "--char", "acc-data", "--range-g", "4"]
    assert _run([*argv, "03 04 16 c4", "94:a2:2a:d0"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [round(x, 3) for x in doc["packet"]["acc_g"][0]] == [-1.872, -2.919, -1.495]


@pytest.mark.parametrize(
    ("model", "char", "hexstr"),
    [
        ("sig", "heart-rate-measurement", "164800040003"),
        ("sig", "rsc-measurement", "0780016e520039300000"),
        ("sig", "battery-level", "57"),
        ("sig", "current-time", "ea0708130e1e00030001"),
        ("infinitime", "motion-raw", "000000fe0004"),
        ("thingy52", "raw-motion", "0004000000fe200000000000100000000000"),
        ("polar-h10", "pmd-control", "f001020000ffffff"),
        ("open-imu", "imu-data", "0116070040420f000000000050c30000000108000000000000000010"),
    ],
)
def test_decode_examples(
    model: str, char: str, hexstr: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["decode", "--device", model, "--char", char, hexstr]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["characteristic"] == char
    assert doc["bytes"] == len(hexstr) // 2


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--device", "polar-h10", "--char", "pmd-data", "0200"], "too short: 2 bytes"),
        (["--device", "fitbit", "--char", "pmd-data", "00"], "unknown device model 'fitbit'"),
        (["--device", "polar-h10", "--char", "steps", "00"], "no characteristic 'steps'"),
        (["--device", "sig", "--char", "battery-level", "zz"], "not valid hex"),
        (["--device", "sig", "--char", "battery-level", "123"], "odd number of hex digits"),
        (["--device", "sig", "--char", "battery-level", "--factor", "2", "57"], "does not apply"),
        (["--device", "metawear", "--char", "acc-data", "--range-g", "3", "030400"], "range_g"),
    ],
)
def test_decode_errors(argv: list[str], match: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["decode", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert re.search(match, captured.err)


def test_devices(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["devices", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    models = [d["model"] for d in doc["devices"]]
    assert models == [p.model for p in PROFILES]
    h10 = doc["devices"][models.index("polar-h10")]
    assert "pmd-data" in h10["characteristics"]
    assert h10["nudge"] is None
    assert _run(["devices"]) == 0
    text = capsys.readouterr().out
    assert "infinitime" in text
    assert "alert-notification" in text
    assert _run(["devices", "--markdown"]) == 0
    table = capsys.readouterr().out
    assert table.startswith("| model |")
    assert table.count("\n") == len(PROFILES) + 2


# ----------------------------------------------------------------------- hygiene


@pytest.mark.parametrize(
    "module", [polar_pmd, sig, infinitime, thingy52, metawear, open_imu], ids=lambda m: m.__name__
)
def test_doctests(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.failed == 0


def test_imports_stay_inside_the_layer() -> None:
    """firmware_protocols: numpy and the standard library only; the CLI modules: argparse,
    json, sys, typing and firmware_protocols."""
    allowed_fp = {
        "numpy",
        "firmware_protocols",
        "__future__",
        "collections",
        "dataclasses",
        "enum",
        "struct",
        "types",
        "typing",
        "json",
        "math",
        "re",
    }
    for path in Path(firmware_protocols.__file__).parent.glob("*.py"):
        assert _top_imports(path) <= allowed_fp, path
    allowed_cli = {"argparse", "json", "sys", "typing", "firmware_protocols", "__future__"}
    for name in ("decode.py", "devices.py"):
        assert _top_imports(REPO_ROOT / "sensorhub" / "cli" / name) <= allowed_cli, name


def _top_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_decoders_only_raise_decode_error_on_empty_input() -> None:
    decoders = {c.decode for p in PROFILES for c in p.characteristics.values()}
    for decode in decoders:
        assert decode is not None
        with contextlib.suppress(DecodeError):
            decode(b"")


def test_every_research_vector_is_tested() -> None:
    """Each vector id in vectors.json is checked by name in one of these test modules."""
    here = Path(__file__).parent
    sources = "".join(p.read_text(encoding="utf-8") for p in here.glob("test_*.py"))
    missing = [v["id"] for v in load_vectors()["vectors"] if f'"{v["id"]}"' not in sources]
    assert not missing, f"vectors without a test: {missing}"
