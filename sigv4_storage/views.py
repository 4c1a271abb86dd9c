"""The direct-upload views: sign, complete, abort (``uploads`` does the work).

POST only, JSON in and out, CSRF-protected, and each behind the permission
hook (``SIGV4_STORAGE_UPLOAD_PERMISSION``; signed-in users by default).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from . import uploads


def _json_view(work: Callable[[HttpRequest, dict[str, Any]], dict[str, Any]]) -> Any:
    @require_POST
    @csrf_protect
    def view(request: HttpRequest) -> JsonResponse:
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return JsonResponse({"error": "The request is not JSON."}, status=400)
        if not isinstance(data, dict):
            return JsonResponse({"error": "The request is not a JSON object."}, status=400)
        try:
            return JsonResponse(work(request, data))
        except uploads.UploadRefused as refused:
            return JsonResponse({"error": str(refused)}, status=refused.status)

    view.__name__ = work.__name__
    return view


sign = _json_view(uploads.start)
complete = _json_view(uploads.complete)
abort = _json_view(uploads.abort)
