//! The hosted pages' HTML: server-rendered, no JavaScript, every field labelled, errors
//! announced (`role="alert"`), usable by keyboard alone. Everything that came from a request
//! or a record is escaped here, once, by [`esc`].

use std::fmt::Write;

/// HTML-escape text for an element or a quoted attribute.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What every page of one authorization request shares.
pub(crate) struct Frame<'a> {
    /// The pool's name, as the heading.
    pub pool_name: &'a str,
    /// The authorization request's query, carried by every form and link.
    pub query: &'a str,
    /// The `_csrf` field of this browser.
    pub csrf: &'a str,
    /// The client's identity providers other than the pool's own users: (name, the
    /// authorize URL that goes to it, relative to the pages).
    pub providers: Vec<(String, String)>,
    /// Whether the pool's own users sign in here (COGNITO is a provider of the client).
    pub native: bool,
    /// Whether users may sign themselves up (the pool does not reserve that to admins).
    pub sign_up: bool,
    /// The pool's look (logo, colours), if it set one.
    pub ui: Option<&'a signet_core::UiCustomization>,
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1d1d1f;margin:0}\
main{max-width:24rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}\
h1{font-size:1.4rem;margin-top:0}label{display:block;margin-top:1rem;font-weight:600}\
input[type=text],input[type=password],input[type=email]{width:100%;box-sizing:border-box;padding:.6rem;margin-top:.3rem;border:1px solid #888;border-radius:4px;font-size:1rem}\
button{margin-top:1.5rem;width:100%;padding:.7rem;border:0;border-radius:4px;background:#1f5fbf;color:#fff;font-size:1rem;cursor:pointer}\
button,input{font:inherit}\
button:focus,input:focus,a:focus{outline:3px solid #1d1d1f;outline-offset:2px}\
.alert{background:#fde8e8;border:1px solid #c53030;color:#742a2a;padding:.7rem;border-radius:4px}\
.note{background:#e8f4fd;border:1px solid #2b6cb0;padding:.7rem;border-radius:4px}\
nav{margin-top:1.5rem;display:flex;justify-content:space-between}\
a.idp{display:block;margin-top:.8rem;padding:.7rem;border:1px solid #1f5fbf;border-radius:4px;text-align:center;color:#1f5fbf;text-decoration:none;font-weight:600}\
.or{margin:1.5rem 0 0;text-align:center;color:#555}";

/// A whole page around `body`.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>\n",
        esc(title)
    )
}

/// A page of a pool's sign-in, in the pool's look: its logo above the form, its colours
/// (checked when set: an https URL, `#rrggbb`; escaped here all the same).
fn styled(title: &str, body: &str, f: &Frame<'_>) -> String {
    let Some(ui) = f.ui else {
        return page(title, body);
    };
    let mut extra = String::new();
    let colour = |c: &Option<String>| {
        c.as_deref()
            .filter(|c| {
                c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|h| h.is_ascii_hexdigit())
            })
            .map(str::to_string)
    };
    if let Some(c) = colour(&ui.primary_color) {
        let _ = write!(
            extra,
            "button{{background:{c}}}a,a.idp{{color:{c};border-color:{c}}}"
        );
    }
    if let Some(c) = colour(&ui.background_color) {
        let _ = write!(extra, "body{{background:{c}}}");
    }
    let logo = ui
        .logo_url
        .as_deref()
        .map(|u| {
            format!(
                "<img class=\"logo\" src=\"{}\" alt=\"{}\">",
                esc(u),
                esc(f.pool_name)
            )
        })
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{}</title><style>{STYLE}img.logo{{display:block;max-width:100%;max-height:4rem;margin:0 auto 1rem}}{extra}</style></head>\
<body><main>{logo}{body}</main></body></html>\n",
        esc(title)
    )
}

/// A page's title, saying so first when the page shows an error (screen readers announce
/// the title).
fn titled(title: &str, error: Option<&str>) -> String {
    match error {
        Some(_) => format!("Error: {title}"),
        None => title.to_string(),
    }
}

/// How an attribute is labelled on the sign-up page.
fn attribute_label(name: &str) -> String {
    let known = match name {
        "email" => Some("Email"),
        "phone_number" => Some("Phone number"),
        "name" => Some("Name"),
        "given_name" => Some("Given name"),
        "family_name" => Some("Family name"),
        "preferred_username" => Some("Preferred username"),
        "birthdate" => Some("Date of birth"),
        _ => None,
    };
    if let Some(k) = known {
        return k.to_string();
    }
    let bare = name
        .strip_prefix("custom:")
        .unwrap_or(name)
        .replace('_', " ");
    let mut c = bare.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => bare,
    }
}

fn alert(error: Option<&str>) -> String {
    error
        .map(|e| {
            format!(
                "<p class=\"alert\" role=\"alert\" id=\"error\">{}</p>",
                esc(e)
            )
        })
        .unwrap_or_default()
}

fn note(text: Option<&str>) -> String {
    text.map(|t| format!("<p class=\"note\" role=\"status\">{}</p>", esc(t)))
        .unwrap_or_default()
}

/// An input with its label. `kind`: text, password, email; `auto`: its autocomplete token.
fn field(name: &str, label: &str, kind: &str, value: &str, auto: &str) -> String {
    format!(
        "<label for=\"{name}\">{}</label>\
<input id=\"{name}\" name=\"{name}\" type=\"{kind}\" value=\"{}\" autocomplete=\"{auto}\" required>",
        esc(label),
        esc(value)
    )
}

fn form(f: &Frame<'_>, action: &str, inner: &str, button: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{action}?{}\">\
<input type=\"hidden\" name=\"_csrf\" value=\"{}\">{inner}<button type=\"submit\">{}</button></form>",
        esc(f.query),
        esc(f.csrf),
        esc(button)
    )
}

/// The sign-in page.
pub(crate) fn sign_in(
    f: &Frame<'_>,
    username: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> String {
    let mut buttons = String::new();
    for (name, href) in &f.providers {
        let _ = write!(
            buttons,
            "<a class=\"idp\" href=\"{}\">Continue with {}</a>",
            esc(href),
            esc(name)
        );
    }
    let native = if f.native {
        let inner = field("username", "Username", "text", username, "username")
            + &field("password", "Password", "password", "", "current-password");
        let or = if f.providers.is_empty() {
            ""
        } else {
            "<p class=\"or\">or</p>"
        };
        let sign_up = if f.sign_up {
            format!("<a href=\"signup?{}\">Sign up</a>", esc(f.query))
        } else {
            String::new()
        };
        format!(
            "{or}{}<nav><a href=\"forgotPassword?{q}\">Forgot your password?</a>{sign_up}</nav>",
            form(f, "login", &inner, "Sign in"),
            q = esc(f.query)
        )
    } else {
        String::new()
    };
    let body = format!(
        "<h1>Sign in to {}</h1>{}{}{buttons}{native}",
        esc(f.pool_name),
        alert(error),
        note(notice),
    );
    styled(&titled("Sign in", error), &body, f)
}

/// A challenge of the sign-in: its name and session travel in hidden fields.
pub(crate) fn challenge(
    f: &Frame<'_>,
    name: &str,
    session: &str,
    options: &[String],
    prompt: &str,
    error: Option<&str>,
) -> String {
    let mut inner = format!(
        "<input type=\"hidden\" name=\"challenge\" value=\"{}\">\
<input type=\"hidden\" name=\"session\" value=\"{}\">",
        esc(name),
        esc(session)
    );
    let heading;
    match name {
        "NEW_PASSWORD_REQUIRED" => {
            heading = "Choose a new password";
            inner += &field("answer", "New password", "password", "", "new-password");
        }
        "SELECT_MFA_TYPE" => {
            heading = "Choose how to confirm it is you";
            inner += "<fieldset><legend>Second factor</legend>";
            for (i, o) in options.iter().enumerate() {
                let checked = if i == 0 { " checked" } else { "" };
                let _ = write!(
                    inner,
                    "<label><input type=\"radio\" name=\"answer\" value=\"{0}\"{checked}> {0}</label>",
                    esc(o)
                );
            }
            inner += "</fieldset>";
        }
        _ => {
            heading = "Enter your code";
            inner += &field("answer", "Code", "text", "", "one-time-code");
        }
    }
    let body = format!(
        "<h1>{heading}</h1>{}{}{}",
        alert(error),
        note(Some(prompt).filter(|p| !p.is_empty())),
        form(f, "challenge", &inner, "Continue")
    );
    styled(&titled(heading, error), &body, f)
}

/// MFA_SETUP: the new authenticator key (grouped by four for typing; also carried back
/// in a hidden field, for display only, so a mistyped code shows the key again) and the
/// first code the app makes.
pub(crate) fn mfa_setup(f: &Frame<'_>, session: &str, key: &str, error: Option<&str>) -> String {
    let heading = "Set up an authenticator app";
    let grouped: Vec<String> = key
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let inner = format!(
        "<input type=\"hidden\" name=\"challenge\" value=\"MFA_SETUP\">\
<input type=\"hidden\" name=\"session\" value=\"{}\">\
<input type=\"hidden\" name=\"key\" value=\"{}\">{}",
        esc(session),
        esc(key),
        field("answer", "Code from the app", "text", "", "one-time-code")
    );
    let body = format!(
        "<h1>{heading}</h1>{}<p>This account needs a second factor. Add this key to an \
authenticator app (time-based, six digits):</p><p><code id=\"totp-key\">{}</code></p>{}",
        alert(error),
        esc(&grouped.join(" ")),
        form(f, "challenge", &inner, "Continue")
    );
    styled(&titled(heading, error), &body, f)
}

/// The sign-up page: username, password, and the attributes the pool requires.
pub(crate) fn sign_up(
    f: &Frame<'_>,
    attributes: &[(String, String)],
    username: &str,
    error: Option<&str>,
) -> String {
    let mut inner = field("username", "Username", "text", username, "username");
    for (name, value) in attributes {
        let (kind, auto) = match name.as_str() {
            "email" => ("email", "email"),
            "phone_number" => ("text", "tel"),
            "name" => ("text", "name"),
            _ => ("text", "off"),
        };
        inner += &field(
            &format!("attr:{name}"),
            &attribute_label(name),
            kind,
            value,
            auto,
        );
    }
    inner += &field("password", "Password", "password", "", "new-password");
    let body = format!(
        "<h1>Sign up for {}</h1>{}{}<nav><a href=\"login?{}\">Already have an account? Sign in</a></nav>",
        esc(f.pool_name),
        alert(error),
        form(f, "signup", &inner, "Sign up"),
        esc(f.query)
    );
    styled(&titled("Sign up", error), &body, f)
}

/// A page of one form: heading, the alert and notice, the form, and a link back to the
/// sign-in page when `back`.
fn form_page(
    f: &Frame<'_>,
    heading: &str,
    (action, inner, button): (&str, &str, &str),
    notice: Option<&str>,
    error: Option<&str>,
    back: bool,
) -> String {
    let nav = if back {
        format!(
            "<nav><a href=\"login?{}\">Back to sign in</a></nav>",
            esc(f.query)
        )
    } else {
        String::new()
    };
    let body = format!(
        "<h1>{}</h1>{}{}{}{nav}",
        esc(heading),
        alert(error),
        note(notice),
        form(f, action, inner, button)
    );
    styled(&titled(heading, error), &body, f)
}

/// Enter the confirmation code of a sign-up.
pub(crate) fn confirm(
    f: &Frame<'_>,
    username: &str,
    notice: Option<&str>,
    error: Option<&str>,
) -> String {
    let inner = field("username", "Username", "text", username, "username")
        + &field("code", "Confirmation code", "text", "", "one-time-code");
    let form = ("confirm", inner.as_str(), "Confirm");
    form_page(f, "Confirm your account", form, notice, error, false)
}

/// Ask for a reset code.
pub(crate) fn forgot(f: &Frame<'_>, error: Option<&str>) -> String {
    let inner = field("username", "Username", "text", "", "username");
    let form = ("forgotPassword", inner.as_str(), "Send a code");
    form_page(f, "Reset your password", form, None, error, true)
}

/// Enter the reset code and a new password.
pub(crate) fn confirm_forgot(
    f: &Frame<'_>,
    username: &str,
    notice: Option<&str>,
    error: Option<&str>,
) -> String {
    let inner = field("username", "Username", "text", username, "username")
        + &field("code", "Code", "text", "", "one-time-code")
        + &field("password", "New password", "password", "", "new-password");
    let form = ("confirmForgotPassword", inner.as_str(), "Change password");
    form_page(f, "Choose a new password", form, notice, error, false)
}

/// A request the pages can not serve (a bad client or redirect URI, a refused form): shown
/// to the user, never redirected.
pub(crate) fn error(message: &str) -> String {
    page(
        "Sign-in error",
        &format!(
            "<h1>Something is wrong with this sign-in link</h1>{}",
            alert(Some(message))
        ),
    )
}

/// A form post refused (it did not come from the page, or the page was too old): a way
/// back to the sign-in page of the same request.
pub(crate) fn form_refused(query: &str) -> String {
    page(
        "Error: form not accepted",
        &format!(
            "<h1>This form could not be accepted</h1>{}<nav><a href=\"login?{}\">Back to sign in</a></nav>",
            alert(Some(
                "It did not come from this sign-in page, or the page was open too long. \
                 Go back to the sign-in page and try again."
            )),
            esc(query)
        ),
    )
}

/// After `/logout` with nowhere to go.
pub(crate) fn signed_out() -> String {
    page(
        "Signed out",
        "<h1>You are signed out</h1><p role=\"status\">You may close this window.</p>",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_came_from_outside_is_escaped_everywhere() {
        let f = Frame {
            pool_name: "<script>x</script>",
            query: "a=\"><img src=x>",
            csrf: "c'\"",
            providers: vec![("<b>Corp".into(), "oauth2/authorize?a=\"<".into())],
            native: true,
            sign_up: true,
            ui: None,
        };
        let html = sign_in(&f, "\"><script>", Some("<b>bad</b>"), None);
        assert!(!html.contains("<script>"));
        assert!(!html.contains("<img"));
        assert!(!html.contains("<b>bad"));
        assert!(!html.contains("<b>Corp"));
        assert!(html.contains("Continue with &lt;b&gt;Corp"));
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(html.contains("role=\"alert\""));
        assert!(html.contains("<label for=\"password\">"));
        let c = challenge(&f, "SELECT_MFA_TYPE", "s\"", &["<x>".into()], "", None);
        assert!(!c.contains("<x>"));
        assert!(!error("<i>").contains("<i>"));
        // A pool that reserves sign-up to admins offers no link to it.
        assert!(html.contains("href=\"signup?"));
        let admins_only = Frame {
            sign_up: false,
            ..f
        };
        assert!(!sign_in(&admins_only, "", None, None).contains("signup?"));
    }
}
