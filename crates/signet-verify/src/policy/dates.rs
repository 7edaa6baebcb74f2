//! Dates for the `Date…` condition operators, in policies and in request contexts alike.
//!
//! Accepted, as IAM documents ("W3C implementation of the ISO 8601 date formats", the
//! profile of <https://www.w3.org/TR/NOTE-datetime>, or epoch time):
//!
//! | form                          | example                        |
//! |-------------------------------|--------------------------------|
//! | `YYYY`                        | `2024`                         |
//! | `YYYY-MM`                     | `2024-02`                      |
//! | `YYYY-MM-DD`                  | `2024-02-29`                   |
//! | `YYYY-MM-DDThh:mmTZD`         | `2024-02-29T12:30+01:00`       |
//! | `YYYY-MM-DDThh:mm:ssTZD`      | `2024-02-29T12:30:15Z`         |
//! | `YYYY-MM-DDThh:mm:ss.sTZD`    | `2024-02-29T12:30:15.25-05:00` |
//! | epoch seconds                 | `1709208000`, `-86400`         |
//!
//! `TZD` is `Z` or `+hh:mm` / `-hh:mm`; a time needs one. A missing month or day is the
//! first, a missing time midnight UTC, so `2024-01-01` equals `2024-01-01T00:00:00Z`.
//! Fractions of a second count to the nanosecond (further digits are ignored). A bare run
//! of exactly four digits is a year (`2024`), any other run of digits (with an optional `-`)
//! epoch seconds. Anything else is not a date: refused in a policy, and a context value that
//! is not a date matches no `Date…` condition, `DateNotEquals` included.

/// Nanoseconds in a second.
const NANOS: i128 = 1_000_000_000;

/// A date as nanoseconds since 1970-01-01T00:00:00Z, or `None` if `s` is not a date.
pub(super) fn parse_date(s: &str) -> Option<i128> {
    match epoch_seconds(s) {
        Some(secs) => Some(i128::from(secs) * NANOS),
        None => w3c(s),
    }
}

/// Epoch seconds: an optional `-` and up to 18 digits, but not a bare four-digit year.
fn epoch_seconds(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    if !all_digits || digits.len() > 18 || (s.len() == 4 && digits.len() == 4) {
        return None;
    }
    s.parse().ok()
}

/// A reader over the bytes of a W3C date.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }

    /// Consume `c` if it is next.
    fn eat(&mut self, c: u8) -> bool {
        let next = self.bytes.get(self.at) == Some(&c);
        if next {
            self.at += 1;
        }
        next
    }

    /// Exactly `n` digits, as a number.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let part = self.bytes.get(self.at..self.at + n)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.at += n;
        Some(part.iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0')))
    }

    /// One or more digits of a fraction of a second, as nanoseconds.
    fn fraction(&mut self) -> Option<u32> {
        let start = self.at;
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        let digits = &self.bytes[start..self.at];
        if digits.is_empty() {
            return None;
        }
        let kept = digits.iter().take(9).chain(std::iter::repeat(&b'0'));
        Some(
            kept.take(9)
                .fold(0, |acc, d| acc * 10 + u32::from(d - b'0')),
        )
    }

    /// `Z` or `±hh:mm`, as seconds east of UTC.
    fn zone(&mut self) -> Option<i64> {
        if self.eat(b'Z') {
            return Some(0);
        }
        let sign = if self.eat(b'+') {
            1
        } else if self.eat(b'-') {
            -1
        } else {
            return None;
        };
        let hours = self.digits(2).filter(|h| *h <= 23)?;
        if !self.eat(b':') {
            return None;
        }
        let minutes = self.digits(2).filter(|m| *m <= 59)?;
        Some(sign * i64::from(hours * 3600 + minutes * 60))
    }
}

/// The W3C profile of ISO 8601.
fn w3c(s: &str) -> Option<i128> {
    let mut c = Cursor {
        bytes: s.as_bytes(),
        at: 0,
    };
    let year = i64::from(c.digits(4)?);
    let (mut month, mut day) = (1, 1);
    let (mut seconds, mut nanos, mut zone) = (0u32, 0u32, 0i64);
    if !c.done() {
        if !c.eat(b'-') {
            return None;
        }
        month = c.digits(2).filter(|m| (1..=12).contains(m))?;
    }
    if !c.done() {
        if !c.eat(b'-') {
            return None;
        }
        day = c.digits(2)?;
        if day == 0 || day > crate::sigv4::days_in_month(year, month) {
            return None;
        }
    }
    if !c.done() {
        if !c.eat(b'T') {
            return None;
        }
        let hour = c.digits(2).filter(|h| *h <= 23)?;
        if !c.eat(b':') {
            return None;
        }
        let minute = c.digits(2).filter(|m| *m <= 59)?;
        seconds = hour * 3600 + minute * 60;
        if c.eat(b':') {
            seconds += c.digits(2).filter(|s| *s <= 59)?;
            if c.eat(b'.') {
                nanos = c.fraction()?;
            }
        }
        zone = c.zone()?;
        if !c.done() {
            return None;
        }
    }
    let days = crate::sigv4::days_from_civil(year, month, day);
    let utc = days * 86_400 + i64::from(seconds) - zone;
    Some(i128::from(utc) * NANOS + i128::from(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(utc: &str) -> i128 {
        parse_date(utc).unwrap_or_else(|| panic!("{utc} is a date"))
    }

    #[test]
    fn the_w3c_profile_and_epoch_seconds() {
        let noon = 1_709_208_000 * NANOS; // 2024-02-29T12:00:00Z
        let cases = [
            ("1709208000", noon),
            ("2024-02-29T12:00:00Z", noon),
            ("2024-02-29T12:00Z", noon),
            ("2024-02-29T13:00+01:00", noon),
            ("2024-02-29T07:30-04:30", noon),
            ("2024-02-29T12:00:00.0Z", noon),
            ("2024-02-29T12:00:00.5Z", noon + NANOS / 2),
            ("2024-02-29T12:00:00.123456789Z", noon + 123_456_789),
            ("2024-02-29T12:00:00.1234567891Z", noon + 123_456_789),
            ("2024-02-29T11:59:59.999+00:00", noon - NANOS / 1000),
            ("2024-02-29", noon - 12 * 3600 * NANOS),
            ("2024-02", at("2024-02-01T00:00:00Z")),
            ("2024", at("2024-01-01T00:00:00Z")),
            ("2024-01-01", at("2024-01-01T00:00:00Z")),
            ("0", 0),
            ("-86400", -86_400 * NANOS),
            ("1970-01-01T00:00:00Z", 0),
            ("1969-12-31", -86_400 * NANOS),
            ("20240", 20_240 * NANOS),
            ("-2024", -2024 * NANOS),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_date(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn what_is_not_a_date() {
        for text in [
            "",
            "-",
            "today",
            "2024-2-29",
            "2024-02-30",
            "2023-02-29",
            "2024-13",
            "2024-00",
            "2024-02-29T",
            "2024-02-29T12",
            "2024-02-29T12:00",
            "2024-02-29T12:00:00",
            "2024-02-29T24:00Z",
            "2024-02-29T12:60Z",
            "2024-02-29T12:00:60Z",
            "2024-02-29T12:00:00.Z",
            "2024-02-29T12:00:00,5Z",
            "2024-02-29T12:00:00+0100",
            "2024-02-29T12:00:00+24:00",
            "2024-02-29T12:00:00z",
            "2024-02-29t12:00:00Z",
            "2024-02-29 12:00:00Z",
            "2024-02-29T12:00:00ZZ",
            "2024-02-29Z",
            "+2024",
            "1e9",
            "1709208000.5",
            "1234567890123456789",
            " 2024",
        ] {
            assert_eq!(parse_date(text), None, "{text:?}");
        }
    }
}
