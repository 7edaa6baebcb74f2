#!/usr/bin/env python3
"""A real browser on Signet's hosted sign-in pages: Selenium (PyPI) driving headless Chromium
through chromedriver (Debian: `apt-get install chromium chromium-driver`; SIGNET_CHROMIUM and
SIGNET_CHROMEDRIVER name others).

The test gateways claim the public URL http://signet.test; Chromium resolves signet.test to
the gateway (`--host-resolver-rules`), so every page, redirect and form post goes through
the public URL, as it would in production. The script acts as a user: it finds fields by
their <label for=...>, types, submits with the keyboard (Enter, or Tab to the button and
Space) or clicks a button or link; never runs JavaScript in the page.

    python3 tests/clients/browser_hosted.py SCENARIO --gateway HOST:PORT [--map HOST=HOST:PORT]...
        [--authorize URL] [--callback URL] [--username U] [--password P] [--email E]
        [--mailbox URL] [--evil URL]... [--provider NAME] [--op URL]

Scenarios:
  sign_in       authorize URL -> sign-in page -> sign in (Enter) -> the callback
  sign_up       authorize URL -> sign-in page -> "Sign up" -> sign-up form -> confirmation
                page -> the code read from the mailbox page (a second tab) -> sign-in page
                -> sign in -> the callback
  bad_redirect  authorize URL -> whatever the browser ends on
  csrf          authorize URL (the victim's browser gets the sign-in page), then each --evil
                page: click its button; then the authorize URL again
  keyboard      the sign-in page by keyboard alone: the Tab order, a wrong password, then
                Tab / typing / Tab to the button / Space -> the callback
  federated     authorize URL -> sign-in page -> "Continue with <provider>" -> the OpenID
                Provider's login page at --op (its fields found by name: that page is not
                Signet's and labels nothing) -> --username / --password and Enter -> its
                consent page -> "Continue" -> back through Signet -> the callback
  saml          authorize URL -> sign-in page -> "Continue with <provider>" -> the SAML
                IdP's login page at --op (its fields found by id: #username, #password)
                -> --username / --password and Enter -> the IdP's page that posts the
                Response to Signet's ACS: its own script posts it (or, still there after
                POST_WAIT_S seconds, a click on #saml-continue; `saml_post` says which:
                "script" or "button") -> the ACS's 303 -> its GET -> the callback

Every page seen is saved as target/browser-screenshots/<scenario>-<NN>-<step>.png. Prints
one JSON object: each page's URL, title, headings, alerts, notes, HTTP status, redirect
chain and the form posts among it, each with the `Origin` the browser sent (all read from
Chromium's network log), its inputs and whether each has a label, the
screenshot; the final URL; what the scenario measured. Exits non-zero (after printing what
it saw) when a page does not come in time.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pinned_venv  # noqa: E402

# A full pinned lock (CPython 3.10+ on Linux).
REQUIREMENTS = """\
attrs==26.1.0
certifi==2026.10.19.post1
h11==0.16.0
idna==3.21
outcome==1.3.0.post0
PySocks==1.7.1
selenium==4.51.0
sniffio==1.3.1
sortedcontainers==2.4.0
trio==0.35.0
trio-websocket==0.12.2
typing_extensions==4.16.0
urllib3==2.8.0
websocket-client==1.9.2
wsproto==1.3.2
"""

WAIT_S = 15
# How long a page that posts itself by script may stay before the user clicks its button.
POST_WAIT_S = 5


class Session:
    """One Chromium, the pages it has seen, and the network log not yet read."""

    def __init__(self, args):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        chromium = os.environ.get("SIGNET_CHROMIUM") or "/usr/bin/chromium"
        driver_path = os.environ.get("SIGNET_CHROMEDRIVER") or "/usr/bin/chromedriver"
        for what, path in (("chromium", chromium), ("chromedriver", driver_path)):
            if not shutil.which(path):
                sys.exit(f"{what} not found at {path} (Debian: apt-get install chromium "
                         f"chromium-driver; or set SIGNET_{what.upper()})")
        # Selenium Manager is never needed (both paths are given); never let it go online.
        os.environ["SE_OFFLINE"] = "true"
        self.scenario = args.scenario
        self.profile = tempfile.mkdtemp(prefix="signet-chromium-")
        self.shots = pinned_venv.REPO / "target" / "browser-screenshots"
        self.shots.mkdir(parents=True, exist_ok=True)
        for old in self.shots.glob(f"{self.scenario}-*.png"):
            old.unlink()
        rules = [f"MAP signet.test {args.gateway}"]
        rules += [f"MAP {m.split('=', 1)[0]} {m.split('=', 1)[1]}" for m in args.map]
        o = webdriver.ChromeOptions()
        o.binary_location = chromium
        for a in [
            "--headless=new",
            "--no-sandbox",  # CI runs as root
            "--disable-dev-shm-usage",
            f"--user-data-dir={self.profile}",
            "--host-resolver-rules=" + ", ".join(rules),
            "--no-proxy-server",
            "--window-size=1024,900",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--password-store=basic",
            # Plain http://signet.test as given: no automatic https attempt first.
            "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable,"
            "HttpsFirstModeV2ForTypicallySecureUsers,PasswordLeakDetection",
        ]:
            o.add_argument(a)
        o.add_experimental_option("prefs", {
            "credentials_enable_service": False,
            "profile.password_manager_enabled": False,
            "profile.password_manager_leak_detection": False,
        })
        o.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        o.add_experimental_option("perfLoggingPrefs", {"enableNetwork": True, "enablePage": False})
        self.driver_log = Path(self.profile) / "chromedriver.log"
        started = time.monotonic()
        self.driver = webdriver.Chrome(
            options=o, service=Service(driver_path, log_output=str(self.driver_log)))
        self.startup_s = round(time.monotonic() - started, 2)
        self.driver.set_page_load_timeout(WAIT_S)
        self.pages = []
        self.result = {"scenario": self.scenario, "pages": self.pages}

    def close(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    # -- what the browser shows -----------------------------------------------------------

    def navigations(self):
        """The document loads since the last call: ([(status, url)] with the redirects,
        [(url, the `Origin` header sent)] of the form posts among them, in order)."""
        chain, posts, sent = [], [], {}
        for entry in self.driver.get_log("performance"):
            m = json.loads(entry["message"])["message"]
            p = m.get("params", {})
            if m["method"] == "Network.requestWillBeSent" and p.get("type") == "Document":
                r = p.get("redirectResponse")
                if r and r["url"].startswith("http"):
                    chain.append([r["status"], r["url"]])
                if p["request"]["method"] == "POST":
                    posts.append((p["requestId"], p["request"]["url"]))
            elif m["method"] == "Network.requestWillBeSentExtraInfo":
                headers = {k.lower(): v for k, v in p.get("headers", {}).items()}
                # The post itself (a redirect's GET under the same id has no body type).
                if "content-type" in headers:
                    sent[p["requestId"]] = headers.get("origin", "(none)")
            elif m["method"] == "Network.responseReceived" and p.get("type") == "Document":
                r = p["response"]
                if r["url"].startswith("http"):
                    chain.append([r["status"], r["url"]])
        return chain, [[url, sent[i]] for i, url in posts if i in sent]

    def texts(self, css):
        from selenium.webdriver.common.by import By
        return [e.text.strip() for e in self.driver.find_elements(By.CSS_SELECTOR, css)]

    def observe(self, step):
        """Screenshot and describe the page the browser shows now."""
        from selenium.webdriver.common.by import By
        d = self.driver
        shot = self.shots / f"{self.scenario}-{len(self.pages) + 1:02d}-{step}.png"
        d.save_screenshot(str(shot))
        chain, posts = self.navigations()
        inputs, unlabelled, hidden = [], [], []
        for i in d.find_elements(By.TAG_NAME, "input"):
            kind = i.get_attribute("type") or "text"
            if kind == "hidden":
                hidden.append(i.get_attribute("name"))
                continue
            ident = i.get_attribute("id") or ""
            labels = d.find_elements(By.CSS_SELECTOR, f'label[for="{ident}"]') if ident else []
            text = labels[0].text.strip() if labels else ""
            inputs.append({"id": ident, "name": i.get_attribute("name"), "type": kind,
                           "label": text, "value": i.get_property("value")})
            if not text:
                unlabelled.append(ident or i.get_attribute("name"))
        h1 = self.texts("h1")
        page = {
            "step": step,
            "url": d.current_url,
            "title": d.title,
            "lang": d.find_element(By.TAG_NAME, "html").get_attribute("lang"),
            "heading": h1[0] if h1 else "",
            "headings": h1,
            "alerts": self.texts("[role=alert]"),
            "notes": self.texts("[role=status]"),
            "text": d.find_element(By.TAG_NAME, "body").text,
            "status": chain[-1][0] if chain else None,
            "chain": chain,
            "posted_origin": posts[-1][1] if posts else None,
            "posts": posts,
            "inputs": inputs,
            "hidden": hidden,
            "unlabelled": unlabelled,
            "buttons": self.texts("button"),
            "screenshot": str(shot.relative_to(pinned_venv.REPO)),
        }
        self.pages.append(page)
        return page

    # -- acting as a user -----------------------------------------------------------------

    def wait(self, until, what):
        from selenium.webdriver.support.ui import WebDriverWait
        return WebDriverWait(self.driver, WAIT_S, poll_frequency=0.05).until(
            until, message=f"waiting for {what}")

    def html(self):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.TAG_NAME, "html")

    def after(self, act, what):
        """Do `act` (which makes the browser navigate) and wait for the next document."""
        from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
        old = self.html()
        act()

        def gone(_):
            # The old document's <html> is stale once the next document is in. While the
            # two change places, chromedriver may instead say the node "does not belong to
            # the document" (seen after a long redirect chain): gone too.
            try:
                old.is_enabled()
                return False
            except StaleElementReferenceException:
                return True
            except WebDriverException as e:
                if "does not belong to the document" in str(e):
                    return True
                raise

        self.wait(gone, what)
        self.wait(lambda d: d.find_elements("tag name", "body"), what)

    def open(self, url, step):
        self.driver.get(url)
        return self.observe(step)

    def keys(self, *keys):
        from selenium.webdriver.common.action_chains import ActionChains
        chain = ActionChains(self.driver)
        for k in keys:
            chain.send_keys(k)
        chain.perform()

    def active(self):
        """The focused element, described: tag#id, or tag:text for buttons and links."""
        e = self.driver.switch_to.active_element
        ident = e.get_attribute("id")
        return f"{e.tag_name}#{ident}" if ident else f"{e.tag_name}:{e.text.strip()}"

    def fill(self, label, value):
        """Click the field's label (a label moves the focus to its input), select what is
        there and type `value`."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
        d = self.driver
        found = [lb for lb in d.find_elements(By.TAG_NAME, "label") if lb.text.strip() == label]
        if len(found) != 1:
            raise AssertionError(f"{len(found)} labels {label!r} on {d.current_url}")
        target = d.find_element(By.ID, found[0].get_attribute("for"))
        found[0].click()
        if d.switch_to.active_element != target:
            raise AssertionError(f"clicking the label {label!r} did not focus its input")
        from selenium.webdriver.common.action_chains import ActionChains
        (ActionChains(d).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL)
         .send_keys(value).perform())

    def type_into(self, css, value):
        """For another party's page (its labels not Signet's to judge): click the one input
        `css` selects, select what is there and type `value`."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
        d = self.driver
        found = d.find_elements(By.CSS_SELECTOR, css)
        if len(found) != 1:
            raise AssertionError(f"{len(found)} inputs {css!r} on {d.current_url}")
        found[0].click()
        if d.switch_to.active_element != found[0]:
            raise AssertionError(f"clicking the input {css!r} did not focus it")
        (ActionChains(d).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL)
         .send_keys(value).perform())

    def click_button(self, text, what):
        from selenium.webdriver.common.by import By
        found = [b for b in self.driver.find_elements(By.TAG_NAME, "button")
                 if b.text.strip() == text]
        if len(found) != 1:
            raise AssertionError(f"{len(found)} buttons {text!r} on {self.driver.current_url}")
        self.after(found[0].click, what)

    def press_enter(self, what):
        from selenium.webdriver.common.keys import Keys
        self.after(lambda: self.keys(Keys.ENTER), what)

    def click(self, css, what):
        from selenium.webdriver.common.by import By
        self.after(lambda: self.driver.find_element(By.CSS_SELECTOR, css).click(), what)

    def click_link(self, text, what):
        from selenium.webdriver.common.by import By
        self.after(lambda: self.driver.find_element(By.LINK_TEXT, text).click(), what)

    def sign_in_form(self, username, password, step):
        self.fill("Username", username)
        self.fill("Password", password)
        self.press_enter(step)


class Unexpected(Exception):
    """A step led to a page (seen and recorded) other than the one it should."""


def expect(page, ok, what):
    """Stop at once (with what the browser was shown) when a step did not lead where it
    should."""
    if not ok:
        raise Unexpected(
            f"{what}: at {page['url']}, status {page['status']}, heading {page['heading']!r}, "
            f"alerts {page['alerts']}, the post's Origin {page['posted_origin']!r}")


def at_callback(s, a, page):
    expect(page, page["url"].startswith(a.callback), "not at the app's callback")


def sign_in(s, a):
    page = s.open(a.authorize, "sign-in-page")
    expect(page, page["heading"].startswith("Sign in"), "no sign-in page")
    s.sign_in_form(a.username, a.password, "the callback")
    at_callback(s, a, s.observe("callback"))


def sign_up(s, a):
    from selenium.webdriver.common.by import By
    s.open(a.authorize, "sign-in-page")
    s.click_link("Sign up", "the sign-up page")
    s.observe("sign-up-page")
    s.fill("Username", a.username)
    s.fill("Email", a.email)
    s.fill("Password", a.password)
    s.press_enter("the confirmation page")
    page = s.observe("confirm-page")
    expect(page, page["heading"] == "Confirm your account", "the sign-up was not taken")
    # The user reads the code in their mail, in another tab.
    form_tab = s.driver.current_window_handle
    s.driver.switch_to.new_window("tab")
    deadline = time.monotonic() + WAIT_S
    while True:
        s.driver.get(a.mailbox)
        codes = s.driver.find_elements(By.ID, "code")
        if codes or time.monotonic() > deadline:
            break
        time.sleep(0.1)  # no mail yet: look again (bounded by the deadline)
    s.observe("mailbox")
    if not codes:
        raise AssertionError("no code arrived in the mailbox")
    code = codes[0].text.strip()
    s.result["code_read"] = code
    s.driver.close()
    s.driver.switch_to.window(form_tab)
    s.fill("Confirmation code", code)
    s.press_enter("the sign-in page after confirming")
    page = s.observe("confirmed-sign-in-page")
    expect(page, page["heading"].startswith("Sign in"), "the code was not taken")
    s.result["username_kept"] = next(
        (i["value"] for i in page["inputs"] if i["id"] == "username"), None)
    s.fill("Password", a.password)
    s.press_enter("the callback")
    at_callback(s, a, s.observe("callback"))


def bad_redirect(s, a):
    s.open(a.authorize, "authorize")


def csrf(s, a):
    s.open(a.authorize, "sign-in-page")
    for i, evil in enumerate(a.evil, 1):
        s.open(evil, f"evil-page-{i}")
        s.click("button", "the answer to the cross-site form")
        s.observe(f"after-evil-post-{i}")
    # Was anyone signed in? The same authorize URL again.
    s.open(a.authorize, "authorize-again")


def keyboard(s, a):
    from selenium.webdriver.common.keys import Keys
    s.open(a.authorize, "sign-in-page")
    # The Tab order of the page, with how each focused element is drawn.
    order, outlines = [], []
    for _ in range(5):
        s.keys(Keys.TAB)
        order.append(s.active())
        e = s.driver.switch_to.active_element
        outlines.append(f"{e.value_of_css_property('outline-style')} "
                        f"{e.value_of_css_property('outline-width')}")
        if len(order) == 3:
            s.observe("focus-on-button")
    s.result["tab_order"] = order
    s.result["focus_outlines"] = outlines
    # Back to the first field with Shift+Tab.
    back = 0
    while s.active() != "input#username" and back < 10:
        s.keys(Keys.SHIFT + Keys.TAB)
        back += 1
    s.result["shift_tabs_back"] = back
    typed = [s.active()]
    s.keys(a.username, Keys.TAB)
    typed.append(s.active())
    s.keys("Wrong-Pass-123")
    s.press_enter("the wrong password's answer")
    page = s.observe("wrong-password")
    expect(page, page["heading"].startswith("Sign in"), "no sign-in page after a wrong password")
    # Again, by Tab alone from the top of the page, then Tab to the button and Space.
    s.keys(Keys.TAB)
    typed.append(s.active())
    s.keys(Keys.TAB)
    typed.append(s.active())
    s.keys(a.password, Keys.TAB)
    typed.append(s.active())
    s.after(lambda: s.keys(Keys.SPACE), "the callback")
    s.result["keyboard_path"] = typed
    at_callback(s, a, s.observe("callback"))


def to_provider(s, a, step):
    """The authorize URL, Signet's sign-in page, its "Continue with <provider>": the page
    the browser then shows, observed as `step`."""
    page = s.open(a.authorize, "sign-in-page")
    expect(page, page["heading"].startswith("Sign in"), "no sign-in page")
    s.click_link(f"Continue with {a.provider}", "the provider's login page")
    return s.observe(step)


def federated(s, a):
    page = to_provider(s, a, "op-login-page")
    expect(page, page["url"].startswith(a.op + "/") and page["heading"] == "Sign-in",
           "no login page at the provider")
    s.type_into('input[name="login"]', a.username)
    s.type_into('input[name="password"]', a.password)
    s.observe("op-login-filled")
    s.press_enter("the provider's consent page")
    page = s.observe("op-consent-page")
    expect(page, page["url"].startswith(a.op + "/") and page["heading"] == "Authorize",
           "no consent page at the provider")
    s.click_button("Continue", "the callback")
    at_callback(s, a, s.observe("callback"))


def saml(s, a):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait
    page = to_provider(s, a, "idp-login-page")
    expect(page, page["url"].startswith(a.op + "/sso/redirect?")
           and "username" in [i["id"] for i in page["inputs"]], "no login page at the IdP")
    s.type_into("#username", a.username)
    s.type_into("#password", a.password)
    s.observe("idp-login-filled")
    s.press_enter("the IdP's answer")
    # The IdP answers a page whose script posts its Response to Signet's ACS at once: the
    # browser leaves the IdP, unless the script did not run (then the user clicks).
    try:
        WebDriverWait(s.driver, POST_WAIT_S, poll_frequency=0.05).until(
            lambda d: not d.current_url.startswith(a.op + "/"))
        s.result["saml_post"] = "script"
    except TimeoutException:
        page = s.observe("idp-post-page")
        expect(page, "Continue" in page["buttons"], "no page posting the Response at the IdP")
        s.result["saml_post"] = "button"
        s.click("#saml-continue", "Signet's answer to the post")
    at_callback(s, a, s.observe("callback"))


SCENARIOS = {f.__name__: f for f in (sign_in, sign_up, bad_redirect, csrf, keyboard,
                                     federated, saml)}


def main():
    pinned_venv.ensure("browser-venv", REQUIREMENTS)
    p = argparse.ArgumentParser()
    p.add_argument("scenario", choices=sorted(SCENARIOS))
    p.add_argument("--gateway", required=True, help="HOST:PORT serving http://signet.test")
    p.add_argument("--map", action="append", default=[], help="HOST=HOST:PORT, resolved so")
    for name in ("authorize", "callback", "username", "password", "email", "mailbox",
                 "provider", "op"):
        p.add_argument(f"--{name}")
    p.add_argument("--evil", action="append", default=[])
    a = p.parse_args()

    started = time.monotonic()
    s = Session(a)
    failed = None
    try:
        SCENARIOS[a.scenario](s, a)
    except Unexpected as e:
        failed = str(e)
    except Exception as e:  # noqa: BLE001 - reported with what was seen
        failed = f"{type(e).__name__}: {e}"
        traceback.print_exc()
        try:
            s.observe("failure")
        except Exception:  # noqa: BLE001
            pass
        try:
            print(s.driver_log.read_text()[-4000:], file=sys.stderr)
        except OSError:
            pass
    finally:
        try:
            s.result["final_url"] = s.driver.current_url
        finally:
            s.close()
    s.result["chromium_startup_s"] = s.startup_s
    s.result["seconds"] = round(time.monotonic() - started, 2)
    if failed:
        s.result["error"] = failed
    print(json.dumps(s.result))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
