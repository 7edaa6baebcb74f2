//! Values callers send as strings — auth flows, challenge names, message actions, OAuth
//! grant types — parsed once, at the API boundary, into enums. An unknown value is a clear
//! InvalidParameterException (or OAuth error) there, never a silent default further in;
//! use cases only ever see the enums.

use crate::AppError;

/// An enum named on the wire: its names, in one table (parse and print both read it).
pub(crate) trait WireName: Sized + Copy + PartialEq + 'static {
    /// Every value with its wire name.
    const NAMES: &'static [(Self, &'static str)];

    /// The value named `s`, if any.
    fn from_wire(s: &str) -> Option<Self> {
        Self::NAMES.iter().find(|(_, n)| *n == s).map(|(v, _)| *v)
    }

    /// The wire name.
    fn wire(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(v, _)| *v == self)
            .map_or("", |(_, n)| *n)
    }
}

/// `AuthFlow` of InitiateAuth / AdminInitiateAuth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitiateFlow {
    /// USER_PASSWORD_AUTH (InitiateAuth).
    UserPassword,
    /// ADMIN_USER_PASSWORD_AUTH (AdminInitiateAuth).
    AdminUserPassword,
    /// ADMIN_NO_SRP_AUTH: Cognito's older name of ADMIN_USER_PASSWORD_AUTH.
    AdminNoSrp,
    /// REFRESH_TOKEN_AUTH.
    RefreshToken,
    /// REFRESH_TOKEN: Cognito's older name of REFRESH_TOKEN_AUTH.
    RefreshTokenLegacy,
    /// USER_SRP_AUTH: the password proven by SRP-6a, never sent.
    UserSrp,
    /// CUSTOM_AUTH: challenges defined and checked by the pool's triggers.
    Custom,
}

impl WireName for InitiateFlow {
    const NAMES: &'static [(Self, &'static str)] = &[
        (Self::UserPassword, "USER_PASSWORD_AUTH"),
        (Self::AdminUserPassword, "ADMIN_USER_PASSWORD_AUTH"),
        (Self::AdminNoSrp, "ADMIN_NO_SRP_AUTH"),
        (Self::RefreshToken, "REFRESH_TOKEN_AUTH"),
        (Self::RefreshTokenLegacy, "REFRESH_TOKEN"),
        (Self::UserSrp, "USER_SRP_AUTH"),
        (Self::Custom, "CUSTOM_AUTH"),
    ];
}

impl InitiateFlow {
    /// Parse the `AuthFlow` parameter.
    pub fn parse(s: &str) -> Result<Self, AppError> {
        Self::from_wire(s).ok_or_else(|| AppError::invalid(format!("unsupported auth flow {s}")))
    }
}

/// `ChallengeName` of RespondToAuthChallenge (and the challenge a sign-in answers with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    /// A user created by an administrator sets a password of their own.
    NewPasswordRequired,
    /// A code from the user's authenticator app (TOTP).
    SoftwareTokenMfa,
    /// A code sent by SMS to the user's verified phone number.
    SmsMfa,
    /// A code sent by email to the user's verified email address.
    EmailOtp,
    /// The user has more than one factor turned on and none preferred: pick one
    /// (`ANSWER`: SMS_MFA, SOFTWARE_TOKEN_MFA or EMAIL_OTP), then answer its challenge.
    SelectMfaType,
    /// The pool requires MFA and the user has no factor: set an authenticator up
    /// (AssociateSoftwareToken, VerifySoftwareToken with the session), then answer.
    MfaSetup,
    /// USER_SRP_AUTH's proof of the password.
    PasswordVerifier,
    /// CUSTOM_AUTH's challenge, created and checked by the pool's triggers.
    CustomChallenge,
    /// A remembered device starts proving its secret (SRP_A) in place of the second factor.
    DeviceSrpAuth,
    /// The device's SRP proof.
    DevicePasswordVerifier,
}

impl WireName for Challenge {
    const NAMES: &'static [(Self, &'static str)] = &[
        (Self::NewPasswordRequired, "NEW_PASSWORD_REQUIRED"),
        (Self::SoftwareTokenMfa, "SOFTWARE_TOKEN_MFA"),
        (Self::SmsMfa, "SMS_MFA"),
        (Self::EmailOtp, "EMAIL_OTP"),
        (Self::SelectMfaType, "SELECT_MFA_TYPE"),
        (Self::MfaSetup, "MFA_SETUP"),
        (Self::PasswordVerifier, "PASSWORD_VERIFIER"),
        (Self::CustomChallenge, "CUSTOM_CHALLENGE"),
        (Self::DeviceSrpAuth, "DEVICE_SRP_AUTH"),
        (Self::DevicePasswordVerifier, "DEVICE_PASSWORD_VERIFIER"),
    ];
}

impl Challenge {
    /// Parse the `ChallengeName` parameter.
    pub fn parse(s: &str) -> Result<Self, AppError> {
        Self::from_wire(s).ok_or_else(|| AppError::invalid(format!("unsupported challenge {s}")))
    }

    /// The wire name.
    pub fn name(self) -> &'static str {
        self.wire()
    }
}

/// `MessageAction` of AdminCreateUser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageAction {
    /// Absent: send the invitation.
    Send,
    /// SUPPRESS: send nothing.
    Suppress,
}

impl WireName for MessageAction {
    const NAMES: &'static [(Self, &'static str)] =
        &[(Self::Send, ""), (Self::Suppress, "SUPPRESS")];
}

impl MessageAction {
    /// Parse the `MessageAction` parameter. RESEND (re-invite an existing user) is
    /// Cognito's too, but Signet does not do it: refused, rather than creating instead.
    pub fn parse(s: &str) -> Result<Self, AppError> {
        Self::from_wire(s).ok_or_else(|| {
            AppError::invalid(format!(
                "MessageAction {s} is not supported (leave it empty, or SUPPRESS)"
            ))
        })
    }
}

/// `grant_type` of the OAuth token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    /// client_credentials (RFC 6749 §4.4).
    ClientCredentials,
    /// refresh_token (RFC 6749 §6).
    RefreshToken,
    /// authorization_code (RFC 6749 §4.1.3), from the hosted sign-in.
    AuthorizationCode,
}

impl WireName for GrantType {
    const NAMES: &'static [(Self, &'static str)] = &[
        (Self::ClientCredentials, "client_credentials"),
        (Self::RefreshToken, "refresh_token"),
        (Self::AuthorizationCode, "authorization_code"),
    ];
}

impl GrantType {
    /// Every grant type the token endpoint takes (for discovery documents).
    pub fn supported() -> Vec<&'static str> {
        Self::NAMES.iter().map(|(_, n)| *n).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T: WireName + std::fmt::Debug>() {
        for (v, n) in T::NAMES {
            assert_eq!(T::from_wire(n), Some(*v));
            assert_eq!(v.wire(), *n);
        }
    }

    #[test]
    fn names_round_trip_and_unknowns_are_refused() {
        round_trips::<InitiateFlow>();
        round_trips::<Challenge>();
        round_trips::<MessageAction>();
        round_trips::<GrantType>();
        for bad in [
            "user_srp_auth",
            "user_password_auth",
            "",
            "custom_auth",
            "USER_AUTH",
        ] {
            let e = InitiateFlow::parse(bad).expect_err(bad);
            assert_eq!(e.name(), "InvalidParameterException");
        }
        assert_eq!(
            Challenge::parse("DEVICE_SRP_AUTH_X")
                .unwrap_err()
                .to_string(),
            "unsupported challenge DEVICE_SRP_AUTH_X"
        );
        assert_eq!(MessageAction::parse("").unwrap(), MessageAction::Send);
        assert!(MessageAction::parse("RESEND").is_err());
        assert!(MessageAction::parse("suppress").is_err());
        assert_eq!(GrantType::from_wire("password"), None);
    }
}
