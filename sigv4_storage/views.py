"""The direct-upload views: sign, complete, resume, abort (``uploads`` does the work).

POST only, JSON in and out (``application/json``, at most ``uploads.MAX_BODY``
bytes, finite numbers, bounded nesting: anything else a 4xx JSON refusal,
never a 500), CSRF-protected, and each behind the permission
hook (``SIGV4_STORAGE_UPLOAD_PERMISSION``; signed-in users by default). The
tokens they hand out are bound to the user and to the browser's CSRF secret.
Every answer is JSON, refusals included (``{"error": message, "code": word}``:
the message for the person uploading, the code for a client to branch on);
what a developer needs goes to the ``sigv4_storage`` logger.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from . import tokens, uploads

#: Django's own CSRF check, run here so that a refusal is JSON, not its HTML page.
_csrf = CsrfViewMiddleware(lambda request: HttpResponse())


def _protected(request: HttpRequest) -> HttpResponse:
    """What the CSRF check is told it protects: a view that is not exempt."""
    return HttpResponse()


def refused(message: str, status: int, code: str) -> JsonResponse:
    return JsonResponse(tokens.refusal(message, code), status=status)


def _json_view(work: Callable[[HttpRequest, dict[str, Any]], dict[str, Any]]) -> Any:
    @csrf_exempt  # the project's middleware would answer in HTML: checked below instead
    def view(request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            answer = refused("Use POST.", 405, "bad_request")
            answer["Allow"] = "POST"
            return answer
        try:  # before the CSRF check, which would parse a form's body
            uploads.check_content_type(request.content_type or "")
        except tokens.UploadRefused as refusal:
            return refused(str(refusal), refusal.status, refusal.code)
        if "CSRF_COOKIE" not in request.META:  # no CsrfViewMiddleware in MIDDLEWARE
            _csrf.process_request(request)
        if _csrf.process_view(request, _protected, (), {}) is not None:
            return refused(
                "This page's security token is missing or old: reload the page.", 403, "csrf"
            )
        try:
            data = uploads.read_json(request)
        except tokens.UploadRefused as refusal:
            return refused(str(refusal), refusal.status, refusal.code)
        status, body = uploads.run(work, request, data)
        return JsonResponse(body, status=status)

    view.__name__ = work.__name__
    return view


sign = _json_view(uploads.start)
complete = _json_view(uploads.complete)
resume = _json_view(uploads.resume)
abort = _json_view(uploads.abort)
