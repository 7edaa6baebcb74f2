//! Samples of the token, key, identity, role, import and register commands, and the
//! deletions that end the replay.

use super::commands::{alice, map, CLIENT, GROUP, POOL, SUB, T, USER};
use signet_core::{
    AdvanceRefreshFamily, AmbiguousRoleResolution, ApplyImportChunk, AuditEvent, CasRegister,
    Command, CreateIdentityPool, CreateImportJob, CreateRole, DeleteAppClient, DeleteGroup,
    DeleteIdentities, DeleteIdentityPool, DeleteIdentityProvider, DeleteResourceServer, DeleteRole,
    DeleteRolePolicy, DeleteUser, DeleteUserPool, DropKey, FailImportJob, GetOrCreateIdentity,
    IdentityPool, IdentityProvider, ImportJob, ImportRow, KeyState, LinkProviderUser,
    LoginProvider, MappingRule, MatchType, PoolRoles, ProviderLink, ProviderType, PublishKey,
    PurgeExpired, PutIdentityProvider, PutRolePolicy, RecordAuditEvents, RenewKeyLease,
    RequestKeyRotation, RetireKey, RetireReason, RevokeAccessToken, RevokeKey, RevokeRefreshFamily,
    Role, RoleMapping, RoleMappingKind, RowError, SetIdentityPoolRoles, SigningKey,
    StageImportChunk, StartImportJob, StartRefreshFamily, StopImportJob, UnlinkIdentity,
    UnlinkProviderUser, UpdateIdentityPool, UpdateRole, User, UserStatus,
};
use std::collections::BTreeMap;

const KID: &str = "kid-2026-01-01-a";
const OWNER: &str = "gateway-7f3a";
const ID_POOL: &str = "local:0b8e7a52-9c1d-4f2e-8a3b-5c6d7e8f9a0b";
const IDENTITY: &str = "local:1c9f8b63-ad2e-4a3f-9b4c-6d7e8f9a0b1c";
const ROLE: &str = "reader";
const JOB: &str = "import-AbCdEfGhIjKlMnOpQrStUv";
const RUNNER: &str = "gateway-runner-1";

pub fn tokens_and_keys() -> Vec<Command> {
    vec![
        Command::AdvanceRefreshFamily(AdvanceRefreshFamily {
            family_id: "fam-0001".into(),
            presented_generation: 0,
            expires_at_ms: T + 2_592_000_000,
            at_ms: 0,
            grace_ms: 0,
        }),
        Command::RevokeRefreshFamily(RevokeRefreshFamily {
            family_id: "fam-0002".into(),
            expires_at_ms: T + 2_592_000_001,
        }),
        Command::StartRefreshFamily(StartRefreshFamily {
            family_id: "fam-0003".into(),
            expires_at_ms: T + 2_592_000_002,
        }),
        Command::PutIdentityProvider(PutIdentityProvider {
            provider: IdentityProvider {
                pool_id: POOL.into(),
                name: "CorpIdP".into(),
                provider_type: ProviderType::Oidc,
                details: BTreeMap::from([
                    ("client_id".to_string(), "upstream-client".to_string()),
                    ("client_secret".to_string(), "sealed-secret==".to_string()),
                    ("oidc_issuer".to_string(), "https://idp.example".to_string()),
                    ("authorize_scopes".to_string(), "openid email".to_string()),
                ]),
                attribute_mapping: BTreeMap::from([("email".to_string(), "email".to_string())]),
                identifiers: vec!["corp.example".into()],
                created_at_ms: T,
                updated_at_ms: T,
            },
            create: true,
        }),
        Command::LinkProviderUser(LinkProviderUser {
            link: ProviderLink {
                pool_id: POOL.into(),
                provider: "CorpIdP".into(),
                subject: "corp-subject-1".into(),
                username: USER.into(),
                sub: SUB.into(),
                linked_at_ms: T + 5,
            },
            federated_username: "corpidp_corp-subject-1".into(),
            identity: r#"{"userId":"corp-subject-1","providerName":"CorpIdP","providerType":"OIDC","issuer":null,"primary":"false","dateCreated":"1767225600005"}"#.into(),
        }),
        Command::UnlinkProviderUser(UnlinkProviderUser {
            pool_id: POOL.into(),
            provider: "CorpIdP".into(),
            subject: "corp-subject-1".into(),
            at_ms: T + 6,
        }),
        Command::DeleteIdentityProvider(DeleteIdentityProvider {
            pool_id: POOL.into(),
            name: "CorpIdP".into(),
        }),
        Command::RevokeAccessToken(RevokeAccessToken {
            jti: "jti-0001".into(),
            expires_at_ms: T + 3_600_000,
        }),
        Command::PurgeExpired(PurgeExpired {
            now_ms: T + 90 * 86_400_000,
            families: vec!["fam-0001".into(), "fam-0002".into()],
            revoked_tokens: vec!["jti-0001".into(), "jti-missing".into()],
            revocations: vec![],
        }),
        Command::PublishKey(PublishKey {
            key: SigningKey {
                kid: KID.into(),
                owner: OWNER.into(),
                alg: "ES256".into(),
                public_jwk: r#"{"kty":"EC","crv":"P-256","x":"eA","y":"eQ"}"#.into(),
                published_at_ms: T + 20,
                usable_from_ms: T + 25,
                // Apply publishes it as Published whatever the proposer says.
                state: KeyState::Retired {
                    retired_at_ms: T + 21,
                    drop_after_ms: T + 22,
                },
            },
        }),
        Command::RenewKeyLease(RenewKeyLease {
            owner: OWNER.into(),
            until_ms: T + 30,
        }),
        Command::RetireKey(RetireKey {
            kid: KID.into(),
            reason: RetireReason::LeaseLapsed,
            at_ms: T + 40,
            drop_after_ms: T + 45,
        }),
        Command::RevokeKey(RevokeKey {
            kid: KID.into(),
            at_ms: T + 41,
            drop_after_ms: T + 50,
        }),
        Command::DropKey(DropKey {
            kid: KID.into(),
            at_ms: T + 60,
        }),
        Command::RequestKeyRotation(RequestKeyRotation { at_ms: T + 61 }),
    ]
}

fn identity_pool(name: &str, at_ms: u64) -> IdentityPool {
    IdentityPool {
        id: ID_POOL.into(),
        name: name.into(),
        allow_unauthenticated: true,
        allow_classic_flow: true,
        providers: vec![
            LoginProvider::UserPool {
                issuer: format!("https://signet.example.com/{POOL}"),
                client_ids: vec![CLIENT.into()],
            },
            LoginProvider::Oidc {
                issuer: "https://accounts.example.org".into(),
                jwks_url: "https://accounts.example.org/jwks".into(),
                client_ids: vec!["external-client".into()],
            },
        ],
        developer_provider: Some("login.example".into()),
        roles: roles(),
        role_mappings: mappings(),
        created_at_ms: T + 62,
        updated_at_ms: at_ms,
    }
}

fn roles() -> PoolRoles {
    PoolRoles {
        authenticated: Some(Role::arn_of(ROLE)),
        unauthenticated: Some(Role::arn_of("guest")),
    }
}

fn mappings() -> BTreeMap<String, RoleMapping> {
    let rules = RoleMapping {
        kind: RoleMappingKind::Rules,
        ambiguous: AmbiguousRoleResolution::Deny,
        rules: vec![MappingRule {
            claim: "cognito:groups".into(),
            match_type: MatchType::Contains,
            value: GROUP.into(),
            role_arn: Role::arn_of("admin"),
        }],
    };
    let token = RoleMapping {
        kind: RoleMappingKind::Token,
        ambiguous: AmbiguousRoleResolution::AuthenticatedRole,
        rules: vec![],
    };
    [
        ("accounts.example.org".to_string(), token),
        (format!("signet.example.com/{POOL}"), rules),
    ]
    .into_iter()
    .collect()
}

pub fn identities_and_roles() -> Vec<Command> {
    vec![
        Command::CreateIdentityPool(CreateIdentityPool {
            pool: identity_pool("Golden identities", T + 62),
        }),
        Command::UpdateIdentityPool(UpdateIdentityPool {
            pool: identity_pool("Golden identities, renamed", T + 63),
        }),
        Command::SetIdentityPoolRoles(SetIdentityPoolRoles {
            pool_id: ID_POOL.into(),
            roles: roles(),
            role_mappings: mappings(),
            at_ms: T + 64,
        }),
        Command::GetOrCreateIdentity(GetOrCreateIdentity {
            pool_id: ID_POOL.into(),
            logins: map(&[("accounts.example.org", "ext-subject-1")]),
            new_identity_id: "local:2dafe9c7-be3f-4b40-8c5d-7e8f9a0b1c2d".into(),
            into_identity_id: Some(IDENTITY.into()),
            at_ms: T + 65,
        }),
        Command::UnlinkIdentity(UnlinkIdentity {
            pool_id: ID_POOL.into(),
            identity_id: IDENTITY.into(),
            logins: map(&[("accounts.example.org", "ext-subject-1")]),
            at_ms: T + 66,
        }),
        Command::CreateRole(CreateRole {
            role: Role {
                name: ROLE.into(),
                arn: Role::arn_of(ROLE),
                role_id: "AROAGOLDEN0001".into(),
                description: "Reads things".into(),
                trust_policy: r#"{"Version":"2012-10-17","Statement":[]}"#.into(),
                max_session_s: 7200,
                policies: BTreeMap::new(),
                created_at_ms: T + 67,
                updated_at_ms: T + 67,
            },
        }),
        Command::UpdateRole(UpdateRole {
            name: ROLE.into(),
            description: Some("Reads more things".into()),
            trust_policy: Some(r#"{"Version":"2012-10-17","Statement":[{}]}"#.into()),
            max_session_s: Some(10_800),
            at_ms: T + 68,
        }),
        Command::PutRolePolicy(PutRolePolicy {
            role_name: ROLE.into(),
            policy_name: "read-all".into(),
            document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]}"#.into(),
            at_ms: T + 69,
        }),
        Command::DeleteRolePolicy(DeleteRolePolicy {
            role_name: ROLE.into(),
            policy_name: "read-all".into(),
            at_ms: T + 70,
        }),
    ]
}

fn bob() -> User {
    let mut bob = User::new(
        "7a2f3e4d-5c6b-4a89-9900-bbccddeeff00",
        "bob",
        UserStatus::ForceChangePassword,
        T + 80,
    );
    bob.attributes = map(&[("email", "bob@example.com"), ("email_verified", "false")]);
    bob.password_hash = Some("$argon2id$v=19$bob".into());
    bob
}

pub fn imports() -> Vec<Command> {
    let mut job = ImportJob::new(JOB, POOL, "golden import", T + 71, T + 900_071);
    job.upload_id = Some("upload-0001".into());
    job.failed = 1;
    job.errors = vec![RowError {
        line: 2,
        reason: "missing email".into(),
    }];
    vec![
        Command::CreateImportJob(CreateImportJob {
            pool_id: POOL.into(),
            job,
        }),
        Command::StageImportChunk(StageImportChunk {
            pool_id: POOL.into(),
            job_id: JOB.into(),
            upload_id: "upload-0001".into(),
            seq: 0,
            last: true,
            rows: vec![
                ImportRow {
                    line: 3,
                    user: bob(),
                    groups: vec![],
                },
                // Taken username: skipped at apply.
                ImportRow {
                    line: 4,
                    user: alice(),
                    groups: vec![],
                },
            ],
            rejected_rows: 1,
            rejected: vec![RowError {
                line: 5,
                reason: "bad phone_number".into(),
            }],
        }),
        Command::StartImportJob(StartImportJob {
            pool_id: POOL.into(),
            job_id: JOB.into(),
            runner: RUNNER.into(),
            at_ms: T + 72,
            lease_until_ms: T + 172,
        }),
        Command::ApplyImportChunk(ApplyImportChunk {
            pool_id: POOL.into(),
            job_id: JOB.into(),
            runner: RUNNER.into(),
            seq: 0,
            at_ms: T + 73,
            lease_until_ms: T + 173,
        }),
        Command::StopImportJob(StopImportJob {
            pool_id: POOL.into(),
            job_id: JOB.into(),
            at_ms: T + 74,
        }),
        Command::FailImportJob(FailImportJob {
            pool_id: POOL.into(),
            job_id: JOB.into(),
            runner: RUNNER.into(),
            at_ms: T + 75,
            message: "runner gave up".into(),
        }),
    ]
}

/// The diagnostic register `signet chaos` drives. The replay writes its expected value
/// first (`replay::with_extras`), so the compare-and-set applies.
pub fn registers() -> Vec<Command> {
    vec![
        Command::CasRegister(CasRegister {
            name: "chaos.r0".into(),
            expect: Some(-3),
            value: 4,
        }),
        Command::RecordAuditEvents(RecordAuditEvents {
            events: vec![
                AuditEvent {
                    id: "9b2f6c1e-4d7a-4e55-8a11-0c3d5e7f9a01".into(),
                    at_ms: T + 40,
                    action: "InitiateAuth".into(),
                    outcome: "Fail".into(),
                    exception: "NotAuthorizedException".into(),
                    challenge: String::new(),
                    actor: "user".into(),
                    pool_id: POOL.into(),
                    username: USER.into(),
                    client_id: CLIENT.into(),
                    target: String::new(),
                    source_ip: "192.0.2.7".into(),
                    gateway: "gw-1".into(),
                    reason: String::new(),
                },
                AuditEvent {
                    id: "9b2f6c1e-4d7a-4e55-8a11-0c3d5e7f9a02".into(),
                    at_ms: T + 41,
                    action: "AdminAddUserToGroup".into(),
                    outcome: "Pass".into(),
                    exception: String::new(),
                    challenge: String::new(),
                    actor: "admin".into(),
                    pool_id: POOL.into(),
                    username: USER.into(),
                    client_id: String::new(),
                    target: GROUP.into(),
                    source_ip: "2001:db8::7".into(),
                    gateway: "gw-2".into(),
                    reason: String::new(),
                },
            ],
        }),
    ]
}

pub fn devices() -> Vec<Command> {
    let key = "eu-west-1_0c9d8e7f-6a5b-4c3d-2e1f-001122334455";
    vec![
        Command::ConfirmDevice(signet_core::ConfirmDevice {
            pool_id: POOL.into(),
            username: USER.into(),
            sub: SUB.into(),
            device: signet_core::Device {
                key: key.into(),
                name: "alice's laptop".into(),
                sealed_verifier: "sealed-device-verifier".into(),
                remembered: false,
                created_at_ms: T + 50,
                updated_at_ms: T + 50,
            },
        }),
        Command::UpdateDeviceStatus(signet_core::UpdateDeviceStatus {
            pool_id: POOL.into(),
            sub: SUB.into(),
            device_key: key.into(),
            remembered: true,
            at_ms: T + 51,
        }),
        Command::ForgetDevice(signet_core::ForgetDevice {
            pool_id: POOL.into(),
            username: USER.into(),
            sub: SUB.into(),
            device_key: key.into(),
        }),
    ]
}

pub fn deletions() -> Vec<Command> {
    vec![
        Command::DeleteIdentities(DeleteIdentities {
            pool_id: ID_POOL.into(),
            identity_ids: vec![IDENTITY.into(), "local:unknown".into()],
        }),
        Command::DeleteIdentityPool(DeleteIdentityPool {
            pool_id: ID_POOL.into(),
        }),
        Command::DeleteRole(DeleteRole { name: ROLE.into() }),
        Command::DeleteResourceServer(DeleteResourceServer {
            pool_id: POOL.into(),
            identifier: "https://api.example.com".into(),
        }),
        Command::DeleteGroup(DeleteGroup {
            pool_id: POOL.into(),
            name: GROUP.into(),
        }),
        Command::DeleteUser(DeleteUser {
            pool_id: POOL.into(),
            username: USER.into(),
            at_ms: 0,
        }),
        Command::DeleteAppClient(DeleteAppClient {
            pool_id: POOL.into(),
            client_id: CLIENT.into(),
            at_ms: 0,
        }),
        Command::DeleteUserPool(DeleteUserPool {
            pool_id: POOL.into(),
            at_ms: T + 100,
        }),
    ]
}
