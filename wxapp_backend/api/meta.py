"""The form schema and the town list, for the mini-program to render forms."""

from flask import jsonify

from models import Town
from wxapp_backend.api import api_blueprint
from wxapp_backend.api.serializers import schema


@api_blueprint.get("/schema")
def form_schema():
    return jsonify(schema().document)


@api_blueprint.get("/towns")
def towns():
    rows = Town.query.filter_by(active=True).order_by(Town.sort_order).all()
    return jsonify({"towns": [town.to_dict() for town in rows]})
