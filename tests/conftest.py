"""Project-wide test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).parent
pytest_plugins = [f"tests.{p.stem}" for p in sorted(_HERE.glob("*_fixtures.py"))]


@pytest.fixture(autouse=True)
def _private_config_dir(tmp_path_factory, monkeypatch):
    """Calibrations and settings go to a per-test folder, never the user's config dir."""
    monkeypatch.setenv("MOTORLAB_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


@pytest.fixture
def artifacts_dir() -> Path:
    """Folder for files a person may want to look at after the run (screenshots, reports)."""
    d = _HERE.parent / "test-artifacts"
    d.mkdir(exist_ok=True)
    return d
