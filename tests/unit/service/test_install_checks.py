"""The pure parts of the installation checks: which Asterisk object a device names."""

from __future__ import annotations

import pytest

from routing.service.install_checks import _local_context, _pjsip_endpoint


@pytest.mark.parametrize(
    ("device", "endpoint"),
    [
        ("PJSIP/5001", "5001"),
        ("PJSIP/0701234567@operator", "operator"),
        ("PJSIP/reception/sip:reception@10.0.0.9", "reception"),
        ("pjsip/5001", "5001"),
        ("SIP/5001", None),
        ("Local/5001@phones", None),
    ],
)
def test_a_pjsip_dial_string_names_its_endpoint(device: str, endpoint: str | None) -> None:
    assert _pjsip_endpoint(device) == endpoint


def test_a_local_channel_names_its_context() -> None:
    assert _local_context("Local/ring-soc1@sandbox-phones") == "sandbox-phones"
    assert _local_context("Local/5001@phones/n") == "phones"
    assert _local_context("PJSIP/5001") is None
