//! The composition: each shared handle built once from the config, then each feature from
//! exactly the handles it uses. Reading this file tells what every feature can touch.

use super::Gateway;
use crate::auth::{Auth, AuthSettings};
use crate::cache::Cache;
use crate::codes::{CodeSettings, Codes};
use crate::directory::Directory;
use crate::hooks::Hooks;
use crate::identity::logins::Logins;
use crate::identity::pools::IdentityPools;
use crate::identity::Identities;
use crate::imports::{ImportSettings, Imports};
use crate::keys::Published;
use crate::keys::{KeyAdmin, KeyManager};
use crate::metrics::Metrics;
use crate::notifier::Notifier;
use crate::oauth::resource_servers::ResourceServers;
use crate::oauth::OAuth;
use crate::passwords::{Lockout, Passwords};
use crate::pools::clients::Clients;
use crate::pools::Pools;
use crate::roles::Roles;
use crate::secrets::ClientSecrets;
use crate::signup::Signup;
use crate::store::Store;
use crate::sts::Sts;
use crate::tokens::Tokens;
use crate::urls::Urls;
use crate::users::groups::Groups;
use crate::users::self_service::SelfService;
use crate::users::Users;
use crate::GatewayConfig;
use signet_crypto::{KeyedHasher, PasswordHasher, Sealer};
use std::sync::Arc;
use tokio::sync::watch;

/// Build the shared handles from the config, then each feature from the handles it uses.
pub(crate) fn compose(
    cfg: GatewayConfig,
    store: Store,
    notifier: Notifier,
    stopping: watch::Receiver<bool>,
) -> Result<Gateway, crate::AppError> {
    let clock = cfg.clock.clone();
    let hasher = PasswordHasher::new(
        cfg.password,
        cfg.hash_workers,
        cfg.hash_queue,
        cfg.hash_queue_deadline,
    );
    let keyed = KeyedHasher::new(&cfg.server_secret);
    let sealer = Sealer::new(&cfg.server_secret);
    let urls = Urls::new(&cfg.public_url);
    let insecure_http = cfg.allow_insecure_loopback_http;
    let cache = Arc::new(Cache::default());
    let revocations = Arc::new(crate::revocations::Feed::new(stopping.clone()));
    let published = Arc::new(Published::default());
    let keys = Arc::new(KeyManager::default());
    let metrics = Arc::new(Metrics::default());
    let dir = Directory::new(store.clone(), cache.clone(), clock.clone());
    let secrets = ClientSecrets::new(keyed.clone(), sealer.clone());
    let hooks = Hooks::new(cfg.webhook_secret.clone(), insecure_http, clock.clone());
    let codes = Codes::new(
        store.clone(),
        keyed.clone(),
        Arc::new(notifier),
        CodeSettings {
            confirm_ttl: cfg.confirm_code_ttl,
            reset_ttl: cfg.reset_code_ttl,
            attempts: cfg.code_attempts,
            limits: cfg.code_limits,
        },
        clock.clone(),
        hooks.clone(),
    );
    let tokens = Tokens::new(
        store.clone(),
        dir.clone(),
        published.clone(),
        keys.clone(),
        sealer.clone(),
        hooks.clone(),
        metrics.clone(),
        urls.clone(),
        clock.clone(),
    );
    let passwords = Passwords::new(
        store.clone(),
        hasher.clone(),
        Lockout {
            threshold: cfg.lockout_threshold,
            base: cfg.lockout_base,
            max: cfg.lockout_max,
        },
        clock.clone(),
        sealer.clone(),
    );
    let auth = Auth::new(
        store.clone(),
        dir.clone(),
        clock.clone(),
        passwords.clone(),
        sealer.clone(),
        secrets.clone(),
        tokens.clone(),
        hooks.clone(),
        codes.clone(),
        AuthSettings {
            session_ttl: cfg.session_ttl,
        },
    );
    let self_service = SelfService::new(
        store.clone(),
        dir.clone(),
        clock.clone(),
        passwords.clone(),
        secrets.clone(),
        codes.clone(),
        tokens.clone(),
    );
    let pools = Pools::new(store.clone(), dir.clone(), clock.clone(), insecure_http);
    let resource_servers = ResourceServers::new(store.clone(), dir.clone(), clock.clone());
    let clients = Clients::new(
        store.clone(),
        dir.clone(),
        clock.clone(),
        secrets.clone(),
        resource_servers.clone(),
    );
    let oauth = OAuth::new(
        dir.clone(),
        clock.clone(),
        secrets.clone(),
        tokens.clone(),
        keys.clone(),
        hooks.clone(),
        urls.clone(),
        metrics.clone(),
        store.clone(),
        auth.clone(),
        self_service.clone(),
    );
    let external_keys = crate::outbound::ExternalKeys::default();
    let federation = crate::federation::Federation::new(
        store.clone(),
        dir.clone(),
        clock.clone(),
        sealer.clone(),
        urls.clone(),
        external_keys.clone(),
        insecure_http,
        hooks.clone(),
    );
    let signup = Signup::new(
        store.clone(),
        dir.clone(),
        clock.clone(),
        passwords.clone(),
        secrets.clone(),
        codes.clone(),
        hooks.clone(),
    );
    let hosted = crate::hosted::Hosted::new(
        store.clone(),
        dir.clone(),
        clock.clone(),
        sealer.clone(),
        secrets,
        auth.clone(),
        signup.clone(),
        oauth.clone(),
        tokens.clone(),
        federation.clone(),
        &cfg.public_url,
    );
    let identity_pools = IdentityPools::new(
        store.clone(),
        dir.clone(),
        clock.clone(),
        urls.clone(),
        insecure_http,
    );
    let logins = Logins::new(
        dir.clone(),
        tokens.clone(),
        urls.clone(),
        insecure_http,
        external_keys.clone(),
    );
    let sts = Sts::new(
        dir.clone(),
        clock.clone(),
        urls.clone(),
        keyed.clone(),
        keys.clone(),
        metrics.clone(),
        tokens,
        cfg.sts_min_session,
    );
    let identities = Identities::new(
        store.clone(),
        dir.clone(),
        clock.clone(),
        urls.clone(),
        keys.clone(),
        logins,
        sts.clone(),
        identity_pools.clone(),
    );
    let imports = Imports::new(
        store.clone(),
        dir.clone(),
        clock.clone(),
        keyed,
        urls.clone(),
        ImportSettings {
            instance: cfg.instance.clone(),
            lease: cfg.import_lease,
            max_bytes: cfg.import_max_bytes,
            max_rows: cfg.import_max_rows,
            chunk_rows: cfg.import_chunk_rows,
        },
        stopping,
    );
    let authorizer = crate::authorizer::Authorizer::new(
        &cfg.authorizer,
        &cfg.public_url,
        published.clone(),
        revocations.clone(),
        Arc::new(sts.clone()),
        clock.clone(),
    )
    .map_err(|e| crate::AppError::InvalidParameter(format!("authorizer config: {e}")))?;
    Ok(Gateway {
        authorizer,
        signup,
        hosted,
        federation,
        users: Users::new(
            store.clone(),
            dir.clone(),
            clock.clone(),
            passwords.clone(),
            codes,
            hooks.clone(),
        ),
        groups: Groups::new(store.clone(), dir.clone(), clock.clone()),
        roles: Roles::new(store.clone(), clock.clone()),
        aws: crate::aws::Aws::new(
            store.clone(),
            clock.clone(),
            sealer.clone(),
            cfg.aws_region.clone(),
            cfg.aws_signing_names.clone(),
        ),
        key_admin: KeyAdmin::new(store.clone(), clock, cfg.key_overlap),
        serving: std::sync::atomic::AtomicBool::new(false),
        quorum: Default::default(),
        auth,
        self_service,
        pools,
        clients,
        oauth,
        resource_servers,
        identities,
        identity_pools,
        sts,
        imports,
        hasher,
        urls,
        dir,
        metrics,
        rates: Arc::new(crate::rates::RateLimiter::new(cfg.serving.rate)),
        audit: Arc::new(crate::audit::Audit::new(
            cfg.clock.clone(),
            cfg.instance.clone(),
        )),
        keys,
        cache,
        revocations,
        published,
        store,
        cfg,
    })
}
