"""Rules for which projects each user may see and change, enforced on every route.

Staff see only the projects of their own account, reviewers only their
town's, officials read their town (or, with no town, the district), admins
everything.
"""

from models.account import ROLE_ADMIN, ROLE_OFFICIAL, ROLE_REVIEWER, ROLE_STAFF
from models.project import Project


def visible_projects(user, query=None):
    """Narrow a ``Project`` query to the rows ``user`` may read."""
    query = query if query is not None else Project.query
    if user.role == ROLE_ADMIN:
        return query
    if user.role == ROLE_STAFF:
        return query.filter(Project.owner_id == user.id)
    if user.role == ROLE_OFFICIAL and user.town_id is None:
        return query
    return query.filter(Project.town_id == user.town_id)


def can_read(user, project):
    if user.role in (ROLE_ADMIN,):
        return True
    if user.role == ROLE_STAFF:
        return project.owner_id == user.id
    if user.role == ROLE_OFFICIAL and user.town_id is None:
        return True
    return project.town_id == user.town_id


def can_edit(user, project):
    return user.role == ROLE_STAFF and project.owner_id == user.id


def can_review(user, project):
    if user.role == ROLE_ADMIN:
        return True
    return user.role == ROLE_REVIEWER and project.town_id == user.town_id


def sees_full_id_numbers(user, project=None):
    """Owners, the town's reviewers and admins need ID numbers in full."""
    if user.role == ROLE_ADMIN:
        return True
    if project is None:
        return False
    return can_edit(user, project) or can_review(user, project)
