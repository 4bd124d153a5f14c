"""Run the JazzCash emulator: python -m jazzcash_emulator --port 12121 --ipn-url URL"""

import os

from emulator_base import run_from_command_line
from jazzcash_emulator.server import EmulatorServer


def add_options(parser) -> None:
    parser.add_argument("--ipn-url", default=os.environ.get("JAZZCASH_EMULATOR_IPN_URL", ""))
    parser.add_argument("--merchant-id", default=os.environ.get("JAZZCASH_MERCHANT_ID", "MC00001"))
    parser.add_argument("--password", default=os.environ.get("JAZZCASH_PASSWORD", "emulator"))
    parser.add_argument("--salt", default=os.environ.get("JAZZCASH_INTEGRITY_SALT", "emulatorsalt"))


def build(args) -> EmulatorServer:
    return EmulatorServer(
        (args.host, args.port),
        merchant_id=args.merchant_id,
        password=args.password,
        salt=args.salt,
        ipn_url=args.ipn_url,
    )


if __name__ == "__main__":
    run_from_command_line("jazzcash_emulator", __doc__, 12121, add_options, build)
