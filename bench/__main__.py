"""Run every ``bench/bench_*.py`` module's ``main()``, print the results, save them as JSON.

Usage: ``python -m bench [NAME ...]`` (names without the ``bench_`` prefix select modules).
Results go to ``bench/out/results.json`` (git-ignored).
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    """Run the selected benchmark modules; returns the exit status (1 if any failed)."""
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if argv:
        wanted = {a.removeprefix("bench_") for a in argv}
        names = [n for n in names if n.removeprefix("bench_") in wanted]
    results: dict[str, object] = {}
    failed = False
    print(f"python {platform.python_version()} on {platform.machine()}, {len(names)} benchmarks")
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}")
        started = time.perf_counter()
        result = module.main()
        results[name] = result
        if isinstance(result, dict) and result.get("pass") is False:
            failed = True
        print(f"   ({time.perf_counter() - started:.1f} s)")
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    # Merge into earlier results: running one benchmark keeps the others' last figures
    # (eval/RESULTS.md reads the analysis benchmark from here).
    path = out / "results.json"
    previous = json.loads(path.read_text()) if path.is_file() else {}
    path.write_text(json.dumps({**previous, **results}, indent=2, default=str) + "\n")
    print(f"results: {out / 'results.json'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
