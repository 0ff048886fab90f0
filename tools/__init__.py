"""Build-time and operator code: never installed, never in a runtime image.

Run from the repository root (``python -m tools.model``, ``python -m tools.bench``, ...); the
Makefile has a target for each. The runtime packages (``app``, ``worker``, ``config``,
``contracts``) never import from here.
"""
