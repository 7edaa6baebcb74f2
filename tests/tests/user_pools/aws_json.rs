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
    let endpoint = format!("http://{}", gw.http_addr());
    let (service, calls) = (service.to_string(), calls.to_string());
    let out = tokio::task::spawn_blocking(move || {
        python_client("aws_sdk_calls.py", &[&endpoint, &service, &calls])
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
