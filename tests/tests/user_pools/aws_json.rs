//! Cognito user pools over AWS's own wire protocol (JSON 1.1 at `POST /`), driven by boto3
//! (tests/clients/aws_sdk_calls.py) with nothing changed but the endpoint: sign-up, the
//! confirmation code, password sign-in, the user's own calls, refresh — and AWS's error
//! shapes as botocore parses them: a wrong password, an unknown action, malformed JSON.

use crate::support::clients::python_client;
use crate::support::oauth::http;
use crate::support::pools::*;
use serde_json::{json, Value};
use signet_gateway::GatewayHandle;
use signet_testkit::TestEnv;
use signet_verify::TokenUse;

/// boto3's `service` client at `gw`: each of `calls` ([operation, params]) in order; per call
/// `{"ok": answer}` or `{"error": code, "message", "status"}`.
async fn boto3(gw: &GatewayHandle, service: &str, calls: Value) -> Vec<Value> {
    boto3_as(gw, service, calls, None).await
}

/// [`boto3`] signing with an admin access key (id, secret).
async fn boto3_as(
    gw: &GatewayHandle,
    service: &str,
    calls: Value,
    key: Option<(&str, &str)>,
) -> Vec<Value> {
    let mut args = vec![
        format!("http://{}", gw.http_addr()),
        service.to_string(),
        calls.to_string(),
    ];
    if let Some((id, secret)) = key {
        args.extend([id.to_string(), secret.to_string()]);
    }
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        python_client("aws_sdk_calls.py", &args)
    })
    .await
    .expect("aws_sdk_calls.py");
    out.as_array().expect("a list").clone()
}

fn ok<'a>(r: &'a Value, what: &str) -> &'a Value {
    r.get("ok").unwrap_or_else(|| panic!("{what}: {r}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_signs_up_confirms_and_signs_in_over_cognitos_wire_protocol() {
    let env = TestEnv::start(1, 1).await;
    let gw = env.a();
    let (pool, client) = pool_and_client(gw, true).await;
    let sign_up = json!([
        ["sign_up", {
            "ClientId": client, "Username": "wanda", "Password": "Corr3ct-Horse!",
            "UserAttributes": [{"Name": "email", "Value": "wanda@example.com"}]
        }],
        // Again: the name is taken.
        ["sign_up", {"ClientId": client, "Username": "wanda", "Password": "Corr3ct-Horse!"}],
        // Before confirming: not confirmed.
        ["initiate_auth", {
            "ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "wanda", "PASSWORD": "Corr3ct-Horse!"}
        }],
    ]);
    let r = boto3(gw, "cognito-idp", sign_up).await;
    let up = ok(&r[0], "sign_up");
    assert_eq!(up["UserConfirmed"], false, "{up}");
    assert!(
        up["UserSub"].as_str().is_some_and(|s| s.len() == 36),
        "{up}"
    );
    assert_eq!(up["CodeDeliveryDetails"]["DeliveryMedium"], "EMAIL", "{up}");
    assert_eq!(r[1]["error"], "UsernameExistsException", "{}", r[1]);
    assert_eq!(r[1]["status"], 400);
    assert_eq!(r[2]["error"], "UserNotConfirmedException", "{}", r[2]);

    let code = outbox_code(gw, &pool, "wanda", "confirm").await;
    let r = boto3(
        gw,
        "cognito-idp",
        json!([
            ["confirm_sign_up", {"ClientId": client, "Username": "wanda", "ConfirmationCode": code}],
            ["initiate_auth", {
                "ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": "wanda", "PASSWORD": "wrong-Horse-1!"}
            }],
            ["initiate_auth", {
                "ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": "wanda", "PASSWORD": "Corr3ct-Horse!"}
            }],
        ]),
    )
    .await;
    assert_eq!(ok(&r[0], "confirm_sign_up"), &json!({}));
    assert_eq!(r[1]["error"], "NotAuthorizedException", "{}", r[1]);
    let signed_in = ok(&r[2], "initiate_auth");
    assert!(signed_in.get("ChallengeName").is_none(), "{signed_in}");
    let result = &signed_in["AuthenticationResult"];
    assert_eq!(result["TokenType"], "Bearer");
    assert_eq!(result["ExpiresIn"], 3600);
    let keys = jwks(gw, &pool).await;
    let id = signet_verify::verify(
        result["IdToken"].as_str().unwrap(),
        &keys,
        &expected(&pool, &client, TokenUse::Id),
    )
    .unwrap();
    assert_eq!(id["cognito:username"], "wanda");
    assert_eq!(id["email"], "wanda@example.com");
    let access = result["AccessToken"].as_str().unwrap().to_string();
    let refresh = result["RefreshToken"].as_str().unwrap().to_string();

    let r = boto3(
        gw,
        "cognito-idp",
        json!([
            ["get_user", {"AccessToken": access}],
            ["initiate_auth", {
                "ClientId": client, "AuthFlow": "REFRESH_TOKEN_AUTH",
                "AuthParameters": {"REFRESH_TOKEN": refresh}
            }],
            ["global_sign_out", {"AccessToken": access}],
            ["get_user", {"AccessToken": access}],
        ]),
    )
    .await;
    let me = ok(&r[0], "get_user");
    assert_eq!(me["Username"], "wanda");
    let attrs = me["UserAttributes"].as_array().unwrap();
    assert!(
        attrs
            .iter()
            .any(|a| a["Name"] == "email" && a["Value"] == "wanda@example.com"),
        "{me}"
    );
    let refreshed = ok(&r[1], "refresh");
    assert!(
        refreshed["AuthenticationResult"]["AccessToken"].is_string(),
        "{refreshed}"
    );
    assert_eq!(ok(&r[2], "global_sign_out"), &json!({}));
    assert_eq!(r[3]["error"], "NotAuthorizedException", "{}", r[3]);
}

/// What is not a Cognito call gets AWS's error shape: an action Signet does not offer, no
/// action at all, malformed JSON, a member of the wrong type.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_calls_get_aws_error_shapes() {
    let env = TestEnv::start(1, 1).await;
    let gw = env.a();
    let url = format!("http://{}/", gw.http_addr());
    let post = |target: Option<&str>, body: &str| {
        let mut req = http()
            .post(&url)
            .header("content-type", "application/x-amz-json-1.1")
            .body(body.to_string());
        if let Some(t) = target {
            req = req.header("x-amz-target", t);
        }
        req.send()
    };
    for (target, body, want) in [
        (
            Some("AWSCognitoIdentityProviderService.MakeCoffee"),
            "{}",
            "UnknownOperationException",
        ),
        (
            Some("NoSuchService.SignUp"),
            "{}",
            "UnknownOperationException",
        ),
        (None, "{}", "UnknownOperationException"),
        (
            Some("AWSCognitoIdentityProviderService.SignUp"),
            "{not json",
            "SerializationException",
        ),
        (
            Some("AWSCognitoIdentityProviderService.SignUp"),
            r#"{"ClientId": 7}"#,
            "SerializationException",
        ),
        (
            Some("AWSCognitoIdentityProviderService.InitiateAuth"),
            r#"{"ClientId": "nope", "AuthFlow": "USER_PASSWORD_AUTH"}"#,
            "ResourceNotFoundException",
        ),
    ] {
        let r = post(target, body).await.unwrap();
        assert_eq!(r.status(), 400, "{target:?} {body}");
        assert_eq!(
            r.headers()["content-type"],
            "application/x-amz-json-1.1",
            "{target:?}"
        );
        assert!(r.headers().contains_key("x-amzn-requestid"));
        let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
        assert_eq!(v["__type"], want, "{target:?} {body}: {v}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    }
}

/// `base` (with `body`) signed at `at` for `service` with the admin key (id, secret) by
/// Signet's AWS4 signer (byte-identical to botocore's: see sigv4's known answer): every
/// header to send.
fn admin_signed(
    key: (&str, &str),
    base: &[(String, String)],
    body: &str,
    service: &str,
    at: std::time::SystemTime,
) -> Vec<(String, String)> {
    admin_signed_in(key, base, body, (service, "us-east-1"), at)
}

/// [`admin_signed`] for a signature scoped to (service, region).
fn admin_signed_in(
    key: (&str, &str),
    base: &[(String, String)],
    body: &str,
    (service, region): (&str, &str),
    at: std::time::SystemTime,
) -> Vec<(String, String)> {
    use signet_verify::sigv4;
    let req = sigv4::SignableRequest {
        method: "POST",
        path: "/",
        query: "",
        headers: base,
        payload_sha256_hex: sigv4::SignableRequest::payload_hash(body.as_bytes()),
    };
    let creds = sigv4::Credentials {
        access_key_id: key.0,
        secret_access_key: key.1,
        session_token: None,
    };
    let mut all = base.to_vec();
    all.extend(sigv4::sign_with(&sigv4::AWS4, &creds, &req, region, service, at).unwrap());
    all
}

/// An admin access key made through the admin API: (id, secret).
async fn admin_key(gw: &GatewayHandle) -> (String, String) {
    let r = signet_testkit::admin_client(gw)
        .await
        .create_admin_access_key(signet_testkit::admin(
            signet_proto::v1::CreateAdminAccessKeyRequest {
                description: "boto3 test".into(),
            },
        ))
        .await
        .expect("create admin access key")
        .into_inner();
    let id = r.admin_access_key.expect("key").access_key_id;
    assert!(id.starts_with("SAK") && id.len() == 20, "{id}");
    assert!(r.secret_access_key.len() >= 40);
    (id, r.secret_access_key)
}

/// boto3 administers Signet signed with an admin access key (AWS Signature Version 4), as
/// it administers Cognito: a pool (Cognito's `Policies` shape), a client, a user made and
/// read back (AdminGetUser's flat shape), a filtered ListUsers, a group, an admin sign-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_administers_signet_with_a_signed_admin_access_key() {
    let env = TestEnv::start(1, 1).await;
    let gw = env.a();
    let (id, secret) = admin_key(gw).await;
    let key = Some((id.as_str(), secret.as_str()));
    let r = boto3_as(
        gw,
        "cognito-idp",
        json!([
            ["create_user_pool", {
                "PoolName": "from-boto3",
                "Policies": {"PasswordPolicy": {"MinimumLength": 10, "RequireSymbols": false}},
                "AutoVerifiedAttributes": ["email"],
                "DeletionProtection": "INACTIVE"
            }],
            ["list_user_pools", {"MaxResults": 10}],
        ]),
        key,
    )
    .await;
    let pool = ok(&r[0], "create_user_pool")["UserPool"].clone();
    let pool_id = pool["Id"].as_str().unwrap().to_string();
    assert_eq!(pool["Name"], "from-boto3");
    assert_eq!(
        pool["Policies"]["PasswordPolicy"]["MinimumLength"], 10,
        "{pool}"
    );
    assert_eq!(pool["DeletionProtection"], "INACTIVE");
    assert!(pool["CreationDate"].is_string(), "{pool}");
    let pools = ok(&r[1], "list_user_pools")["UserPools"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        pools.iter().any(|p| p["Id"] == pool_id.as_str()),
        "{pools:?}"
    );

    let r = boto3_as(
        gw,
        "cognito-idp",
        json!([
            ["create_user_pool_client", {
                "UserPoolId": pool_id, "ClientName": "ops",
                "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
            }],
            ["admin_create_user", {
                "UserPoolId": pool_id, "Username": "olive",
                "UserAttributes": [{"Name": "email", "Value": "olive@example.com"},
                                   {"Name": "email_verified", "Value": "true"}],
                "MessageAction": "SUPPRESS"
            }],
            ["admin_set_user_password", {
                "UserPoolId": pool_id, "Username": "olive", "Password": "Olive-pass-1", "Permanent": true
            }],
            ["admin_get_user", {"UserPoolId": pool_id, "Username": "olive"}],
            ["list_users", {"UserPoolId": pool_id, "Filter": "email = \"olive@example.com\""}],
            ["create_group", {"UserPoolId": pool_id, "GroupName": "ops", "Precedence": 1}],
            ["admin_add_user_to_group", {"UserPoolId": pool_id, "Username": "olive", "GroupName": "ops"}],
            ["admin_list_groups_for_user", {"UserPoolId": pool_id, "Username": "olive"}],
            ["admin_get_user", {"UserPoolId": pool_id, "Username": "nobody"}],
        ]),
        key,
    )
    .await;
    let client = ok(&r[0], "create_user_pool_client")["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(ok(&r[1], "admin_create_user")["User"]["Username"], "olive");
    let user = ok(&r[3], "admin_get_user");
    assert_eq!(user["Username"], "olive");
    assert_eq!(user["UserStatus"], "CONFIRMED", "{user}");
    assert_eq!(user["Enabled"], true);
    assert!(
        user["UserAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["Name"] == "email" && a["Value"] == "olive@example.com"),
        "{user}"
    );
    let found = ok(&r[4], "list_users")["Users"].as_array().unwrap().clone();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["Username"], "olive");
    let groups = ok(&r[7], "admin_list_groups_for_user")["Groups"].clone();
    assert_eq!(groups[0]["GroupName"], "ops", "{groups}");
    assert_eq!(r[8]["error"], "UserNotFoundException", "{}", r[8]);

    let r = boto3_as(
        gw,
        "cognito-idp",
        json!([["admin_initiate_auth", {
            "UserPoolId": pool_id, "ClientId": client, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "olive", "PASSWORD": "Olive-pass-1"}
        }]]),
        key,
    )
    .await;
    let tokens = &ok(&r[0], "admin_initiate_auth")["AuthenticationResult"];
    let id_token = signet_verify::verify(
        tokens["IdToken"].as_str().unwrap(),
        &jwks(gw, &pool_id).await,
        &expected(&pool_id, &client, TokenUse::Id),
    )
    .unwrap();
    assert_eq!(id_token["cognito:groups"], json!(["ops"]));
    // The admin calls made over AWS's protocol are in the audit trail, as an admin's, with
    // the caller's address.
    let pool = pool_id.clone();
    let created = signet_testkit::wait_for_async(
        "AdminCreateUser in the audit trail",
        std::time::Duration::from_secs(15),
        || {
            let pool = pool.clone();
            async move {
                let r = signet_testkit::admin_client(gw)
                    .await
                    .admin_list_user_auth_events(signet_testkit::admin(
                        signet_proto::v1::AdminListUserAuthEventsRequest {
                            user_pool_id: pool,
                            username: "olive".into(),
                            max_results: 50,
                            next_token: String::new(),
                        },
                    ))
                    .await
                    .ok()?
                    .into_inner();
                r.auth_events
                    .into_iter()
                    .find(|e| e.action == "AdminCreateUser")
            }
        },
    )
    .await;
    assert_eq!(created.ip_address, "127.0.0.1", "{created:?}");
}

/// An admin action is refused without a signature, with a wrong secret, with an unknown or
/// deactivated key, signed ten minutes ago, or scoped to another service — each with AWS's
/// exception — and nothing is made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_actions_need_a_valid_signature_by_an_active_key() {
    let env = TestEnv::start(1, 1).await;
    let gw = env.a();
    let (id, secret) = admin_key(gw).await;
    let create = json!([["create_user_pool", {"PoolName": "should-not-exist"}]]);
    let r = boto3_as(
        gw,
        "cognito-idp",
        create.clone(),
        Some((&id, "not-the-secret")),
    )
    .await;
    assert_eq!(r[0]["error"], "InvalidSignatureException", "{}", r[0]);
    let r = boto3_as(
        gw,
        "cognito-idp",
        create.clone(),
        Some(("SAKNOSUCHKEY0000000", &secret)),
    )
    .await;
    assert_eq!(r[0]["error"], "UnrecognizedClientException", "{}", r[0]);

    // Raw requests: unsigned; signed by our own AWS4 signer (byte-identical to botocore's,
    // see sigv4's known answer) at a chosen time or for another service.
    let host = gw.http_addr().to_string();
    let body = r#"{"PoolName":"should-not-exist"}"#;
    let base: Vec<(String, String)> = vec![
        ("host".into(), host.clone()),
        ("content-type".into(), "application/x-amz-json-1.1".into()),
        (
            "x-amz-target".into(),
            "AWSCognitoIdentityProviderService.CreateUserPool".into(),
        ),
    ];
    let signed = |at: std::time::SystemTime, service: &str| {
        admin_signed((&id, &secret), &base, body, service, at)
    };
    let send = |headers: Vec<(String, String)>| {
        let mut req = http().post(format!("http://{host}/")).body(body);
        for (k, v) in headers {
            if k != "host" {
                req = req.header(k, v);
            }
        }
        async move {
            let r = req.send().await.unwrap();
            let status = r.status();
            let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
            (
                status.as_u16(),
                v["__type"].as_str().unwrap_or("").to_string(),
            )
        }
    };
    let now = std::time::SystemTime::now();
    assert_eq!(
        send(base.clone()).await,
        (400, "MissingAuthenticationTokenException".into())
    );
    let stale = now - std::time::Duration::from_secs(600);
    assert_eq!(
        send(signed(stale, "cognito-idp")).await,
        (400, "InvalidSignatureException".into())
    );
    assert_eq!(
        send(signed(now, "sts")).await,
        (400, "InvalidSignatureException".into())
    );
    // The same request signed now, for cognito-idp: accepted (the refusals were for cause).
    let (status, _) = send(signed(now, "cognito-idp")).await;
    assert_eq!(status, 200);
    // Deactivated: refused from the next call on.
    signet_testkit::admin_client(gw)
        .await
        .update_admin_access_key(signet_testkit::admin(
            signet_proto::v1::UpdateAdminAccessKeyRequest {
                access_key_id: id.clone(),
                active: false,
            },
        ))
        .await
        .expect("deactivate");
    assert_eq!(
        send(signed(now, "cognito-idp")).await,
        (400, "UnrecognizedClientException".into())
    );
    let pools = signet_testkit::admin_client(gw)
        .await
        .list_user_pools(signet_testkit::admin(
            signet_proto::v1::ListRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner()
        .user_pools;
    assert_eq!(
        pools
            .iter()
            .filter(|p| p.name == "should-not-exist")
            .count(),
        1,
        "only the valid call made a pool"
    );
}

/// The AWS CLI, unmodified, with an admin access key in its environment and
/// `--endpoint-url` at the gateway: `aws cognito-idp create-user-pool` and
/// `list-user-pools`; with a wrong secret it fails with AWS's exception.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_administers_signet() {
    let env = TestEnv::start(1, 1).await;
    let gw = env.a();
    let (id, secret) = admin_key(gw).await;
    let endpoint = format!("http://{}", gw.http_addr());
    let aws = |secret: String, args: &'static [&'static str]| {
        let (endpoint, id) = (endpoint.clone(), id.clone());
        tokio::task::spawn_blocking(move || {
            let mut all = vec!["cli", &endpoint, &id, &secret];
            all.extend_from_slice(args);
            python_client("aws_sdk_calls.py", &all)
        })
    };
    let made = aws(
        secret.clone(),
        &[
            "cognito-idp",
            "create-user-pool",
            "--pool-name",
            "from-the-cli",
        ],
    )
    .await
    .unwrap();
    assert_eq!(made["status"], 0, "{made}");
    let pool_id = made["out"]["UserPool"]["Id"].as_str().unwrap().to_string();
    let listed = aws(
        secret.clone(),
        &["cognito-idp", "list-user-pools", "--max-results", "20"],
    )
    .await
    .unwrap();
    assert_eq!(listed["status"], 0, "{listed}");
    assert!(
        listed["out"]["UserPools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["Id"] == pool_id.as_str()),
        "{listed}"
    );
    let refused = aws(
        "wrong-secret".into(),
        &["cognito-idp", "list-user-pools", "--max-results", "20"],
    )
    .await
    .unwrap();
    assert_ne!(refused["status"], 0);
    assert!(
        refused["err"]
            .as_str()
            .unwrap()
            .contains("InvalidSignatureException"),
        "{refused}"
    );
}

/// `body` POSTed to the gateway at `host` as `action` of `service` (AWS JSON 1.1, or a
/// query-protocol form for `sts`), signed with the admin key; the answer's text.
async fn post_signed(
    host: &str,
    key: (&str, &str),
    service: &str,
    action: &str,
    body: &str,
) -> String {
    post_signed_as(host, key, service, action, body, (service, "us-east-1")).await
}

/// [`post_signed`] with the signature scoped to `scope` (service, region).
async fn post_signed_as(
    host: &str,
    key: (&str, &str),
    service: &str,
    action: &str,
    body: &str,
    scope: (&str, &str),
) -> String {
    let mut base = vec![("host".to_string(), host.to_string())];
    if service == "sts" {
        base.push((
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
    } else {
        let prefix = match service {
            "cognito-idp" => "AWSCognitoIdentityProviderService",
            _ => "AWSCognitoIdentityService",
        };
        base.push(("content-type".into(), "application/x-amz-json-1.1".into()));
        base.push(("x-amz-target".into(), format!("{prefix}.{action}")));
    }
    let signed = admin_signed_in(key, &base, body, scope, std::time::SystemTime::now());
    let mut http_req = http()
        .post(format!("http://{host}/"))
        .body(body.to_string());
    for (k, v) in &signed {
        if k != "host" {
            http_req = http_req.header(k.as_str(), v.as_str());
        }
    }
    http_req.send().await.unwrap().text().await.unwrap()
}

/// README's list of the members Signet refuses (between its `aws-refused-members`
/// markers): (action, member names).
fn readme_refused() -> std::collections::BTreeMap<String, Vec<String>> {
    let readme =
        std::fs::read_to_string(crate::support::clients::repo().join("README.md")).unwrap();
    let start = readme
        .find("<!-- aws-refused-members -->")
        .expect("the list");
    let end = readme
        .find("<!-- /aws-refused-members -->")
        .expect("its end");
    readme[start..end]
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Action"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            let members = cells[1]
                .split(',')
                .map(|m| m.split(" (").next().unwrap_or("").trim().to_string())
                .filter(|m| !m.is_empty())
                .collect();
            (cells[0].to_string(), members)
        })
        .collect()
}

/// Nothing a caller asks for is silently dropped: every member of every offered action's
/// request in botocore's model is either read by Signet, or refused by name
/// (InvalidParameterException), and README lists exactly the refused ones. Each member is
/// sent alone with a value of no member's type, so a member Signet reads fails as a type
/// error and never runs the action (one documented as without effect is dropped, and the
/// action fails for want of its required members).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_member_cognito_takes_is_read_or_refused_by_name_as_readme_says() {
    let env = TestEnv::start(1, 1).await;
    let gw = env.a();
    let (id, secret) = admin_key(gw).await;
    let host = gw.http_addr().to_string();
    let mut refused = std::collections::BTreeMap::new();
    for service in ["cognito-idp", "cognito-identity"] {
        let svc = service.to_string();
        let members: std::collections::BTreeMap<String, Vec<String>> = serde_json::from_value(
            tokio::task::spawn_blocking(move || {
                python_client("aws_sdk_calls.py", &["members", &svc])
            })
            .await
            .unwrap(),
        )
        .unwrap();
        let offered: Vec<String> = readme_table()
            .into_iter()
            .filter(|r| r.0 == service && r.1 == "offered")
            .flat_map(|r| r.2)
            .collect();
        assert!(offered.len() > 10, "{service}: {offered:?}");
        for action in offered {
            for member in &members[&action] {
                let body = json!({ member.as_str(): [[[[]]]] }).to_string();
                let text = post_signed(&host, (&id, &secret), service, &action, &body).await;
                let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                let by_name = answer["__type"] == "InvalidParameterException"
                    && answer["message"]
                        .as_str()
                        .is_some_and(|m| m.contains(&format!("member {member} ")));
                if by_name {
                    refused
                        .entry(action.clone())
                        .or_insert_with(Vec::new)
                        .push(member.clone());
                } else {
                    // Read (the value refused as not of the member's type), or documented
                    // as taken with no effect (the action ran without it and failed for
                    // want of its required members): an error either way.
                    assert!(answer["__type"].is_string(), "{action}.{member}: {text}");
                }
            }
        }
    }
    assert_eq!(
        refused,
        readme_refused(),
        "README's list of refused members is not what the gateway refuses"
    );
}

/// README's compatibility table (between its `aws-compatibility-table` markers): per
/// service, (status, actions).
fn readme_table() -> Vec<(String, String, Vec<String>)> {
    let readme =
        std::fs::read_to_string(crate::support::clients::repo().join("README.md")).unwrap();
    let start = readme
        .find("<!-- aws-compatibility-table -->")
        .expect("the table");
    let end = readme
        .find("<!-- /aws-compatibility-table -->")
        .expect("its end");
    readme[start..end]
        .lines()
        .filter(|l| l.starts_with("| cognito") || l.starts_with("| sts"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            let actions = cells[2]
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty() && *a != "—")
                .map(str::to_string)
                .collect();
            (cells[0].to_string(), cells[1].to_string(), actions)
        })
        .collect()
}

/// The table lists every action of botocore's model of each service exactly once; each
/// listed as offered is answered by the gateway (signed with an admin key, an empty request:
/// anything but UnknownOperationException / InvalidAction), each other one is not; each
/// listed as "gRPC only" is an RPC of Signet's protos.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_compatibility_table_is_botocores_list_and_true() {
    let env = TestEnv::start(1, 1).await;
    let gw = env.a();
    let (id, secret) = admin_key(gw).await;
    let table = readme_table();
    let rpcs: std::collections::BTreeSet<String> =
        std::fs::read_dir(crate::support::clients::repo().join("proto/signet/v1"))
            .unwrap()
            .flat_map(|f| {
                let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
                text.split("rpc ")
                    .skip(1)
                    .filter_map(|r| r.split('(').next().map(str::to_string))
                    .collect::<Vec<_>>()
            })
            .collect();
    let host = gw.http_addr().to_string();
    for service in ["cognito-idp", "cognito-identity", "sts"] {
        let svc = service.to_string();
        let model: Vec<String> = serde_json::from_value(
            tokio::task::spawn_blocking(move || {
                python_client("aws_sdk_calls.py", &["operations", &svc])
            })
            .await
            .unwrap(),
        )
        .unwrap();
        let rows: Vec<&(String, String, Vec<String>)> =
            table.iter().filter(|r| r.0 == service).collect();
        let mut listed: Vec<String> = rows.iter().flat_map(|r| r.2.clone()).collect();
        listed.sort();
        assert_eq!(
            listed, model,
            "{service}: the table is not botocore's list, each once"
        );
        for (_, status, actions) in rows {
            for action in actions {
                if status == "gRPC only" {
                    assert!(
                        rpcs.contains(action) || rpcs.contains(&action.replace("MFA", "Mfa")),
                        "{action} is listed as gRPC only but is no RPC"
                    );
                }
                let body = if service == "sts" {
                    format!("Action={action}&Version=2011-06-15")
                } else {
                    "{}".to_string()
                };
                let text = post_signed(&host, (&id, &secret), service, action, &body).await;
                let unknown = text.contains("UnknownOperationException")
                    || text.contains("<Code>InvalidAction</Code>");
                assert_eq!(
                    unknown,
                    status != "offered",
                    "{service} {action} is listed as {status}, the gateway answered {text}"
                );
            }
        }
    }
}

/// More of the admin surface through boto3, signed: UpdateUserPool (answers nothing, as
/// Cognito), MFA configuration, a resource server and an OIDC identity provider in
/// Cognito's wrapped shapes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_configures_mfa_resource_servers_and_identity_providers() {
    let env = TestEnv::start(1, 1).await;
    let gw = env.a();
    let (pool, _) = pool_and_client(gw, false).await;
    let (id, secret) = admin_key(gw).await;
    let r = boto3_as(
        gw,
        "cognito-idp",
        json!([
            ["update_user_pool", {"UserPoolId": pool,
                "Policies": {"PasswordPolicy": {"MinimumLength": 12}}}],
            ["describe_user_pool", {"UserPoolId": pool}],
            ["set_user_pool_mfa_config", {"UserPoolId": pool, "MfaConfiguration": "OPTIONAL",
                "SoftwareTokenMfaConfiguration": {"Enabled": true}}],
            ["get_user_pool_mfa_config", {"UserPoolId": pool}],
            ["create_resource_server", {"UserPoolId": pool, "Identifier": "https://orders.example",
                "Name": "orders", "Scopes": [{"ScopeName": "read", "ScopeDescription": "Read"}]}],
            ["describe_resource_server", {"UserPoolId": pool, "Identifier": "https://orders.example"}],
            ["create_identity_provider", {"UserPoolId": pool, "ProviderName": "Corp",
                "ProviderType": "OIDC",
                "ProviderDetails": {"client_id": "c", "client_secret": "s",
                    "authorize_scopes": "openid email", "oidc_issuer": "https://idp.corp.example"},
                "AttributeMapping": {"email": "email"}}],
            ["list_identity_providers", {"UserPoolId": pool, "MaxResults": 10}],
            ["describe_identity_provider", {"UserPoolId": pool, "ProviderName": "Nope"}],
        ]),
        Some((&id, &secret)),
    )
    .await;
    assert_eq!(ok(&r[0], "update_user_pool"), &json!({}));
    let described = ok(&r[1], "describe_user_pool");
    assert_eq!(
        described["UserPool"]["Policies"]["PasswordPolicy"]["MinimumLength"], 12,
        "{described}"
    );
    assert_eq!(
        ok(&r[2], "set_user_pool_mfa_config")["MfaConfiguration"],
        "OPTIONAL"
    );
    let mfa = ok(&r[3], "get_user_pool_mfa_config");
    assert_eq!(
        mfa["SoftwareTokenMfaConfiguration"]["Enabled"], true,
        "{mfa}"
    );
    let rs = ok(&r[4], "create_resource_server");
    assert_eq!(
        rs["ResourceServer"]["Identifier"], "https://orders.example",
        "{rs}"
    );
    assert_eq!(
        ok(&r[5], "describe_resource_server")["ResourceServer"]["Scopes"][0]["ScopeName"],
        "read"
    );
    let idp = ok(&r[6], "create_identity_provider");
    assert_eq!(idp["IdentityProvider"]["ProviderName"], "Corp", "{idp}");
    assert!(
        idp["IdentityProvider"]["ProviderDetails"]
            .get("client_secret")
            .is_none(),
        "the secret came back: {idp}"
    );
    let providers = ok(&r[7], "list_identity_providers")["Providers"].clone();
    assert_eq!(providers[0]["ProviderName"], "Corp", "{providers}");
    assert_eq!(r[8]["error"], "ResourceNotFoundException", "{}", r[8]);
}

/// A bulk import the way a Cognito migration script starts one with boto3: the CSV header,
/// a job (with its upload URL), described and listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_starts_a_user_import_job() {
    let env = TestEnv::start(1, 1).await;
    let gw = env.a();
    let (pool, _) = pool_and_client(gw, false).await;
    let (id, secret) = admin_key(gw).await;
    let r = boto3_as(
        gw,
        "cognito-idp",
        json!([
            ["get_csv_header", {"UserPoolId": pool}],
            ["create_user_import_job", {"UserPoolId": pool, "JobName": "migration",
                "CloudWatchLogsRoleArn": "arn:aws:iam::000000000000:role/ignored"}],
        ]),
        Some((&id, &secret)),
    )
    .await;
    let header = ok(&r[0], "get_csv_header");
    assert_eq!(header["UserPoolId"], pool.as_str());
    let columns = header["CSVHeader"].as_array().unwrap();
    assert!(columns.iter().any(|c| c == "email"), "{header}");
    assert!(columns.iter().any(|c| c == "cognito:username"), "{header}");
    let job = ok(&r[1], "create_user_import_job")["UserImportJob"].clone();
    assert_eq!(job["JobName"], "migration");
    assert_eq!(job["Status"], "Created", "{job}");
    assert!(
        job["PreSignedUrl"]
            .as_str()
            .is_some_and(|u| u.starts_with("http")),
        "{job}"
    );
    let job_id = job["JobId"].as_str().unwrap().to_string();
    let r = boto3_as(
        gw,
        "cognito-idp",
        json!([
            ["describe_user_import_job", {"UserPoolId": pool, "JobId": job_id}],
            ["list_user_import_jobs", {"UserPoolId": pool, "MaxResults": 10}],
        ]),
        Some((&id, &secret)),
    )
    .await;
    assert_eq!(
        ok(&r[0], "describe_user_import_job")["UserImportJob"]["JobId"],
        job_id.as_str()
    );
    let jobs = ok(&r[1], "list_user_import_jobs")["UserImportJobs"].clone();
    assert_eq!(jobs[0]["JobId"], job_id.as_str(), "{jobs}");
}

/// boto3 administers identity pools over AWS JSON 1.1, signed with an admin access key for
/// `cognito-identity`: a pool with a Signet user pool as provider (`ServerSideTokenCheck`
/// taken: Signet always checks), role mappings in Cognito's `RulesConfiguration` shape read
/// back the same, a developer identity's OpenID token, identities described, listed and
/// deleted. An OIDC provider kept in the pool is answered as an ARN, and an update naming
/// that ARN keeps it (the describe-change-update round trip); an ARN Signet does not have,
/// SAML providers and an unsigned call are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_administers_identity_pools() {
    use crate::support::identity::{role, user_pool_login};
    use signet_proto::v1 as pb;
    use signet_testkit::identity_admin_client;
    let env = TestEnv::start(1, 1).await;
    let gw = env.a();
    let (id, secret) = admin_key(gw).await;
    let key = Some((id.as_str(), secret.as_str()));
    let alice = user_pool_login(gw, "alice").await;
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Federated": "signet-identity"}, "Action": "sts:AssumeRoleWithWebIdentity"}]})
    .to_string();
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"orders:Get*","Resource":"*"}]}"#;
    let role_arn = role(gw, "apps-auth", &trust, &[("read", policy)]).await;
    let created = boto3_as(
        gw,
        "cognito-identity",
        json!([["create_identity_pool", {
            "IdentityPoolName": "apps", "AllowUnauthenticatedIdentities": false,
            "CognitoIdentityProviders": [{"ProviderName": alice.provider,
                "ClientId": alice.client_id, "ServerSideTokenCheck": true}],
            "DeveloperProviderName": "login.example"}]]),
        key,
    )
    .await;
    let pool = ok(&created[0], "create_identity_pool");
    let pool_id = pool["IdentityPoolId"].as_str().unwrap().to_string();
    assert_eq!(
        pool["CognitoIdentityProviders"][0]["ServerSideTokenCheck"], true,
        "{pool}"
    );
    let mapping = json!({ alice.provider.clone(): {"Type": "Rules",
        "AmbiguousRoleResolution": "Deny", "RulesConfiguration": {"Rules": [{
            "Claim": "cognito:username", "MatchType": "Equals", "Value": "alice",
            "RoleARN": role_arn}]}}});
    let r = boto3_as(
        gw,
        "cognito-identity",
        json!([
            ["describe_identity_pool", {"IdentityPoolId": pool_id}],
            ["list_identity_pools", {"MaxResults": 10}],
            ["set_identity_pool_roles", {"IdentityPoolId": pool_id,
                "Roles": {"authenticated": role_arn}, "RoleMappings": mapping}],
            ["get_identity_pool_roles", {"IdentityPoolId": pool_id}],
            ["get_open_id_token_for_developer_identity", {"IdentityPoolId": pool_id,
                "Logins": {"login.example": "dev-user-1"}, "TokenDuration": 600}],
            ["update_identity_pool", {"IdentityPoolId": pool_id, "IdentityPoolName": "apps",
                "AllowUnauthenticatedIdentities": false,
                "SamlProviderARNs": ["arn:aws:iam::123456789012:saml-provider/corp"]}],
        ]),
        key,
    )
    .await;
    assert_eq!(ok(&r[0], "describe")["IdentityPoolName"], "apps");
    assert!(
        ok(&r[1], "list")["IdentityPools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["IdentityPoolId"] == pool_id.as_str()),
        "{}",
        r[1]
    );
    ok(&r[2], "set roles");
    let roles = ok(&r[3], "get roles");
    assert_eq!(roles["Roles"]["authenticated"], role_arn.as_str());
    assert_eq!(roles["RoleMappings"], mapping, "{roles}");
    let dev = ok(&r[4], "developer token");
    assert!(dev["Token"]
        .as_str()
        .is_some_and(|t| t.split('.').count() == 3));
    let dev_identity = dev["IdentityId"].as_str().unwrap().to_string();
    assert_eq!(r[5]["error"], "InvalidParameterException", "{}", r[5]);
    assert!(
        r[5]["message"]
            .as_str()
            .unwrap()
            .contains("SamlProviderARNs"),
        "{}",
        r[5]
    );

    // The user's identity, made by the public GetId, administered.
    let logins = json!({ alice.provider.clone(): alice.id_token.clone() });
    let got = boto3(
        gw,
        "cognito-identity",
        json!([["get_id", {"IdentityPoolId": pool_id, "Logins": logins}]]),
    )
    .await;
    let identity = ok(&got[0], "get_id")["IdentityId"]
        .as_str()
        .unwrap()
        .to_string();
    let r = boto3_as(
        gw,
        "cognito-identity",
        json!([
            ["describe_identity", {"IdentityId": identity}],
            ["list_identities", {"IdentityPoolId": pool_id, "MaxResults": 10, "HideDisabled": true}],
            ["delete_identities", {"IdentityIdsToDelete": [identity]}],
            ["describe_identity", {"IdentityId": identity}],
        ]),
        key,
    )
    .await;
    let d = ok(&r[0], "describe_identity");
    assert_eq!(d["Logins"], json!([alice.provider]), "{d}");
    assert!(
        d["CreationDate"]
            .as_str()
            .is_some_and(|t| t.starts_with("20")),
        "{d}"
    );
    let listed: Vec<&str> = ok(&r[1], "list_identities")["Identities"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["IdentityId"].as_str())
        .collect();
    assert!(listed.contains(&identity.as_str()) && listed.contains(&dev_identity.as_str()));
    assert_eq!(ok(&r[2], "delete")["UnprocessedIdentityIds"], json!([]));
    assert_eq!(r[3]["error"], "ResourceNotFoundException", "{}", r[3]);

    // An OIDC provider kept in the pool: answered as an ARN, kept by an update naming it.
    let oidc_pool = identity_admin_client(gw)
        .await
        .create_identity_pool(signet_testkit::admin(pb::IdentityPoolType {
            identity_pool_name: "oidc".into(),
            open_id_connect_providers: vec![pb::OpenIdConnectProviderType {
                issuer: "https://idp.example.test".into(),
                jwks_url: "https://idp.example.test/jwks".into(),
                client_ids: vec!["c1".into()],
            }],
            ..Default::default()
        }))
        .await
        .expect("create an OIDC identity pool")
        .into_inner()
        .identity_pool_id;
    let arn = "arn:signet:iam:::oidc-provider/idp.example.test";
    let update = |arns: Value| {
        json!(["update_identity_pool", {"IdentityPoolId": oidc_pool,
            "IdentityPoolName": "oidc-renamed", "AllowUnauthenticatedIdentities": false,
            "OpenIdConnectProviderARNs": arns}])
    };
    let r = boto3_as(
        gw,
        "cognito-identity",
        json!([
            ["describe_identity_pool", {"IdentityPoolId": oidc_pool}],
            update(json!([arn])),
            update(json!(["arn:aws:iam::123456789012:oidc-provider/other.example"])),
            ["describe_identity_pool", {"IdentityPoolId": oidc_pool}],
        ]),
        key,
    )
    .await;
    assert_eq!(
        ok(&r[0], "describe")["OpenIdConnectProviderARNs"],
        json!([arn])
    );
    assert_eq!(
        ok(&r[1], "update")["OpenIdConnectProviderARNs"],
        json!([arn])
    );
    assert_eq!(r[2]["error"], "InvalidParameterException", "{}", r[2]);
    let after = ok(&r[3], "describe");
    assert_eq!(after["IdentityPoolName"], "oidc-renamed");
    assert_eq!(after["OpenIdConnectProviderARNs"], json!([arn]), "{after}");

    // Unsigned (placeholder credentials): refused before anything is read.
    let r = boto3(
        gw,
        "cognito-identity",
        json!([["describe_identity_pool", {"IdentityPoolId": pool_id}]]),
    )
    .await;
    assert!(r[0]["error"].is_string(), "{}", r[0]);
    assert_ne!(r[0]["error"], "ResourceNotFoundException");
    env.shutdown().await;
}

/// App clients in Cognito's shape through boto3: validities in `TokenValidityUnits`,
/// `RefreshTokenRotation`, a client secret brought from Cognito (AddUserPoolClientSecret
/// with `ClientSecret`: the SECRET_HASH made with it signs in), the secrets listed and one
/// deleted; ListUsers' `AttributesToGet`; a failed sign-in in AdminListUserAuthEvents with
/// its address in `EventContextData`; ListGroups' `Limit`; ListUsersInGroup's `NextToken`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_manages_clients_secrets_and_auth_events_in_cognitos_shapes() {
    let env = TestEnv::start(1, 1).await;
    let gw = env.a();
    let (id, secret) = admin_key(gw).await;
    let key = Some((id.as_str(), secret.as_str()));
    let r = boto3_as(
        gw,
        "cognito-idp",
        json!([["create_user_pool", {"PoolName": "clients"}]]),
        key,
    )
    .await;
    let pool = ok(&r[0], "pool")["UserPool"]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = boto3_as(
        gw,
        "cognito-idp",
        json!([["create_user_pool_client", {"UserPoolId": pool, "ClientName": "app",
            "GenerateSecret": true, "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            "AccessTokenValidity": 30, "IdTokenValidity": 2, "RefreshTokenValidity": 7,
            "TokenValidityUnits": {"AccessToken": "minutes"},
            "RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": 10},
            "EnableTokenRevocation": true}]]),
        key,
    )
    .await;
    let c = &ok(&r[0], "client")["UserPoolClient"];
    let client = c["ClientId"].as_str().unwrap().to_string();
    assert_eq!(
        (
            &c["AccessTokenValidity"],
            &c["IdTokenValidity"],
            &c["RefreshTokenValidity"]
        ),
        (&json!(1800), &json!(7200), &json!(604800)),
        "{c}"
    );
    assert_eq!(c["TokenValidityUnits"]["RefreshToken"], "seconds");
    assert_eq!(
        c["RefreshTokenRotation"],
        json!({"Feature": "ENABLED", "RetryGracePeriodSeconds": 10})
    );
    let brought = "BroughtFromCognito_0123456789abcdefABCDEF";
    let secret_hash = |s: &str, user: &str| signet_gateway::secret_hash(s, user, &client);
    let r = boto3_as(
        gw,
        "cognito-idp",
        json!([
            ["add_user_pool_client_secret", {"UserPoolId": pool, "ClientId": client,
                "ClientSecret": brought}],
            ["add_user_pool_client_secret", {"UserPoolId": pool, "ClientId": client,
                "ClientSecret": "dashes-are-not-in-cognitos-alphabet"}],
            ["list_user_pool_client_secrets", {"UserPoolId": pool, "ClientId": client}],
            ["admin_create_user", {"UserPoolId": pool, "Username": "carol",
                "TemporaryPassword": "Temp-Pass-123", "MessageAction": "SUPPRESS",
                "UserAttributes": [{"Name": "email", "Value": "carol@example.com"},
                                   {"Name": "name", "Value": "Carol"}]}],
            ["admin_set_user_password", {"UserPoolId": pool, "Username": "carol",
                "Password": "Correct-Horse-9", "Permanent": true}],
            ["create_group", {"UserPoolId": pool, "GroupName": "g1"}],
            ["create_group", {"UserPoolId": pool, "GroupName": "g2"}],
            ["admin_add_user_to_group", {"UserPoolId": pool, "Username": "carol", "GroupName": "g1"}],
            ["list_users", {"UserPoolId": pool, "AttributesToGet": ["email"]}],
            ["list_groups", {"UserPoolId": pool, "Limit": 1}],
            ["list_users_in_group", {"UserPoolId": pool, "GroupName": "g1", "Limit": 1}],
        ]),
        key,
    )
    .await;
    let added = &ok(&r[0], "add secret")["ClientSecretDescriptor"];
    assert_eq!(added["ClientSecretValue"], brought, "{added}");
    assert_eq!(r[1]["error"], "InvalidParameterException", "{}", r[1]);
    let secrets = ok(&r[2], "list secrets")["ClientSecrets"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(secrets.len(), 2, "{secrets:?}");
    assert!(secrets.iter().all(|s| s.get("ClientSecretValue").is_none()));
    let users = ok(&r[8], "list_users")["Users"].as_array().unwrap().clone();
    assert_eq!(
        users[0]["Attributes"],
        json!([{"Name": "email", "Value": "carol@example.com"}])
    );
    let groups = ok(&r[9], "list_groups");
    assert_eq!(groups["Groups"].as_array().unwrap().len(), 1, "{groups}");
    assert!(groups["NextToken"].is_string(), "{groups}");
    let in_group = ok(&r[10], "list_users_in_group");
    assert_eq!(in_group["Users"][0]["Username"], "carol", "{in_group}");

    // The brought secret's SECRET_HASH signs in; a wrong password is an auth event.
    let sign_in = |password: &str| {
        json!(["initiate_auth", {"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "carol", "PASSWORD": password,
                "SECRET_HASH": secret_hash(brought, "carol")}}])
    };
    let r = boto3(
        gw,
        "cognito-idp",
        json!([sign_in("Correct-Horse-9"), sign_in("wrong-Password-1")]),
    )
    .await;
    assert!(ok(&r[0], "sign in")["AuthenticationResult"]["IdToken"].is_string());
    assert_eq!(r[1]["error"], "NotAuthorizedException", "{}", r[1]);
    let generated = secrets
        .iter()
        .find(|s| s["ClientSecretId"] != added["ClientSecretId"])
        .unwrap()["ClientSecretId"]
        .clone();
    let r = boto3_as(
        gw,
        "cognito-idp",
        json!([
            ["admin_list_user_auth_events", {"UserPoolId": pool, "Username": "carol", "MaxResults": 10}],
            ["delete_user_pool_client_secret", {"UserPoolId": pool, "ClientId": client,
                "ClientSecretId": generated}],
            ["list_user_pool_client_secrets", {"UserPoolId": pool, "ClientId": client}],
        ]),
        key,
    )
    .await;
    let events = ok(&r[0], "auth events")["AuthEvents"]
        .as_array()
        .unwrap()
        .clone();
    let failed = events
        .iter()
        .find(|e| e["EventType"] == "SignIn" && e["EventResponse"] == "Fail")
        .unwrap_or_else(|| panic!("no failed sign-in in {events:?}"));
    assert_eq!(
        failed["EventContextData"]["IpAddress"], "127.0.0.1",
        "{failed}"
    );
    assert!(failed["CreationDate"]
        .as_str()
        .is_some_and(|d| d.starts_with("20")));
    ok(&r[1], "delete secret");
    assert_eq!(
        ok(&r[2], "secrets left")["ClientSecrets"],
        json!([{"ClientSecretId": added["ClientSecretId"],
            "ClientSecretCreateDate": added["ClientSecretCreateDate"]}])
    );
    env.shutdown().await;
}

/// The signing names are configurable: a gateway told that `cognito-idp` calls are signed
/// as `signet-idp` takes a signature scoped to `signet-idp` and refuses one scoped to AWS's
/// own name; the region, once pinned, must match too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_names_and_region_are_configurable() {
    let env = TestEnv::start_with(1, 1, |cfg| {
        cfg.aws_signing_names
            .insert("cognito-idp".into(), "signet-idp".into());
        cfg.aws_region = Some("eu-west-9".into());
    })
    .await;
    let gw = env.a();
    let (id, secret) = admin_key(gw).await;
    let host = gw.http_addr().to_string();
    let send = |scope: (&'static str, &'static str)| {
        let (host, id, secret) = (host.clone(), id.clone(), secret.clone());
        async move {
            let body = r#"{"MaxResults": 5}"#;
            let action = "ListUserPools";
            let text = post_signed_as(&host, (&id, &secret), "cognito-idp", action, body, scope);
            serde_json::from_str::<Value>(&text.await).unwrap()
        }
    };
    let good = send(("signet-idp", "eu-west-9")).await;
    assert!(good["UserPools"].is_array(), "{good}");
    let aws_name = send(("cognito-idp", "eu-west-9")).await;
    assert_eq!(
        aws_name["__type"], "InvalidSignatureException",
        "{aws_name}"
    );
    let other_region = send(("signet-idp", "us-east-1")).await;
    assert_eq!(
        other_region["__type"], "InvalidSignatureException",
        "{other_region}"
    );
    env.shutdown().await;
}

/// A pool that reserves sign-up to administrators (Cognito's
/// `AdminCreateUserConfig.AllowAdminCreateUserOnly`), set and read through boto3: SignUp is
/// refused as Cognito refuses it, AdminCreateUser works, and turning it off opens
/// sign-up again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_reserves_sign_up_to_admins() {
    let env = TestEnv::start(1, 1).await;
    let gw = env.a();
    let (id, secret) = admin_key(gw).await;
    let key = Some((id.as_str(), secret.as_str()));
    let r = boto3_as(
        gw,
        "cognito-idp",
        json!([["create_user_pool", {"PoolName": "staff",
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": true}}]]),
        key,
    )
    .await;
    let created = &ok(&r[0], "create")["UserPool"];
    assert_eq!(
        created["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"], true,
        "{created}"
    );
    let pool = created["Id"].as_str().unwrap().to_string();
    let r = boto3_as(
        gw,
        "cognito-idp",
        json!([["create_user_pool_client", {"UserPoolId": pool, "ClientName": "app",
            "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}]]),
        key,
    )
    .await;
    let client = ok(&r[0], "client")["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_string();
    let sign_up = |name: &str| {
        json!(["sign_up", {"ClientId": client, "Username": name, "Password": "Correct-Horse-9",
            "UserAttributes": [{"Name": "email", "Value": format!("{name}@example.com")}]}])
    };
    let r = boto3(gw, "cognito-idp", json!([sign_up("mallory")])).await;
    assert_eq!(r[0]["error"], "NotAuthorizedException", "{}", r[0]);
    assert_eq!(
        r[0]["message"],
        "SignUp is not permitted for this user pool"
    );
    let r = boto3_as(
        gw,
        "cognito-idp",
        json!([
            ["admin_get_user", {"UserPoolId": pool, "Username": "mallory"}],
            ["admin_create_user", {"UserPoolId": pool, "Username": "staffer",
                "MessageAction": "SUPPRESS"}],
            ["update_user_pool", {"UserPoolId": pool,
                "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": false}}],
            ["describe_user_pool", {"UserPoolId": pool}],
        ]),
        key,
    )
    .await;
    assert_eq!(r[0]["error"], "UserNotFoundException", "{}", r[0]);
    ok(&r[1], "admin create");
    ok(&r[2], "update");
    assert_eq!(
        ok(&r[3], "describe")["UserPool"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"],
        false
    );
    let r = boto3(gw, "cognito-idp", json!([sign_up("newcomer")])).await;
    assert_eq!(ok(&r[0], "sign up")["UserConfirmed"], false);
    env.shutdown().await;
}
