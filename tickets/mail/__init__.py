"""The e-mail channel: notifications out, tickets and replies in.

* ``addresses``: our addresses, a ticket's secret reply token, thread Message-IDs, safe headers;
* ``outbound``: rendering from ``templates/email/`` and delivery at most once per recipient;
* ``parsing``: turning any RFC 822 message (odd charsets, HTML only, malformed) into text and files;
* ``inbound``: the one service that stores a received message and acts on it;
* ``imap``: polling a mailbox (a beat task); ``manage.py receive_email`` is the pipe for an MTA.
"""
