class SecurityHeadersMiddleware:
    """Headers Django and django-csp do not set, on every response.

    * Permissions-Policy turns off browser features the helpdesk never uses.
    * The site serves no cross-origin clients, so any ``Access-Control-Allow-*`` header a
      library adds (django-axes puts ``*`` on its JSON lockout answer) is removed: no CORS
      wildcard ever leaves the server.
    """

    PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
    CORS_HEADERS = (
        "Access-Control-Allow-Origin",
        "Access-Control-Allow-Methods",
        "Access-Control-Allow-Headers",
        "Access-Control-Allow-Credentials",
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", self.PERMISSIONS_POLICY)
        for header in self.CORS_HEADERS:
            if header in response:
                del response[header]
        return response
