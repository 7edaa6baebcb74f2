//! Parse JSON into a `serde_json` value, refusing a repeated key at any depth, in one pass
//! (serde_json alone would silently keep the last of two `sub`s).

use crate::VerifyError;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// A value whose objects have no repeated key.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

const DUPLICATE: &str = "duplicate key";

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            let Strict(v) = map.next_value()?;
            if out.insert(k, v).is_some() {
                return Err(de::Error::custom(DUPLICATE));
            }
        }
        Ok(Strict(Value::Object(out)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Strict(Value::Array(out)))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Strict, E> {
        Ok(Strict(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Strict, E> {
        Ok(Strict(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Strict, E> {
        Ok(Strict(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Strict, E> {
        Ok(Strict(
            serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
        ))
    }
    fn visit_str<E>(self, v: &str) -> Result<Strict, E> {
        Ok(Strict(Value::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Strict, E> {
        Ok(Strict(Value::String(v)))
    }
    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }
}

/// The JSON object `json`: `Err(DuplicateClaim)` if it repeats a key at any depth,
/// `Err(Malformed)` if it is not JSON or not an object.
pub(crate) fn parse_object(json: &[u8]) -> Result<Map<String, Value>, VerifyError> {
    match serde_json::from_slice::<Strict>(json) {
        Ok(Strict(Value::Object(m))) => Ok(m),
        Ok(_) => Err(VerifyError::Malformed(
            "the claims are not a JSON object".into(),
        )),
        Err(e) if e.to_string().contains(DUPLICATE) => Err(VerifyError::DuplicateClaim),
        Err(e) => Err(VerifyError::Malformed(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_are_refused_at_any_depth_and_values_kept_exactly() {
        let m = parse_object(
            br#"{"a": 1, "b": [true, null, 1.5, -2, "x", {"c": 18446744073709551615}]}"#,
        )
        .unwrap();
        assert_eq!(
            Value::Object(m),
            serde_json::json!({"a": 1, "b": [true, null, 1.5, -2, "x", {"c": u64::MAX}]})
        );
        for bad in [
            &br#"{"sub": "a", "sub": "b"}"#[..],
            br#"{"x": {"k": 1, "k": 2}}"#,
            br#"{"x": [{"k": 1, "k": 2}]}"#,
        ] {
            assert_eq!(parse_object(bad), Err(VerifyError::DuplicateClaim));
        }
        assert!(matches!(
            parse_object(b"[1]"),
            Err(VerifyError::Malformed(_))
        ));
        assert!(matches!(parse_object(b"{"), Err(VerifyError::Malformed(_))));
    }
}
