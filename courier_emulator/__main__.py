"""Run the courier emulator: python -m courier_emulator --port 12131 --callback-url URL"""

import argparse
import logging
import os

from courier_emulator.server import EmulatorServer


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m courier_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12131)
    parser.add_argument("--token", default=os.environ.get("COURIER_API_TOKEN", ""))
    parser.add_argument(
        "--callback-url", default=os.environ.get("COURIER_EMULATOR_CALLBACK_URL", "")
    )
    parser.add_argument("--callback-secret", default=os.environ.get("COURIER_WEBHOOK_SECRET", ""))
    parser.add_argument("--state-file", default=None, help="JSON file keeping parcels")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="courier-emulator: %(message)s")
    server = EmulatorServer(
        (args.host, args.port),
        token=args.token,
        callback_url=args.callback_url,
        callback_secret=args.callback_secret,
        state_file=args.state_file,
    )
    server.start_background()
    logging.info("listening on %s, callbacks to %s", server.base_url, args.callback_url or "(none)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.callbacks.stop()


if __name__ == "__main__":
    main()
