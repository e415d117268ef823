"""Every data file the package reads at run time is declared as package data, so a wheel
(`pip install .`, not only the editable install) carries it: before this was declared, a built
wheel held no reader_model.npz and answering failed to load."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_data_file_in_the_package_is_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = config["tool"]["setuptools"]["package-data"]
    data_files = [p for p in (ROOT / "assistant").rglob("*")
                  if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert data_files, "expected the reader model and the lexicon"
    for path in data_files:
        package = ".".join(path.parent.relative_to(ROOT).parts)
        patterns = declared.get(package, [])
        assert any(fnmatch.fnmatch(path.name, pat) for pat in patterns), f"{path} is not package data"
