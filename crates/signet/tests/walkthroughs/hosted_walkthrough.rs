//! Black-box: the hosted sign-in's administration through the real binary, as README's
//! "Hosted sign-in" section runs it: a code-flow client with callback and logout URLs, an
//! OIDC identity provider (its secret never printed), the client offering it, a pool user
//! linked to a provider user (and not twice), unlinked, the pages' look set and cleared; a
//! SAML provider from a metadata document (`--metadata-file`), our SP metadata for the
//! IdP's admin, and what a SAML provider may not ask for.

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

    saml_provider_from_a_metadata_file(&cli, &dev, &pool, tmp.path()).await;
}

/// An IdP's metadata document: entity ID, HTTP-Redirect sign-on URL, one signing
/// certificate (pysaml2's test IdP's, from signet-saml's fixtures).
fn idp_metadata() -> String {
    let pem = include_str!("../../../signet-saml/tests/fixtures/idp-cert.pem");
    let cert: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.corp.example/saml">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.corp.example/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#
    )
}

async fn saml_provider_from_a_metadata_file(
    cli: &Cli,
    dev: &signet_testkit::ChildProcess,
    pool: &str,
    dir: &std::path::Path,
) {
    let file = dir.join("idp-metadata.xml");
    std::fs::write(&file, idp_metadata()).unwrap();
    let file = file.to_string_lossy().to_string();
    let create = [
        "identity-providers",
        "create",
        "--pool",
        pool,
        "--name",
        "Okta",
        "--type",
        "SAML",
        "--metadata-file",
        &file,
        "--map",
        "email=email",
    ];
    let out = cli.admin(&create).await;
    let p = json_ok("create SAML provider", &out);
    let details = &p["identity_provider"]["provider_details"];
    assert_eq!(
        details["SSORedirectBindingURI"],
        "https://idp.corp.example/sso"
    );
    assert_eq!(details["IDPSignout"], "false");
    assert!(text(&details["MetadataFile"]).contains("IDPSSODescriptor"));
    // What Signet does not do is refused, not accepted and ignored.
    let mut init = create.to_vec();
    init[5] = "Okta2";
    init.extend(["--detail", "IDPInit=true"]);
    let out = cli.admin(&init).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("IdP-initiated"));
    // Our side, for the IdP's admin.
    let http = dev.ready["http_addr"].as_str().unwrap();
    let (status, md) = signet_testkit::http_get(http, &format!("/{pool}/saml2/metadata"))
        .await
        .expect("SP metadata");
    assert_eq!(status, 200);
    assert!(
        md.contains(&format!("entityID=\"urn:signet:sp:{pool}\"")),
        "{md}"
    );
    assert!(md.contains(&format!("/{pool}/saml2/idpresponse\"")), "{md}");
}
