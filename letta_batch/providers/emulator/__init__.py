"""A faithful local emulator of the Anthropic Message Batches API (real HTTP server).

Point the official SDK at it: ``anthropic.Anthropic(base_url=server.base_url, api_key="x")``.
See docs/emulator.md for the admin API, the scenario file format and fault injection.
"""

from .app import build_app
from .config import EmulatorConfig
from .faults import FaultRule, FaultSet, parse_faults
from .scenario import Scenario
from .server import EmulatorServer

__all__ = [
    "EmulatorConfig",
    "EmulatorServer",
    "FaultRule",
    "FaultSet",
    "Scenario",
    "build_app",
    "parse_faults",
]
