//! The chart as Helm renders it (through `deploy/helm/tests/check_chart.py render`), and the
//! image's ENTRYPOINT and WORKDIR (from `deploy/Dockerfile`), which a pod's container
//! inherits when the chart gives no `command`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// `check_chart.py render` output: `{release, namespace, values, notes, objects}`.
pub struct Render {
    pub json: Value,
    /// What `--set` was given (for messages).
    pub sets: Vec<String>,
    /// How long rendering took (the first run also makes the checker's venv).
    pub took: Duration,
}

impl Render {
    /// `helm template` of deploy/helm/signet with `values` and `--set sets`, as release
    /// `release` in `namespace`.
    pub async fn new(values: &Path, sets: &[&str], release: &str, namespace: &str) -> Render {
        let script = repo().join("deploy/helm/tests/check_chart.py");
        let python = std::env::var("SIGNET_PYTHON3").unwrap_or_else(|_| "python3".to_string());
        let mut cmd = tokio::process::Command::new(&python);
        cmd.arg(&script).arg("render").arg(values).args([
            "--name",
            release,
            "--namespace",
            namespace,
        ]);
        for s in sets {
            cmd.args(["--set", s]);
        }
        cmd.current_dir(repo())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let started = Instant::now();
        // The first run makes a venv with pinned packages from PyPI (check_chart.py).
        let out = match tokio::time::timeout(Duration::from_secs(600), cmd.output()).await {
            Err(_) => panic!(
                "`{python} {} render` did not finish in 600 s",
                script.display()
            ),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "rendering the chart needs `{python}` (Python 3.10 or newer with its venv \
                 module and PyPI access for the first run, e.g. `apt-get install python3 \
                 python3-venv`; SIGNET_PYTHON3 names another interpreter): {e}"
            ),
            Ok(Err(e)) => panic!("could not run {python} {}: {e}", script.display()),
            Ok(Ok(out)) => out,
        };
        assert!(
            out.status.success(),
            "check_chart.py render {} {sets:?} failed ({}): {}",
            values.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let json: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("check_chart.py render printed no JSON ({e})"));
        Render {
            json,
            sets: sets.iter().map(|s| s.to_string()).collect(),
            took: started.elapsed(),
        }
    }

    pub fn namespace(&self) -> &str {
        self.json["namespace"].as_str().expect("namespace")
    }

    /// The cluster DNS domain the chart was rendered for (`clusterDomain`).
    pub fn cluster_domain(&self) -> &str {
        self.json["values"]["clusterDomain"]
            .as_str()
            .expect("values.clusterDomain")
    }

    pub fn notes(&self) -> &str {
        self.json["notes"].as_str().expect("notes")
    }

    /// Every rendered object.
    pub fn objects(&self) -> impl Iterator<Item = &Value> {
        self.json["objects"]
            .as_array()
            .expect("objects")
            .iter()
            .map(|o| &o["object"])
    }

    pub fn of_kind(&self, kind: &str) -> impl Iterator<Item = &Value> + '_ {
        let kind = kind.to_string();
        self.objects().filter(move |o| o["kind"] == kind.as_str())
    }

    /// The one object of `kind` that is not a Helm hook.
    pub fn only(&self, kind: &str) -> &Value {
        let all: Vec<&Value> = self.of_kind(kind).filter(|o| hook(o).is_none()).collect();
        assert_eq!(all.len(), 1, "expected one {kind} in the rendered chart");
        all[0]
    }

    /// Hook Jobs that Helm runs at `event` (e.g. `pre-upgrade`), in hook-weight order.
    pub fn hook_jobs(&self, event: &str) -> Vec<&Value> {
        let mut jobs: Vec<&Value> = self
            .of_kind("Job")
            .filter(|o| hook(o).is_some_and(|h| h.split(',').any(|e| e.trim() == event)))
            .collect();
        let weight = |o: &Value| -> i64 {
            o["metadata"]["annotations"]["helm.sh/hook-weight"]
                .as_str()
                .and_then(|w| w.parse().ok())
                .unwrap_or(0)
        };
        jobs.sort_by_key(|o| weight(o));
        jobs
    }

    /// A Secret the chart itself makes: key → bytes (`data` is base64, `stringData` text).
    pub fn secret(&self, name: &str) -> Option<Vec<(String, Vec<u8>)>> {
        use base64::Engine;
        let s = self
            .of_kind("Secret")
            .find(|o| o["metadata"]["name"] == name)?;
        let mut out = Vec::new();
        for (k, v) in s["data"].as_object().into_iter().flatten() {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(v.as_str().expect("base64 string"))
                .expect("Secret data is base64");
            out.push((k.clone(), bytes));
        }
        for (k, v) in s["stringData"].as_object().into_iter().flatten() {
            out.push((k.clone(), v.as_str().expect("string").as_bytes().to_vec()));
        }
        Some(out)
    }
}

fn hook(o: &Value) -> Option<&str> {
    o["metadata"]["annotations"]["helm.sh/hook"].as_str()
}

/// The final stage of deploy/Dockerfile: what a container runs when the pod gives no
/// `command`, and where it runs.
pub struct Image {
    pub entrypoint: Vec<String>,
    pub workdir: String,
}

impl Image {
    pub fn from_dockerfile() -> Image {
        let path = repo().join("deploy/Dockerfile");
        let text = std::fs::read_to_string(&path).expect("read deploy/Dockerfile");
        let last_stage = text
            .rsplit_once("\nFROM ")
            .map(|(_, s)| s)
            .expect("a FROM line");
        let mut entrypoint = None;
        let mut workdir = "/".to_string();
        for line in last_stage.lines() {
            if let Some(v) = line.strip_prefix("ENTRYPOINT ") {
                entrypoint = Some(
                    serde_json::from_str::<Vec<String>>(v.trim())
                        .expect("ENTRYPOINT in exec (JSON) form"),
                );
            }
            if let Some(v) = line.strip_prefix("WORKDIR ") {
                workdir = v.trim().to_string();
            }
        }
        Image {
            entrypoint: entrypoint.expect("the image's ENTRYPOINT"),
            workdir,
        }
    }
}
