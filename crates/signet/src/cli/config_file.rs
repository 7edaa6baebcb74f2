//! `--config FILE`: a TOML table whose keys are long flag names (`data_dir` or `data-dir`).
//! Its settings are inserted as flags right after the subcommand, before the user's own
//! flags, so flags given on the command line win (`args_override_self`). A key whose
//! `SIGNET_*` variable is set is skipped, so the environment wins over the file.

use anyhow::{bail, Context};
use std::ffi::OsString;

pub fn args_with_config_file(args: Vec<OsString>) -> anyhow::Result<Vec<OsString>> {
    let path = find_config(&args).or_else(|| std::env::var_os("SIGNET_CONFIG"));
    let Some(path) = path else {
        return Ok(args);
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading config file {}", path.to_string_lossy()))?;
    let table: toml::Table =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.to_string_lossy()))?;
    let mut injected = Vec::new();
    for (key, value) in table {
        let flag = key.replace('_', "-");
        let env = format!("SIGNET_{}", key.replace('-', "_").to_uppercase());
        if std::env::var_os(&env).is_some() {
            continue;
        }
        match value {
            toml::Value::Boolean(true) => injected.push(OsString::from(format!("--{flag}"))),
            toml::Value::Boolean(false) => {}
            toml::Value::String(s) => injected.push(OsString::from(format!("--{flag}={s}"))),
            toml::Value::Integer(i) => injected.push(OsString::from(format!("--{flag}={i}"))),
            other => bail!("config key {key}: unsupported value {other}"),
        }
    }
    // Insert after the subcommand path (the leading words that are not flags).
    let mut out = Vec::with_capacity(args.len() + injected.len());
    let mut it = args.into_iter().peekable();
    if let Some(bin) = it.next() {
        out.push(bin);
    }
    let mut skip_value = false;
    while let Some(a) = it.peek() {
        let s = a.to_string_lossy();
        if skip_value {
            skip_value = false;
        } else if s == "--config" || s == "--log-format" {
            skip_value = true;
        } else if s.starts_with('-') || !is_subcommand(&s) {
            break;
        }
        out.push(it.next().expect("peeked"));
    }
    out.extend(injected);
    out.extend(it);
    Ok(out)
}

/// Whether `s` names a (nested) subcommand, read from the CLI definition itself.
fn is_subcommand(s: &str) -> bool {
    fn walk(cmd: &clap::Command, s: &str) -> bool {
        cmd.get_subcommands()
            .any(|c| c.get_name() == s || walk(c, s))
    }
    walk(&<super::Cli as clap::CommandFactory>::command(), s)
}

fn find_config(args: &[OsString]) -> Option<OsString> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let s = a.to_string_lossy();
        if s == "--config" {
            return it.next().cloned();
        }
        if let Some(v) = s.strip_prefix("--config=") {
            return Some(OsString::from(v));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn file_settings_go_before_user_flags() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("s.toml");
        std::fs::write(&f, "node_id = 3\nraft-addr = \"10.0.0.1:1\"\ninit = true\n").unwrap();
        let f = f.to_string_lossy().to_string();
        let out = args_with_config_file(os(&["signet", "--config", &f, "store", "--node-id", "4"]))
            .unwrap();
        let out: Vec<String> = out.iter().map(|s| s.to_string_lossy().into()).collect();
        let pos = |x: &str| out.iter().position(|a| a == x).unwrap();
        assert!(pos("--init") > pos("store"));
        assert!(
            pos("--node-id=3") < pos("--node-id"),
            "user flag must come last: {out:?}"
        );
        assert!(out.contains(&"--raft-addr=10.0.0.1:1".to_string()));
    }

    #[test]
    fn no_config_leaves_args_alone() {
        if std::env::var_os("SIGNET_CONFIG").is_some() {
            return;
        }
        let a = os(&["signet", "dev"]);
        assert_eq!(args_with_config_file(a.clone()).unwrap(), a);
    }
}
