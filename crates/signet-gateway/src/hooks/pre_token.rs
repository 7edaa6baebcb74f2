//! The pre-token-generation webhook (Cognito's trigger, as HTTP): before tokens are
//! signed, a Cognito-shaped event is POSTed to the pool's URL; the answer may add,
//! override or suppress claims, and (version 2 and up) scopes of the access token. Version
//! 3 also runs for machine tokens (client_credentials). Never called when not configured.

use super::{HookError, Hooks};
use crate::AppError;
use serde_json::{json, Map, Value};
use signet_core::{Group, TokenHook, User, UserPool};

/// Claims a hook may neither set nor remove: they carry the token's meaning and checks.
const PROTECTED: [&str; 18] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "auth_time",
    "token_use",
    "client_id",
    "jti",
    "origin_jti",
    "cognito:username",
    "username",
    "scope",
    "amr",
    "acr",
    "at_hash",
    "nonce",
];

/// Why tokens are being issued (Cognito's `triggerSource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// A sign-in.
    Authentication,
    /// The answer to a NEW_PASSWORD_REQUIRED challenge.
    NewPasswordChallenge,
    /// A refresh.
    RefreshTokens,
    /// client_credentials.
    ClientCredentials,
    /// The code of a hosted sign-in exchanged at the token endpoint.
    HostedAuth,
}

impl Trigger {
    fn source(self) -> &'static str {
        match self {
            Trigger::Authentication => "TokenGeneration_Authentication",
            Trigger::NewPasswordChallenge => "TokenGeneration_NewPasswordChallenge",
            Trigger::RefreshTokens => "TokenGeneration_RefreshTokens",
            Trigger::ClientCredentials => "TokenGeneration_ClientCredentials",
            Trigger::HostedAuth => "TokenGeneration_HostedAuth",
        }
    }
}

/// The edits a hook asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TokenEdits {
    pub id_add: Map<String, Value>,
    pub id_suppress: Vec<String>,
    pub access_add: Map<String, Value>,
    pub access_suppress: Vec<String>,
    pub scopes_add: Vec<String>,
    pub scopes_suppress: Vec<String>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn object(v: Option<&Value>) -> Map<String, Value> {
    v.and_then(Value::as_object).cloned().unwrap_or_default()
}

/// Read a hook's answer for `version`.
fn parse_answer(version: u8, answer: &Value) -> Result<TokenEdits, String> {
    let response = answer
        .get("response")
        .and_then(Value::as_object)
        .ok_or("the answer has no response object")?;
    let mut e = TokenEdits::default();
    if version == 1 {
        let d = response.get("claimsOverrideDetails");
        e.id_add = object(d.and_then(|d| d.get("claimsToAddOrOverride")));
        e.id_suppress = strings(d.and_then(|d| d.get("claimsToSuppress")));
    } else {
        let d = response.get("claimsAndScopeOverrideDetails");
        let id = d.and_then(|d| d.get("idTokenGeneration"));
        let access = d.and_then(|d| d.get("accessTokenGeneration"));
        e.id_add = object(id.and_then(|x| x.get("claimsToAddOrOverride")));
        e.id_suppress = strings(id.and_then(|x| x.get("claimsToSuppress")));
        e.access_add = object(access.and_then(|x| x.get("claimsToAddOrOverride")));
        e.access_suppress = strings(access.and_then(|x| x.get("claimsToSuppress")));
        e.scopes_add = strings(access.and_then(|x| x.get("scopesToAdd")));
        e.scopes_suppress = strings(access.and_then(|x| x.get("scopesToSuppress")));
    }
    for name in e
        .id_add
        .keys()
        .chain(e.access_add.keys())
        .chain(e.id_suppress.iter())
        .chain(e.access_suppress.iter())
    {
        if PROTECTED.contains(&name.as_str()) {
            return Err(format!("the hook may not change the claim {name}"));
        }
    }
    for s in e.scopes_add.iter().chain(e.scopes_suppress.iter()) {
        if s.is_empty() || s.contains(' ') {
            return Err(format!("invalid scope {s:?}"));
        }
    }
    Ok(e)
}

/// Apply claim edits: suppress, then add or override.
pub(crate) fn edit_claims(claims: &mut Value, add: &Map<String, Value>, suppress: &[String]) {
    if let Value::Object(m) = claims {
        for k in suppress {
            m.remove(k);
        }
        for (k, v) in add {
            m.insert(k.clone(), v.clone());
        }
    }
}

/// Apply scope edits to an access token's space-separated `scope`.
pub(crate) fn edit_scopes(claims: &mut Value, add: &[String], suppress: &[String]) {
    let current = claims["scope"].as_str().unwrap_or_default().to_string();
    let mut scopes: Vec<&str> = current
        .split(' ')
        .filter(|s| !s.is_empty() && !suppress.iter().any(|x| x == s))
        .collect();
    for s in add {
        if !scopes.contains(&s.as_str()) && !suppress.contains(s) {
            scopes.push(s);
        }
    }
    claims["scope"] = scopes.join(" ").into();
}

/// What the event says about the tokens to be issued.
pub(crate) struct HookEvent<'a> {
    pub trigger: Trigger,
    pub client_id: &'a str,
    pub user: Option<(&'a User, &'a [Group])>,
    pub scopes: Vec<String>,
}

impl Hooks {
    /// Run the pool's hook, if it has one and it applies; `Ok(None)` means "issue as is".
    pub(crate) async fn pre_token(
        &self,
        pool: &UserPool,
        ev: HookEvent<'_>,
    ) -> Result<Option<TokenEdits>, AppError> {
        let Some(hook) = &pool.config.pre_token_generation else {
            return Ok(None);
        };
        if ev.trigger == Trigger::ClientCredentials && hook.version < 3 {
            return Ok(None);
        }
        let event = event_json(pool, hook, &ev);
        let outcome = match self.invoke(pool, &hook.url, hook.timeout_ms, &event).await {
            Ok(answer) => parse_answer(hook.version, &answer).map_err(HookError::Failed),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(edits) => Ok(Some(edits)),
            Err(HookError::Refused(e)) => Err(AppError::UserLambdaValidation(format!(
                "PreTokenGeneration failed with error {e}."
            ))),
            Err(HookError::Failed(e)) if hook.fail_open => {
                tracing::warn!(pool = %pool.id, "pre-token-generation hook failed, issuing unchanged: {e}");
                Ok(None)
            }
            Err(HookError::Failed(e)) => {
                tracing::warn!(pool = %pool.id, "pre-token-generation hook failed, refusing: {e}");
                Err(AppError::HookFailed(format!(
                    "PreTokenGeneration failed with error {e}."
                )))
            }
        }
    }
}

fn event_json(pool: &UserPool, hook: &TokenHook, ev: &HookEvent<'_>) -> Value {
    let (user_name, attributes, groups) = match ev.user {
        Some((u, g)) => (
            Value::from(u.username.clone()),
            Value::from(
                u.attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from(v.clone())))
                    .collect::<Map<String, Value>>(),
            ),
            g.iter().map(|g| Value::from(g.name.clone())).collect(),
        ),
        None => (Value::Null, json!({}), Value::Array(vec![])),
    };
    let mut request = json!({
        "userAttributes": attributes,
        "groupConfiguration": {
            "groupsToOverride": groups,
            "iamRolesToOverride": [],
            "preferredRole": null,
        },
    });
    if hook.version >= 2 {
        request["scopes"] = ev.scopes.clone().into();
    }
    json!({
        "version": hook.version.to_string(),
        "triggerSource": ev.trigger.source(),
        "region": "local",
        "userPoolId": pool.id,
        "userName": user_name,
        "callerContext": {"clientId": ev.client_id},
        "request": request,
        "response": {},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_by_version_and_protected_claims() {
        let v1 = json!({"response": {"claimsOverrideDetails": {
            "claimsToAddOrOverride": {"tenant": "acme"}, "claimsToSuppress": ["email"]}}});
        let e = parse_answer(1, &v1).unwrap();
        assert_eq!(e.id_add["tenant"], "acme");
        assert_eq!(e.id_suppress, vec!["email"]);
        assert!(e.access_add.is_empty());

        let v2 = json!({"response": {"claimsAndScopeOverrideDetails": {
            "idTokenGeneration": {"claimsToAddOrOverride": {"a": 1}},
            "accessTokenGeneration": {"claimsToAddOrOverride": {"b": [1, 2]},
                "claimsToSuppress": ["c"], "scopesToAdd": ["api/extra"],
                "scopesToSuppress": ["api/write"]}}}});
        let e = parse_answer(2, &v2).unwrap();
        assert_eq!(
            (e.id_add["a"].clone(), e.access_add["b"].clone()),
            (json!(1), json!([1, 2]))
        );
        assert_eq!(
            (e.scopes_add, e.scopes_suppress),
            (vec!["api/extra".to_string()], vec!["api/write".to_string()])
        );

        for bad in ["sub", "iss", "exp", "token_use", "scope", "client_id"] {
            let a = json!({"response": {"claimsOverrideDetails": {"claimsToAddOrOverride": {bad: "x"}}}});
            assert!(parse_answer(1, &a).is_err(), "{bad} must be protected");
            let s = json!({"response": {"claimsOverrideDetails": {"claimsToSuppress": [bad]}}});
            assert!(parse_answer(1, &s).is_err(), "{bad} must be protected");
        }
        assert!(parse_answer(2, &json!({"nope": 1})).is_err());
    }

    #[test]
    fn scope_edits() {
        let mut c = json!({"scope": "api/read api/write"});
        edit_scopes(
            &mut c,
            &["api/extra".into(), "api/read".into()],
            &["api/write".into()],
        );
        assert_eq!(c["scope"], "api/read api/extra");
        let mut c = json!({"scope": "a", "x": 1, "y": 2});
        edit_claims(
            &mut c,
            &json!({"x": 9}).as_object().unwrap().clone(),
            &["y".into()],
        );
        assert_eq!(c, json!({"scope": "a", "x": 9}));
    }
}
