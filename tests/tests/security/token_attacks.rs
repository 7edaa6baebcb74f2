//! The adversarial token catalogue, against the gateway's own token checks (GetUser with a
//! crafted access token). A test key is published through the log like a gateway's, so
//! the tests can sign whatever they want with a key the gateway trusts, and every claim
//! rule is attacked on its own.

use crate::support::jws::{self, now_s, B64};
use crate::support::pools::*;
use base64::Engine;
use serde_json::{json, Value};
use signet_core::{Command, Outcome, PublishKey, RenewKeyLease, SigningKey};
use signet_crypto::{Algorithm, SigningKeyPair};
use signet_proto::v1 as pb;
use signet_testkit::TestEnv;
use signet_testkit::{auth_client, wait_for, TEST_PUBLIC_URL};
use std::time::Duration;

const PASSWORD: &str = "Att4ck-Me!";

struct Fixture {
    env: TestEnv,
    pool: String,
    /// The pool's app client: a token must name an enabled client of its pool.
    client: String,
    key: SigningKeyPair,
    user_sub: String,
}

impl Fixture {
    fn header(&self) -> String {
        json!({"alg": "EdDSA", "kid": self.key.kid(), "typ": "JWT"}).to_string()
    }

    /// Claims of a valid access token for the test user.
    fn claims(&self) -> Value {
        let t = now_s();
        json!({
            "sub": self.user_sub, "iss": format!("{TEST_PUBLIC_URL}/{}", self.pool),
            "client_id": self.client, "token_use": "access",
            "scope": "aws.cognito.signin.user.admin", "auth_time": t, "iat": t, "exp": t + 600,
            "jti": "00000000000000000000000000000000",
            "origin_jti": format!("{:012x}{}", t * 1000, "ab".repeat(16)),
            "username": "mallory",
        })
    }

    fn token(&self, f: impl Fn(&mut Value)) -> String {
        let mut c = self.claims();
        f(&mut c);
        jws::sign(&self.key, &self.header(), &c.to_string())
    }

    async fn get_user(&self, token: &str) -> Result<String, (tonic::Code, String)> {
        auth_client(self.env.a())
            .await
            .get_user(pb::AccessTokenRequest {
                access_token: token.into(),
            })
            .await
            .map(|r| r.into_inner().username)
            .map_err(|e| (e.code(), exception(&e)))
    }

    async fn refused(&self, what: &str, token: &str) {
        match self.get_user(token).await {
            Ok(u) => panic!("{what}: accepted as {u}"),
            Err((code, name)) => assert!(
                name == "NotAuthorizedException"
                    || code == tonic::Code::ResourceExhausted
                    // A request over the 256 KiB limit, refused before decoding.
                    || (code == tonic::Code::InvalidArgument && name == "InvalidParameterException"),
                "{what}: unexpected refusal {code:?} {name}"
            ),
        }
    }
}

async fn fixture() -> Fixture {
    let env = TestEnv::start(3, 2).await;
    let (pool, client) = pool_and_client(env.a(), false).await;
    let user_sub = confirmed_user(
        env.a(),
        &pool,
        &client,
        "mallory",
        "m@example.com",
        PASSWORD,
    )
    .await;
    // Publish a key the way a gateway does (lease first), so the gateways trust it.
    let key = SigningKeyPair::generate(Algorithm::EdDSA).unwrap();
    let store = env.cluster().client();
    let far = (now_s() + 3600) * 1000;
    store
        .write(Command::RenewKeyLease(RenewKeyLease {
            owner: "test-forger".into(),
            until_ms: far,
        }))
        .await
        .unwrap();
    let w = store
        .write(Command::PublishKey(PublishKey {
            key: SigningKey {
                kid: key.kid().into(),
                owner: "test-forger".into(),
                alg: "EdDSA".into(),
                public_jwk: key.public_jwk().to_string(),
                published_at_ms: now_s() * 1000,
                usable_from_ms: now_s() * 1000,
                state: Default::default(),
            },
        }))
        .await
        .unwrap();
    assert_eq!(w.outcome, Outcome::Applied);
    let f = Fixture {
        env,
        pool,
        client,
        key,
        user_sub,
    };
    let good = f.token(|_| {});
    wait_for(
        "gateway trusts the test key",
        Duration::from_secs(10),
        || Some(()),
    )
    .await;
    signet_testkit::wait_for_async(
        "forged-but-valid token accepted",
        Duration::from_secs(10),
        || async { (f.get_user(&good).await.as_deref() == Ok("mallory")).then_some(()) },
    )
    .await;
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_token_attack_is_refused_by_the_gateway() {
    let f = fixture().await;
    let good = f.token(|_| {});
    let parts: Vec<&str> = good.split('.').collect();

    // Envelope and header attacks.
    f.refused(
        "alg none",
        &format!(
            "{}.{}.",
            B64.encode(json!({"alg": "none", "kid": f.key.kid()}).to_string()),
            parts[1]
        ),
    )
    .await;
    f.refused("stripped signature", &format!("{}.{}.", parts[0], parts[1]))
        .await;
    let hs_header = B64.encode(json!({"alg": "HS256", "kid": f.key.kid()}).to_string());
    let hs_input = format!("{hs_header}.{}", parts[1]);
    let x = f.key.public_jwk()["x"].as_str().unwrap();
    let hs_sig = signet_crypto::hmac_sha256(&B64.decode(x).unwrap(), hs_input.as_bytes());
    f.refused(
        "HS256 keyed with our public key",
        &format!("{hs_input}.{}", B64.encode(hs_sig)),
    )
    .await;
    for kid in [
        "../../etc/passwd".to_string(),
        "k".repeat(10_000),
        "unknown".to_string(),
    ] {
        let h = json!({"alg": "EdDSA", "kid": kid}).to_string();
        f.refused(
            "kid injection",
            &jws::sign(&f.key, &h, &f.claims().to_string()),
        )
        .await;
    }
    // An attacker's own key, offered through jku / x5u / jwk headers, is never fetched or used.
    let evil = SigningKeyPair::generate(Algorithm::EdDSA).unwrap();
    for (name, extra) in [
        ("jwk", json!({"jwk": evil.public_jwk()})),
        ("jku", json!({"jku": "http://127.0.0.1:9/jwks.json"})),
        ("x5u", json!({"x5u": "http://127.0.0.1:9/cert.pem"})),
    ] {
        for kid in [evil.kid(), f.key.kid()] {
            let mut h = json!({"alg": "EdDSA", "kid": kid});
            h.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            f.refused(
                name,
                &jws::sign(&evil, &h.to_string(), &f.claims().to_string()),
            )
            .await;
        }
    }

    // Time claims, at the gateway's 30 s leeway plus and minus five seconds, each from the
    // clock read when its token is made: a margin of one second made the test fail when a
    // loaded machine took longer than that between making a token and checking it.
    assert_eq!(
        f.get_user(&f.token(|c| c["exp"] = json!(now_s() - 25)))
            .await
            .as_deref(),
        Ok("mallory"),
        "exp within leeway"
    );
    f.refused(
        "exp past leeway",
        &f.token(|c| c["exp"] = json!(now_s() - 35)),
    )
    .await;
    assert_eq!(
        f.get_user(&f.token(|c| c["nbf"] = json!(now_s() + 25)))
            .await
            .as_deref(),
        Ok("mallory"),
        "nbf within leeway"
    );
    f.refused(
        "nbf past leeway",
        &f.token(|c| c["nbf"] = json!(now_s() + 35)),
    )
    .await;
    let t = now_s();
    f.refused(
        "exp as a string",
        &f.token(|c| c["exp"] = json!(format!("{}", t + 600))),
    )
    .await;
    f.refused(
        "no exp",
        &f.token(|c| {
            c.as_object_mut().unwrap().remove("exp");
        }),
    )
    .await;

    // Issuer, use and envelope.
    f.refused(
        "issuer with a trailing slash",
        &f.token(|c| c["iss"] = json!(format!("{TEST_PUBLIC_URL}/{}/", f.pool))),
    )
    .await;
    f.refused(
        "another pool's issuer",
        &f.token(|c| c["iss"] = json!(format!("{TEST_PUBLIC_URL}/local_otherpool01"))),
    )
    .await;
    f.refused(
        "an ID token as an access token",
        &f.token(|c| c["token_use"] = json!("id")),
    )
    .await;
    f.refused("missing scope", &f.token(|c| c["scope"] = json!("openid")))
        .await;
    f.refused(
        "another user's sub",
        &f.token(|c| c["sub"] = json!("00000000-0000-4000-8000-000000000000")),
    )
    .await;
    let dup = f
        .claims()
        .to_string()
        .replacen('{', "{\"username\":\"admin\",", 1);
    f.refused("duplicate claims", &jws::sign(&f.key, &f.header(), &dup))
        .await;
    f.refused(
        "a 1 MB token",
        &format!("{}.{}.{}", parts[0], "A".repeat(1 << 20), parts[2]),
    )
    .await;

    // A refresh token is not a bearer token.
    let tokens = sign_in(f.env.a(), &pool_client(&f).await, "mallory", PASSWORD).await;
    f.refused("a refresh token as bearer", &tokens.refresh_token)
        .await;
    f.refused("an ID token", &tokens.id_token).await;
    assert_eq!(
        f.get_user(&tokens.access_token).await.as_deref(),
        Ok("mallory")
    );
    f.env.shutdown().await;
}

/// A client of the fixture's pool with the password flow.
async fn pool_client(f: &Fixture) -> String {
    let mut a = signet_testkit::admin_client(f.env.a()).await;
    a.create_user_pool_client(signet_testkit::admin(pb::CreateUserPoolClientRequest {
        user_pool_id: f.pool.clone(),
        client_name: "second".into(),
        explicit_auth_flows: vec!["ALLOW_USER_PASSWORD_AUTH".into()],
        ..Default::default()
    }))
    .await
    .unwrap()
    .into_inner()
    .user_pool_client
    .unwrap()
    .client_id
}
