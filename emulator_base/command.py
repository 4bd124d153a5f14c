"""`python -m <emulator>`: the options every emulator takes, then serve until Ctrl-C."""

import argparse
import logging
from collections.abc import Callable

from emulator_base.server import EmulatorServer


def run_from_command_line(
    prog: str,
    description: str | None,
    port: int,
    add_options: Callable[[argparse.ArgumentParser], None],
    build: Callable[[argparse.Namespace], EmulatorServer],
    argv: list[str] | None = None,
) -> None:
    """Parse `--host`, `--port` and the emulator's own options (`add_options`), build the
    server from them (`build(args)`; `args.host` and `args.port` are its address) and serve it
    in this thread until interrupted."""
    parser = argparse.ArgumentParser(prog=f"python -m {prog}", description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port)
    add_options(parser)
    args = parser.parse_args(argv)
    name = prog.replace("_", "-")
    logging.basicConfig(level=logging.INFO, format=f"{name}: %(message)s")
    server = build(args)
    server.start_background()
    logging.info("listening on %s, %s", server.base_url, server.sends_to())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.stop_background()
