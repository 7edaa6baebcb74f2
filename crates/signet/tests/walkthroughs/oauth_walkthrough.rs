//! Black-box: OAuth 2.0 for services through the real binary. `signet dev` runs as a child
//! process; a resource server defines the scopes `orders/read` and `orders/write`, a
//! confidential app client is granted both for client_credentials, and `signet token
//! client-credentials` gets it machine tokens (every allowed scope, or the ones asked for;
//! secret from the flag, stdin or the environment). The client's secret is rotated with
//! `signet admin client-secrets` (the deleted one is refused), then the client is disabled
//! (refused) and enabled again. Also: a pool's pre-token-generation hook is set and cleared.

use crate::support::{json_ok, start_dev, text, Cli};
use serde_json::{json, Value};
use std::process::Output;
use std::time::{Duration, Instant};

/// Every scope the client is granted, as client_credentials reports them.
const BOTH: &str = "orders/read orders/write";

/// `signet token client-credentials` for `client_id` of `pool` with `secret` (plus `extra`).
async fn client_token(
    cli: &Cli,
    pool: &str,
    client_id: &str,
    secret: &str,
    extra: &[&str],
) -> Output {
    let mut args = vec![
        "client-credentials",
        "--pool",
        pool,
        "--client-secret",
        secret,
    ];
    args.extend_from_slice(extra);
    cli.token_for(client_id, &args).await
}

/// Whether a run was refused as NotAuthorizedException (exit 1, nothing on stdout).
fn not_authorized(out: &Output) -> bool {
    out.status.code() == Some(1)
        && out.stdout.is_empty()
        && String::from_utf8_lossy(&out.stderr).contains("NotAuthorizedException")
}

/// Runs `attempt` until `done` says yes: the gateway learns of a changed client through the
/// store's change stream, within milliseconds, so give it a short deadline.
async fn eventually<F, Fut>(what: &str, attempt: F, done: fn(&Output) -> bool) -> Output
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Output>,
{
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let out = attempt().await;
        if done(&out) {
            return out;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: still exit {:?} after 5 s: {}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn granted(out: &Output) -> bool {
    out.status.code() == Some(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_walkthrough_with_the_cli() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data_dir = tmp.path().join("data");
    let dev = start_dev(&data_dir).await;
    let cli = Cli::of(&dev, data_dir);

    // 1. A pool; a pre-token-generation hook can be set on it and cleared.
    let out = cli.admin(&["create-pool", "--name", "services"]).await;
    let pool = json_ok("create-pool", &out)["user_pool"].clone();
    let (pool_id, issuer) = (text(&pool["id"]), text(&pool["issuer"]));
    assert_eq!(pool["pre_token_generation"], Value::Null);
    let set_hook = [
        "update-pool",
        "--pool",
        &pool_id,
        "--pre-token-hook-url",
        "http://127.0.0.1:9/pre-token",
        "--pre-token-hook-version",
        "V3_0",
        "--pre-token-hook-timeout-ms",
        "250",
        "--pre-token-hook-fail-open",
    ];
    let updated = json_ok("update-pool (hook)", &cli.admin(&set_hook).await);
    let hook = json!({
        "url": "http://127.0.0.1:9/pre-token",
        "version": "V3_0",
        "timeout_ms": 250,
        "fail_open": true,
    });
    assert_eq!(updated["user_pool"]["pre_token_generation"], hook);
    assert_eq!(updated["user_pool"]["name"], "services");
    let out = cli.admin(&["describe-pool", "--pool", &pool_id]).await;
    assert_eq!(
        json_ok("describe-pool", &out)["user_pool"]["pre_token_generation"],
        hook
    );
    let clear = ["update-pool", "--pool", &pool_id, "--clear-pre-token-hook"];
    let cleared = json_ok("update-pool --clear", &cli.admin(&clear).await);
    assert_eq!(cleared["user_pool"]["pre_token_generation"], Value::Null);

    // 2. A resource server "orders" with the scopes read and write.
    let out = cli
        .admin(&[
            "resource-servers",
            "create",
            "--pool",
            &pool_id,
            "--identifier",
            "orders",
            "--name",
            "Orders API",
            "--scope",
            "read=Read orders",
            "--scope",
            "write",
        ])
        .await;
    let server = json_ok("resource-servers create", &out)["resource_server"].clone();
    assert_eq!(
        server,
        json!({
            "user_pool_id": pool_id,
            "identifier": "orders",
            "name": "Orders API",
            "scopes": [
                { "scope_name": "read", "scope_description": "Read orders" },
                { "scope_name": "write", "scope_description": "" },
            ],
        })
    );
    let sel = ["--pool", pool_id.as_str(), "--identifier", "orders"];
    let out = cli
        .admin(&[&["resource-servers", "describe"], &sel[..]].concat())
        .await;
    assert_eq!(json_ok("describe", &out)["resource_server"], server);
    let out = cli
        .admin(&["resource-servers", "list", "--pool", &pool_id])
        .await;
    assert_eq!(json_ok("list", &out)["resource_servers"], json!([server]));

    // 3. A confidential client granted client_credentials with both scopes.
    let out = cli
        .admin(&[
            "create-client",
            "--pool",
            &pool_id,
            "--name",
            "billing-service",
            "--secret",
            "--oauth-flow",
            "client_credentials",
            "--oauth-scope",
            "orders/read",
            "--oauth-scope",
            "orders/write",
        ])
        .await;
    let client = json_ok("create-client", &out)["user_pool_client"].clone();
    let client_id = text(&client["client_id"]);
    let first_secret = text(&client["client_secret"]);
    assert_eq!(client["has_secret"], true);
    assert_eq!(client["allowed_oauth_flows"], json!(["client_credentials"]));
    assert_eq!(
        client["allowed_oauth_scopes"],
        json!(["orders/read", "orders/write"])
    );
    assert_eq!(client["disabled"], false);

    // Update replaces the name and the scopes; a granted scope cannot be taken off.
    let out = cli
        .admin(
            &[
                &["resource-servers", "update"],
                &sel[..],
                &["--name", "Orders", "--scope", "read", "--scope", "write"],
                &["--scope", "admin=Everything"],
            ]
            .concat(),
        )
        .await;
    let server = json_ok("resource-servers update", &out)["resource_server"].clone();
    assert_eq!(server["name"], "Orders");
    let names: Vec<&Value> = server["scopes"]
        .as_array()
        .expect("scopes")
        .iter()
        .map(|s| &s["scope_name"])
        .collect();
    assert_eq!(names, [&json!("read"), &json!("write"), &json!("admin")]);
    assert_eq!(server["scopes"][0]["scope_description"], "");
    let out = cli
        .admin(
            &[
                &["resource-servers", "update"],
                &sel[..],
                &["--name", "Orders", "--scope", "read"],
            ]
            .concat(),
        )
        .await;
    assert_eq!(out.status.code(), Some(1), "removing a granted scope");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("InvalidParameterException"), "{stderr}");
    assert!(stderr.contains("orders/write"), "{stderr}");

    // 4. Without --scope: every allowed scope; with it, only what was asked.
    let out = client_token(&cli, &pool_id, &client_id, &first_secret, &[]).await;
    let token = json_ok("client-credentials", &out);
    assert_eq!(token["scope"], BOTH);
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 3600);
    let scoped = ["--scope", "orders/read"];
    let out = client_token(&cli, &pool_id, &client_id, &first_secret, &scoped).await;
    let token = json_ok("client-credentials --scope", &out);
    assert_eq!(token["scope"], "orders/read");
    let out = cli
        .raw(&["token", "decode", &text(&token["access_token"])])
        .await;
    let claims = json_ok("decode", &out)["payload"].clone();
    assert_eq!(claims["client_id"], client_id.as_str());
    assert_eq!(claims["sub"], client_id.as_str());
    assert_eq!(claims["token_use"], "access");
    assert_eq!(claims["scope"], "orders/read");
    assert_eq!(claims["iss"], issuer.as_str());
    // A scope the client was not granted is refused.
    let admin_scope = ["--scope", "orders/read orders/admin"];
    let out = client_token(&cli, &pool_id, &client_id, &first_secret, &admin_scope).await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("orders/admin"), "{stderr}");

    // The secret may come from stdin (`-`) or from SIGNET_CLIENT_SECRET.
    let stdin_args = [
        "token",
        "--endpoint",
        &cli.grpc,
        "--client-id",
        &client_id,
        "client-credentials",
        "--pool",
        &pool_id,
        "--client-secret",
        "-",
    ];
    let piped = format!("{first_secret}\n");
    let out = cli.raw_with_stdin(&stdin_args, Some(&piped)).await;
    assert_eq!(json_ok("secret on stdin", &out)["scope"], BOTH);
    let env_args = &stdin_args[..stdin_args.len() - 2];
    let env = [("SIGNET_CLIENT_SECRET", first_secret.as_str())];
    let out = cli.raw_with(env_args, None, &env).await;
    assert_eq!(json_ok("secret in env", &out)["scope"], BOTH);
    // Without any secret the CLI says what is missing.
    let out = cli.raw(env_args).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--client-secret"));

    // 5. Rotation: a second secret (shown once), both listed (never their values), both work.
    let secret_sel = [
        "--pool",
        pool_id.as_str(),
        "--client-id",
        client_id.as_str(),
    ];
    let list = [&["client-secrets", "list"], &secret_sel[..]].concat();
    let listed = json_ok("client-secrets list", &cli.admin(&list).await);
    let old_id = text(&listed["client_secrets"][0]["client_secret_id"]);
    assert_eq!(listed["client_secrets"].as_array().map(Vec::len), Some(1));
    let add = [&["client-secrets", "add"], &secret_sel[..]].concat();
    let added = json_ok("client-secrets add", &cli.admin(&add).await)["client_secret"].clone();
    let (new_id, new_secret) = (
        text(&added["client_secret_id"]),
        text(&added["client_secret_value"]),
    );
    assert_ne!(new_id, old_id);
    assert_ne!(new_secret, first_secret);
    let listed = json_ok("client-secrets list", &cli.admin(&list).await);
    let secrets = listed["client_secrets"].as_array().expect("client_secrets");
    assert_eq!(secrets.len(), 2, "{listed}");
    assert!(secrets
        .iter()
        .all(|s| s.get("client_secret_value").is_none()));
    let new_works = || client_token(&cli, &pool_id, &client_id, &new_secret, &[]);
    let out = eventually("the added secret", new_works, granted).await;
    assert_eq!(json_ok("new secret", &out)["scope"], BOTH);

    // 6. Deleting the old secret: it is refused, the new one still works.
    let delete = [
        &["client-secrets", "delete"],
        &secret_sel[..],
        &["--secret-id", &old_id],
    ]
    .concat();
    let deleted = json_ok("client-secrets delete", &cli.admin(&delete).await);
    assert_eq!(deleted["deleted_client_secret"], old_id.as_str());
    let old_refused = || client_token(&cli, &pool_id, &client_id, &first_secret, &[]);
    eventually("the deleted secret", old_refused, not_authorized).await;
    json_ok("new secret after delete", &new_works().await);
    // The last secret stays.
    let delete_last = [
        &["client-secrets", "delete"],
        &secret_sel[..],
        &["--secret-id", &new_id],
    ]
    .concat();
    let out = cli.admin(&delete_last).await;
    assert_eq!(out.status.code(), Some(1), "the last secret must stay");

    // 7. A disabled client is refused; enabled again, it works.
    let update = [&["update-client"], &secret_sel[..]].concat();
    let out = cli.admin(&[&update[..], &["--disable"]].concat()).await;
    let client = json_ok("update-client --disable", &out)["user_pool_client"].clone();
    assert_eq!(client["disabled"], true);
    assert_eq!(client["client_name"], "billing-service");
    assert_eq!(
        client["allowed_oauth_scopes"].as_array().map(Vec::len),
        Some(2)
    );
    let out = eventually("the disabled client", new_works, not_authorized).await;
    assert!(out.stdout.is_empty());
    let out = cli.admin(&[&update[..], &["--enable"]].concat()).await;
    assert_eq!(
        json_ok("update-client --enable", &out)["user_pool_client"]["disabled"],
        false
    );
    eventually("the enabled client", new_works, granted).await;

    // 8. Without OAuth grants the resource server can go.
    let out = cli.admin(&[&update[..], &["--clear-oauth"]].concat()).await;
    let client = json_ok("update-client --clear-oauth", &out)["user_pool_client"].clone();
    assert_eq!(client["allowed_oauth_flows"], json!([]));
    assert_eq!(client["allowed_oauth_scopes"], json!([]));
    let out = cli
        .admin(&[&["resource-servers", "delete"], &sel[..]].concat())
        .await;
    assert_eq!(
        json_ok("resource-servers delete", &out)["deleted_resource_server"],
        "orders"
    );
    let out = cli
        .admin(&["resource-servers", "list", "--pool", &pool_id])
        .await;
    assert_eq!(json_ok("list", &out)["resource_servers"], json!([]));

    assert_eq!(dev.terminate(Duration::from_secs(20)).await, Some(0));
}
