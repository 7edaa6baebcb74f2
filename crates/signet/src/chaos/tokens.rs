//! The token workload, key rotation under gateway churn: clients ask the gateways for
//! client_credentials access tokens (`POST {gateway}/{pool}/oauth2/token`, HTTP Basic
//! client auth) while the nemesis kills and restarts gateways, each restart signing with a
//! new key. Every token a gateway issued must verify against the JWKS until its `exp`:
//! after healing, every acknowledged token that has not expired is verified (signature,
//! issuer, client, `exp`, with `signet-verify`) against the pool's JWKS as every gateway
//! serves it.

use super::endpoints::Endpoints;
use super::workload::Recorder;
use crate::rpc::{status_error, AdminChannel};
use anyhow::Context;
use base64::Engine;
use bytes::Bytes;
use http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use signet_chaos::history::{Op, Outcome};
use signet_proto::v1 as pb;
use signet_proto::v1::user_pool_admin_client::UserPoolAdminClient;
use signet_verify::{Expected, KeySet, TokenUse, VerifyError};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The resource server of the chaos pool.
pub const RESOURCE_SERVER: &str = "chaos-api";
/// The one scope the tokens are asked for.
pub const SCOPE: &str = "chaos-api/read";
/// Pause between two successful token calls of one client: issuing is cheap (no store
/// round trip), and unpaced clients would take the machine from the stores and fill the
/// history with tens of thousands of tokens.
const PACE: Duration = Duration::from_millis(20);
/// Anomalies listed in the report (all are counted).
const LISTED: usize = 100;

/// One token request: the input is the gateway asked (`gateway-N`), the value of an
/// acknowledged one the access token.
pub type TokenEntry = Op<String, String>;

/// The confidential app client the tokens are issued to.
#[derive(Debug, Clone)]
pub struct ServiceClient {
    pub client_id: String,
    pub client_secret: String,
}

/// Make the resource server with its scope and a confidential client (generated secret)
/// allowed the client_credentials flow with that scope.
pub async fn setup(
    admin: &mut UserPoolAdminClient<AdminChannel>,
    pool_id: &str,
) -> anyhow::Result<ServiceClient> {
    admin
        .create_resource_server(pb::ResourceServerType {
            user_pool_id: pool_id.into(),
            identifier: RESOURCE_SERVER.into(),
            name: "Chaos API".into(),
            scopes: vec![pb::ResourceServerScopeType {
                scope_name: "read".into(),
                scope_description: "read the chaos API".into(),
            }],
        })
        .await
        .map_err(status_error)
        .context("CreateResourceServer")?;
    let (client_id, client_secret) =
        crate::service_client::create(admin, pool_id, "chaos-service", vec![SCOPE.into()]).await?;
    Ok(ServiceClient {
        client_id,
        client_secret,
    })
}

/// The pool's URL on gateway `g` as this tool reaches it: its HTTP base, then the pool
/// (the issuer when the base is the gateway's public URL).
fn pool_url(e: &Endpoints, g: usize, pool_id: &str) -> String {
    let url = &e.gateways[g].http;
    format!("{}/{pool_id}", url.trim_end_matches('/'))
}

use super::endpoints::HttpClient;

/// One token client, on one gateway.
pub struct Client {
    pub id: u32,
    /// `gateway-N`, as the history and the report name it.
    gateway: String,
    http: HttpClient,
    uri: Uri,
    authorization: HeaderValue,
    start: Instant,
    timeout: Duration,
}

impl Client {
    /// A client of gateway `g` (0-based) of `e`, for `service`'s tokens.
    pub fn new(
        id: u32,
        e: &Endpoints,
        g: usize,
        pool_id: &str,
        service: &ServiceClient,
        start: Instant,
        timeout: Duration,
    ) -> anyhow::Result<Client> {
        Ok(Client {
            id,
            gateway: format!("gateway-{}", g + 1),
            http: e.http_client(timeout),
            uri: format!("{}/oauth2/token", pool_url(e, g, pool_id)).parse()?,
            authorization: HeaderValue::from_str(&crate::service_client::basic_authorization(
                &service.client_id,
                &service.client_secret,
            ))?,
            start,
            timeout,
        })
    }

    /// Ask for tokens until `stop`; the history of this client.
    pub async fn run(self, stop: tokio::sync::watch::Receiver<bool>) -> Vec<TokenEntry> {
        let mut rec = Recorder::new(self.id, self.start);
        while !*stop.borrow() {
            let invoke_ns = rec.now();
            let outcome = self.issue().await;
            let ok = matches!(outcome, Outcome::Ok(_));
            rec.record(self.gateway.clone(), invoke_ns, outcome).await;
            if ok {
                tokio::time::sleep(PACE).await;
            }
        }
        rec.ops
    }

    /// One token call: the token on 200; a 4xx is a definite refusal (`Failed`); a 5xx,
    /// no answer in time or a cut connection is `Unknown` (a token may have been signed,
    /// but nobody holds it: it cannot be lost).
    async fn issue(&self) -> Outcome<String> {
        let mut r = Request::new(Full::new(Bytes::from(crate::service_client::token_body(
            SCOPE,
        ))));
        *r.method_mut() = http::Method::POST;
        *r.uri_mut() = self.uri.clone();
        r.headers_mut()
            .insert(AUTHORIZATION, self.authorization.clone());
        r.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let call = async {
            let response = self.http.request(r).await.ok()?;
            let status = response.status();
            let body = response.into_body().collect().await.ok()?.to_bytes();
            Some((status, body))
        };
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Some((StatusCode::OK, body))) => {
                match serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| v["access_token"].as_str().map(str::to_string))
                {
                    Some(token) => Outcome::Ok(token),
                    // A 200 without a token: nothing to check.
                    None => Outcome::Unknown,
                }
            }
            Ok(Some((status, _))) if status.is_client_error() => Outcome::Failed,
            _ => Outcome::Unknown,
        }
    }
}

/// What the token check needs of the healed cluster (saved in final.json, so that
/// `chaos check` judges the tokens again without the cluster).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct TokensFinal {
    /// When the JWKS were fetched, Unix seconds: a token is judged at this time (one past
    /// its `exp` then need not verify).
    pub checked_at_s: u64,
    /// The client the tokens were issued to.
    pub client_id: String,
    /// The pool's issuer on each gateway (each has its own public URL), by gateway.
    pub issuers: BTreeMap<String, String>,
    /// The pool's JWKS as each gateway served it, by gateway.
    pub jwks: BTreeMap<String, Value>,
}

/// Fetch the pool's JWKS from every gateway (`{issuer}/.well-known/jwks.json`).
pub async fn observe(
    e: &Endpoints,
    pool_id: &str,
    service: &ServiceClient,
) -> anyhow::Result<TokensFinal> {
    let mut fin = TokensFinal {
        client_id: service.client_id.clone(),
        ..Default::default()
    };
    let http = e.http_client(Duration::from_secs(10));
    for g in 0..e.gateways.len() {
        let name = format!("gateway-{}", g + 1);
        let base = pool_url(e, g, pool_id);
        // Reached at the HTTP base given, which need not be the public URL the tokens
        // name (a port-forward, an ingress): their issuer is what discovery says.
        let discovery =
            get_json(&http, &format!("{base}/.well-known/openid-configuration")).await?;
        let iss = discovery["issuer"]
            .as_str()
            .with_context(|| format!("{base}: discovery names no issuer"))?
            .to_string();
        let jwks = get_json(&http, &format!("{base}/.well-known/jwks.json")).await?;
        fin.issuers.insert(name.clone(), iss);
        fin.jwks.insert(name, jwks);
    }
    fin.checked_at_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Ok(fin)
}

/// GET `url` (within 10 s); its body as JSON, if the status is 200.
async fn get_json(http: &HttpClient, url: &str) -> anyhow::Result<Value> {
    let uri: Uri = url.parse().with_context(|| format!("bad URL {url}"))?;
    let call = async {
        let response = http.get(uri).await.with_context(|| format!("GET {url}"))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .with_context(|| format!("GET {url}: reading the body"))?
            .to_bytes();
        anyhow::ensure!(status == StatusCode::OK, "GET {url}: {status}");
        serde_json::from_slice(&body).with_context(|| format!("{url}: not JSON"))
    };
    tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .with_context(|| format!("GET {url} timed out"))?
}

/// A token that did not verify against one gateway's JWKS.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenAnomaly {
    /// The token's `jti` and `kid` (empty when unreadable).
    pub jti: String,
    pub kid: String,
    /// The gateway that issued it, and when (ms from the run's start).
    pub issued_by: String,
    pub invoked_ms: u64,
    pub completed_ms: Option<u64>,
    /// The gateway whose JWKS refused it.
    pub jwks_of: String,
    /// Why: the kid is not in that JWKS, the signature does not verify, …
    pub error: String,
}

/// The `kid` in a compact JWS's (unverified) header.
pub fn kid(token: &str) -> Option<String> {
    Some(parts(token)?.0["kid"].as_str()?.to_string())
}

/// The unverified header and claims of a compact JWS.
fn parts(token: &str) -> Option<(Value, Value)> {
    let mut it = token.split('.');
    let mut part = || -> Option<Value> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(it.next()?)
            .ok()?;
        serde_json::from_slice(&bytes).ok()
    };
    Some((part()?, part()?))
}

/// Verify every acknowledged token against every gateway's JWKS at `fin.checked_at_s`:
/// the report's `tokens` section and how many anomalies it found.
pub fn check(tokens: &[TokenEntry], fin: &TokensFinal) -> (Value, usize) {
    let acknowledged: Vec<(&TokenEntry, &String)> = tokens
        .iter()
        .filter_map(|o| match &o.outcome {
            Outcome::Ok(t) => Some((o, t)),
            _ => None,
        })
        .collect();
    let mut sets: BTreeMap<&String, Result<KeySet, String>> = BTreeMap::new();
    for (g, jwks) in &fin.jwks {
        let set = KeySet::from_jwks(jwks.to_string().as_bytes()).map_err(|e| e.to_string());
        sets.insert(g, set);
    }
    let mut anomalies: Vec<TokenAnomaly> = Vec::new();
    let (mut verified, mut expired) = (0usize, 0usize);
    // Kids of the acknowledged tokens, per issuing gateway, in order of first use.
    let mut kids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (op, token) in &acknowledged {
        let (header, claims) = parts(token).unwrap_or_default();
        let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
        let (kid, jti) = (text(&header, "kid"), text(&claims, "jti"));
        let used = kids.entry(op.input.clone()).or_default();
        if !used.contains(&kid) {
            used.push(kid.clone());
        }
        // Judged at the check: a token past its exp then need not be in any JWKS.
        if claims["exp"]
            .as_u64()
            .is_some_and(|exp| exp < fin.checked_at_s)
        {
            expired += 1;
            continue;
        }
        let expected = Expected {
            issuer: fin.issuers.get(&op.input).cloned().unwrap_or_default(),
            token_use: TokenUse::Access,
            clients: Some(vec![fin.client_id.clone()]),
            leeway_s: 0,
        };
        let mut good = !sets.is_empty();
        for (g, set) in &sets {
            let result = match set {
                Ok(keys) => signet_verify::verify_at(token, keys, &expected, fin.checked_at_s)
                    .map(|_| ())
                    .map_err(|e| match e {
                        VerifyError::UnknownKey => format!("kid {kid:?} is not in the JWKS"),
                        e => e.to_string(),
                    }),
                Err(e) => Err(format!("unusable JWKS: {e}")),
            };
            if let Err(error) = result {
                good = false;
                anomalies.push(TokenAnomaly {
                    jti: jti.clone(),
                    kid: kid.clone(),
                    issued_by: op.input.clone(),
                    invoked_ms: op.invoke_ns / 1_000_000,
                    completed_ms: op.complete_ns.map(|t| t / 1_000_000),
                    jwks_of: g.to_string(),
                    error,
                });
            }
        }
        verified += usize::from(good);
    }
    // Acknowledged tokens and no JWKS to check them against: nothing was verified.
    let unchecked = if sets.is_empty() && acknowledged.len() > expired {
        acknowledged.len() - expired
    } else {
        0
    };
    let count = anomalies.len() + usize::from(unchecked > 0);
    let kids_seen = kids
        .values()
        .flatten()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let jwks_kids: BTreeMap<&String, Vec<&str>> = fin
        .jwks
        .iter()
        .map(|(g, j)| {
            let ks = j["keys"].as_array().into_iter().flatten();
            (g, ks.filter_map(|k| k["kid"].as_str()).collect())
        })
        .collect();
    let report = json!({
        "operations": super::counts(tokens),
        "verified": verified,
        "expired": expired,
        "unchecked": unchecked,
        "checked_at_s": fin.checked_at_s,
        "kids_seen": kids_seen,
        "kids": kids,
        "jwks_kids": jwks_kids,
        "anomalies": anomalies.len(),
        "anomalies_listed": &anomalies[..anomalies.len().min(LISTED)],
    });
    (report, count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use signet_crypto::{Algorithm, SigningKeyPair};

    const ISS: &str = "http://127.0.0.1:1/pool";

    fn op(client: u32, gateway: &str, token: Outcome<String>) -> TokenEntry {
        Op {
            client,
            input: gateway.into(),
            invoke_ns: 2_000_000,
            complete_ns: Some(3_000_000),
            outcome: token,
        }
    }

    fn token(key: &SigningKeyPair, jti: &str, exp: u64) -> String {
        key.sign(&json!({
            "iss": ISS, "client_id": "svc", "token_use": "access", "scope": SCOPE,
            "sub": "svc", "jti": jti, "iat": exp - 3600, "exp": exp,
        }))
        .unwrap()
    }

    /// Two gateways serving the same JWKS of `published` keys, judged at `now`.
    fn fin(published: &[&SigningKeyPair], now: u64) -> TokensFinal {
        let jwks =
            json!({"keys": published.iter().map(|k| k.public_jwk().clone()).collect::<Vec<_>>()});
        TokensFinal {
            checked_at_s: now,
            client_id: "svc".into(),
            issuers: [("gateway-1", ISS), ("gateway-2", ISS)]
                .map(|(g, i)| (g.to_string(), i.to_string()))
                .into(),
            jwks: [("gateway-1", &jwks), ("gateway-2", &jwks)]
                .map(|(g, j)| (g.to_string(), j.clone()))
                .into(),
        }
    }

    #[test]
    fn a_token_whose_kid_is_gone_and_a_tampered_one_are_reported() {
        let now = 1_900_000_000;
        let (old, new, gone) = (
            SigningKeyPair::generate(Algorithm::EdDSA).unwrap(),
            SigningKeyPair::generate(Algorithm::EdDSA).unwrap(),
            SigningKeyPair::generate(Algorithm::EdDSA).unwrap(),
        );
        let good = token(&old, "j-good", now + 600);
        let (signed, sig) = good.rsplit_once('.').unwrap();
        let flipped = if sig.starts_with('A') { "B" } else { "A" };
        let tampered = format!("{signed}.{flipped}{}", &sig[1..]);
        let history = vec![
            op(0, "gateway-1", Outcome::Ok(good.clone())),
            op(0, "gateway-1", Outcome::Ok(token(&new, "j-new", now + 600))),
            op(
                1,
                "gateway-2",
                Outcome::Ok(token(&gone, "j-gone", now + 600)),
            ),
            op(1, "gateway-2", Outcome::Ok(tampered)),
            // Past its exp at the check: its key may have left the JWKS.
            op(1, "gateway-2", Outcome::Ok(token(&gone, "j-old", now - 1))),
            op(0, "gateway-1", Outcome::Failed),
            op(0, "gateway-1", Outcome::Unknown),
        ];
        let (r, n) = check(&history, &fin(&[&old, &new], now));
        // Each bad token fails against both gateways' JWKS.
        assert_eq!(n, 4, "{r:#}");
        assert_eq!(r["anomalies"], 4);
        assert_eq!(r["verified"], 2);
        assert_eq!(r["expired"], 1);
        assert_eq!(r["kids_seen"], 3);
        assert_eq!(r["operations"]["ok"], 5);
        let listed: Vec<TokenAnomaly> =
            serde_json::from_value(r["anomalies_listed"].clone()).unwrap();
        let missing: Vec<_> = listed.iter().filter(|a| a.jti == "j-gone").collect();
        assert_eq!(missing.len(), 2);
        assert_eq!(missing[0].kid, gone.kid());
        assert_eq!(missing[0].issued_by, "gateway-2");
        assert_eq!(missing[0].invoked_ms, 2);
        assert!(missing[0].error.contains("not in the JWKS"), "{missing:?}");
        let bad: Vec<_> = listed.iter().filter(|a| a.jti == "j-good").collect();
        assert_eq!(bad.len(), 2, "the tampered copy of j-good: {listed:?}");
        assert_eq!(bad[0].kid, old.kid());
        assert_eq!(bad[0].error, VerifyError::BadSignature.to_string());
        assert_eq!(
            [&bad[0].jwks_of, &bad[1].jwks_of],
            ["gateway-1", "gateway-2"]
        );

        // The same tokens judged without the missing key and the tampered one: clean.
        let clean: Vec<TokenEntry> = history
            .into_iter()
            .enumerate()
            .filter(|(i, _)| ![2, 3].contains(i))
            .map(|(_, o)| o)
            .collect();
        let (r, n) = check(&clean, &fin(&[&old, &new], now));
        assert_eq!((n, r["verified"].as_u64()), (0, Some(2)), "{r:#}");
    }

    #[test]
    fn acknowledged_tokens_without_a_saved_jwks_are_an_anomaly() {
        let key = SigningKeyPair::generate(Algorithm::EdDSA).unwrap();
        let history = vec![op(
            0,
            "gateway-1",
            Outcome::Ok(token(&key, "j", u64::MAX / 2)),
        )];
        let (r, n) = check(&history, &TokensFinal::default());
        assert_eq!((n, r["unchecked"].as_u64()), (1, Some(1)), "{r:#}");
        assert_eq!(check(&[], &TokensFinal::default()).1, 0);
    }
}
