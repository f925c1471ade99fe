"""`winnow label`: a local web server for labeling pages block by block.

Safety: it listens on 127.0.0.1 only; serves its three static files and the API, never a path from the
URL; answers only requests whose Host is itself (no DNS rebinding) and whose Origin, when sent, is
itself; every API call must carry the session token that the served page holds (another site cannot
read it). The UI shows page text as text (textContent) under a Content-Security-Policy that allows no
script but its own, so a hostile page cannot run code in it.
"""

from __future__ import annotations

import json
import re
import secrets
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from threading import Lock

from winnow.label.store import LabelSession

MAX_BODY_BYTES = 5_000_000
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
STATIC = {"/": ("index.html", "text/html; charset=utf-8"), "/app.js": ("app.js", "text/javascript; charset=utf-8"),
          "/app.css": ("app.css", "text/css; charset=utf-8")}
_PAGE = re.compile(r"^/api/pages/(\d{1,9})$")
_LABELS = re.compile(r"^/api/pages/(\d{1,9})/labels$")


class RequestError(Exception):
    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status


class LabelServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, session: LabelSession, port: int = 0):
        self.session = session
        self.token = secrets.token_urlsafe(24)
        self.lock = Lock()  # one request at a time touches the session and the files
        super().__init__(("127.0.0.1", port), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def allowed_hosts(self) -> set[str]:
        port = self.server_address[1]
        return {f"127.0.0.1:{port}", f"localhost:{port}"}


class _Handler(BaseHTTPRequestHandler):
    server: LabelServer

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        pass  # a quiet terminal: the URL is what the user needs to see

    def do_GET(self) -> None:
        self._answer(self._get)

    def do_PUT(self) -> None:
        self._answer(self._put)

    def do_POST(self) -> None:
        self._answer(self._put)

    def _answer(self, route) -> None:
        try:
            self._check_origin()
            route(self.path.split("?", 1)[0])
        except RequestError as error:
            self._send_json({"error": str(error)}, error.status)
        except (ValueError, OSError) as error:  # a page that cannot be read or labeled
            self._send_json({"error": str(error)}, HTTPStatus.UNPROCESSABLE_ENTITY)

    def _check_origin(self) -> None:
        allowed = self.server.allowed_hosts()
        if self.headers.get("Host") not in allowed:
            raise RequestError(HTTPStatus.FORBIDDEN, "unknown Host")
        origin = self.headers.get("Origin")
        if origin is not None and origin.removeprefix("http://") not in allowed:
            raise RequestError(HTTPStatus.FORBIDDEN, "requests from other origins are refused")

    def _check_token(self) -> None:
        if not secrets.compare_digest(self.headers.get("X-Winnow-Token", ""), self.server.token):
            raise RequestError(HTTPStatus.FORBIDDEN, "missing or wrong session token")

    def _get(self, path: str) -> None:
        if path in STATIC:
            name, content_type = STATIC[path]
            body = resources.files("winnow.label").joinpath("static", name).read_text(encoding="utf-8")
            if name == "index.html":
                body = body.replace("{{TOKEN}}", self.server.token)
            self._send(body.encode("utf-8"), content_type)
            return
        if not path.startswith("/api/"):
            raise RequestError(HTTPStatus.NOT_FOUND, "not found")
        self._check_token()
        session = self.server.session
        with self.server.lock:
            if path == "/api/pages":
                self._send_json(session.listing())
            elif match := _PAGE.match(path):
                self._send_json(session.page(self._page_number(match)))
            else:
                raise RequestError(HTTPStatus.NOT_FOUND, "not found")

    def _put(self, path: str) -> None:
        self._check_token()
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            raise RequestError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send JSON")
        body = self._json_body()
        session = self.server.session
        with self.server.lock:
            if match := _LABELS.match(path):
                labels = body.get("labels")
                if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
                    raise RequestError(HTTPStatus.BAD_REQUEST, "labels must be a list of strings")
                path_written = session.save(self._page_number(match), labels)
                self._send_json({"saved": True, "path": str(path_written)})
            elif path == "/api/current":
                number = body.get("number")
                if not isinstance(number, int) or not 0 <= number < len(session.pages):
                    raise RequestError(HTTPStatus.BAD_REQUEST, "no such page")
                session.set_current(number)
                self._send_json({"ok": True})
            else:
                raise RequestError(HTTPStatus.NOT_FOUND, "not found")

    def _page_number(self, match: re.Match) -> int:
        number = int(match.group(1))
        if number >= len(self.server.session.pages):
            raise RequestError(HTTPStatus.NOT_FOUND, "no such page")
        return number

    def _json_body(self) -> dict:
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            raise RequestError(HTTPStatus.BAD_REQUEST, "bad Content-Length") from None
        if length > MAX_BODY_BYTES:
            raise RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body too large")
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            raise RequestError(HTTPStatus.BAD_REQUEST, "body is not JSON") from None
        if not isinstance(body, dict):
            raise RequestError(HTTPStatus.BAD_REQUEST, "body must be a JSON object")
        return body

    def _send_json(self, data, status: HTTPStatus = HTTPStatus.OK) -> None:
        self._send(json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8", status)

    def _send(self, body: bytes, content_type: str, status: HTTPStatus = HTTPStatus.OK) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
