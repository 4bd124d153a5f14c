"""Run the Stripe emulator: python -m stripe_emulator --port 12111 --webhook-url URL --webhook-secret whsec_..."""

import os

from emulator_base import run_from_command_line
from stripe_emulator.server import EmulatorServer


def add_options(parser) -> None:
    parser.add_argument("--webhook-url", default=os.environ.get("STRIPE_EMULATOR_WEBHOOK_URL", ""))
    parser.add_argument("--webhook-secret", default=os.environ.get("STRIPE_WEBHOOK_SECRET", ""))
    parser.add_argument(
        "--state-file", default=None, help="JSON file keeping state across restarts"
    )
    parser.add_argument("--public-url", default=None, help="base URL browsers use to reach us")


def build(args) -> EmulatorServer:
    return EmulatorServer(
        (args.host, args.port),
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        state_file=args.state_file,
        public_url=args.public_url,
    )


if __name__ == "__main__":
    run_from_command_line("stripe_emulator", __doc__, 12111, add_options, build)
