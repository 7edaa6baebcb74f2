use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The arguments of `signet dev` with its data in `data_dir` and every listener (store API,
/// gRPC, HTTP) on a free port of 127.0.0.1.
pub fn dev_args(data_dir: &str) -> [&str; 9] {
    [
        "dev",
        "--data-dir",
        data_dir,
        "--api-addr",
        "127.0.0.1:0",
        "--grpc-addr",
        "127.0.0.1:0",
        "--http-addr",
        "127.0.0.1:0",
    ]
}

/// The real `signet` binary running as a child process. Killed when dropped.
pub struct ChildProcess {
    child: Child,
    /// The JSON "ready" line the server printed on stdout.
    pub ready: serde_json::Value,
}

impl ChildProcess {
    /// Run `binary args…` and wait (up to `deadline`) for its `{"event":"ready",…}` line.
    pub async fn start(binary: &Path, args: &[&str], deadline: Duration) -> ChildProcess {
        Self::start_with_env(binary, args, &[], deadline).await
    }

    /// Like [`ChildProcess::start`], with the variables `env` set.
    pub async fn start_with_env(
        binary: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        deadline: Duration,
    ) -> ChildProcess {
        Self::try_start_with_env(binary, args, env, deadline)
            .await
            .unwrap_or_else(|status| panic!("signet exited before it was ready: {status}"))
    }

    /// Like [`ChildProcess::start_with_env`], for a process that may end before it is ready
    /// (a failpoint it meets while starting): its exit status then.
    pub async fn try_start_with_env(
        binary: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        deadline: Duration,
    ) -> Result<ChildProcess, std::process::ExitStatus> {
        let mut child = Command::new(binary)
            .args(args)
            .envs(env.iter().copied())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", binary.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(deadline, async {
            while let Some(line) = lines.next_line().await.expect("read stdout") {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    if v["event"] == "ready" {
                        return Some(v);
                    }
                }
            }
            None
        })
        .await
        .unwrap_or_else(|_| panic!("signet not ready within {deadline:?}"));
        let Some(ready) = ready else {
            return Err(child.wait().await.expect("wait for child"));
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(ChildProcess { child, ready })
    }

    /// Ask the process to stop with SIGTERM and wait for it (up to `deadline`).
    /// Returns its exit code.
    pub async fn terminate(mut self, deadline: Duration) -> Option<i32> {
        let pid = self.child.id().expect("running child").to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {pid} failed");
        let status = tokio::time::timeout(deadline, self.child.wait())
            .await
            .expect("signet did not stop after SIGTERM")
            .expect("wait for child");
        status.code()
    }

    /// Wait up to `deadline` for the process to end by itself; its status, or `None` if it
    /// still runs.
    pub async fn exited(&mut self, deadline: Duration) -> Option<std::process::ExitStatus> {
        tokio::time::timeout(deadline, self.child.wait())
            .await
            .ok()
            .map(|r| r.expect("wait for child"))
    }

    /// SIGKILL the process and wait until it is gone, so whatever it held (the data
    /// directory's locks) is free when this returns. Dropping a `ChildProcess` kills it
    /// too, but without waiting: a test that reuses the data dir right after a drop races
    /// the kernel tearing the process down.
    pub async fn kill(mut self) {
        self.child.kill().await.expect("kill and reap signet");
    }
}
