import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings.local")
application = get_wsgi_application()

# Each gunicorn worker loads this module: import the views and compile the templates now,
# not on the first requests it serves (helpdesk.core.warmup).
from helpdesk.core.warmup import warm  # noqa: E402

warm()
