#!/usr/bin/env python3
"""HTTPS (or HTTP) stand-in for the Kubernetes API server and a webhook receiver, used by
test_actuator_https.sh. Shares no code with crescendo: it checks each request's method, path,
headers and body itself, answers 200 when they are right and 400 with a Status message
otherwise, and appends one JSON line per request to a log file.

  actuator_standin.py --port-file F --log F [--cert C --key K] [--token T] [--schema S]
"""
import argparse
import json
import http.server
import ssl
import sys

K8S_PREFIX = "/apis/apps/v1/namespaces/"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--token", default="")
    ap.add_argument("--schema", default="")
    args = ap.parse_args()

    validator = None
    if args.schema:
        import jsonschema
        with open(args.schema) as f:
            schema = json.load(f)
        validator = jsonschema.Draft202012Validator(schema) \
            if "2020-12" in schema.get("$schema", "") else jsonschema.Draft7Validator(schema)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):  # quiet
            pass

        def answer(self, code, problems):
            body = json.dumps({"kind": "Status", "code": code,
                               "message": "; ".join(problems) or "ok"}).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def handle_any(self):
            n = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(n)
            problems = []
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
                problems.append("body is not JSON")
            auth = self.headers.get("Authorization", "")
            if args.token and auth != "Bearer " + args.token:
                problems.append("bad Authorization: %r" % auth)
            ctype = self.headers.get("Content-Type", "")
            if self.path.startswith(K8S_PREFIX):
                parts = self.path[len(K8S_PREFIX):].split("/")
                if self.command != "PATCH":
                    problems.append("method %s, want PATCH" % self.command)
                if len(parts) != 4 or parts[1] not in ("deployments", "statefulsets") \
                        or parts[3] != "scale":
                    problems.append("path %s is not a scale subresource" % self.path)
                if ctype != "application/merge-patch+json":
                    problems.append("Content-Type %s" % ctype)
                if not (isinstance(body, dict) and list(body) == ["spec"]
                        and isinstance(body["spec"], dict) and list(body["spec"]) == ["replicas"]
                        and isinstance(body["spec"]["replicas"], int)):
                    problems.append("body %r is not {spec:{replicas:N}}" % (body,))
                kind = "k8s"
            else:
                if self.command != "POST":
                    problems.append("method %s, want POST" % self.command)
                if ctype != "application/json":
                    problems.append("Content-Type %s" % ctype)
                if validator is not None and body is not None:
                    for e in validator.iter_errors(body):
                        problems.append("schema: %s at %s" % (e.message, list(e.path)))
                kind = "webhook"
            with open(args.log, "a") as f:
                f.write(json.dumps({"kind": kind, "method": self.command, "path": self.path,
                                    "auth": auth, "content_type": ctype, "body": body,
                                    "problems": problems}) + "\n")
            self.answer(400 if problems else 200, problems)

        do_PATCH = handle_any
        do_POST = handle_any
        do_PUT = handle_any

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
