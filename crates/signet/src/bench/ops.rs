//! One operation of each scenario. An operation is chosen by its sequence number `n`, so
//! load spreads over gateways, users and (for `mixed`) kinds without any shared state.

use super::fixtures::{password_auth, Fixtures, SCOPE};
use crate::service_client;
use bytes::Bytes;
use http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use signet_proto::v1 as pb;
use signet_proto::v1::identity_client::IdentityClient;
use signet_proto::v1::user_pool_auth_client::UserPoolAuthClient;
use signet_verify::{Expected, KeySet, TokenUse};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// A keep-alive HTTP/1.1 client with TCP_NODELAY (one connection per concurrent caller).
pub fn http_client() -> HttpClient {
    let mut conn = HttpConnector::new();
    conn.set_nodelay(true);
    conn.set_connect_timeout(Some(Duration::from_secs(5)));
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .build(conn)
}

/// A client_credentials token request to one gateway, encoded once.
pub struct TokenRequest {
    uri: Uri,
    authorization: HeaderValue,
    body: Bytes,
}

impl TokenRequest {
    /// `POST {http}/{pool}/oauth2/token` with client_secret_basic.
    pub fn new(http_base: &str, f: &Fixtures) -> anyhow::Result<TokenRequest> {
        Ok(TokenRequest {
            uri: format!("{http_base}/{}/oauth2/token", f.pool_id).parse()?,
            authorization: HeaderValue::from_str(&service_client::basic_authorization(
                &f.service_client_id,
                &f.service_client_secret,
            ))?,
            body: Bytes::from(service_client::token_body(SCOPE)),
        })
    }

    /// `POST token_url` with client_secret_basic: another server's token endpoint.
    pub fn to(
        token_url: &str,
        client_id: &str,
        client_secret: &str,
        scope: &str,
    ) -> anyhow::Result<TokenRequest> {
        let body = if scope.is_empty() {
            "grant_type=client_credentials".to_string()
        } else {
            service_client::token_body(scope)
        };
        Ok(TokenRequest {
            uri: token_url.parse()?,
            authorization: HeaderValue::from_str(&service_client::basic_authorization(
                client_id,
                client_secret,
            ))?,
            body: Bytes::from(body),
        })
    }

    fn request(&self) -> Request<Full<Bytes>> {
        let mut r = Request::new(Full::new(self.body.clone()));
        *r.method_mut() = http::Method::POST;
        *r.uri_mut() = self.uri.clone();
        let h = r.headers_mut();
        h.insert(AUTHORIZATION, self.authorization.clone());
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        r
    }
}

/// A forward-auth question to one gateway: `GET {http}/authorize` about `GET
/// /bench/items/{n}` with a bearer token, as a proxy asks it.
pub struct AuthorizeRequest {
    uri: Uri,
    authorization: HeaderValue,
}

impl AuthorizeRequest {
    pub fn new(http_base: &str, token: &str) -> anyhow::Result<AuthorizeRequest> {
        Ok(AuthorizeRequest {
            uri: format!("{http_base}/authorize").parse()?,
            authorization: HeaderValue::from_str(&format!("Bearer {token}"))?,
        })
    }

    fn request(&self, n: u64) -> Request<Full<Bytes>> {
        let mut r = Request::new(Full::new(Bytes::new()));
        *r.uri_mut() = self.uri.clone();
        let h = r.headers_mut();
        h.insert(AUTHORIZATION, self.authorization.clone());
        h.insert("x-forwarded-method", HeaderValue::from_static("GET"));
        if let Ok(v) = HeaderValue::from_str(&format!("/bench/items/{n}")) {
            h.insert("x-forwarded-uri", v);
        }
        r
    }
}

/// A gRPC failure as an error code: the Cognito exception name when the gateway gave one.
fn grpc_code(s: &tonic::Status) -> String {
    signet_gateway::exception_name(s).unwrap_or_else(|| format!("gRPC {:?}", s.code()))
}

/// One operation kind with what it needs. Each worker holds the clients; they are cheap
/// handles onto shared connections.
pub enum Op {
    /// client_credentials over HTTP: one request template per gateway.
    ClientCredentialsHttp {
        client: HttpClient,
        requests: Arc<Vec<TokenRequest>>,
    },
    /// A plain GET (one URI per gateway) answered 200: the serving floor.
    HttpGet {
        client: HttpClient,
        uris: Arc<Vec<Uri>>,
    },
    /// The gRPC health check of the whole server, answered SERVING: the serving floor
    /// over gRPC.
    GrpcHealth { clients: Vec<HealthClient<Channel>> },
    /// client_credentials over gRPC (`UserPoolAuth.IssueClientToken`).
    ClientCredentialsGrpc {
        clients: Vec<UserPoolAuthClient<Channel>>,
        request: pb::IssueClientTokenRequest,
    },
    /// USER_PASSWORD_AUTH of user `n % users`.
    PasswordSignIn {
        clients: Vec<UserPoolAuthClient<Channel>>,
        requests: Arc<Vec<pb::InitiateAuthRequest>>,
    },
    /// USER_PASSWORD_AUTH then SOFTWARE_TOKEN_MFA, from user `n % users` on (the first
    /// whose TOTP window has a step left).
    MfaSignIn {
        clients: Vec<UserPoolAuthClient<Channel>>,
        requests: Arc<Vec<pb::InitiateAuthRequest>>,
        client_id: String,
        totp: Arc<Vec<UserTotp>>,
    },
    /// REFRESH_TOKEN_AUTH with user `n % users`'s refresh token.
    Refresh {
        clients: Vec<UserPoolAuthClient<Channel>>,
        requests: Arc<Vec<pb::InitiateAuthRequest>>,
    },
    /// REFRESH_TOKEN_AUTH on a rotating client: a user no other caller holds (from
    /// `n % users` on), with the newest refresh token of that user, which the answer
    /// replaces.
    RefreshRotating {
        clients: Vec<UserPoolAuthClient<Channel>>,
        client_id: String,
        tokens: Arc<Vec<tokio::sync::Mutex<String>>>,
    },
    /// GetId then GetCredentialsForIdentity for user `n % users`'s existing identity.
    GetCredentials {
        clients: Vec<IdentityClient<Channel>>,
        identity_pool_id: String,
        /// (identity id, logins) per user.
        logins: Arc<Vec<(String, HashMap<String, String>)>>,
    },
    /// The edge authorizer's forward-auth decision (`GET /authorize`) on a
    /// client_credentials token: one request template per gateway.
    Authorize {
        client: HttpClient,
        requests: Arc<Vec<AuthorizeRequest>>,
    },
    /// signet-verify's `verify` of one token against the pool's JWKS, in this process.
    Verify {
        keys: Arc<KeySet>,
        expected: Arc<Expected>,
        token: Arc<str>,
    },
}

impl Op {
    pub fn grpc_health(channels: &[Channel]) -> Op {
        Op::GrpcHealth {
            clients: channels.iter().cloned().map(HealthClient::new).collect(),
        }
    }

    pub fn client_credentials_grpc(channels: &[Channel], f: &Fixtures) -> Op {
        Op::ClientCredentialsGrpc {
            clients: channels
                .iter()
                .cloned()
                .map(UserPoolAuthClient::new)
                .collect(),
            request: pb::IssueClientTokenRequest {
                user_pool_id: f.pool_id.clone(),
                client_id: f.service_client_id.clone(),
                client_secret: f.service_client_secret.clone(),
                scope: SCOPE.into(),
            },
        }
    }

    pub fn password_sign_in(channels: &[Channel], f: &Fixtures) -> Op {
        Op::PasswordSignIn {
            clients: auth_clients(channels),
            requests: Arc::new(
                f.users
                    .iter()
                    .map(|u| password_auth(&f.user_client_id, u))
                    .collect(),
            ),
        }
    }

    pub fn mfa_sign_in(channels: &[Channel], f: &Fixtures) -> Op {
        Op::MfaSignIn {
            clients: auth_clients(channels),
            requests: Arc::new(
                f.users
                    .iter()
                    .map(|u| password_auth(&f.user_client_id, u))
                    .collect(),
            ),
            client_id: f.user_client_id.clone(),
            totp: Arc::new(
                f.users
                    .iter()
                    .map(|u| {
                        let (seed, step) = u.totp.clone().unwrap_or_default();
                        UserTotp {
                            username: u.username.clone(),
                            seed,
                            last_step: std::sync::atomic::AtomicU64::new(step),
                        }
                    })
                    .collect(),
            ),
        }
    }

    pub fn refresh(channels: &[Channel], f: &Fixtures) -> Op {
        if f.rotation {
            return Op::RefreshRotating {
                clients: auth_clients(channels),
                client_id: f.user_client_id.clone(),
                tokens: Arc::new(
                    f.users
                        .iter()
                        .map(|u| tokio::sync::Mutex::new(u.refresh_token.clone()))
                        .collect(),
                ),
            };
        }
        Op::Refresh {
            clients: auth_clients(channels),
            requests: Arc::new(
                f.users
                    .iter()
                    .map(|u| pb::InitiateAuthRequest {
                        client_id: f.user_client_id.clone(),
                        auth_flow: "REFRESH_TOKEN_AUTH".into(),
                        auth_parameters: HashMap::from([(
                            "REFRESH_TOKEN".to_string(),
                            u.refresh_token.clone(),
                        )]),
                        client_metadata: Default::default(),
                    })
                    .collect(),
            ),
        }
    }

    pub fn get_credentials(channels: &[Channel], f: &Fixtures) -> Op {
        Op::GetCredentials {
            clients: channels.iter().cloned().map(IdentityClient::new).collect(),
            identity_pool_id: f.identity_pool_id.clone(),
            logins: Arc::new(
                f.users
                    .iter()
                    .map(|u| {
                        (
                            u.identity_id.clone(),
                            HashMap::from([(f.provider.clone(), u.id_token.clone())]),
                        )
                    })
                    .collect(),
            ),
        }
    }

    /// A copy for another worker (clients are handles onto the same connections).
    pub fn share(&self) -> Op {
        match self {
            Op::ClientCredentialsHttp { client, requests } => Op::ClientCredentialsHttp {
                client: client.clone(),
                requests: requests.clone(),
            },
            Op::ClientCredentialsGrpc { clients, request } => Op::ClientCredentialsGrpc {
                clients: clients.clone(),
                request: request.clone(),
            },
            Op::PasswordSignIn { clients, requests } => Op::PasswordSignIn {
                clients: clients.clone(),
                requests: requests.clone(),
            },
            Op::Refresh { clients, requests } => Op::Refresh {
                clients: clients.clone(),
                requests: requests.clone(),
            },
            Op::MfaSignIn {
                clients,
                requests,
                client_id,
                totp,
            } => Op::MfaSignIn {
                clients: clients.clone(),
                requests: requests.clone(),
                client_id: client_id.clone(),
                totp: totp.clone(),
            },
            Op::RefreshRotating {
                clients,
                client_id,
                tokens,
            } => Op::RefreshRotating {
                clients: clients.clone(),
                client_id: client_id.clone(),
                tokens: tokens.clone(),
            },
            Op::GetCredentials {
                clients,
                identity_pool_id,
                logins,
            } => Op::GetCredentials {
                clients: clients.clone(),
                identity_pool_id: identity_pool_id.clone(),
                logins: logins.clone(),
            },
            Op::Authorize { client, requests } => Op::Authorize {
                client: client.clone(),
                requests: requests.clone(),
            },
            Op::HttpGet { client, uris } => Op::HttpGet {
                client: client.clone(),
                uris: uris.clone(),
            },
            Op::GrpcHealth { clients } => Op::GrpcHealth {
                clients: clients.clone(),
            },
            Op::Verify {
                keys,
                expected,
                token,
            } => Op::Verify {
                keys: keys.clone(),
                expected: expected.clone(),
                token: token.clone(),
            },
        }
    }

    /// Run operation `n`; Err holds an error code (exception name, HTTP status and OAuth
    /// error, or transport failure).
    pub async fn call(&mut self, n: u64) -> Result<(), String> {
        let pick = |len: usize| (n % len.max(1) as u64) as usize;
        match self {
            Op::ClientCredentialsHttp { client, requests } => {
                let req = requests[pick(requests.len())].request();
                http_token(client, req).await
            }
            Op::HttpGet { client, uris } => {
                let mut req = Request::new(Full::new(Bytes::new()));
                *req.uri_mut() = uris[pick(uris.len())].clone();
                http_ok(client, req).await
            }
            Op::Authorize { client, requests } => {
                let req = requests[pick(requests.len())].request(n);
                http_ok(client, req).await
            }
            Op::GrpcHealth { clients } => {
                let i = pick(clients.len());
                let asked = HealthCheckRequest {
                    service: String::new(),
                };
                match clients[i].check(asked).await {
                    Ok(a) if a.get_ref().status == ServingStatus::Serving as i32 => Ok(()),
                    Ok(a) => Err(format!("health status {}", a.get_ref().status)),
                    Err(s) => Err(grpc_code(&s)),
                }
            }
            Op::ClientCredentialsGrpc { clients, request } => {
                let i = pick(clients.len());
                match clients[i].issue_client_token(request.clone()).await {
                    Ok(a) if !a.get_ref().access_token.is_empty() => Ok(()),
                    Ok(_) => Err("answer without access_token".into()),
                    Err(s) => Err(grpc_code(&s)),
                }
            }
            Op::PasswordSignIn { clients, requests } | Op::Refresh { clients, requests } => {
                let i = pick(clients.len());
                let req = requests[pick(requests.len())].clone();
                match clients[i].initiate_auth(req).await {
                    Ok(a) => match &a.get_ref().authentication_result {
                        Some(t) if !t.access_token.is_empty() => Ok(()),
                        _ => Err(format!("challenge {}", a.get_ref().challenge_name)),
                    },
                    Err(s) => Err(grpc_code(&s)),
                }
            }
            Op::RefreshRotating {
                clients,
                client_id,
                tokens,
            } => {
                let i = pick(clients.len());
                let start = pick(tokens.len());
                // A user no other caller holds; with more callers than users, wait for one.
                let mut held = None;
                for k in 0..tokens.len() {
                    if let Ok(g) = tokens[(start + k) % tokens.len()].try_lock() {
                        held = Some(g);
                        break;
                    }
                }
                let mut token = match held {
                    Some(g) => g,
                    None => tokens[start].lock().await,
                };
                let req = pb::InitiateAuthRequest {
                    client_id: client_id.clone(),
                    auth_flow: "REFRESH_TOKEN_AUTH".into(),
                    auth_parameters: HashMap::from([("REFRESH_TOKEN".to_string(), token.clone())]),
                    client_metadata: Default::default(),
                };
                match clients[i].initiate_auth(req).await {
                    Ok(a) => match &a.get_ref().authentication_result {
                        Some(t) if !t.refresh_token.is_empty() => {
                            *token = t.refresh_token.clone();
                            Ok(())
                        }
                        Some(_) => Err("rotation gave no new refresh token".into()),
                        None => Err(format!("challenge {}", a.get_ref().challenge_name)),
                    },
                    Err(s) => Err(grpc_code(&s)),
                }
            }
            Op::MfaSignIn {
                clients,
                requests,
                client_id,
                totp,
            } => {
                let i = pick(clients.len());
                let start = pick(totp.len());
                // Every user's window used up (too few users for the rate): wait for the
                // next time step, as a real user would wait for the next code.
                let (u, step) = loop {
                    let now_ms = super::fixtures::now_ms();
                    let now = signet_crypto::totp_step(now_ms);
                    let found = (0..totp.len())
                        .map(|k| (start + k) % totp.len())
                        .find_map(|u| totp[u].claim(now).map(|s| (u, s)));
                    match found {
                        Some(f) => break f,
                        None => {
                            let step_ms = signet_crypto::TOTP_STEP_SECS * 1000;
                            let wait = step_ms - now_ms % step_ms + 10;
                            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
                        }
                    }
                };
                let challenge = clients[i]
                    .initiate_auth(requests[u].clone())
                    .await
                    .map_err(|s| grpc_code(&s))?
                    .into_inner();
                if challenge.challenge_name != "SOFTWARE_TOKEN_MFA" {
                    return Err(format!("challenge {:?}", challenge.challenge_name));
                }
                let t = &totp[u];
                let answer = pb::RespondToAuthChallengeRequest {
                    client_id: client_id.clone(),
                    challenge_name: "SOFTWARE_TOKEN_MFA".into(),
                    session: challenge.session,
                    challenge_responses: HashMap::from([
                        ("USERNAME".to_string(), t.username.clone()),
                        (
                            "SOFTWARE_TOKEN_MFA_CODE".to_string(),
                            signet_crypto::totp_code(&t.seed, step),
                        ),
                    ]),
                    client_metadata: Default::default(),
                };
                match clients[i].respond_to_auth_challenge(answer).await {
                    Ok(a) => match &a.get_ref().authentication_result {
                        Some(t) if !t.access_token.is_empty() => Ok(()),
                        _ => Err(format!("challenge {}", a.get_ref().challenge_name)),
                    },
                    Err(s) => Err(grpc_code(&s)),
                }
            }
            Op::GetCredentials {
                clients,
                identity_pool_id,
                logins,
            } => {
                let i = pick(clients.len());
                let c = &mut clients[i];
                let (identity_id, logins) = &logins[pick(logins.len())];
                let got = c
                    .get_id(pb::GetIdRequest {
                        identity_pool_id: identity_pool_id.clone(),
                        logins: logins.clone(),
                    })
                    .await
                    .map_err(|s| grpc_code(&s))?
                    .into_inner()
                    .identity_id;
                if &got != identity_id {
                    return Err("GetId returned another identity".into());
                }
                let creds = c
                    .get_credentials_for_identity(pb::GetCredentialsForIdentityRequest {
                        identity_id: got,
                        logins: logins.clone(),
                        custom_role_arn: String::new(),
                    })
                    .await
                    .map_err(|s| grpc_code(&s))?
                    .into_inner();
                match creds.credentials {
                    Some(c) if !c.session_token.is_empty() => Ok(()),
                    _ => Err("answer without credentials".into()),
                }
            }
            Op::Verify {
                keys,
                expected,
                token,
            } => signet_verify::verify(token, keys, expected)
                .map(|_| ())
                .map_err(|e| format!("verify: {e}")),
        }
    }
}

/// A bench user's authenticator: its seed and the last time step a code was used for.
pub struct UserTotp {
    username: String,
    seed: Vec<u8>,
    last_step: std::sync::atomic::AtomicU64,
}

impl UserTotp {
    /// The next step this user may sign in with at step `now` (a later one than the last,
    /// within one step of now), claimed for one sign-in; `None` when the window is used up.
    fn claim(&self, now: u64) -> Option<u64> {
        use std::sync::atomic::Ordering;
        let mut last = self.last_step.load(Ordering::Relaxed);
        loop {
            let want = (last + 1).max(now.saturating_sub(1));
            if want > now + 1 {
                return None;
            }
            match self
                .last_step
                .compare_exchange(last, want, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return Some(want),
                Err(current) => last = current,
            }
        }
    }
}

fn auth_clients(channels: &[Channel]) -> Vec<UserPoolAuthClient<Channel>> {
    channels
        .iter()
        .cloned()
        .map(UserPoolAuthClient::new)
        .collect()
}

/// Send `req`: the answer's status and its whole body.
async fn http_send(
    client: &HttpClient,
    req: Request<Full<Bytes>>,
) -> Result<(StatusCode, Bytes), String> {
    let resp = client
        .request(req)
        .await
        .map_err(|e| format!("HTTP transport: {}", transport_kind(&e)))?;
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|_| "HTTP body cut short".to_string())?
        .to_bytes();
    Ok((status, body))
}

/// Send `req`; Ok when the answer is 200.
async fn http_ok(client: &HttpClient, req: Request<Full<Bytes>>) -> Result<(), String> {
    match http_send(client, req).await? {
        (StatusCode::OK, _) => Ok(()),
        (status, _) => Err(format!("HTTP {}", status.as_u16())),
    }
}

/// One HTTP token request: Ok for a 200 whose body holds an access token.
async fn http_token(client: &HttpClient, req: Request<Full<Bytes>>) -> Result<(), String> {
    let (status, body) = http_send(client, req).await?;
    const NEEDLE: &[u8] = b"\"access_token\":\"";
    if status == StatusCode::OK && body.windows(NEEDLE.len()).any(|w| w == NEEDLE) {
        return Ok(());
    }
    let oauth_error = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string));
    Err(match oauth_error {
        Some(e) => format!("HTTP {} {e}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    })
}

fn transport_kind(e: &hyper_util::client::legacy::Error) -> &'static str {
    if e.is_connect() {
        "connect"
    } else {
        "request"
    }
}

/// What a client_credentials token of the fixtures must satisfy, for `verify`.
pub fn expected_access(issuer: &str, f: &Fixtures) -> Expected {
    Expected {
        issuer: issuer.to_string(),
        token_use: TokenUse::Access,
        clients: Some(vec![f.service_client_id.clone()]),
        leeway_s: 5,
    }
}
