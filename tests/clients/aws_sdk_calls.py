#!/usr/bin/env python3
"""AWS's own clients against Signet: boto3 (PyPI) calls, unmodified, with only the endpoint
pointed at a Signet gateway — the way a team moving from Cognito would run its code.

    python3 tests/clients/aws_sdk_calls.py ENDPOINT SERVICE CALLS_JSON [ACCESS_KEY_ID SECRET [SESSION_TOKEN]]
    python3 tests/clients/aws_sdk_calls.py sign METHOD URL BODY ACCESS_KEY_ID SECRET TOKEN REGION SERVICE [declare-payload-hash]
    python3 tests/clients/aws_sdk_calls.py web-identity ENDPOINT ROLE_ARN TOKEN
    python3 tests/clients/aws_sdk_calls.py cli ENDPOINT ACCESS_KEY_ID SECRET ARG...
    python3 tests/clients/aws_sdk_calls.py operations SERVICE
    python3 tests/clients/aws_sdk_calls.py members SERVICE

SERVICE is a boto3 client name (`cognito-idp`, ...). CALLS_JSON is a list of
[operation, params] pairs, operation as boto3 names it (`sign_up`, `initiate_auth`, ...).
Each call runs in order on one client (region us-east-1), signed with ACCESS_KEY_ID and
SECRET when given (a Signet admin access key, or temporary credentials with their
SESSION_TOKEN), else with placeholders (Cognito's public actions are not signed). Prints one JSON
list, per call either {"ok": response} (response metadata dropped, dates as ISO 8601
strings) or {"error": code, "message": ..., "status": http status} for a ClientError —
botocore's own parse of the error Signet sent.

web-identity: the SDK's own web identity credential provider, configured only by the
environment a Kubernetes pod has (AWS_WEB_IDENTITY_TOKEN_FILE with TOKEN in it,
AWS_ROLE_ARN, AWS_ROLE_SESSION_NAME) plus AWS_ENDPOINT_URL_STS=ENDPOINT: a plain
`boto3.Session().client("sts").get_caller_identity()` makes the SDK call
AssumeRoleWithWebIdentity, then sign GetCallerIdentity with what it got. Prints
{"caller": {...}, "access_key_id": ...} or {"error": ...}.

cli: the AWS CLI (awscli from PyPI) run as `aws ARG... --endpoint-url ENDPOINT --region
us-east-1 --output json` with those credentials in its environment; prints {"status": its
exit code, "out": its JSON answer (or text), "err": its stderr}.

operations: every operation of SERVICE in botocore's own model, as a JSON list.

members: per operation of SERVICE, the members of its request in botocore's model.

sign: botocore's SigV4Auth (what every boto3 call signs with) signs the request with those
temporary credentials; prints {"headers": [[name, value], ...]}, every header it sent. With
declare-payload-hash the body's SHA-256 is declared in X-Amz-Content-SHA256 first (as S3
clients do), so it is signed as a header too.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pinned_venv  # noqa: E402

# A full pinned lock (CPython 3.10+ on Linux).
REQUIREMENTS = """\
awscli==1.46.3
boto3==1.44.18
botocore==1.44.18
colorama==0.4.6
docutils==0.19
jmespath==1.1.0
pyasn1==0.6.5
python-dateutil==2.9.0.post0
PyYAML==6.0.4
rsa==4.7.2
s3transfer==0.19.3
six==1.17.0
urllib3==2.8.0
"""


def plain(v):
    """A botocore answer as JSON: datetimes as ISO strings, bytes as text."""
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items() if k != "ResponseMetadata"}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return v


def sign(method, url, body, akid, secret, token, region, service, declare="") -> None:
    import hashlib

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    headers = {"Content-Type": "application/json"}
    if declare == "declare-payload-hash":
        # As S3 clients do: botocore then signs this header and uses it as the payload hash.
        headers["X-Amz-Content-SHA256"] = hashlib.sha256(body.encode()).hexdigest()
    req = AWSRequest(method=method, url=url, data=body.encode(), headers=headers)
    SigV4Auth(Credentials(akid, secret, token), service, region).add_auth(req)
    host = url.split("/")[2]
    print(json.dumps({"headers": [["host", host]] + [[k, v] for k, v in req.headers.items()]}))


def web_identity(endpoint, role_arn, token) -> None:
    import os
    import tempfile

    import boto3
    from botocore.exceptions import ClientError

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "token")
        with open(path, "w") as f:
            f.write(token)
        for k in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"]:
            os.environ.pop(k, None)
        os.environ.update({
            "AWS_WEB_IDENTITY_TOKEN_FILE": path,
            "AWS_ROLE_ARN": role_arn,
            "AWS_ROLE_SESSION_NAME": "pod-session",
            "AWS_ENDPOINT_URL_STS": endpoint,
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.path.join(d, "none"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(d, "none"),
        })
        session = boto3.Session()
        try:
            caller = session.client("sts").get_caller_identity()
            creds = session.get_credentials().get_frozen_credentials()
            print(json.dumps({"caller": plain(caller), "access_key_id": creds.access_key}))
        except ClientError as e:
            print(json.dumps({"error": e.response.get("Error", {})}))


def cli(endpoint, key, secret, args) -> None:
    import os
    import subprocess

    env = dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret)
    env.pop("AWS_PROFILE", None)
    cmd = [sys.executable, "-m", "awscli", *args, "--endpoint-url", endpoint,
           "--region", "us-east-1", "--output", "json"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    try:
        out = json.loads(r.stdout) if r.stdout.strip() else None
    except ValueError:
        out = r.stdout
    print(json.dumps({"status": r.returncode, "out": out, "err": r.stderr}))


def main() -> None:
    pinned_venv.ensure("aws-sdk-venv", REQUIREMENTS)
    if sys.argv[1] == "sign":
        sign(*sys.argv[2:11])
        return
    if sys.argv[1] == "web-identity":
        web_identity(*sys.argv[2:5])
        return
    if sys.argv[1] == "operations":
        import botocore.session

        model = botocore.session.get_session().get_service_model(sys.argv[2])
        print(json.dumps(sorted(model.operation_names)))
        return
    if sys.argv[1] == "members":
        import botocore.session

        model = botocore.session.get_session().get_service_model(sys.argv[2])
        out = {}
        for name in model.operation_names:
            shape = model.operation_model(name).input_shape
            out[name] = sorted(shape.members) if shape is not None else []
        print(json.dumps(out))
        return
    if sys.argv[1] == "cli":
        cli(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
        return
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    endpoint, service, calls = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    key, secret = (sys.argv[4], sys.argv[5]) if len(sys.argv) > 5 else ("placeholder", "placeholder")
    token = sys.argv[6] if len(sys.argv) > 6 else None
    client = boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(retries={"max_attempts": 1}),
    )
    out = []
    for operation, params in calls:
        try:
            out.append({"ok": plain(getattr(client, operation)(**params))})
        except ClientError as e:
            err = e.response.get("Error", {})
            out.append({
                "error": err.get("Code"),
                "message": err.get("Message"),
                "status": e.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
            })
    print(json.dumps(out))


if __name__ == "__main__":
    main()
