"""R12: caller numbers are masked in every log line by default."""

from __future__ import annotations

import io
import json

import pytest
import structlog

from routing.calllog.masking import NUMBER_FIELDS, mask_number
from routing.calllog.setup import configure_logging


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+46701234567", "+4670*****67"),
        ("0701234567", "070*****67"),
        ("0812345", "081**45"),
        ("5001", "**01"),
        ("12", "**"),
    ],
)
def test_r12_mask_number(number: str, masked: str) -> None:
    assert mask_number(number) == masked


def _log_line(**fields: object) -> dict[str, object]:
    out = io.StringIO()
    configure_logging("json", stream=out)
    structlog.get_logger().info("call.start", **fields)
    line = out.getvalue().strip()
    assert "\n" not in line  # one JSON object a line
    parsed: dict[str, object] = json.loads(line)
    return parsed


def test_r12_caller_is_masked_in_json_lines_by_default() -> None:
    line = _log_line(call_id="1700000000.1", caller="+46701234567", called="5001")
    assert line["caller"] == "+4670*****67"
    assert line["called"] == "5001"
    assert "+46701234567" not in json.dumps(line)


def test_r12_every_number_field_is_masked() -> None:
    line = _log_line(**{field: "0701234567" for field in NUMBER_FIELDS})
    assert all(line[field] == "070*****67" for field in NUMBER_FIELDS)


def test_r12_masking_can_be_turned_off_by_the_admin() -> None:
    out = io.StringIO()
    configure_logging("json", stream=out, mask_numbers=False)
    structlog.get_logger().info("call.start", caller="0701234567")
    assert json.loads(out.getvalue())["caller"] == "0701234567"


def test_json_line_has_timestamp_with_offset_level_and_event() -> None:
    line = _log_line(call_id="1.1")
    assert line["event"] == "call.start" and line["level"] == "info" and line["call_id"] == "1.1"
    stamp = str(line["timestamp"])
    assert stamp[10] == "T" and (stamp.endswith("+00:00") or stamp[-6] in "+-")


def test_level_filter() -> None:
    out = io.StringIO()
    configure_logging("json", level="warning", stream=out)
    structlog.get_logger().info("quiet")
    structlog.get_logger().warning("loud")
    assert [json.loads(x)["event"] for x in out.getvalue().splitlines()] == ["loud"]


def test_console_format_is_readable_not_json() -> None:
    out = io.StringIO()
    configure_logging("console", stream=out)
    structlog.get_logger().info("call.start", caller="0701234567")
    text = out.getvalue()
    assert "call.start" in text and "070*****67" in text and not text.startswith("{")
