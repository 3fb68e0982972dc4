"""The WeChat callback against a bare endpoint, gunicorn + PostgreSQL.

Real: ``POST /wechat/callback`` with safe-mode (AES) TEMPLATESENDJOBFINISH
events, which WeChat pushes once for every template message. The server
verifies both signatures and the timestamp, decrypts, and parses the XML
safely. It then stores the receipt under its unique key (the dedupe),
records the final status on the matching outbox row and commits. Every
request carries a new MsgID, so the dedupe never ends a request early.

Baseline: ``POST /bench/bare-callback`` on the same gunicorn workers with
the same query and body: Flask reads the body and returns ``success``.

Requests are signed and encrypted beforehand, a fresh file per round (the
callback rejects timestamps older than five minutes), and replayed by wrk
with 16 connections; see ``replay.lua``.

Usage: .venv/bin/python benchmarks/callback_bench.py [--rounds 5] [--seconds 8]
"""

import argparse
import secrets
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from common import (
    Gunicorn,
    alternate_rounds,
    make_app,
    median_ratio,
    postgres_url,
    redis_server,
    report,
    reset_database,
    run_wrk,
)

CLIENTS = 16
GOAL = 0.3
# Requests prepared per second of a round: more than the callback can take
# on this machine, so a round never runs out and repeats a push.
REQUESTS_PER_SECOND = 1500
REPLAY = Path(__file__).with_name("replay.lua")
ORIGINAL_ID = "gh_benchmark00001"


def insert_sent_deliveries(app, msgids):
    """Bulk-insert one sent outbox row per msgid, as the sender leaves them."""
    from sqlalchemy import insert

    from models import Delivery, db, utcnow

    now = utcnow()
    rows = [
        {
            "dedupe_key": f"bench:{msgid}",
            "kind": "notice",
            "template_kind": "notice",
            "payload": {},
            "client_msg_id": f"bench{msgid}",
            "status": "sent",
            "attempts": 1,
            "wechat_msgid": str(msgid),
            "openid": "o-bench",
            "created_at": now,
            "updated_at": now,
            "sent_at": now,
        }
        for msgid in msgids
    ]
    with app.app_context():
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(Delivery.__table__), rows[start : start + 5000])
        db.session.commit()


def signed_push(config, xml, openid):
    """Return the query string and body WeChat sends for ``xml`` in safe mode."""
    from wechat_sandbox import crypto
    from wechat_sandbox.push import build_xml

    token = config["WECHAT_TOKEN"]
    timestamp = str(int(time.time()))
    nonce = str(secrets.randbelow(9 * 10**9) + 10**9)
    key = crypto.aes_key(config["WECHAT_AES_KEY"])
    encrypted = crypto.encrypt(key, config["WECHAT_APP_ID"], xml)
    query = {
        "signature": crypto.signature(token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "openid": openid,
        "encrypt_type": "aes",
        "msg_signature": crypto.signature(token, timestamp, nonce, encrypted),
    }
    body = build_xml([("ToUserName", ORIGINAL_ID), ("Encrypt", encrypted)])
    return urlencode(query), body


def write_round_file(config, msgids):
    from wechat_sandbox.push import build_xml

    path = Path(tempfile.mkstemp(prefix="callback-bench-", suffix=".txt")[1])
    with path.open("w", encoding="utf-8") as handle:
        for msgid in msgids:
            openid = f"o-bench-{msgid % 997}"
            xml = build_xml(
                [
                    ("ToUserName", ORIGINAL_ID),
                    ("FromUserName", openid),
                    ("CreateTime", int(time.time())),
                    ("MsgType", "event"),
                    ("Event", "TEMPLATESENDJOBFINISH"),
                    ("MsgID", msgid),
                    ("Status", "success"),
                ]
            )
            query, body = signed_push(config, xml, openid)
            handle.write(f"POST\t/wechat/callback?{query}\ttext/xml\t{body}\n")
    return path


def summary_line(output, prefix):
    return next((line for line in output.splitlines() if line.startswith(prefix)), "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds")
    parser.add_argument(
        "--seconds", type=int, default=8, help="wrk run per side per round"
    )
    parser.add_argument(
        "--workers", type=int, default=4, help="gunicorn worker processes"
    )
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    options = parser.parse_args()

    per_round = REQUESTS_PER_SECOND * options.seconds
    database_url = postgres_url("wxapp_bench")
    with redis_server() as redis_url:
        app = make_app(database_url, redis_url)
        reset_database(app)
        insert_sent_deliveries(app, range(1, per_round * (options.rounds + 1) + 1))
        server = Gunicorn(database_url, redis_url, options.workers, options.threads)
        with server:
            batches = iter(range(options.rounds + 1))
            real_outputs = []

            def measure_real():
                batch = next(batches)
                msgids = range(batch * per_round + 1, (batch + 1) * per_round + 1)
                path = write_round_file(app.config, msgids)
                rate, output = run_wrk(
                    server.url,
                    REPLAY,
                    options.seconds,
                    CLIENTS,
                    CLIENTS,
                    [str(path), "real"],
                )
                real_outputs.append(output)
                path.unlink()
                return rate

            bare_file = write_round_file(app.config, range(1, 2001))

            def measure_bare():
                return run_wrk(
                    server.url,
                    REPLAY,
                    options.seconds,
                    CLIENTS,
                    CLIENTS,
                    [str(bare_file), "bare"],
                )[0]

            # One unmeasured run of each side fills caches and pools.
            measure_real()
            measure_bare()
            real, baseline = alternate_rounds(
                options.rounds, measure_real, measure_bare
            )
        final = count_final_statuses(app)

    ratio = median_ratio(real, baseline)
    report(
        "WeChat callback vs bare Flask endpoint",
        [
            f"server: {server.description}, PostgreSQL; load: wrk -t{CLIENTS} -c{CLIENTS}",
            f"callback requests/s per round: {', '.join(f'{r:.0f}' for r in real)}",
            f"bare requests/s per round: {', '.join(f'{r:.0f}' for r in baseline)}",
            "last callback round: "
            + summary_line(real_outputs[-1], "status")
            + "; "
            + summary_line(real_outputs[-1], "wrapped"),
            f"outbox rows given a final status: {final}",
            f"median ratio callback/bare: {ratio:.3f} (goal >= {GOAL})",
        ],
    )


def count_final_statuses(app):
    from models import Delivery

    with app.app_context():
        return Delivery.query.filter(Delivery.final_status == "success").count()


if __name__ == "__main__":
    main()
