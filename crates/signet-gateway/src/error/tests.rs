use super::*;
use tonic::Code;

#[test]
fn messages_are_escaped_and_capped() {
    assert_eq!(safe_message("plain"), "plain");
    assert_eq!(
        safe_message("a\r\nb\u{1b}[31m"),
        "a\\u{d}\\u{a}b\\u{1b}[31m"
    );
    assert_eq!(safe_message("x\u{202e}y"), "x\\u{202e}y");
    let exact = "é".repeat(MAX_MESSAGE_BYTES / 2);
    assert_eq!(
        safe_message(&exact),
        exact,
        "a message that fits is kept whole"
    );
    for long in [
        "x".repeat(200_000),
        "é".repeat(100_000),
        "\u{0}".repeat(100_000),
    ] {
        let m = safe_message(&long);
        assert!(m.len() <= MAX_MESSAGE_BYTES, "{}", m.len());
        assert!(m.ends_with('…'));
    }
    let status: Status =
        AppError::ResourceNotFound(format!("Pool {} x", "y".repeat(200_000))).into();
    assert!(status.message().len() <= MAX_MESSAGE_BYTES);
    assert!(status.details().len() < 2 * MAX_MESSAGE_BYTES);
}

/// One value of every `AppError` variant. `index` below is an exhaustive match, so a new
/// variant does not compile until it is numbered; the test then wants it here too.
fn every_error() -> Vec<AppError> {
    let m = || "m".to_string();
    vec![
        AppError::NotAuthorized(m()),
        AppError::UsernameExists,
        AppError::AliasExists(m()),
        AppError::CodeMismatch,
        AppError::ExpiredCode,
        AppError::InvalidPassword(m()),
        AppError::InvalidParameter(m()),
        AppError::UserNotConfirmed,
        AppError::UserNotFound,
        AppError::PasswordResetRequired,
        AppError::LimitExceeded(m()),
        AppError::TooManyRequests(m()),
        AppError::ResourceNotFound(m()),
        AppError::GroupExists,
        AppError::InvalidState(m()),
        AppError::Unavailable(m()),
        AppError::Internal(m()),
        AppError::Conflict(m()),
        AppError::InvalidIdentityToken(m()),
        AppError::ExpiredToken(m()),
        AppError::AccessDenied(m()),
        AppError::MalformedPolicy(m()),
        AppError::PackedPolicyTooLarge(m()),
        AppError::InvalidIdentityPoolConfiguration(m()),
        AppError::ExternalService(m()),
        AppError::EntityAlreadyExists(m()),
        AppError::NoSuchEntity(m()),
        AppError::DeleteConflict(m()),
        AppError::HookFailed(m()),
        AppError::Timeout(m()),
        AppError::TooLarge(m()),
        AppError::SoftwareTokenMfaNotFound(m()),
        AppError::EnableSoftwareTokenMfa(m()),
        AppError::UserLambdaValidation(m()),
        AppError::InvalidLambdaResponse(m()),
        AppError::DuplicateProvider(m()),
    ]
}

fn index(e: &AppError) -> usize {
    use AppError as E;
    match e {
        E::NotAuthorized(_) => 0,
        E::UsernameExists => 1,
        E::AliasExists(_) => 2,
        E::CodeMismatch => 3,
        E::ExpiredCode => 4,
        E::InvalidPassword(_) => 5,
        E::InvalidParameter(_) => 6,
        E::UserNotConfirmed => 7,
        E::UserNotFound => 8,
        E::PasswordResetRequired => 9,
        E::LimitExceeded(_) => 10,
        E::TooManyRequests(_) => 11,
        E::ResourceNotFound(_) => 12,
        E::GroupExists => 13,
        E::InvalidState(_) => 14,
        E::Unavailable(_) => 15,
        E::Internal(_) => 16,
        E::Conflict(_) => 17,
        E::InvalidIdentityToken(_) => 18,
        E::ExpiredToken(_) => 19,
        E::AccessDenied(_) => 20,
        E::MalformedPolicy(_) => 21,
        E::PackedPolicyTooLarge(_) => 22,
        E::InvalidIdentityPoolConfiguration(_) => 23,
        E::ExternalService(_) => 24,
        E::EntityAlreadyExists(_) => 25,
        E::NoSuchEntity(_) => 26,
        E::DeleteConflict(_) => 27,
        E::HookFailed(_) => 28,
        E::Timeout(_) => 29,
        E::TooLarge(_) => 30,
        E::SoftwareTokenMfaNotFound(_) => 31,
        E::EnableSoftwareTokenMfa(_) => 32,
        E::UserLambdaValidation(_) => 33,
        E::InvalidLambdaResponse(_) => 34,
        E::DuplicateProvider(_) => 35,
    }
}

/// The whole table as text: one line per error, then the OAuth answers.
fn render() -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for e in every_error() {
        let variant = format!("{e:?}");
        let variant = variant.split('(').next().unwrap();
        let r = e.row();
        let _ = writeln!(
            out,
            "{variant:34} {:44} {:20} {}",
            r.name,
            format!("{:?}", r.grpc),
            r.http.as_u16()
        );
    }
    out.push('\n');
    let m = || "m".to_string();
    for e in [
        OAuthError::InvalidRequest(m()),
        OAuthError::InvalidClient(m()),
        OAuthError::InvalidGrant(m()),
        OAuthError::UnauthorizedClient(m()),
        OAuthError::UnsupportedGrantType(m()),
        OAuthError::InvalidScope(m()),
        OAuthError::InvalidToken(m()),
    ]
    .into_iter()
    .chain(every_error().into_iter().map(OAuthError::Server))
    {
        let variant = format!("{e:?}");
        let variant: String = variant.chars().filter(|c| *c != '"').collect();
        let variant = variant.replace("(m)", "");
        let (code, status) = e.answer();
        let grpc = AppError::from(e.clone());
        let _ = writeln!(
            out,
            "{variant:46} {code:24} {} grpc:{}",
            status.as_u16(),
            grpc.name()
        );
    }
    out
}

#[test]
fn the_table_is_complete_and_reviewed() {
    let all = every_error();
    let mut seen: Vec<usize> = all.iter().map(index).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(
        seen,
        (0..all.len()).collect::<Vec<_>>(),
        "one of each variant"
    );

    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/error/table.golden");
    let text = render();
    if std::env::var_os("SIGNET_BLESS").is_some() {
        std::fs::write(&golden, &text).unwrap();
    }
    let want = std::fs::read_to_string(&golden).unwrap_or_default();
    assert_eq!(
        text, want,
        "the error table changed; review src/error/table.golden (SIGNET_BLESS=1 rewrites it)"
    );
}

#[test]
fn surfaces_agree_on_whose_fault_it_is() {
    for e in every_error() {
        let server_side = matches!(
            e.code(),
            Code::Internal | Code::Unavailable | Code::DeadlineExceeded
        );
        assert_eq!(
            e.http_status().is_server_error(),
            server_side,
            "{e:?}: HTTP {} vs gRPC {:?}",
            e.http_status(),
            e.code()
        );
        assert!(e.name().ends_with("Exception"), "{e:?}");
        let status: Status = e.clone().into();
        assert_eq!(status.code(), e.code());
        assert_eq!(exception_name(&status).as_deref(), Some(e.name()));
        assert_eq!(e.http_body()["error"], e.name());
    }
}
