#!/usr/bin/env python3
"""USER_SRP_AUTH with pycognito's AWSSRP (PyPI), the SRP client Cognito users run, against
a Signet gateway: pycognito does all of SRP (A, the verifier challenge, the password claim)
through a real boto3 cognito-idp client pointed at the gateway's AWS JSON 1.1 endpoint.

    python3 tests/clients/cognito_srp_sign_in.py ENDPOINT POOL_ID CLIENT_ID USERNAME PASSWORD [DEVICE_STATE]
    python3 tests/clients/cognito_srp_sign_in.py confirm-device ENDPOINT ACCESS_TOKEN DEVICE_KEY GROUP_KEY DEVICE_STATE

Prints one JSON object: {"tokens": {...AuthenticationResult...}} or {"error": "Code: message"}.
With DEVICE_STATE, pycognito signs in as that remembered device (DEVICE_SRP_AUTH and
DEVICE_PASSWORD_VERIFIER, all its own arithmetic). confirm-device makes the device's secret
and verifier with pycognito's generate_hash_device and calls ConfirmDevice with boto3.

One thing is added to boto3: pycognito answers DEVICE_SRP_AUTH without the Session the
challenge came with (Amplify sends it); Signet requires it, so that a device's secret never
signs in without the password. The client below passes on the last Session it was given.
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pinned_venv  # noqa: E402

# A full pinned lock (CPython 3.10+ on Linux).
REQUIREMENTS = """\
boto3==1.44.18
botocore==1.44.18
certifi==2026.10.19.post1
cffi==2.1.1
charset-normalizer==3.5.3
cryptography==51.0.1
envs==1.4
idna==3.21
jmespath==1.1.0
pycognito==2024.5.1
pycparser==3.12
PyJWT==2.15.1
python-dateutil==2.9.0.post0
requests==2.34.2
s3transfer==0.19.3
six==1.17.0
typing_extensions==4.16.0
urllib3==2.8.0
"""


class Boto3WithSession:
    """boto3's cognito-idp client at ENDPOINT, passing on the last challenge's Session."""

    def __init__(self, endpoint):
        import boto3

        # Cognito's public actions are not signed; boto3 still wants credentials to exist.
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "placeholder")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "placeholder")

        self._client = boto3.client("cognito-idp", endpoint_url=endpoint,
                                    region_name="us-east-1")
        self._session = ""

    def _keep(self, r):
        self._session = r.get("Session", "")
        return r

    def initiate_auth(self, **kw):
        return self._keep(self._client.initiate_auth(**kw))

    def respond_to_auth_challenge(self, **kw):
        session = kw.pop("Session", "") or self._session
        if session:
            kw["Session"] = session
        return self._keep(self._client.respond_to_auth_challenge(**kw))

    def confirm_device(self, **kw):
        return self._client.confirm_device(**kw)


def error_text(e):
    err = e.response.get("Error", {})
    return f"{err.get('Code')}: {err.get('Message')}"


def confirm(endpoint, access_token, device_key, group_key, state_file):
    """pycognito's device secret and verifier (generate_hash_device), confirmed through
    the gateway; the device's key, group key and secret saved for the next sign-in."""
    from pycognito.aws_srp import generate_hash_device

    password, config = generate_hash_device(group_key, device_key)
    r = Boto3WithSession(endpoint).confirm_device(
        AccessToken=access_token, DeviceKey=device_key,
        DeviceSecretVerifierConfig=config, DeviceName="pycognito")
    Path(state_file).write_text(json.dumps(
        {"key": device_key, "group": group_key, "password": password}))
    print(json.dumps({"UserConfirmationNecessary": r.get("UserConfirmationNecessary", False)}))


def main() -> None:
    pinned_venv.ensure("cognito-srp-venv", REQUIREMENTS)
    from botocore.exceptions import ClientError
    from pycognito.aws_srp import AWSSRP

    if sys.argv[1] == "confirm-device":
        try:
            confirm(*sys.argv[2:7])
        except ClientError as e:
            print(json.dumps({"error": error_text(e)}))
        return
    endpoint, pool_id, client_id, username, password = sys.argv[1:6]
    device = {}
    if len(sys.argv) > 6:  # a device confirmed before (confirm-device's state file)
        d = json.loads(Path(sys.argv[6]).read_text())
        device = {"device_key": d["key"], "device_group_key": d["group"],
                  "device_password": d["password"]}
    srp = AWSSRP(username=username, password=password, pool_id=pool_id,
                 client_id=client_id, client=Boto3WithSession(endpoint), **device)
    try:
        tokens = srp.authenticate_user()
        print(json.dumps({"tokens": tokens.get("AuthenticationResult"),
                          "challenge": tokens.get("ChallengeName", "")}))
    except ClientError as e:
        print(json.dumps({"error": error_text(e)}))
    except Exception as e:  # pycognito's challenge exceptions
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))


if __name__ == "__main__":
    main()
