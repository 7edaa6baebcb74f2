//! gRPC server reflection (issue 14): the gateway and the store API list exactly the
//! services they serve, over v1 and v1alpha, with full descriptors (every rpc of the
//! .proto files). A client that has never seen Signet's .proto files — grpcio's reflection
//! client, in tests/clients/grpc_reflection_call.py — learns CreateUserPool from the
//! gateway and calls it; the admin guard still applies to a call made that way.
//!
//! The Python part needs python3 with its venv module; its first run installs pinned
//! packages from PyPI into target/grpc-client-venv.

use crate::support::clients::{python_client, repo};
use prost::Message as _;
use signet_testkit::{admin, admin_client, start_gateway, test_gateway_config, TestCluster};
use std::collections::BTreeSet;
use tonic::transport::Channel;
use tonic_reflection::pb::v1 as refl;
use tonic_reflection::pb::v1alpha as refl_alpha;

/// The rpc names of `service` as written in `proto/`.
fn rpcs_in_proto(file: &str, service: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo().join("proto").join(file)).expect("proto file");
    let start = text
        .find(&format!("service {service} {{"))
        .unwrap_or_else(|| panic!("service {service} in {file}"));
    let body = &text[start..start + text[start..].find("\n}").expect("service end")];
    body.lines()
        .filter_map(|l| l.trim().strip_prefix("rpc "))
        .map(|l| l.split('(').next().unwrap().trim().to_string())
        .collect()
}

async fn channel(addr: &str) -> Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .expect("connect")
}

/// One v1 reflection exchange.
async fn ask_v1(
    ch: &Channel,
    request: refl::server_reflection_request::MessageRequest,
) -> refl::server_reflection_response::MessageResponse {
    let mut client = refl::server_reflection_client::ServerReflectionClient::new(ch.clone());
    let req = refl::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    };
    let mut answers = client
        .server_reflection_info(futures::stream::iter([req]))
        .await
        .expect("reflection answers")
        .into_inner();
    answers
        .message()
        .await
        .expect("a message")
        .expect("one answer")
        .message_response
        .expect("a response")
}

async fn services_v1(ch: &Channel) -> BTreeSet<String> {
    use refl::server_reflection_request::MessageRequest;
    use refl::server_reflection_response::MessageResponse;
    match ask_v1(ch, MessageRequest::ListServices(String::new())).await {
        MessageResponse::ListServicesResponse(l) => l.service.into_iter().map(|s| s.name).collect(),
        other => panic!("unexpected answer {other:?}"),
    }
}

async fn services_v1alpha(ch: &Channel) -> BTreeSet<String> {
    use refl_alpha::server_reflection_request::MessageRequest;
    use refl_alpha::server_reflection_response::MessageResponse;
    let mut client = refl_alpha::server_reflection_client::ServerReflectionClient::new(ch.clone());
    let req = refl_alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = client
        .server_reflection_info(futures::stream::iter([req]))
        .await
        .expect("v1alpha reflection answers")
        .into_inner();
    match answers.message().await.unwrap().unwrap().message_response {
        Some(MessageResponse::ListServicesResponse(l)) => {
            l.service.into_iter().map(|s| s.name).collect()
        }
        other => panic!("unexpected answer {other:?}"),
    }
}

/// The methods reflection describes for `service` (from the file that defines it).
async fn methods_v1(ch: &Channel, service: &str) -> BTreeSet<String> {
    use refl::server_reflection_request::MessageRequest;
    use refl::server_reflection_response::MessageResponse;
    let files = match ask_v1(ch, MessageRequest::FileContainingSymbol(service.into())).await {
        MessageResponse::FileDescriptorResponse(f) => f.file_descriptor_proto,
        other => panic!("unexpected answer for {service}: {other:?}"),
    };
    let (package, name) = service.rsplit_once('.').unwrap();
    files
        .iter()
        .map(|b| prost_types::FileDescriptorProto::decode(b.as_slice()).expect("a descriptor"))
        .filter(|f| f.package() == package)
        .flat_map(|f| f.service)
        .filter(|s| s.name() == name)
        .flat_map(|s| s.method)
        .map(|m| m.name().to_string())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

const REFLECTION: [&str; 2] = [
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_and_store_list_what_they_serve_with_full_descriptors() {
    let cluster = TestCluster::start(1).await;
    let gw = start_gateway(cluster.api_addrs(), test_gateway_config()).await;

    let public = [
        ("admin.proto", "UserPoolAdmin"),
        ("auth.proto", "UserPoolAuth"),
        ("identity.proto", "IdentityAdmin"),
        ("identity.proto", "Identity"),
        ("identity.proto", "Sts"),
        ("revocations.proto", "Revocations"),
    ];
    let mut expected = set(&["grpc.health.v1.Health"]);
    expected.extend(set(&REFLECTION));
    expected.extend(public.iter().map(|(_, s)| format!("signet.v1.{s}")));
    // The edge authorizer's Envoy face.
    expected.insert("envoy.service.auth.v3.Authorization".to_string());
    let ch = channel(&gw.grpc_addr().to_string()).await;
    assert_eq!(services_v1(&ch).await, expected);
    assert_eq!(services_v1alpha(&ch).await, expected);
    for (file, service) in public {
        let described = methods_v1(&ch, &format!("signet.v1.{service}")).await;
        assert_eq!(
            described,
            rpcs_in_proto(&format!("signet/v1/{file}"), service)
        );
        assert!(!described.is_empty());
    }
    let described = methods_v1(&ch, "envoy.service.auth.v3.Authorization").await;
    assert_eq!(
        described,
        rpcs_in_proto("envoy/service/auth/v3/external_auth.proto", "Authorization")
    );

    let mut expected = set(&[
        "grpc.health.v1.Health",
        "signet.store.v1.Store",
        "signet.store.v1.Cluster",
    ]);
    expected.extend(set(&REFLECTION));
    let ch = channel(&cluster.api_addr(cluster.running()[0])).await;
    assert_eq!(services_v1(&ch).await, expected);
    assert_eq!(services_v1alpha(&ch).await, expected);
    for service in ["Store", "Cluster"] {
        assert_eq!(
            methods_v1(&ch, &format!("signet.store.v1.{service}")).await,
            rpcs_in_proto("signet/store/v1/store.proto", service)
        );
    }
    gw.shutdown().await;
    cluster.shutdown().await;
}

/// Run the reflection-only Python client; its JSON answer.
fn reflection_call(
    addr: &str,
    method: &str,
    request: &str,
    bearer: Option<&str>,
) -> serde_json::Value {
    let mut args = vec![addr, "signet.v1.UserPoolAdmin", method, request];
    args.extend(bearer);
    python_client("grpc_reflection_call.py", &args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_our_protos_calls_an_rpc_learnt_from_reflection() {
    let cluster = TestCluster::start(1).await;
    let gw = start_gateway(cluster.api_addrs(), test_gateway_config()).await;
    let addr = gw.grpc_addr().to_string();
    let request = r#"{"poolName": "found-by-reflection"}"#;

    let addr2 = addr.clone();
    let out = tokio::task::spawn_blocking(move || {
        reflection_call(
            &addr2,
            "CreateUserPool",
            request,
            Some(signet_testkit::TEST_ADMIN_SECRET),
        )
    })
    .await
    .unwrap();
    assert!(
        out["services"]
            .as_array()
            .unwrap()
            .contains(&"signet.v1.UserPoolAdmin".into()),
        "{out}"
    );
    assert!(out["methods"]
        .as_array()
        .unwrap()
        .contains(&"CreateUserPool".into()));
    let pool = out["response"]["userPool"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a pool id in {out}"))
        .to_string();
    // The pool it made is real: our own client reads it back.
    let described = admin_client(&gw)
        .await
        .describe_user_pool(admin(signet_proto::v1::UserPoolRef { user_pool_id: pool }))
        .await
        .expect("the pool exists")
        .into_inner();
    assert_eq!(described.user_pool.unwrap().name, "found-by-reflection");

    // Reflection opens no door: without the admin secret the same call is refused.
    let out = tokio::task::spawn_blocking(move || {
        reflection_call(&addr, "CreateUserPool", request, None)
    })
    .await
    .unwrap();
    assert_eq!(out["error"]["code"], "UNAUTHENTICATED", "{out}");
    gw.shutdown().await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_mutual_tls_every_role_may_reflect_on_the_store_api() {
    use signet_tls::Role;
    let cluster = TestCluster::start_tls(1, signet_testkit::TestPki::new()).await;
    let pki = cluster.pki().expect("pki");
    let addr = cluster.api_addr(cluster.running()[0]);
    for role in [Role::Gateway, Role::Operator, Role::Store] {
        let transport = pki.transport(role, "reflector");
        let ch = signet_tls::channel(&addr, &transport, std::time::Duration::from_secs(5))
            .expect("channel");
        let listed = services_v1(&ch).await;
        assert!(
            listed.contains("signet.store.v1.Store"),
            "{role}: {listed:?}"
        );
    }
    cluster.shutdown().await;
}
