"""The config the switchboard's unit tests serve: the example municipality with one operator,
eva, whose accounts file is in the test's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.config import Config, load_config

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "example.yaml"


@pytest.fixture
def operator_config(tmp_path: Path) -> Config:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        '  voicemail: "9000@default"\n',
        '  voicemail: "9000@default"\n'
        f"  accounts_file: {tmp_path}/operators\n"
        "  operators:\n"
        "    - {id: eva, name: Eva Telefonist, device: PJSIP/9001}\n",
        1,
    )
    (tmp_path / "routing.yaml").write_text(text, encoding="utf-8")
    return load_config(tmp_path / "routing.yaml")
