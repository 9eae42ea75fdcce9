"""Device registry: one profile per supported wearable (DESIGN.md section 5).

A profile says how to recognise a device (advertised name prefix, service UUIDs, manufacturer
data), what it yields, where it is worn by default, whether and how it can be nudged, and its
characteristics by stable kebab-case name, each with its UUID and codec pair. Model names are
stable identifiers used in configuration files and on the command line
(``sensorhub decode --device polar-h10 --char pmd-data HEX``).

Placements are the values of ``sensorhub.model.Placement`` written as plain strings (this
package does not import sensorhub). Nudge methods are ``"immediate-alert"`` (SIG Alert Level
0x2A06), ``"alert-notification"`` (New Alert 0x2A46 with text) or None.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from firmware_protocols import infinitime, metawear, open_imu, polar_pmd, sig, thingy52

__all__ = [
    "NUDGE_ALERT_NOTIFICATION",
    "NUDGE_IMMEDIATE_ALERT",
    "PROFILES",
    "Characteristic",
    "DeviceProfile",
    "get_profile",
    "match_profile",
    "normalize_uuid",
]

NUDGE_IMMEDIATE_ALERT: Final = "immediate-alert"
NUDGE_ALERT_NOTIFICATION: Final = "alert-notification"

#: Bluetooth SIG company identifiers (assigned numbers) used in manufacturer data.
POLAR_COMPANY_ID: Final = 0x006B


@dataclass(frozen=True, slots=True)
class Characteristic:
    """One characteristic of a profile.

    Parameters
    ----------
    uuid
        Full lowercase 128-bit UUID.
    decode
        Bytes -> packet (raises ``DecodeError``); None for write-only commands without a codec.
    encode
        Packet -> bytes (the inverse), or None.
    properties
        GATT properties as kebab-case words (``read``, ``write``, ``write-without-response``,
        ``notify``, ``indicate``).
    description
        One line for ``sensorhub devices``.
    context
        Keyword arguments ``decode`` accepts besides the bytes (``factor`` for Polar PMD data,
        ``range_g`` for MetaWear); the registry default applies when not given.
    """

    uuid: str
    decode: Callable[..., object] | None
    encode: Callable[[Any], bytes] | None
    properties: tuple[str, ...]
    description: str
    context: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DeviceProfile:
    """Everything sensorhub knows about one kind of device.

    Parameters
    ----------
    model
        Stable kebab-case model name (``polar-h10``).
    title
        Human-readable name.
    name_prefixes
        Advertised local-name prefixes that identify the device (case-insensitive).
    service_uuids
        Advertised service UUIDs that identify the device (any one suffices).
    manufacturer_ids
        Company identifiers in manufacturer data that identify the device.
    yields
        Data the device provides: ``acc``, ``gyro``, ``mag``, ``ecg``, ``steps``,
        ``heart-rate``, ``rr-intervals``, ``speed``, ``cadence``, ``stride-length``,
        ``distance``, ``battery``.
    default_placement
        Where it is usually worn (a ``sensorhub.model.Placement`` value).
    nudge
        The best way to nudge the wearer through this device, or None.
    nudge_methods
        Every way it can be nudged, best first.
    characteristics
        Kebab-case name -> :class:`Characteristic`.
    stream
        The characteristic that carries the motion stream, if any.
    sample_rates_hz, acc_ranges_g
        Supported streaming settings (empty when fixed or not applicable).
    notes
        What the placement can and cannot see, quirks.
    """

    model: str
    title: str
    name_prefixes: tuple[str, ...]
    service_uuids: tuple[str, ...]
    manufacturer_ids: tuple[int, ...]
    yields: tuple[str, ...]
    default_placement: str
    nudge: str | None
    characteristics: Mapping[str, Characteristic]
    nudge_methods: tuple[str, ...] = ()
    stream: str | None = None
    sample_rates_hz: tuple[float, ...] = ()
    acc_ranges_g: tuple[int, ...] = ()
    notes: str = ""
    source: str = field(default="", repr=False)


def normalize_uuid(uuid: str) -> str:
    """Lowercase 128-bit form of a UUID; 16- and 32-bit SIG forms get the Bluetooth base."""
    u = uuid.strip().lower()
    if u.startswith("0x"):
        u = u[2:]
    if len(u) == 4:
        return f"0000{u}-0000-1000-8000-00805f9b34fb"
    if len(u) == 8:
        return f"{u}-0000-1000-8000-00805f9b34fb"
    return u


# --------------------------------------------------------------------------- characteristics

_R, _W, _WNR, _N, _I = "read", "write", "write-without-response", "notify", "indicate"


def _chars(**chars: Characteristic) -> Mapping[str, Characteristic]:
    return MappingProxyType({name.replace("_", "-"): c for name, c in chars.items()})


_BATTERY = Characteristic(
    sig.BATTERY_LEVEL_UUID,
    sig.decode_battery_level,
    sig.encode_battery_level,
    (_R, _N),
    "Battery Level 0x2A19: percent",
)
_HEART_RATE = Characteristic(
    sig.HEART_RATE_MEASUREMENT_UUID,
    sig.decode_heart_rate_measurement,
    sig.encode_heart_rate_measurement,
    (_N,),
    "Heart Rate Measurement 0x2A37: bpm, sensor contact, energy, RR intervals",
)
_ALERT_LEVEL = Characteristic(
    sig.ALERT_LEVEL_UUID,
    sig.decode_alert_level,
    sig.encode_alert_level,
    (_WNR,),
    "Immediate Alert level 0x2A06: NONE / MILD / HIGH (buzz)",
)
_CURRENT_TIME = Characteristic(
    sig.CURRENT_TIME_UUID,
    sig.decode_current_time,
    sig.encode_current_time,
    (_R, _W, _N),
    "Current Time 0x2A2B: local date and time",
)
_NEW_ALERT = Characteristic(
    sig.NEW_ALERT_UUID,
    sig.decode_new_alert,
    sig.encode_new_alert,
    (_W, _N),
    "Alert Notification New Alert 0x2A46: category, count, text",
)
_RSC_MEASUREMENT = Characteristic(
    sig.RSC_MEASUREMENT_UUID,
    sig.decode_rsc_measurement,
    sig.encode_rsc_measurement,
    (_N,),
    "RSC Measurement 0x2A53: speed m/s, cadence /min, stride m, distance m, running",
)
_RSC_FEATURE = Characteristic(
    sig.RSC_FEATURE_UUID,
    sig.decode_rsc_feature,
    sig.encode_rsc_feature,
    (_R,),
    "RSC Feature 0x2A54: supported measurements",
)


def _device_information() -> dict[str, Characteristic]:
    return {
        name: Characteristic(
            uuid,
            sig.decode_utf8_string,
            sig.encode_utf8_string,
            (_R,),
            f"Device Information {name.replace('-', ' ')} (UTF-8)",
        )
        for name, uuid in sig.DEVICE_INFORMATION_STRINGS.items()
    }


_PMD_DATA = Characteristic(
    polar_pmd.PMD_DATA_UUID,
    polar_pmd.decode_pmd_data,
    polar_pmd.encode_pmd_data,
    (_N,),
    "PMD data frame: ACC (mG -> g), GYRO (deg/s), ECG (uV); raw or delta-compressed",
    ("factor",),
)
_PMD_CONTROL = Characteristic(
    polar_pmd.PMD_CONTROL_POINT_UUID,
    polar_pmd.decode_control_point,
    polar_pmd.encode_control_point,
    (_R, _W, _I),
    "PMD control point: commands, responses (F0 ...) and the feature read (0F ...)",
)


def _polar_chars() -> Mapping[str, Characteristic]:
    return _chars(
        pmd_data=_PMD_DATA,
        pmd_control=_PMD_CONTROL,
        heart_rate_measurement=_HEART_RATE,
        battery_level=_BATTERY,
        **_device_information(),
    )


# --------------------------------------------------------------------------- profiles

_POLAR_SOURCE = "polarofficial/polar-ble-sdk @8fb5311c; ble-and-devices.md 4.1"

PROFILES: Final[tuple[DeviceProfile, ...]] = (
    DeviceProfile(
        model="open-imu",
        title="Open sensorhub IMU (maker firmware)",
        name_prefixes=(),
        service_uuids=(open_imu.SERVICE_UUID,),
        manufacturer_ids=(),
        yields=("acc", "gyro", "battery"),
        default_placement="lower_back",
        nudge=NUDGE_IMMEDIATE_ALERT,
        nudge_methods=(NUDGE_IMMEDIATE_ALERT,),
        stream="imu-data",
        characteristics=_chars(
            imu_data=Characteristic(
                open_imu.DATA_UUID,
                open_imu.decode_imu_packet,
                open_imu.encode_imu_packet,
                (_N,),
                "batched int16 IMU samples with sequence, device time, rate and range",
            ),
            imu_control=Characteristic(
                open_imu.CONTROL_UUID,
                open_imu.decode_control,
                open_imu.encode_control,
                (_W, _I),
                "start/stop, rate, ranges, time, haptic pattern; responses 0x80|op, status",
            ),
            imu_status=Characteristic(
                open_imu.STATUS_UUID,
                open_imu.decode_status,
                open_imu.encode_status,
                (_R, _N),
                "streaming state, rate and ranges in use",
            ),
            alert_level=_ALERT_LEVEL,
            battery_level=_BATTERY,
            **_device_information(),
        ),
        notes="Layout in firmware_protocols/OPEN_IMU_SPEC.md; worn where the maker puts it "
        "(a lower-back clip gives the best gait quality).",
        source="firmware_protocols/OPEN_IMU_SPEC.md",
    ),
    DeviceProfile(
        model="polar-h10",
        title="Polar H10 chest strap",
        name_prefixes=("Polar H10",),
        service_uuids=(),
        manufacturer_ids=(POLAR_COMPANY_ID,),
        yields=("acc", "ecg", "heart-rate", "rr-intervals", "battery"),
        default_placement="chest",
        nudge=None,
        stream="pmd-data",
        sample_rates_hz=(25.0, 50.0, 100.0, 200.0),
        acc_ranges_g=(2, 4, 8),
        characteristics=_polar_chars(),
        notes="Raw ACC type 1 frames in mG. For sessions, not all-day wear. No vibration "
        "motor: nudges go to another device. Send STOP on shutdown or it keeps streaming.",
        source=_POLAR_SOURCE,
    ),
    DeviceProfile(
        model="polar-verity-sense",
        title="Polar Verity Sense optical sensor",
        name_prefixes=("Polar Sense",),
        service_uuids=(),
        manufacturer_ids=(),
        yields=("acc", "gyro", "mag", "heart-rate", "battery"),
        default_placement="hip",
        nudge=None,
        stream="pmd-data",
        sample_rates_hz=(26.0, 52.0, 104.0, 208.0, 416.0),
        acc_ranges_g=(2, 4, 8, 16),
        characteristics=_polar_chars(),
        notes="Arm band or clip; 52 Hz 8 g ACC by default, delta-compressed frames with a "
        "FACTOR from the start response (pass --factor to decode).",
        source=_POLAR_SOURCE,
    ),
    DeviceProfile(
        model="polar-oh1",
        title="Polar OH1 optical sensor",
        name_prefixes=("Polar OH1",),
        service_uuids=(),
        manufacturer_ids=(),
        yields=("acc", "heart-rate", "battery"),
        default_placement="wrist",
        nudge=None,
        stream="pmd-data",
        sample_rates_hz=(50.0,),
        acc_ranges_g=(8,),
        characteristics=_polar_chars(),
        notes="Worn on the forearm or upper arm (closest placement: wrist); ACC 50 Hz 8 g.",
        source=_POLAR_SOURCE,
    ),
    DeviceProfile(
        model="infinitime",
        title="PineTime with InfiniTime firmware",
        name_prefixes=("InfiniTime", "Pinetime-JF"),
        service_uuids=(infinitime.MOTION_SERVICE_UUID,),
        manufacturer_ids=(),
        yields=("acc", "steps", "heart-rate", "battery"),
        default_placement="wrist",
        nudge=NUDGE_ALERT_NOTIFICATION,
        nudge_methods=(NUDGE_ALERT_NOTIFICATION, NUDGE_IMMEDIATE_ALERT),
        stream="motion-raw",
        sample_rates_hz=(10.0,),
        acc_ranges_g=(2,),
        characteristics=_chars(
            motion_raw=Characteristic(
                infinitime.MOTION_RAW_UUID,
                infinitime.decode_motion_raw,
                infinitime.encode_motion_raw,
                (_R, _N),
                "raw acceleration, 3 x i16, 1 g = 1024, <= 10 Hz and only on change",
            ),
            step_count=Characteristic(
                infinitime.STEP_COUNT_UUID,
                infinitime.decode_step_count,
                infinitime.encode_step_count,
                (_R, _N),
                "steps today, u32",
            ),
            new_alert=Characteristic(
                sig.NEW_ALERT_UUID,
                infinitime.decode_alert,
                infinitime.encode_alert,
                (_W,),
                "text notification: category, 2 ignored bytes, UTF-8 text (vibrates)",
            ),
            alert_level=_ALERT_LEVEL,
            current_time=_CURRENT_TIME,
            heart_rate_measurement=_HEART_RATE,
            battery_level=_BATTERY,
        ),
        notes="A wrist cannot tell sitting from standing and sees no arm swing behind a "
        "rollator; raw motion is irregular (polled ~10 Hz, sent on change).",
        source="InfiniTimeOrg/InfiniTime @82505657; ble-and-devices.md 4.2",
    ),
    DeviceProfile(
        model="thingy52",
        title="Nordic Thingy:52",
        name_prefixes=("Thingy",),
        service_uuids=(thingy52.thingy_uuid(0x0100), thingy52.MOTION_SERVICE_UUID),
        manufacturer_ids=(),
        yields=("acc", "gyro", "mag", "steps", "battery"),
        default_placement="pocket",
        nudge=None,
        stream="raw-motion",
        sample_rates_hz=tuple(float(f) for f in (5, 10, 20, 50, 100, 200)),
        characteristics=_chars(
            raw_motion=Characteristic(
                thingy52.RAW_MOTION_UUID,
                thingy52.decode_raw_motion,
                thingy52.encode_raw_motion,
                (_N,),
                "acc Q6.10 g, gyro Q11.5 deg/s, compass Q12.4 uT",
            ),
            pedometer=Characteristic(
                thingy52.PEDOMETER_UUID,
                thingy52.decode_pedometer,
                thingy52.encode_pedometer,
                (_N,),
                "steps and time ms",
            ),
            motion_config=Characteristic(
                thingy52.CONFIG_UUID,
                thingy52.decode_motion_config,
                thingy52.encode_motion_config,
                (_R, _W),
                "pedometer/compensation intervals, motion rate 1-200 Hz, wake on motion",
            ),
            battery_level=_BATTERY,
        ),
        notes="A thigh or trouser-pocket clip: the activPAL-style reference for sitting vs "
        "standing. Set motion_freq_hz in motion-config for the raw stream rate.",
        source="NordicSemiconductor/Nordic-Thingy52-FW @6ada0a9a; ble-and-devices.md 4.3",
    ),
    DeviceProfile(
        model="metawear",
        title="mbientlab MetaWear (BMI160)",
        name_prefixes=("MetaWear",),
        service_uuids=(metawear.SERVICE_UUID,),
        manufacturer_ids=(),
        yields=("acc", "steps"),
        default_placement="thigh",
        nudge=None,
        stream="acc-data",
        sample_rates_hz=(12.5, 25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0),
        acc_ranges_g=(2, 4, 8, 16),
        characteristics=_chars(
            acc_data=Characteristic(
                metawear.NOTIFY_UUID,
                metawear.decode_acc_data,
                metawear.encode_acc_data,
                (_N,),
                "accelerometer data 03 04 (1 sample) or 03 1C (3 packed), scale by range",
                ("range_g",),
            ),
            acc_config=Characteristic(
                metawear.COMMAND_UUID,
                metawear.decode_acc_config,
                metawear.encode_acc_config,
                (_W,),
                "BMI160 output data rate and range command 03 03",
            ),
            step_count=Characteristic(
                metawear.NOTIFY_UUID,
                metawear.decode_step_count,
                metawear.encode_step_count,
                (_N,),
                "step counter read response 03 9A + u16",
            ),
        ),
        notes="Thigh or pocket clip. Has a haptic motor, but its command is not implemented "
        "here yet, so it is not used for nudges. Decoding assumes 8 g unless --range-g.",
        source="mbientlab/MetaWear-SDK-Cpp test/test_accelerometer_bmi160.py; "
        "ble-and-devices.md 4.4",
    ),
    DeviceProfile(
        model="rsc-footpod",
        title="Running Speed and Cadence foot pod (SIG RSC)",
        name_prefixes=(),
        service_uuids=(sig.RSC_SERVICE_UUID,),
        manufacturer_ids=(),
        yields=("speed", "cadence", "stride-length", "distance", "battery"),
        default_placement="foot",
        nudge=None,
        characteristics=_chars(
            rsc_measurement=_RSC_MEASUREMENT,
            rsc_feature=_RSC_FEATURE,
            battery_level=_BATTERY,
        ),
        notes="Counts steps behind a rollator, where a wrist sees no arm swing.",
        source="Bluetooth SIG RSC service; ble-and-devices.md 4.7",
    ),
    DeviceProfile(
        model="sig",
        title="Generic Bluetooth SIG device (heart rate, battery, alerts)",
        name_prefixes=(),
        service_uuids=(
            sig.HEART_RATE_SERVICE_UUID,
            sig.IMMEDIATE_ALERT_SERVICE_UUID,
            sig.ALERT_NOTIFICATION_SERVICE_UUID,
        ),
        manufacturer_ids=(),
        yields=("heart-rate", "rr-intervals", "battery"),
        default_placement="wrist",
        nudge=None,
        nudge_methods=(NUDGE_IMMEDIATE_ALERT, NUDGE_ALERT_NOTIFICATION),
        characteristics=_chars(
            heart_rate_measurement=_HEART_RATE,
            rsc_measurement=_RSC_MEASUREMENT,
            rsc_feature=_RSC_FEATURE,
            battery_level=_BATTERY,
            alert_level=_ALERT_LEVEL,
            new_alert=_NEW_ALERT,
            current_time=_CURRENT_TIME,
            **_device_information(),
        ),
        notes="Whatever standard services a device has; it can be nudged only if it exposes "
        "Immediate Alert or Alert Notification (check after discovery).",
        source="Bluetooth SIG GATT specifications; ble-and-devices.md 4.7",
    ),
)

_BY_MODEL: Final = MappingProxyType({p.model: p for p in PROFILES})


def get_profile(model: str) -> DeviceProfile:
    """The profile of a model name.

    Raises
    ------
    KeyError
        With the list of known models, for an unknown name.
    """
    try:
        return _BY_MODEL[model]
    except KeyError:
        raise KeyError(
            f"unknown device model {model!r}; known models: {', '.join(_BY_MODEL)}"
        ) from None


def match_profile(
    name: str | None,
    service_uuids: Iterable[str] = (),
    manufacturer_data: Mapping[int, bytes] | None = None,
) -> DeviceProfile | None:
    """Recognise a device from its advertisement.

    Rules are tried from the most to the least specific: a name prefix (case-insensitive),
    then an advertised service UUID, then a manufacturer company id; within each rule,
    profiles are tried in :data:`PROFILES` order (so an InfiniTime watch, which also
    advertises Heart Rate, is ``infinitime``, not ``sig``).

    Parameters
    ----------
    name
        Advertised local name, or None.
    service_uuids
        Advertised service UUIDs (16-bit or 128-bit strings).
    manufacturer_data
        Company id -> manufacturer-specific data.

    Returns
    -------
    DeviceProfile or None
        None when nothing matches.
    """
    folded = (name or "").casefold()
    if folded:
        for p in PROFILES:
            if any(folded.startswith(prefix.casefold()) for prefix in p.name_prefixes):
                return p
    advertised = {normalize_uuid(u) for u in service_uuids}
    for p in PROFILES:
        if advertised.intersection(p.service_uuids):
            return p
    companies = set(manufacturer_data or ())
    for p in PROFILES:
        if companies.intersection(p.manufacturer_ids):
            return p
    return None
