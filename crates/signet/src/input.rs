//! Values too long for a command line: a token given as `-` is read from stdin, and a
//! DOC (policy or mapping document) is the JSON itself when it starts with `{`, `-` for
//! stdin, else the path of a file holding it.

use anyhow::Context;
use std::collections::HashMap;
use std::io::Read;

/// Hands out stdin to at most one `-` value of a command.
#[derive(Debug, Default)]
pub struct Stdin {
    used: bool,
}

impl Stdin {
    /// `value` itself, or stdin (surrounding whitespace trimmed) when it is `-`.
    pub fn value(&mut self, value: String) -> anyhow::Result<String> {
        if value != "-" {
            return Ok(value);
        }
        anyhow::ensure!(
            !self.used,
            "only one value of a command can be read from stdin (-)"
        );
        self.used = true;
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading stdin")?;
        Ok(text.trim().to_string())
    }

    /// A DOC: inline JSON (starts with `{`), `-` for stdin, else the path of a file.
    pub fn document(&mut self, value: String) -> anyhow::Result<String> {
        if value == "-" || value.trim_start().starts_with('{') {
            return self.value(value);
        }
        std::fs::read_to_string(&value).with_context(|| format!("reading the document {value}"))
    }

    /// `--login PROVIDER=TOKEN` pairs as a logins map (a TOKEN of `-` is read from stdin).
    pub fn logins(
        &mut self,
        pairs: Vec<(String, String)>,
    ) -> anyhow::Result<HashMap<String, String>> {
        pairs
            .into_iter()
            .map(|(provider, token)| Ok((provider, self.value(token)?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_inline_json_or_a_file() {
        let mut stdin = Stdin::default();
        let inline = r#" {"Statement":[]}"#;
        assert_eq!(stdin.document(inline.into()).unwrap(), inline);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.json");
        std::fs::write(&path, "{\"Version\":\"2012-10-17\"}\n").unwrap();
        let from_file = stdin.document(path.to_str().unwrap().into()).unwrap();
        assert_eq!(from_file, "{\"Version\":\"2012-10-17\"}\n");
        let missing = stdin.document("no-such-file.json".into()).unwrap_err();
        assert!(format!("{missing:#}").contains("no-such-file.json"));
    }

    #[test]
    fn values_other_than_a_dash_are_kept_and_stdin_is_read_once() {
        let mut stdin = Stdin::default();
        assert_eq!(stdin.value("eyJ.a.b".into()).unwrap(), "eyJ.a.b");
        let logins = stdin
            .logins(vec![("example.com/pool".into(), "tok".into())])
            .unwrap();
        assert_eq!(logins["example.com/pool"], "tok");
        stdin.used = true;
        let twice = stdin.value("-".into()).unwrap_err();
        assert!(twice.to_string().contains("only one value"));
    }
}
