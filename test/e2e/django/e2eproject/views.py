import json
import os
import time

from django.http import JsonResponse, StreamingHttpResponse


def whoami(request):
    """What Django saw: the Host it checks, the Origin, the forwarding headers, the user, and which process answered.

    POST goes through the CSRF middleware like any form. Django 3.2 checks only
    the token on plain HTTP; `origin_verified` is the Origin check Django 4.0+
    adds (CsrfViewMiddleware._origin_verified without CSRF_TRUSTED_ORIGINS):
    the Origin must equal this request's scheme and Host.
    """
    origin = request.headers.get("Origin")
    good_origin = "%s://%s" % ("https" if request.is_secure() else "http", request.get_host())
    return JsonResponse(
        {
            "pid": os.getpid(),
            "method": request.method,
            "origin_verified": origin == good_origin if origin is not None else None,
            "user": request.user.username if request.user.is_authenticated else None,
            "host": request.get_host(),
            "absolute_uri": request.build_absolute_uri(),
            "origin": request.headers.get("Origin"),
            "x_forwarded_host": request.headers.get("X-Forwarded-Host"),
            "x_forwarded_proto": request.headers.get("X-Forwarded-Proto"),
            "x_forwarded_for": request.headers.get("X-Forwarded-For"),
        }
    )


def stream(request):
    """NDJSON, one line per chunk, each stamped with the time it was generated (ms since the epoch).

    A plain generator that sleeps: under Django 3.2's ASGI handler it blocks the
    event loop between chunks, yet every chunk is written to the socket as it is
    yielded; under runserver it is written and flushed per chunk.
    """
    count = int(request.GET.get("n", "6"))
    delay = float(request.GET.get("delay", "0.4"))

    def lines():
        for i in range(count):
            if i:
                time.sleep(delay)
            yield json.dumps({"i": i, "of": count, "t": time.time() * 1000}) + "\n"

    response = StreamingHttpResponse(lines(), content_type="application/x-ndjson")
    response["Cache-Control"] = "no-store"
    return response
