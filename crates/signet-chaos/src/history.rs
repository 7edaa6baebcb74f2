//! Operations as a client saw them, saved one JSON object per line.

use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};

/// How an operation ended, as far as its client knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", content = "value", rename_all = "snake_case")]
pub enum Outcome<T> {
    /// Completed; what it returned.
    Ok(T),
    /// Refused: it did not take effect.
    Failed,
    /// No answer (timeout, cut connection): it may have taken effect, once, at any time
    /// after it was invoked.
    Unknown,
}

/// One operation of a history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Op<I, O> {
    /// The client (worker) that made it; a client makes one operation at a time.
    pub client: u32,
    /// What it asked for.
    pub input: I,
    /// Invocation time, nanoseconds from the start of the run.
    pub invoke_ns: u64,
    /// Completion time; `None` for an `Unknown` outcome.
    pub complete_ns: Option<u64>,
    /// How it ended.
    pub outcome: Outcome<O>,
}

/// Save a history, one operation per line.
pub fn save<I: Serialize, O: Serialize>(
    ops: &[Op<I, O>],
    out: &mut impl Write,
) -> std::io::Result<()> {
    for op in ops {
        serde_json::to_writer(&mut *out, op)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Load a history saved by [`save`].
pub fn load<I, O>(input: impl BufRead) -> std::io::Result<Vec<Op<I, O>>>
where
    I: for<'de> Deserialize<'de>,
    O: for<'de> Deserialize<'de>,
{
    let mut ops = Vec::new();
    for (n, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let op = serde_json::from_str(&line).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("line {}: {e}", n + 1),
            )
        })?;
        ops.push(op);
    }
    Ok(ops)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_history_round_trips() {
        let ops: Vec<Op<String, i64>> = vec![
            Op {
                client: 1,
                input: "w".into(),
                invoke_ns: 5,
                complete_ns: Some(9),
                outcome: Outcome::Ok(3),
            },
            Op {
                client: 2,
                input: "r".into(),
                invoke_ns: 6,
                complete_ns: None,
                outcome: Outcome::Unknown,
            },
            Op {
                client: 3,
                input: "x".into(),
                invoke_ns: 7,
                complete_ns: Some(8),
                outcome: Outcome::Failed,
            },
        ];
        let mut buf = Vec::new();
        save(&ops, &mut buf).unwrap();
        let text = String::from_utf8(buf.clone()).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.contains(r#""outcome":"ok","value":3"#), "{text}");
        let back: Vec<Op<String, i64>> = load(&buf[..]).unwrap();
        assert_eq!(back, ops);
        let err = load::<String, i64>(&b"{\"client\":1}\n"[..]).unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
