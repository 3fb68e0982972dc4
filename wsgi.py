"""WSGI entry point for gunicorn: ``gunicorn wsgi:app``."""

from wxapp_backend import create_app

app = create_app()
