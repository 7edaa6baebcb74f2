//! Value parsers shared by several argument groups.

use std::time::Duration;

/// Parse `name=value` (for `--attr`, `--login`, `--context`, …).
pub fn parse_attr(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("expected name=value, got {s:?}")),
    }
}

/// `10s`, `1.5s`, `500ms`, `2m`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, scale) = if let Some(v) = s.strip_suffix("ms") {
        (v, 0.001)
    } else if let Some(v) = s.strip_suffix('s') {
        (v, 1.0)
    } else if let Some(v) = s.strip_suffix('m') {
        (v, 60.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("expected a duration like 10s, 500ms or 2m, got {s:?}"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("a duration must be zero or more, got {s:?}"));
    }
    Ok(Duration::from_secs_f64(v * scale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attrs_split_on_the_first_equals_sign() {
        assert_eq!(
            parse_attr("custom:note=a=b").unwrap(),
            ("custom:note".to_string(), "a=b".to_string())
        );
        assert_eq!(
            parse_attr("email=").unwrap(),
            ("email".into(), String::new())
        );
        assert!(parse_attr("email").is_err());
        assert!(parse_attr("=x").is_err());
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
