"""docker-compose.yml (no Docker engine runs here): it parses, every file it mounts exists, and
Asterisk gets the same dialplan files the sandbox installs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from routing.sandbox.asterisk_config import dialplan_sources

ROOT = Path(__file__).resolve().parents[3]


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return data


def _mounts(service: str) -> dict[str, str]:
    """container path -> host path (relative to the repo) for bind mounts of `service`."""
    mounts = {}
    for volume in _compose()["services"][service]["volumes"]:
        host, container, *_ = volume.split(":")
        if host.startswith("./"):
            mounts[container] = host[2:]
    return mounts


def test_compose_has_asterisk_and_the_service_on_the_host_network() -> None:
    services = _compose()["services"]
    assert set(services) == {"asterisk", "routing"}
    assert all(s["network_mode"] == "host" for s in services.values())
    assert "FROM debian:sid" in services["asterisk"]["build"]["dockerfile_inline"]
    assert "asterisk " in services["asterisk"]["build"]["dockerfile_inline"]
    assert (
        services["routing"]["build"]["dockerfile_inline"]
        .rstrip()
        .endswith('CMD ["routing", "run", "--config", "/etc/routing/routing.yaml"]')
    )


def test_every_mounted_file_exists() -> None:
    for service in ("asterisk", "routing"):
        for host in _mounts(service).values():
            if host.startswith("secrets/"):
                continue  # made by the admin, never committed
            assert (ROOT / host).exists(), host


def test_asterisk_gets_the_dialplan_the_sandbox_installs() -> None:
    mounted = {Path(container).name: host for container, host in _mounts("asterisk").items()}
    for name in dialplan_sources(ROOT / "dialplan"):
        assert mounted.get(name) == f"dialplan/{name}"
    for sample in (ROOT / "dialplan" / "samples").glob("*.conf"):
        assert mounted.get(sample.name) == f"dialplan/samples/{sample.name}"


def test_asterisk_and_service_share_the_prompts_folder() -> None:
    services = _compose()["services"]
    for name in ("asterisk", "routing"):
        assert "routing-data:/var/lib/routing" in services[name]["volumes"]


def test_no_secret_in_the_compose_file() -> None:
    env = _compose()["services"]["routing"]["environment"]
    assert all(value.startswith("${") for value in env.values())


def test_sample_modules_conf_keeps_voicemail_registered() -> None:
    text = (ROOT / "dialplan" / "samples" / "modules.conf").read_text(encoding="utf-8")
    assert "noload = app_voicemail_odbc.so" in text and "noload = app_voicemail_imap.so" in text
