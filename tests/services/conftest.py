"""Service tests that run a step's phases against the emulator and PostgreSQL."""

from __future__ import annotations

from tests.workflows.conftest import emulator, service_ctx

__all__ = ["emulator", "service_ctx"]  # fixtures shared with tests/workflows
