//! What a scenario needs on the server, made through the admin API before the load starts
//! and removed afterwards: a user pool, app clients, users (signed in once for refresh and
//! identity scenarios), an identity pool and a role.

use crate::rpc::{status_error, AdminChannel};
use anyhow::Context;
use futures::stream::{self, StreamExt, TryStreamExt};
use signet_proto::v1 as pb;
use signet_proto::v1::identity_admin_client::IdentityAdminClient;
use signet_proto::v1::identity_client::IdentityClient;
use signet_proto::v1::user_pool_admin_client::UserPoolAdminClient;
use signet_proto::v1::user_pool_auth_client::UserPoolAuthClient;
use std::collections::HashMap;
use tonic::transport::Channel;

/// The resource server and scopes of the client_credentials client.
pub const RESOURCE_SERVER: &str = "bench-orders";
/// The scopes a client_credentials token asks for.
pub const SCOPE: &str = "bench-orders/read bench-orders/write";
/// Setup calls in flight at once (each user costs the server two argon2 hashes).
const SETUP_PARALLELISM: usize = 8;

/// What to make.
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs {
    /// A confidential client allowed the client_credentials grant.
    pub service_client: bool,
    /// This many confirmed users with passwords, and a public client to sign them in.
    pub users: usize,
    /// Sign each user in once and keep the tokens (refresh, identity scenarios).
    pub sign_in: bool,
    /// An identity pool trusting the pool's client, a role, and one identity per user.
    pub identities: bool,
    /// The pool asks for TOTP (OPTIONAL) and every user has a verified, enabled
    /// authenticator (after the sign-in that gives the access token to set it up).
    pub totp: bool,
    /// The users' client rotates refresh tokens.
    pub rotation: bool,
}

/// A confirmed user and what signing them in gave.
#[derive(Debug, Clone)]
pub struct BenchUser {
    pub username: String,
    pub password: String,
    pub refresh_token: String,
    pub id_token: String,
    /// The identity of this user's login, when identities were made.
    pub identity_id: String,
    pub access_token: String,
    /// The authenticator's seed and the time step its set-up used (a code is accepted
    /// once, for a later step only).
    pub totp: Option<(Vec<u8>, u64)>,
}

/// Everything made; [`Fixtures::teardown`] removes it.
#[derive(Debug, Default)]
pub struct Fixtures {
    pub pool_id: String,
    /// Public client with USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH.
    pub user_client_id: String,
    /// Whether that client rotates refresh tokens.
    pub rotation: bool,
    /// Confidential client_credentials client.
    pub service_client_id: String,
    pub service_client_secret: String,
    pub users: Vec<BenchUser>,
    pub identity_pool_id: String,
    /// The login provider name of the user pool in the identity pool.
    pub provider: String,
    pub role_name: String,
}

fn pool_name() -> String {
    format!("signet-bench-{}", &signet_crypto::random_hex_id()[..8])
}

impl Fixtures {
    /// Make what `needs` asks for, with the pool signing with `alg`.
    pub async fn setup(
        admin: AdminChannel,
        public: Channel,
        needs: Needs,
        alg: &str,
    ) -> anyhow::Result<Fixtures> {
        let mut a = UserPoolAdminClient::new(admin.clone());
        let name = pool_name();
        let pool = a
            .create_user_pool(pb::CreateUserPoolRequest {
                pool_name: name.clone(),
                signing_alg: alg.to_string(),
                ..Default::default()
            })
            .await
            .map_err(status_error)
            .context("CreateUserPool")?
            .into_inner()
            .user_pool
            .context("CreateUserPool answered without a pool")?;
        let mut f = Fixtures {
            pool_id: pool.id,
            ..Default::default()
        };
        // From here on, a failure still removes what was made.
        match f.fill(&mut a, admin, public, needs).await {
            Ok(()) => Ok(f),
            Err(e) => {
                if let Err(t) = f.teardown_with(&mut a, None).await {
                    eprintln!("signet bench: cleaning up after a failed setup: {t:#}");
                }
                Err(e)
            }
        }
    }

    async fn fill(
        &mut self,
        a: &mut UserPoolAdminClient<AdminChannel>,
        admin: AdminChannel,
        public: Channel,
        needs: Needs,
    ) -> anyhow::Result<()> {
        if needs.service_client {
            self.service_client(a).await?;
        }
        if needs.users > 0 {
            let client = a
                .create_user_pool_client(pb::CreateUserPoolClientRequest {
                    user_pool_id: self.pool_id.clone(),
                    client_name: "bench-users".into(),
                    explicit_auth_flows: vec![
                        "ALLOW_USER_PASSWORD_AUTH".into(),
                        "ALLOW_REFRESH_TOKEN_AUTH".into(),
                    ],
                    enable_refresh_token_rotation: needs.rotation,
                    ..Default::default()
                })
                .await
                .map_err(status_error)
                .context("CreateUserPoolClient (users)")?
                .into_inner()
                .user_pool_client
                .context("CreateUserPoolClient answered without a client")?;
            self.user_client_id = client.client_id;
            self.rotation = needs.rotation;
            self.users = make_users(a, &self.pool_id, needs.users).await?;
        }
        if needs.sign_in || needs.identities {
            sign_in_all(public.clone(), &self.user_client_id, &mut self.users).await?;
        }
        if needs.identities {
            self.identities(admin, public.clone()).await?;
        }
        if needs.totp {
            a.set_user_pool_mfa_config(pb::SetUserPoolMfaConfigRequest {
                user_pool_id: self.pool_id.clone(),
                mfa_configuration: "OPTIONAL".into(),
                software_token_mfa_configuration: Some(pb::SoftwareTokenMfaConfigType {
                    enabled: true,
                }),
                sms_mfa_configuration: None,
                email_mfa_configuration: None,
            })
            .await
            .map_err(status_error)
            .context("SetUserPoolMfaConfig")?;
            set_up_totp(public, &mut self.users).await?;
        }
        Ok(())
    }

    async fn service_client(
        &mut self,
        a: &mut UserPoolAdminClient<AdminChannel>,
    ) -> anyhow::Result<()> {
        let scope = |name: &str| pb::ResourceServerScopeType {
            scope_name: name.into(),
            scope_description: format!("{name} orders"),
        };
        a.create_resource_server(pb::ResourceServerType {
            user_pool_id: self.pool_id.clone(),
            identifier: RESOURCE_SERVER.into(),
            name: "Bench orders API".into(),
            scopes: vec![scope("read"), scope("write")],
        })
        .await
        .map_err(status_error)
        .context("CreateResourceServer")?;
        let (id, secret) = crate::service_client::create(
            a,
            &self.pool_id,
            "bench-service",
            SCOPE.split(' ').map(str::to_string).collect(),
        )
        .await?;
        self.service_client_id = id;
        self.service_client_secret = secret;
        Ok(())
    }

    /// An identity pool trusting the user client, an authenticated role, and GetId for
    /// every user.
    async fn identities(&mut self, admin: AdminChannel, public: Channel) -> anyhow::Result<()> {
        let first = self.users.first().context("identities need users")?;
        // The provider name is the ID token's issuer without its scheme.
        let iss = crate::jwt_inspect::claims(&first.id_token)?["iss"]
            .as_str()
            .context("ID token without iss")?
            .to_string();
        self.provider = iss
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .to_string();
        let mut ia = IdentityAdminClient::new(admin);
        let ipool = ia
            .create_identity_pool(pb::IdentityPoolType {
                identity_pool_name: format!("bench {}", self.pool_id),
                cognito_identity_providers: vec![pb::CognitoIdentityProviderType {
                    provider_name: self.provider.clone(),
                    client_id: self.user_client_id.clone(),
                }],
                ..Default::default()
            })
            .await
            .map_err(status_error)
            .context("CreateIdentityPool")?
            .into_inner();
        self.identity_pool_id = ipool.identity_pool_id;
        let role_name = format!("bench-{}", &signet_crypto::random_hex_id()[..8]);
        let trust = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Federated": "signet-identity"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {"signet-identity:aud": self.identity_pool_id},
                    "ForAnyValue:StringLike": {"signet-identity:amr": "authenticated"}
                }
            }]
        });
        let role = ia
            .create_role(pb::CreateRoleRequest {
                role_name: role_name.clone(),
                assume_role_policy_document: trust.to_string(),
                ..Default::default()
            })
            .await
            .map_err(status_error)
            .context("CreateRole")?
            .into_inner();
        self.role_name = role_name.clone();
        let permissions = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": ["orders:Get*", "orders:List*"],
                "Resource": "arn:signet:orders:::order/${signet-identity:sub}/*"
            }]
        });
        ia.put_role_policy(pb::RolePolicyType {
            role_name,
            policy_name: "orders".into(),
            policy_document: permissions.to_string(),
        })
        .await
        .map_err(status_error)
        .context("PutRolePolicy")?;
        ia.set_identity_pool_roles(pb::IdentityPoolRolesType {
            identity_pool_id: self.identity_pool_id.clone(),
            roles: HashMap::from([("authenticated".to_string(), role.arn)]),
            role_mappings: HashMap::new(),
        })
        .await
        .map_err(status_error)
        .context("SetIdentityPoolRoles")?;
        let ids: Vec<String> = stream::iter(self.users.iter())
            .map(|u| {
                let mut c = IdentityClient::new(public.clone());
                let req = pb::GetIdRequest {
                    identity_pool_id: self.identity_pool_id.clone(),
                    logins: HashMap::from([(self.provider.clone(), u.id_token.clone())]),
                };
                async move {
                    c.get_id(req)
                        .await
                        .map(|r| r.into_inner().identity_id)
                        .map_err(status_error)
                        .context("GetId")
                }
            })
            .buffered(SETUP_PARALLELISM)
            .try_collect()
            .await?;
        for (u, id) in self.users.iter_mut().zip(ids) {
            u.identity_id = id;
        }
        Ok(())
    }

    /// Remove everything made (`--keep` skips this).
    pub async fn teardown(&self, admin: AdminChannel) -> anyhow::Result<()> {
        let mut a = UserPoolAdminClient::new(admin.clone());
        self.teardown_with(&mut a, Some(admin)).await
    }

    async fn teardown_with(
        &self,
        a: &mut UserPoolAdminClient<AdminChannel>,
        admin: Option<AdminChannel>,
    ) -> anyhow::Result<()> {
        if let Some(admin) = admin {
            let mut ia = IdentityAdminClient::new(admin);
            if !self.identity_pool_id.is_empty() {
                ia.delete_identity_pool(pb::IdentityPoolRef {
                    identity_pool_id: self.identity_pool_id.clone(),
                })
                .await
                .map_err(status_error)
                .context("DeleteIdentityPool")?;
            }
            if !self.role_name.is_empty() {
                ia.delete_role_policy(pb::RolePolicyRef {
                    role_name: self.role_name.clone(),
                    policy_name: "orders".into(),
                })
                .await
                .map_err(status_error)
                .context("DeleteRolePolicy")?;
                ia.delete_role(pb::RoleRef {
                    role_name: self.role_name.clone(),
                })
                .await
                .map_err(status_error)
                .context("DeleteRole")?;
            }
        }
        a.delete_user_pool(pb::UserPoolRef {
            user_pool_id: self.pool_id.clone(),
        })
        .await
        .map_err(status_error)
        .context("DeleteUserPool")?;
        Ok(())
    }
}

/// `n` confirmed users with random passwords (AdminCreateUser, then a permanent
/// AdminSetUserPassword), a few at a time.
async fn make_users(
    a: &mut UserPoolAdminClient<AdminChannel>,
    pool_id: &str,
    n: usize,
) -> anyhow::Result<Vec<BenchUser>> {
    let tag = &signet_crypto::random_hex_id()[..6];
    stream::iter(0..n)
        .map(|i| {
            let mut a = a.clone();
            let username = format!("bench-{tag}-{i}");
            let password = format!("Bench-{}-9a!", signet_crypto::random_hex_id());
            let pool_id = pool_id.to_string();
            async move {
                a.admin_create_user(pb::AdminCreateUserRequest {
                    user_pool_id: pool_id.clone(),
                    username: username.clone(),
                    message_action: "SUPPRESS".into(),
                    ..Default::default()
                })
                .await
                .map_err(status_error)
                .with_context(|| format!("AdminCreateUser {username}"))?;
                a.admin_set_user_password(pb::AdminSetUserPasswordRequest {
                    user_pool_id: pool_id,
                    username: username.clone(),
                    password: password.clone(),
                    permanent: true,
                })
                .await
                .map_err(status_error)
                .with_context(|| format!("AdminSetUserPassword {username}"))?;
                Ok::<_, anyhow::Error>(BenchUser {
                    username,
                    password,
                    refresh_token: String::new(),
                    id_token: String::new(),
                    identity_id: String::new(),
                    access_token: String::new(),
                    totp: None,
                })
            }
        })
        .buffered(SETUP_PARALLELISM)
        .try_collect()
        .await
}

/// The USER_PASSWORD_AUTH request of `u`.
pub fn password_auth(client_id: &str, u: &BenchUser) -> pb::InitiateAuthRequest {
    pb::InitiateAuthRequest {
        client_id: client_id.to_string(),
        auth_flow: "USER_PASSWORD_AUTH".into(),
        auth_parameters: HashMap::from([
            ("USERNAME".to_string(), u.username.clone()),
            ("PASSWORD".to_string(), u.password.clone()),
        ]),
        client_metadata: Default::default(),
    }
}

async fn sign_in_all(
    public: Channel,
    client_id: &str,
    users: &mut [BenchUser],
) -> anyhow::Result<()> {
    let tokens: Vec<pb::AuthenticationResultType> = stream::iter(users.iter())
        .map(|u| {
            let mut c = UserPoolAuthClient::new(public.clone());
            let req = password_auth(client_id, u);
            async move {
                c.initiate_auth(req)
                    .await
                    .map_err(status_error)
                    .context("InitiateAuth (setup)")?
                    .into_inner()
                    .authentication_result
                    .context("sign-in answered with a challenge, not tokens")
            }
        })
        .buffered(SETUP_PARALLELISM)
        .try_collect()
        .await?;
    for (u, t) in users.iter_mut().zip(tokens) {
        u.refresh_token = t.refresh_token;
        u.id_token = t.id_token;
        u.access_token = t.access_token;
    }
    Ok(())
}

/// An authenticator for every user, set up with its access token: associate, verify with
/// the previous step's code, turn on.
async fn set_up_totp(public: Channel, users: &mut [BenchUser]) -> anyhow::Result<()> {
    let seeds: Vec<(Vec<u8>, u64)> = stream::iter(users.iter())
        .map(|u| {
            let mut c = UserPoolAuthClient::new(public.clone());
            let access_token = u.access_token.clone();
            async move {
                let secret = c
                    .associate_software_token(pb::AssociateSoftwareTokenRequest {
                        access_token: access_token.clone(),
                        session: String::new(),
                    })
                    .await
                    .map_err(status_error)
                    .context("AssociateSoftwareToken (setup)")?
                    .into_inner()
                    .secret_code;
                let seed = signet_crypto::base32_decode(&secret)
                    .context("AssociateSoftwareToken gave a secret that is not base32")?;
                let step = signet_crypto::totp_step(now_ms()).saturating_sub(1);
                c.verify_software_token(pb::VerifySoftwareTokenRequest {
                    access_token: access_token.clone(),
                    session: String::new(),
                    user_code: signet_crypto::totp_code(&seed, step),
                    friendly_device_name: "bench".into(),
                })
                .await
                .map_err(status_error)
                .context("VerifySoftwareToken (setup)")?;
                c.set_user_mfa_preference(pb::SetUserMfaPreferenceRequest {
                    access_token,
                    software_token_mfa_settings: Some(pb::MfaSettingsType {
                        enabled: true,
                        preferred_mfa: true,
                    }),
                    sms_mfa_settings: None,
                    email_mfa_settings: None,
                })
                .await
                .map_err(status_error)
                .context("SetUserMFAPreference (setup)")?;
                Ok::<_, anyhow::Error>((seed, step))
            }
        })
        .buffered(SETUP_PARALLELISM)
        .try_collect()
        .await?;
    for (u, s) in users.iter_mut().zip(seeds) {
        u.totp = Some(s);
    }
    Ok(())
}

/// Unix time, ms.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
