//! An external OpenID Connect provider as an identity-pool login: the provider is played by
//! a tiny HTTP server in the test serving its own key set, and the test signs the
//! provider's ID tokens itself. End to end (GetId → GetCredentialsForIdentity →
//! Authorize) and every refusal the token checks owe.

use crate::support::identity::*;
use crate::support::jws::{self, now_s};
use crate::support::pools::*;
use serde_json::{json, Value};
use signet_crypto::{Algorithm, SigningKeyPair};
use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::sts_client;
use signet_testkit::TestEnv;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const CLIENT: &str = "ext-client";
const NOT_AUTHORIZED: &str = "NotAuthorizedException";

/// The external provider's key-set endpoint: `GET /jwks` answers `{"keys": [...]}`;
/// anything else is a 404. Counts the JWKS requests it serves.
struct JwksServer {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl JwksServer {
    async fn start(keys: &[&SigningKeyPair]) -> JwksServer {
        let body =
            json!({ "keys": keys.iter().map(|k| k.public_jwk().clone()).collect::<Vec<_>>() })
                .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let (body, counter) = (body.clone(), counter.clone());
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                        if head.len() > 64 * 1024 {
                            return;
                        }
                    }
                    let head = String::from_utf8_lossy(&head);
                    let path = head.split_whitespace().nth(1).unwrap_or_default();
                    let (status, body) = if path == "/jwks" {
                        counter.fetch_add(1, Ordering::SeqCst);
                        ("200 OK", body)
                    } else {
                        ("404 Not Found", "{}".to_string())
                    };
                    let resp = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n\
                         Cache-Control: max-age=60\r\nContent-Length: {}\r\n\
                         Connection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = s.write_all(resp.as_bytes()).await;
                    let _ = s.shutdown().await;
                });
            }
        });
        JwksServer { addr, hits, task }
    }

    fn issuer(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn jwks_url(&self) -> String {
        format!("http://{}/jwks", self.addr)
    }

    /// The provider name in logins maps: the issuer without its scheme.
    fn provider(&self) -> String {
        self.addr.to_string()
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Standard OIDC ID-token claims (no `token_use`), valid for five minutes.
fn id_claims(iss: &str, sub: &str, aud: Value) -> Value {
    let now = now_s();
    json!({
        "iss": iss,
        "sub": sub,
        "aud": aud,
        "iat": now,
        "exp": now + 300,
        "email": format!("{sub}@idp.example"),
    })
}

/// A compact JWS of `claims` whose header names `kid` but that `key` signed.
fn forge(key: &SigningKeyPair, kid: &str, claims: &Value) -> String {
    let header = json!({"alg": "RS256", "kid": kid, "typ": "JWT"});
    jws::sign(key, &header.to_string(), &claims.to_string())
}

/// An identity pool trusting one external OIDC provider.
async fn oidc_pool(gw: &GatewayHandle, issuer: &str, jwks_url: &str) -> pb::IdentityPoolType {
    create_identity_pool(
        gw,
        pb::IdentityPoolType {
            identity_pool_name: "oidc".into(),
            open_id_connect_providers: vec![pb::OpenIdConnectProviderType {
                issuer: issuer.into(),
                jwks_url: jwks_url.into(),
                client_ids: vec![CLIENT.into()],
            }],
            ..Default::default()
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_oidc_login_to_credentials_to_authorize() {
    let env = TestEnv::start(3, 2).await;
    let key = SigningKeyPair::generate(Algorithm::RS256).unwrap();
    let idp = JwksServer::start(&[&key]).await;
    let created = oidc_pool(env.a(), &idp.issuer(), &idp.jwks_url()).await;
    assert_eq!(
        created.open_id_connect_providers,
        vec![pb::OpenIdConnectProviderType {
            issuer: idp.issuer(),
            jwks_url: idp.jwks_url(),
            client_ids: vec![CLIENT.into()],
        }]
    );
    let pool = created.identity_pool_id;
    let read = r#"{"Statement":[{"Effect":"Allow","Action":"orders:Get*","Resource":"arn:orders:::${signet:sub}/*"}]}"#;
    let reader = identity_role(
        env.a(),
        "ext-reader",
        &pool,
        "authenticated",
        &[("read", read)],
    )
    .await;
    set_roles(env.a(), &pool, Some(&reader), None).await;

    // `aud` as a string.
    let token = key
        .sign(&id_claims(&idp.issuer(), "ext-user-1", json!(CLIENT)))
        .unwrap();
    assert_eq!(header_of(&token)["kid"], key.kid());
    let l = logins(&[(&idp.provider(), &token)]);
    let id = ok("GetId", get_id(env.a(), &pool, &l).await);
    assert!(id.starts_with("local:"), "{id}");
    assert!(idp.hits() >= 1, "the gateway fetched the provider's JWKS");
    let d = identity_admin_describe(env.b(), &id).await;
    assert_eq!(d.logins, vec![idp.provider()]);

    // `aud` as an array naming the client among others: the same user, the same identity.
    let token_array = key
        .sign(&id_claims(
            &idp.issuer(),
            "ext-user-1",
            json!(["another-client", CLIENT]),
        ))
        .unwrap();
    let l_array = logins(&[(&idp.provider(), &token_array)]);
    assert_eq!(
        ok("GetId, aud array", get_id(env.b(), &pool, &l_array).await),
        id
    );

    let creds = ok("credentials", credentials(env.b(), &id, &l_array).await);
    let c = claims_of(&creds.session_token);
    assert_eq!(c["sub"], id.as_str());
    assert_eq!(c["role"], reader.as_str());
    assert_eq!(c["idp"], "signet-identity");
    assert_eq!(c["src_aud"], pool.as_str());
    assert_eq!(c["amr"], json!(["authenticated", idp.provider()]));
    assert_eq!(c["akid"], creds.access_key_id.as_str());

    let mut sts = sts_client(env.a()).await;
    let ask = |action: &str, resource: String| {
        let req = pb::AuthorizeRequest {
            session_token: creds.session_token.clone(),
            access_key_id: creds.access_key_id.clone(),
            action: action.into(),
            resource,
            context: Default::default(),
        };
        let mut sts = sts.clone();
        async move { ok("Authorize", sts.authorize(req).await).into_inner() }
    };
    let yes = ask("orders:GetOrder", format!("arn:orders:::{id}/1")).await;
    assert!(yes.allowed);
    assert_eq!(
        (yes.decision.as_str(), yes.policy_name.as_str()),
        ("Allow", "read")
    );
    assert_eq!(yes.role_arn, reader);
    assert_eq!(yes.subject, id);
    for (action, resource) in [
        ("orders:DeleteOrder", format!("arn:orders:::{id}/1")),
        (
            "orders:GetOrder",
            "arn:orders:::local:someone-else/1".to_string(),
        ),
    ] {
        let no = ask(action, resource.clone()).await;
        assert!(!no.allowed, "{action} on {resource}");
        assert_eq!(no.decision, "ImplicitDeny");
    }
    // The wrong access key id for the session is refused outright.
    refused(
        "Authorize with another access key id",
        sts.authorize(pb::AuthorizeRequest {
            session_token: creds.session_token.clone(),
            access_key_id: "ASIAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
            action: "orders:GetOrder".into(),
            resource: format!("arn:orders:::{id}/1"),
            context: Default::default(),
        })
        .await,
        NOT_AUTHORIZED,
    );

    // Another user of the provider: another identity, which cannot read the first's orders.
    let other = key
        .sign(&id_claims(&idp.issuer(), "ext-user-2", json!(CLIENT)))
        .unwrap();
    let l2 = logins(&[(&idp.provider(), &other)]);
    let id2 = ok("GetId user 2", get_id(env.a(), &pool, &l2).await);
    assert_ne!(id2, id);
    let creds2 = ok("credentials user 2", credentials(env.a(), &id2, &l2).await);
    refused(
        "user 1's token for user 2's identity",
        credentials(env.a(), &id2, &l).await,
        NOT_AUTHORIZED,
    );
    let no = ok(
        "Authorize",
        sts.authorize(pb::AuthorizeRequest {
            session_token: creds2.session_token.clone(),
            access_key_id: creds2.access_key_id.clone(),
            action: "orders:GetOrder".into(),
            resource: format!("arn:orders:::{id}/1"),
            context: Default::default(),
        })
        .await,
    )
    .into_inner();
    assert!(!no.allowed);
    env.shutdown().await;
}

async fn identity_admin_describe(gw: &GatewayHandle, id: &str) -> pb::IdentityDescription {
    ok(
        "DescribeIdentity",
        signet_testkit::identity_admin_client(gw)
            .await
            .describe_identity(signet_testkit::admin(pb::IdentityRef {
                identity_id: id.into(),
            }))
            .await,
    )
    .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_oidc_tokens_are_refused_when_they_must_be() {
    let env = TestEnv::start(3, 2).await;
    let key = SigningKeyPair::generate(Algorithm::RS256).unwrap();
    let idp = JwksServer::start(&[&key]).await;
    let pool = oidc_pool(env.a(), &idp.issuer(), &idp.jwks_url())
        .await
        .identity_pool_id;
    let provider = idp.provider();
    let under_idp = |token: &str| logins(&[(&provider, token)]);
    let good = id_claims(&idp.issuer(), "ext-user", json!(CLIENT));
    // The baseline: a good token is accepted (and the key set is now cached on a).
    let id = ok(
        "a good token",
        get_id(env.a(), &pool, &under_idp(&key.sign(&good).unwrap())).await,
    );

    let mut wrong_aud = good.clone();
    wrong_aud["aud"] = json!("another-client");
    let mut wrong_aud_array = good.clone();
    wrong_aud_array["aud"] = json!(["another-client", "a-third"]);
    let mut wrong_iss = good.clone();
    wrong_iss["iss"] = json!(format!("{}/tenant", idp.issuer()));
    let mut expired = good.clone();
    expired["iat"] = json!(now_s() - 3600);
    expired["exp"] = json!(now_s() - 120); // beyond the 30 s leeway for other clocks
    let impostor = SigningKeyPair::generate(Algorithm::RS256).unwrap();
    let unknown = SigningKeyPair::generate(Algorithm::RS256).unwrap();
    let cases = [
        (
            "aud names another client",
            key.sign(&wrong_aud).unwrap(),
            "wrong audience",
        ),
        (
            "aud array without the client",
            key.sign(&wrong_aud_array).unwrap(),
            "wrong audience",
        ),
        (
            "iss of another issuer",
            key.sign(&wrong_iss).unwrap(),
            "wrong issuer",
        ),
        ("expired", key.sign(&expired).unwrap(), "expired"),
        (
            "another key under the provider's kid",
            forge(&impostor, key.kid(), &good),
            "bad signature",
        ),
        (
            "a kid the provider does not publish",
            unknown.sign(&good).unwrap(),
            "unknown signing key",
        ),
    ];
    let before = idp.hits();
    for (what, token, why) in &cases {
        let m = refused(
            what,
            get_id(env.a(), &pool, &under_idp(token)).await,
            NOT_AUTHORIZED,
        );
        assert!(m.contains(why), "{what}: {m}");
        // Nor do they prove the identity the good token made.
        refused(
            what,
            credentials(env.a(), &id, &under_idp(token)).await,
            NOT_AUTHORIZED,
        );
    }
    // The unknown kid made the gateway look at the key set again (once: rate-limited).
    assert!(idp.hits() > before, "no refetch for an unknown kid");
    assert!(
        idp.hits() <= before + 2,
        "{} refetches",
        idp.hits() - before
    );
    // Still only the one identity.
    let (listed, _) = {
        let r = ok(
            "ListIdentities",
            signet_testkit::identity_admin_client(env.b())
                .await
                .list_identities(signet_testkit::admin(pb::ListIdentitiesRequest {
                    identity_pool_id: pool.clone(),
                    ..Default::default()
                }))
                .await,
        )
        .into_inner();
        (r.identities, r.next_token)
    };
    assert_eq!(
        listed.iter().map(|i| &i.identity_id).collect::<Vec<_>>(),
        [&id]
    );

    // A new provider whose JWKS endpoint is down: nothing listens on its port.
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    let dead_pool = oidc_pool(
        env.b(),
        &format!("http://{dead}"),
        &format!("http://{dead}/jwks"),
    )
    .await
    .identity_pool_id;
    let token = key
        .sign(&id_claims(
            &format!("http://{dead}"),
            "ext-user",
            json!(CLIENT),
        ))
        .unwrap();
    let m = refused(
        "a provider whose JWKS cannot be fetched",
        get_id(env.b(), &dead_pool, &logins(&[(&dead.to_string(), &token)])).await,
        "ExternalServiceException",
    );
    assert!(m.contains("unavailable"), "{m}");
    env.shutdown().await;
}

/// Some providers' issuer identifiers end with a slash (Auth0's do: `https://tenant.auth0.com/`)
/// and their tokens carry exactly that `iss`. OIDC compares issuers exactly, so a pool
/// configured with such an issuer must accept such tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issuer_with_a_trailing_slash_is_compared_exactly() {
    let env = TestEnv::start(3, 2).await;
    let key = SigningKeyPair::generate(Algorithm::RS256).unwrap();
    let idp = JwksServer::start(&[&key]).await;
    let issuer = format!("{}/", idp.issuer());
    let created = oidc_pool(env.a(), &issuer, &idp.jwks_url()).await;
    let pool = created.identity_pool_id;
    let token = key
        .sign(&id_claims(&issuer, "slash-user", json!(CLIENT)))
        .unwrap();
    // The login is keyed by the provider name the pool reports (issuer without scheme).
    let name = created.open_id_connect_providers[0]
        .issuer
        .trim_start_matches("http://")
        .to_string();
    let id = ok(
        "a token whose iss is exactly the configured issuer",
        get_id(env.a(), &pool, &logins(&[(&name, &token)])).await,
    );
    assert!(id.starts_with("local:"), "{id}");
    env.shutdown().await;
}

/// Identity pools take Facebook and Login with Amazon access tokens as Cognito does
/// (`graph.facebook.com`, `www.amazon.com`), asking the provider (here a stand-in) whom the
/// token is for: one identity per user, refused for another app's token or an unknown one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facebook_and_amazon_logins_are_checked_with_the_provider() {
    use crate::support::upstream_idp::UpstreamIdp;
    let env = signet_testkit::TestEnv::start(3, 2).await;
    let gw = env.a();
    let idp = UpstreamIdp::start("unused", "unused").await;
    let pool = create_identity_pool(
        gw,
        pb::IdentityPoolType {
            identity_pool_name: "social".into(),
            supported_login_providers: HashMap::from([
                ("graph.facebook.com".to_string(), "fb-app-1".to_string()),
                (
                    "www.amazon.com".to_string(),
                    "amzn1.application-oa2-client.1".to_string(),
                ),
            ]),
            login_provider_endpoints: HashMap::from([
                ("graph.facebook.com".to_string(), idp.issuer()),
                ("www.amazon.com".to_string(), idp.issuer()),
            ]),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        pool.supported_login_providers["graph.facebook.com"],
        "fb-app-1"
    );
    let pool = pool.identity_pool_id;
    let fb = idp.social_token("fb-app-1", "10158");
    let first = get_id(gw, &pool, &logins(&[("graph.facebook.com", &fb)]))
        .await
        .expect("GetId");
    let again = idp.social_token("fb-app-1", "10158");
    let second = get_id(env.b(), &pool, &logins(&[("graph.facebook.com", &again)]))
        .await
        .expect("GetId");
    assert_eq!(first, second, "one identity per Facebook user");
    let amazon = idp.social_token("amzn1.application-oa2-client.1", "amzn1.account.A");
    let other = get_id(gw, &pool, &logins(&[("www.amazon.com", &amazon)]))
        .await
        .expect("GetId");
    assert_ne!(other, first);
    // Another app's token, and a token the provider does not know: refused.
    let foreign = idp.social_token("someone-elses-app", "10158");
    let r = get_id(gw, &pool, &logins(&[("graph.facebook.com", &foreign)])).await;
    assert_eq!(refusal("foreign app", r).0, "NotAuthorizedException");
    let r = get_id(gw, &pool, &logins(&[("www.amazon.com", "made-up")])).await;
    assert_eq!(refusal("unknown token", r).0, "NotAuthorizedException");
    // A provider that is not one of the two is refused at configuration.
    let r = signet_testkit::identity_admin_client(gw)
        .await
        .create_identity_pool(signet_testkit::admin(pb::IdentityPoolType {
            identity_pool_name: "bad".into(),
            supported_login_providers: HashMap::from([(
                "accounts.example".to_string(),
                "x".to_string(),
            )]),
            ..Default::default()
        }))
        .await;
    assert_eq!(
        exception(&r.expect_err("refused")),
        "InvalidParameterException"
    );
}
