//! Server roles: `signet dev`, `signet store` and `signet gateway`, and what they share:
//! binding, the ready line on stdout, the stop signal, and the rule that nothing listens or
//! connects in plaintext beyond loopback unless the operator says `--insecure-plaintext`.

mod dev;
mod gateway;
mod secrets;
mod store;

pub use dev::dev;
pub use gateway::gateway;
pub use store::store;

use anyhow::Context;
use tokio::net::TcpListener;

async fn bind(addr: &str, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} ({what})"))
}

/// Make any panic, on any thread, end the process (exit status 70) once it is reported.
/// A store holds its state in tasks that share it: a task that panicked mid-write (sled
/// unwraps an I/O error on a failing disk) would leave a process that looks alive but
/// neither applies nor steps aside. Stopped, it is restarted and recovers from its durable
/// log, as after any crash.
fn exit_on_panic() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        tracing::error!(
            "a task panicked: {info}; exiting so the node restarts from its durable log"
        );
        std::process::exit(70);
    }));
}

fn announce_json(line: serde_json::Value) {
    use std::io::Write;
    // A server must not die because nobody reads its stdout.
    if let Err(e) = writeln!(std::io::stdout().lock(), "{line}") {
        tracing::warn!("cannot write the ready line to stdout: {e}");
    }
}

/// Wait for SIGINT or SIGTERM.
async fn stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!("cannot watch SIGTERM: {e}");
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// Refuse plaintext beyond loopback unless the operator accepted it, and say so loudly when
/// they did. `addrs` are the listen (or dialled) addresses concerned.
pub fn check_plaintext(what: &str, addrs: &[&str], insecure_plaintext: bool) -> anyhow::Result<()> {
    if signet_tls::all_loopback(addrs.iter().copied()) {
        return Ok(());
    }
    anyhow::ensure!(
        insecure_plaintext,
        "{what} would be plaintext on a non-loopback address ({}): give TLS files (--ca, --cert, \
         --key; see `signet certs`) or, for a trusted network only, --insecure-plaintext",
        addrs.join(", ")
    );
    tracing::warn!(
        addresses = %addrs.join(", "),
        "{what} in PLAINTEXT beyond loopback (--insecure-plaintext): anyone on the network can \
         read and forge its traffic"
    );
    Ok(())
}
