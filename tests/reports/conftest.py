import pytest


@pytest.fixture(autouse=True)
def sla_defaults(request):
    """The default SLA policy of migration 0002, put back after transactional tests flushed it."""
    if request.node.get_closest_marker("django_db") is None:
        return
    from sla.defaults import ensure_defaults

    ensure_defaults()
