"""The admins' YAML file: schema v1, loading with file positions, cross-checks."""

from routing.config.errors import ConfigError, ConfigIssue
from routing.config.load import load_config, load_config_text
from routing.config.schema import Config

__all__ = ["Config", "ConfigError", "ConfigIssue", "load_config", "load_config_text"]
