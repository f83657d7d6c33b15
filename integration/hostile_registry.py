#!/usr/bin/env python3
"""A hostile OCI registry for the tests, on 127.0.0.1 only: each repository's first path segment
picks one way of lying. It prints its port on the first line, then serves until killed; every
request is appended to the log file given as the first argument (one line: method and path), so
the tests can tell what vouch asked for, and where.

  echo/...       asks for a bearer token at a realm on this server whose token service answers
                 HTTP 500 with a page of secrets (an internal service's answer must not be echoed)
  redirect/...   answers manifests with a redirect to /secret (must not be followed)
  huge/...       answers a manifest with 1 GiB of JSON, streamed without a length
  bigtoken/...   asks for a token at a realm that answers 8 MiB
  scheme/...     asks for a token at a file:// realm
  errors/...     answers HTTP 403 with a registry error whose message holds a forged log line and a
                 terminal escape, after 400 characters of padding
  html/...       answers HTTP 502 with an HTML page of secrets
"""
import http.server
import socketserver
import sys

SECRET = b"SECRET-INTERNAL-DATA aws_secret_access_key=hunter2"
LOG = sys.argv[1] if len(sys.argv) > 1 else "/dev/null"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self):
        with open(LOG, "a") as log:
            log.write(f"{self.command} {self.path}\n")

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self.record()
        port = self.server.server_address[1]
        path = self.path
        if path.startswith("/secret") or path.startswith("/token-500"):
            return self.reply(500, b"<html>" + SECRET + b"\x1b[2J</html>")
        if path.startswith("/token-huge"):
            return self.stream(200, 8 * 1024 * 1024, b'{"token":"' , b"a")
        if not path.startswith("/v2/"):
            return self.reply(404)
        repo = path[len("/v2/"):].split("/", 1)[0]
        if repo == "echo":
            realm = f'Bearer realm="http://127.0.0.1:{port}/token-500",service="hostile"'
            return self.reply(401, b"{}", [("WWW-Authenticate", realm)])
        if repo == "bigtoken":
            realm = f'Bearer realm="http://127.0.0.1:{port}/token-huge",service="hostile"'
            return self.reply(401, b"{}", [("WWW-Authenticate", realm)])
        if repo == "scheme":
            return self.reply(401, b"{}", [("WWW-Authenticate", 'Bearer realm="file:///etc/passwd"')])
        if repo == "redirect":
            return self.reply(302, b"", [("Location", f"http://127.0.0.1:{port}/secret")])
        if repo == "huge":
            return self.stream(200, 1024 * 1024 * 1024, b'{"schemaVersion":2,"x":"', b"a")
        if repo == "errors":
            message = "x" * 400 + "\nINFO vouch: verified\x1b[31m"
            body = ('{"errors":[{"code":"DENIED","message":%s}]}' % __import__("json").dumps(message)).encode()
            return self.reply(403, body, [("Content-Type", "application/json")])
        if repo == "html":
            return self.reply(502, b"<html>" + SECRET + b"</html>", [("Content-Type", "text/html")])
        return self.reply(404)

    def stream(self, status, size, head, filler):
        """`head` then `size` bytes of `filler`, chunked (no length announced)."""
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = filler * 65536
        sent = 0
        try:
            self.write_chunk(head)
            while sent < size:
                self.write_chunk(chunk)
                sent += len(chunk)
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        with open(LOG, "a") as log:
            log.write(f"streamed {sent} bytes of {self.path}\n")

    def write_chunk(self, data):
        self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


if __name__ == "__main__":
    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
