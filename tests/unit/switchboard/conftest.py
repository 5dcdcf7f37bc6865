"""The config the switchboard's unit tests serve: the example municipality with one operator,
eva, whose accounts file is in the test's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.config import Config, load_config
from tests.unit.example_config import example_with_operators


@pytest.fixture
def operator_config(tmp_path: Path) -> Config:
    return load_config(example_with_operators(tmp_path, "eva"))
