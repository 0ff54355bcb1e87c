"""HTML views of the tickets app, by area: landing (role home pages), portal (requesters),
ticket (the ticket page and its actions, for every role), queues (agents and vendors)."""
