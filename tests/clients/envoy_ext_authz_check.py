#!/usr/bin/env python3
"""Envoy's ext_authz call, made with the stubs generated from Envoy's published protos
(the `xds-protos` package on PyPI, which the gRPC project builds from
envoyproxy/data-plane-api): what Envoy's ext_authz filter sends an external authorizer,
without an Envoy binary.

    python3 tests/clients/envoy_ext_authz_check.py HOST:PORT CASES_JSON

CASES_JSON is a list of {"method": ..., "path": ..., "headers": {name: value}, "body": text
(optional: sent as Envoy's `with_request_body` sends it)}; a `host` header is sent as
Envoy does, as `:authority` and the request's host. Prints one
JSON list, one object per case: {"status": gRPC code of the CheckResponse's status,
"allowed": bool, "http_status": the denied response's HTTP status (0 when allowed),
"headers": {name: value} of the ok or denied response, "headers_to_remove": [...]}.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pinned_venv  # noqa: E402

# A full pinned lock (CPython 3.10+ on Linux).
REQUIREMENTS = """\
grpcio==1.85.4
protobuf==7.36.2
typing_extensions==4.16.0
xds-protos==1.85.0
"""


def main() -> None:
    pinned_venv.ensure("envoy-ext-authz-venv", REQUIREMENTS)
    import grpc
    from envoy.service.auth.v3 import external_auth_pb2, external_auth_pb2_grpc

    addr, cases = sys.argv[1], json.loads(sys.argv[2])
    out = []
    with grpc.insecure_channel(addr) as channel:
        stub = external_auth_pb2_grpc.AuthorizationStub(channel)
        for case in cases:
            req = external_auth_pb2.CheckRequest()
            http = req.attributes.request.http
            http.method = case["method"]
            http.path = case["path"]
            http.host = "api.example"
            http.scheme = "https"
            for k, v in case.get("headers", {}).items():
                if k.lower() == "host":
                    http.host = v
                    http.headers[":authority"] = v
                else:
                    http.headers[k.lower()] = v
            if "body" in case:
                http.body = case["body"]
                http.size = len(case["body"].encode())
            resp = stub.Check(req, timeout=10)
            which = resp.WhichOneof("http_response")
            if which == "ok_response":
                options = resp.ok_response.headers
                removed = list(resp.ok_response.headers_to_remove)
                http_status = 0
            else:
                options = resp.denied_response.headers
                removed = []
                http_status = resp.denied_response.status.code
            out.append(
                {
                    "status": resp.status.code,
                    "allowed": which == "ok_response",
                    "http_status": http_status,
                    "headers": {o.header.key: o.header.value for o in options},
                    "overwrite": all(
                        o.append_action == o.OVERWRITE_IF_EXISTS_OR_ADD for o in options
                    ),
                    "headers_to_remove": removed,
                }
            )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
