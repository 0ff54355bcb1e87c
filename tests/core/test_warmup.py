"""A web worker compiles the project's templates as it loads (helpdesk.core.warmup)."""

from django.template import engines

from helpdesk.core import warmup


def test_every_project_template_compiles_when_a_worker_warms_up():
    names = warmup.project_template_names()
    assert "base.html" in names and "tickets/queue_home.html" in names
    assert not any(name.startswith("tests/") or name.endswith("_reference.html") for name in names)
    assert warmup.warm() == len(names)  # none failed to compile
    loader = engines["django"].engine.template_loaders[0]
    assert any(key.startswith("tickets/queue_home.html") for key in loader.get_template_cache)
