"""A product process for the cross-process access token test.

Usage: product_process.py web CONFIG_JSON
       product_process.py worker CONFIG_JSON ID,ID,... [ID,ID,...]...

``web`` serves ``create_app(config)`` on a free 127.0.0.1 port, prints the
port on one line and serves until terminated. ``worker`` builds the same
app and sets the Redis key ``test:ready:worker``. Then, for batch number N
(from 1), it waits until the key ``test:go:N`` exists, runs ``deliver`` for
each id of the batch and prints the statuses as one JSON list per line.
"""

import json
import sys
import time

from werkzeug.serving import make_server

from bot.delivery import deliver
from wxapp_backend import create_app
from wxapp_backend.extensions import get_redis

START_TIMEOUT_SECONDS = 20


def serve(config):
    app = create_app(config)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


def work(config, batches):
    app = create_app(config)
    with app.app_context():
        redis = get_redis()
        redis.set("test:ready:worker", "1")
        for number, batch in enumerate(batches, start=1):
            wait_for_key(redis, f"test:go:{number}")
            statuses = [deliver(int(delivery_id)) for delivery_id in batch.split(",")]
            print(json.dumps(statuses), flush=True)


def wait_for_key(redis, key):
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not redis.exists(key):
        if time.monotonic() > deadline:
            raise SystemExit(f"start signal {key} never came")
        time.sleep(0.005)


def main(mode, config_json, *batches):
    config = json.loads(config_json)
    if mode == "web":
        serve(config)
    elif mode == "worker":
        work(config, batches)
    else:
        raise SystemExit(f"unknown mode {mode!r}, expected web or worker")


if __name__ == "__main__":
    main(*sys.argv[1:])
