//! Unit tests of the authorizer's request parsing: paths, bearer tokens, header values and
//! route matching. Decisions on real tokens are tested behind nginx and Caddy
//! (tests/tests/oauth/edge_authorizer.rs).

use super::*;

#[test]
fn ambiguous_paths_are_refused_and_plain_ones_kept() {
    assert_eq!(plain_path("/orders/7?x=1"), Some("/orders/7"));
    assert_eq!(plain_path("/"), Some("/"));
    for bad in [
        "/public/../admin",
        "/public/./x",
        "/public/..",
        "//admin",
        "/a//b",
        "/public/%2e%2e/admin",
        "/public%2Fadmin",
        "/a\\b",
        "/a%00",
        "relative",
        "/a\tb",
    ] {
        assert_eq!(plain_path(bad), None, "{bad}");
    }
}

#[test]
fn bearer_tokens_are_read_case_insensitively_and_nothing_else_is() {
    assert_eq!(bearer("Bearer abc"), Some("abc"));
    assert_eq!(bearer("bearer  abc "), Some("abc"));
    assert_eq!(bearer("Basic abc"), None);
    assert_eq!(bearer("Bearer"), None);
    assert_eq!(bearer("Bearer "), None);
}

#[test]
fn header_values_cannot_break_out() {
    assert_eq!(header_safe("alice", false), "alice");
    assert_eq!(
        header_safe("a b\r\nx-signet-sub: root", false),
        "a%20b%0D%0Ax-signet-sub:%20root"
    );
    assert_eq!(header_safe("ops,admins", true), "ops%2Cadmins");
    assert_eq!(header_safe("100%", false), "100%25");
    assert_eq!(header_safe("zoë", false), "zo%C3%AB");
}

fn route(prefix: &str, methods: &[&str]) -> AuthorizerRoute {
    AuthorizerRoute {
        prefix: prefix.into(),
        methods: methods.iter().map(|m| m.to_string()).collect(),
        pools: vec!["p1".into()],
        roles: vec![],
        session_tokens: false,
        token_use: "access".into(),
        clients: vec![],
        scopes: vec![],
        groups: vec![],
        policy: None,
    }
}

#[test]
fn the_longest_prefix_on_a_segment_boundary_that_takes_the_method_decides() {
    let cfg = AuthorizerConfig {
        debug_headers: false,
        routes: vec![
            route("/", &[]),
            route("/orders", &["GET"]),
            route("/orders/admin/", &[]),
        ],
    };
    let routes = cfg.checked().unwrap();
    let pick = |m: &str, p: &str| {
        routes
            .iter()
            .filter(|r| r.methods.is_empty() || r.methods.iter().any(|x| x == m))
            .filter(|r| {
                r.prefix.is_empty()
                    || p == r.prefix
                    || p.strip_prefix(&r.prefix)
                        .is_some_and(|rest| rest.starts_with('/'))
            })
            .max_by_key(|r| r.prefix.len())
            .map(|r| r.prefix.clone())
    };
    assert_eq!(pick("GET", "/orders/7").as_deref(), Some("/orders"));
    assert_eq!(pick("POST", "/orders/7").as_deref(), Some(""), "GET only");
    assert_eq!(
        pick("GET", "/ordersx").as_deref(),
        Some(""),
        "not a segment boundary"
    );
    assert_eq!(
        pick("GET", "/orders/admin").as_deref(),
        Some("/orders/admin")
    );
}

#[test]
fn bad_routes_are_refused_at_start() {
    let bad = |f: fn(&mut AuthorizerRoute)| {
        let mut r = route("/x", &[]);
        f(&mut r);
        AuthorizerConfig {
            debug_headers: false,
            routes: vec![r],
        }
        .checked()
        .unwrap_err()
    };
    assert!(bad(|r| r.prefix = "x".into()).contains("prefix"));
    assert!(bad(|r| r.pools.clear()).contains("pools"));
    assert!(bad(|r| r.session_tokens = true).contains("session_tokens needs roles"));
    assert!(bad(|r| r.roles = vec!["reader".into()]).contains("not a role ARN"));
    // Roles alone are a route (STS sessions only).
    let mut r = route("/x", &[]);
    r.pools.clear();
    r.roles = vec!["arn:signet:iam:::role/reader".into()];
    assert!(AuthorizerConfig {
        debug_headers: false,
        routes: vec![r],
    }
    .checked()
    .is_ok());
    assert!(bad(|r| r.token_use = "refresh".into()).contains("token_use"));
    assert!(bad(|r| r.policy = Some("{".into())).contains("policy"));
    assert!(bad(|r| {
        r.token_use = "id".into();
        r.scopes = vec!["a/b".into()];
    })
    .contains("scopes"));
    let toml = "debug_headers = true\n[[route]]\nprefix = \"/orders\"\npools = [\"p1\"]\nscopes = [\"orders/read\"]\n";
    let cfg = AuthorizerConfig::from_toml(toml).unwrap();
    assert_eq!((cfg.debug_headers, cfg.routes.len()), (true, 1));
    assert!(AuthorizerConfig::from_toml(
        "[[route]]\nprefix = \"/x\"\npools = [\"p\"]\nunknown = 1\n"
    )
    .is_err());
}

mod decisions {
    //! `decide` on tokens signed here with a key published to it.

    use super::super::*;
    use signet_crypto::{Algorithm, SigningKeyPair};
    use signet_verify::revocation::{revocation_hash, RevocationEntry, RevocationPage, Revoked};
    use signet_verify::sigv4::SignableRequest;
    use signet_verify::KeySet;

    const URL: &str = "https://auth.example";

    struct F {
        key: SigningKeyPair,
        feed: Arc<Feed>,
        authorizer: Authorizer,
    }

    /// STS as the gateway's does it (verify the session token, then the signature with the
    /// access key's secret), with the test's key and a secret derived from the key id.
    struct FakeSts {
        keys: KeySet,
    }

    fn secret_of(akid: &str) -> String {
        format!("secret-of-{akid}")
    }

    impl Sessions for FakeSts {
        fn issuer(&self) -> String {
            format!("{URL}/sts")
        }
        fn open(&self, token: &str) -> Result<Opened, String> {
            let claims = signet_verify::verify(
                token,
                &self.keys,
                &signet_verify::session::session_expected(&self.issuer()),
            )
            .map_err(|e| e.to_string())?;
            let session =
                signet_verify::session::Session::from_claims(&claims).map_err(|e| e.to_string())?;
            Ok(Opened {
                claims,
                session,
                kid: signet_verify::token_kid(token),
            })
        }
        fn signed(&self, req: &SignableRequest<'_>) -> Result<Opened, String> {
            let token = req
                .headers
                .iter()
                .find(|(n, _)| n == "x-amz-security-token")
                .map(|(_, v)| v.clone())
                .ok_or("no token")?;
            let o = self.open(&token)?;
            signet_verify::sigv4::verify_with_secret(
                &secret_of(&o.session.access_key_id),
                req,
                std::time::SystemTime::now(),
                std::time::Duration::from_secs(300),
            )
            .map_err(|e| e.to_string())?;
            Ok(o)
        }
        fn now_s(&self) -> u64 {
            now_s()
        }
    }

    fn now_s() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn setup(toml: &str) -> F {
        let key = SigningKeyPair::generate(Algorithm::EdDSA).unwrap();
        let mut set = KeySet::new();
        set.insert_jwk(&key.public_jwk().to_string()).unwrap();
        let published = Arc::new(Published::default());
        published.set_for_tests(set);
        let mut set = KeySet::new();
        set.insert_jwk(&key.public_jwk().to_string()).unwrap();
        let (_, stop) = tokio::sync::watch::channel(false);
        let feed = Arc::new(Feed::new(stop));
        let cfg = AuthorizerConfig::from_toml(toml).unwrap();
        let sts = Arc::new(FakeSts { keys: set });
        let authorizer = Authorizer::new(
            &cfg,
            URL,
            published,
            feed.clone(),
            sts,
            Arc::new(crate::clock::SystemClock),
        )
        .unwrap();
        F {
            key,
            feed,
            authorizer,
        }
    }

    fn access(f: &F, pool: &str, scope: &str, exp: u64, extra: serde_json::Value) -> String {
        let mut c = serde_json::json!({
            "iss": format!("{URL}/{pool}"), "sub": "sub-1", "client_id": "c1",
            "username": "alice", "token_use": "access", "scope": scope,
            "iat": now_s() - 10, "exp": exp, "jti": "jti-1",
            "cognito:groups": ["staff"],
        });
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        f.key.sign(&c).unwrap()
    }

    fn ask<'a>(method: &'a str, path: &'a str, auth: Option<&'a str>) -> Ask<'a> {
        Ask {
            method,
            path,
            authorization: auth,
            headers: &[],
            body: None,
        }
    }

    fn status(v: &Verdict) -> u16 {
        match v {
            Verdict::Allow { .. } => 200,
            Verdict::Deny { status, .. } => *status,
        }
    }

    const ROUTES: &str = r#"
        [[route]]
        prefix = "/any"
        pools = ["*"]
        [[route]]
        prefix = "/orders"
        pools = ["p1"]
        scopes = ["orders/read"]
        [[route]]
        prefix = "/staff"
        pools = ["p1"]
        groups = ["staff"]
        policy = '''{"Version": "2012-10-17", "Statement": [
            {"Sid": "ReadOwn", "Effect": "Allow", "Action": "http:GET", "Resource": "/staff/${signet:sub}/*"},
            {"Sid": "NoDelete", "Effect": "Deny", "Action": "http:DELETE", "Resource": "*"}]}'''
        [[route]]
        prefix = "/reports"
        roles = ["arn:signet:iam:::role/reader"]
        policy = '''{"Version": "2012-10-17", "Statement": [
            {"Sid": "NotAtNight", "Effect": "Deny", "Action": "http:*", "Resource": "/reports/closed/*"},
            {"Effect": "Allow", "Action": "http:*", "Resource": "*"}]}'''
        [[route]]
        prefix = "/open-reports"
        roles = ["*"]
        session_tokens = true
    "#;

    /// A session token of `role` for access key `akid`, allowed `http:GET` on
    /// `/reports/*` and `/open-reports/*` and denied `/reports/private/*`.
    fn session(f: &F, role: &str, akid: &str, exp: u64) -> String {
        let c = serde_json::json!({
            "iss": format!("{URL}/sts"), "aud": signet_verify::session::SESSION_AUDIENCE,
            "token_use": "session", "sub": "eu:identity-1", "role": role, "akid": akid,
            "role_session_name": "s1", "idp": "signet-identity", "src_aud": "eu:pool",
            "amr": ["authenticated"], "iat": now_s() - 10, "exp": exp, "jti": "sj-1",
            "policies": {"read": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "http:GET", "Resource": ["/reports/*", "/open-reports/*"]},
                {"Sid": "Private", "Effect": "Deny", "Action": "*", "Resource": "/reports/private/*"}]}},
        });
        f.key.sign(&c).unwrap()
    }

    /// `method target` signed with AWS's names, as botocore signs.
    fn signed(
        token: &str,
        akid: &str,
        method: &str,
        target: &str,
        payload_hash: &str,
    ) -> Vec<(String, String)> {
        use signet_verify::sigv4::{sign_with, Credentials, AWS4};
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut headers = vec![("host".to_string(), "api.example".to_string())];
        if payload_hash != SignableRequest::payload_hash(b"") {
            headers.push(("x-amz-content-sha256".into(), payload_hash.into()));
        }
        let secret = secret_of(akid);
        let added = sign_with(
            &AWS4,
            &Credentials {
                access_key_id: akid,
                secret_access_key: &secret,
                session_token: Some(token),
            },
            &SignableRequest {
                method,
                path,
                query,
                headers: &headers,
                payload_sha256_hex: payload_hash.into(),
            },
            "eu-west-1",
            "execute-api",
            std::time::SystemTime::now(),
        )
        .unwrap();
        headers.extend(added);
        headers
    }

    fn ask_signed<'a>(
        method: &'a str,
        target: &'a str,
        headers: &'a [(String, String)],
        body: Option<&'a [u8]>,
    ) -> Ask<'a> {
        Ask {
            method,
            path: target,
            authorization: headers
                .iter()
                .find(|(n, _)| n == "authorization")
                .map(|(_, v)| v.as_str()),
            headers,
            body,
        }
    }

    fn header<'a>(v: &'a Verdict, name: &str) -> Option<&'a str> {
        match v {
            Verdict::Allow { headers, .. } => headers
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.as_str()),
            Verdict::Deny { .. } => None,
        }
    }

    fn why(v: &Verdict) -> &str {
        match v {
            Verdict::Allow { why, .. } | Verdict::Deny { why, .. } => why,
        }
    }

    const READER: &str = "arn:signet:iam:::role/reader";
    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn a_signed_request_is_allowed_by_its_sessions_policies_and_the_routes() {
        let f = setup(ROUTES);
        let t = session(&f, READER, "ASIAREADER1", now_s() + 300);
        let h = signed(&t, "ASIAREADER1", "GET", "/reports/q3?fmt=csv&a=1", EMPTY);
        let v = f
            .authorizer
            .decide(&ask_signed("GET", "/reports/q3?fmt=csv&a=1", &h, None));
        assert_eq!(status(&v), 200, "{v:?}");
        assert_eq!(header(&v, "x-signet-sub"), Some("eu:identity-1"));
        assert_eq!(header(&v, "x-signet-role"), Some(READER));
        assert_eq!(header(&v, "x-signet-access-key-id"), Some("ASIAREADER1"));
        assert_eq!(header(&v, "x-signet-token-use"), Some("sts"));
        // What does not apply is set empty, so a caller's copy is overwritten.
        for h in [
            "x-signet-username",
            "x-signet-pool",
            "x-signet-content-sha256",
        ] {
            assert_eq!(header(&v, h), Some(""), "{h}");
        }
        // Every trusted header is in every allow.
        let Verdict::Allow { headers, .. } = &v else {
            unreachable!()
        };
        assert_eq!(headers.len(), TRUSTED_HEADERS.len());

        // The session's own deny, the route's deny, and no allow for POST: 403, naming why.
        let h = signed(&t, "ASIAREADER1", "GET", "/reports/private/x", EMPTY);
        let v = f
            .authorizer
            .decide(&ask_signed("GET", "/reports/private/x", &h, None));
        assert_eq!(status(&v), 403);
        assert!(
            why(&v).contains("read statement 1 (Private)"),
            "{}",
            why(&v)
        );
        let h = signed(&t, "ASIAREADER1", "GET", "/reports/closed/x", EMPTY);
        let v = f
            .authorizer
            .decide(&ask_signed("GET", "/reports/closed/x", &h, None));
        assert_eq!(status(&v), 403);
        assert!(why(&v).contains("(NotAtNight)"), "{}", why(&v));
        let h = signed(&t, "ASIAREADER1", "POST", "/reports/q3", EMPTY);
        let v = f
            .authorizer
            .decide(&ask_signed("POST", "/reports/q3", &h, None));
        assert_eq!(status(&v), 403);
        assert!(why(&v).contains("no statement allows it"), "{}", why(&v));
    }

    #[test]
    fn signatures_that_do_not_hold_get_401() {
        let f = setup(ROUTES);
        let t = session(&f, READER, "ASIAREADER1", now_s() + 300);
        let h = signed(&t, "ASIAREADER1", "GET", "/reports/q3", EMPTY);
        let code = |method: &str, target: &str, h: &[(String, String)]| {
            status(&f.authorizer.decide(&ask_signed(method, target, h, None)))
        };
        assert_eq!(code("GET", "/reports/q3", &h), 200);
        // Another path, method or query than the one signed.
        assert_eq!(code("GET", "/reports/q4", &h), 401);
        assert_eq!(code("DELETE", "/reports/q3", &h), 401);
        assert_eq!(code("GET", "/reports/q3?all=1", &h), 401);
        // Another host.
        let mut other = h.clone();
        other[0].1 = "evil.example".into();
        assert_eq!(code("GET", "/reports/q3", &other), 401);
        // Signed with another key's secret (the token of one key, the signature of another).
        let h2 = signed(&t, "ASIAOTHER22", "GET", "/reports/q3", EMPTY);
        assert_eq!(code("GET", "/reports/q3", &h2), 401);
        // Expired session; a role the route does not take; a route that takes no roles.
        let old = session(&f, READER, "ASIAREADER1", now_s() - 1);
        let h = signed(&old, "ASIAREADER1", "GET", "/reports/q3", EMPTY);
        assert_eq!(code("GET", "/reports/q3", &h), 401);
        let admin = session(
            &f,
            "arn:signet:iam:::role/admin",
            "ASIAADMIN01",
            now_s() + 300,
        );
        let h = signed(&admin, "ASIAADMIN01", "GET", "/reports/q3", EMPTY);
        let v = f
            .authorizer
            .decide(&ask_signed("GET", "/reports/q3", &h, None));
        assert_eq!(status(&v), 401);
        assert!(why(&v).contains("not a session of this route's roles"));
        let h = signed(&t, "ASIAREADER1", "GET", "/orders/1", EMPTY);
        let v = f
            .authorizer
            .decide(&ask_signed("GET", "/orders/1", &h, None));
        assert_eq!(status(&v), 401);
        assert!(why(&v).contains("takes no signed requests"), "{}", why(&v));
        // No signature on a roles-only route: an AWS4 challenge.
        let v = f.authorizer.decide(&ask("GET", "/reports/q3", None));
        let Verdict::Deny {
            status: code_401,
            challenge,
            ..
        } = &v
        else {
            panic!("{v:?}")
        };
        assert_eq!(
            (*code_401, challenge.as_str()),
            (401, "AWS4-HMAC-SHA256 realm=\"signet\"")
        );
        // The session token alone is not a signature, unless the route says so.
        let bare = format!("Bearer {t}");
        assert_eq!(
            status(&f.authorizer.decide(&ask("GET", "/reports/q3", Some(&bare)))),
            401
        );
        let v = f
            .authorizer
            .decide(&ask("GET", "/open-reports/x", Some(&bare)));
        assert_eq!(status(&v), 200, "{v:?}");
        assert_eq!(header(&v, "x-signet-role"), Some(READER));
        // Its key revoked: refused.
        f.feed.apply_for_tests(&RevocationPage {
            revocations: vec![RevocationEntry {
                seq: 1,
                until_ms: u64::MAX,
                what: Revoked::Key {
                    kid: f.key.kid().to_string(),
                },
            }],
            last: 1,
            reset: false,
        });
        let v = f
            .authorizer
            .decide(&ask("GET", "/open-reports/x", Some(&bare)));
        assert_eq!(status(&v), 401);
        assert!(why(&v).contains("revoked (key)"), "{}", why(&v));
        let h = signed(&t, "ASIAREADER1", "GET", "/reports/q3", EMPTY);
        assert_eq!(code("GET", "/reports/q3", &h), 401);
    }

    #[test]
    fn a_signed_body_is_checked_when_seen_and_passed_on_when_declared() {
        let f = setup(ROUTES);
        let t = session(&f, READER, "ASIAREADER1", now_s() + 300);
        // The session may only GET; allow POST on a route by policy for this test.
        let body = br#"{"q": 3}"#;
        let hash = SignableRequest::payload_hash(body);
        let h = signed(&t, "ASIAREADER1", "GET", "/reports/q3", &hash);
        // The proxy sent the body: hashed here.
        let v = f
            .authorizer
            .decide(&ask_signed("GET", "/reports/q3", &h, Some(body)));
        assert_eq!(status(&v), 200, "{v:?}");
        assert_eq!(header(&v, "x-signet-content-sha256"), Some(""));
        let v = f
            .authorizer
            .decide(&ask_signed("GET", "/reports/q3", &h, Some(b"{\"q\": 4}")));
        assert_eq!(status(&v), 401, "another body than the one signed");
        // A forward-auth proxy does not send it: the declared hash is checked against the
        // signature and passed on for the upstream to compare.
        let v = f
            .authorizer
            .decide(&ask_signed("GET", "/reports/q3", &h, None));
        assert_eq!(status(&v), 200, "{v:?}");
        assert_eq!(header(&v, "x-signet-content-sha256"), Some(hash.as_str()));
        // Declared hash swapped for another: the signature no longer holds.
        let mut swapped = h.clone();
        for (n, v) in swapped.iter_mut() {
            if n == "x-amz-content-sha256" {
                *v = EMPTY.into();
            }
        }
        assert_eq!(
            status(
                &f.authorizer
                    .decide(&ask_signed("GET", "/reports/q3", &swapped, None))
            ),
            401
        );
        // Unsigned payloads are not taken.
        let mut unsigned = h.clone();
        for (n, v) in unsigned.iter_mut() {
            if n == "x-amz-content-sha256" {
                *v = "UNSIGNED-PAYLOAD".into();
            }
        }
        let v = f
            .authorizer
            .decide(&ask_signed("GET", "/reports/q3", &unsigned, None));
        assert_eq!(status(&v), 401);
        assert!(why(&v).contains("unsigned payloads"), "{}", why(&v));
    }

    #[test]
    fn a_good_token_is_allowed_with_the_headers_upstreams_trust() {
        let f = setup(ROUTES);
        let t = access(
            &f,
            "p1",
            "orders/read other",
            now_s() + 300,
            serde_json::json!({}),
        );
        let bearer = format!("Bearer {t}");
        let v = f
            .authorizer
            .decide(&ask("GET", "/orders/7?x=1", Some(&bearer)));
        let Verdict::Allow { headers, .. } = v else {
            panic!("{v:?}")
        };
        let get = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("x-signet-sub"), Some("sub-1"));
        assert_eq!(get("x-signet-username"), Some("alice"));
        assert_eq!(get("x-signet-client-id"), Some("c1"));
        assert_eq!(get("x-signet-scopes"), Some("orders/read other"));
        assert_eq!(get("x-signet-groups"), Some("staff"));
        assert_eq!(get("x-signet-pool"), Some("p1"));
        assert_eq!(get("x-signet-token-use"), Some("access"));
    }

    #[test]
    fn missing_expired_forged_foreign_and_revoked_tokens_get_401() {
        let f = setup(ROUTES);
        let good = access(
            &f,
            "p1",
            "orders/read",
            now_s() + 300,
            serde_json::json!({}),
        );
        let expired = access(&f, "p1", "orders/read", now_s() - 1, serde_json::json!({}));
        let other_pool = access(
            &f,
            "p2",
            "orders/read",
            now_s() + 300,
            serde_json::json!({}),
        );
        let mut forged = good.clone();
        forged.pop();
        forged.push(if good.ends_with('A') { 'B' } else { 'A' });
        let other_key = {
            let k = SigningKeyPair::generate(Algorithm::EdDSA).unwrap();
            let c: serde_json::Value = serde_json::from_slice(
                &base64::Engine::decode(
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                    good.split('.').nth(1).unwrap(),
                )
                .unwrap(),
            )
            .unwrap();
            k.sign(&c).unwrap()
        };
        let deny = |auth: Option<&str>| f.authorizer.decide(&ask("GET", "/orders/1", auth));
        let v = deny(None);
        assert_eq!(status(&v), 401);
        let Verdict::Deny { challenge, .. } = &v else {
            unreachable!()
        };
        assert_eq!(challenge, "Bearer realm=\"signet\"");
        for (what, t) in [
            ("expired", &expired),
            ("other pool", &other_pool),
            ("forged", &forged),
            ("other key", &other_key),
        ] {
            let v = deny(Some(&format!("Bearer {t}")));
            assert_eq!(status(&v), 401, "{what}: {v:?}");
            let Verdict::Deny { challenge, .. } = &v else {
                unreachable!()
            };
            assert!(
                challenge.contains("error=\"invalid_token\""),
                "{what}: {challenge}"
            );
        }
        assert_eq!(status(&deny(Some(&format!("Basic {good}")))), 401);
        // A route open to any pool takes the other pool's token (still verified).
        let v = f
            .authorizer
            .decide(&ask("GET", "/any", Some(&format!("Bearer {other_pool}"))));
        assert_eq!(status(&v), 200, "{v:?}");
        let v = f
            .authorizer
            .decide(&ask("GET", "/any", Some(&format!("Bearer {forged}"))));
        assert_eq!(status(&v), 401);
        assert_eq!(status(&deny(Some(&format!("Bearer {good}")))), 200);
        // The user signs out: the stream's entry is enough, no store read.
        f.feed.apply_for_tests(&RevocationPage {
            revocations: vec![RevocationEntry {
                seq: 1,
                until_ms: u64::MAX,
                what: Revoked::User {
                    pool_id: "p1".into(),
                    sub_hash: revocation_hash("sub-1"),
                    before_ms: (now_s() + 1) * 1000,
                },
            }],
            last: 1,
            reset: false,
        });
        let v = deny(Some(&format!("Bearer {good}")));
        assert_eq!(status(&v), 401);
        let Verdict::Deny { why, .. } = &v else {
            unreachable!()
        };
        assert!(why.contains("revoked (user)"), "{why}");
    }

    #[test]
    fn a_remembered_verification_is_only_reused_for_the_same_token_route_and_keys() {
        let f = setup(ROUTES);
        let t = access(
            &f,
            "p1",
            "orders/read",
            now_s() + 300,
            serde_json::json!({}),
        );
        let b = format!("Bearer {t}");
        assert_eq!(
            status(&f.authorizer.decide(&ask("GET", "/orders/1", Some(&b)))),
            200
        );
        assert_eq!(f.authorizer.verified.len(), 1);
        assert_eq!(
            status(&f.authorizer.decide(&ask("GET", "/orders/2", Some(&b)))),
            200
        );
        assert_eq!(
            f.authorizer.verified.len(),
            1,
            "the same token on the same route"
        );
        // Another route verifies again (its expectations may differ).
        assert_eq!(
            status(&f.authorizer.decide(&ask("GET", "/any", Some(&b)))),
            200
        );
        assert_eq!(f.authorizer.verified.len(), 2);
        // A token differing in one byte of its signature is not the remembered one.
        let mut forged = t.clone();
        forged.pop();
        forged.push(if t.ends_with('A') { 'B' } else { 'A' });
        let v = f
            .authorizer
            .decide(&ask("GET", "/orders/1", Some(&format!("Bearer {forged}"))));
        assert_eq!(status(&v), 401, "{v:?}");
        // Expiry is judged on every use: the remembered entry does not outlive `exp`.
        let keys = f.authorizer.published.get();
        let k = verified::key(&t, 1);
        assert!(f.authorizer.verified.get(&k, &keys, now_s()).is_some());
        assert!(f
            .authorizer
            .verified
            .get(&k, &keys, now_s() + 301)
            .is_none());
        // Revocations are checked on every decision, remembered or not.
        f.feed.apply_for_tests(&RevocationPage {
            revocations: vec![RevocationEntry {
                seq: 1,
                until_ms: u64::MAX,
                what: Revoked::Token {
                    jti_hash: revocation_hash("jti-1"),
                },
            }],
            last: 1,
            reset: false,
        });
        assert_eq!(
            status(&f.authorizer.decide(&ask("GET", "/orders/1", Some(&b)))),
            401
        );
        // New keys published: nothing remembered holds (a removed key fails at once).
        let other = SigningKeyPair::generate(Algorithm::EdDSA).unwrap();
        let mut set = KeySet::new();
        set.insert_jwk(&other.public_jwk().to_string()).unwrap();
        f.authorizer.published.set_for_tests(set);
        let fresh = f.authorizer.published.get();
        assert!(f.authorizer.verified.get(&k, &fresh, now_s()).is_none());
        let t2 = access(
            &f,
            "p1",
            "orders/read",
            now_s() + 300,
            serde_json::json!({"jti": "j2"}),
        );
        let v = f
            .authorizer
            .decide(&ask("GET", "/orders/1", Some(&format!("Bearer {t2}"))));
        assert_eq!(
            status(&v),
            401,
            "signed with a key no longer published: {v:?}"
        );
    }

    #[test]
    fn scopes_groups_and_policies_give_403_with_the_reason() {
        let f = setup(ROUTES);
        let t = access(
            &f,
            "p1",
            "orders/write",
            now_s() + 300,
            serde_json::json!({}),
        );
        let b = format!("Bearer {t}");
        let v = f.authorizer.decide(&ask("GET", "/orders/1", Some(&b)));
        assert_eq!(status(&v), 403);
        let Verdict::Deny { challenge, .. } = &v else {
            unreachable!()
        };
        assert!(challenge.contains("insufficient_scope"), "{challenge}");
        // The staff route: its policy lets a user read their own things only.
        assert_eq!(
            status(&f.authorizer.decide(&ask("GET", "/staff/sub-1/x", Some(&b)))),
            200
        );
        let v = f.authorizer.decide(&ask("GET", "/staff/sub-2/x", Some(&b)));
        assert_eq!(status(&v), 403);
        let v = f
            .authorizer
            .decide(&ask("DELETE", "/staff/sub-1/x", Some(&b)));
        let Verdict::Deny { why, .. } = &v else {
            panic!("{v:?}")
        };
        assert!(why.contains("statement 1 (NoDelete)"), "{why}");
        // Not in the group.
        let t = access(
            &f,
            "p1",
            "x",
            now_s() + 300,
            serde_json::json!({"cognito:groups": ["ops"]}),
        );
        let v = f
            .authorizer
            .decide(&ask("GET", "/staff/sub-1/x", Some(&format!("Bearer {t}"))));
        assert_eq!(status(&v), 403);
        // No route, or an ambiguous path: 403 whatever the token.
        assert_eq!(
            status(&f.authorizer.decide(&ask("GET", "/admin", Some(&b)))),
            403
        );
        let v = f
            .authorizer
            .decide(&ask("GET", "/orders/../admin", Some(&b)));
        assert_eq!(status(&v), 403);
    }
}

#[test]
fn the_readme_example_is_a_valid_configuration() {
    let readme = include_str!("../../../../README.md");
    let section = &readme[readme.find("## Enforcing at the edge").unwrap()..];
    let start = section.find("```toml\n").unwrap() + "```toml\n".len();
    let text = &section[start..start + section[start..].find("```").unwrap()];
    let cfg = AuthorizerConfig::from_toml(text).unwrap();
    let routes = cfg.checked().unwrap();
    assert_eq!(routes.len(), 2);
    assert!(routes[0].policy.is_some());
    assert_eq!(routes[0].methods, ["GET", "POST"]);
    assert_eq!(routes[1].roles, ["arn:signet:iam:::role/reporting"]);
    assert!(routes[1].pools.is_empty() && !routes[1].session_tokens);
}
