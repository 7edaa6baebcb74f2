//! Rate limits (layer 2 of the public servers' stack, `api::serving`, before load
//! shedding): budgets per source address
//! for the public calls that take a credential, create a user or send a code, so that one
//! caller can neither guess nor spam at the gateway's full speed; and budgets per app
//! client for the same calls, checked where the client is known (the handlers). Over budget
//! is refused at once: gRPC RESOURCE_EXHAUSTED `TooManyRequestsException` (with a
//! `retry-after` header), HTTP 429 with `Retry-After`.
//!
//! Each budget is a GCRA (a token bucket kept as one "theoretical arrival time" per key):
//! one token every `every`, at most `burst` at once. Keys are an IPv4 address or an IPv6
//! /64 (one host owns a whole /64), or an app client id. Budgets are per gateway: N
//! gateways behind a balancer allow about N times the budget in all. The maps are bounded:
//! idle keys (their bucket full again) are dropped when a shard fills up.

use crate::config::{Budget, RateClass, RateLimits};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const SHARDS: usize = 16;
/// Keys per shard before idle ones are swept: 16 × 65,536 keys of ~64 bytes is a few tens
/// of MB at most.
const SHARD_KEYS: usize = 65_536;

/// The class of a public call, by its gRPC path or HTTP route (the hosted pages' forms only
/// when posted: showing a form costs nothing); None: not limited.
pub(crate) fn class_of(path: &str, post: bool) -> Option<RateClass> {
    if let Some(method) = path.strip_prefix("/signet.v1.UserPoolAuth/") {
        return match method {
            "InitiateAuth"
            | "RespondToAuthChallenge"
            | "ConfirmSignUp"
            | "ConfirmForgotPassword"
            | "VerifyUserAttribute"
            | "ChangePassword"
            | "VerifySoftwareToken" => Some(RateClass::SignIn),
            "SignUp" => Some(RateClass::SignUp),
            "ResendConfirmationCode" | "ForgotPassword" | "GetUserAttributeVerificationCode" => {
                Some(RateClass::Codes)
            }
            "GetTokensFromRefreshToken" | "IssueClientToken" => Some(RateClass::Token),
            _ => None,
        };
    }
    if path.ends_with("/oauth2/token") {
        return Some(RateClass::Token);
    }
    if !post {
        return None;
    }
    // The hosted pages' forms, `{issuer}/{page}`.
    match path.rsplit('/').next() {
        Some("login" | "challenge" | "confirm" | "confirmForgotPassword") => {
            Some(RateClass::SignIn)
        }
        Some("signup") => Some(RateClass::SignUp),
        Some("forgotPassword") => Some(RateClass::Codes),
        _ => None,
    }
}

/// What a budget is kept for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Address(RateClass, IpAddr),
    Client(RateClass, String),
}

/// The part of an address that one host controls.
fn host_part(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// The gateway's rate limiter: its budgets and the state of every key.
pub(crate) struct RateLimiter {
    limits: RateLimits,
    start: Instant,
    shards: Vec<Mutex<HashMap<Key, u64>>>,
}

impl RateLimiter {
    pub(crate) fn new(limits: RateLimits) -> RateLimiter {
        RateLimiter {
            limits,
            start: Instant::now(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    /// Whether any budget per address is set (else the layer passes everything).
    pub(crate) fn limits_addresses(&self) -> bool {
        self.limits.address.iter().any(Option::is_some)
    }

    /// Spend one token of `class` for the caller at `ip`; Err: how long until one is free.
    pub(crate) fn address(&self, class: RateClass, ip: IpAddr) -> Result<(), Duration> {
        match self.limits.address[class as usize] {
            Some(b) => self.spend(Key::Address(class, host_part(ip)), b),
            None => Ok(()),
        }
    }

    /// Spend one token of `class` for app client `client_id`.
    pub(crate) fn client(&self, class: RateClass, client_id: &str) -> Result<(), Duration> {
        match self.limits.client[class as usize] {
            Some(b) => self.spend(Key::Client(class, client_id.to_string()), b),
            None => Ok(()),
        }
    }

    fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    fn spend(&self, key: Key, b: Budget) -> Result<(), Duration> {
        let now = self.now_ns();
        let every = b.every.as_nanos().max(1) as u64;
        let window = every.saturating_mul(u64::from(b.burst.max(1)));
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        let mut shard = self.shards[(h.finish() as usize) % SHARDS]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        // The theoretical arrival time: when the bucket would be full again.
        let tat = shard.get(&key).copied().unwrap_or(now).max(now);
        let next = tat + every;
        if next - now > window {
            return Err(Duration::from_nanos(next - window - now));
        }
        if shard.len() >= SHARD_KEYS && !shard.contains_key(&key) {
            // Full buckets carry no state: drop them. If every key is busy (a flood from
            // more hosts than a shard holds), start the shard afresh: forgetting is the
            // only bound that stays O(1) per request, amortized.
            shard.retain(|_, t| *t > now);
            if shard.len() >= SHARD_KEYS {
                shard.clear();
            }
        }
        shard.insert(key, next);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_s: u64, burst: u32) -> RateLimiter {
        let mut l = RateLimits::default();
        let b = Some(Budget {
            every: Duration::from_nanos(1_000_000_000 / per_s),
            burst,
        });
        l.address[RateClass::SignIn as usize] = b;
        l.client[RateClass::SignIn as usize] = b;
        RateLimiter::new(l)
    }

    #[test]
    fn a_burst_then_the_rate() {
        let r = limiter(10, 5);
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        for i in 0..5 {
            assert!(r.address(RateClass::SignIn, ip).is_ok(), "burst {i}");
        }
        let wait = r
            .address(RateClass::SignIn, ip)
            .expect_err("over the burst");
        assert!(wait <= Duration::from_millis(100), "{wait:?}");
        assert!(wait > Duration::from_millis(50), "{wait:?}");
        // Other classes, addresses and clients have budgets of their own.
        assert!(r.address(RateClass::SignUp, ip).is_ok());
        assert!(r
            .address(RateClass::SignIn, "192.0.2.8".parse().unwrap())
            .is_ok());
        assert!(r.client(RateClass::SignIn, "c1").is_ok());
        std::thread::sleep(wait + Duration::from_millis(5));
        assert!(
            r.address(RateClass::SignIn, ip).is_ok(),
            "a token came back"
        );
        assert!(r.address(RateClass::SignIn, ip).is_err());
    }

    #[test]
    fn one_ipv6_host_is_its_slash_64() {
        let r = limiter(1, 2);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(r.address(RateClass::SignIn, a).is_ok());
        assert!(r.address(RateClass::SignIn, b).is_ok());
        assert!(r.address(RateClass::SignIn, a).is_err(), "same /64");
        assert!(r.address(RateClass::SignIn, other).is_ok());
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(host_part(mapped), v4);
    }

    #[test]
    fn the_maps_stay_bounded() {
        let r = limiter(1, 1);
        for i in 0..(SHARDS * SHARD_KEYS + 1000) as u32 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(i));
            let _ = r.address(RateClass::SignIn, ip);
        }
        let total: usize = r.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(total <= SHARDS * SHARD_KEYS, "{total}");
    }

    #[test]
    fn budgets_from_the_command_line() {
        let mut l = RateLimits::default();
        l.set("sign-in.address=10/s,burst=50").unwrap();
        l.set("codes.client=30/min").unwrap();
        l.set("token.address=3600/h").unwrap();
        assert_eq!(
            l.address[RateClass::SignIn as usize],
            Some(Budget {
                every: Duration::from_millis(100),
                burst: 50
            })
        );
        assert_eq!(
            l.client[RateClass::Codes as usize],
            Some(Budget {
                every: Duration::from_secs(2),
                burst: 30
            })
        );
        assert_eq!(
            l.address[RateClass::Token as usize].unwrap().every,
            Duration::from_secs(1)
        );
        for bad in [
            "sign-in=10/s",
            "login.address=10/s",
            "sign-in.user=10/s",
            "sign-in.address=0/s",
            "sign-in.address=10/day",
            "sign-in.address=10/s,burst=0",
            "sign-in.address=10/s,brust=5",
            "sign-in.address=ten/s",
        ] {
            assert!(l.set(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn classes_by_path() {
        assert_eq!(
            class_of("/signet.v1.UserPoolAuth/InitiateAuth", true),
            Some(RateClass::SignIn)
        );
        assert_eq!(
            class_of("/signet.v1.UserPoolAuth/SignUp", true),
            Some(RateClass::SignUp)
        );
        assert_eq!(
            class_of("/signet.v1.UserPoolAuth/ForgotPassword", true),
            Some(RateClass::Codes)
        );
        assert_eq!(
            class_of("/eu_abc/oauth2/token", true),
            Some(RateClass::Token)
        );
        assert_eq!(class_of("/signet.v1.UserPoolAuth/GetUser", true), None);
        assert_eq!(
            class_of("/signet.v1.UserPoolAdmin/AdminGetUser", true),
            None
        );
        assert_eq!(class_of("/healthz", true), None);
        assert_eq!(class_of("/eu_abc/login", true), Some(RateClass::SignIn));
        assert_eq!(class_of("/eu_abc/login", false), None);
        assert_eq!(class_of("/eu_abc/signup", true), Some(RateClass::SignUp));
        assert_eq!(
            class_of("/eu_abc/forgotPassword", true),
            Some(RateClass::Codes)
        );
    }
}
