"""The import layers of DESIGN.md section 2 hold (import-linter contracts in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def test_import_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    "module",
    sorted(
        {
            name.strip()
            for contract in CONFIG["contracts"]
            for entry in contract.get("layers", []) + contract.get("source_modules", [])
            for name in entry.replace("|", ":").split(":")
        }
    ),
)
def test_every_module_named_in_a_contract_exists(module: str) -> None:
    # A contract on a module that does not exist checks nothing: keep the names true.
    path = ROOT.joinpath(*module.split("."))
    assert path.is_dir() or path.with_suffix(".py").is_file(), f"{module} does not exist"
