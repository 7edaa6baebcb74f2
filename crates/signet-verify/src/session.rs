//! STS session tokens: what they carry and how a service checks a request against them
//! offline. A session token is a JWT signed by the cluster (`token_use = session`, issuer
//! `{public_url}/sts`, audience [`SESSION_AUDIENCE`]); it carries the role, the subject,
//! the access key id it was issued with and the effective policies, so any service holding
//! the JWKS can verify it and evaluate a request without calling Signet.
//!
//! ```no_run
//! # fn demo(keys: &signet_verify::KeySet, token: &str) -> Result<(), Box<dyn std::error::Error>> {
//! use signet_verify::session::{session_expected, Session};
//! let claims = signet_verify::verify(token, keys, &session_expected("https://signet.internal/sts"))?;
//! let session = Session::from_claims(&claims)?;
//! let decision = session.authorize("orders:Read", "arn:signet:orders:::order/42", &[], 1_700_000_000)?;
//! assert!(decision.allowed);
//! # Ok(()) }
//! ```

use crate::policy::{
    check_request_sizes, evaluate, Context, Decision, PolicyDocument, PolicyError, Request,
};
use crate::{Expected, TokenUse};
use serde_json::{Map, Value};

/// The `aud` of every session token.
pub const SESSION_AUDIENCE: &str = "signet:sts";

/// Prefix of Signet's own context keys, set from the session token. Callers can supply no
/// key of this namespace, nor any other [`is_reserved`] one.
pub const CONTEXT_PREFIX: &str = "signet:";

/// Namespaces (the text before a key's first `:`) of context keys only a token may set:
/// Signet's own, its identity pools' provider name, and AWS's global keys.
const RESERVED_NAMESPACES: [&str; 3] = ["signet", "signet-identity", "aws"];

/// Whether a caller-supplied context key is reserved, and so dropped by
/// [`Session::context`]: its namespace (the text before the first `:`, compared
/// case-insensitively) is `signet`, `signet-identity` or `aws`, or the key is one of the
/// session's own provider (`{provider}:…`, case-insensitively, whatever the provider name
/// contains). Signet derives these keys from the token; letting a caller supply one would
/// let it choose, say, the `${signet-identity:sub}` a policy grants on.
pub fn is_reserved(key: &str, provider: &str) -> bool {
    let key = key.to_lowercase();
    let namespace = key.split_once(':').map(|(ns, _)| ns);
    namespace.is_some_and(|ns| RESERVED_NAMESPACES.contains(&ns))
        || key.starts_with(&format!("{}:", provider.to_lowercase()))
}

/// What a valid session token must say, for [`crate::verify`] or a [`crate::JwksCache`].
pub fn session_expected(sts_issuer: &str) -> Expected {
    Expected {
        issuer: sts_issuer.to_string(),
        token_use: TokenUse::Session,
        clients: Some(vec![SESSION_AUDIENCE.to_string()]),
        leeway_s: 0,
    }
}

/// The contents of a verified session token.
#[derive(Debug)]
pub struct Session {
    /// Identity id, or the web identity's subject.
    pub subject: String,
    /// The assumed role's ARN.
    pub role_arn: String,
    /// The access key id the credentials were issued with.
    pub access_key_id: String,
    /// The role session name.
    pub session_name: String,
    /// The identity provider that vouched for the subject.
    pub provider: String,
    /// The audience of the web identity (identity pool id or client id).
    pub audience: String,
    /// Authentication methods (`authenticated` / `unauthenticated`, provider names).
    pub amr: Vec<String>,
    /// The identity pool, for credentials from GetCredentialsForIdentity.
    pub identity_pool: Option<String>,
    /// Expiry, Unix seconds.
    pub expires_at: u64,
    /// The role's permission policies, by name.
    pub policies: Vec<(String, PolicyDocument)>,
    /// The inline session policy, which can only narrow.
    pub session_policy: Option<PolicyDocument>,
}

fn text(claims: &Map<String, Value>, name: &str) -> Result<String, PolicyError> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| PolicyError::Invalid(format!("session token lacks the {name} claim")))
}

impl Session {
    /// Read a verified token's claims (verify first: this checks no signature).
    pub fn from_claims(claims: &Map<String, Value>) -> Result<Session, PolicyError> {
        let mut policies = Vec::new();
        match claims.get("policies") {
            Some(Value::Object(m)) => {
                for (name, doc) in m {
                    policies.push((name.clone(), PolicyDocument::parse(&doc.to_string())?));
                }
            }
            None => {}
            Some(_) => return Err(PolicyError::Invalid("policies must be an object".into())),
        }
        let session_policy = match claims.get("session_policy") {
            Some(doc) => Some(PolicyDocument::parse(&doc.to_string())?),
            None => None,
        };
        let amr = match claims.get("amr") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => vec![],
        };
        Ok(Session {
            subject: text(claims, "sub")?,
            role_arn: text(claims, "role")?,
            access_key_id: text(claims, "akid")?,
            session_name: text(claims, "role_session_name")?,
            provider: text(claims, "idp")?,
            audience: text(claims, "src_aud")?,
            amr,
            identity_pool: claims
                .get("identity_pool")
                .and_then(Value::as_str)
                .map(str::to_string),
            expires_at: claims.get("exp").and_then(Value::as_u64).unwrap_or(0),
            policies,
            session_policy,
        })
    }

    /// The evaluation context: the caller's keys, except the [`is_reserved`] ones, then the
    /// session's own keys, from the token: `signet:sub`, `signet:role`,
    /// `signet:session_name`, `signet:provider`, `signet:aud`, `signet:amr` (multi-valued),
    /// `signet:identity_pool`, `signet:access_key_id`, `signet:EpochTime`, and the provider's
    /// `{provider}:sub`, `{provider}:aud` and `{provider}:amr` (multi-valued), the keys a
    /// trust policy saw when the role was assumed (e.g. `signet-identity:sub`).
    pub fn context(&self, extra: &[(String, String)], now_s: u64) -> Context {
        let mut ctx = Context::new();
        for (k, v) in extra {
            if !is_reserved(k, &self.provider) {
                ctx.insert(k, v.clone());
            }
        }
        ctx.set("signet:sub", vec![self.subject.clone()]);
        ctx.set("signet:role", vec![self.role_arn.clone()]);
        ctx.set("signet:session_name", vec![self.session_name.clone()]);
        ctx.set("signet:provider", vec![self.provider.clone()]);
        ctx.set("signet:aud", vec![self.audience.clone()]);
        ctx.set("signet:amr", self.amr.clone());
        if let Some(p) = &self.identity_pool {
            ctx.set("signet:identity_pool", vec![p.clone()]);
        }
        ctx.set("signet:access_key_id", vec![self.access_key_id.clone()]);
        ctx.set("signet:EpochTime", vec![now_s.to_string()]);
        let provider = &self.provider;
        ctx.set(&format!("{provider}:sub"), vec![self.subject.clone()]);
        ctx.set(&format!("{provider}:aud"), vec![self.audience.clone()]);
        ctx.set(&format!("{provider}:amr"), self.amr.clone());
        ctx
    }

    /// May this session do `action` on `resource`? IAM semantics: an explicit deny in any
    /// policy wins, then an allow of the role's policies (and of the session policy, if
    /// any) is needed; otherwise denied. Expiry is the token verification's job.
    ///
    /// A request over the size limits of [`check_request_sizes`] (action, resource, number
    /// and size of the caller's context entries) is refused with
    /// [`PolicyError::RequestTooLarge`] before anything is matched: answer it as an invalid
    /// argument.
    pub fn authorize(
        &self,
        action: &str,
        resource: &str,
        extra_context: &[(String, String)],
        now_s: u64,
    ) -> Result<Decision, PolicyError> {
        check_request_sizes(action, resource, extra_context)?;
        let ctx = self.context(extra_context, now_s);
        let named: Vec<(&str, &PolicyDocument)> =
            self.policies.iter().map(|(n, d)| (n.as_str(), d)).collect();
        let req = Request {
            action,
            resource,
            principal: None,
            context: &ctx,
        };
        Ok(evaluate(&named, self.session_policy.as_ref(), &req))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{
        MAX_ACTION_BYTES, MAX_CONTEXT_KEYS, MAX_CONTEXT_KEY_BYTES, MAX_CONTEXT_VALUE_BYTES,
        MAX_RESOURCE_BYTES,
    };
    use serde_json::json;

    fn claims(extra: Value) -> Map<String, Value> {
        let mut c = json!({
            "sub": "local:abc",
            "role": "arn:signet:iam:::role/reader",
            "akid": "ASIAXYZ",
            "role_session_name": "s1",
            "idp": "signet-identity",
            "src_aud": "local:pool",
            "amr": ["authenticated", "idp.example"],
            "exp": 2_000_000_000u64,
            "policies": {
                "read": {"Statement": [
                    {"Effect": "Allow", "Action": "orders:Get*", "Resource": "arn:signet:orders:::${signet:sub}/*"},
                    {"Sid": "NoSecrets", "Effect": "Deny", "Action": "*", "Resource": "arn:signet:orders:::*/secret"}
                ]}
            }
        });
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c.as_object().unwrap().clone()
    }

    const ORDERS: &str = "arn:signet:orders:::";

    /// `s.authorize` on `{ORDERS}{resource}` at time 1, which must be within the limits.
    fn decide(s: &Session, action: &str, resource: &str, extra: &[(&str, &str)]) -> Decision {
        let extra: Vec<(String, String)> = extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        s.authorize(action, &format!("{ORDERS}{resource}"), &extra, 1)
            .expect("within the size limits")
    }

    #[test]
    fn policies_from_the_token_decide_with_its_own_context() {
        let s = Session::from_claims(&claims(json!({}))).unwrap();
        assert_eq!(s.amr, vec!["authenticated", "idp.example"]);
        let d = decide(&s, "orders:GetOrder", "local:abc/1", &[]);
        assert!(d.allowed);
        assert_eq!(d.decided_by.unwrap().policy, "read");
        // Another subject's orders: the variable binds to the token's sub.
        assert!(!decide(&s, "orders:GetOrder", "local:other/1", &[]).allowed);
        // Explicit deny wins over the allow.
        let d = decide(&s, "orders:GetOrder", "local:abc/secret", &[]);
        assert!(!d.allowed);
        assert_eq!(d.decided_by.unwrap().sid.as_deref(), Some("NoSecrets"));
    }

    #[test]
    fn callers_cannot_supply_the_sessions_keys() {
        let s = Session::from_claims(&claims(json!({}))).unwrap();
        let spoof = [("signet:sub", "local:other")];
        assert!(!decide(&s, "orders:GetOrder", "local:other/1", &spoof).allowed);
        let ctx = s.context(&[("signet:sub".into(), "local:other".into())], 1);
        assert_eq!(ctx.get("signet:sub").unwrap(), ["local:abc".to_string()]);
    }

    #[test]
    fn reserved_keys() {
        let cases = [
            ("signet:sub", "p", true),
            ("SIGNET:Sub", "p", true),
            ("signet-identity:sub", "p", true),
            ("Signet-Identity:SUB", "p", true),
            ("aws:SourceIp", "p", true),
            ("AWS:anything", "p", true),
            ("accounts.example.com:sub", "accounts.example.com", true),
            ("Accounts.Example.COM:aud", "accounts.example.com", true),
            ("issuer.test/pool_1:amr", "issuer.test/pool_1", true),
            ("https://idp.test:sub", "https://idp.test", true),
            ("orders:warehouse", "p", false),
            ("signetx:sub", "p", false),
            ("signet", "p", false),
            ("awsx:a", "p", false),
            ("accounts.example.com:sub", "other.example", false),
            ("pp:sub", "p", false),
        ];
        for (key, provider, expected) in cases {
            assert_eq!(is_reserved(key, provider), expected, "{key} ({provider})");
        }
    }

    #[test]
    fn the_tokens_provider_keys_win_over_the_callers() {
        // As in the bench fixture: a permission policy on the identity pool's own key.
        let read = json!({"policies": {"read": {"Statement": [{"Effect": "Allow",
            "Action": "orders:Get*",
            "Resource": "arn:signet:orders:::order/${signet-identity:sub}/*"}]}}});
        let s = Session::from_claims(&claims(read)).unwrap();
        assert_eq!(s.provider, "signet-identity");
        assert!(decide(&s, "orders:GetOrder", "order/local:abc/1", &[]).allowed);
        for key in [
            "signet-identity:sub",
            "SIGNET-IDENTITY:SUB",
            "Signet-Identity:Sub",
        ] {
            let spoof = [(key, "local:other")];
            assert!(
                !decide(&s, "orders:GetOrder", "order/local:other/1", &spoof).allowed,
                "{key}"
            );
            assert!(decide(&s, "orders:GetOrder", "order/local:abc/1", &spoof).allowed);
            let ctx = s.context(&[(key.into(), "local:other".into())], 1);
            assert_eq!(ctx.get("signet-identity:sub").unwrap(), ["local:abc"]);
        }

        // Another provider's session: its namespace is reserved too, and set from the token.
        let web = json!({"idp": "accounts.example.com", "policies": {"read": {"Statement": [
            {"Effect": "Allow", "Action": "orders:Get*",
             "Resource": "arn:signet:orders:::order/${accounts.example.com:sub}/*"}]}}});
        let s = Session::from_claims(&claims(web)).unwrap();
        let extra = [
            ("Accounts.Example.com:sub", "local:other"),
            ("accounts.example.com:aud", "spoofed"),
            ("aws:SourceIp", "10.0.0.1"),
            ("signet-identity:sub", "local:other"),
            ("orders:warehouse", "north"),
        ];
        assert!(decide(&s, "orders:GetOrder", "order/local:abc/1", &extra).allowed);
        assert!(!decide(&s, "orders:GetOrder", "order/local:other/1", &extra).allowed);
        let extra: Vec<(String, String)> = extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let ctx = s.context(&extra, 1);
        assert_eq!(ctx.get("accounts.example.com:sub").unwrap(), ["local:abc"]);
        assert_eq!(ctx.get("accounts.example.com:aud").unwrap(), ["local:pool"]);
        assert_eq!(
            ctx.get("accounts.example.com:amr").unwrap(),
            ["authenticated", "idp.example"]
        );
        assert_eq!(ctx.get("aws:SourceIp"), None);
        assert_eq!(ctx.get("signet-identity:sub"), None);
        assert_eq!(ctx.get("orders:warehouse").unwrap(), ["north"]);
    }

    #[test]
    fn a_session_policy_only_narrows() {
        let narrow = json!({"session_policy": {"Statement": [
            {"Effect": "Allow", "Action": "orders:GetInvoice", "Resource": "*"}
        ]}});
        let s = Session::from_claims(&claims(narrow)).unwrap();
        assert!(decide(&s, "orders:GetInvoice", "local:abc/1", &[]).allowed);
        assert!(!decide(&s, "orders:GetOrder", "local:abc/1", &[]).allowed);
        let wide = json!({"session_policy": {"Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}
        ]}});
        let s = Session::from_claims(&claims(wide)).unwrap();
        assert!(!decide(&s, "orders:Delete", "local:abc/1", &[]).allowed);
    }

    #[test]
    fn oversize_requests_are_refused_before_evaluation() {
        let s = Session::from_claims(&claims(json!({}))).unwrap();
        let at_limit = format!("{ORDERS}local:abc/{}", "x".repeat(MAX_RESOURCE_BYTES));
        let at_limit = &at_limit[..MAX_RESOURCE_BYTES];
        assert!(
            s.authorize("orders:GetOrder", at_limit, &[], 1)
                .unwrap()
                .allowed
        );
        let over = format!("{at_limit}x");
        assert_eq!(
            s.authorize("orders:GetOrder", &over, &[], 1).unwrap_err(),
            PolicyError::RequestTooLarge {
                what: "resource",
                size: MAX_RESOURCE_BYTES + 1,
                max: MAX_RESOURCE_BYTES
            }
        );
        let action = format!("orders:{}", "G".repeat(MAX_ACTION_BYTES));
        let own = format!("{ORDERS}local:abc/1");
        assert!(matches!(
            s.authorize(&action, &own, &[], 1),
            Err(PolicyError::RequestTooLarge { what: "action", .. })
        ));
        let many: Vec<(String, String)> = (0..=MAX_CONTEXT_KEYS)
            .map(|i| (format!("k{i}"), "v".to_string()))
            .collect();
        assert_eq!(
            s.authorize("orders:GetOrder", &own, &many, 1).unwrap_err(),
            PolicyError::RequestTooLarge {
                what: "context",
                size: MAX_CONTEXT_KEYS + 1,
                max: MAX_CONTEXT_KEYS
            }
        );
        assert!(
            s.authorize("orders:GetOrder", &own, &many[..MAX_CONTEXT_KEYS], 1)
                .unwrap()
                .allowed
        );
        let long_value = [("k".to_string(), "v".repeat(MAX_CONTEXT_VALUE_BYTES + 1))];
        assert!(matches!(
            s.authorize("orders:GetOrder", &own, &long_value, 1),
            Err(PolicyError::RequestTooLarge {
                what: "context value",
                ..
            })
        ));
        let long_key = [("k".repeat(MAX_CONTEXT_KEY_BYTES + 1), "v".to_string())];
        assert!(matches!(
            s.authorize("orders:GetOrder", &own, &long_key, 1),
            Err(PolicyError::RequestTooLarge {
                what: "context key",
                ..
            })
        ));
        assert_eq!(
            PolicyError::RequestTooLarge {
                what: "resource",
                size: 2049,
                max: 2048
            }
            .to_string(),
            "the request's resource is too large: 2049 bytes, over the limit of 2048"
        );
    }

    #[test]
    fn a_token_without_its_claims_is_refused() {
        let mut c = claims(json!({}));
        c.remove("akid");
        assert!(Session::from_claims(&c).is_err());
    }
}
