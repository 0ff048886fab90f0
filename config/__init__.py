"""Configuration shared by the gateway and the worker."""

from config.settings import AuthMode, Environment, Settings, get_settings

__all__ = ["AuthMode", "Environment", "Settings", "get_settings"]
