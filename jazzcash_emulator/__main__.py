"""Run the JazzCash emulator: python -m jazzcash_emulator --port 12121 --ipn-url URL"""

import argparse
import logging
import os

from jazzcash_emulator.server import EmulatorServer


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m jazzcash_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12121)
    parser.add_argument("--ipn-url", default=os.environ.get("JAZZCASH_EMULATOR_IPN_URL", ""))
    parser.add_argument("--merchant-id", default=os.environ.get("JAZZCASH_MERCHANT_ID", "MC00001"))
    parser.add_argument("--password", default=os.environ.get("JAZZCASH_PASSWORD", "emulator"))
    parser.add_argument("--salt", default=os.environ.get("JAZZCASH_INTEGRITY_SALT", "emulatorsalt"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="jazzcash-emulator: %(message)s")
    server = EmulatorServer(
        (args.host, args.port),
        merchant_id=args.merchant_id,
        password=args.password,
        salt=args.salt,
        ipn_url=args.ipn_url,
    )
    logging.info("listening on %s, IPN to %s", server.base_url, args.ipn_url or "(none)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


if __name__ == "__main__":
    main()
