//! gRPC surface: thin handlers converting proto ↔ use-case types. Admin calls pass an
//! interceptor that requires the admin secret.
//!
//! Each service is a table (`rpc_table!`): RPC, request, response, and the handler
//! function that serves it, in a file per topic.

/// Implement a tonic service trait as a table. Each row names an RPC, its request and
/// response messages and its handler, `async fn(&Gateway, Req) -> Result<Resp, Status>`;
/// the generated method passes the request's message to the handler.
macro_rules! rpc_table {
    ($svc:ident for $api:ty { $( $rpc:ident($req:ty) -> $resp:ty => $handler:path; )* }) => {
        #[tonic::async_trait]
        impl $svc for $api {
            $(
                async fn $rpc(
                    &self,
                    r: tonic::Request<$req>,
                ) -> Result<tonic::Response<$resp>, tonic::Status> {
                    // The handler's future lives on the heap from the start: a sign-in's is
                    // ~16 KB, and held by value it would be copied at every layer that wraps
                    // it (this method, the audit scope), which cost a refresh 7 % of its CPU
                    // in memcpy.
                    // The audit trail is recorded here, for every audited call (see `audit`).
                    let Some(actor) = crate::audit::audited(stringify!($svc), stringify!($rpc))
                    else {
                        return Box::pin($handler(&self.gw, r.into_inner()))
                            .await
                            .map(tonic::Response::new);
                    };
                    let remote = r
                        .extensions()
                        .get::<signet_tls::ConnInfo>()
                        .and_then(|c| c.remote)
                        .map(|a| a.ip());
                    let req = r.into_inner();
                    let subject = crate::audit::Audited::subject(&req);
                    let (res, reason) = crate::audit::noted(Box::pin($handler(&self.gw, req))).await;
                    let ending = match &res {
                        Ok(resp) => crate::audit::Ending::passed(crate::audit::challenge_of(resp)),
                        Err(s) => crate::audit::Ending {
                            reason,
                            ..crate::audit::Ending::failed(s)
                        },
                    };
                    self.gw.audit.record(
                        actor,
                        stringify!($rpc),
                        subject.settle(res.is_ok()),
                        remote,
                        ending,
                    );
                    res.map(tonic::Response::new)
                }
            )*
        }
    };
}

pub(crate) mod admin;
pub(crate) mod auth;
mod convert;
mod ext_authz;
pub(crate) mod identity;
mod revocations;
mod wire;

use crate::{AppError, Gateway};
use signet_proto::v1::identity_admin_server::IdentityAdminServer;
use signet_proto::v1::identity_server::IdentityServer;
use signet_proto::v1::sts_server::StsServer;
use signet_proto::v1::user_pool_admin_server::UserPoolAdminServer;
use signet_proto::v1::user_pool_auth_server::UserPoolAuthServer;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::{Request, Status};

/// Check `authorization: Bearer <admin secret>` in constant time.
fn admin_guard(secret: Arc<String>) -> impl Fn(Request<()>) -> Result<Request<()>, Status> + Clone {
    move |req: Request<()>| {
        let given = req
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !secret.is_empty()
            && signet_crypto::constant_time_eq(given.as_bytes(), secret.as_bytes())
        {
            Ok(req)
        } else {
            Err(AppError::NotAuthorized("Admin credentials required".into()).into())
        }
    }
}

/// The fully-qualified name a service is served under (what reflection lists).
fn name<S: tonic::server::NamedService>(_: &S) -> &'static str {
    S::NAME
}

pub(crate) fn serve(
    gw: Arc<Gateway>,
    limiter: Arc<crate::api::serving::Limiter>,
    listener: signet_tls::Incoming,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let (health, health_svc) = tonic_health::server::health_reporter();
        // tonic-health starts the server's status at SERVING: a check already waiting in the
        // listener's backlog could be answered before the readiness loop's first pass.
        health
            .set_service_status("", tonic_health::ServingStatus::NotServing)
            .await;
        let guard = admin_guard(Arc::new(gw.cfg.admin_secret.clone()));
        let max = gw.cfg.serving.max_grpc_message_bytes;
        let admin = UserPoolAdminServer::new(admin::AdminApi { gw: gw.clone() })
            .max_decoding_message_size(max);
        let auth = UserPoolAuthServer::new(auth::AuthApi { gw: gw.clone() })
            .max_decoding_message_size(max);
        let identity_admin =
            IdentityAdminServer::new(identity::IdentityAdminApi { gw: gw.clone() })
                .max_decoding_message_size(max);
        let identity = IdentityServer::new(identity::IdentityApi { gw: gw.clone() })
            .max_decoding_message_size(max);
        let sts =
            StsServer::new(identity::StsApi { gw: gw.clone() }).max_decoding_message_size(max);
        let ext_authz =
            signet_proto::envoy::service::auth::v3::authorization_server::AuthorizationServer::new(
                ext_authz::ExtAuthzApi { gw: gw.clone() },
            )
            .max_decoding_message_size(max);
        let revocations = signet_proto::v1::revocations_server::RevocationsServer::new(
            revocations::RevocationsApi { gw: gw.clone() },
        );
        let served = [
            signet_proto::reflection::HEALTH,
            name(&admin),
            name(&auth),
            name(&identity_admin),
            name(&identity),
            name(&sts),
            name(&ext_authz),
            name(&revocations),
        ];
        let readiness = {
            let gw = gw.clone();
            let mut stop = stop.clone();
            async move {
                loop {
                    let ready = gw.is_ready();
                    let status = if ready {
                        tonic_health::ServingStatus::Serving
                    } else {
                        tonic_health::ServingStatus::NotServing
                    };
                    health.set_service_status("", status).await;
                    gw.serving.store(ready, std::sync::atomic::Ordering::SeqCst);
                    tokio::select! {
                        _ = tokio::time::sleep(std::time::Duration::from_millis(50)) => {}
                        _ = stop.wait_for(|s| *s) => return,
                    }
                }
            }
        };
        tokio::spawn(readiness);
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        // The shared stack (see `serving`), then decode errors as the API's own.
        let stack = crate::api::serving::stack(
            &limiter,
            gw.metrics.rpc.clone(),
            crate::metrics::latency::Surface::Grpc,
        )
        .layer(wire::DecodeErrorsLayer {
            max_message_bytes: max,
        });
        let res = tonic::transport::Server::builder()
            .layer(stack)
            .layer(crate::consistency::ConsistencyLayer)
            .add_service(health_svc)
            .add_service(signet_proto::reflection::v1(&served))
            .add_service(signet_proto::reflection::v1alpha(&served))
            .add_service(tonic::service::interceptor::InterceptedService::new(
                admin,
                guard.clone(),
            ))
            .add_service(tonic::service::interceptor::InterceptedService::new(
                identity_admin,
                guard,
            ))
            .add_service(auth)
            .add_service(identity)
            .add_service(sts)
            .add_service(ext_authz)
            .add_service(revocations)
            .serve_with_incoming_shutdown(listener, shutdown)
            .await;
        if let Err(e) = res {
            tracing::error!("grpc server stopped: {e}");
        }
    })
}
