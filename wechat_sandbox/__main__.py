"""Serve the sandbox on 127.0.0.1:$SANDBOX_PORT: ``python -m wechat_sandbox``.

One threaded process, because the sandbox keeps its state in memory.
"""

import logging

from werkzeug.serving import run_simple

from .app import create_sandbox_app


def main():
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    app = create_sandbox_app()
    port = app.config["SANDBOX_PORT"]
    logging.getLogger(__name__).info(
        "WeChat sandbox listening on 127.0.0.1:%s, callback %s",
        port,
        app.config["SANDBOX_CALLBACK_URL"],
    )
    run_simple("127.0.0.1", port, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
