#!/usr/bin/env python3
"""A gRPC client that knows nothing of Signet's .proto files: it discovers a server's
services through gRPC server reflection (grpcio-reflection asks v1alpha), builds the
request type from the descriptors it was sent, and calls one method.

    python3 tests/clients/grpc_reflection_call.py HOST:PORT SERVICE METHOD REQUEST_JSON [BEARER]

Prints one JSON object: {"services": [...], "methods": [...], "response": {...}} or, when
the call fails, {"services": ..., "methods": ..., "error": {"code": ..., "details": ...}}.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pinned_venv  # noqa: E402

# A full pinned lock (CPython 3.10+ on Linux).
REQUIREMENTS = """\
grpcio==1.85.3
grpcio-reflection==1.85.1
protobuf==7.36.2
typing_extensions==4.16.0
"""


def main() -> None:
    pinned_venv.ensure("grpc-client-venv", REQUIREMENTS)
    import grpc
    from google.protobuf import descriptor_pool, json_format, message_factory
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
        ProtoReflectionDescriptorDatabase,
    )

    addr, service, method_name, request_json = sys.argv[1:5]
    bearer = sys.argv[5] if len(sys.argv) > 5 else None
    with grpc.insecure_channel(addr) as channel:
        db = ProtoReflectionDescriptorDatabase(channel)
        services = sorted(db.get_services())
        pool = descriptor_pool.DescriptorPool(db)
        svc = pool.FindServiceByName(service)
        method = svc.FindMethodByName(method_name)
        request_type = message_factory.GetMessageClass(method.input_type)
        response_type = message_factory.GetMessageClass(method.output_type)
        request = json_format.Parse(request_json, request_type())
        call = channel.unary_unary(
            f"/{svc.full_name}/{method.name}",
            request_serializer=request_type.SerializeToString,
            response_deserializer=response_type.FromString,
        )
        metadata = [("authorization", f"Bearer {bearer}")] if bearer else []
        out = {"services": services, "methods": sorted(m.name for m in svc.methods)}
        try:
            response = call(request, metadata=metadata, timeout=10)
            out["response"] = json_format.MessageToDict(response)
        except grpc.RpcError as e:
            out["error"] = {"code": e.code().name, "details": e.details()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
