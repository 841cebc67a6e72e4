"""Process management for the local demo stack (Temporal dev server, emulator, worker).

Deliberately free of Temporal imports: it only starts, watches and stops subprocesses.
"""

from letta_batch.devstack.ports import StartupError, free_port, wait_for_port
from letta_batch.devstack.process import ManagedProcess, ProcessGroup, pid_alive, stale_pids
from letta_batch.devstack.stack import DevStack, Endpoints, StackConfig, cli_argv, temporal_binary

__all__ = [
    "DevStack",
    "Endpoints",
    "ManagedProcess",
    "ProcessGroup",
    "StackConfig",
    "StartupError",
    "cli_argv",
    "free_port",
    "pid_alive",
    "stale_pids",
    "temporal_binary",
    "wait_for_port",
]
