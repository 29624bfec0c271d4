"""The terminal's configuration: ``default.toml`` documents every key; ``loader`` checks them."""

from config.loader import Config, ConfigError, load_config

__all__ = ["Config", "ConfigError", "load_config"]
