"""The 09:00 digest: each town's progress for its officials and reviewers.

The numbers come from ``models.progress.town_progress``, the same query the
console shows, and are stored once per town and day as a
``ProgressSnapshot``. The day's messages are built from the stored row, so
a digest planned again after a crash contains the same numbers, and the
next day's "change since the previous digest" is computed against it.

A town official or reviewer gets their town's numbers. A district official
(an official without a town) gets the district total plus one message per
town, because seven towns do not fit in one message's 20-character fields.
"""

import logging

from bot.template_fields import cut_thing
from jobs.messages import PlannedMessage
from jobs.texts import first_fitting, local_time, signed
from models import Town, User, db
from models.account import ROLE_OFFICIAL, ROLE_REVIEWER
from models.progress import Progress, district_total, town_progress
from models.schedule import PROGRESS_FIELDS, ProgressSnapshot

logger = logging.getLogger(__name__)

TEMPLATE_KIND = "digest"
PAGE = "pages/review-list/index"


def take_snapshots(day, now):
    """Store today's numbers for every active town once; return them by town id.

    Towns already stored for ``day`` keep their stored numbers.
    """
    stored = {
        row.town_id: row for row in ProgressSnapshot.query.filter_by(snapshot_date=day)
    }
    for progress in town_progress():
        if progress.town_id in stored:
            continue
        numbers = {name: getattr(progress, name) for name in PROGRESS_FIELDS}
        row = ProgressSnapshot(
            snapshot_date=day, town_id=progress.town_id, taken_at=now, **numbers
        )
        db.session.add(row)
        stored[progress.town_id] = row
    db.session.flush()
    return stored


def previous_snapshots(day):
    """Return the latest earlier snapshot day and its rows by town id, or (None, {})."""
    previous_day = (
        db.session.query(db.func.max(ProgressSnapshot.snapshot_date))
        .filter(ProgressSnapshot.snapshot_date < day)
        .scalar()
    )
    if previous_day is None:
        return None, {}
    rows = ProgressSnapshot.query.filter_by(snapshot_date=previous_day)
    return previous_day, {row.town_id: row for row in rows}


def as_progress(snapshot, town_name):
    numbers = {name: getattr(snapshot, name) for name in PROGRESS_FIELDS}
    return Progress(snapshot.town_id, town_name, **numbers)


class DigestPlanner:
    """Builder of one day's digest messages from current and previous numbers.

    ``current`` and ``previous`` map town ids to ``Progress``; ``previous_day``
    is the date of the previous numbers or None on the first digest.
    """

    def __init__(
        self, day, campaign, current, previous, previous_day, taken_at, district_name
    ):
        self.day = day
        self.campaign = campaign
        self.current = current
        self.previous = previous
        self.previous_day = previous_day
        self.taken_at = taken_at
        self.district_name = district_name

    def messages(self, users):
        planned = []
        for user in users:
            planned.extend(self.messages_for(user))
        return planned

    def messages_for(self, user):
        if user.town_id is not None:
            progress = self.current.get(user.town_id)
            if progress is None:
                logger.info(
                    "No digest for inactive town user=%s town=%s", user.id, user.town_id
                )
                return []
            return [self._message(user, progress, self.previous.get(user.town_id))]
        if user.role != ROLE_OFFICIAL:
            logger.warning("Reviewer without a town gets no digest user=%s", user.id)
            return []
        return self._district_messages(user)

    def _district_messages(self, user):
        rows = list(self.current.values())
        total = district_total(rows, f"{self.district_name}全区")
        previous_total = None
        if self.previous:
            previous_total = district_total(
                list(self.previous.values()), total.town_name
            )
        messages = [self._message(user, total, previous_total)]
        for progress in rows:
            previous = self.previous.get(progress.town_id)
            message = self._message(user, progress, previous)
            message.key_suffix = f":town-{progress.town_id}"
            messages.append(message)
        return messages

    def _message(self, user, progress, previous):
        return PlannedMessage(
            user, TEMPLATE_KIND, self.values(progress, previous), PAGE
        )

    def values(self, progress, previous):
        """Return the template values of one town (or the total)."""
        return {
            "thing1": cut_thing(progress.town_name),
            "number2": str(progress.projects),
            "thing3": self._submitted_reviewed(progress, previous),
            "thing4": self._pending(progress, previous),
            "thing5": self._deadline(),
            "time6": local_time(self.taken_at),
        }

    def _submitted_reviewed(self, progress, previous):
        submitted, reviewed = progress.submitted, progress.reviewed
        plain = (
            f"已提交{submitted} 已复核{reviewed}",
            f"提交{submitted} 复核{reviewed}",
        )
        if previous is None:
            return first_fitting(*plain)
        new_submitted = signed(submitted - previous.submitted)
        new_reviewed = signed(reviewed - previous.reviewed)
        return first_fitting(
            f"已提交{submitted}({new_submitted}) 已复核{reviewed}({new_reviewed})",
            f"提交{submitted}({new_submitted}) 复核{reviewed}({new_reviewed})",
            *plain,
        )

    def _pending(self, progress, previous):
        if previous is None:
            return first_fitting(f"{progress.pending}项")
        change = signed(progress.pending - previous.pending)
        return first_fitting(
            f"{progress.pending}项，{self._compared_with()}{change}",
            f"{progress.pending}项",
        )

    def _compared_with(self):
        if self.previous_day is not None and (self.day - self.previous_day).days == 1:
            return "较昨日"
        return "较上次"

    def _deadline(self):
        deadline = self.campaign.deadline
        left = self.campaign.days_left(self.day)
        date_text = f"{deadline.month}月{deadline.day}日截止"
        if left == 0:
            return f"{date_text}，今天是最后一天"
        return f"{date_text}，剩{left}天"


def recipients():
    """Officials and reviewers who may get the digest, bound or not.

    Unbound or unreachable users still get an outbox row, marked skipped,
    so the console shows who missed the digest and why.
    """
    return (
        User.query.filter(
            User.role.in_((ROLE_OFFICIAL, ROLE_REVIEWER)), User.disabled.is_(False)
        )
        .order_by(User.id)
        .all()
    )


def plan(slot, now, campaign):
    """Store the day's snapshots and return the digest messages of ``slot``."""
    snapshots = take_snapshots(slot.day, now)
    previous_day, previous_rows = previous_snapshots(slot.day)
    names = {town.id: town.name for town in Town.query}
    current = {
        town_id: as_progress(row, names[town_id]) for town_id, row in snapshots.items()
    }
    previous = {
        town_id: as_progress(row, names[town_id])
        for town_id, row in previous_rows.items()
        if town_id in current
    }
    taken_at = min((row.taken_at for row in snapshots.values()), default=now)
    planner = DigestPlanner(
        slot.day, campaign, current, previous, previous_day, taken_at, _district_name()
    )
    return planner.messages(recipients())


def preview(day, now, campaign):
    """Return the digest messages of ``day`` from live numbers, writing nothing."""
    previous_day, previous_rows = previous_snapshots(day)
    current = {row.town_id: row for row in town_progress()}
    previous = {
        town_id: as_progress(row, current[town_id].town_name)
        for town_id, row in previous_rows.items()
        if town_id in current
    }
    planner = DigestPlanner(
        day, campaign, current, previous, previous_day, now, _district_name()
    )
    return planner.messages(recipients())


def _district_name():
    town = Town.query.order_by(Town.sort_order).first()
    return town.district_name if town is not None else ""
