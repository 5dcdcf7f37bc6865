"""R3: the AstDB entries Asterisk uses to finish calls alone when the service is gone."""

from __future__ import annotations

from typing import Any

from routing.service.failsafe import GROUP_CONTEXT, MAX_VALUE, failsafe_entries
from routing.service.step_codec import dial_groups
from tests.unit.policy.builders import config, directory, unit


def test_r3_every_number_has_its_devices_ring_limit_and_mailbox() -> None:
    entries = failsafe_entries(directory())
    assert entries["ext/5001/dial"] == "PJSIP/5001"
    assert entries["ext/5001/timeout"] == "30"  # R1
    assert entries["ext/5001/mailbox"] == "5001@default"
    assert entries["ext/5000/dial"] == "PJSIP/5001&PJSIP/5002"  # a unit rings its members
    assert entries["ext/5000/mailbox"] == "5000@default"
    assert entries["ext/5099/dial"] == "PJSIP/5099" and entries["ext/5099/mailbox"] == "5000@default"
    assert entries["ext/9000/dial"] == "PJSIP/9000" and entries["failsafe/mailbox"] == "9000@default"


def test_r18_barred_prefixes_and_trunk_for_the_outbound_failsafe() -> None:
    entries = failsafe_entries(directory(config(outbound={"trunk": "SIP/op/{number}#1", "private_prefix": "*7"})))
    assert {k for k in entries if k.startswith("barred/")} == {
        "barred/0900",
        "barred/0939",
        "barred/0944",
        "barred/099",
    }
    assert entries["outbound/trunk_prefix"] == "SIP/op/" and entries["outbound/trunk_suffix"] == "#1"
    assert entries["outbound/private_prefix"] == "*7"


def _big_unit(members: int) -> dict[str, Any]:
    """BASE with unit kc grown to `members` people (extensions 7100 …)."""
    data = config()
    data["people"] += [
        {
            "id": f"big{n}",
            "name": f"Person {n}",
            "unit": "kc",
            "extension": str(7100 + n),
            "device": f"PJSIP/{7100 + n}",
            "voicemail": "7000@default",
        }
        for n in range(members)
    ]
    unit(data, "kc").pop("members", None)  # everyone whose unit it is
    return data


def test_dial_groups_fit_the_limit_keep_the_order_and_lose_nobody() -> None:
    devices = [f"PJSIP/{n}" for n in range(1000, 1300)]
    groups = dial_groups(devices, limit=120)
    assert all(len(group) <= 120 for group in groups)
    assert "&".join(groups).split("&") == devices


def test_r3_a_unit_too_big_for_one_astdb_value_is_rung_in_groups_that_each_fit() -> None:
    entries = failsafe_entries(directory(_big_unit(250)))
    assert all(len(value) <= MAX_VALUE for value in entries.values())  # AMI takes every one
    top = entries["ext/7000/dial"].split("&")
    assert top[0] == f"Local/1-7000@{GROUP_CONTEXT}" and len(top) > 1
    groups = [entries[f"ext/7000/group/{n}"] for n in range(1, len(top) + 1)]
    rung = "&".join(groups).split("&")
    assert {f"PJSIP/{7100 + n}" for n in range(250)} <= set(rung)  # every member, none left out
    assert f"ext/7000/group/{len(top) + 1}" not in entries
    assert entries["ext/7000/timeout"] == "30"


def test_r3_a_small_unit_keeps_its_plain_dial_string() -> None:
    entries = failsafe_entries(directory(_big_unit(3)))
    assert "Local/" not in entries["ext/7000/dial"] and not any("/group/" in key for key in entries)
