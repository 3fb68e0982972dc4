"""The message a planner wants sent to one user, before it becomes an outbox row."""

from dataclasses import dataclass


@dataclass
class PlannedMessage:
    """One template message for one user.

    ``key_suffix`` distinguishes several messages of one slot to the same
    user, such as the per-town lines of a district official's digest.
    """

    user: object
    template_kind: str
    values: dict
    pagepath: str
    key_suffix: str = ""

    def dedupe_key(self, slot_key):
        return f"{slot_key}:user-{self.user.id}{self.key_suffix}"
