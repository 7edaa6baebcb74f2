#!/usr/bin/env python3
"""TOTP codes as an authenticator app computes them, with pyotp (PyPI), not our code.

    python3 tests/clients/totp_codes.py BASE32_SECRET UNIX_SECONDS...

Prints one JSON object: {"codes": ["123456", ...], "uri": "otpauth://..."}: the code for
each time given, and the provisioning URI an app would scan for the secret.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pinned_venv  # noqa: E402

# A full pinned lock (pyotp has no dependencies).
REQUIREMENTS = """\
pyotp==2.9.0
"""


def main() -> None:
    pinned_venv.ensure("totp-venv", REQUIREMENTS)
    import pyotp

    secret, times = sys.argv[1], [int(t) for t in sys.argv[2:]]
    totp = pyotp.TOTP(secret)
    print(json.dumps({
        "codes": [totp.at(t) for t in times],
        "uri": totp.provisioning_uri(name="user@example.com", issuer_name="Signet"),
    }))


if __name__ == "__main__":
    main()
