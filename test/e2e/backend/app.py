#!/usr/bin/env python3
"""A Reflex-shaped ASGI backend for rxroute's end-to-end suite.

Built only from Debian packages (python3-socketio, python3-uvicorn,
python3-websockets, python3-django); run it with /usr/bin/python3:

    app.py --port PORT --profile integrated|split_dev

- `/_event`: python-socketio, mounted the way Reflex mounts it (engine path and
  namespace both `/_event`, WebSocket transport only, the first requested
  subprotocol echoed on accept). On connect it reads the
  browser's Cookie from the handshake and looks the Django session up in the
  shared database, so it can say which Django user is logged in. Every
  `event` is answered with an `event` carrying the payload back.
- `/_upload`: a streamed multipart POST. The body is parsed and hashed as it
  arrives (a small streaming multipart parser below); NDJSON progress lines go
  back while it is read, and a last line has each file's size and SHA-256.
- `/ping`: "pong", as Reflex answers it.
- Profile `integrated`: Django's ASGI app (wrapped in ASGIStaticFilesHandler
  so `/static/` works) answers Django's prefixes from this same process, as
  reflex-django embeds it. Profile `split_dev`: those prefixes are not served
  here (Django runs under `manage.py runserver`).
"""
import argparse
import hashlib
import json
import os
import sys
import time
import uuid
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "django"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "e2eproject.settings")

import django  # noqa: E402

django.setup()

import socketio  # noqa: E402
import uvicorn  # noqa: E402
from asgiref.sync import sync_to_async  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402

# Tells a restarted process from the one before it.
BOOT = uuid.uuid4().hex[:12]
DJANGO_PREFIXES = ("/admin", "/api", "/static", "/media")
PROGRESS_STEP = 8 * 1024 * 1024


def now_ms():
    return time.time() * 1000


# --- Django session lookup ---------------------------------------------------


@sync_to_async
def django_user_for_cookie(cookie_header):
    """The username logged in with the `sessionid` in this Cookie header, or None."""
    cookie = SimpleCookie()
    try:
        cookie.load(cookie_header or "")
    except Exception:
        return None
    morsel = cookie.get("sessionid")
    if morsel is None:
        return None
    session = SessionStore(session_key=morsel.value)
    user_id = session.get("_auth_user_id")
    if user_id is None:
        return None
    user = get_user_model().objects.filter(pk=user_id).first()
    return user.get_username() if user else None


# --- Socket.IO at /_event ---------------------------------------------------

# Same-origin only (python-socketio's default): the Origin must match the Host
# (or X-Forwarded-Host) the handshake arrives with.
sio = socketio.AsyncServer(async_mode="asgi", transports=["websocket"], allow_upgrades=False)
NAMESPACE = "/_event"
sessions = {}


@sio.on("connect", namespace=NAMESPACE)
async def on_connect(sid, environ, auth=None):
    query = parse_qs(environ.get("QUERY_STRING", ""))
    user = await django_user_for_cookie(environ.get("HTTP_COOKIE"))
    sessions[sid] = {
        "user": user,
        "token": (query.get("token") or [None])[0],
        "host": environ.get("HTTP_HOST"),
        "origin": environ.get("HTTP_ORIGIN"),
        "forwarded_host": environ.get("HTTP_X_FORWARDED_HOST"),
        "protocol": environ.get("HTTP_SEC_WEBSOCKET_PROTOCOL"),
    }
    await sio.emit("event", {"name": "hello", "boot": BOOT, "sid": sid, **sessions[sid]}, to=sid, namespace=NAMESPACE)


@sio.on("disconnect", namespace=NAMESPACE)
async def on_disconnect(sid):
    sessions.pop(sid, None)


@sio.on("event", namespace=NAMESPACE)
async def on_event(sid, event):
    info = sessions.get(sid, {})
    reply = {
        "name": "reply",
        "to": event.get("name") if isinstance(event, dict) else None,
        "payload": event.get("payload") if isinstance(event, dict) else event,
        "boot": BOOT,
        "sid": sid,
        "user": info.get("user"),
        "token": info.get("token"),
        "t": now_ms(),
    }
    await sio.emit("event", reply, to=sid, namespace=NAMESPACE)


engineio_app = socketio.ASGIApp(sio, socketio_path="_event")


async def socket_app(scope, receive, send):
    """Echo the first requested WebSocket subprotocol on accept, which engineio does not.

    Reflex wraps its Socket.IO app the same way (`_HeaderMiddleware`): its
    frontend sends the Reflex version as subprotocol, and browsers fail a
    handshake that requested a subprotocol and got none back.
    """

    async def accept_with_subprotocol(message):
        if message["type"] == "websocket.accept" and scope.get("subprotocols"):
            message = {**message, "subprotocol": scope["subprotocols"][0]}
        await send(message)

    await engineio_app(scope, receive, accept_with_subprotocol if scope["type"] == "websocket" else send)


# --- /_upload: streaming multipart parser and hasher ------------------------


class MultipartHasher:
    """Streams a multipart/form-data body: each part's size and SHA-256, without buffering it."""

    def __init__(self, boundary):
        self.delimiter = b"\r\n--" + boundary
        # The first delimiter has no CRLF before it; pretend it had.
        self.buffer = bytearray(b"\r\n")
        self.state = "preamble"
        self.parts = []
        self.part = None

    def feed(self, data):
        self.buffer += data
        while True:
            if self.state in ("preamble", "body"):
                index = self.buffer.find(self.delimiter)
                if index < 0:
                    # Keep a tail that could be the start of a delimiter.
                    keep = len(self.delimiter) - 1
                    if len(self.buffer) > keep:
                        if self.state == "body":
                            self._write(self.buffer[: len(self.buffer) - keep])
                        del self.buffer[: len(self.buffer) - keep]
                    return
                if self.state == "body":
                    self._write(self.buffer[:index])
                    self._end_part()
                del self.buffer[: index + len(self.delimiter)]
                self.state = "after_delimiter"
            elif self.state == "after_delimiter":
                if len(self.buffer) < 2:
                    return
                if self.buffer[:2] == b"--":
                    self.state = "epilogue"
                    self.buffer.clear()
                    return
                if self.buffer[:2] != b"\r\n":
                    raise ValueError("malformed multipart delimiter")
                del self.buffer[:2]
                self.state = "headers"
            elif self.state == "headers":
                index = self.buffer.find(b"\r\n\r\n")
                if index < 0:
                    if len(self.buffer) > 16384:
                        raise ValueError("multipart part headers too long")
                    return
                headers = bytes(self.buffer[:index]).decode("utf-8", "replace")
                del self.buffer[: index + 4]
                self._start_part(headers)
                self.state = "body"
            else:  # epilogue
                self.buffer.clear()
                return

    def finish(self):
        if self.state != "epilogue":
            raise ValueError(f"multipart body ended in state {self.state}")
        return self.parts

    def _start_part(self, headers):
        disposition = ""
        for line in headers.split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-disposition":
                disposition = value
        params = {}
        for item in disposition.split(";")[1:]:
            key, _, value = item.strip().partition("=")
            params[key.lower()] = value.strip('"')
        self.part = {"field": params.get("name"), "filename": params.get("filename"), "bytes": 0, "hash": hashlib.sha256()}

    def _write(self, data):
        if data:
            self.part["bytes"] += len(data)
            self.part["hash"].update(data)

    def _end_part(self):
        part = self.part
        self.parts.append({"field": part["field"], "filename": part["filename"], "bytes": part["bytes"], "sha256": part["hash"].hexdigest()})
        self.part = None


async def upload(scope, receive, send):
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    content_type = headers.get("content-type", "")
    boundary = None
    for item in content_type.split(";")[1:]:
        key, _, value = item.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"').encode("latin-1")
    if scope["method"] != "POST" or boundary is None:
        await plain(send, 400, b"expected a multipart/form-data POST\n")
        return

    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/x-ndjson"), (b"cache-control", b"no-store")]})

    async def line(obj):
        await send({"type": "http.response.body", "body": (json.dumps(obj) + "\n").encode(), "more_body": True})

    parser = MultipartHasher(boundary)
    error = None
    received = 0
    next_report = PROGRESS_STEP
    expected = int(headers["content-length"]) if "content-length" in headers else None
    await line({"event": "start", "content_length": expected, "chunked": "transfer-encoding" in headers, "t": now_ms()})
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body = message.get("body", b"")
        received += len(body)
        if error is None:
            try:
                parser.feed(body)
            except ValueError as problem:
                error = str(problem)
        more = message.get("more_body", False)
        # Progress only while the body is still arriving; the last line reports the total.
        if more and received >= next_report:
            await line({"event": "progress", "received": received, "t": now_ms()})
            while next_report <= received:
                next_report += PROGRESS_STEP
        if not more:
            break
    if error is None:
        try:
            files = parser.finish()
        except ValueError as problem:
            error = str(problem)
    if error is None:
        await line({"event": "done", "received": received, "files": files, "t": now_ms()})
    else:
        await line({"event": "error", "received": received, "error": error, "t": now_ms()})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def plain(send, status, body, extra=()):
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain; charset=utf-8"), *extra]})
    await send({"type": "http.response.body", "body": body})


async def drain(receive):
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


# --- the app ----------------------------------------------------------------


def make_app(profile):
    django_app = None
    if profile == "integrated":
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
        from django.core.asgi import get_asgi_application

        django_app = ASGIStaticFilesHandler(get_asgi_application())

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            return
        path = scope["path"]
        if path == "/_event" or path.startswith("/_event/"):
            await socket_app(scope, receive, send)
        elif scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1008})
        elif path == "/_upload":
            await upload(scope, receive, send)
        elif path == "/ping":
            await drain(receive)
            await plain(send, 200, b'"pong"', [(b"x-backend-boot", BOOT.encode())])
        elif django_app is not None and any(path == p or path.startswith(p + "/") for p in DJANGO_PREFIXES):
            await django_app(scope, receive, send)
        else:
            await drain(receive)
            await plain(send, 404, f"not a backend path: {path}\n".encode())

    return app


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--profile", choices=["integrated", "split_dev"], required=True)
    args = parser.parse_args()
    print(f"backend boot {BOOT} pid {os.getpid()} profile {args.profile} port {args.port}", flush=True)
    uvicorn.run(make_app(args.profile), host="127.0.0.1", port=args.port, http="h11", ws="websockets", lifespan="off", log_level="warning")


if __name__ == "__main__":
    main()
