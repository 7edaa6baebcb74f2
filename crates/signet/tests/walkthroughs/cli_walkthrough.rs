//! Black-box: README's five-minute walkthrough with the real binary. `signet dev` runs as a
//! child process; every step is a `signet admin …` / `signet token …` subprocess whose JSON
//! output (and exit code) is checked: create a pool and an app client, sign up, read the
//! code from the dev outbox, confirm, sign in, decode (and verify) the ID token, whoami.
//! A wrong admin secret is refused with NotAuthorizedException.

use crate::support::{json_ok, start_dev, text, Cli, PASSWORD};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_minute_walkthrough_with_the_cli() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data_dir = tmp.path().join("data");
    let dev = start_dev(&data_dir).await;
    let public_url = text(&dev.ready["public_url"]);
    let http = text(&dev.ready["http_addr"]);
    let cli = Cli::of(&dev, data_dir);

    // 1. A pool whose sign-ups verify the e-mail address with a code.
    let out = cli
        .admin(&[
            "create-pool",
            "--name",
            "walkthrough",
            "--auto-verify",
            "email",
        ])
        .await;
    let pool = json_ok("create-pool", &out)["user_pool"].clone();
    let pool_id = text(&pool["id"]);
    assert!(!pool_id.is_empty());
    assert_eq!(pool["name"], "walkthrough");
    assert_eq!(
        pool["auto_verified_attributes"],
        serde_json::json!(["email"])
    );
    let issuer = text(&pool["issuer"]);
    assert_eq!(issuer, format!("{public_url}/{pool_id}"));

    // 2. An app client with the default flows and no secret.
    let out = cli
        .admin(&["create-client", "--pool", &pool_id, "--name", "web"])
        .await;
    let client = json_ok("create-client", &out)["user_pool_client"].clone();
    let client_id = text(&client["client_id"]);
    assert!(!client_id.is_empty());
    assert_eq!(client["user_pool_id"], pool_id.as_str());
    assert_eq!(client["has_secret"], false);
    assert!(client.get("client_secret").is_none());
    let flows = client["explicit_auth_flows"].as_array().expect("flows");
    for f in ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"] {
        assert!(flows.iter().any(|x| x == f), "{f} missing: {client}");
    }

    // 3. Sign-up: unconfirmed, a code went to the e-mail address.
    let out = cli
        .token_for(
            &client_id,
            &[
                "sign-up",
                "--username",
                "alice",
                "--password",
                PASSWORD,
                "--attr",
                "email=alice@example.com",
            ],
        )
        .await;
    let signed_up = json_ok("sign-up", &out);
    assert_eq!(signed_up["user_confirmed"], false);
    let sub = text(&signed_up["user_sub"]);
    assert!(!sub.is_empty());
    assert_eq!(
        signed_up["code_delivery_details"]["attribute_name"],
        "email"
    );
    assert_eq!(
        signed_up["code_delivery_details"]["delivery_medium"],
        "EMAIL"
    );

    // 4. The dev outbox holds the code that would have been e-mailed.
    let out = cli.admin(&["outbox", "--pool", &pool_id]).await;
    let outbox = json_ok("outbox", &out);
    let message = outbox["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .rev()
        .find(|m| m["username"] == "alice" && m["purpose"] == "confirm")
        .unwrap_or_else(|| panic!("no confirmation code in {outbox}"))
        .clone();
    assert_eq!(message["destination"], "alice@example.com");
    let code = text(&message["code"]);
    assert!(
        code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()),
        "{code}"
    );

    // 5. Confirm with it.
    let out = cli
        .token_for(
            &client_id,
            &["confirm", "--username", "alice", "--code", &code],
        )
        .await;
    let confirmed = json_ok("confirm", &out);
    assert_eq!(confirmed["confirmed"], true);

    // 6. Sign in: tokens.
    let out = cli
        .token_for(
            &client_id,
            &["sign-in", "--username", "alice", "--password", PASSWORD],
        )
        .await;
    let result = json_ok("sign-in", &out)["authentication_result"].clone();
    assert_eq!(result["token_type"], "Bearer");
    assert!(result["expires_in"].as_u64().expect("expires_in") > 0);
    let id_token = text(&result["id_token"]);
    let access_token = text(&result["access_token"]);
    assert!(!text(&result["refresh_token"]).is_empty());

    // 7. Look inside the ID token (unverified), then verify it against the pool's JWKS.
    let out = cli.raw(&["token", "decode", &id_token]).await;
    let decoded = json_ok("decode", &out);
    assert_eq!(decoded["verified"], false);
    assert!(String::from_utf8_lossy(&out.stderr).contains("NOT verified"));
    let claims = &decoded["payload"];
    assert_eq!(claims["cognito:username"], "alice");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["sub"], sub.as_str());
    assert_eq!(claims["aud"], client_id.as_str());
    assert_eq!(claims["iss"], issuer.as_str());
    assert_eq!(claims["token_use"], "id");
    assert!(decoded["header"]["kid"].is_string());

    let jwks_url = format!("http://{http}/{pool_id}/.well-known/jwks.json");
    let out = cli
        .token_for(
            &client_id,
            &[
                "decode",
                &id_token,
                "--verify-with-jwks",
                &jwks_url,
                "--issuer",
                &issuer,
            ],
        )
        .await;
    let verified = json_ok("decode --verify-with-jwks", &out);
    assert_eq!(verified["verified"], true);
    assert_eq!(verified["payload"]["cognito:username"], "alice");
    let out = cli
        .token_for(
            &client_id,
            &[
                "decode",
                &id_token,
                "--verify-with-jwks",
                &jwks_url,
                "--issuer",
                "http://elsewhere/pool",
            ],
        )
        .await;
    assert_eq!(out.status.code(), Some(1), "a wrong issuer must fail");
    assert!(String::from_utf8_lossy(&out.stderr).contains("NOT valid"));

    // 8. whoami with the access token.
    let out = cli
        .token(&["whoami", "--access-token", &access_token])
        .await;
    let me = json_ok("whoami", &out);
    assert_eq!(me["username"], "alice");
    assert_eq!(me["attributes"]["email"], "alice@example.com");
    assert_eq!(me["attributes"]["email_verified"], "true");
    assert_eq!(me["attributes"]["sub"], sub.as_str());

    // The admin API refuses a wrong secret, and says so by its Cognito name.
    let out = cli
        .admin(&[
            "list-pools",
            "--admin-secret",
            "not-the-admin-secret-at-all",
        ])
        .await;
    assert_ne!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("NotAuthorizedException"), "{stderr}");
    // The right one (from the data dir) lists the pool.
    let out = cli.admin(&["list-pools"]).await;
    let pools = json_ok("list-pools", &out);
    assert!(pools["user_pools"]
        .as_array()
        .expect("user_pools")
        .iter()
        .any(|p| p["id"] == pool_id.as_str()));

    // The gateway's keys: one per algorithm, published.
    let out = cli.admin(&["keys", "list"]).await;
    let keys = json_ok("keys list", &out);
    let keys = keys["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 3);
    assert!(keys.iter().all(|k| k["state"] == "published"));
    let mut algs: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    algs.sort();
    assert_eq!(algs, ["ES256", "EdDSA", "RS256"]);

    assert_eq!(dev.terminate(Duration::from_secs(20)).await, Some(0));
}
