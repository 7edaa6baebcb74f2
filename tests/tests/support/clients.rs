//! Clients nobody here wrote, run as Python scripts in tests/clients (each makes its pinned
//! venv on first use): their JSON answer.

use std::path::PathBuf;

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the repository")
        .to_path_buf()
}

/// Run `tests/clients/{script}` with `args` (blocking: call from `spawn_blocking`); its
/// stdout, one JSON value. Panics, with the script's output, when it fails.
pub fn python_client(script: &str, args: &[&str]) -> serde_json::Value {
    let python = std::env::var("SIGNET_PYTHON3").unwrap_or_else(|_| "python3".to_string());
    let out = std::process::Command::new(&python)
        .arg(repo().join("tests/clients").join(script))
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{script} needs `{python}` (Python 3.10+ with its venv module, e.g. \
                 `apt-get install python3 python3-venv`; SIGNET_PYTHON3 names another): {e}"
            )
        });
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{script} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}
