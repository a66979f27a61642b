"""danso_network: the web application for Vietnam's network of population collaborators."""

from __future__ import annotations

from flask import Flask

from .config import PROJECT_ROOT, Config, finalise


def create_app(config: type | dict | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, error handlers, CLI commands."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.from_object(Config)
    app.config.from_prefixed_env("DANSO")
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    finalise(app)

    from .errors import DatabaseIdConverter
    from .web import register_blueprints, register_extensions, register_template_helpers

    app.url_map.converters["int"] = DatabaseIdConverter  # before any route is added
    register_extensions(app)
    register_blueprints(app)
    register_template_helpers(app)

    from .security import register_security_headers, trust_proxies

    register_security_headers(app)
    trust_proxies(app)

    from .errors import register_error_handlers

    register_error_handlers(app)

    from .commands import register_commands

    register_commands(app)
    return app
