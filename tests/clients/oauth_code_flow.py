#!/usr/bin/env python3
"""The authorization code flow with PKCE as a Python web app runs it: requests-oauthlib's
OAuth2Session (PyPI) makes the authorize URL (S256 challenge, state, nonce) and exchanges
the code (sending its own verifier); a requests.Session plays the browser on Signet's
hosted sign-in page (cookies, the form's hidden fields, Origin); PyJWT's PyJWKClient
verifies the ID token from the pool's JWKS.

    python3 tests/clients/oauth_code_flow.py ISSUER LOCAL_BASE CLIENT_ID REDIRECT_URI USERNAME PASSWORD

ISSUER is the pool's issuer (under the gateway's public URL); LOCAL_BASE is where that
public URL is reached from here. Prints one JSON object: the token response's scope, the
verified ID token's claims, whether a refresh token came, and the state round trip.
"""

import json
import re
import sys
from html import unescape
from pathlib import Path
from urllib.parse import urljoin, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pinned_venv  # noqa: E402

# A full pinned lock (CPython 3.10+ on Linux).
REQUIREMENTS = """\
certifi==2026.10.19.post1
cffi==2.1.1
charset-normalizer==3.5.3
cryptography==51.0.1
idna==3.21
oauthlib==4.0.1
pycparser==3.12
PyJWT==2.15.1
requests==2.34.2
requests-oauthlib==2.0.0
urllib3==2.8.0
"""


def main():
    pinned_venv.ensure("py-oauth-venv", REQUIREMENTS)
    import os

    import jwt
    import requests
    from requests_oauthlib import OAuth2Session

    issuer, local_base, client_id, redirect_uri, username, password = sys.argv[1:7]
    split = urlsplit(issuer)
    public_base = f"{split.scheme}://{split.netloc}"
    origin = public_base

    def local(url):
        return local_base + url[len(public_base):] if url.startswith(public_base) else url

    # The callback is a loopback http URL with no server behind it: oauthlib only allows
    # http redirect URIs when told so (the URL is only parsed, never fetched).
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    app = OAuth2Session(client_id, redirect_uri=redirect_uri, scope=["openid", "email"], pkce="S256")
    auth_url, state = app.authorization_url(f"{issuer}/oauth2/authorize", nonce="py-nonce-1")

    browser = requests.Session()
    r = browser.get(local(auth_url), allow_redirects=False)
    assert r.status_code == 302, (r.status_code, r.text)
    login_url = r.headers["location"]
    page = browser.get(local(login_url), allow_redirects=False)
    assert page.status_code == 200, (page.status_code, page.text)
    form = re.search(r'<form method="post" action="([^"]+)"', page.text)
    fields = dict(
        (unescape(n), unescape(v))
        for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    )
    fields.update(username=username, password=password)
    action = urljoin(login_url, unescape(form.group(1)))
    done = browser.post(local(action), data=fields, headers={"Origin": origin}, allow_redirects=False)
    assert done.status_code == 303, (done.status_code, done.text)
    callback = done.headers["location"]

    # The exchange (state checked by oauthlib, verifier sent by requests-oauthlib).
    token = app.fetch_token(
        local(f"{issuer}/oauth2/token"),
        authorization_response=callback,
        include_client_id=True,
    )
    keys = jwt.PyJWKClient(local(f"{issuer}/.well-known/jwks.json"))
    key = keys.get_signing_key_from_jwt(token["id_token"])
    claims = jwt.decode(
        token["id_token"],
        key,
        algorithms=["EdDSA", "ES256", "RS256"],
        audience=client_id,
        issuer=issuer,
    )
    print(json.dumps({
        "id_claims": claims,
        "has_refresh_token": "refresh_token" in token,
        "token_type": token.get("token_type"),
        "state_returned": f"state={state}" in callback,
    }))


if __name__ == "__main__":
    main()
