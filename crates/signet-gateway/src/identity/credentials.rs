//! GetCredentialsForIdentity: the role the identity pool maps the logins to, through its
//! trust policy, becomes temporary credentials.

use super::role_mapping::LoginClaims;
use super::{role_mapping, Identities, CREDENTIALS_S, IDENTITY_PROVIDER};
use crate::sts::{Credentials, SessionSpec};
use crate::AppError;
use signet_core::Role;
use std::collections::BTreeMap;

impl Identities {
    /// GetCredentialsForIdentity (enhanced flow): role from the pool's defaults and
    /// mappings, the role's trust policy checked, credentials for one hour.
    pub async fn get_credentials_for_identity(
        &self,
        identity_id: &str,
        logins: &BTreeMap<String, String>,
        custom_role_arn: Option<&str>,
    ) -> Result<Credentials, AppError> {
        let p = self.prove(identity_id, logins).await?;
        let claims: Vec<LoginClaims<'_>> = if p.authenticated() {
            p.logins
                .iter()
                .map(|l| LoginClaims {
                    provider: &l.provider,
                    audience: l.audience.as_deref(),
                    claims: &l.claims,
                })
                .collect()
        } else {
            vec![]
        };
        let arn = role_mapping::resolve(&p.pool, &claims, custom_role_arn)?;
        let name = Role::name_in(&arn)
            .ok_or_else(|| AppError::Internal(format!("stored role {arn} is not an ARN")))?;
        let role = self.dir.role(name).await.map_err(|_| {
            AppError::InvalidIdentityPoolConfiguration(format!(
                "Invalid identity pool configuration: role {arn} does not exist."
            ))
        })?;
        let amr = p.amr();
        self.sts.check_trust(&role, IDENTITY_PROVIDER, &p.pool.id, identity_id, &amr)
            .map_err(|_| {
                AppError::InvalidIdentityPoolConfiguration(format!(
                    "Invalid identity pool configuration: the trust policy of {arn} does not admit this identity."
                ))
            })?;
        let session_name = format!("signet-{}", &signet_crypto::random_hex_id()[..16]);
        self.sts.mint_credentials(SessionSpec {
            role: &role,
            subject: identity_id,
            session_name: &session_name,
            provider: IDENTITY_PROVIDER,
            audience: &p.pool.id,
            amr,
            identity_pool: Some(&p.pool.id),
            duration_s: CREDENTIALS_S.min(u64::from(role.max_session_s)),
            session_policy: None,
        })
    }
}
