"""rq jobs and the rq-scheduler schedule: digest, reminders, notices, sends.

- ``slots``: the Shanghai wall-clock slots of the campaign calendar.
- ``tick``: the one periodic job; ``schedule`` registers it.
- ``runs``: claims a due slot once and plans its messages.
- ``digest``, ``reminders``, ``notices``: the content of each message.
- ``fanout``: sends outbox rows in chunks with a shared rate limit.
- ``worker``: rq workers that push the Flask app context.
- ``status``: what the console shows about the schedule.
"""


def init_app(app):
    """Register the ``flask`` commands and the return-notice receiver."""
    from jobs import cli, notices
    from models.workflow import entry_returned

    app.extensions["jobs"] = True
    cli.init_app(app)
    notices.listen_for_commits()
    entry_returned.connect(notices.on_entry_returned)
