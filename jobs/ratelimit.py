"""A send rate limit shared by every worker process, kept in Redis.

The limiter is a GCRA (generic cell rate algorithm) reservation: each call
books the next free send time in one Redis key and sleeps until then. The
key holds one number, every worker books against the same key, and the
script reads Redis's own clock, so hosts with skewed clocks still share one
rate. ``burst`` sends may go out back to back before the spacing applies.
"""

import logging
import time

logger = logging.getLogger(__name__)

RATE_KEY = "jobs:send-rate"

# KEYS[1]: the theoretical arrival time (TAT) of the next send, in seconds.
# ARGV[1]: seconds between sends; ARGV[2]: burst tolerance in seconds.
# Optional KEYS[2], ARGV[3], ARGV[4]: a key to set to ARGV[3] for ARGV[4]
# seconds in the same call (the sender's record of its previous send).
# Returns the seconds to wait before sending, as a string because Redis
# truncates Lua numbers to integers.
_RESERVE_SCRIPT = """
if KEYS[2] then
    redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then
    tat = now
end
local send_at = tat - tolerance
if send_at < now then
    send_at = now
end
local ttl_ms = math.ceil((tat + interval - now + 1) * 1000)
redis.call('SET', KEYS[1], tostring(tat + interval), 'PX', ttl_ms)
return tostring(send_at - now)
"""


class SendRateLimiter:
    """At most ``rate`` sends per second across all processes using ``redis``."""

    def __init__(self, redis, rate, burst=None, sleep=time.sleep):
        if rate <= 0:
            raise ValueError(f"SEND_RATE_PER_SECOND must be positive, got {rate}")
        self.interval = 1.0 / rate
        burst = rate if burst is None else burst
        self.tolerance = self.interval * max(burst - 1, 0)
        self.sleep = sleep
        self._reserve = redis.register_script(_RESERVE_SCRIPT)

    def reserve(self, also_set=None):
        """Book one send and return the seconds to wait before it.

        ``also_set`` is an optional ``(key, value, seconds)`` that is set in
        the same round trip, before the booking.
        """
        keys = [RATE_KEY]
        args = [self.interval, self.tolerance]
        if also_set is not None:
            key, value, seconds = also_set
            keys.append(key)
            args += [value, seconds]
        wait = float(self._reserve(keys=keys, args=args))
        return max(wait, 0.0)

    def wait(self):
        """Book one send and sleep until it may go out."""
        delay = self.reserve()
        if delay > 0:
            self.sleep(delay)
        return delay
