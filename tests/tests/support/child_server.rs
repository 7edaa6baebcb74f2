//! A server the tests run as a child process (a real OpenID Provider, a SAML IdP): started,
//! its first stdout line (one JSON object saying where it serves) read, its stderr kept.
//! Killed when stopped or dropped, and it ends by itself when the test process is gone (its
//! standard input closes). A test that panics while holding it prints what it logged.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

pub struct ChildServer {
    /// What it printed first.
    pub said: serde_json::Value,
    name: String,
    child: Child,
    /// Held open: the server ends when its standard input closes.
    _stdin: ChildStdin,
    log: Arc<Mutex<Vec<String>>>,
}

impl ChildServer {
    /// Start `cmd`; returns once it has printed its first line (within `timeout`). `name`
    /// and `needs` go into the panic messages (what it is, what must be installed).
    pub async fn start(name: &str, mut cmd: Command, timeout: Duration, needs: &str) -> Self {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{name} needs {needs}: {e}"));
        let stdin = child.stdin.take().expect("stdin");
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut err_lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let kept = log.clone();
        let stderr_task = tokio::spawn(async move {
            while let Ok(Some(line)) = err_lines.next_line().await {
                kept.lock().unwrap().push(line);
            }
        });
        let mut out_lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = tokio::time::timeout(timeout, out_lines.next_line()).await;
        let line = match first {
            Ok(Ok(Some(line))) => line,
            other => {
                let _ = child.start_kill();
                let status = child.wait().await;
                let _ = stderr_task.await;
                panic!(
                    "{name} did not start ({other:?}, {status:?}):\n{}",
                    log.lock().unwrap().join("\n")
                );
            }
        };
        let said: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("{name} said {line:?}: {e}"));
        // Anything more it prints is drained.
        tokio::spawn(async move { while let Ok(Some(_)) = out_lines.next_line().await {} });
        ChildServer {
            said,
            name: name.to_string(),
            child,
            _stdin: stdin,
            log,
        }
    }

    /// A string it said at start.
    pub fn said(&self, key: &str) -> String {
        self.said[key]
            .as_str()
            .unwrap_or_else(|| panic!("{} said no {key}: {}", self.name, self.said))
            .to_string()
    }

    /// What it logged on stderr so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Kill it and wait for it to end.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{} logged:\n{}", self.name, self.log().join("\n"));
        }
    }
}
