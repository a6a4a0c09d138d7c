"""Request-level guards that run before Django reads a body."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class RequestSizeLimitMiddleware:
    """Refuse bodies larger than ``ETUDE_MAX_REQUEST_BYTES`` with 413 before they are read or spooled."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse("Malformed Content-Length.", status=400, content_type="text/plain")
        limit = settings.ETUDE_MAX_REQUEST_BYTES
        if length > limit:
            message = f"Request too large: {length} bytes; the limit is {limit} bytes."
            return HttpResponse(message, status=413, content_type="text/plain")
        return self.get_response(request)
