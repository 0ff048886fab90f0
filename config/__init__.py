"""Configuration shared by the gateway and the worker."""

from config.settings import AuthMode, Environment, ExecutionProvider, Settings, get_settings

__all__ = ["AuthMode", "Environment", "ExecutionProvider", "Settings", "get_settings"]
