"""R3: the AstDB entries Asterisk uses to finish calls alone when the service is gone."""

from __future__ import annotations

from routing.service.failsafe import failsafe_entries
from tests.unit.policy.builders import config, directory


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
