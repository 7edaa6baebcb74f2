//! The kubelet's part: a pod's volumes, its container started as a process, its probes
//! on their schedule, its stop.

use super::cluster::{Secrets, Shared};
use super::launch::{Launch, PodRef, World};
use super::pod::{Pod, Stopped};
use super::render::Render;
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

impl Shared {
    /// Make the pod's volumes: PVCs (kept across pods), Secrets (written the way the
    /// kubelet does: files in a timestamped directory behind a `..data` symlink) and
    /// emptyDirs (new for every pod). Returns mountPath → local directory.
    pub(super) fn volumes(
        &self,
        secrets: &Secrets,
        pod: &str,
        spec: &Value,
        claims: &[Value],
        dir: &Path,
    ) -> Vec<(String, PathBuf)> {
        let container = &spec["containers"][0];
        let mut mounts = Vec::new();
        for m in container["volumeMounts"].as_array().into_iter().flatten() {
            let vname = m["name"].as_str().expect("volume name");
            assert!(m.get("subPath").is_none(), "the harness has no subPath");
            let mount_path = m["mountPath"].as_str().expect("mountPath").to_string();
            let volume = spec["volumes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|v| v["name"] == vname);
            let local = match volume {
                None => {
                    assert!(
                        claims.iter().any(|c| c["metadata"]["name"] == vname),
                        "pod {pod}: no volume {vname}"
                    );
                    // A volumeClaimTemplate's PVC is named <template>-<pod>; a dynamic
                    // provisioner makes it empty the first time.
                    let d = self.pvc_dir(&format!("{vname}-{pod}"));
                    std::fs::create_dir_all(&d).expect("PVC dir");
                    d
                }
                Some(v) if v.get("emptyDir").is_some() => {
                    let d = dir.join(format!("vol-{vname}"));
                    std::fs::create_dir_all(&d).expect("emptyDir");
                    d
                }
                Some(v) if v.get("persistentVolumeClaim").is_some() => {
                    let claim = v["persistentVolumeClaim"]["claimName"]
                        .as_str()
                        .expect("claim");
                    let d = self.pvc_dir(claim);
                    std::fs::create_dir_all(&d).expect("PVC dir");
                    d
                }
                Some(v) if v.get("secret").is_some() => {
                    let name = v["secret"]["secretName"].as_str().expect("secretName");
                    let data = secrets.get(name).unwrap_or_else(|| {
                        panic!(
                            "pod {pod} mounts Secret {name}, which neither the chart nor the \
                             test provides"
                        )
                    });
                    assert!(
                        v["secret"].get("items").is_none(),
                        "the harness has no items"
                    );
                    let mode = v["secret"]["defaultMode"].as_u64().unwrap_or(0o644) as u32;
                    let d = dir.join(format!("vol-{vname}"));
                    write_secret_volume(&d, data, mode);
                    d
                }
                Some(v) => panic!("pod {pod}: the harness does not implement volume {v}"),
            };
            mounts.push((mount_path, local));
        }
        mounts
    }

    /// Start a pod from `template`: its container's rendered command as a local process.
    pub async fn spawn(
        &self,
        render: &Render,
        name: &str,
        ip: Ipv4Addr,
        template: &Value,
        claims: &[Value],
    ) -> Pod {
        let spec = &template["spec"];
        let containers = spec["containers"].as_array().expect("containers");
        assert_eq!(
            containers.len(),
            1,
            "the harness runs one container per pod"
        );
        assert!(spec.get("initContainers").is_none(), "no init containers");
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let dir = self.root.path().join("pods").join(format!("{name}.{seq}"));
        std::fs::create_dir_all(&dir).expect("pod dir");
        let secrets = self.secrets(render);
        let mounts = self.volumes(&secrets, name, spec, claims, &dir);
        let hosts = self.hosts(render).await;
        // The image's WORKDIR, where no volume covers it: a read-only directory, as the
        // chart's readOnlyRootFilesystem makes it.
        let rootfs = dir.join("workdir");
        std::fs::create_dir_all(&rootfs).expect("workdir");
        let world = World {
            hosts: &hosts,
            secrets: &secrets,
            kubelet_env: self.kubelet_env(render, name, spec),
            mounts: &mounts,
            image: &self.image,
            binary: &self.bin,
            workdir_fallback: &rootfs,
        };
        let service_account = spec["serviceAccountName"].as_str().unwrap_or("default");
        let pod = PodRef {
            name,
            namespace: render.namespace(),
            ip,
            service_account,
        };
        let launch = Launch::build(&containers[0], &pod, &world);
        set_mode(&rootfs, 0o555);
        let workload = format!(
            "{}/{}",
            template["metadata"]["labels"]["app.kubernetes.io/component"]
                .as_str()
                .unwrap_or(name),
            containers[0]["name"].as_str().unwrap_or_default()
        );
        if self.shown.lock().unwrap().insert(workload.clone()) {
            eprintln!(
                "chart-pods: {workload} (pod {name} at {ip}) runs `signet {}`\n  rewrites:\n    {}",
                launch.rendered.join(" "),
                launch.describe(&self.image).join("\n    ")
            );
        }
        let p = Pod::spawn(name, ip, template, launch, &dir);
        self.live.lock().unwrap().insert(
            name.to_string(),
            (
                ip,
                template["metadata"]["labels"].clone(),
                containers[0].clone(),
            ),
        );
        p
    }

    /// Take a pod out of the Services (a deleted pod is no endpoint) and stop it.
    pub async fn delete(&self, pod: Pod) -> Stopped {
        self.live.lock().unwrap().remove(&pod.name);
        let name = pod.name.clone();
        let log = pod.log.clone();
        let stopped = pod.terminate().await;
        assert!(
            !stopped.killed && stopped.code == Some(0),
            "pod {name} did not stop cleanly on SIGTERM ({stopped:?}); its log: {}",
            log.display()
        );
        stopped
    }

    /// Forget a pod whose process ended by itself.
    pub fn forget(&self, pod: &Pod) {
        self.live.lock().unwrap().remove(&pod.name);
    }

    /// Wait until the pod is ready, probing on the kubelet's schedule: the startup probe
    /// every periodSeconds until it passes (failureThreshold failures would have the
    /// kubelet restart the container: the test fails), then the readiness probe every
    /// periodSeconds until it passes. Fails if the process ends.
    pub async fn wait_ready(&self, pod: &mut Pod, deadline: Duration) -> Duration {
        let end = Instant::now() + deadline;
        for kind in ["startupProbe", "readinessProbe"] {
            let spec = pod.container()[kind].clone();
            let period = Duration::from_secs(spec["periodSeconds"].as_u64().unwrap_or(10));
            let threshold = spec["failureThreshold"].as_u64().unwrap_or(3);
            let mut failures = 0;
            loop {
                if let Some(status) = pod.exited() {
                    panic!(
                        "pod {} exited ({status}) before it was ready; its last log lines:\n{}",
                        pod.name,
                        pod.log_tail(20)
                    );
                }
                if pod.probe(kind, &self.probe_tls).await {
                    break;
                }
                failures += 1;
                assert!(
                    kind != "startupProbe" || failures < threshold,
                    "pod {} failed its startup probe {failures} times: the kubelet would \
                     restart it; its last log lines:\n{}",
                    pod.name,
                    pod.log_tail(20)
                );
                assert!(
                    Instant::now() < end,
                    "pod {} not ready after {deadline:?}; its last log lines:\n{}",
                    pod.name,
                    pod.log_tail(20)
                );
                tokio::time::sleep(period).await;
            }
        }
        pod.started.elapsed()
    }

    /// Run a pod to completion (a Job's pod, `kubectl run --rm -i`): exit status, stdout,
    /// stderr.
    pub async fn run_to_completion(
        &self,
        render: &Render,
        name: &str,
        template: &Value,
        deadline: Duration,
    ) -> (Option<i32>, String, String) {
        let ip = self.ip(200 + (self.seq.load(Ordering::Relaxed) % 50) as u8);
        let mut pod = self.spawn(render, name, ip, template, &[]).await;
        self.forget(&pod);
        let status = pod.wait_exit(deadline).await.unwrap_or_else(|| {
            panic!(
                "pod {name} did not finish in {deadline:?}: {}",
                pod.log_tail(20)
            )
        });
        let stderr = std::fs::read_to_string(&pod.log).unwrap_or_default();
        (status.code(), pod.stdout(), stderr)
    }

    /// A new pod name suffix, like the ReplicaSet's random ones.
    pub(super) fn suffix(&self) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        format!("{:05x}", (n as u64).wrapping_mul(0x9e37_79b9) & 0xf_ffff)
    }
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A Secret volume the way the kubelet's atomic writer lays it out.
fn write_secret_volume(dir: &Path, data: &BTreeMap<String, Vec<u8>>, mode: u32) {
    let stamp = "..2026_01_01_00_00_00.000000001";
    let files = dir.join(stamp);
    std::fs::create_dir_all(&files).expect("secret dir");
    for (k, v) in data {
        let f = files.join(k);
        std::fs::write(&f, v).expect("write secret");
        set_mode(&f, mode);
        std::os::unix::fs::symlink(format!("..data/{k}"), dir.join(k)).expect("symlink");
    }
    std::os::unix::fs::symlink(stamp, dir.join("..data")).expect("symlink ..data");
}
