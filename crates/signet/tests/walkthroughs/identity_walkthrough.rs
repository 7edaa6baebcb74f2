//! Black-box: identity pools, roles and STS through the real binary. `signet dev` runs as a
//! child process; a user of a user pool signs in (`signet admin` / `signet token`), an
//! identity pool accepts that pool's ID tokens, a role trusted by the identity pool may read
//! the caller's own orders, and `signet identity get-credentials` then `signet sts
//! authorize` answer Allow for the identity's own resource and ImplicitDeny for another's.

use crate::support::{json_of, json_ok, start_dev, text, Cli, PASSWORD};
use serde_json::{json, Value};
use std::time::Duration;

/// A user pool with an app client and a confirmed user "alice", signed in:
/// (issuer, client id, ID token).
async fn signed_in_user(cli: &Cli) -> (String, String, String) {
    let out = cli
        .admin(&[
            "create-pool",
            "--name",
            "shop-users",
            "--auto-verify",
            "email",
        ])
        .await;
    let pool = json_ok("create-pool", &out)["user_pool"].clone();
    let (pool_id, issuer) = (text(&pool["id"]), text(&pool["issuer"]));
    let out = cli
        .admin(&["create-client", "--pool", &pool_id, "--name", "shop-web"])
        .await;
    let client_id = text(&json_ok("create-client", &out)["user_pool_client"]["client_id"]);
    let sign_up = [
        "sign-up",
        "--username",
        "alice",
        "--password",
        PASSWORD,
        "--attr",
        "email=alice@example.com",
    ];
    json_ok("sign-up", &cli.token_for(&client_id, &sign_up).await);
    let outbox = json_ok("outbox", &cli.admin(&["outbox", "--pool", &pool_id]).await);
    let code = outbox["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["username"] == "alice" && m["purpose"] == "confirm")
        .map(|m| text(&m["code"]))
        .unwrap_or_else(|| panic!("no confirmation code in {outbox}"));
    let confirm = ["confirm", "--username", "alice", "--code", &code];
    json_ok("confirm", &cli.token_for(&client_id, &confirm).await);
    let sign_in = ["sign-in", "--username", "alice", "--password", PASSWORD];
    let out = cli.token_for(&client_id, &sign_in).await;
    let id_token = text(&json_ok("sign-in", &out)["authentication_result"]["id_token"]);
    (issuer, client_id, id_token)
}

/// `signet sts authorize` of orders:GetOrder on `resource` (plus `extra` flags).
async fn authorize(
    cli: &Cli,
    creds: &Value,
    resource: &str,
    extra: &[&str],
) -> std::process::Output {
    let (token, akid) = (text(&creds["session_token"]), text(&creds["access_key_id"]));
    let mut args = vec![
        "authorize",
        "--session-token",
        &token,
        "--access-key-id",
        &akid,
        "--action",
        "orders:GetOrder",
        "--resource",
        resource,
    ];
    args.extend_from_slice(extra);
    cli.public("sts", &args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_pool_role_and_sts_walkthrough_with_the_cli() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data_dir = tmp.path().join("data");
    let dev = start_dev(&data_dir).await;
    let cli = Cli::of(&dev, data_dir);
    let (issuer, client_id, id_token) = signed_in_user(&cli).await;
    // A user pool's provider name is its issuer without the scheme.
    let provider = issuer
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("signet dev's issuer is http: {issuer}"))
        .to_string();

    // 1. An identity pool accepting the pool's ID tokens for that client.
    let user_pool = format!("{issuer}={client_id}");
    let out = cli
        .admin(&[
            "identity-pools",
            "create",
            "--name",
            "shop",
            "--user-pool",
            &user_pool,
        ])
        .await;
    let ipool = json_ok("identity-pools create", &out)["identity_pool"].clone();
    let ipool_id = text(&ipool["identity_pool_id"]);
    assert_eq!(ipool["identity_pool_name"], "shop");
    assert_eq!(ipool["allow_unauthenticated_identities"], false);
    assert_eq!(
        ipool["cognito_identity_providers"],
        json!([{ "provider_name": provider, "client_id": client_id }])
    );

    // 2. A role that the identity pool's authenticated identities may assume; its trust
    // policy comes from a file.
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": "signet-identity"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {"signet-identity:aud": ipool_id},
                "ForAnyValue:StringLike": {"signet-identity:amr": "authenticated"}
            }
        }]
    });
    let trust_file = tmp.path().join("trust.json");
    std::fs::write(&trust_file, trust.to_string()).expect("write the trust policy");
    let out = cli
        .admin(&[
            "roles",
            "create",
            "--name",
            "order-reader",
            "--trust-policy",
            trust_file.to_str().expect("utf-8 temp dir"),
        ])
        .await;
    let role = json_ok("roles create", &out)["role"].clone();
    let role_arn = text(&role["arn"]);
    assert_eq!(role["role_name"], "order-reader");
    assert_eq!(role["assume_role_policy_document"], trust);
    assert_eq!(role["max_session_duration"], 3600);

    // 3. Its permissions (inline JSON): read your own orders.
    let read = r#"{"Version":"2012-10-17","Statement":[{"Sid":"OwnOrders","Effect":"Allow","Action":"orders:Get*","Resource":"arn:orders:::${signet:sub}/*"}]}"#;
    let put = [
        "roles",
        "put-policy",
        "--name",
        "order-reader",
        "--policy-name",
        "read-own",
        "--document",
        read,
    ];
    let out = cli.admin(&put).await;
    let policy = json_ok("roles put-policy", &out);
    assert_eq!(policy["policy_name"], "read-own");
    assert_eq!(
        policy["policy_document"]["Statement"][0]["Sid"],
        "OwnOrders"
    );
    // A document the evaluator cannot read is refused by its IAM name.
    let bad = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Perhaps","Action":"orders:Get*","Resource":"*"}]}"#;
    let out = cli
        .admin(&[
            "roles",
            "put-policy",
            "--name",
            "order-reader",
            "--policy-name",
            "broken",
            "--document",
            bad,
        ])
        .await;
    assert_ne!(out.status.code(), Some(0), "a bad policy must be refused");
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("MalformedPolicyDocumentException"),
        "{stderr}"
    );
    let out = cli.admin(&["roles", "get", "--name", "order-reader"]).await;
    let role = json_ok("roles get", &out)["role"].clone();
    assert_eq!(role["policy_names"], json!(["read-own"]));

    // 4. The role is the pool's default for authenticated identities.
    let out = cli
        .admin(&[
            "identity-pools",
            "set-roles",
            "--identity-pool",
            &ipool_id,
            "--authenticated",
            &role_arn,
        ])
        .await;
    json_ok("identity-pools set-roles", &out);
    let out = cli
        .admin(&["identity-pools", "get-roles", "--identity-pool", &ipool_id])
        .await;
    let roles = json_ok("identity-pools get-roles", &out);
    assert_eq!(roles["roles"], json!({ "authenticated": role_arn }));
    assert_eq!(roles["role_mappings"], json!({}));

    // 5. Alice's ID token (read from stdin) → her identity and its credentials.
    let login = format!("{provider}=-");
    let out = cli
        .raw_with_stdin(
            &[
                "identity",
                "--endpoint",
                &cli.grpc,
                "get-credentials",
                "--identity-pool",
                &ipool_id,
                "--login",
                &login,
            ],
            Some(&format!("{id_token}\n")),
        )
        .await;
    let got = json_ok("identity get-credentials", &out);
    let identity_id = text(&got["identity_id"]);
    assert!(identity_id.starts_with("local:"), "{identity_id}");
    let creds = got["credentials"].clone();
    for field in ["access_key_id", "secret_key", "session_token"] {
        assert!(!text(&creds[field]).is_empty(), "{field} in {creds}");
    }
    assert!(creds["expiration"].as_u64().expect("expiration") > 0);
    // The same login always names the same identity.
    let login = format!("{provider}={id_token}");
    let get_id = ["get-id", "--identity-pool", &ipool_id, "--login", &login];
    let out = cli.public("identity", &get_id).await;
    assert_eq!(
        json_ok("identity get-id", &out)["identity_id"],
        identity_id.as_str()
    );

    // 6. The credentials may read her own orders, by the role's statement…
    let own = format!("arn:orders:::{identity_id}/1");
    let yes = json_ok(
        "sts authorize (own)",
        &authorize(&cli, &creds, &own, &[]).await,
    );
    assert_eq!(yes["allowed"], true);
    assert_eq!(yes["decision"], "Allow");
    assert_eq!(yes["policy_name"], "read-own");
    assert_eq!(yes["statement_index"], 0);
    assert_eq!(yes["sid"], "OwnOrders");
    assert_eq!(yes["role_arn"], role_arn.as_str());
    assert_eq!(yes["subject"], identity_id.as_str());
    let out = authorize(&cli, &creds, &own, &["--fail-on-deny"]).await;
    json_ok("sts authorize --fail-on-deny (own)", &out);

    // …but not someone else's: a denial is an answer (exit 0), or exit 3 if asked.
    let other = "arn:orders:::local:someone-else/1";
    let no = json_ok(
        "sts authorize (other)",
        &authorize(&cli, &creds, other, &[]).await,
    );
    assert_eq!(no["allowed"], false);
    assert_eq!(no["decision"], "ImplicitDeny");
    assert_eq!(no["policy_name"], Value::Null);
    let out = authorize(&cli, &creds, other, &["--fail-on-deny"]).await;
    assert_eq!(out.status.code(), Some(3), "--fail-on-deny on a denial");
    assert_eq!(
        json_of("sts authorize --fail-on-deny", &out)["decision"],
        "ImplicitDeny"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("denied (ImplicitDeny)"), "{stderr}");

    // 7. Whose credentials these are.
    let token = text(&creds["session_token"]);
    let out = cli
        .public("sts", &["caller-identity", "--session-token", &token])
        .await;
    let caller = json_ok("sts caller-identity", &out);
    let arn = text(&caller["arn"]);
    assert!(arn.contains(":assumed-role/order-reader/"), "{arn}");

    // 8. The identity pool holds exactly Alice's identity, linked to her user pool.
    let out = cli
        .admin(&["identity-pools", "identities", "--identity-pool", &ipool_id])
        .await;
    let listed = json_ok("identity-pools identities", &out);
    let identities = listed["identities"].as_array().expect("identities");
    assert_eq!(identities.len(), 1, "{listed}");
    assert_eq!(identities[0]["identity_id"], identity_id.as_str());
    assert_eq!(identities[0]["logins"], json!([provider]));

    assert_eq!(dev.terminate(Duration::from_secs(20)).await, Some(0));
}
