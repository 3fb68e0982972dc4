"""Field values for template messages, shortened to WeChat's limits.

A ``thing`` field takes at most 20 characters and a ``phrase`` at most five
Chinese characters. WeChat rejects a longer value with errcode 47003, which
would stop the whole batch, so texts here try the longest wording first and
fall back to shorter ones until one fits.
"""

from datetime import datetime, time

from bot.template_fields import THING_MAX_LENGTH, check_field, cut_thing, format_time
from jobs.slots import SHANGHAI

PHRASE_MAX_LENGTH = 5
DEADLINE_CLOCK = time(23, 59)


def first_fitting(*candidates):
    """Return the first text of at most 20 characters, else the last one cut."""
    for text in candidates:
        if len(text) <= THING_MAX_LENGTH:
            return text
    return cut_thing(candidates[-1])


def name_with_count(name, count, unit):
    """Return ``name``, or ``name等3个项目`` with ``name`` cut so the whole fits."""
    if count <= 1:
        return cut_thing(name)
    suffix = f"等{count}{unit}"
    room = THING_MAX_LENGTH - len(suffix)
    if len(name) > room:
        name = name[: room - 1] + "…"
    return name + suffix


def phrase(text):
    """Return ``text`` as a ``phrase`` value: its Chinese characters, at most five."""
    chinese = "".join(char for char in text if check_field("phrase", char) is None)
    return chinese[:PHRASE_MAX_LENGTH] or "其他"


def local_time(moment):
    """Format an aware instant as Shanghai time for a ``time`` field."""
    return format_time(moment.astimezone(SHANGHAI))


def deadline_time(deadline):
    """Format the last minute of the deadline date for a ``time`` field."""
    return format_time(datetime.combine(deadline, DEADLINE_CLOCK))


def signed(number):
    """Return a change with its sign, ``+5``, ``-2`` or ``+0``."""
    return f"{number:+d}"


def waited(seconds):
    """Return a waiting time in days and hours, hours, or minutes."""
    minutes = max(int(seconds // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{minutes}分钟" if minutes else f"{hours}小时"
    return f"{minutes}分钟" if minutes else "不足1分钟"
