"""Run the courier emulator: python -m courier_emulator --port 12131 --callback-url URL"""

import os

from courier_emulator.server import EmulatorServer
from emulator_base import run_from_command_line


def add_options(parser) -> None:
    parser.add_argument("--token", default=os.environ.get("COURIER_API_TOKEN", ""))
    parser.add_argument(
        "--callback-url", default=os.environ.get("COURIER_EMULATOR_CALLBACK_URL", "")
    )
    parser.add_argument("--callback-secret", default=os.environ.get("COURIER_WEBHOOK_SECRET", ""))
    parser.add_argument("--state-file", default=None, help="JSON file keeping parcels")


def build(args) -> EmulatorServer:
    return EmulatorServer(
        (args.host, args.port),
        token=args.token,
        callback_url=args.callback_url,
        callback_secret=args.callback_secret,
        state_file=args.state_file,
    )


if __name__ == "__main__":
    run_from_command_line("courier_emulator", __doc__, 12131, add_options, build)
