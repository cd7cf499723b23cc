"""A small in-memory HTTP server on 127.0.0.1 speaking enough of the Hugging Face Hub API for
``HfApi.create_repo``, ``upload_folder`` (preupload + NDJSON commit, regular uploads) and
downloads (repo info, tree listing, HEAD/GET on resolve URLs with the etag headers)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse

import yaml


class FakeHub:
    def __init__(self) -> None:
        self.repos: dict[str, dict[str, bytes]] = {}
        self.sha: dict[str, str] = {}
        self.auth: list[str | None] = []
        self.requests: list[str] = []
        self.cards: list[str] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, code: int, body: bytes = b"", ctype: str = "application/json", headers=None,
                      head: bool = False):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def _json(self, code: int, obj) -> None:
                self._send(code, json.dumps(obj).encode())

            def _body(self) -> bytes:
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def do_POST(self):
                hub.auth.append(self.headers.get("Authorization"))
                path = urlparse(self.path).path
                hub.requests.append(f"POST {path}")
                body = self._body()
                if path == "/api/repos/create":
                    d = json.loads(body)
                    rid = f"{d['organization']}/{d['name']}" if d.get("organization") else d["name"]
                    exists = rid in hub.repos
                    hub.repos.setdefault(rid, {})
                    hub.sha.setdefault(rid, "0" * 40)
                    if exists:
                        return self._json(409, {"error": "You already created this model repo",
                                                "url": f"http://{self.headers['Host']}/{rid}"})
                    return self._json(200, {"url": f"http://{self.headers['Host']}/{rid}", "name": rid, "id": rid})
                if path == "/api/validate-yaml":  # the card's metadata block must parse as a YAML mapping
                    content = json.loads(body)["content"]
                    try:
                        ok = isinstance(yaml.safe_load(content.split("---")[1]), dict)
                    except (IndexError, yaml.YAMLError):
                        ok = False
                    hub.cards.append(content)
                    return self._json(200 if ok else 400, {"errors": [] if ok else [{"message": "bad YAML"}],
                                                           "warnings": []})
                m = re.fullmatch(r"/api/models/(.+?)/(preupload|commit)/([^/]+)", path)
                if not m or m.group(1) not in hub.repos:
                    return self._json(404, {"error": "Repository not found"})
                rid = m.group(1)
                if m.group(2) == "preupload":
                    files = json.loads(body)["files"]
                    return self._json(200, {"files": [{"path": f["path"], "uploadMode": "regular",
                                                       "shouldIgnore": False, "oid": None} for f in files]})
                for line in body.decode().splitlines():
                    item = json.loads(line)
                    if item["key"] == "file":
                        hub.repos[rid][item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                    elif item["key"] != "header":
                        return self._json(400, {"error": f"unsupported operation {item['key']}"})
                sha = hashlib.sha1(json.dumps(sorted((k, hashlib.sha1(v).hexdigest())
                                                     for k, v in hub.repos[rid].items())).encode()).hexdigest()
                hub.sha[rid] = sha
                host = self.headers["Host"]
                return self._json(200, {"commitUrl": f"http://{host}/{rid}/commit/{sha}", "commitOid": sha,
                                        "success": True, "pullRequestUrl": None})

            def _get(self, head: bool):
                hub.auth.append(self.headers.get("Authorization"))
                path = unquote(urlparse(self.path).path)
                hub.requests.append(f"{'HEAD' if head else 'GET'} {path}")
                m = re.fullmatch(r"/api/models/([^/]+/[^/]+)(?:/revision/[^/]+)?", path)
                if m:
                    rid = m.group(1)
                    if rid not in hub.repos:
                        return self._json(404, {"error": "Repository not found"})
                    return self._json(200, {"id": rid, "modelId": rid, "sha": hub.sha[rid], "private": False,
                                            "siblings": [{"rfilename": p} for p in sorted(hub.repos[rid])],
                                            "tags": [], "downloads": 0, "likes": 0})
                m = re.fullmatch(r"/api/models/([^/]+/[^/]+)/tree/([^/]+)(/.*)?", path)
                if m:
                    rid = m.group(1)
                    if rid not in hub.repos:
                        return self._json(404, {"error": "Repository not found"})
                    entries = [{"type": "file", "path": p, "size": len(b), "oid": _git_oid(b)}
                               for p, b in sorted(hub.repos[rid].items())]
                    return self._json(200, entries)
                m = re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
                if m:
                    rid, _rev, f = m.groups()
                    data = hub.repos.get(rid, {}).get(f)
                    if data is None:
                        return self._send(404, b'{"error": "Entry not found"}',
                                          headers={"X-Error-Code": "EntryNotFound"}, head=head)
                    return self._send(200, data, "application/octet-stream", head=head, headers={
                        "X-Repo-Commit": hub.sha[rid], "ETag": f'"{_git_oid(data)}"'})
                return self._json(404, {"error": f"not implemented: {path}"})

            def do_GET(self):
                self._get(head=False)

            def do_HEAD(self):
                self._get(head=True)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def _git_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
