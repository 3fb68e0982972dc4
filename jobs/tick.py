"""The periodic tick: the one job rq-scheduler runs, every ``TICK_SECONDS``.

rq-scheduler runs this job at a fixed interval and is never given a cron
string, because rq-scheduler 0.14 matches cron strings against the local
time of the host that runs it: "0 9 * * *" on a UTC host fires at 17:00 in
Shanghai. The tick works out in Asia/Shanghai which slots are due and
claims each one in the database, so a late, repeated or doubled tick sends
nothing twice.
"""

import logging
from datetime import datetime, timedelta

from bot.callback import prune_receipts
from jobs import fanout, runs
from models import utcnow

logger = logging.getLogger(__name__)

# Callback receipts older than this are deleted. WeChat repeats a push
# within seconds, and a send records its early job result within minutes.
RECEIPT_KEEP = timedelta(days=2)


def tick(now=None):
    """Run due slots, close finished runs, sweep unsent rows and prune receipts.

    An rq job.

    ``now`` is an ISO 8601 instant with its offset, for tests and manual
    runs; the schedule passes nothing and the current time is used.
    Returns a summary for the rq result.
    """
    moment = datetime.fromisoformat(now) if now else utcnow()
    if moment.tzinfo is None:
        raise ValueError(f"tick needs an instant with a UTC offset, got {now!r}")

    claimed = runs.run_due_slots(moment)
    runs.finish_runs(moment)
    swept = fanout.sweep(moment)
    pruned = prune_receipts(moment - RECEIPT_KEEP)
    summary = {
        "claimed": [f"{run.key_prefix.rstrip(':')}={run.status}" for run in claimed],
        "swept": swept,
        "pruned": pruned,
    }
    if claimed or swept:
        logger.info(
            "Tick at=%s claimed=%s swept=%d",
            moment.isoformat(),
            summary["claimed"],
            swept,
        )
    return summary
