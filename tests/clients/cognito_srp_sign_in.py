#!/usr/bin/env python3
"""USER_SRP_AUTH with pycognito's AWSSRP (PyPI), the SRP client Cognito users run, against
a Signet gateway: pycognito does all of SRP (A, the verifier challenge, the password claim)
and calls what it thinks is boto3's cognito-idp client. Until Signet speaks AWS JSON 1.1,
that client is a thin adapter here: it passes pycognito's requests, unchanged, to the
gateway's gRPC UserPoolAuth (learnt through server reflection) and hands back the answers
in boto3's shape.

    python3 tests/clients/cognito_srp_sign_in.py GRPC_ADDR POOL_ID CLIENT_ID USERNAME PASSWORD [DEVICE_STATE]
    python3 tests/clients/cognito_srp_sign_in.py confirm-device GRPC_ADDR ACCESS_TOKEN DEVICE_KEY GROUP_KEY DEVICE_STATE

Prints one JSON object: {"tokens": {...AuthenticationResult...}} or {"error": "..."}.
With DEVICE_STATE, pycognito signs in as that remembered device (DEVICE_SRP_AUTH and
DEVICE_PASSWORD_VERIFIER, all its own arithmetic). confirm-device makes the device's secret
and verifier with pycognito's generate_hash_device and calls ConfirmDevice (pycognito's own
confirm_device posts AWS JSON to amazonaws.com, which Signet does not speak yet).
"""

import json
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
grpcio==1.85.3
grpcio-reflection==1.85.1
idna==3.21
jmespath==1.1.0
protobuf==7.36.2
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


class GatewayAsBoto3:
    """The two cognito-idp calls AWSSRP makes, over the gateway's gRPC."""

    def __init__(self, addr):
        import grpc
        from google.protobuf import descriptor_pool, json_format, message_factory
        from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
            ProtoReflectionDescriptorDatabase,
        )

        self._grpc, self._json = grpc, json_format
        self._channel = grpc.insecure_channel(addr)
        pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(self._channel))
        self._svc = pool.FindServiceByName("signet.v1.UserPoolAuth")
        self._factory = message_factory
        # The last challenge's Session (see respond_to_auth_challenge).
        self._session = ""

    def _call(self, method_name, request):
        method = self._svc.FindMethodByName(method_name)
        req_type = self._factory.GetMessageClass(method.input_type)
        resp_type = self._factory.GetMessageClass(method.output_type)
        call = self._channel.unary_unary(
            f"/{self._svc.full_name}/{method.name}",
            request_serializer=req_type.SerializeToString,
            response_deserializer=resp_type.FromString,
        )
        response = call(self._json.ParseDict(request, req_type()), timeout=10)
        return self._json.MessageToDict(response)

    def _boto(self, r):
        self._session = r.get("session", "")
        out = {
            "ChallengeName": r.get("challengeName", ""),
            "ChallengeParameters": r.get("challengeParameters", {}),
            "Session": r.get("session", ""),
        }
        if "authenticationResult" in r:
            a = r["authenticationResult"]
            out["AuthenticationResult"] = {
                "AccessToken": a.get("accessToken"),
                "IdToken": a.get("idToken"),
                "RefreshToken": a.get("refreshToken"),
                "ExpiresIn": a.get("expiresIn"),
                "TokenType": a.get("tokenType"),
            }
            if "newDeviceMetadata" in a:
                m = a["newDeviceMetadata"]
                out["AuthenticationResult"]["NewDeviceMetadata"] = {
                    "DeviceKey": m.get("deviceKey"),
                    "DeviceGroupKey": m.get("deviceGroupKey"),
                }
        return out

    def initiate_auth(self, AuthFlow, AuthParameters, ClientId, **_):
        return self._boto(self._call("InitiateAuth", {
            "clientId": ClientId, "authFlow": AuthFlow, "authParameters": AuthParameters,
        }))

    def respond_to_auth_challenge(self, ClientId, ChallengeName, ChallengeResponses,
                                  Session="", **_):
        # pycognito answers DEVICE_SRP_AUTH without the Session the challenge came with
        # (Amplify sends it). Signet requires it, so that a device's secret never signs in
        # without the password; the adapter passes on the one it was given.
        Session = Session or self._session
        return self._boto(self._call("RespondToAuthChallenge", {
            "clientId": ClientId, "challengeName": ChallengeName, "session": Session,
            "challengeResponses": ChallengeResponses,
        }))


    def confirm_device(self, AccessToken, DeviceKey, DeviceSecretVerifierConfig,
                       DeviceName=""):
        r = self._call("ConfirmDevice", {
            "accessToken": AccessToken, "deviceKey": DeviceKey, "deviceName": DeviceName,
            "deviceSecretVerifierConfig": {
                "passwordVerifier": DeviceSecretVerifierConfig["PasswordVerifier"],
                "salt": DeviceSecretVerifierConfig["Salt"],
            },
        })
        return {"UserConfirmationNecessary": r.get("userConfirmationNecessary", False)}


def confirm(addr, access_token, device_key, group_key, state_file):
    """pycognito's device secret and verifier (generate_hash_device), confirmed through
    the gateway; the device's key, group key and secret saved for the next sign-in."""
    from pycognito.aws_srp import generate_hash_device

    password, config = generate_hash_device(group_key, device_key)
    r = GatewayAsBoto3(addr).confirm_device(
        AccessToken=access_token, DeviceKey=device_key,
        DeviceSecretVerifierConfig=config, DeviceName="pycognito")
    Path(state_file).write_text(json.dumps(
        {"key": device_key, "group": group_key, "password": password}))
    print(json.dumps(r))


def main() -> None:
    pinned_venv.ensure("cognito-srp-venv", REQUIREMENTS)
    import grpc
    from pycognito.aws_srp import AWSSRP

    if sys.argv[1] == "confirm-device":
        try:
            confirm(*sys.argv[2:7])
        except grpc.RpcError as e:
            print(json.dumps({"error": f"{e.code().name}: {e.details()}"}))
        return
    addr, pool_id, client_id, username, password = sys.argv[1:6]
    device = {}
    if len(sys.argv) > 6:  # a device confirmed before (confirm-device's state file)
        d = json.loads(Path(sys.argv[6]).read_text())
        device = {"device_key": d["key"], "device_group_key": d["group"],
                  "device_password": d["password"]}
    srp = AWSSRP(username=username, password=password, pool_id=pool_id,
                 client_id=client_id, client=GatewayAsBoto3(addr), **device)
    try:
        tokens = srp.authenticate_user()
        print(json.dumps({"tokens": tokens.get("AuthenticationResult"),
                          "challenge": tokens.get("ChallengeName", "")}))
    except grpc.RpcError as e:
        print(json.dumps({"error": f"{e.code().name}: {e.details()}"}))
    except Exception as e:  # pycognito's challenge exceptions
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))


if __name__ == "__main__":
    main()
