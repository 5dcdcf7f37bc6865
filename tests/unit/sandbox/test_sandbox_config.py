"""The pure parts of routing.sandbox: config rendering, secrets, settings."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from routing.sandbox import asterisk_config, credentials, rootfs
from routing.sandbox.credentials import Credentials
from routing.sandbox.settings import SandboxError, SandboxSettings

CREDS = Credentials(ami_secret="ami-s3cret-value", ari_password="ari-p4ss-value")


def _settings(tmp_path: Path, dialplan_dir: Path | None = None) -> SandboxSettings:
    return SandboxSettings(base_dir=tmp_path / "sandbox", ami_port=15038, http_port=18088, dialplan_dir=dialplan_dir)


def _rendered(tmp_path: Path, dialplan: dict[str, str] | None = None) -> dict[str, str]:
    files = asterisk_config.render(
        asterisk_config.sandbox_templates(),
        asterisk_config.template_values(_settings(tmp_path), CREDS),
        dialplan=dialplan,
    )
    return {name: config.content for name, config in files.items()}


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_modules_conf_noloads_the_voicemail_variants(tmp_path: Path) -> None:
    lines = {line.replace(" ", "") for line in _rendered(tmp_path)["modules.conf"].splitlines()}
    assert "autoload=yes" in lines
    assert "noload=app_voicemail_odbc.so" in lines
    assert "noload=app_voicemail_imap.so" in lines
    assert "noload=app_voicemail.so" not in lines


def test_secrets_and_ports_are_substituted(tmp_path: Path) -> None:
    rendered = _rendered(tmp_path)
    assert "secret = ami-s3cret-value" in rendered["manager.conf"]
    assert "port = 15038" in rendered["manager.conf"]
    assert "[routing]" in rendered["manager.conf"]
    assert "password = ari-p4ss-value" in rendered["ari.conf"]
    assert "bindport = 18088" in rendered["http.conf"]
    for name in asterisk_config.TEMPLATED:
        assert "${" not in rendered[name], name
        assert "AMI_SECRET" not in rendered[name]
        assert "ARI_PASSWORD" not in rendered[name]


def test_every_listener_is_loopback_only(tmp_path: Path) -> None:
    rendered = _rendered(tmp_path)
    assert "bindaddr = 127.0.0.1" in rendered["manager.conf"]
    assert "bindaddr = 127.0.0.1" in rendered["http.conf"]


def test_dialplan_files_keep_asterisk_variables(tmp_path: Path) -> None:
    rendered = _rendered(tmp_path)
    assert "${EXTEN}" in rendered["extensions_sandbox_phones.conf"]
    assert "#tryinclude extensions_routing.conf" in rendered["extensions.conf"]
    assert "#tryinclude extensions_sandbox_phones.conf" in rendered["extensions.conf"]
    for context in ("[sandbox-phones]", "[sandbox-caller]"):
        assert context in rendered["extensions_sandbox_phones.conf"]


def test_voicemail_has_test_mailboxes_and_an_extension_point(tmp_path: Path) -> None:
    voicemail = _rendered(tmp_path)["voicemail.conf"]
    assert "[default]" in voicemail
    for mailbox in ("5000 =>", "5001 =>", "9000 =>"):
        assert mailbox in voicemail
    assert "#tryinclude voicemail_routing.conf" in voicemail


def test_product_dialplan_is_copied_verbatim(tmp_path: Path) -> None:
    text = "[routing-in]\nexten => _X.,1,NoOp(${EXTEN})\n"
    assert _rendered(tmp_path, {"extensions_routing.conf": text})["extensions_routing.conf"] == text


def test_product_dialplan_may_not_shadow_sandbox_files(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match=r"extensions\.conf"):
        _rendered(tmp_path, {"extensions.conf": "[x]\n"})


def test_install_writes_exact_set_with_modes(tmp_path: Path) -> None:
    dialplan_dir = tmp_path / "dialplan"
    dialplan_dir.mkdir()
    (dialplan_dir / "extensions_routing.conf").write_text("[routing-in]\n")
    (dialplan_dir / "README.md").write_text("not a conf file\n")
    settings = _settings(tmp_path, dialplan_dir)
    etc = settings.etc_dir
    etc.mkdir(parents=True)
    (etc / "indications.conf").write_text("[general]\ncountry=se\n")
    (etc / "sip.conf").write_text("; Debian sample that must not survive\n")
    (etc / "manager.d").mkdir()

    asterisk_config.install(settings, CREDS)

    names = {path.name for path in etc.iterdir()}
    assert "extensions_routing.conf" in names
    assert "README.md" not in names
    assert "sip.conf" not in names and "manager.d" not in names
    assert (etc / "indications.conf").read_text() == "[general]\ncountry=se\n"
    assert (etc.with_name("asterisk.dist") / "sip.conf").exists()
    assert _mode(etc / "manager.conf") == 0o600
    assert _mode(etc / "ari.conf") == 0o600
    assert _mode(etc / "extensions.conf") == 0o644
    assert not [name for name in names if name.endswith(".tmp")]

    (etc / "extensions_leftover.conf").write_text("[leftover]\n")
    asterisk_config.install(settings, CREDS)
    assert not (etc / "extensions_leftover.conf").exists()


def test_secrets_are_generated_once_and_private(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    first = credentials.load_or_create(settings)
    assert len(first.ami_secret) >= 32 and first.ami_secret != first.ari_password
    assert _mode(settings.secrets_file) == 0o600
    assert credentials.load_or_create(settings) == first
    values = credentials.parse_env_file(settings.secrets_file.read_text())
    assert values["ROUTING_AMI_SECRET"] == first.ami_secret
    assert values["ROUTING_ARI_PASSWORD"] == first.ari_password
    assert values["ROUTING_AMI_PORT"] == "15038"
    assert values["ROUTING_ARI_URL"] == "http://127.0.0.1:18088/ari"


def test_generated_secrets_differ_between_machines() -> None:
    assert credentials.generate() != credentials.generate()


def test_settings_follow_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUTING_SANDBOX_DIR", str(tmp_path))
    monkeypatch.setenv("ROUTING_SANDBOX_AMI_PORT", "25038")
    monkeypatch.delenv("ROUTING_SANDBOX_HTTP_PORT", raising=False)
    monkeypatch.setenv("ROUTING_DIALPLAN_DIR", str(tmp_path / "dp"))
    settings = SandboxSettings.from_env()
    assert settings.root_dir == tmp_path / "root"
    assert settings.secrets_file == tmp_path / "state" / "secrets.env"
    assert settings.ami_port == 25038
    assert settings.http_port == 8088
    assert settings.dialplan_dir == tmp_path / "dp"
    monkeypatch.setenv("ROUTING_SANDBOX_AMI_PORT", "not-a-port")
    with pytest.raises(SandboxError):
        SandboxSettings.from_env()


def test_mmdebstrap_command_builds_sid_with_speech_tools(tmp_path: Path) -> None:
    cmd = rootfs.mmdebstrap_command("mmdebstrap", tmp_path / "root.building-1")
    assert "--variant=apt" in cmd
    assert '--aptopt=Acquire::Check-Valid-Until "false"' in cmd
    assert "--include=asterisk,asterisk-core-sounds-en,espeak-ng,sox" in cmd
    assert cmd[-2:] == ["sid", str(tmp_path / "root.building-1")]


def test_safe_rmtree_removes_an_unmounted_tree(tmp_path: Path) -> None:
    tree = tmp_path / "root.building-2"
    (tree / "dev").mkdir(parents=True)
    (tree / "dev" / "file").write_text("x")
    rootfs.safe_rmtree(tree)
    assert not tree.exists()
    assert rootfs.mounts_under(tmp_path) == []
