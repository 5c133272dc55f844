#!/usr/bin/python3
"""An HTTPS server for PvD additional information in tests, on [BIND]:443 with
CERT/KEY. The document it serves depends on the Host header's first label:
good (valid), wrongid (another identifier), uncovered (prefixes that do not
cover 2001:db8:1::/64), expired (expires in 2020), missing (404). Logs the
client address and host of every request.

usage: pvd_info_server.py BIND CERT KEY
"""
import http.server
import json
import socket
import ssl
import sys
import time

bind, cert, key = sys.argv[1:4]
soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        print(f"request {host} {self.path} from {self.client_address[0]}", flush=True)
        kind = host.split(".")[0]
        document = {"identifier": host, "expires": soon, "prefixes": ["2001:db8:1::/48"], "noInternet": False}
        if kind == "wrongid":
            document["identifier"] = "other.example.com"
        elif kind == "uncovered":
            document["prefixes"] = ["2001:db8:99::/48"]
        elif kind == "expired":
            document["expires"] = "2020-01-01T00:00:00Z"
        if kind == "missing" or self.path != "/.well-known/pvd":
            self.send_error(404)
            return
        body = json.dumps(document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/pvd+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.HTTPServer):
    address_family = socket.AF_INET6


server = Server((bind, 443), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
print(f"listening on [{bind}]:443", flush=True)
server.serve_forever()
