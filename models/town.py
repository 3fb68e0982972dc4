"""Towns (镇街) of the district; loaded from a data file, never hard-coded."""

import json

from models.base import db


class Town(db.Model):
    __tablename__ = "towns"

    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(20), nullable=False, unique=True)
    slug = db.Column(db.String(40), nullable=False, unique=True)
    name = db.Column(db.String(40), nullable=False)
    district_code = db.Column(db.String(20), nullable=False)
    district_name = db.Column(db.String(40), nullable=False)
    sort_order = db.Column(db.Integer, nullable=False, default=0)
    active = db.Column(db.Boolean, nullable=False, default=True)

    def to_dict(self):
        return {"id": self.id, "code": self.code, "name": self.name}


def load_district_file(path):
    """Insert or update the towns listed in a district JSON file.

    Returns the number of towns in the file. Towns already stored are matched
    by their administrative code, so reloading the file is safe.
    """
    with open(path, encoding="utf-8") as handle:
        district_data = json.load(handle)

    district = district_data["district"]
    for order, item in enumerate(district_data["towns"]):
        town = Town.query.filter_by(code=item["code"]).one_or_none()
        if town is None:
            town = Town(code=item["code"])
            db.session.add(town)
        town.slug = item["slug"]
        town.name = item["name"]
        town.district_code = district["code"]
        town.district_name = district["name"]
        town.sort_order = order
    db.session.commit()
    return len(district_data["towns"])
