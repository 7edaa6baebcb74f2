use serde::{Deserialize, Serialize};

/// A user pool: a directory of users with its own issuer and configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPool {
    /// `{region-like prefix}_{random}` identifier, chosen by the proposer; never reused.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Creation time, Unix milliseconds (proposer's clock).
    pub created_at_ms: u64,
    /// Last change, Unix milliseconds.
    #[serde(default)]
    pub updated_at_ms: u64,
    /// Policies and schema.
    #[serde(default)]
    pub config: PoolConfig,
}

impl UserPool {
    /// A pool with the default configuration.
    pub fn new(id: impl Into<String>, name: impl Into<String>, at_ms: u64) -> UserPool {
        UserPool {
            id: id.into(),
            name: name.into(),
            created_at_ms: at_ms,
            updated_at_ms: at_ms,
            config: PoolConfig::default(),
        }
    }
}

/// A pool's policies and schema (Cognito's pool settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PoolConfig {
    /// Password rules.
    pub password_policy: PasswordPolicy,
    /// Attributes users sign in with *instead of* a username (`email`, `phone_number`);
    /// the username is then the user's `sub`.
    pub username_attributes: Vec<String>,
    /// Attributes users may sign in with *besides* their username (`email`,
    /// `phone_number`, `preferred_username`).
    pub alias_attributes: Vec<String>,
    /// Attributes verified by a code sent at sign-up (`email`, `phone_number`).
    pub auto_verified_attributes: Vec<String>,
    /// Custom (`custom:…`) and required standard attributes.
    pub schema: Vec<SchemaAttribute>,
    /// Answer "wrong username or password" for unknown users and hide whether a user
    /// exists in recovery flows. On unless explicitly turned off.
    pub prevent_user_existence_errors: bool,
    /// Usernames compare case-sensitively (Cognito's default is insensitive).
    pub case_sensitive_usernames: bool,
    /// JWS algorithm of this pool's tokens (stored by name: `EdDSA`, `ES256`, `RS256`).
    #[serde(deserialize_with = "super::lenient_alg")]
    pub signing_alg: super::Algorithm,
    /// Refuse DeleteUserPool while set.
    pub deletion_protection: bool,
    /// Pre-token-generation webhook (Cognito's trigger); none: never called.
    pub pre_token_generation: Option<TokenHook>,
    /// Multi-factor authentication (off by default).
    #[serde(skip_serializing_if = "super::PoolMfa::is_off")]
    pub mfa: super::PoolMfa,
    /// Cognito's Lambda triggers, as webhooks (none by default). Boxed: most pools have
    /// none, and a pool is copied into every answer that carries one.
    #[serde(skip_serializing_if = "Triggers::is_empty")]
    pub triggers: Box<Triggers>,
    /// Device tracking (off when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub devices: Option<super::DeviceConfig>,
    /// The hosted pages' look (the default one when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui: Option<UiCustomization>,
    /// Only administrators create users: SignUp is refused (Cognito's
    /// `AdminCreateUserConfig.AllowAdminCreateUserOnly`). Federated sign-in still makes
    /// users: the pool's identity providers vouch for them.
    #[serde(skip_serializing_if = "super::is_zero")]
    pub admin_create_user_only: bool,
}

/// The hosted pages' look for a pool: a logo and two colours (Cognito's UI customization,
/// without free CSS: a page that takes a pool's CSS takes whatever the CSS can do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UiCustomization {
    /// An https URL of the logo shown above the forms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// Buttons and links, `#rrggbb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_color: Option<String>,
    /// The page behind the form, `#rrggbb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_color: Option<String>,
}

/// Cognito's Lambda triggers (its `LambdaConfig`), each a webhook POSTed the trigger's
/// Cognito-shaped event; a trigger left out is never called.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Triggers {
    /// Before a user is created by SignUp (or AdminCreateUser): may refuse it, or confirm
    /// the user and verify the e-mail or phone at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_sign_up: Option<TriggerHook>,
    /// After ConfirmSignUp and ConfirmForgotPassword succeed (told, cannot undo).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_confirmation: Option<TriggerHook>,
    /// Before a sign-in checks the password: may refuse the sign-in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_authentication: Option<TriggerHook>,
    /// After every factor of a sign-in, before tokens are signed: may refuse them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_authentication: Option<TriggerHook>,
    /// A sign-in or ForgotPassword names a user the pool does not have: the hook may vouch
    /// for the user (and the password) and the user is created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_migration: Option<TriggerHook>,
    /// CUSTOM_AUTH: decides, from the challenges answered so far, whether to issue tokens,
    /// fail, or ask another challenge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub define_auth_challenge: Option<TriggerHook>,
    /// CUSTOM_AUTH: makes the next challenge (public parameters for the user, private
    /// ones for the check).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_auth_challenge: Option<TriggerHook>,
    /// CUSTOM_AUTH: checks an answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_auth_challenge_response: Option<TriggerHook>,
    /// Before a code is sent: may write the message (and e-mail subject) around it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_message: Option<TriggerHook>,
}

impl Triggers {
    /// No trigger is set.
    pub fn is_empty(&self) -> bool {
        self == &Triggers::default()
    }

    /// Every trigger by Cognito's LambdaConfig name, set or not.
    pub fn each(&self) -> [(&'static str, &Option<TriggerHook>); 9] {
        [
            ("PreSignUp", &self.pre_sign_up),
            ("PostConfirmation", &self.post_confirmation),
            ("PreAuthentication", &self.pre_authentication),
            ("PostAuthentication", &self.post_authentication),
            ("UserMigration", &self.user_migration),
            ("DefineAuthChallenge", &self.define_auth_challenge),
            ("CreateAuthChallenge", &self.create_auth_challenge),
            (
                "VerifyAuthChallengeResponse",
                &self.verify_auth_challenge_response,
            ),
            ("CustomMessage", &self.custom_message),
        ]
    }

    /// The three CUSTOM_AUTH triggers are all set.
    pub fn custom_auth(&self) -> bool {
        self.define_auth_challenge.is_some()
            && self.create_auth_challenge.is_some()
            && self.verify_auth_challenge_response.is_some()
    }
}

/// One trigger's webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerHook {
    /// Where to POST (https, or http to loopback where the gateway allows it).
    pub url: String,
    /// How long to wait for the answer, milliseconds (100 ..= 5000).
    pub timeout_ms: u32,
    /// When the hook cannot be reached, times out or answers nonsense: go on as if no
    /// hook were set (`true`) or refuse (`false`). A hook that refuses on purpose (a 4xx
    /// answer) is obeyed either way.
    pub fail_open: bool,
}

/// A pre-token-generation webhook: POSTed a Cognito-shaped event before tokens are signed;
/// its answer may add, override or suppress claims (and scopes, from version 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenHook {
    /// Where to POST (http or https).
    pub url: String,
    /// Event version: 1 (ID token only), 2 (ID and access tokens), 3 (also machine tokens
    /// from client_credentials).
    pub version: u8,
    /// How long to wait for the answer, milliseconds (100 ..= 5000).
    pub timeout_ms: u32,
    /// On a failure or timeout, issue the tokens unchanged (`true`) or refuse (`false`).
    pub fail_open: bool,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            password_policy: PasswordPolicy::default(),
            username_attributes: vec![],
            alias_attributes: vec![],
            auto_verified_attributes: vec![],
            schema: vec![],
            prevent_user_existence_errors: true,
            case_sensitive_usernames: false,
            signing_alg: super::Algorithm::EdDSA,
            deletion_protection: false,
            pre_token_generation: None,
            mfa: Default::default(),
            devices: None,
            triggers: Box::default(),
            ui: None,
            admin_create_user_only: false,
        }
    }
}

impl PoolConfig {
    /// Attributes that identify a user at sign-in besides the username, and so must be
    /// unique in the pool.
    pub fn login_attributes(&self) -> impl Iterator<Item = &str> {
        self.username_attributes
            .iter()
            .chain(self.alias_attributes.iter())
            .map(String::as_str)
    }
}

/// Cognito's password policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordPolicy {
    /// Minimum length in characters (6–99).
    pub minimum_length: u32,
    /// Needs an uppercase letter.
    pub require_uppercase: bool,
    /// Needs a lowercase letter.
    pub require_lowercase: bool,
    /// Needs a digit.
    pub require_numbers: bool,
    /// Needs one of Cognito's symbols.
    pub require_symbols: bool,
    /// Days an admin-set temporary password stays usable.
    pub temporary_password_validity_days: u32,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            minimum_length: 8,
            require_uppercase: true,
            require_lowercase: true,
            require_numbers: true,
            require_symbols: true,
            temporary_password_validity_days: 7,
        }
    }
}

/// Value type of a schema attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum AttributeType {
    /// Text.
    #[default]
    String,
    /// Integer.
    Number,
    /// `true` / `false`.
    Boolean,
    /// Date-time text.
    DateTime,
}

/// One attribute of the pool's schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaAttribute {
    /// Full name (`custom:tier`, or a standard attribute such as `email`).
    pub name: String,
    /// Value type.
    #[serde(default)]
    pub data_type: AttributeType,
    /// Can be changed after creation.
    #[serde(default = "yes")]
    pub mutable: bool,
    /// Must be given at sign-up.
    #[serde(default)]
    pub required: bool,
    /// Longest value (strings), in characters.
    #[serde(default)]
    pub max_length: Option<u32>,
}

fn yes() -> bool {
    true
}
