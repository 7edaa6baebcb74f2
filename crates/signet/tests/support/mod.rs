//! Shared by the black-box CLI tests: start `signet dev` as a child process and run
//! `signet …` subprocesses against it, reading their JSON output.
// Each test crate uses a different part of this module.
#![allow(dead_code)]

use serde_json::Value;
use signet_testkit::{dev_args, ChildProcess};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

pub const PASSWORD: &str = "Correct-Horse-9";

pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_signet"))
}

/// `signet dev` on free ports, data in `data_dir`.
pub async fn start_dev(data_dir: &Path) -> ChildProcess {
    let dir = data_dir.to_str().expect("utf-8 temp dir");
    ChildProcess::start(bin(), &dev_args(dir), Duration::from_secs(60)).await
}

/// Runs the CLI against one dev process.
pub struct Cli {
    pub grpc: String,
    pub data_dir: PathBuf,
}

impl Cli {
    /// The CLI for the dev process that printed `ready`, whose data is in `data_dir`.
    pub fn of(dev: &ChildProcess, data_dir: PathBuf) -> Cli {
        Cli {
            grpc: text(&dev.ready["grpc_addr"]),
            data_dir,
        }
    }

    pub async fn raw(&self, args: &[&str]) -> Output {
        self.raw_with_stdin(args, None).await
    }

    /// `signet <args>`, with `input` on its stdin (else none).
    pub async fn raw_with_stdin(&self, args: &[&str], input: Option<&str>) -> Output {
        self.raw_with(args, input, &[]).await
    }

    /// `signet <args>`, with `input` on its stdin (else none) and the variables `env` set.
    pub async fn raw_with(
        &self,
        args: &[&str],
        input: Option<&str>,
        env: &[(&str, &str)],
    ) -> Output {
        use tokio::io::AsyncWriteExt;
        let mut cmd = tokio::process::Command::new(bin());
        cmd.args(args);
        // The caller's environment must not change what the test sends.
        for var in [
            "SIGNET_ENDPOINT",
            "SIGNET_ADMIN_SECRET",
            "SIGNET_DATA_DIR",
            "SIGNET_CLIENT_ID",
            "SIGNET_CLIENT_SECRET",
            "SIGNET_CONFIG",
            "SIGNET_HTTP_ENDPOINT",
            "SIGNET_WEBHOOK_SECRET",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(env.iter().copied());
        cmd.stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
        let run = async {
            let mut child = cmd.spawn()?;
            if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
                stdin.write_all(text.as_bytes()).await?;
            }
            child.wait_with_output().await
        };
        tokio::time::timeout(Duration::from_secs(60), run)
            .await
            .unwrap_or_else(|_| panic!("signet {args:?} did not finish in 60 s"))
            .unwrap_or_else(|e| panic!("run signet {args:?}: {e}"))
    }

    /// `signet admin <args> --endpoint … --data-dir …` (the secret comes from the data dir).
    pub async fn admin(&self, args: &[&str]) -> Output {
        let dir = self.data_dir.to_str().expect("utf-8 temp dir");
        let mut all = vec!["admin", "--endpoint", &self.grpc, "--data-dir", dir];
        all.extend_from_slice(args);
        self.raw(&all).await
    }

    /// `signet <group> --endpoint … <args>` for the gateway's public commands
    /// (`token`, `identity`, `sts`).
    pub async fn public(&self, group: &str, args: &[&str]) -> Output {
        let mut all = vec![group, "--endpoint", &self.grpc];
        all.extend_from_slice(args);
        self.raw(&all).await
    }

    /// `signet token --endpoint … <args>`.
    pub async fn token(&self, args: &[&str]) -> Output {
        self.public("token", args).await
    }

    /// `signet token --endpoint … --client-id <client> <args>`.
    pub async fn token_for(&self, client_id: &str, args: &[&str]) -> Output {
        let mut all = vec!["--client-id", client_id];
        all.extend_from_slice(args);
        self.token(&all).await
    }
}

/// The JSON on stdout of a successful run.
pub fn json_ok(what: &str, out: &Output) -> Value {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{what} failed: {stderr}");
    json_of(what, out)
}

/// The JSON on stdout, whatever the exit status.
pub fn json_of(what: &str, out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{what}: stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

pub fn text(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
        .to_string()
}
