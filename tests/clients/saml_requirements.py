"""The one venv and pinned lock of the SAML test tools (saml_idp.py, saml_forge.py):
pysaml2, signxml and lxml with everything they need."""

VENV = "saml-venv"
# A full pinned lock (CPython 3.10+ on Linux; resolved on 3.10, where pycparser and
# python-dateutil need older releases than on 3.11+).
REQUIREMENTS = """\
certifi==2026.10.19.post1
cffi==2.1.1
charset-normalizer==3.5.3
cryptography==50.0.2
defusedxml==0.7.1
elementpath==4.8.0
idna==3.21
lxml==6.2.1
pycparser==3.11
pyOpenSSL==26.4.0
pysaml2==7.5.5
python-dateutil==3.0.0
requests==2.34.2
signxml==5.2.0
six==1.17.0
typing_extensions==4.16.0
tzdata==2026.6
urllib3==2.8.0
xmlschema==2.5.1
"""
