//! Black-box: the hosted sign-in's administration through the real binary, as README's
//! "Hosted sign-in" section runs it: a code-flow client with callback and logout URLs, an
//! OIDC identity provider (its secret never printed), the client offering it, a pool user
//! linked to a provider user (and not twice), unlinked, and the pages' look set and cleared.

use crate::support::{json_ok, start_dev, text, Cli};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosted_sign_in_walkthrough_with_the_cli() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data_dir = tmp.path().join("data");
    let dev = start_dev(&data_dir).await;
    let cli = Cli::of(&dev, data_dir);

    let out = cli
        .admin(&["create-pool", "--name", "demo", "--auto-verify", "email"])
        .await;
    let pool = text(&json_ok("create-pool", &out)["user_pool"]["id"]);
    let out = cli
        .admin(&[
            "create-client",
            "--pool",
            &pool,
            "--name",
            "spa",
            "--oauth-flow",
            "code",
            "--oauth-scope",
            "openid",
            "--oauth-scope",
            "email",
            "--callback-url",
            "http://localhost:8000/cb",
            "--logout-url",
            "http://localhost:8000/",
            "--identity-provider",
            "COGNITO",
        ])
        .await;
    let client = json_ok("create-client", &out)["user_pool_client"].clone();
    assert_eq!(client["allowed_oauth_flows"], json!(["code"]));
    assert_eq!(client["callback_urls"], json!(["http://localhost:8000/cb"]));
    assert_eq!(client["supported_identity_providers"], json!(["COGNITO"]));
    let client_id = text(&client["client_id"]);
    // A callback a browser would run is refused.
    let out = cli
        .admin(&[
            "create-client",
            "--pool",
            &pool,
            "--name",
            "bad",
            "--oauth-flow",
            "code",
            "--callback-url",
            "javascript:alert(1)",
            "--identity-provider",
            "COGNITO",
        ])
        .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("InvalidParameterException"));

    // An OIDC provider: its secret is not printed back.
    let out = cli
        .admin(&[
            "identity-providers",
            "create",
            "--pool",
            &pool,
            "--name",
            "Corp",
            "--type",
            "OIDC",
            "--detail",
            "client_id=signet",
            "--detail",
            "client_secret=do-not-print-me",
            "--detail",
            "oidc_issuer=https://idp.corp.example",
            "--detail",
            "authorize_scopes=openid email profile",
            "--map",
            "email=email",
            "--identifier",
            "corp.example",
        ])
        .await;
    let idp = json_ok("identity-providers create", &out)["identity_provider"].clone();
    assert_eq!(idp["provider_type"], "OIDC");
    assert_eq!(idp["attribute_mapping"], json!({"email": "email"}));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("do-not-print-me"));
    let out = cli
        .admin(&["identity-providers", "list", "--pool", &pool])
        .await;
    assert_eq!(
        json_ok("identity-providers list", &out)["identity_providers"][0]["provider_name"],
        "Corp"
    );
    let out = cli
        .admin(&[
            "update-client",
            "--pool",
            &pool,
            "--client-id",
            &client_id,
            "--identity-provider",
            "COGNITO",
            "--identity-provider",
            "Corp",
        ])
        .await;
    assert_eq!(
        json_ok("update-client", &out)["user_pool_client"]["supported_identity_providers"],
        json!(["COGNITO", "Corp"])
    );

    // A pool user linked to a provider user, once; then unlinked.
    let out = cli
        .token_for(
            &client_id,
            &[
                "sign-up",
                "--username",
                "alice",
                "--password",
                "Correct-Horse-9",
                "--attr",
                "email=alice@example.com",
            ],
        )
        .await;
    json_ok("sign-up", &out);
    let link = [
        "identity-providers",
        "link",
        "--pool",
        &pool,
        "--name",
        "Corp",
        "--subject",
        "s-1",
        "--username",
        "alice",
    ];
    json_ok("link", &cli.admin(&link).await);
    let again = cli.admin(&link).await;
    assert_eq!(again.status.code(), Some(1), "linked twice");
    let out = cli
        .admin(&[
            "identity-providers",
            "disable",
            "--pool",
            &pool,
            "--name",
            "Corp",
            "--subject",
            "s-1",
        ])
        .await;
    json_ok("disable", &out);
    json_ok("link again after the unlink", &cli.admin(&link).await);

    // The pages' look, and back to the default.
    let out = cli
        .admin(&[
            "update-pool",
            "--pool",
            &pool,
            "--logo-url",
            "https://cdn.example/logo.png",
            "--primary-color",
            "#aa3300",
        ])
        .await;
    let look = json_ok("update-pool look", &out)["user_pool"]["ui_customization"].clone();
    assert_eq!(
        look,
        json!({"logo_url": "https://cdn.example/logo.png", "primary_color": "#aa3300", "background_color": ""})
    );
    let out = cli
        .admin(&["update-pool", "--pool", &pool, "--clear-ui"])
        .await;
    assert_eq!(
        json_ok("update-pool --clear-ui", &out)["user_pool"]["ui_customization"],
        serde_json::Value::Null
    );
}
