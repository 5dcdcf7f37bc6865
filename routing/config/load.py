"""Load and validate the admins' YAML file; every problem is reported at once, with its line."""

from __future__ import annotations

import difflib
import hashlib
from pathlib import Path as FilePath
from typing import Any

from pydantic import BaseModel, ValidationError

from routing.config.crosschecks import advisories, cross_check
from routing.config.errors import ConfigError, ConfigIssue, Path, format_path
from routing.config.schema import Config
from routing.config.source import Source, parse

_SECRET_KEYS = {"secret", "password", "token", "pass"}

# Required keys that a rule of the policy depends on: (rule, why), said after the key is named.
_R14 = "forwarding desk calls to a mobile needs the head of unit's written approval"
_R18 = "calling pay services needs the head of unit's written permission"
_REQUIRED_BY_RULE: dict[tuple[str, ...], tuple[str, str]] = {
    ("telephone_officer",): (
        "R10",
        "every unit needs a telephone officer (telefonansvarig) registered with the switchboard; "
        "write the id of a person",
    ),
    ("duty_phone",): (
        "R8",
        "every unit needs a duty phone (jourtelefon) that is open all working hours; "
        "write the extension of a person or a shared phone",
    ),
    ("forward_to_mobile", "approved_by"): ("R14", f"{_R14}, naming who approved it"),
    ("forward_to_mobile", "approved_on"): ("R14", f"{_R14}, with its date (YYYY-MM-DD)"),
    ("pay_services", "approved_by"): ("R18", f"{_R18}, naming who gave it"),
    ("pay_services", "approved_on"): ("R18", f"{_R18}, with its date (YYYY-MM-DD)"),
}


def load_config(file: str | FilePath, *, warnings: list[ConfigIssue] | None = None) -> Config:
    """Read FILE; raise ConfigError listing every problem, or FileNotFoundError/OSError.
    `warnings`: gets what the file may say but the policy advises against (crosschecks.advisories)."""
    path = FilePath(file)
    return load_config_text(path.read_text(encoding="utf-8"), str(path), warnings=warnings)


def load_config_text(text: str, file: str = "<config>", *, warnings: list[ConfigIssue] | None = None) -> Config:
    source, issues = parse(text, file)
    if source.data is None and issues:
        raise ConfigError(issues)
    if not isinstance(source.data, dict):
        raise ConfigError([source.issue((), "the file must be a mapping of keys, starting with version: 1")])
    try:
        config = Config.model_validate(source.data)
    except ValidationError as exc:
        issues.extend(_schema_issue(source, error) for error in exc.errors())
        raise ConfigError(issues) from None
    issues.extend(cross_check(config, source))
    if issues:
        raise ConfigError(issues)
    if warnings is not None:
        warnings.extend(sorted(advisories(config, source)))
    # The config's version (#16): what a call was planned under, logged at each load. Private
    # attributes of a frozen model, set once here where the text is at hand.
    object.__setattr__(config, "_source_text", text)
    object.__setattr__(config, "_source_hash", config_hash(text))
    return config


def config_hash(text: str) -> str:
    """A config file's version: the first 16 hex digits of its text's SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation holds, however deep in unions, tuples and Annotated."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for inner in getattr(annotation, "__args__", ()) for model in _models_in(inner)]


def _model_at(path: Path) -> type[BaseModel] | None:
    """The schema model that holds the mapping at `path` (for 'did you mean' on typos)."""
    model: Any = Config
    for part in path:
        if isinstance(part, int):
            continue
        fields = model.model_fields if isinstance(model, type) and issubclass(model, BaseModel) else {}
        field = fields.get(part)
        if field is None:
            return None
        nested = _models_in(field.annotation)
        if not nested:
            return None
        model = nested[0]
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _resolve(source: Source, loc: tuple[int | str, ...]) -> Path:
    """Pydantic's error location without its union tags, as a key path in the file."""
    path: Path = ()
    for part in loc:
        candidate = (*path, part)
        if candidate in source.positions.values:
            path = candidate
    return path


def _schema_issue(source: Source, error: Any) -> ConfigIssue:
    loc: tuple[int | str, ...] = tuple(error["loc"])
    kind: str = error["type"]
    path = _resolve(source, loc)
    if kind == "missing":
        missing = str(loc[-1])
        line, column = source.positions.of(path)
        message = f"required key '{missing}' is missing"
        names = tuple(part for part in loc if isinstance(part, str))
        for tail, (rule, why) in _REQUIRED_BY_RULE.items():
            if names[-len(tail) :] == tail:
                message = f"{rule}: {message}: {why}"
        return ConfigIssue(source.file, line, column, format_path((*path, missing)), message)
    if kind == "extra_forbidden":
        key = str(loc[-1])
        parent = path[:-1] if path and path[-1] == key else path
        return source.issue((*parent, key), _unknown_key_message(parent, key), key=True)
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    if kind.startswith("date_"):
        reason = (error.get("ctx") or {}).get("error", "write it as YYYY-MM-DD")
        message = f"'{value}' is not a date (YYYY-MM-DD): {reason}"
    elif value is None and kind.endswith("_type"):
        message = "no value is given here: write one after the colon"
    elif kind == "string_type" and isinstance(value, int | float):
        message = f'write it in quotes, e.g. "{value}" (YAML reads bare digits as a number)'
    elif kind in ("model_type", "dict_type"):
        message = "write a mapping here (key: value lines, or {key: value, ...})"
    elif kind in ("tuple_type", "list_type"):
        message = "write a list here (- item lines, or [a, b, ...])"
    elif kind == "less_than_equal" and path == ("ring", "max_rings"):
        message = "R1: no caller waits more than five ring signals: write 5 or fewer"
    elif kind == "literal_error" and path == ("version",):
        message = "this release reads schema version 1: write version: 1"
    return source.issue(path, message, key="[key]" in loc)


def _unknown_key_message(parent: Path, key: str) -> str:
    if key.lower() in _SECRET_KEYS:
        return (
            f"secrets are never written in this file: name an environment variable "
            f"({key}_env) or a file ({key}_file) that holds the {key}"
        )
    model = _model_at(parent)
    message = f"unknown key '{key}'"
    if model is not None:
        close = difflib.get_close_matches(key, list(model.model_fields), n=1, cutoff=0.6)
        if close:
            message += f" (did you mean '{close[0]}'?)"
    return message
