"""Render and write the sandbox's /etc/asterisk.

The directory is rebuilt to exactly the expected set of files on every `up`
and reset: Debian's ~100 sample configs would otherwise configure modules
behind the tests' backs, and files left by an earlier run or test would leak
into the next one. Debian's originals stay in etc/asterisk.dist for reference.
"""

from __future__ import annotations

import os
import shutil
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from routing.sandbox.credentials import Credentials
from routing.sandbox.settings import AMI_USERNAME, ARI_USERNAME, SandboxError, SandboxSettings

# Only these are templates: the dialplan files use ${...} for Asterisk's own
# variables and must be copied byte for byte.
TEMPLATED = frozenset({"manager.conf", "http.conf", "ari.conf"})
# Files holding a secret are not world-readable.
SECRET_BEARING = frozenset({"manager.conf", "ari.conf"})
# Debian samples worth keeping: they hold defaults only (tone tables, MOH
# classes, feature codes, codec and CDR settings), and without them modules
# log errors at every boot or decline to load (agents, confbridge, parking).
CARRIED_FROM_DIST = (
    "indications.conf",
    "musiconhold.conf",
    "features.conf",
    "codecs.conf",
    "rtp.conf",
    "say.conf",
    "ccss.conf",
    "cdr.conf",
    "cel.conf",
    "acl.conf",
    "udptl.conf",
    "agents.conf",
    "confbridge.conf",
    "res_parking.conf",
    "pjsip_notify.conf",
    "amd.conf",
    "cli_aliases.conf",
    "followme.conf",
    "cdr_manager.conf",
    "cdr_custom.conf",
    "cel_custom.conf",
    "res_stun_monitor.conf",
    "res_http_media_cache.conf",
    "geolocation.conf",
    "pjproject.conf",
    "pjsip_wizard.conf",
    "aeap.conf",
    "chan_websocket.conf",
    "websocket_client.conf",
)
PUBLIC_MODE = 0o644
PRIVATE_MODE = 0o600


@dataclass(frozen=True)
class ConfigFile:
    content: str
    mode: int


def sandbox_templates() -> dict[str, str]:
    """The sandbox's own *.conf files shipped as package data."""
    folder = resources.files("routing.sandbox") / "asterisk"
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".conf") and entry.is_file()
    }


def dialplan_sources(dialplan_dir: Path | None) -> dict[str, str]:
    if dialplan_dir is None or not dialplan_dir.is_dir():
        return {}
    return {
        path.name: path.read_text(encoding="utf-8") for path in sorted(dialplan_dir.glob("*.conf")) if path.is_file()
    }


def dist_sources(dist_dir: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in CARRIED_FROM_DIST:
        path = dist_dir / name
        if path.is_file():
            found[name] = path.read_text(encoding="utf-8", errors="replace")
    return found


def template_values(settings: SandboxSettings, creds: Credentials) -> dict[str, str]:
    return {
        "AMI_PORT": str(settings.ami_port),
        "AMI_USERNAME": AMI_USERNAME,
        "AMI_SECRET": creds.ami_secret,
        "HTTP_PORT": str(settings.http_port),
        "ARI_USERNAME": ARI_USERNAME,
        "ARI_PASSWORD": creds.ari_password,
    }


def render(
    templates: dict[str, str],
    values: dict[str, str],
    dialplan: dict[str, str] | None = None,
    dist: dict[str, str] | None = None,
) -> dict[str, ConfigFile]:
    """Pure: the complete contents of /etc/asterisk, by file name."""
    files: dict[str, ConfigFile] = {name: ConfigFile(content, PUBLIC_MODE) for name, content in (dist or {}).items()}
    for name, text in templates.items():
        if name in TEMPLATED:
            try:
                text = string.Template(text).substitute(values)
            except (KeyError, ValueError) as exc:
                raise SandboxError(f"sandbox template {name} has a bad placeholder: {exc}") from exc
        mode = PRIVATE_MODE if name in SECRET_BEARING else PUBLIC_MODE
        files[name] = ConfigFile(text, mode)
    for name, text in (dialplan or {}).items():
        if name in templates:
            # Silently letting either side win would hide a broken setup.
            raise SandboxError(
                f"dialplan/{name} has the name of one of the sandbox's own files; rename it "
                "(the sandbox includes extensions_routing.conf and voicemail_routing.conf)"
            )
        files[name] = ConfigFile(text, PUBLIC_MODE)
    return files


def _write_atomically(path: Path, config: ConfigFile) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, config.mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(config.content)
        # os.open's mode is filtered by the umask and ignored for existing files.
        os.chmod(tmp, config.mode)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def write(etc_dir: Path, files: dict[str, ConfigFile]) -> None:
    """Make etc_dir hold exactly `files`; each is replaced atomically so a
    running Asterisk that reloads meanwhile never reads half a file."""
    etc_dir.mkdir(parents=True, exist_ok=True)
    for name, config in files.items():
        _write_atomically(etc_dir / name, config)
    for entry in etc_dir.iterdir():
        if entry.name in files:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def preserve_dist(etc_dir: Path) -> Path:
    """Keep Debian's pristine configs once, before the first write replaces them."""
    dist_dir = etc_dir.with_name("asterisk.dist")
    if not dist_dir.exists() and etc_dir.is_dir():
        tmp = etc_dir.with_name("asterisk.dist.tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        shutil.copytree(etc_dir, tmp, symlinks=True)
        tmp.rename(dist_dir)
    return dist_dir


def install(settings: SandboxSettings, creds: Credentials) -> dict[str, ConfigFile]:
    dist_dir = preserve_dist(settings.etc_dir)
    files = render(
        sandbox_templates(),
        template_values(settings, creds),
        dialplan=dialplan_sources(settings.dialplan_dir),
        dist=dist_sources(dist_dir),
    )
    write(settings.etc_dir, files)
    return files
