//! Who may call what: a tower layer in front of a tonic server that answers from the
//! caller's certificate role before any service code runs. Fail closed: a path no rule
//! names is refused, a caller without a usable certificate is unauthenticated.

use crate::identity::{Peer, Role};
use crate::server::ConnInfo;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::Status;

/// One rule: a full method path (`/pkg.Service/Method`) or a service prefix ending in `/`
/// (`/pkg.Service/`), and the roles allowed to call it.
pub type Rule = (&'static str, &'static [Role]);

/// The access table of one listener.
#[derive(Clone, Debug)]
pub struct Access {
    rules: Option<Arc<[Rule]>>,
}

impl Access {
    /// No checks: plaintext listeners (`signet dev`, `--insecure-plaintext`), where no
    /// caller has an identity to check.
    pub fn open() -> Access {
        Access { rules: None }
    }

    /// Enforce `rules`; an exact method rule wins over a service prefix.
    pub fn rules(rules: &[Rule]) -> Access {
        Access {
            rules: Some(rules.into()),
        }
    }

    /// Whether rules are enforced.
    pub fn is_enforced(&self) -> bool {
        self.rules.is_some()
    }

    /// May `peer` call `path`?
    pub fn check(&self, path: &str, peer: Option<&Peer>) -> Result<(), Status> {
        let Some(rules) = &self.rules else {
            return Ok(());
        };
        let Some(peer) = peer else {
            return Err(Status::unauthenticated(
                "a client certificate issued by the cluster CA, naming a Signet role, is required",
            ));
        };
        let rule = rules.iter().find(|(p, _)| *p == path).or_else(|| {
            rules
                .iter()
                .filter(|(p, _)| p.ends_with('/') && path.starts_with(p))
                .max_by_key(|(p, _)| p.len())
        });
        match rule {
            Some((_, roles)) if roles.contains(&peer.role) => Ok(()),
            Some((_, roles)) => Err(Status::permission_denied(format!(
                "{path} is not open to {} certificates (allowed: {})",
                peer.role,
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
            None => Err(Status::permission_denied(format!(
                "{path} is not open to any caller on this listener"
            ))),
        }
    }

    /// The tower layer enforcing this table.
    pub fn layer(&self) -> AccessLayer {
        AccessLayer(self.clone())
    }
}

/// The verified caller of a request, if any (set by the TLS acceptor).
pub fn caller<T>(req: &tonic::Request<T>) -> Option<&Peer> {
    req.extensions()
        .get::<ConnInfo>()
        .and_then(|c| c.peer.as_ref())
}

/// Tower layer of an [`Access`] table.
#[derive(Clone, Debug)]
pub struct AccessLayer(Access);

impl<S> tower::Layer<S> for AccessLayer {
    type Service = AccessService<S>;

    fn layer(&self, inner: S) -> AccessService<S> {
        AccessService {
            access: self.0.clone(),
            inner,
        }
    }
}

/// The service of [`AccessLayer`].
#[derive(Clone, Debug)]
pub struct AccessService<S> {
    access: Access,
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> tower::Service<http::Request<B>> for AccessService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let peer = req
            .extensions()
            .get::<ConnInfo>()
            .and_then(|c| c.peer.as_ref());
        match self.access.check(req.uri().path(), peer) {
            Ok(()) => Box::pin(self.inner.call(req)),
            Err(status) => {
                if self.access.is_enforced() {
                    tracing::warn!(
                        path = req.uri().path(),
                        caller = ?peer.map(|p| p.to_string()),
                        remote = ?req.extensions().get::<ConnInfo>().and_then(|c| c.remote),
                        "refused: {}",
                        status.message()
                    );
                }
                Box::pin(async move { Ok(status.into_http()) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &[Rule] = &[
        ("/p.Raft/", &[Role::Store]),
        ("/p.Store/", &[Role::Gateway, Role::Operator]),
        (
            "/p.Cluster/Status",
            &[Role::Store, Role::Gateway, Role::Operator],
        ),
        ("/p.Cluster/", &[Role::Operator]),
    ];

    fn peer(role: Role) -> Peer {
        Peer {
            role,
            name: "x".into(),
        }
    }

    #[test]
    fn the_table_decides_and_fails_closed() {
        let a = Access::rules(RULES);
        let code = |path: &str, p: Option<Role>| {
            a.check(path, p.map(peer).as_ref()).err().map(|s| s.code())
        };
        assert_eq!(code("/p.Raft/Vote", Some(Role::Store)), None);
        assert_eq!(
            code("/p.Raft/Vote", Some(Role::Gateway)),
            Some(tonic::Code::PermissionDenied)
        );
        assert_eq!(
            code("/p.Store/Read", None),
            Some(tonic::Code::Unauthenticated)
        );
        assert_eq!(code("/p.Store/Read", Some(Role::Gateway)), None);
        // The exact rule opens Status to everyone; the rest of Cluster stays operator-only.
        assert_eq!(code("/p.Cluster/Status", Some(Role::Gateway)), None);
        assert_eq!(
            code("/p.Cluster/Remove", Some(Role::Gateway)),
            Some(tonic::Code::PermissionDenied)
        );
        assert_eq!(code("/p.Cluster/Remove", Some(Role::Operator)), None);
        // No rule, no entry; a prefix must end at a '/'.
        assert_eq!(
            code("/p.Other/X", Some(Role::Operator)),
            Some(tonic::Code::PermissionDenied)
        );
        assert_eq!(
            code("/p.StoreX/Read", Some(Role::Operator)),
            Some(tonic::Code::PermissionDenied)
        );
        assert_eq!(Access::open().check("/anything", None).ok(), Some(()));
    }
}
