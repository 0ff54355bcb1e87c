"""``make bench``: seed large data in a scratch database and print benchmark figures.

Kept out of the application packages (the production image does not carry it): run it as
``python -m bench`` from the project folder, with the same settings and database URL as
``manage.py`` (``make bench`` starts the embedded servers around it). Each module measures the
sections of one app; ``tools`` holds the gunicorn server and the wrk load generator they share.
"""
