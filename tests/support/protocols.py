"""Shared helpers for the firmware_protocols tests: the research vectors and a mutation fuzzer."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from firmware_protocols.errors import DecodeError

REPO_ROOT = Path(__file__).resolve().parents[2]
#: ../shared sits beside the repository, locally and on CI
VECTORS_PATH = REPO_ROOT.parent / "shared" / "research" / "vectors.json"


@cache
def load_vectors() -> dict[str, Any]:
    """The whole vectors.json document."""
    with VECTORS_PATH.open(encoding="utf-8") as fh:
        doc: dict[str, Any] = json.load(fh)
    return doc


def vector(vector_id: str) -> dict[str, Any]:
    """One entry of ``vectors`` by id."""
    for v in load_vectors()["vectors"]:
        if v["id"] == vector_id:
            return dict(v)
    raise KeyError(vector_id)


def vector_bytes(vector_id: str) -> bytes:
    """The payload of a vector."""
    return bytes.fromhex(vector(vector_id)["hex"])


def mutations(seeds: Sequence[bytes], n: int, *, seed: int, max_extra: int = 24) -> Iterator[bytes]:
    """``n`` deterministic mutants of ``seeds``: byte flips, overwrites, truncation, extension.

    Generated in numpy batches so the fuzz loop spends its time in the decoder, not here.
    One input in eight is random bytes of a random length.
    """
    rng = np.random.default_rng(seed)
    width = max(len(s) for s in seeds) + max_extra
    base = np.zeros((len(seeds), width), np.uint8)
    lens = np.array([len(s) for s in seeds])
    for i, s in enumerate(seeds):
        base[i, : len(s)] = np.frombuffer(s, np.uint8)
    batch = 4096
    done = 0
    while done < n:
        b = min(batch, n - done)
        pick = rng.integers(0, len(seeds), b)
        rows = base[pick].copy()
        tail = rng.integers(0, 256, (b, width), dtype=np.uint8)
        # positions past the seed get random bytes (used only when the length grows)
        past = np.arange(width)[None, :] >= lens[pick][:, None]
        rows[past] = tail[past]
        n_mut = rng.integers(0, 4, b)
        for k in range(3):
            pos = (rng.random(b) * np.maximum(lens[pick], 1)).astype(np.int64)
            val = rng.integers(0, 256, b, dtype=np.uint8)
            bit = (np.uint8(1) << rng.integers(0, 8, b, dtype=np.uint8)).astype(np.uint8)
            flip = rng.random(b) < 0.5
            sel = n_mut > k
            idx = np.nonzero(sel)[0]
            rows[idx, pos[idx]] = np.where(flip[idx], rows[idx, pos[idx]] ^ bit[idx], val[idx])
        kind = rng.random(b)
        new_len = lens[pick].copy()
        shrink = kind < 0.15
        new_len[shrink] = (rng.random(int(shrink.sum())) * lens[pick][shrink]).astype(np.int64)
        grow = (kind >= 0.15) & (kind < 0.3)
        new_len[grow] = lens[pick][grow] + rng.integers(1, max_extra + 1, int(grow.sum()))
        rand = kind >= 0.875
        new_len[rand] = rng.integers(0, width + 1, int(rand.sum()))
        rows[rand] = tail[rand]
        for r, ln in zip(rows, new_len, strict=True):
            yield r[:ln].tobytes()
        done += b


def fuzz_decoder(
    decode: Callable[[bytes], object],
    seeds: Sequence[bytes],
    *,
    n: int = 100_000,
    seed: int = 20240601,
    check: Callable[[bytes, object], None] | None = None,
    encode: Callable[[Any], bytes] | None = None,
    min_each: int = 1000,
) -> tuple[int, int]:
    """Feed ``n`` mutants to ``decode``; only DecodeError may escape. Returns (ok, rejected).

    ``check`` runs on every input that decodes (e.g. a re-encode round trip); with ``encode``,
    every input that decodes must re-encode to exactly the same bytes. Fails unless at
    least ``min_each`` inputs were accepted and ``min_each`` rejected, so the fuzz reaches
    both the valid and the invalid paths.
    """
    ok = rejected = 0
    for data in mutations(seeds, n, seed=seed):
        try:
            packet = decode(data)
        except DecodeError:
            rejected += 1
            continue
        ok += 1
        if check is not None:
            check(data, packet)
        if encode is not None:
            again = encode(packet)
            assert again == data, f"{data.hex()} re-encodes to {again.hex()}"
    assert ok >= min_each, f"only {ok} of {n} mutants decoded"
    assert rejected >= min_each, f"only {rejected} of {n} mutants were rejected"
    return ok, rejected
