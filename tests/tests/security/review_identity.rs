//! Review findings on identity pools and STS: an ID token of a user who was disabled,
//! signed out or deleted buys nothing (one user check on every path that accepts a
//! user-pool token), and with the classic flow off, identity tokens cannot be taken to STS.

use crate::review_support::*;
use crate::support::identity::*;
use serde_json::json;
use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::{
    admin, admin_client, auth_client, identity_admin_client, identity_client, sts_client,
};
use std::collections::HashMap;
use tonic::Status;

const NOT_AUTHORIZED: &str = "NotAuthorizedException";
const ACCESS_DENIED: &str = "AccessDeniedException";

/// A trust policy admitting ID tokens of a Signet user pool issued to `client_id`.
fn trust_user_pool(provider: &str, client_id: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {format!("{provider}:aud"): client_id}}
        }]
    })
    .to_string()
}

async fn assume(
    gw: &GatewayHandle,
    role_arn: &str,
    token: &str,
) -> Result<pb::AssumeRoleWithWebIdentityResponse, Status> {
    sts_client(gw)
        .await
        .assume_role_with_web_identity(pb::AssumeRoleWithWebIdentityRequest {
            role_arn: role_arn.into(),
            role_session_name: "review-session".into(),
            web_identity_token: token.into(),
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner())
}

async fn open_id_token(
    gw: &GatewayHandle,
    identity_id: &str,
    logins: &Logins,
) -> Result<String, Status> {
    identity_client(gw)
        .await
        .get_open_id_token(pb::GetOpenIdTokenRequest {
            identity_id: identity_id.into(),
            logins: logins.clone(),
        })
        .await
        .map(|r| r.into_inner().token)
}

/// What happens to the user after their ID token was issued.
#[derive(Clone, Copy, Debug)]
enum Fate {
    Disabled,
    SignedOut,
    Deleted,
}

/// A user signs in and uses the ID token with an identity pool (GetId,
/// GetCredentialsForIdentity, GetOpenIdToken) and with STS; then `fate` befalls them, and
/// the same token (same identity id, same logins) must buy nothing anywhere.
async fn id_token_after(fate: Fate) {
    let env = Small::start(1, |_| {}).await;
    let gw = env.gw();
    let alice = user_pool_login(gw, "alice").await;
    let pool = identity_pool(gw, &[(&alice.provider, &alice.client_id)], false).await;
    let auth_role = identity_role(gw, "ids-auth", &pool, "authenticated", &[]).await;
    set_roles(gw, &pool, Some(&auth_role), None).await;
    let web_role = role(
        gw,
        "web",
        &trust_user_pool(&alice.provider, &alice.client_id),
        &[],
    )
    .await;
    let l = logins(&[(&alice.provider, &alice.id_token)]);

    // Before: every path takes the token.
    let id = ok("GetId before", get_id(gw, &pool, &l).await);
    ok(
        "GetCredentialsForIdentity before",
        credentials(gw, &id, &l).await,
    );
    ok("GetOpenIdToken before", open_id_token(gw, &id, &l).await);
    ok(
        "AssumeRoleWithWebIdentity before",
        assume(gw, &web_role, &alice.id_token).await,
    );

    match fate {
        Fate::Disabled => {
            admin_client(gw)
                .await
                .admin_disable_user(admin(pb::UserRef {
                    user_pool_id: alice.pool_id.clone(),
                    username: alice.username.clone(),
                }))
                .await
                .expect("AdminDisableUser");
        }
        Fate::SignedOut => {
            auth_client(gw)
                .await
                .global_sign_out(pb::AccessTokenRequest {
                    access_token: alice.access_token.clone(),
                })
                .await
                .expect("GlobalSignOut");
        }
        Fate::Deleted => {
            admin_client(gw)
                .await
                .admin_delete_user(admin(pb::UserRef {
                    user_pool_id: alice.pool_id.clone(),
                    username: alice.username.clone(),
                }))
                .await
                .expect("AdminDeleteUser");
        }
    }

    // The change may take a moment to reach the gateway's caches.
    let get_id_after = until_refused(PROPAGATION, || get_id(gw, &pool, &l)).await;
    let mut observed = vec![("GetId", outcome(&get_id_after))];
    observed.push((
        "GetCredentialsForIdentity",
        outcome(&credentials(gw, &id, &l).await),
    ));
    observed.push(("GetOpenIdToken", outcome(&open_id_token(gw, &id, &l).await)));
    let sts = assume(gw, &web_role, &alice.id_token).await;
    observed.push(("AssumeRoleWithWebIdentity", outcome(&sts)));
    assert_eq!(
        observed,
        vec![
            ("GetId", NOT_AUTHORIZED.to_string()),
            ("GetCredentialsForIdentity", NOT_AUTHORIZED.into()),
            ("GetOpenIdToken", NOT_AUTHORIZED.into()),
            (
                "AssumeRoleWithWebIdentity",
                "InvalidIdentityTokenException".into()
            ),
        ],
        "after the user was {fate:?}"
    );
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_users_id_token_still_buys_credentials() {
    id_token_after(Fate::Disabled).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_out_users_id_token_still_buys_credentials() {
    id_token_after(Fate::SignedOut).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_users_id_token_still_buys_credentials() {
    id_token_after(Fate::Deleted).await;
}

/// Classic flow on: an identity token assumes a role whose trust policy admits it, and
/// not one whose trust policy does not. Classic flow off: identity tokens cannot be used
/// with STS at all, not for a role the pool's rules map to (`basic`), nor for another role
/// whose trust policy would admit them (`ops`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_tokens_reach_sts_with_the_classic_flow_off() {
    let env = Small::start(1, |_| {}).await;
    let gw = env.gw();
    let alice = user_pool_login(gw, "alice").await;
    let l = logins(&[(&alice.provider, &alice.id_token)]);
    let providers = vec![pb::CognitoIdentityProviderType {
        provider_name: alice.provider.clone(),
        client_id: alice.client_id.clone(),
    }];

    // Classic flow on.
    let classic = create_identity_pool(
        gw,
        pb::IdentityPoolType {
            identity_pool_name: "classic".into(),
            allow_classic_flow: true,
            cognito_identity_providers: providers.clone(),
            ..Default::default()
        },
    )
    .await
    .identity_pool_id;
    let admitted = identity_role(gw, "classic-ops", &classic, "authenticated", &[]).await;
    let not_admitted = identity_role(gw, "guests-only", &classic, "unauthenticated", &[]).await;
    let id = ok("GetId (classic)", get_id(gw, &classic, &l).await);
    let token = ok("GetOpenIdToken (classic)", open_id_token(gw, &id, &l).await);
    let mut observed = vec![
        (
            "classic on: a role admitting the token",
            outcome(&assume(gw, &admitted, &token).await),
        ),
        (
            "classic on: a role not admitting it",
            outcome(&assume(gw, &not_admitted, &token).await),
        ),
    ];

    // Classic flow off (the default), rules mapping alice's e-mail to `basic`.
    let enhanced = identity_pool(gw, &[(&alice.provider, &alice.client_id)], false).await;
    let basic = identity_role(gw, "basic", &enhanced, "authenticated", &[]).await;
    let ops = identity_role(gw, "ops", &enhanced, "authenticated", &[]).await;
    identity_admin_client(gw)
        .await
        .set_identity_pool_roles(admin(pb::IdentityPoolRolesType {
            identity_pool_id: enhanced.clone(),
            roles: HashMap::new(),
            role_mappings: HashMap::from([(
                alice.provider.clone(),
                pb::RoleMappingType {
                    r#type: "Rules".into(),
                    ambiguous_role_resolution: "Deny".into(),
                    rules: vec![pb::MappingRuleType {
                        claim: "email".into(),
                        match_type: "Equals".into(),
                        value: "alice@example.com".into(),
                        role_arn: basic.clone(),
                    }],
                },
            )]),
        }))
        .await
        .unwrap_or_else(|e| panic!("SetIdentityPoolRoles: {e:?}"));
    let id = ok("GetId (enhanced)", get_id(gw, &enhanced, &l).await);
    // The enhanced flow maps alice to `basic`.
    let creds = ok(
        "GetCredentialsForIdentity (enhanced)",
        credentials(gw, &id, &l).await,
    );
    assert_eq!(claims_of(&creds.session_token)["role"], basic.as_str());
    let token = ok(
        "GetOpenIdToken (enhanced)",
        open_id_token(gw, &id, &l).await,
    );
    observed.push((
        "classic off: ops, whose trust policy admits the token",
        outcome(&assume(gw, &ops, &token).await),
    ));
    observed.push((
        "classic off: basic, the role the rules map to",
        outcome(&assume(gw, &basic, &token).await),
    ));
    assert_eq!(
        observed,
        vec![
            ("classic on: a role admitting the token", "OK".to_string()),
            ("classic on: a role not admitting it", ACCESS_DENIED.into()),
            (
                "classic off: ops, whose trust policy admits the token",
                ACCESS_DENIED.into()
            ),
            (
                "classic off: basic, the role the rules map to",
                ACCESS_DENIED.into()
            ),
        ]
    );
    env.shutdown().await;
}
