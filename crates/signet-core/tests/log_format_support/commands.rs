//! One sample of every [`Command`] variant, with non-default values everywhere (`Some`,
//! nested structs, enums), in an order that makes sense to replay: creations first, the
//! deletions last, so most samples are applied rather than rejected.

use super::commands_more;
use signet_core::{
    AddClientSecret, AddCustomAttributes, AddUserToGroup, AppClient, AssociateTotp, AttributeType,
    AuthFlow, ClearSignInFailures, ClientSecret, CodeLimits, CodePurpose, CodeRecord, CodeTarget,
    Command, CreateAppClient, CreateGroup, CreateUser, CreateUserPool, DeleteClientSecret, Group,
    IssueCode, OAuthFlow, OutboxMessage, PasswordPolicy, PoolConfig, PutResourceServer,
    RecordSignInFailure, RedeemCode, RemoveUserFromGroup, ResourceServer, ResourceServerScope,
    SchemaAttribute, SetMfaPreference, SetUserPoolMfa, TokenHook, TokenValidity, TotpSignIn,
    TriggerHook, Triggers, UpdateAppClient, UpdateGroup, UpdateUser, UpdateUserPool, User,
    UserPatch, UserPool, UserStatus, VerifyTotp,
};
use std::collections::BTreeMap;

/// The user pool every sample works in.
pub const POOL: &str = "eu-west-1_G0ldenP00l";
/// The app client of the samples.
pub const CLIENT: &str = "1example23456789abcdefghij";
/// The user of the samples.
pub const USER: &str = "alice";
/// Her sub.
pub const SUB: &str = "6f1e2d3c-4b5a-4978-8899-aabbccddeeff";
/// The group of the samples.
pub const GROUP: &str = "admins";
/// A time, Unix ms.
pub const T: u64 = 1_767_225_600_000;

/// Every sample, in replay order.
pub fn all() -> Vec<Command> {
    let mut v = pools_and_clients();
    v.extend(users_and_codes());
    v.extend(commands_more::tokens_and_keys());
    v.extend(commands_more::identities_and_roles());
    v.extend(commands_more::imports());
    v.extend(commands_more::registers());
    v.extend(commands_more::devices());
    v.extend(admin_keys());
    v.extend(placement());
    v.extend(commands_more::deletions());
    v
}

/// The pool placed on group 0 at epoch 1, a command routed by that placement, and the
/// client recorded in the client directory.
fn placement() -> Vec<Command> {
    let placement = signet_core::Placement {
        group: 0,
        epoch: 1,
        frozen: false,
    };
    vec![
        Command::PlacePool(signet_core::PlacePool {
            pool_id: POOL.into(),
            placement,
        }),
        Command::Routed(signet_core::Routed {
            group: 0,
            epoch: 1,
            command: Box::new(Command::ClearSignInFailures(ClearSignInFailures {
                pool_id: POOL.into(),
                username: USER.into(),
            })),
        }),
        Command::IndexClient(signet_core::IndexClient {
            client_id: CLIENT.into(),
            pool_id: POOL.into(),
        }),
    ]
}

/// An admin access key made, then deleted.
fn admin_keys() -> Vec<Command> {
    let key = signet_core::AdminAccessKey {
        access_key_id: "SAKEXAMPLE7Q2W3E4R5T".into(),
        sealed_secret: "v1.sealed-secret-sample".into(),
        description: "ci deploys".into(),
        active: true,
        created_at_ms: T + 90,
    };
    vec![
        Command::PutAdminAccessKey(signet_core::PutAdminAccessKey { key, create: true }),
        Command::DeleteAdminAccessKey(signet_core::DeleteAdminAccessKey {
            access_key_id: "SAKEXAMPLE7Q2W3E4R5T".into(),
        }),
    ]
}

pub fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn config(deletion_protection: bool) -> PoolConfig {
    PoolConfig {
        password_policy: PasswordPolicy {
            minimum_length: 12,
            require_uppercase: false,
            require_lowercase: true,
            require_numbers: false,
            require_symbols: true,
            temporary_password_validity_days: 3,
        },
        username_attributes: vec![],
        alias_attributes: vec!["email".into(), "preferred_username".into()],
        auto_verified_attributes: vec!["email".into()],
        schema: vec![SchemaAttribute {
            name: "custom:tier".into(),
            data_type: AttributeType::Number,
            mutable: false,
            required: true,
            max_length: Some(16),
        }],
        prevent_user_existence_errors: false,
        case_sensitive_usernames: true,
        signing_alg: signet_core::Algorithm::ES256,
        deletion_protection,
        pre_token_generation: Some(TokenHook {
            url: "https://hooks.example.com/pre-token".into(),
            version: 2,
            timeout_ms: 1500,
            fail_open: true,
        }),
        // Not written when off: the goldens of the pool commands predate MFA.
        mfa: Default::default(),
        // Not written when off: the goldens of the pool commands predate devices.
        devices: None,
        // Not written when none: the goldens of the pool commands predate the pages' look.
        ui: None,
        // Not written when off: the goldens of the pool commands predate it.
        admin_create_user_only: false,
        // Not written when none: create_user_pool.json predates triggers (and so shows that
        // a pool written before them still reads); update_user_pool.json has them.
        triggers: Box::new(if deletion_protection {
            Triggers::default()
        } else {
            Triggers {
                pre_sign_up: Some(TriggerHook {
                    url: "https://hooks.example.com/pre-sign-up".into(),
                    timeout_ms: 800,
                    fail_open: false,
                }),
                user_migration: Some(TriggerHook {
                    url: "https://hooks.example.com/migrate".into(),
                    timeout_ms: 5000,
                    fail_open: true,
                }),
                ..Default::default()
            }
        }),
    }
}

pub fn secret(id: &str, at_ms: u64) -> ClientSecret {
    ClientSecret {
        id: id.into(),
        hash: format!("hmac-of-{id}"),
        sealed: format!("sealed-{id}=="),
        created_at_ms: at_ms,
    }
}

fn client(name: &str, at_ms: u64) -> AppClient {
    AppClient {
        client_id: CLIENT.into(),
        pool_id: POOL.into(),
        name: name.into(),
        secrets: vec![secret("s1", T)],
        auth_flows: vec![
            AuthFlow::AllowUserPasswordAuth,
            AuthFlow::AllowRefreshTokenAuth,
        ],
        validity: TokenValidity {
            access_s: 900,
            id_s: 1800,
            refresh_s: 86_400,
        },
        read_attributes: vec!["email".into(), "custom:tier".into()],
        write_attributes: vec!["email".into()],
        refresh_token_rotation: true,
        // Not written while zero: the golden predates the retry grace.
        refresh_retry_grace_s: 0,
        oauth_flows: vec![OAuthFlow::ClientCredentials],
        oauth_scopes: vec!["https://api.example.com/read".into()],
        // Not written while empty: the golden predates the hosted sign-in.
        callback_urls: vec![],
        logout_urls: vec![],
        default_redirect_uri: None,
        identity_providers: vec![],
        disabled: false,
        created_at_ms: T,
        updated_at_ms: at_ms,
    }
}

fn pools_and_clients() -> Vec<Command> {
    vec![
        Command::CreateUserPool(CreateUserPool {
            pool: UserPool {
                id: POOL.into(),
                name: "Golden pool".into(),
                created_at_ms: T,
                updated_at_ms: T,
                config: config(true),
            },
        }),
        Command::UpdateUserPool(UpdateUserPool {
            pool_id: POOL.into(),
            name: "Golden pool, renamed".into(),
            config: config(false),
            at_ms: T + 1,
        }),
        Command::CreateAppClient(CreateAppClient {
            client: client("web", T),
        }),
        Command::UpdateAppClient(UpdateAppClient {
            client: client("web app", T + 2),
        }),
        Command::AddClientSecret(AddClientSecret {
            pool_id: POOL.into(),
            client_id: CLIENT.into(),
            secret: secret("s2", T + 3),
        }),
        Command::DeleteClientSecret(DeleteClientSecret {
            pool_id: POOL.into(),
            client_id: CLIENT.into(),
            secret_id: "s1".into(),
        }),
        Command::PutResourceServer(PutResourceServer {
            server: ResourceServer {
                pool_id: POOL.into(),
                identifier: "https://api.example.com".into(),
                name: "API".into(),
                scopes: vec![ResourceServerScope {
                    name: "read".into(),
                    description: "Read things".into(),
                }],
                created_at_ms: T + 4,
                updated_at_ms: T + 4,
            },
            create: true,
        }),
    ]
}

/// Alice as created: a password, a verified e-mail, a custom attribute.
pub fn alice() -> User {
    User {
        sub: SUB.into(),
        username: USER.into(),
        status: UserStatus::Unconfirmed,
        enabled: true,
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        password_expires_at_ms: Some(T + 86_400_000),
        attributes: map(&[
            ("custom:tier", "3"),
            ("email", "alice@example.com"),
            ("email_verified", "true"),
        ]),
        tokens_valid_after_ms: T - 1,
        failed_sign_ins: 1,
        locked_until_ms: T - 2,
        // Not written when empty: the goldens of the commands that carry a user predate
        // SRP and MFA.
        srp: None,
        mfa: Default::default(),
        devices: 0,
        created_at_ms: T + 10,
        updated_at_ms: T + 10,
    }
}

fn limits() -> CodeLimits {
    CodeLimits {
        window_ms: 3_600_000,
        max_issued: 5,
        max_failures: 10,
    }
}

fn email() -> CodePurpose {
    CodePurpose::VerifyAttribute("email".into())
}

fn users_and_codes() -> Vec<Command> {
    vec![
        Command::CreateUser(CreateUser {
            pool_id: POOL.into(),
            user: alice(),
        }),
        Command::UpdateUser(UpdateUser {
            pool_id: POOL.into(),
            username: USER.into(),
            patch: UserPatch {
                expect_status: Some(UserStatus::Unconfirmed),
                expect_password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
                status: Some(UserStatus::Confirmed),
                enabled: Some(true),
                password: Some(("$argon2id$v=19$new".into(), Some(T + 99))),
                // Not written when absent: the golden predates SRP.
                srp: None,
                set_attributes: map(&[("preferred_username", "ally"), ("custom:tier", "4")]),
                delete_attributes: vec!["nickname".into()],
                tokens_valid_after_ms: Some(T + 11),
                // Not written when absent: the golden predates them.
                expect_sub: None,
                clear_sign_in_failures: false,
                at_ms: T + 11,
            },
        }),
        Command::RecordSignInFailure(RecordSignInFailure {
            pool_id: POOL.into(),
            username: USER.into(),
            at_ms: T + 12,
            threshold: 1,
            base_ms: 1000,
            max_ms: 60_000,
        }),
        Command::ClearSignInFailures(ClearSignInFailures {
            pool_id: POOL.into(),
            username: USER.into(),
        }),
        Command::AddCustomAttributes(AddCustomAttributes {
            pool_id: POOL.into(),
            attributes: vec![SchemaAttribute {
                name: "custom:plan".into(),
                data_type: AttributeType::String,
                mutable: true,
                required: false,
                max_length: Some(32),
            }],
            max_custom: 50,
            at_ms: T + 13,
        }),
        Command::SetUserPoolMfa(SetUserPoolMfa {
            pool_id: POOL.into(),
            mfa: signet_core::PoolMfa {
                mode: signet_core::MfaMode::Optional,
                software_token: true,
                sms: false,
                email: false,
            },
            at_ms: T + 13,
        }),
        Command::AssociateTotp(AssociateTotp {
            pool_id: POOL.into(),
            username: USER.into(),
            sub: SUB.into(),
            sealed_seed: "sealed-totp-seed".into(),
            at_ms: T + 13,
        }),
        Command::VerifyTotp(VerifyTotp {
            pool_id: POOL.into(),
            username: USER.into(),
            sub: SUB.into(),
            sealed_seed: "sealed-totp-seed".into(),
            step: 58_907_520,
            friendly_name: "phone".into(),
            enable: true,
            at_ms: T + 14,
        }),
        Command::TotpSignIn(TotpSignIn {
            pool_id: POOL.into(),
            username: USER.into(),
            sub: SUB.into(),
            step: Some(58_907_521),
            at_ms: T + 15,
            threshold: 5,
            base_ms: 1000,
            max_ms: 60_000,
        }),
        Command::SetMfaPreference(SetMfaPreference {
            pool_id: POOL.into(),
            username: USER.into(),
            sub: Some(SUB.into()),
            totp_enabled: Some(true),
            totp_preferred: Some(false),
            sms_enabled: None,
            sms_preferred: None,
            email_enabled: None,
            email_preferred: None,
            at_ms: T + 16,
        }),
        Command::IssueCode(IssueCode {
            pool_id: POOL.into(),
            username: USER.into(),
            purpose: email(),
            code: CodeRecord {
                code_hash: "hash-of-123456".into(),
                expires_at_ms: T + 600_000,
                attempts_left: 3,
                sent_to: Some(CodeTarget {
                    attribute: "email".into(),
                    value: "alice@example.com".into(),
                }),
            },
            outbox: Some(OutboxMessage {
                username: USER.into(),
                purpose: email(),
                destination: "alice@example.com".into(),
                code: "123456".into(),
                issued_at_ms: T + 13,
            }),
            now_ms: T + 13,
            limits: limits(),
        }),
        Command::RedeemCode(RedeemCode {
            pool_id: POOL.into(),
            username: USER.into(),
            purpose: email(),
            code_hash: "hash-of-123456".into(),
            now_ms: T + 14,
            patch: UserPatch {
                set_attributes: map(&[("email_verified", "true")]),
                at_ms: T + 14,
                ..UserPatch::default()
            },
            limits: limits(),
        }),
        Command::CreateGroup(CreateGroup {
            group: Group {
                pool_id: POOL.into(),
                name: GROUP.into(),
                group_id: "grp-0001".into(),
                description: "Administrators".into(),
                precedence: Some(1),
                role_arn: Some("arn:signet:iam:::role/admin".into()),
                created_at_ms: T + 15,
                updated_at_ms: T + 15,
            },
        }),
        Command::UpdateGroup(UpdateGroup {
            pool_id: POOL.into(),
            name: GROUP.into(),
            description: "Admins".into(),
            precedence: Some(2),
            role_arn: Some("arn:signet:iam:::role/admin2".into()),
            at_ms: T + 16,
        }),
        Command::AddUserToGroup(AddUserToGroup {
            pool_id: POOL.into(),
            username: USER.into(),
            group: GROUP.into(),
        }),
        Command::RemoveUserFromGroup(RemoveUserFromGroup {
            pool_id: POOL.into(),
            username: USER.into(),
            group: GROUP.into(),
        }),
    ]
}
