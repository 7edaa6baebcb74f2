//! The hosted sign-in in a real browser: headless Chromium driven by Selenium
//! (tests/clients/browser_hosted.py), resolving the public URL `http://signet.test` to the
//! gateway, so every page, redirect and form post goes through the public URL. The app the
//! user signs in to is served by the test itself (its callback, the user's mailbox, an
//! attacker's page), and the test exchanges the code the browser brought back. Federated
//! sign-in goes through a real, independent OpenID Provider (panva's `oidc-provider` from
//! npm, a child process: [`OpenIdProvider`]), its own login and consent pages included, and
//! through a real SAML 2.0 IdP (pysaml2: [`SamlIdp`]), its login page and the page whose
//! script posts its Response to Signet included.

use super::hosted_saml::{saml_provider, SAML_PROVIDER};
use super::hosted_sign_in::{authorize_url, exchange, issuer, verified};
use crate::support::browser::{hidden, location, query_param, Browser};
use crate::support::clients::python_client;
use crate::support::identity::PASSWORD;
use crate::support::oauth::*;
use crate::support::openid_provider::{OpenIdProvider, OP_EMAIL, OP_NAME, OP_SUBJECT};
use crate::support::pools::*;
use crate::support::saml_idp::SamlIdp;
use oauth2::{CsrfToken, PkceCodeChallenge, PkceCodeVerifier};
use serde_json::Value;
use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::{admin, admin_client, TestEnv, TEST_PUBLIC_URL};
use signet_verify::TokenUse;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request the app's server received.
#[derive(Debug, Clone)]
struct Hit {
    method: String,
    host: String,
    target: String,
}

/// What the app's server answers with.
struct Site {
    env: Arc<TestEnv>,
    pool: String,
    hits: Mutex<Vec<Hit>>,
    /// Pages a test put up (an attacker's), by path.
    pages: Mutex<HashMap<String, String>>,
    /// The codes the mailbox showed: (username, code).
    delivered: Mutex<Vec<(String, String)>>,
}

/// The app a browser signs in to, served by the test on 127.0.0.1 (port 0): its callback
/// (`/cb`: "signed in"), the user's mailbox (`/mail/{username}`: the user's confirmation
/// code in the pool's dev outbox, 404 while there is none), the pages a test puts up, and a
/// record of every request.
struct App {
    addr: SocketAddr,
    site: Arc<Site>,
    task: tokio::task::JoinHandle<()>,
}

impl App {
    async fn start(env: Arc<TestEnv>, pool: &str) -> App {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let site = Arc::new(Site {
            env,
            pool: pool.to_string(),
            hits: Mutex::default(),
            pages: Mutex::default(),
            delivered: Mutex::default(),
        });
        let served = site.clone();
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(serve(sock, served.clone()));
            }
        });
        App { addr, site, task }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn callback(&self) -> String {
        self.url("/cb")
    }

    fn put_page(&self, path: &str, html: String) {
        self.site
            .pages
            .lock()
            .unwrap()
            .insert(path.to_string(), html);
    }

    fn hits(&self) -> Vec<Hit> {
        self.site.hits.lock().unwrap().clone()
    }

    /// The codes the mailbox showed: (username, code).
    fn delivered(&self) -> Vec<(String, String)> {
        self.site.delivered.lock().unwrap().clone()
    }

    /// The requests that reached the callback.
    fn callbacks(&self) -> Vec<Hit> {
        self.hits()
            .into_iter()
            .filter(|h| h.target.starts_with("/cb"))
            .collect()
    }

    /// Stop serving (the server's tasks hold the environment).
    async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

fn app_page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         </head><body>{body}</body></html>\n"
    )
}

/// Answer one connection (one request; then close).
async fn serve(mut sock: TcpStream, site: Arc<Site>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head = loop {
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break String::from_utf8_lossy(&buf[..end]).into_owned();
        }
        if buf.len() > 64 * 1024 {
            return;
        }
    };
    let mut lines = head.lines();
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_string();
    let target = first.next().unwrap_or_default().to_string();
    let host = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    site.hits.lock().unwrap().push(Hit {
        method,
        host,
        target: target.clone(),
    });
    let path = target.split('?').next().unwrap_or_default();
    let (status, body) = if path == "/cb" {
        (
            "200 OK",
            app_page("The app", "<h1>signed in</h1><p>Welcome to the app.</p>"),
        )
    } else if let Some(user) = path.strip_prefix("/mail/") {
        let code = outbox(site.env.a(), &site.pool)
            .await
            .into_iter()
            .find(|m| m.username == user && m.purpose == "confirm")
            .map(|m| m.code);
        match code {
            Some(code) => {
                let shown = (user.to_string(), code.clone());
                site.delivered.lock().unwrap().push(shown);
                (
                    "200 OK",
                    app_page(
                        "Your mail",
                        &format!(
                            "<h1>Your mail</h1><p>Your confirmation code is \
                         <strong id=\"code\">{code}</strong></p>"
                        ),
                    ),
                )
            }
            None => (
                "404 Not Found",
                app_page("Your mail", "<h1>No mail yet</h1>"),
            ),
        }
    } else {
        match site.pages.lock().unwrap().get(path) {
            Some(html) => ("200 OK", html.clone()),
            None => ("404 Not Found", app_page("Not found", "<h1>Not found</h1>")),
        }
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\n\
         content-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = sock.write_all(reply.as_bytes()).await;
    let _ = sock.shutdown().await;
}

/// A pool with the confirmed user `ann` (password [`PASSWORD`]), the app's server, and a
/// public client of the code flow whose one callback URL is the app's `/cb`.
struct Fixture {
    env: Arc<TestEnv>,
    pool: String,
    client: String,
    app: App,
}

async fn setup() -> Fixture {
    let env = Arc::new(TestEnv::start(3, 2).await);
    let gw = env.a();
    let (pool, api_client) = pool_and_client(gw, false).await;
    confirmed_user(gw, &pool, &api_client, "ann", "ann@example.com", PASSWORD).await;
    with_app(env, pool, &["COGNITO"]).await
}

/// The app's server for `pool` and its [`browser_client`], offering `providers`.
async fn with_app(env: Arc<TestEnv>, pool: String, providers: &[&str]) -> Fixture {
    let app = App::start(env.clone(), &pool).await;
    let client = browser_client(env.a(), &pool, &app.callback(), providers).await;
    Fixture {
        env,
        pool,
        client,
        app,
    }
}

/// A public client of the code flow with `callback` as its only callback URL, offering
/// `providers` (`COGNITO`: the pool's own users): its id.
async fn browser_client(
    gw: &GatewayHandle,
    pool: &str,
    callback: &str,
    providers: &[&str],
) -> String {
    create_client(
        gw,
        pb::CreateUserPoolClientRequest {
            user_pool_id: pool.into(),
            client_name: "browser app".into(),
            explicit_auth_flows: vec!["ALLOW_REFRESH_TOKEN_AUTH".into()],
            allowed_oauth_flows: vec!["code".into()],
            allowed_oauth_scopes: vec!["openid".into(), "email".into()],
            callback_urls: vec![callback.into()],
            supported_identity_providers: providers.iter().map(|p| p.to_string()).collect(),
            ..Default::default()
        },
    )
    .await
    .unwrap_or_else(|e| panic!("browser client: {}: {}", exception(&e), e.message()))
    .client_id
}

/// An authorization request with a fresh S256 challenge, state and nonce.
struct Request {
    url: String,
    verifier: PkceCodeVerifier,
    state: String,
    nonce: String,
}

fn request(f: &Fixture, redirect_uri: &str) -> Request {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let state = CsrfToken::new_random().secret().clone();
    let nonce = CsrfToken::new_random().secret().clone();
    let url = authorize_url(
        &f.pool,
        &[
            ("response_type", "code"),
            ("client_id", &f.client),
            ("redirect_uri", redirect_uri),
            ("scope", "openid email"),
            ("state", &state),
            ("nonce", &nonce),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    );
    Request {
        url,
        verifier,
        state,
        nonce,
    }
}

/// Run a scenario of the browser script against `gw`, with `--name=value` arguments: its
/// report (every page it saw).
async fn browser(scenario: &str, gw: &GatewayHandle, args: &[(&str, &str)]) -> Value {
    let mut argv = vec![
        scenario.to_string(),
        format!("--gateway={}", gw.http_addr()),
    ];
    argv.extend(args.iter().map(|(k, v)| format!("--{k}={v}")));
    let out = tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = argv.iter().map(String::as_str).collect();
        python_client("browser_hosted.py", &a)
    })
    .await
    .expect("the browser script");
    // Every page of Signet's the browser saw: in a language, titled, each visible input
    // labelled (another party's pages, an OpenID Provider's, are not Signet's to judge).
    for p in out["pages"].as_array().expect("pages") {
        if p["url"].as_str().unwrap_or("").starts_with(TEST_PUBLIC_URL) {
            assert_eq!(p["unlabelled"], serde_json::json!([]), "{p:#}");
            assert_eq!(p["lang"], "en", "{p:#}");
            assert!(!p["title"].as_str().unwrap_or("").is_empty(), "{p:#}");
        }
    }
    out
}

/// The page the browser saw at `step`.
fn page<'a>(out: &'a Value, step: &str) -> &'a Value {
    out["pages"]
        .as_array()
        .expect("pages")
        .iter()
        .find(|p| p["step"] == step)
        .unwrap_or_else(|| panic!("no page {step}: {out:#}"))
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// The ids of a page's visible inputs, with their labels.
fn labelled_inputs(p: &Value) -> Vec<(String, String)> {
    p["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .map(|i| (text(&i["id"]).to_string(), text(&i["label"]).to_string()))
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// The code at the end of a browser's sign-in: the final URL is the app's callback with a
/// code and the request's state, and exactly that request reached the app.
fn code_at_callback(f: &Fixture, out: &Value, r: &Request) -> String {
    let last = text(&out["final_url"]);
    assert!(last.starts_with(&f.app.callback()), "{out:#}");
    assert_eq!(
        query_param(last, "state").as_deref(),
        Some(r.state.as_str())
    );
    let code = query_param(last, "code").expect("a code");
    let cb = page(out, "callback");
    assert_eq!(cb["status"], 200, "{cb:#}");
    assert_eq!(cb["heading"], "signed in");
    let hits = f.app.callbacks();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].method, "GET");
    assert_eq!(hits[0].host, f.app.addr.to_string());
    assert_eq!(
        query_param(&f.app.url(&hits[0].target), "code").as_deref(),
        Some(code.as_str())
    );
    code
}

/// The code exchanged (raw form, PKCE verifier) at the gateway: the verified (ID, access)
/// claims.
async fn tokens(
    f: &Fixture,
    code: &str,
    r: &Request,
) -> (
    serde_json::Map<String, Value>,
    serde_json::Map<String, Value>,
) {
    let gw = f.env.a();
    let t = exchange(
        gw,
        &f.pool,
        &f.client,
        code,
        Some(r.verifier.secret()),
        &f.app.callback(),
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.body);
    let body = t.json();
    let keys = jwks(gw, &f.pool).await;
    let id = verified(
        &f.pool,
        &f.client,
        text(&body["id_token"]),
        &keys,
        TokenUse::Id,
    );
    let access = verified(
        &f.pool,
        &f.client,
        text(&body["access_token"]),
        &keys,
        TokenUse::Access,
    );
    assert_eq!(id["nonce"], r.nonce.as_str());
    assert_eq!(access["scope"], "openid email");
    (id, access)
}

/// A user in Chromium opens the app's authorize URL, is sent to the sign-in page under the
/// public URL, signs in by typing and Enter, and the browser lands on the app's callback with
/// a code and the state; the code exchanged with the PKCE verifier gives tokens that verify,
/// with the nonce and the user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_signs_in_on_the_page_and_brings_the_app_a_code() {
    let f = setup().await;
    let r = request(&f, &f.app.callback());
    let out = browser(
        "sign_in",
        f.env.a(),
        &[
            ("authorize", &r.url),
            ("callback", &f.app.callback()),
            ("username", "ann"),
            ("password", PASSWORD),
        ],
    )
    .await;

    let login = page(&out, "sign-in-page");
    assert!(
        text(&login["url"]).starts_with(&format!("{}/login?", issuer(&f.pool))),
        "{login:#}"
    );
    assert_eq!(
        login["chain"],
        serde_json::json!([[302, &r.url], [200, login["url"]]]),
        "authorize redirected once, to the page"
    );
    assert_eq!(login["heading"], "Sign in to journey");
    assert_eq!(
        labelled_inputs(login),
        pairs(&[("username", "Username"), ("password", "Password")])
    );
    assert_eq!(login["hidden"], serde_json::json!(["_csrf"]));
    assert_eq!(login["buttons"], serde_json::json!(["Sign in"]));
    // Chromium posted the page's form with the page's origin, and the post was answered
    // with a 303 to the callback.
    let cb = page(&out, "callback");
    assert_eq!(cb["posted_origin"], TEST_PUBLIC_URL, "{cb:#}");
    let chain = cb["chain"].as_array().unwrap();
    assert_eq!(chain.len(), 2, "{cb:#}");
    assert_eq!(chain[0][0], 303);
    assert!(text(&chain[0][1]).starts_with(&format!("{}/login?", issuer(&f.pool))));

    let code = code_at_callback(&f, &out, &r);
    let (id, access) = tokens(&f, &code, &r).await;
    assert_eq!(id["cognito:username"], "ann");
    assert_eq!(id["email"], "ann@example.com");
    assert_eq!(access["username"], "ann");
    f.app.stop().await;
}

/// A new user signs up on the page, reads the confirmation code in their mail (a second tab),
/// types it on the confirmation page, and signs in: the app gets a code for the new user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_signs_up_confirms_with_the_mailed_code_and_signs_in() {
    let f = setup().await;
    let r = request(&f, &f.app.callback());
    let out = browser(
        "sign_up",
        f.env.a(),
        &[
            ("authorize", &r.url),
            ("callback", &f.app.callback()),
            ("username", "bo"),
            ("email", "bo@example.com"),
            ("password", PASSWORD),
            ("mailbox", &f.app.url("/mail/bo")),
        ],
    )
    .await;

    let up = page(&out, "sign-up-page");
    assert_eq!(up["status"], 200, "{up:#}");
    assert_eq!(up["heading"], "Sign up for journey");
    assert_eq!(
        labelled_inputs(up),
        pairs(&[
            ("username", "Username"),
            ("attr:email", "Email"),
            ("password", "Password")
        ])
    );
    let confirm = page(&out, "confirm-page");
    assert_eq!(confirm["status"], 200, "{confirm:#}");
    assert_eq!(confirm["heading"], "Confirm your account");
    assert!(
        text(&confirm["notes"][0]).starts_with("We sent a confirmation code to "),
        "{confirm:#}"
    );
    // The code typed in is the one the mailbox showed from the pool's outbox.
    assert_eq!(
        f.app.delivered(),
        vec![("bo".to_string(), text(&out["code_read"]).to_string())]
    );
    let confirmed = page(&out, "confirmed-sign-in-page");
    assert_eq!(confirmed["status"], 200, "{confirmed:#}");
    assert_eq!(confirmed["heading"], "Sign in to journey");
    assert_eq!(
        confirmed["notes"],
        serde_json::json!(["Your account is confirmed: sign in."])
    );
    assert_eq!(out["username_kept"], "bo");

    let code = code_at_callback(&f, &out, &r);
    let (id, access) = tokens(&f, &code, &r).await;
    assert_eq!(id["cognito:username"], "bo");
    assert_eq!(id["email"], "bo@example.com");
    assert_eq!(id["email_verified"], true);
    assert_eq!(access["username"], "bo");
    f.app.stop().await;
}

/// An authorize URL with a redirect_uri that is not registered shows the user Signet's error
/// page under the public URL; the browser never goes to that address (a host that resolves to
/// the app's server here, which sees no request at all).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_with_an_unregistered_redirect_uri_stays_on_the_error_page() {
    let f = setup().await;
    let r = request(&f, "http://evil.test/cb");
    let out = browser(
        "bad_redirect",
        f.env.a(),
        &[
            ("authorize", &r.url),
            ("map", &format!("evil.test={}", f.app.addr)),
        ],
    )
    .await;
    let p = page(&out, "authorize");
    assert_eq!(text(&out["final_url"]), r.url, "{out:#}");
    assert_eq!(p["chain"], serde_json::json!([[400, &r.url]]), "{p:#}");
    assert_eq!(p["title"], "Sign-in error");
    assert_eq!(p["heading"], "Something is wrong with this sign-in link");
    assert_eq!(
        p["alerts"],
        serde_json::json!(["The redirect_uri is not registered for this application."])
    );
    assert!(f.app.hits().is_empty(), "{:?}", f.app.hits());
    f.app.stop().await;
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

/// A page of another site whose form posts the attacker's credentials to the sign-in page
/// (a login CSRF), with `csrf` as its `_csrf` field (none: no field); a click sends it.
fn evil_page(login_url: &str, csrf: Option<&str>) -> String {
    let field = csrf
        .map(|c| {
            format!(
                "<input type=\"hidden\" name=\"_csrf\" value=\"{}\">",
                esc(c)
            )
        })
        .unwrap_or_default();
    app_page(
        "You won",
        &format!(
            "<h1>You won a prize</h1><form method=\"post\" action=\"{}\">{field}\
             <input type=\"hidden\" name=\"username\" value=\"ann\">\
             <input type=\"hidden\" name=\"password\" value=\"{}\">\
             <button type=\"submit\">Claim it</button></form>",
            esc(login_url),
            esc(PASSWORD)
        ),
    )
}

/// A login CSRF in a real browser: the victim opened the sign-in page (it has a CSRF cookie),
/// then on another site clicks a button whose form posts to the sign-in page, with a `_csrf`
/// field the attacker got from the page for its own cookie, or none. Both end on Signet's 403
/// page; no code reaches the app, and the browser has no session after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_form_in_a_browser_ends_on_a_403_page() {
    let f = setup().await;
    let r = request(&f, &f.app.callback());
    let mut attacker = Browser::new(f.env.a());
    let login_url = location(&attacker.get(&r.url).await);
    let form_page = attacker.get(&login_url).await;
    let stale = hidden(&form_page.body, "_csrf").expect("the page's CSRF field");
    f.app
        .put_page("/evil-stale", evil_page(&login_url, Some(&stale)));
    f.app.put_page("/evil-missing", evil_page(&login_url, None));
    let out = browser(
        "csrf",
        f.env.a(),
        &[
            ("authorize", &r.url),
            ("evil", &f.app.url("/evil-stale")),
            ("evil", &f.app.url("/evil-missing")),
        ],
    )
    .await;

    for i in [1, 2] {
        let evil = page(&out, &format!("evil-page-{i}"));
        assert_eq!(evil["status"], 200, "{evil:#}");
        let p = page(&out, &format!("after-evil-post-{i}"));
        assert_eq!(
            p["chain"],
            serde_json::json!([[403, &login_url]]),
            "the post is answered 403, not redirected: {p:#}"
        );
        assert_eq!(p["url"], login_url.as_str());
        assert_eq!(
            p["posted_origin"],
            format!("http://{}", f.app.addr),
            "the browser says where the form came from: {p:#}"
        );
        assert_eq!(p["heading"], "This form could not be accepted");
        assert!(
            text(&p["alerts"][0]).starts_with("It did not come from this sign-in page"),
            "{p:#}"
        );
    }
    // No code went to the app, and the victim's browser is not signed in.
    assert!(f.app.callbacks().is_empty(), "{:?}", f.app.hits());
    let again = page(&out, "authorize-again");
    assert!(
        text(&again["url"]).starts_with(&format!("{}/login?", issuer(&f.pool))),
        "{again:#}"
    );
    assert_eq!(again["status"], 200);
    assert!(!text(&out["final_url"]).contains("code="));
    f.app.stop().await;
}

/// The sign-in page by keyboard alone: Tab goes username, password, the button, then the two
/// links, each drawn with a visible focus outline; a wrong password shows the alert and keeps
/// the username; Tab, typing, Tab to the button and Space sign in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_page_works_by_keyboard_alone() {
    let f = setup().await;
    let r = request(&f, &f.app.callback());
    let out = browser(
        "keyboard",
        f.env.a(),
        &[
            ("authorize", &r.url),
            ("callback", &f.app.callback()),
            ("username", "ann"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(
        out["tab_order"],
        serde_json::json!([
            "input#username",
            "input#password",
            "button:Sign in",
            "a:Forgot your password?",
            "a:Sign up"
        ]),
        "{out:#}"
    );
    for o in out["focus_outlines"].as_array().unwrap() {
        assert_eq!(
            o, "solid 3px",
            "the focused element is not outlined: {out:#}"
        );
    }
    let wrong = page(&out, "wrong-password");
    assert_eq!(wrong["status"], 400, "{wrong:#}");
    assert_eq!(
        wrong["alerts"],
        serde_json::json!(["Incorrect username or password."])
    );
    assert_eq!(wrong["inputs"][0]["value"], "ann", "the username is kept");
    assert_eq!(
        out["keyboard_path"],
        serde_json::json!([
            "input#username",
            "input#password",
            "input#username",
            "input#password",
            "button:Sign in"
        ]),
        "{out:#}"
    );
    let code = code_at_callback(&f, &out, &r);
    let (id, _) = tokens(&f, &code, &r).await;
    assert_eq!(id["cognito:username"], "ann");
    f.app.stop().await;
}

/// Run a federated `scenario` (`federated`, `saml`) for `r`: the user clicks "Continue with
/// `provider`" on Signet's page and types `login` (username, password) at the provider, whose
/// pages the browser finds at `base`. Checks that Signet's page offered the provider and that
/// its button went through Signet's authorize, naming the provider, to the provider's page
/// `step` (200): the report and that page.
async fn sign_in_upstream(
    f: &Fixture,
    r: &Request,
    scenario: &str,
    provider: &str,
    base: &str,
    login: (&str, &str),
    step: &str,
) -> (Value, Value) {
    let out = browser(
        scenario,
        f.env.a(),
        &[
            ("authorize", &r.url),
            ("callback", &f.app.callback()),
            ("provider", provider),
            ("op", base),
            ("username", login.0),
            ("password", login.1),
        ],
    )
    .await;
    let offered = page(&out, "sign-in-page");
    assert!(
        text(&offered["text"]).contains(&format!("Continue with {provider}")),
        "{offered:#}"
    );
    let at = page(&out, step).clone();
    assert_eq!(at["status"], 200, "{at:#}");
    assert_eq!(at["chain"][0][0], 302, "{at:#}");
    let button = text(&at["chain"][0][1]);
    assert!(button.starts_with(&format!("{}/oauth2/authorize?", issuer(&f.pool))));
    assert_eq!(
        query_param(button, "identity_provider").as_deref(),
        Some(provider)
    );
    (out, at)
}

/// The app's code at the end of a federated sign-in, exchanged: tokens for the pool's user
/// `username`, with `email` and the one identity (provider, its type, the user's id there).
async fn federated_tokens(
    f: &Fixture,
    out: &Value,
    r: &Request,
    username: &str,
    email: &str,
    identity: (&str, &str, &str),
) {
    let code = code_at_callback(f, out, r);
    let (id, access) = tokens(f, &code, r).await;
    assert_eq!(id["cognito:username"], username, "{id:#?}");
    assert_eq!(id["email"], email, "{id:#?}");
    let (provider, kind, user_id) = identity;
    assert_eq!(id["identities"][0]["providerName"], provider, "{id:#?}");
    assert_eq!(id["identities"][0]["providerType"], kind, "{id:#?}");
    assert_eq!(id["identities"][0]["userId"], user_id, "{id:#?}");
    assert_eq!(access["username"], username);
}

/// Our client at the OpenID Provider, and the provider's name in the pool.
const OP_CLIENT_ID: &str = "signet-at-op";
const OP_CLIENT_SECRET: &str = "op-secret-for-signet";
const OP_PROVIDER: &str = "NodeOP";

/// A pool whose OIDC provider [`OP_PROVIDER`] is a real OpenID Provider (started here, our
/// client registered there with the pool's `/oauth2/idpresponse` as its redirect URI;
/// mapped: email and name), the app's server, and a public client offering the provider
/// beside the pool's own users.
async fn setup_federated() -> (Fixture, OpenIdProvider) {
    let env = Arc::new(TestEnv::start(3, 2).await);
    let gw = env.a();
    let (pool, _) = pool_and_client(gw, false).await;
    let redirect = format!("{}/oauth2/idpresponse", issuer(&pool));
    let op = OpenIdProvider::start(OP_CLIENT_ID, OP_CLIENT_SECRET, &redirect).await;
    admin_client(gw)
        .await
        .create_identity_provider(admin(pb::IdentityProviderType {
            user_pool_id: pool.clone(),
            provider_name: OP_PROVIDER.into(),
            provider_type: "OIDC".into(),
            provider_details: HashMap::from([
                ("client_id".to_string(), OP_CLIENT_ID.to_string()),
                ("client_secret".to_string(), OP_CLIENT_SECRET.to_string()),
                (
                    "authorize_scopes".to_string(),
                    "openid email profile".to_string(),
                ),
                ("oidc_issuer".to_string(), op.issuer.clone()),
            ]),
            attribute_mapping: HashMap::from([
                ("email".to_string(), "email".to_string()),
                ("name".to_string(), "name".to_string()),
            ]),
            ..Default::default()
        }))
        .await
        .unwrap_or_else(|e| panic!("create idp: {}: {}", exception(&e), e.message()));
    (with_app(env, pool, &["COGNITO", OP_PROVIDER]).await, op)
}

/// Federated sign-in with a real, independent OpenID Provider (panva's `oidc-provider`):
/// the user clicks "Continue with NodeOP" on Signet's page, types a login on the provider's
/// login page, confirms on its consent page, and the browser comes back through Signet's
/// `/oauth2/idpresponse` to the app's callback with a code and the state. Signet found the
/// provider by discovery, exchanged its code (client_secret_basic, PKCE), checked its ID
/// token against its JWKS and read its user info: the tokens name the EXTERNAL_PROVIDER user
/// `nodeop_op-user-1` with the provider's e-mail and the `identities` claim.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_signs_in_at_a_real_openid_provider_and_brings_the_app_a_code() {
    let (f, op) = setup_federated().await;
    let r = request(&f, &f.app.callback());
    // Signet's page offers the provider; its button goes through Signet's authorize to the
    // provider's authorize endpoint (our client there, the scopes, S256, Signet's own nonce
    // and state, the pool's idpresponse) and on to the provider's login page.
    let (out, at_op) = sign_in_upstream(
        &f,
        &r,
        "federated",
        OP_PROVIDER,
        &op.issuer,
        ("olga", "any-password-will-do"),
        "op-login-page",
    )
    .await;
    let idpresponse = format!("{}/oauth2/idpresponse", issuer(&f.pool));
    assert!(
        text(&at_op["url"]).starts_with(&format!("{}/interaction/", op.issuer)),
        "{at_op:#}"
    );
    assert_eq!(at_op["heading"], "Sign-in");
    let chain = at_op["chain"].as_array().expect("chain");
    assert_eq!(chain.len(), 3, "{at_op:#}");
    assert_eq!(chain[1][0], 303, "{at_op:#}");
    let asked = text(&chain[1][1]);
    assert!(
        asked.starts_with(&format!("{}/auth?", op.issuer)),
        "{asked}"
    );
    let q = |k: &str| query_param(asked, k).unwrap_or_default();
    assert_eq!(q("response_type"), "code");
    assert_eq!(q("client_id"), OP_CLIENT_ID);
    assert_eq!(q("redirect_uri"), idpresponse);
    assert_eq!(q("scope"), "openid email profile");
    assert_eq!(q("code_challenge_method"), "S256");
    assert_eq!(q("code_challenge").len(), 43, "{asked}");
    assert!(q("nonce").len() >= 32 && q("nonce") != r.nonce, "{asked}");
    assert!(!q("state").is_empty() && q("state") != r.state, "{asked}");

    // The login typed was taken (the form posted from the provider's own page), and the
    // provider asked for consent to the scopes.
    let consent = page(&out, "op-consent-page");
    assert_eq!(consent["status"], 200, "{consent:#}");
    assert!(text(&consent["url"]).starts_with(&format!("{}/interaction/", op.issuer)));
    assert_eq!(consent["heading"], "Authorize");
    assert_eq!(consent["posted_origin"], op.issuer.as_str(), "{consent:#}");
    assert!(
        text(&consent["text"]).contains("email") && text(&consent["text"]).contains("profile"),
        "{consent:#}"
    );

    // Consent sent the browser to the pool's idpresponse with the provider's code, Signet's
    // state and the provider's `iss` (RFC 9207); Signet answered with the app's callback.
    let cb = page(&out, "callback");
    assert_eq!(cb["posted_origin"], op.issuer.as_str(), "{cb:#}");
    let hops = cb["chain"].as_array().expect("chain");
    let back = hops
        .iter()
        .position(|h| text(&h[1]).starts_with(&format!("{idpresponse}?")))
        .unwrap_or_else(|| panic!("the browser never came back to Signet: {cb:#}"));
    assert_eq!(hops[back][0], 302, "{cb:#}");
    let returned = text(&hops[back][1]);
    assert!(query_param(returned, "code").is_some(), "{returned}");
    assert_eq!(query_param(returned, "state"), Some(q("state")));
    assert_eq!(query_param(returned, "iss"), Some(op.issuer.clone()));
    assert_eq!(hops.len(), back + 2, "Signet's answer is the app: {cb:#}");

    // The app's code: tokens for the provider's user, named after the provider.
    let username = format!("{}_{OP_SUBJECT}", OP_PROVIDER.to_lowercase());
    assert_eq!(username, "nodeop_op-user-1");
    let identity = (OP_PROVIDER, "OIDC", OP_SUBJECT);
    federated_tokens(&f, &out, &r, &username, OP_EMAIL, identity).await;
    let user = admin_client(f.env.a())
        .await
        .admin_get_user(admin(user_ref(&f.pool, &username)))
        .await
        .expect("the federated user")
        .into_inner()
        .user
        .expect("user");
    assert_eq!(user.user_status, "EXTERNAL_PROVIDER");
    let attr = |name: &str| {
        user.attributes
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.value.clone())
    };
    assert_eq!(attr("email").as_deref(), Some(OP_EMAIL));
    assert_eq!(attr("name").as_deref(), Some(OP_NAME));

    // What the gateway asked the provider: discovery, its keys, the code exchanged (client
    // authenticated, PKCE verifier accepted), the user info; nothing the provider refused.
    let asked_op = op.requests();
    for want in [
        "GET /.well-known/openid-configuration -> 200",
        "GET /jwks -> 200",
        "POST /token -> 200",
        "GET /me -> 200",
    ] {
        assert!(asked_op.iter().any(|l| l == want), "{want}: {asked_op:#?}");
    }
    let log = op.log();
    assert!(
        !log.iter().any(|l| l.contains("error")),
        "the provider refused something: {log:#?}"
    );
    f.app.stop().await;
    op.stop().await;
}

/// The SAML IdP's one user: (name, password, e-mail).
const IDP_USER: (&str, &str, &str) = ("alice", "alice-pw", "alice@corp.example");

/// A pool whose SAML provider [`SAML_PROVIDER`] is a real IdP (pysaml2, started here,
/// signing the Assertion; it fetches our SP metadata from the gateway), the app's server,
/// and a public client offering the provider beside the pool's own users.
async fn setup_saml() -> (Fixture, SamlIdp) {
    let env = Arc::new(TestEnv::start(3, 2).await);
    let gw = env.a();
    let local = format!("http://{}", gw.http_addr());
    let (name, password, email) = IDP_USER;
    let user = format!("{name}:{password}:{email}");
    let idp = SamlIdp::start(&[&user], "assertion", (TEST_PUBLIC_URL, &local)).await;
    let (pool, _) = pool_and_client(gw, false).await;
    saml_provider(gw, &pool, &idp).await;
    (with_app(env, pool, &["COGNITO", SAML_PROVIDER]).await, idp)
}

/// Federated sign-in with a real SAML 2.0 IdP (pysaml2): the user clicks "Continue with
/// Corp" on Signet's page, which sends the browser to the IdP with our AuthnRequest, and
/// types a login on the IdP's page; the IdP's answer posts its signed Response to Signet's
/// ACS (by its own script, or the user's click on its button); the ACS answers 303 to its
/// GET, and that sends the browser to the app's callback with a code and the state. The
/// tokens name `corp_alice` (the provider, the NameID) with the mapped e-mail and a SAML
/// identity.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_signs_in_at_a_real_saml_idp_and_brings_the_app_a_code() {
    let (f, idp) = setup_saml().await;
    let (name, password, email) = IDP_USER;
    let r = request(&f, &f.app.callback());
    // Signet's page offers the provider; its button goes through Signet's authorize straight
    // to the IdP's sign-on URL with our AuthnRequest and the sealed RelayState: the IdP's
    // login page, its fields labelled.
    let (out, at_idp) = sign_in_upstream(
        &f,
        &r,
        "saml",
        SAML_PROVIDER,
        &idp.base(),
        (name, password),
        "idp-login-page",
    )
    .await;
    let chain = at_idp["chain"].as_array().expect("chain");
    let asked = text(&at_idp["url"]);
    assert_eq!(chain.len(), 2, "{at_idp:#}");
    assert_eq!(chain[1], serde_json::json!([200, asked]), "{at_idp:#}");
    assert!(asked.starts_with(&format!("{}?", idp.sso_url)), "{asked}");
    assert!(query_param(asked, "SAMLRequest").is_some(), "{asked}");
    assert!(query_param(asked, "RelayState").is_some(), "{asked}");
    assert_eq!(
        labelled_inputs(&at_idp),
        pairs(&[("username", "Username"), ("password", "Password")])
    );

    // The IdP's page posted the Response to the ACS (with the IdP's origin: its script did,
    // or the user's click; the login's post before it is there too when the script was
    // quicker than the browser's next look); Signet answered 303 to the ACS's GET, and that
    // 302 to the app's callback.
    let how = text(&out["saml_post"]);
    assert!(how == "script" || how == "button", "{out:#}");
    let acs = format!("{}/saml2/idpresponse", issuer(&f.pool));
    let cb = page(&out, "callback");
    let posts = cb["posts"].as_array().expect("posts");
    assert_eq!(
        posts.last(),
        Some(&serde_json::json!([&acs, idp.base()])),
        "the last post: to the ACS, from the IdP's page: {cb:#}"
    );
    assert_eq!(cb["posted_origin"], idp.base(), "{cb:#}");
    let hops = cb["chain"].as_array().expect("chain");
    let back = hops
        .iter()
        .position(|h| h[1] == acs.as_str())
        .unwrap_or_else(|| panic!("the browser never posted to the ACS: {cb:#}"));
    assert_eq!(hops.len(), back + 3, "the ACS, its GET, the app: {cb:#}");
    assert_eq!(hops[back][0], 303, "{cb:#}");
    assert_eq!(hops[back + 1][0], 302, "{cb:#}");
    let result = text(&hops[back + 1][1]);
    assert!(result.starts_with(&format!("{acs}?")), "{cb:#}");
    assert!(query_param(result, "result").is_some(), "{result}");

    // The app's code: tokens for the IdP's user, named after the provider and the NameID.
    let identity = (SAML_PROVIDER, "SAML", name);
    federated_tokens(&f, &out, &r, "corp_alice", email, identity).await;

    // What the IdP served: the AuthnRequest's login page and the login's answer; nothing
    // it refused but the icon Chromium asks every site for.
    let log = idp.log();
    for want in [
        "saml_idp.py: GET /sso/redirect -> 200",
        "saml_idp.py: POST /sso/login -> 200",
    ] {
        assert!(log.iter().any(|l| l == want), "{want}: {log:#?}");
    }
    let refused = log
        .iter()
        .filter(|l| l.contains(" -> 4") || l.contains(" -> 5"))
        .filter(|l| !l.contains(" /favicon.ico "));
    assert_eq!(refused.count(), 0, "the IdP refused something: {log:#?}");
    f.app.stop().await;
    idp.stop().await;
}
