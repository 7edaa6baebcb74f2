//! Generated gRPC code for Signet's APIs (see `proto/`).
#![forbid(unsafe_code)]

/// Internal store-cluster APIs: Raft transport, the `Store` service used by gateways and
/// the `Cluster` membership service.
pub mod store {
    #![allow(missing_docs, clippy::all)]
    tonic::include_proto!("signet.store.v1");
}

/// The public API: user-pool administration and the user-facing auth flows.
pub mod v1 {
    #![allow(missing_docs, clippy::all)]
    tonic::include_proto!("signet.v1");
}

/// Envoy's external authorization API (`envoy.service.auth.v3`) and the types it uses:
/// the edge authorizer's ext_authz face. A wire-compatible subset of Envoy's published
/// protos (`proto/envoy/`).
pub mod envoy {
    #![allow(missing_docs, clippy::all)]
    pub mod service {
        pub mod auth {
            pub mod v3 {
                tonic::include_proto!("envoy.service.auth.v3");
            }
        }
    }
    pub mod config {
        pub mod core {
            pub mod v3 {
                tonic::include_proto!("envoy.config.core.v3");
            }
        }
    }
    pub mod r#type {
        pub mod v3 {
            tonic::include_proto!("envoy.r#type.v3");
        }
    }
}

/// `google.rpc.Status` as ext_authz carries it.
pub mod google {
    #![allow(missing_docs, clippy::all)]
    pub mod rpc {
        tonic::include_proto!("google.rpc");
    }
}

/// Encoded `FileDescriptorSet` of every file under `proto/`, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("signet_descriptor");

/// gRPC server reflection (v1 and v1alpha: common clients still ask v1alpha) advertising
/// exactly `services` — the fully-qualified names a server serves — with their full
/// descriptors, so grpcurl, evans or Postman can discover and call them.
pub mod reflection {
    use tonic_reflection::server::{v1, v1alpha, Builder};

    /// The name the health service is registered under.
    pub const HEALTH: &str = "grpc.health.v1.Health";

    fn builder(services: &[&str]) -> Builder<'static> {
        let mut b = Builder::configure()
            .register_encoded_file_descriptor_set(super::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .with_service_name("grpc.reflection.v1.ServerReflection")
            .with_service_name("grpc.reflection.v1alpha.ServerReflection");
        for s in services {
            b = b.with_service_name(*s);
        }
        b
    }

    /// The v1 reflection service.
    pub fn v1(services: &[&str]) -> v1::ServerReflectionServer<impl v1::ServerReflection> {
        // The descriptor sets are compiled in and checked by this crate's tests: a failure
        // here is a build defect, not a runtime condition.
        builder(services)
            .build_v1()
            .expect("compiled-in descriptor sets are valid")
    }

    /// The v1alpha reflection service.
    pub fn v1alpha(
        services: &[&str],
    ) -> v1alpha::ServerReflectionServer<impl v1alpha::ServerReflection> {
        builder(services)
            .build_v1alpha()
            .expect("compiled-in descriptor sets are valid")
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn descriptor_sets_build() {
            let _ = super::v1(&[super::HEALTH, "signet.v1.UserPoolAuth"]);
            let _ = super::v1alpha(&["signet.store.v1.Store"]);
        }
    }
}
