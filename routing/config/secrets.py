"""Secrets come from the environment or from files, never from the YAML or the logs (R12)."""

from __future__ import annotations

import os
from pathlib import Path


class SecretMissing(Exception):
    """Named but not there. The message names the variable or file, never a value.
    Stable log id: secret.missing."""

    log_id = "secret.missing"


def read_secret(env: str | None, file: str | None) -> str:
    if env is not None:
        value = os.environ.get(env, "")
        if not value:
            raise SecretMissing(f"the environment variable {env} is not set")
        return value
    if file is not None:
        try:
            value = Path(file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SecretMissing(f"cannot read the secret file {file}: {exc.strerror or exc}") from None
        if not value:
            raise SecretMissing(f"the secret file {file} is empty")
        return value
    raise SecretMissing("no secret is named (secret_env or secret_file)")
