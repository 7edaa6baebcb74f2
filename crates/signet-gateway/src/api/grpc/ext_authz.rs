//! The edge authorizer's Envoy face: `envoy.service.auth.v3.Authorization/Check`, as
//! Envoy's ext_authz filter (and Istio, and most meshes) call it. The same decision as
//! `/authorize`; an allowed request goes on with the `x-signet-*` headers overwriting any
//! the caller sent, a denied one is answered 401 or 403 with the challenge.

use crate::authorizer::{Ask, Verdict, DECISION_HEADER};
use crate::Gateway;
use signet_proto::envoy::config::core::v3::{
    header_value_option::HeaderAppendAction, HeaderValue, HeaderValueOption,
};
use signet_proto::envoy::r#type::v3::{HttpStatus, StatusCode};
use signet_proto::envoy::service::auth::v3::authorization_server::Authorization;
use signet_proto::envoy::service::auth::v3::{
    check_response::HttpResponse, CheckRequest, CheckResponse, DeniedHttpResponse, OkHttpResponse,
};
use signet_proto::google::rpc::Status as RpcStatus;
use std::sync::Arc;

pub(crate) struct ExtAuthzApi {
    pub gw: Arc<Gateway>,
}

/// A header the caller's copy of which is replaced, even by an empty value.
fn overwrite(key: &str, value: String) -> HeaderValueOption {
    HeaderValueOption {
        header: Some(HeaderValue {
            key: key.to_string(),
            value,
            raw_value: Vec::new(),
        }),
        append: Some(false),
        append_action: HeaderAppendAction::OverwriteIfExistsOrAdd as i32,
        keep_empty_value: true,
    }
}

#[tonic::async_trait]
impl Authorization for ExtAuthzApi {
    async fn check(
        &self,
        request: tonic::Request<CheckRequest>,
    ) -> Result<tonic::Response<CheckResponse>, tonic::Status> {
        let http = request
            .into_inner()
            .attributes
            .and_then(|a| a.request)
            .and_then(|r| r.http)
            .unwrap_or_default();
        // Envoy sends a header map, or (told to encode raw headers) a list.
        let authorization = match http.headers.get("authorization") {
            Some(v) => Some(v.clone()),
            None => http.header_map.as_ref().and_then(|m| {
                let mut found = m
                    .headers
                    .iter()
                    .filter(|h| h.key.eq_ignore_ascii_case("authorization"));
                let first = found.next()?;
                // Two Authorization headers: the upstream might read the other one.
                if found.next().is_some() {
                    return None;
                }
                Some(if first.value.is_empty() {
                    String::from_utf8_lossy(&first.raw_value).into_owned()
                } else {
                    first.value.clone()
                })
            }),
        };
        let mut headers: Vec<(String, String)> = if http.headers.is_empty() {
            http.header_map
                .as_ref()
                .map(|m| {
                    m.headers
                        .iter()
                        .map(|h| {
                            let v = if h.value.is_empty() {
                                String::from_utf8_lossy(&h.raw_value).into_owned()
                            } else {
                                h.value.clone()
                            };
                            (h.key.clone(), v)
                        })
                        .collect()
                })
                .unwrap_or_default()
        } else {
            http.headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        // Envoy names the host `:authority`; a signed request signed it as `host`.
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
            let authority = headers
                .iter()
                .find(|(n, _)| n == ":authority")
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| http.host.clone());
            if !authority.is_empty() {
                headers.push(("host".into(), authority));
            }
        }
        // The body, when Envoy is told to send it (`with_request_body`); a signed request's
        // payload hash is then computed, not taken from the caller.
        let body = if !http.raw_body.is_empty() {
            Some(http.raw_body.as_slice())
        } else if !http.body.is_empty() {
            Some(http.body.as_bytes())
        } else {
            None
        };
        let verdict = self.gw.authorizer.decide(&Ask {
            method: &http.method,
            path: &http.path,
            authorization: authorization.as_deref(),
            headers: &headers,
            body,
        });
        let debug = self.gw.authorizer.debug;
        let reply = match verdict {
            Verdict::Allow { headers, why } => {
                let mut headers: Vec<_> =
                    headers.into_iter().map(|(k, v)| overwrite(k, v)).collect();
                if debug {
                    headers.push(overwrite(DECISION_HEADER, why));
                }
                CheckResponse {
                    status: Some(RpcStatus {
                        code: tonic::Code::Ok as i32,
                        message: String::new(),
                    }),
                    http_response: Some(HttpResponse::OkResponse(OkHttpResponse {
                        headers,
                        headers_to_remove: Vec::new(),
                        response_headers_to_add: Vec::new(),
                    })),
                }
            }
            Verdict::Deny {
                status,
                challenge,
                why,
            } => {
                let (code, http_code) = if status == 401 {
                    (tonic::Code::Unauthenticated, StatusCode::Unauthorized)
                } else {
                    (tonic::Code::PermissionDenied, StatusCode::Forbidden)
                };
                let mut headers = vec![overwrite("www-authenticate", challenge)];
                if debug {
                    headers.push(overwrite(DECISION_HEADER, why.clone()));
                }
                CheckResponse {
                    status: Some(RpcStatus {
                        code: code as i32,
                        message: if debug { why } else { String::new() },
                    }),
                    http_response: Some(HttpResponse::DeniedResponse(DeniedHttpResponse {
                        status: Some(HttpStatus {
                            code: http_code as i32,
                        }),
                        headers,
                        body: String::new(),
                    })),
                }
            }
        };
        Ok(tonic::Response::new(reply))
    }
}
