//! The cluster around the pods, as seen from one machine: each pod's address on
//! loopback, cluster DNS and Services, the kubelet's environment variables, Secrets.

use super::launch::{Host, Kind};
use super::pod::{container_port, http_get, probe, Pod};
use super::render::{Image, Render};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_rustls::rustls::ClientConfig;

/// Secret name → key → value.
pub type Secrets = BTreeMap<String, BTreeMap<String, Vec<u8>>>;

/// Gateway pods take addresses 127.a.b.100 … 127.a.b.(100 + GATEWAY_IPS - 1).
pub const GATEWAY_IPS: u8 = 24;

/// What every controller shares: the machine's side of the cluster.
pub struct Shared {
    pub bin: PathBuf,
    pub image: Image,
    /// PVCs, pod directories and logs; kept when the test fails.
    pub root: Root,
    /// The a.b of this run's 127.a.b.0/24.
    pub net: [u8; 2],
    /// Secrets that exist before the install (the test made them).
    pub provided: Secrets,
    /// For HTTPS probes: the cluster CA (the kubelet would not even check).
    pub probe_tls: Arc<ClientConfig>,
    /// Live pods (for Service endpoints): name → (address, labels, container).
    pub(super) live: Mutex<BTreeMap<String, (Ipv4Addr, Value, Value)>>,
    pub(super) next_gateway_ip: AtomicUsize,
    pub(super) seq: AtomicUsize,
    pub(super) round_robin: AtomicUsize,
    pub(super) shown: Mutex<BTreeSet<String>>,
    pub(super) notes: Mutex<Vec<String>>,
}

impl Shared {
    pub fn new(bin: &Path, net: [u8; 2], provided: Secrets, ca: &Path) -> Shared {
        let tls = signet_tls::TlsSource::load(signet_tls::TlsFiles {
            ca: Some(ca.to_path_buf()),
            cert: None,
            trust_domain: signet_tls::DEFAULT_TRUST_DOMAIN.to_string(),
        })
        .expect("load the CA");
        let mut cfg = (*tls.client_config(None).expect("client config")).clone();
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Shared {
            bin: bin.to_path_buf(),
            image: Image::from_dockerfile(),
            root: Root(tempfile::tempdir().expect("temp dir").keep()),
            net,
            provided,
            probe_tls: Arc::new(cfg),
            live: Mutex::new(BTreeMap::new()),
            next_gateway_ip: AtomicUsize::new(0),
            seq: AtomicUsize::new(0),
            round_robin: AtomicUsize::new(0),
            shown: Mutex::new(BTreeSet::new()),
            notes: Mutex::new(Vec::new()),
        }
    }

    /// What the controllers did, for the report (printed as it happens).
    pub fn note(&self, line: String) {
        eprintln!("chart-pods:   {line}");
        self.notes.lock().unwrap().push(line);
    }

    /// The notes since the last call.
    pub fn take_notes(&self) -> Vec<String> {
        std::mem::take(&mut *self.notes.lock().unwrap())
    }

    pub fn ip(&self, last: u8) -> Ipv4Addr {
        Ipv4Addr::new(127, self.net[0], self.net[1], last)
    }

    /// The address of store pod `ordinal`.
    pub fn store_ip(&self, ordinal: u32) -> Ipv4Addr {
        self.ip(10 + ordinal as u8)
    }

    /// The local directory of a PersistentVolumeClaim.
    pub fn pvc_dir(&self, claim: &str) -> PathBuf {
        self.root.path().join("pvc").join(claim)
    }

    /// Whether the pod at `ip` running `container` passes its `kind` probe now.
    pub async fn probe(&self, ip: Ipv4Addr, container: &Value, kind: &str) -> bool {
        probe(ip, container, kind, &self.probe_tls).await
    }

    /// GET `path` on a pod's named container port (plain HTTP).
    pub async fn get(&self, pod: &Pod, port: &str, path: &str) -> Option<(u16, String)> {
        let port = container_port(pod.container(), &json!(port));
        http_get(pod.ip, port, path, None, Duration::from_secs(3)).await
    }

    /// Where the cluster's DNS names lead now: every StatefulSet pod through its headless
    /// Service, and every Service to one of its endpoints (ready ones, unless the Service
    /// publishes not-ready addresses), round robin like kube-proxy.
    pub(super) async fn hosts(&self, render: &Render) -> Vec<Host> {
        let ns = render.namespace();
        let domain = render.cluster_domain();
        let mut hosts = Vec::new();
        for sts in render.of_kind("StatefulSet") {
            let name = sts["metadata"]["name"].as_str().expect("name");
            let svc = sts["spec"]["serviceName"].as_str().expect("serviceName");
            for o in 0..16 {
                hosts.push(Host {
                    name: format!("{name}-{o}.{svc}.{ns}.svc.{domain}"),
                    kind: Kind::PodDns,
                    ip: self.store_ip(o),
                    ports: BTreeMap::new(),
                });
            }
        }
        let live: Vec<(Ipv4Addr, Value, Value)> =
            self.live.lock().unwrap().values().cloned().collect();
        for svc in render.of_kind("Service") {
            let name = svc["metadata"]["name"].as_str().expect("name");
            let selector = svc["spec"]["selector"].as_object().expect("selector");
            let not_ready_too = svc["spec"]["publishNotReadyAddresses"] == true;
            let mut endpoints = Vec::new();
            for (ip, labels, container) in &live {
                let selected = selector.iter().all(|(k, v)| labels[k] == *v);
                if selected && (not_ready_too || self.probe(*ip, container, "readinessProbe").await)
                {
                    endpoints.push((*ip, container.clone()));
                }
            }
            // No endpoint: connections are refused (nothing listens on .254).
            let (ip, container) = match endpoints.len() {
                0 => (self.ip(254), Value::Null),
                n => endpoints[self.round_robin.fetch_add(1, Ordering::Relaxed) % n].clone(),
            };
            let ports = svc["spec"]["ports"]
                .as_array()
                .expect("ports")
                .iter()
                .map(|p| {
                    let port = p["port"].as_u64().expect("port") as u16;
                    let target = match (&p["targetPort"], container.is_null()) {
                        (Value::Null, _) | (_, true) => port,
                        (t, false) => container_port(&container, t),
                    };
                    (port, target)
                })
                .collect::<BTreeMap<u16, u16>>();
            for n in [
                format!("{name}.{ns}.svc.{domain}"),
                format!("{name}.{ns}.svc"),
                format!("{name}.{ns}"),
            ] {
                hosts.push(Host {
                    name: n,
                    kind: Kind::ServiceDns,
                    ip,
                    ports: ports.clone(),
                });
            }
        }
        hosts
    }

    /// The kubelet's variables: HOSTNAME and, unless the pod turns them off, the
    /// docker-link variables of every Service with a cluster IP in the namespace
    /// (`<NAME>_SERVICE_HOST`, `<NAME>_PORT_<port>_TCP`, …). Cluster IPs are made up:
    /// a process that dialled one would fail visibly.
    pub(super) fn kubelet_env(
        &self,
        render: &Render,
        pod: &str,
        spec: &Value,
    ) -> Vec<(String, String)> {
        let mut env = vec![("HOSTNAME".to_string(), pod.to_string())];
        if spec["enableServiceLinks"] == false {
            return env;
        }
        let mut services = vec![("kubernetes".to_string(), vec![("https".to_string(), 443)])];
        for svc in render.of_kind("Service") {
            if svc["spec"]["clusterIP"] == "None" {
                continue;
            }
            let ports = svc["spec"]["ports"]
                .as_array()
                .expect("ports")
                .iter()
                .map(|p| {
                    let name = p["name"].as_str().unwrap_or_default().to_string();
                    (name, p["port"].as_u64().expect("port") as u16)
                })
                .collect();
            let name = svc["metadata"]["name"].as_str().expect("name").to_string();
            services.push((name, ports));
        }
        for (i, (name, ports)) in services.iter().enumerate() {
            let var = name.to_uppercase().replace('-', "_");
            let host = format!("10.96.0.{}", i + 1);
            env.push((format!("{var}_SERVICE_HOST"), host.clone()));
            for (j, (pname, port)) in ports.iter().enumerate() {
                if j == 0 {
                    env.push((format!("{var}_SERVICE_PORT"), port.to_string()));
                    env.push((format!("{var}_PORT"), format!("tcp://{host}:{port}")));
                }
                if !pname.is_empty() {
                    let p = pname.to_uppercase().replace('-', "_");
                    env.push((format!("{var}_SERVICE_PORT_{p}"), port.to_string()));
                }
                let pre = format!("{var}_PORT_{port}_TCP");
                env.push((pre.clone(), format!("tcp://{host}:{port}")));
                env.push((format!("{pre}_PROTO"), "tcp".into()));
                env.push((format!("{pre}_PORT"), port.to_string()));
                env.push((format!("{pre}_ADDR"), host.clone()));
            }
        }
        env
    }

    /// The chart's Secrets and the provided ones.
    pub(super) fn secrets(&self, render: &Render) -> Secrets {
        let mut all = self.provided.clone();
        for s in render.of_kind("Secret") {
            let name = s["metadata"]["name"].as_str().expect("name");
            let data = render.secret(name).expect("rendered Secret");
            assert!(
                !all.contains_key(name),
                "the test provides Secret {name}, which the chart makes too"
            );
            all.insert(name.to_string(), data.into_iter().collect());
        }
        all
    }
}

/// A directory removed on drop, unless the thread is panicking (then its path is printed:
/// every pod's logs are there).
pub struct Root(PathBuf);

impl Root {
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "chart-pods: pod logs and volumes kept in {}",
                self.0.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
