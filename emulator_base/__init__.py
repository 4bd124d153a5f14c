"""What the local emulators (`stripe_emulator/`, `jazzcash_emulator/`, `courier_emulator/`) share
(standard library only): the threaded HTTP server, the handler's plumbing (body, JSON, HTML and
redirect answers, a crash turned into the emulator's own 500), a sender that posts events to
the site and retries them with delays, the thread tests serve one from, and the command line
`python -m <emulator>` runs. Each emulator keeps its own routes and speaks its own protocol.
"""

from emulator_base.command import run_from_command_line
from emulator_base.sender import RetryingSender, post, post_and_record
from emulator_base.server import EmulatorHandler, EmulatorServer, serve_in_thread

__all__ = [
    "EmulatorHandler",
    "EmulatorServer",
    "RetryingSender",
    "post",
    "post_and_record",
    "run_from_command_line",
    "serve_in_thread",
]
