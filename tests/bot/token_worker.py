"""Child process for the cross-process token test: wait for a start signal, then get().

Usage: token_worker.py REDIS_URL BASE_URL APPID SECRET CALLS NAME

Sets the Redis key ``test:ready:<NAME>``, waits until ``test:go`` exists,
calls ``SharedAccessToken.get()`` CALLS times and prints the distinct tokens
it received as a JSON list.
"""

import json
import sys
import time

import redis

from bot.token_store import SharedAccessToken


def main(redis_url, base_url, appid, secret, calls, name):
    connection = redis.Redis.from_url(redis_url)
    store = SharedAccessToken(connection, appid, secret, base_url, 5)
    connection.set(f"test:ready:{name}", "1")

    deadline = time.monotonic() + 20
    while not connection.exists("test:go"):
        if time.monotonic() > deadline:
            raise SystemExit("start signal test:go never came")
        time.sleep(0.005)

    tokens = {store.get() for _ in range(int(calls))}
    print(json.dumps(sorted(tokens)))


if __name__ == "__main__":
    main(*sys.argv[1:])
