"""``flask digest``, ``flask schedule`` and ``flask demo generate`` commands."""

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from redis.exceptions import RedisError

from jobs import digest, runs, schedule, status
from jobs.slots import DIGEST, SHANGHAI
from models import utcnow
from models.delivery import DELIVERY_QUEUED

digest_cli = AppGroup("digest", help="每日进度汇总 / The 09:00 progress digest.")
schedule_cli = AppGroup("schedule", help="定时消息 / Scheduled digests and reminders.")

DATE = click.DateTime(formats=["%Y-%m-%d"])


@digest_cli.command("send")
@click.option(
    "--date",
    "day",
    type=DATE,
    required=True,
    help="Shanghai date of the digest, YYYY-MM-DD.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print who would get which message; send and store nothing.",
)
def send_digest(day, dry_run):
    """Send the digest of a date now, once: a digest already sent is not sent again."""
    day = day.date()
    now = utcnow()
    if dry_run:
        _print_preview(day, now)
        return
    try:
        result = runs.send_slot_now(DIGEST, day, now)
    except runs.NoSlotThatDay as exc:
        message = f"{exc}; check CAMPAIGN_START and CAMPAIGN_DEADLINE"
        raise click.ClickException(message) from exc
    run = result.run
    if result.created:
        counts = status.delivery_counts(run)
        click.echo(
            f"digest {day} planned: {run.recipients} messages, "
            f"{counts.get(DELIVERY_QUEUED, 0)} queued to send, counts {counts}"
        )
    else:
        claimed = run.claimed_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        click.echo(
            f"digest {day} was already claimed ({run.status}, {run.trigger}) "
            f"at {claimed}; nothing sent"
        )


def _print_preview(day, now):
    campaign = status.campaign(now)
    if campaign is None or not campaign.is_open(day):
        raise click.ClickException(
            f"{day} is outside the campaign; nothing would be sent"
        )
    messages = digest.preview(day, now, campaign)
    for message in messages:
        user = message.user
        town = user.town.name if user.town else "全区"
        fields = " ".join(f"{key}={value}" for key, value in message.values.items())
        click.echo(
            f"user-{user.id} {user.name} ({user.role_label}, {town}) "
            f"{_reachability(user)}: {fields}"
        )
    click.echo(f"dry run: {len(messages)} messages, nothing sent or stored")


def _reachability(user):
    if not user.service_openid:
        return "skip (未绑定服务号)"
    if not user.reachable:
        return "skip (已取消关注服务号)"
    return "send"


@schedule_cli.command("status")
@click.option(
    "--count", default=6, show_default=True, help="Number of next slots to list."
)
def schedule_status(count):
    """Print the campaign, the tick entry, next slots, last runs and skipped slots."""
    now = utcnow()
    campaign = status.campaign(now)
    if campaign is None:
        click.echo(
            "campaign: not set (CAMPAIGN_START, CAMPAIGN_DEADLINE); nothing is sent"
        )
    else:
        click.echo(
            f"campaign: {campaign.start} to {campaign.deadline} (Asia/Shanghai), "
            f"grace {current_app.config['SCHEDULE_GRACE_MINUTES']} minutes"
        )
    click.echo(_tick_line())

    click.echo("next slots (Asia/Shanghai):")
    for slot in status.next_slots(now, count):
        click.echo(f"  {slot['local_time']}  {slot['kind']:<18} {slot['label']}")
    click.echo("last runs:")
    for run in status.recent_runs(10):
        click.echo(f"  {_run_line(run)}")
    click.echo("skipped slots:")
    for run in status.skipped_runs(10):
        click.echo(f"  {_run_line(run)}  {run['note'] or ''}")


def _tick_line():
    try:
        scheduler = schedule.make_scheduler(current_app.extensions["redis"])
        entries = {job.id: when for job, when in schedule.scheduled_entries(scheduler)}
    except RedisError as exc:
        return f"tick: cannot read the schedule from Redis ({exc})"
    lines = []
    for entry in schedule.ENTRIES:
        when = entries.get(entry.id)
        if when is None:
            lines.append(
                f"tick: {entry.id} NOT registered; run `flask schedule reconcile`"
            )
        else:
            local = when.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
            lines.append(
                f"tick: {entry.id} every {entry.interval} s, next {local} (Shanghai)"
            )
    return "\n".join(lines)


def _run_line(run):
    counts = " ".join(
        f"{key}={value}" for key, value in sorted(run["deliveries"].items())
    )
    return (
        f"{run['local_time']}  {run['kind']:<18} {run['status']:<8} "
        f"{run['trigger']:<8} recipients={run['recipients']} {counts}"
    )


@schedule_cli.command("reconcile")
def schedule_reconcile():
    """Register the periodic tick under its fixed id and remove stale entries."""
    scheduler = schedule.make_scheduler(current_app.extensions["redis"])
    added, kept, removed = schedule.reconcile(scheduler, utcnow())
    click.echo(f"schedule reconciled: added {added}, kept {kept}, removed {removed}")


@click.command("generate")
@with_appcontext
@click.option(
    "--projects",
    "count",
    type=click.IntRange(1, 1_000_000),
    required=True,
    help="Number of projects to add, each with three category entries.",
)
@click.option(
    "--seed",
    default=20261204,
    show_default=True,
    help="Random seed, for repeatable data.",
)
def generate_demo(count, seed):
    """Bulk-insert generated projects in every state, for load tests and benchmarks."""
    from jobs.demo_data import generate

    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("generated data is for development only")
    with click.progressbar(length=count, label="generating projects") as bar:
        summary = generate(count, seed=seed, progress=bar.update)
    click.echo(summary)


def init_app(app):
    from wxapp_backend.cli import demo_cli

    app.cli.add_command(digest_cli)
    app.cli.add_command(schedule_cli)
    demo_cli.add_command(generate_demo)
