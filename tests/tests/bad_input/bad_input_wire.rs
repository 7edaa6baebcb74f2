//! Bad input below the API's messages: undecodable gRPC requests (built by hand, byte by
//! byte), requests over the size limit, HTTP requests the OAuth endpoints must answer in
//! RFC 6749 JSON, and an import upload with one enormous CSV record.

use crate::support::imports::{create_job, upload, HEADER};
use crate::support::pools::*;
use bytes::{Buf, BufMut};
use signet_proto::v1 as pb;
use signet_testkit::{admin, start_gateway, test_gateway_config, TestCluster};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

/// A codec that sends the given bytes as the message, whatever they are.
#[derive(Clone, Copy, Default)]
struct Raw;

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
        let mut out = vec![0; src.remaining()];
        src.copy_to_slice(&mut out);
        Ok(Some(out))
    }
}

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;
    fn encoder(&mut self) -> Raw {
        Raw
    }
    fn decoder(&mut self) -> Raw {
        Raw
    }
}

/// Call `method` of the admin API with `bytes` as the request message.
async fn call_raw(
    gw: &signet_gateway::GatewayHandle,
    method: &'static str,
    bytes: Vec<u8>,
) -> Result<Vec<u8>, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(signet_testkit::channel(gw).await);
    grpc.ready().await.expect("ready");
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(method);
    grpc.unary(admin(bytes), path, Raw)
        .await
        .map(|r| r.into_inner())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_and_oversized_requests_are_client_errors() {
    let cluster = TestCluster::start(1).await;
    let gw = start_gateway(cluster.api_addrs(), test_gateway_config()).await;
    const DESCRIBE: &str = "/signet.v1.UserPoolAdmin/DescribeUserPool";
    // Field 1 (user_pool_id, a string) with invalid UTF-8; a truncated length varint; a
    // string cut short; and a well-formed 300 KB message, over the 256 KiB limit.
    let mut big = vec![0x0a, 0xe0, 0xa7, 0x12]; // length 300,000 as a varint
    big.extend(std::iter::repeat_n(b'x', 300_000));
    for (what, bytes) in [
        ("invalid UTF-8", vec![0x0a, 0x02, 0xff, 0xfe]),
        ("truncated varint", vec![0x0a, 0xff]),
        ("short string", vec![0x0a, 0x10, b'a']),
        ("300 KB", big),
    ] {
        let err = call_raw(&gw, DESCRIBE, bytes).await.expect_err(what);
        assert_eq!(
            err.code(),
            tonic::Code::InvalidArgument,
            "{what}: {}",
            err.message()
        );
        assert_eq!(exception(&err), "InvalidParameterException", "{what}");
    }
    // A well-formed request still works through the same path.
    let ok = pb::UserPoolRef {
        user_pool_id: "local_Missing1".into(),
    };
    let err = call_raw(&gw, DESCRIBE, prost_bytes(&ok))
        .await
        .expect_err("no such pool");
    assert_eq!(exception(&err), "ResourceNotFoundException");
    gw.shutdown().await;
    cluster.shutdown().await;
}

/// The protobuf encoding of a UserPoolRef (one string field), by hand.
fn prost_bytes(r: &pb::UserPoolRef) -> Vec<u8> {
    let s = r.user_pool_id.as_bytes();
    assert!(s.len() < 128);
    let mut out = vec![0x0a, s.len() as u8];
    out.extend_from_slice(s);
    out
}

/// The JSON of an OAuth error answer, after checking its status and content type.
#[track_caller]
fn oauth_error(r: &(u16, Vec<(String, String)>, String), status: u16, what: &str) -> String {
    let (got, headers, body) = r;
    assert_eq!(*got, status, "{what}: {body}");
    let ct = headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v.as_str());
    assert_eq!(ct, Some("application/json"), "{what}");
    let v: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|_| panic!("{what}: {body:?}"));
    assert!(v["error_description"].is_string(), "{what}: {v}");
    v["error"].as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_endpoints_answer_rfc6749_json_for_everything() {
    let cluster = TestCluster::start(1).await;
    let gw = start_gateway(cluster.api_addrs(), test_gateway_config()).await;
    let (pool_id, _) = pool_and_client(&gw, false).await;
    let addr = gw.http_addr().to_string();
    let path = format!("/{pool_id}/oauth2/token");
    let form = "application/x-www-form-urlencoded";

    let r = crate::support::http::raw(&addr, &format!("GET {path} HTTP/1.1"), b"").await;
    assert_eq!(
        oauth_error(&r, 405, "GET on the token endpoint"),
        "invalid_request"
    );
    assert!(r.1.iter().any(|(k, _)| k == "allow"), "405 keeps Allow");

    let body = vec![b'a'; 3 * 1024 * 1024];
    let head = format!(
        "POST {path} HTTP/1.1\r\nContent-Type: {form}\r\nContent-Length: {}",
        body.len()
    );
    let r = crate::support::http::raw(&addr, &head, &body).await;
    assert_eq!(oauth_error(&r, 413, "a 3 MB body"), "invalid_request");

    let body = b"grant_type=client_credentials";
    let len = body.len();
    for (what, headers) in [
        (
            "two Authorization headers",
            format!(
                "Authorization: Basic YTpi\r\nAuthorization: Basic Yzpk\r\nContent-Type: {form}"
            ),
        ),
        (
            "two Content-Type headers",
            format!("Content-Type: text/plain\r\nContent-Type: {form}"),
        ),
    ] {
        let head = format!("POST {path} HTTP/1.1\r\n{headers}\r\nContent-Length: {len}");
        let r = crate::support::http::raw(&addr, &head, body).await;
        assert_eq!(oauth_error(&r, 400, what), "invalid_request");
    }
    gw.shutdown().await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enormous_csv_record_fails_the_upload_with_its_line() {
    let cluster = TestCluster::start(1).await;
    let gw = start_gateway(cluster.api_addrs(), test_gateway_config()).await;
    let (pool_id, _) = pool_and_client(&gw, false).await;
    let job = create_job(&gw, &pool_id).await;
    // Line 2 is fine; line 3 opens a quoted field that never closes (1 MB to the end).
    let csv = format!(
        "{HEADER}\nann,ann@example.com,true,false\nbob,\"{}\n",
        "x".repeat(1024 * 1024)
    );
    let (status, body) = upload(&gw, &job, &csv).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "InvalidParameterException", "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("Line 3:"), "{message}");
    assert!(message.contains("64 KiB"), "{message}");
    gw.shutdown().await;
    cluster.shutdown().await;
}
