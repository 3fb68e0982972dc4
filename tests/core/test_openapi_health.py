"""The OpenAPI document covers every route; the health check reports its parts."""

import re


def _api_rules(app):
    rules = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule == "/api/openapi.json":
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            rules.add((method.lower(), path))
    return rules


def test_every_route_documented(app, client):
    document = client.get("/api/openapi.json").get_json()
    documented = {(method, path) for path, item in document["paths"].items()
                  for method in item}
    assert _api_rules(app) - documented == set()
    assert documented - _api_rules(app) == set()


def test_openapi_version(client):
    assert client.get("/api/openapi.json").get_json()["openapi"].startswith("3.")


def test_healthz_ok(client):
    body = client.get("/healthz").get_json()
    assert body == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


def test_healthz_reports_redis_down(app, client):
    import redis

    app.extensions["redis"] = redis.Redis(host="127.0.0.1", port=9, socket_connect_timeout=0.5)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {"database": "ok", "redis": "unavailable"}
