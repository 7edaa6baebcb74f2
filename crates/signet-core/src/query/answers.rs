//! Typed answers: a caller names the type it expects from a query (`Option<User>`,
//! `Page<Group>`, …) and gets it, or the mismatched result back, in one place — never a
//! `match` with an "unexpected" arm at each call.

use super::{QueryResult, UserView};
use crate::{
    AppClient, Group, Identity, IdentityPool, ImportJob, OutboxMessage, RefreshFamily,
    ResourceServer, Role, SigningKey, User, UserPool,
};

/// A type a [`QueryResult`] can be read as.
pub trait Answer: Sized {
    /// The answer, or the result itself when it is of another kind.
    fn from_result(r: QueryResult) -> Result<Self, Box<QueryResult>>;
}

macro_rules! answers {
    ($($variant:ident => $ty:ty),* $(,)?) => {
        $(
            impl Answer for $ty {
                fn from_result(r: QueryResult) -> Result<Self, Box<QueryResult>> {
                    match r {
                        QueryResult::$variant(v) => Ok(v),
                        other => Err(Box::new(other)),
                    }
                }
            }
        )*
    };
}

answers!(
    UserPool => Option<UserPool>,
    UserPools => Vec<UserPool>,
    User => Option<User>,
    Users => Vec<User>,
    SigningKeys => Vec<SigningKey>,
    AppClient => Option<AppClient>,
    AppClients => Vec<AppClient>,
    UserView => Option<UserView>,
    UserViews => Vec<UserView>,
    Group => Option<Group>,
    Groups => Vec<Group>,
    RefreshFamily => Option<RefreshFamily>,
    Outbox => Vec<OutboxMessage>,
    KeyLeases => Vec<(String, u64)>,
    IdentityPool => Option<IdentityPool>,
    IdentityPools => Vec<IdentityPool>,
    Identity => Option<Identity>,
    Identities => Vec<Identity>,
    AdminAccessKey => Option<crate::AdminAccessKey>,
    AdminAccessKeys => Vec<crate::AdminAccessKey>,
    Role => Option<Role>,
    Roles => Vec<Role>,
    ResourceServer => Option<ResourceServer>,
    ResourceServers => Vec<ResourceServer>,
    IdentityProvider => Option<crate::IdentityProvider>,
    IdentityProviders => Vec<crate::IdentityProvider>,
    ProviderLink => Option<crate::ProviderLink>,
    Revoked => Vec<bool>,
    ImportJob => Option<ImportJob>,
    ImportJobs => Vec<ImportJob>,
    Register => Option<i64>,
    AuditEvents => Vec<(u64, crate::AuditEvent)>,
    Device => Option<crate::Device>,
    Devices => Vec<crate::Device>,
    Placement => Option<crate::Placement>,
    ClientPool => Option<String>,
    Revocations => Vec<crate::Revocation>,
    Seq => u64,
);

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// The store cut the page short by size: more rows follow whatever its length.
    pub more: bool,
}

impl<T> Answer for Page<T>
where
    Vec<T>: Answer,
{
    fn from_result(r: QueryResult) -> Result<Self, Box<QueryResult>> {
        let (r, more) = match r {
            QueryResult::Partial(page) => (*page, true),
            r => (r, false),
        };
        Vec::<T>::from_result(r).map(|items| Page { items, more })
    }
}

/// A page of a filtered user listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSearchPage {
    /// Matching users.
    pub users: Vec<User>,
    /// Exclusive start of the next page.
    pub next: Option<String>,
}

impl Answer for UserSearchPage {
    fn from_result(r: QueryResult) -> Result<Self, Box<QueryResult>> {
        match r {
            QueryResult::UserSearch { users, next } => Ok(UserSearchPage { users, next }),
            other => Err(Box::new(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_match_their_kind_and_pages_keep_the_cut() {
        let found = <Option<Group>>::from_result(QueryResult::Group(None));
        assert_eq!(found, Ok(None));
        let wrong = <Option<Group>>::from_result(QueryResult::Revoked(vec![true]));
        assert_eq!(wrong, Err(Box::new(QueryResult::Revoked(vec![true]))));
        let full = Page::<bool>::from_result(QueryResult::Revoked(vec![false]));
        assert_eq!(
            full,
            Ok(Page {
                items: vec![false],
                more: false
            })
        );
        let cut =
            Page::<bool>::from_result(QueryResult::Partial(Box::new(QueryResult::Revoked(vec![
                true,
            ]))));
        assert_eq!(
            cut,
            Ok(Page {
                items: vec![true],
                more: true
            })
        );
    }
}
