//! A stand-in OpenID Connect provider for federation tests: discovery, an authorize
//! endpoint that signs in its current user at once (no page), a token endpoint that checks
//! the client's secret, the code, its redirect URI and the PKCE verifier, user info and
//! JWKS. Its ID tokens can be made wrong on purpose (`Tamper`) to attack the relying side.

use super::jws::now_s;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::Digest;
use signet_crypto::{Algorithm, SigningKeyPair};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// What the provider does wrong on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    None,
    WrongNonce,
    WrongAudience,
    WrongIssuer,
    Expired,
    OtherKey,
    NoNonce,
}

pub struct IdpState {
    pub client_id: String,
    pub client_secret: String,
    key: SigningKeyPair,
    other_key: SigningKeyPair,
    /// The user it signs in.
    pub subject: String,
    pub claims: Map<String, Value>,
    pub tamper: Tamper,
    /// Issued codes: code → (nonce, challenge, redirect_uri).
    codes: HashMap<String, (String, String, String)>,
    /// The authorize requests it saw (query parameters).
    pub authorize_requests: Vec<HashMap<String, String>>,
    /// Whether the last token request carried the secret in its body (not HTTP Basic).
    pub secret_in_body: bool,
    /// Access tokens its social APIs know: token → (app id, user id).
    social_tokens: HashMap<String, (String, String)>,
    /// Apple mode: the team and the public JWK its client secrets are signed with.
    pub apple: Option<(String, Value)>,
    /// Apple's `user` field (a name) posted with the next answer.
    pub apple_user: Option<String>,
    issuer: String,
}

pub struct UpstreamIdp {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<IdpState>>,
}

impl UpstreamIdp {
    pub async fn start(client_id: &str, client_secret: &str) -> UpstreamIdp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(IdpState {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            key: SigningKeyPair::generate(Algorithm::RS256).unwrap(),
            other_key: SigningKeyPair::generate(Algorithm::RS256).unwrap(),
            subject: "upstream-user-1".into(),
            claims: Map::new(),
            tamper: Tamper::None,
            codes: HashMap::new(),
            authorize_requests: vec![],
            secret_in_body: false,
            social_tokens: HashMap::new(),
            apple: None,
            apple_user: None,
            issuer: format!("http://{addr}"),
        }));
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .route("/jwks", get(jwks))
            .route("/app", get(fb_app))
            .route("/me", get(fb_me))
            .route("/auth/o2/tokeninfo", get(amazon_tokeninfo))
            .with_state(state.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        UpstreamIdp { addr, state }
    }

    pub fn issuer(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_user(&self, subject: &str, claims: Value) {
        let mut s = self.state.lock().unwrap();
        s.subject = subject.into();
        s.claims = claims.as_object().cloned().unwrap_or_default();
    }

    /// An access token its social APIs (Facebook's `/app` and `/me`, Amazon's
    /// `/auth/o2/tokeninfo`) vouch for: issued to `app`, for `user`.
    pub fn social_token(&self, app: &str, user: &str) -> String {
        let t = format!("social-{}", signet_crypto::random_hex_id());
        self.state
            .lock()
            .unwrap()
            .social_tokens
            .insert(t.clone(), (app.into(), user.into()));
        t
    }

    pub fn tamper(&self, t: Tamper) {
        self.state.lock().unwrap().tamper = t;
    }
}

type Shared = State<Arc<Mutex<IdpState>>>;

async fn discovery(State(s): Shared) -> Json<Value> {
    let i = s.lock().unwrap().issuer.clone();
    Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "userinfo_endpoint": format!("{i}/userinfo"),
        "jwks_uri": format!("{i}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn authorize(State(s): Shared, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut st = s.lock().unwrap();
    st.authorize_requests.push(q.clone());
    if q.get("client_id") != Some(&st.client_id)
        || q.get("response_type").map(String::as_str) != Some("code")
    {
        return (StatusCode::BAD_REQUEST, "bad client or response_type").into_response();
    }
    let code = signet_crypto::random_hex_id();
    st.codes.insert(
        code.clone(),
        (
            q.get("nonce").cloned().unwrap_or_default(),
            q.get("code_challenge").cloned().unwrap_or_default(),
            q.get("redirect_uri").cloned().unwrap_or_default(),
        ),
    );
    if q.get("response_mode").map(String::as_str) == Some("form_post") {
        // As Apple: a page whose form posts the answer to the redirect URI.
        let field =
            |n: &str, v: &str| format!("<input type=\"hidden\" name=\"{n}\" value=\"{v}\">");
        let mut inner = field("code", &code)
            + &field("state", q.get("state").map(String::as_str).unwrap_or(""));
        if let Some(u) = &st.apple_user {
            inner += &field("user", &u.replace('"', "&quot;"));
        }
        let html = format!(
            "<html><body><form method=\"post\" action=\"{}\">{inner}</form></body></html>",
            q["redirect_uri"]
        );
        return axum::response::Html(html).into_response();
    }
    let mut back = url_with(&q["redirect_uri"], &[("code", &code)]);
    if let Some(state) = q.get("state") {
        back = url_with(&back, &[("state", state)]);
    }
    Redirect::to(&back).into_response()
}

fn url_with(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut u = oauth2::url::Url::parse(base).unwrap();
    for (k, v) in pairs {
        u.query_pairs_mut().append_pair(k, v);
    }
    u.to_string()
}

async fn token(
    State(s): Shared,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let mut st = s.lock().unwrap();
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", st.client_id, st.client_secret))
    );
    let basic_ok =
        headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str());
    let post_ok = match &st.apple {
        // Apple: the secret is an ES256 JWT of the team, for the client, to Apple.
        Some((team, jwk)) => {
            let mut keys = signet_verify::KeySet::new();
            keys.insert_jwk(&jwk.to_string()).unwrap();
            let expected = signet_verify::Expected {
                issuer: team.clone(),
                token_use: signet_verify::TokenUse::Oidc,
                clients: Some(vec!["https://appleid.apple.com".into()]),
                leeway_s: 5,
            };
            f.get("client_id") == Some(&st.client_id)
                && f.get("client_secret").is_some_and(|s| {
                    signet_verify::verify(s, &keys, &expected)
                        .is_ok_and(|c| c["sub"] == st.client_id.as_str())
                })
        }
        None => {
            f.get("client_id") == Some(&st.client_id)
                && f.get("client_secret") == Some(&st.client_secret)
        }
    };
    st.secret_in_body = post_ok;
    if !(basic_ok || post_ok) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let Some((nonce, challenge, redirect)) = f.get("code").and_then(|c| st.codes.remove(c)) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        )
            .into_response();
    };
    let verifier = f.get("code_verifier").cloned().unwrap_or_default();
    let s256 = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    // Apple takes no PKCE.
    let pkce_ok = (st.apple.is_some() && challenge.is_empty()) || s256 == challenge;
    if !pkce_ok || f.get("redirect_uri") != Some(&redirect) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        )
            .into_response();
    }
    let now = now_s();
    let mut claims = st.claims.clone();
    claims.insert("sub".into(), st.subject.clone().into());
    claims.insert("iss".into(), st.issuer.clone().into());
    claims.insert("aud".into(), st.client_id.clone().into());
    claims.insert("iat".into(), now.into());
    claims.insert("exp".into(), (now + 300).into());
    claims.insert("nonce".into(), nonce.into());
    let mut key = &st.key;
    match st.tamper {
        Tamper::None => {}
        Tamper::WrongNonce => {
            claims.insert("nonce".into(), "another-sign-in".into());
        }
        Tamper::NoNonce => {
            claims.remove("nonce");
        }
        Tamper::WrongAudience => {
            claims.insert("aud".into(), "someone-else".into());
        }
        Tamper::WrongIssuer => {
            claims.insert("iss".into(), "https://evil.example".into());
        }
        Tamper::Expired => {
            claims.insert("iat".into(), (now - 7200).into());
            claims.insert("exp".into(), (now - 3600).into());
        }
        Tamper::OtherKey => key = &st.other_key,
    }
    let id_token = key.sign(&Value::Object(claims)).unwrap();
    let access = format!("at-{}", signet_crypto::random_hex_id());
    Json(json!({"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": id_token})).into_response()
}

async fn userinfo(State(s): Shared, headers: HeaderMap) -> Response {
    if !headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer at-"))
    {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let st = s.lock().unwrap();
    let mut claims = st.claims.clone();
    // OIDC's `sub`, Facebook's `id`, Login with Amazon's `user_id`.
    claims.insert("sub".into(), st.subject.clone().into());
    claims.insert("id".into(), st.subject.clone().into());
    claims.insert("user_id".into(), st.subject.clone().into());
    Json(Value::Object(claims)).into_response()
}

async fn jwks(State(s): Shared) -> Json<Value> {
    let st = s.lock().unwrap();
    Json(json!({"keys": [st.key.public_jwk().clone()]}))
}

fn social(s: &Shared, q: &HashMap<String, String>) -> Option<(String, String)> {
    let st = s.lock().unwrap();
    q.get("access_token")
        .and_then(|t| st.social_tokens.get(t))
        .cloned()
}

fn unknown_token() -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": {"message": "Invalid OAuth access token", "code": 190}})),
    )
        .into_response()
}

async fn fb_app(s: Shared, Query(q): Query<HashMap<String, String>>) -> Response {
    match social(&s, &q) {
        Some((app, _)) => Json(json!({"id": app, "name": "stand-in app"})).into_response(),
        None => unknown_token(),
    }
}

async fn fb_me(s: Shared, Query(q): Query<HashMap<String, String>>) -> Response {
    match social(&s, &q) {
        Some((_, user)) => Json(json!({"id": user})).into_response(),
        None => unknown_token(),
    }
}

async fn amazon_tokeninfo(s: Shared, Query(q): Query<HashMap<String, String>>) -> Response {
    match social(&s, &q) {
        Some((app, user)) => {
            Json(json!({"aud": app, "user_id": user, "app_id": app, "exp": 3000})).into_response()
        }
        None => unknown_token(),
    }
}
