"""Warm a web worker before it takes its first request.

A fresh gunicorn worker imported every view and compiled every template on its first
requests, so whoever came first after a start or a worker restart waited up to a couple of
seconds. ``warm()`` (called by ``helpdesk.wsgi`` as each worker loads the application) imports
the URL configuration and compiles the project's own templates into the cached loader. It
never stops a worker from starting: a template that does not compile is logged, not raised.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import get_template
from django.urls import get_resolver

logger = logging.getLogger(__name__)


def project_template_names() -> list[str]:
    """Names of the templates under the project's and its apps' ``templates`` folders."""
    base = Path(settings.BASE_DIR)
    apps = (path for path in base.glob("*/templates") if path.is_dir() and path.parent.name != "tests")
    roots = [base / "templates", *apps]
    return sorted({str(path.relative_to(root)) for root in roots for path in root.rglob("*.html")})


def warm() -> int:
    """Import the URL configuration and compile the project's templates; returns how many compiled."""
    get_resolver().url_patterns  # noqa: B018 - imports every view module
    compiled = 0
    for name in project_template_names():
        try:
            get_template(name)
        except (TemplateDoesNotExist, TemplateSyntaxError) as exc:
            logger.warning("Template %s not warmed: %s", name, exc)
        else:
            compiled += 1
    return compiled
