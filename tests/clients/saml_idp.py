#!/usr/bin/env python3
"""A real SAML 2.0 Identity Provider for Signet's SAML federation tests: pysaml2's IdP
(saml2.server.Server, PyPI) behind a small stdlib HTTP server, with a login page a browser
fills in and the HTTP-POST binding back to the Service Provider.

    python3 tests/clients/saml_idp.py serve --user NAME:PASSWORD:EMAIL [--user ...]
        [--sign assertion|response|both] [--port 0] [--local-base PUBLIC_BASE=LOCAL_BASE]
    python3 tests/clients/saml_idp.py selftest [--save DIR]

serve: makes a 2048-bit RSA key and a self-signed certificate for this run (in a temporary
directory removed at exit), listens on 127.0.0.1 (--port 0: a port the system picks) and
prints one JSON line once it serves:

    {"base": "http://127.0.0.1:PORT", "metadata_url": "http://127.0.0.1:PORT/metadata",
     "entity_id": "http://127.0.0.1:PORT/metadata",
     "sso_url": "http://127.0.0.1:PORT/sso/redirect"}

It ends on SIGTERM / SIGINT or when its standard input reaches EOF (the test that started it
holds a pipe open; give it no /dev/null). Each request answered is logged on stderr as
`saml_idp.py: METHOD PATH -> STATUS`, and why a request was refused as `saml_idp.py: ...`.

    GET  /metadata      the IdP's metadata (application/samlmetadata+xml): one signing
                        KeyDescriptor, SingleSignOnService HTTP-Redirect at /sso/redirect.
    GET  /sso/redirect  ?SAMLRequest=...&RelayState=... (HTTP-Redirect binding, unsigned
                        request). The SP is learnt from the request: its metadata is fetched
                        from the AssertionConsumerServiceURL with `/saml2/idpresponse`
                        replaced by `/saml2/metadata` (once per SP entity ID), and the ACS
                        must be one of that metadata's. A request pysaml2 refuses is answered
                        400 with the reason. Otherwise: the login page, a form posting to
                        /sso/login with inputs #username, #password, the button #idp-submit
                        and a hidden `pending` field naming the request kept here.
    POST /sso/login     a wrong username or password shows the form again (200, "Wrong
                        username or password"); a right one answers a page whose form
                        #saml-post (method post, action = the ACS) carries SAMLResponse
                        (base64 Response XML) and RelayState (as received), with a button
                        #saml-continue and a script that submits it on load.

SP metadata is only fetched from this machine (loopback addresses); --local-base maps a
public base (e.g. http://signet.test) to where it is reached here, for that fetch only:
the Response still names the public ACS.

The Response (pysaml2's): samlp:Response (Destination = ACS, InResponseTo), saml:Issuer =
this entity ID, Status Success, one saml:Assertion with a persistent NameID whose value is
the user's NAME, bearer SubjectConfirmationData (Recipient = ACS, NotOnOrAfter,
InResponseTo), Conditions with AudienceRestriction = the SP entity ID, an AuthnStatement
(class Password) and an AttributeStatement with NameFormat basic attributes:
    email  = [EMAIL]    name = [NAME]    groups = ["staff"]
Conditions run from the IssueInstant (no allowance for skew) for 5 minutes. Signatures (per
--sign, default assertion): rsa-sha256, sha256 digests, exclusive c14n, enveloped, the
certificate in KeyInfo, made by the xmlsec1 binary (Debian: xmlsec1). The key is new each
run: read it from the metadata. A pending sign-in is used once.

selftest: runs the IdP in-process and plays a pysaml2 SP (saml2.client.Saml2Client) whose
metadata, shaped like Signet's, it serves itself at <base>/saml2/metadata: pysaml2's
AuthnRequest and a hand-made one shaped like Signet's go through /sso/redirect and
/sso/login, and the SP verifies each Response (each --sign mode); an SP known by a public
base is refused, then served once mapped as --local-base does. Prints {"ok": true, ...}.
--save DIR writes response-assertion.xml, response-response.xml, response-both.xml and
idp-cert.pem there.
"""

import argparse
import base64
import datetime
import html
import ipaddress
import json
import logging
import re
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pinned_venv  # noqa: E402

from saml_requirements import REQUIREMENTS, VENV  # noqa: E402

if __name__ == "__main__":
    pinned_venv.ensure(VENV, REQUIREMENTS)

import warnings  # noqa: E402

# pysaml2 imports a cipher mode that this cryptography has moved (a warning, nothing more).
warnings.filterwarnings("ignore", message="CFB has been moved")

import requests  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT  # noqa: E402
from saml2.attribute_converter import AttributeConverter  # noqa: E402
from saml2.client import Saml2Client  # noqa: E402
from saml2.config import IdPConfig, SPConfig  # noqa: E402
from saml2.metadata import create_metadata_string  # noqa: E402
from saml2.saml import AUTHN_PASSWORD, NAME_FORMAT_BASIC, NAMEID_FORMAT_PERSISTENT  # noqa: E402
from saml2.saml import NameID  # noqa: E402
from saml2.server import Server  # noqa: E402
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256  # noqa: E402

ACS_SUFFIX = "/saml2/idpresponse"
SP_METADATA_SUFFIX = "/saml2/metadata"
SIGN_MODES = ("assertion", "response", "both")
ATTRIBUTES = ("email", "name", "groups")
PREFIX = "saml_idp.py: "


def log(message: str) -> None:
    print(PREFIX + message, file=sys.stderr, flush=True)


# --- keys ---------------------------------------------------------------------------


def write_signing_pair(directory: Path, common_name: str = "Signet test IdP") -> tuple:
    """A 2048-bit RSA key and a self-signed certificate for it (a year), as key.pem and
    cert.pem in `directory`; returns their paths."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / "key.pem", directory / "cert.pem"
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def xmlsec_binary() -> str:
    found = shutil.which("xmlsec1")
    if not found:
        sys.exit("saml_idp.py needs the xmlsec1 binary (Debian: apt-get install xmlsec1)")
    return found


def plain_attribute_names() -> list:
    """Attribute converters that keep our names as they are, NameFormat basic."""
    conv = AttributeConverter(NAME_FORMAT_BASIC)
    conv.from_dict({"identifier": NAME_FORMAT_BASIC,
                    "to": {a: a for a in ATTRIBUTES},
                    "fro": {a: a for a in ATTRIBUTES}})
    return [conv]


# --- the IdP -------------------------------------------------------------------------


@dataclass
class User:
    name: str
    password: str
    email: str

    @staticmethod
    def parse(spec: str) -> "User":
        """NAME:PASSWORD:EMAIL (the password may hold colons)."""
        name, sep, rest = spec.partition(":")
        password, sep2, email = rest.rpartition(":")
        if not (sep and sep2 and name and email):
            raise argparse.ArgumentTypeError(f"--user wants NAME:PASSWORD:EMAIL, not {spec!r}")
        return User(name, password, email)


@dataclass
class Pending:
    """An AuthnRequest received, waiting for its user's password."""
    request_id: str
    sp_entity_id: str
    acs: str
    relay_state: object  # str or None


class BadRequest(Exception):
    pass


class IdentityProvider:
    """pysaml2's Server for one base URL, learning SPs from their requests."""

    def __init__(self, base: str, key_file: Path, cert_file: Path, users: list,
                 sign: str = "assertion", local_bases: dict = None):
        self.base = base
        self.entity_id = base + "/metadata"
        self.sso_url = base + "/sso/redirect"
        self.users = {u.name: u for u in users}
        self.sign = sign
        self.local_bases = local_bases or {}
        self.server = Server(config=self._config(key_file, cert_file))
        self.metadata = create_metadata_string(None, config=self.server.config).decode()
        self.known_sps = set()
        self.pending = {}
        self.lock = threading.Lock()  # pysaml2's Server is not thread-safe

    def _config(self, key_file: Path, cert_file: Path) -> IdPConfig:
        conf = IdPConfig()
        conf.load({
            "entityid": self.entity_id,
            "xmlsec_binary": xmlsec_binary(),
            "key_file": str(key_file),
            "cert_file": str(cert_file),
            "metadata_key_usage": "signing",
            "signing_algorithm": SIG_RSA_SHA256,
            "digest_algorithm": DIGEST_SHA256,
            "accepted_time_diff": 60,
            "metadata": {},
            "service": {"idp": {
                "name": "Signet test IdP",
                "endpoints": {"single_sign_on_service": [(self.sso_url, BINDING_HTTP_REDIRECT)]},
                "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                "want_authn_requests_signed": False,
                "policy": {"default": {
                    "lifetime": {"minutes": 5},
                    "attribute_restrictions": None,
                    "name_form": NAME_FORMAT_BASIC,
                }},
            }},
        })
        conf.attribute_converters = plain_attribute_names()
        return conf

    def describe(self) -> dict:
        return {"base": self.base, "metadata_url": self.entity_id,
                "entity_id": self.entity_id, "sso_url": self.sso_url}

    # The SP, learnt from its request.

    def sp_metadata_url(self, acs: str) -> str:
        if not acs or not acs.endswith(ACS_SUFFIX):
            raise BadRequest(f"AssertionConsumerServiceURL {acs!r} does not end with {ACS_SUFFIX}")
        url = acs[: -len(ACS_SUFFIX)] + SP_METADATA_SUFFIX
        for public, local in self.local_bases.items():
            if url.startswith(public + "/"):
                url = local + url[len(public):]
        host = urlsplit(url).hostname or ""
        if host != "localhost" and not _is_loopback(host):
            raise BadRequest(f"SP metadata {url} is not on this machine (see --local-base)")
        return url

    def learn_sp(self, sp_entity_id: str, acs: str) -> None:
        if sp_entity_id in self.known_sps:
            return
        url = self.sp_metadata_url(acs)
        try:
            got = requests.get(url, timeout=10)
        except requests.RequestException as e:
            raise BadRequest(f"SP metadata {url}: {e}")
        if got.status_code != 200:
            raise BadRequest(f"SP metadata {url}: HTTP {got.status_code}")
        self.server.metadata.load("inline", got.text)
        if not self.server.metadata.assertion_consumer_service(sp_entity_id, BINDING_HTTP_POST):
            raise BadRequest(f"SP metadata {url} has no HTTP-POST ACS for {sp_entity_id}")
        self.known_sps.add(sp_entity_id)

    def acs_known(self, sp_entity_id: str, acs: str) -> bool:
        # (pysaml2's Server.verify_assertion_consumer_service trips on its own metadata dicts)
        services = self.server.metadata.assertion_consumer_service(sp_entity_id, BINDING_HTTP_POST)
        return any(s.get("location") == acs for s in services)

    # The protocol.

    def begin(self, saml_request: str, relay_state) -> str:
        """Parse an HTTP-Redirect AuthnRequest; returns the id of the pending sign-in."""
        with self.lock:
            try:
                parsed = self.server.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT)
            except Exception as e:  # pysaml2 raises many kinds
                raise BadRequest(f"AuthnRequest refused: {type(e).__name__}: {e}")
            if parsed is None:
                raise BadRequest("AuthnRequest refused")
            req = parsed.message
            if req.issuer is None or not req.issuer.text:
                raise BadRequest("AuthnRequest has no Issuer")
            if req.protocol_binding not in (None, BINDING_HTTP_POST):
                raise BadRequest(f"ProtocolBinding {req.protocol_binding} is not HTTP-POST")
            sp_entity_id = req.issuer.text.strip()
            acs = req.assertion_consumer_service_url
            self.learn_sp(sp_entity_id, acs)
            if not self.acs_known(sp_entity_id, acs):
                raise BadRequest(f"AssertionConsumerServiceURL {acs} is not one in the "
                                 f"metadata of {sp_entity_id}")
            token = secrets.token_urlsafe(16)
            self.pending[token] = Pending(req.id, sp_entity_id, acs, relay_state)
            return token

    def finish(self, token: str, username: str, password: str):
        """(the pending sign-in, its signed Response in base64), or None for a wrong login."""
        with self.lock:
            pending = self.pending.get(token)
            if pending is None:
                raise BadRequest("no such pending sign-in (already used, or never begun)")
            user = self.users.get(username)
            if user is None or not secrets.compare_digest(user.password.encode(),
                                                          password.encode()):
                return None
            del self.pending[token]
            response = self.server.create_authn_response(
                identity={"email": [user.email], "name": [user.name], "groups": ["staff"]},
                in_response_to=pending.request_id,
                destination=pending.acs,
                sp_entity_id=pending.sp_entity_id,
                name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=user.name),
                authn={"class_ref": AUTHN_PASSWORD, "authn_auth": self.entity_id},
                sign_assertion=self.sign in ("assertion", "both"),
                sign_response=self.sign in ("response", "both"),
                sign_alg=SIG_RSA_SHA256,
                digest_alg=DIGEST_SHA256,
            )
            xml = str(response).encode()
            return pending, base64.b64encode(xml).decode()


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- pages ---------------------------------------------------------------------------


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'


def login_page(token: str, error: bool = False) -> str:
    err = '<p id="idp-error" role="alert">Wrong username or password</p>\n' if error else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - Signet test IdP</title></head>
<body>
<h1>Signet test IdP</h1>
{err}<form method="post" action="/sso/login">
{_hidden("pending", token)}
<p><label for="username">Username</label>
  <input id="username" name="username" autocomplete="username"></p>
<p><label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password"></p>
<p><button type="submit" id="idp-submit">Sign in</button></p>
</form>
</body></html>
"""


def post_page(acs: str, saml_response: str, relay_state) -> str:
    relay = _hidden("RelayState", relay_state) if relay_state is not None else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signing in - Signet test IdP</title></head>
<body>
<form method="post" action="{html.escape(acs)}" id="saml-post">
{_hidden("SAMLResponse", saml_response)}
{relay}
<button type="submit" id="saml-continue">Continue</button>
</form>
<script>document.getElementById("saml-post").submit();</script>
</body></html>
"""


# --- HTTP ----------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    server_version = "SignetTestIdP/1"

    @property
    def idp(self) -> IdentityProvider:
        return self.server.idp

    def log_request(self, code="-", size="-"):
        log(f"{self.command} {urlsplit(self.path).path} -> {code}")

    def log_message(self, fmt, *args):
        pass  # log_request and refusals say what matters

    def send(self, status: int, body: str, content_type: str = "text/html; charset=utf-8"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def refuse(self, status: int, reason: str):
        log(f"{self.command} {urlsplit(self.path).path}: {reason}")
        self.send(status, reason + "\n", "text/plain; charset=utf-8")

    def do_GET(self):
        self.guarded(self.get)

    def do_POST(self):
        self.guarded(self.post)

    def guarded(self, handle):
        try:
            handle()
        except Exception as e:  # say what broke rather than drop the connection
            self.refuse(500, f"{type(e).__name__}: {e}")

    def get(self):
        split = urlsplit(self.path)
        if split.path == "/metadata":
            self.send(200, self.idp.metadata, "application/samlmetadata+xml")
        elif split.path == "/sso/redirect":
            query = parse_qs(split.query, keep_blank_values=True)
            if len(query.get("SAMLRequest", [])) != 1:
                return self.refuse(400, "SAMLRequest missing (one is needed)")
            relay = query.get("RelayState", [None])[0]
            try:
                token = self.idp.begin(query["SAMLRequest"][0], relay)
            except BadRequest as e:
                return self.refuse(400, str(e))
            self.send(200, login_page(token))
        else:
            self.refuse(404, "not found")

    def post(self):
        if urlsplit(self.path).path != "/sso/login":
            return self.refuse(404, "not found")
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
        token, username, password = (form.get(name, [""])[0]
                                     for name in ("pending", "username", "password"))
        try:
            done = self.idp.finish(token, username, password)
        except BadRequest as e:
            return self.refuse(400, str(e))
        if done is None:
            return self.send(200, login_page(token, error=True))
        pending, saml_response = done
        self.send(200, post_page(pending.acs, saml_response, pending.relay_state))


def start(users: list, sign: str, key_file: Path, cert_file: Path, port: int = 0,
          local_bases: dict = None) -> ThreadingHTTPServer:
    """Bind 127.0.0.1:port, make the IdP for that base and serve in a daemon thread."""
    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    httpd.daemon_threads = True
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.idp = IdentityProvider(base, key_file, cert_file, users, sign, local_bases)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def serve(args) -> None:
    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with tempfile.TemporaryDirectory(prefix="saml-idp-") as tmp:
        key, cert = write_signing_pair(Path(tmp))
        httpd = start(args.user, args.sign, key, cert, args.port, dict(args.local_base))
        print(json.dumps(httpd.idp.describe()), flush=True)
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            httpd.shutdown()
            httpd.server_close()


# --- the self-test: a pysaml2 SP -----------------------------------------------------

SELFTEST_POOL = "us-east-1_selftest"

SP_METADATA = """<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity_id}">
  <md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true"
      protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:AssertionConsumerService index="0" isDefault="true"
        Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{acs}"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
"""


@dataclass
class SignIn:
    """What the browser carried back to the ACS."""
    request_id: str
    acs: str
    saml_response: str  # base64
    relay_state: object


class TestSp:
    """A pysaml2 SP shaped like Signet's (entity ID urn:signet:sp:<pool>, ACS and metadata
    under <base>/<pool>/saml2/), its metadata served from a tiny local server. With
    `public_base`, its URLs name that base instead of the local server's (as Signet's tests
    do with their public URL): the IdP then needs --local-base PUBLIC=self.local_base."""

    def __init__(self, idp_metadata_url: str, pool: str = SELFTEST_POOL, public_base: str = ""):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._metadata_handler())
        self.httpd.daemon_threads = True
        self.local_base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        issuer = f"{public_base or self.local_base}/{pool}"
        self.entity_id = f"urn:signet:sp:{pool}"
        self.acs = issuer + ACS_SUFFIX
        self.metadata_path = f"/{pool}{SP_METADATA_SUFFIX}"
        self.metadata = SP_METADATA.format(entity_id=html.escape(self.entity_id),
                                           acs=html.escape(self.acs))
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        idp_metadata = requests.get(idp_metadata_url, timeout=10).text
        self.client = Saml2Client(config=self._config(idp_metadata))

    def _metadata_handler(self):
        sp = self

        class MetadataHandler(BaseHTTPRequestHandler):
            def do_GET(self):
                found = urlsplit(self.path).path == sp.metadata_path
                body = (sp.metadata if found else "not found").encode()
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/samlmetadata+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, fmt, *args):
                pass

        return MetadataHandler

    def _config(self, idp_metadata: str) -> SPConfig:
        conf = SPConfig()
        conf.load({
            "entityid": self.entity_id,
            "xmlsec_binary": xmlsec_binary(),
            "accepted_time_diff": 60,
            "metadata": {"inline": [idp_metadata]},
            "service": {"sp": {
                "endpoints": {"assertion_consumer_service": [(self.acs, BINDING_HTTP_POST)]},
                "authn_requests_signed": False,
                "want_assertions_signed": False,
                "want_response_signed": False,
                "want_assertions_or_response_signed": True,
                "allow_unsolicited": False,
            }},
        })
        conf.attribute_converters = plain_attribute_names()
        return conf

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    # Requests.

    def pysaml2_request(self, idp_entity_id: str, relay_state: str) -> tuple:
        """pysaml2's AuthnRequest: (request id, the SSO URL with SAMLRequest & RelayState)."""
        req_id, info = self.client.prepare_for_authenticate(
            entityid=idp_entity_id, relay_state=relay_state, binding=BINDING_HTTP_REDIRECT)
        return req_id, dict(info["headers"])["Location"]

    def signet_like_request(self, sso_url: str, relay_state: str) -> tuple:
        """An AuthnRequest made by hand the way Signet makes it (unsigned, raw deflate)."""
        req_id = "_" + secrets.token_hex(16)
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        xml = (
            '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
            'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
            f'ID="{req_id}" Version="2.0" IssueInstant="{now}" '
            f'Destination="{html.escape(sso_url)}" '
            f'AssertionConsumerServiceURL="{html.escape(self.acs)}" '
            f'ProtocolBinding="{BINDING_HTTP_POST}">'
            f"<saml:Issuer>{html.escape(self.entity_id)}</saml:Issuer>"
            '<samlp:NameIDPolicy AllowCreate="true"/>'
            "</samlp:AuthnRequest>"
        )
        deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
        raw = deflate.compress(xml.encode()) + deflate.flush()
        saml_request = base64.b64encode(raw).decode()
        query = urlencode({"SAMLRequest": saml_request, "RelayState": relay_state})
        return req_id, f"{sso_url}?{query}"

    # The browser.

    def sign_in(self, request: tuple, username: str, password: str,
                check_wrong: bool = True) -> SignIn:
        """Go through the IdP's pages for `request` (from the two methods above)."""
        req_id, url = request
        browser = requests.Session()
        page = browser.get(url, timeout=30)
        assert page.status_code == 200, (page.status_code, page.text)
        for needed in ('id="username"', 'id="password"', 'id="idp-submit"'):
            assert needed in page.text, (needed, page.text)
        fields = hidden_fields(page.text)
        login = urlsplit(url)._replace(path="/sso/login", query="").geturl()
        if check_wrong:
            bad = {**fields, "username": username, "password": password + "x"}
            wrong = browser.post(login, data=bad)
            assert wrong.status_code == 200, (wrong.status_code, wrong.text)
            assert "Wrong username or password" in wrong.text, wrong.text
        done = browser.post(login, data={**fields, "username": username, "password": password})
        assert done.status_code == 200, (done.status_code, done.text)
        form = re.search(r'<form method="post" action="([^"]*)" id="saml-post">', done.text)
        assert form and 'id="saml-continue"' in done.text, done.text
        posted = hidden_fields(done.text)
        acs = html.unescape(form.group(1))
        return SignIn(req_id, acs, posted["SAMLResponse"], posted.get("RelayState"))

    def verify(self, saml_response: str, request_id: str):
        """pysaml2's verdict as the SP: the AuthnResponse, or an exception raised."""
        got = self.client.parse_authn_request_response(
            saml_response, BINDING_HTTP_POST, outstanding={request_id: "/"})
        if got is None:
            raise ValueError("pysaml2 returned no response")
        return got


def hidden_fields(page: str) -> dict:
    return {
        html.unescape(n): html.unescape(v)
        for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    }


def summarize(authn) -> dict:
    """What the SP took from a verified Response."""
    assertion = authn.assertion
    return {
        "name_id": authn.name_id.text,
        "name_id_format": authn.name_id.format,
        "attributes": authn.ava,
        "issuer": authn.response.issuer.text,
        "in_response_to": authn.response.in_response_to,
        "response_signed": authn.response.signature is not None,
        "assertion_signed": assertion.signature is not None,
    }


def quiet_pysaml2() -> None:
    """pysaml2 logs each refusal at length (whole documents): the self-tests say what
    matters themselves."""
    logging.getLogger("saml2").setLevel(logging.CRITICAL)


RELAY_STATE = "rs-" + "x" * 1000 + "&=/?é"


def check_metadata(idp: IdentityProvider) -> None:
    md = requests.get(idp.entity_id, timeout=10)
    assert md.headers["Content-Type"] == "application/samlmetadata+xml", md.headers
    assert 'use="signing"' in md.text and BINDING_HTTP_REDIRECT in md.text, md.text


def refused_request(url: str, params: dict) -> str:
    bad = requests.get(url, params=params, timeout=10)
    assert bad.status_code == 400, (bad.status_code, bad.text)
    return bad.text.strip()


def check_flow(sp: TestSp, idp: IdentityProvider, kind: str, user: User) -> tuple:
    """One sign-in with pysaml2's request or a Signet-like one, verified by the SP."""
    request = (sp.pysaml2_request(idp.entity_id, RELAY_STATE) if kind == "pysaml2"
               else sp.signet_like_request(idp.sso_url, RELAY_STATE))
    got = sp.sign_in(request, user.name, user.password)
    assert got.acs == sp.acs and got.relay_state == RELAY_STATE, got
    seen = summarize(sp.verify(got.saml_response, got.request_id))
    assert seen["name_id"] == user.name, seen
    assert seen["in_response_to"] == got.request_id, seen
    assert seen["response_signed"] == (idp.sign != "assertion"), seen
    assert seen["assertion_signed"] == (idp.sign != "response"), seen
    return got, seen


def check_local_base(idp: IdentityProvider, user: User) -> str:
    """An SP known by a public base: refused until --local-base maps it."""
    public = "http://signet.test"
    sp = TestSp(idp.entity_id, pool="us-east-1_public", public_base=public)
    try:
        request = sp.signet_like_request(idp.sso_url, RELAY_STATE)
        split = urlsplit(request[1])
        refused = refused_request(idp.sso_url, parse_qs(split.query))
        idp.local_bases = {public: sp.local_base}
        got, seen = check_flow(sp, idp, "signet_like", user)
        assert got.acs.startswith(public + "/"), got.acs
        return f"unmapped: {refused}; mapped: signed in, ACS {got.acs}"
    finally:
        idp.local_bases = {}
        sp.close()


def selftest(args) -> None:
    quiet_pysaml2()
    alice = User("alice", "pass:word", "alice@example.com")
    out = {"ok": True, "modes": {}}
    with tempfile.TemporaryDirectory(prefix="saml-idp-selftest-") as tmp:
        key, cert = write_signing_pair(Path(tmp))
        httpd = start([alice], "assertion", key, cert)
        idp = httpd.idp
        sp = TestSp(idp.entity_id)
        try:
            check_metadata(idp)
            out["garbage_request"] = refused_request(idp.sso_url, {"SAMLRequest": "bm90IHNhbWw="})
            for mode in SIGN_MODES:
                idp.sign = mode
                for kind in ("pysaml2", "signet_like"):
                    got, seen = check_flow(sp, idp, kind, alice)
                    out["modes"].setdefault(mode, {})[kind] = seen
                if args.save:
                    save(Path(args.save), mode, got.saml_response, cert)
            out["local_base"] = check_local_base(idp, alice)
        finally:
            sp.close()
            httpd.shutdown()
            httpd.server_close()
    print(json.dumps(out))


def save(directory: Path, mode: str, saml_response: str, cert: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"response-{mode}.xml").write_bytes(base64.b64decode(saml_response))
    shutil.copyfile(cert, directory / "idp-cert.pem")


# --- command line --------------------------------------------------------------------


def local_base(spec: str) -> tuple:
    public, sep, local = spec.partition("=")
    if not sep or not public or not local:
        raise argparse.ArgumentTypeError("--local-base wants PUBLIC_BASE=LOCAL_BASE")
    return public.rstrip("/"), local.rstrip("/")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cmds = parser.add_subparsers(dest="cmd", required=True)
    srv = cmds.add_parser("serve", help="run the IdP until stdin closes")
    srv.add_argument("--user", type=User.parse, action="append", required=True,
                     help="NAME:PASSWORD:EMAIL (repeatable)")
    srv.add_argument("--sign", choices=SIGN_MODES, default="assertion")
    srv.add_argument("--port", type=int, default=0)
    srv.add_argument("--local-base", type=local_base, action="append", default=[],
                     help="PUBLIC_BASE=LOCAL_BASE, for fetching SP metadata (repeatable)")
    test = cmds.add_parser("selftest", help="prove the IdP against pysaml2's SP")
    test.add_argument("--save", help="a directory for sample responses and the IdP cert")
    args = parser.parse_args()
    serve(args) if args.cmd == "serve" else selftest(args)


if __name__ == "__main__":
    main()
