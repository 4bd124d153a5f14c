"""Run the Stripe emulator: python -m stripe_emulator --port 12111 --webhook-url URL --webhook-secret whsec_..."""

import argparse
import logging
import os

from stripe_emulator.server import EmulatorServer


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m stripe_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook-url", default=os.environ.get("STRIPE_EMULATOR_WEBHOOK_URL", ""))
    parser.add_argument("--webhook-secret", default=os.environ.get("STRIPE_WEBHOOK_SECRET", ""))
    parser.add_argument(
        "--state-file", default=None, help="JSON file keeping state across restarts"
    )
    parser.add_argument("--public-url", default=None, help="base URL browsers use to reach us")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="stripe-emulator: %(message)s")
    server = EmulatorServer(
        (args.host, args.port),
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        state_file=args.state_file,
        public_url=args.public_url,
    )
    server.start_background()
    logging.info("listening on %s, webhooks to %s", server.base_url, args.webhook_url or "(none)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.webhooks.stop()


if __name__ == "__main__":
    main()
