//! From a rendered container to a local process: the container's `command`/`args`/`env`
//! resolved as the kubelet does (`$(VAR)` references, downward-API `fieldRef`s,
//! `secretKeyRef`s), then only what the environment forces rewritten, each rewrite
//! recorded and checked.

use super::render::Image;
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// Why a piece of a rendered argument was changed. Nothing else may change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// The image's ENTRYPOINT path → the `signet` binary cargo built.
    Entrypoint,
    /// A path under a volumeMount → the local directory standing for that volume (a PVC,
    /// a Secret, an emptyDir).
    MountPath,
    /// `<pod>.<headless service>.<ns>.svc.<domain>` → the pod's loopback address (there is
    /// no cluster DNS here).
    PodDns,
    /// A Service's name → the address of one of its ready endpoints, the port mapped to
    /// the targetPort (what kube-proxy does for a ClusterIP).
    ServiceDns,
    /// `0.0.0.0:PORT` → `<pod address>:PORT`: every pod has its own network namespace,
    /// local processes share one, so each "pod" listens on its own loopback address.
    ListenAll,
}

/// One rewrite: `from` (as rendered) became `to`.
#[derive(Clone, Debug)]
pub struct Rewrite {
    pub kind: Kind,
    pub from: String,
    pub to: String,
}

/// A name the cluster's DNS would answer, and where it leads here.
#[derive(Clone, Debug)]
pub struct Host {
    pub name: String,
    pub kind: Kind,
    pub ip: Ipv4Addr,
    /// Service port → container port (empty: the port stays).
    pub ports: BTreeMap<u16, u16>,
}

/// The pod being started, as the downward API sees it.
pub struct PodRef<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    pub ip: Ipv4Addr,
    pub service_account: &'a str,
}

/// Everything a container's start needs from its surroundings.
pub struct World<'a> {
    pub hosts: &'a [Host],
    /// Secret name → key → value (the chart's own Secrets and the test-provided ones).
    pub secrets: &'a BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    /// Variables the kubelet adds: HOSTNAME and the Services' link variables.
    pub kubelet_env: Vec<(String, String)>,
    /// mountPath → local directory, for this pod's volumes.
    pub mounts: &'a [(String, PathBuf)],
    pub image: &'a Image,
    pub binary: &'a Path,
    /// The working directory when no volume covers the image's WORKDIR.
    pub workdir_fallback: &'a Path,
}

/// A container, ready to run as a local process.
#[derive(Clone, Debug)]
pub struct Launch {
    pub program: PathBuf,
    /// The argument vector after $(VAR) expansion, as the container would run it.
    pub rendered: Vec<String>,
    /// The same after the rewrites: what the local process runs.
    pub args: Vec<String>,
    /// Rewrites of each argument (same index as `args`).
    pub rewrites: Vec<Vec<Rewrite>>,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
}

impl Launch {
    pub fn build(container: &Value, pod: &PodRef, world: &World) -> Launch {
        for unsupported in ["envFrom", "workingDir"] {
            assert!(
                container.get(unsupported).is_none(),
                "the harness does not implement {unsupported} (container {})",
                container["name"]
            );
        }
        let env = resolve_env(container, pod, world);
        let lookup = |name: &str| {
            env.iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let strings = |key: &str| -> Option<Vec<String>> {
            container.get(key).map(|v| {
                v.as_array()
                    .unwrap_or_else(|| panic!("{key} is a list"))
                    .iter()
                    .map(|s| expand(s.as_str().expect("string"), &lookup))
                    .collect()
            })
        };
        // The kubelet: `command` replaces the image's ENTRYPOINT, `args` its CMD.
        let command = strings("command").unwrap_or_else(|| world.image.entrypoint.clone());
        let args = strings("args").unwrap_or_default();
        assert_eq!(
            command.first(),
            world.image.entrypoint.first(),
            "the container runs something else than the image's signet binary"
        );
        let rendered: Vec<String> = command.into_iter().skip(1).chain(args).collect();
        let mut out = Vec::new();
        let mut rewrites = Vec::new();
        for arg in &rendered {
            let (a, r) = rewrite(arg, pod.ip, world);
            out.push(a);
            rewrites.push(r);
        }
        let env = env
            .into_iter()
            .map(|(k, v)| {
                let (v, r) = rewrite(&v, pod.ip, world);
                assert!(
                    r.iter().all(|r| r.kind != Kind::MountPath),
                    "env {k} names a mounted path: {r:?}"
                );
                (k, v)
            })
            .collect();
        let cwd = local_path(&world.image.workdir, world.mounts)
            .unwrap_or_else(|| world.workdir_fallback.to_path_buf());
        let launch = Launch {
            program: world.binary.to_path_buf(),
            rendered,
            args: out,
            rewrites,
            env,
            cwd,
        };
        launch.check();
        launch
    }

    /// Nothing but the listed rewrites changed: the same arguments in the same order, the
    /// same flag names, and every changed value is its rendered value with the recorded
    /// substitutions.
    pub fn check(&self) {
        assert_eq!(
            self.rendered.len(),
            self.args.len(),
            "argument count changed"
        );
        for ((before, after), rws) in self.rendered.iter().zip(&self.args).zip(&self.rewrites) {
            let flag = |s: &str| {
                s.strip_prefix("--")
                    .map(|f| f.split('=').next().unwrap_or_default().to_string())
            };
            assert_eq!(
                flag(before),
                flag(after),
                "flag changed: {before} → {after}"
            );
            let mut undone = after.clone();
            for r in rws.iter().rev() {
                let at = undone
                    .rfind(&r.to)
                    .unwrap_or_else(|| panic!("rewrite {r:?} not found in {after}"));
                undone.replace_range(at..at + r.to.len(), &r.from);
            }
            assert_eq!(
                &undone, before,
                "{before} changed beyond its rewrites {rws:?}"
            );
            if rws.is_empty() {
                assert_eq!(before, after);
            }
        }
    }

    /// Every rewrite, one line each, for the report.
    pub fn describe(&self, image: &Image) -> Vec<String> {
        let entry = format!(
            "{:?}: {} → {}",
            Kind::Entrypoint,
            image.entrypoint[0],
            self.program.display()
        );
        let mut seen = std::collections::BTreeSet::new();
        std::iter::once(entry)
            .chain(
                self.rewrites
                    .iter()
                    .flatten()
                    .map(|r| format!("{:?}: {} → {}", r.kind, r.from, r.to)),
            )
            .filter(|l| seen.insert(l.clone()))
            .collect()
    }
}

/// The container's environment: the kubelet's variables, then `env` in order.
fn resolve_env(container: &Value, pod: &PodRef, world: &World) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = world.kubelet_env.clone();
    for e in container["env"].as_array().into_iter().flatten() {
        let name = e["name"].as_str().expect("env name").to_string();
        let value = if let Some(v) = e.get("value") {
            let so_far = env.clone();
            let lookup = |n: &str| {
                so_far
                    .iter()
                    .rev()
                    .find(|(k, _)| k == n)
                    .map(|(_, v)| v.clone())
            };
            expand(v.as_str().expect("env value"), &lookup)
        } else if let Some(f) = e["valueFrom"].get("fieldRef") {
            match f["fieldPath"].as_str().expect("fieldPath") {
                "metadata.name" => pod.name.to_string(),
                "metadata.namespace" => pod.namespace.to_string(),
                "status.podIP" | "status.podIPs" => pod.ip.to_string(),
                "spec.serviceAccountName" => pod.service_account.to_string(),
                other => panic!("the harness does not implement fieldRef {other} (env {name})"),
            }
        } else if let Some(s) = e["valueFrom"].get("secretKeyRef") {
            let secret = s["name"].as_str().expect("secret name");
            let key = s["key"].as_str().expect("secret key");
            match world.secrets.get(secret).and_then(|d| d.get(key)) {
                Some(v) => String::from_utf8(v.clone()).expect("utf-8 secret"),
                None if s["optional"] == true => continue,
                None => panic!(
                    "env {name} needs key {key} of Secret {secret}, which neither the chart \
                     nor the test provides"
                ),
            }
        } else {
            panic!("the harness does not implement env {e}");
        };
        env.retain(|(k, _)| *k != name);
        env.push((name, value));
    }
    env
}

/// Kubernetes' `$(VAR)` expansion: defined variables are replaced, `$$` is a literal `$`,
/// unknown references stay as they are.
pub fn expand(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("$$") {
            out.push('$');
            rest = after;
        } else if let Some((name, after)) = tail.strip_prefix("$(").and_then(|t| t.split_once(')'))
        {
            match lookup(name) {
                Some(v) => out.push_str(&v),
                None => out.push_str(&tail[..name.len() + 3]),
            }
            rest = after;
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// The local path of `path` inside the container, if a volume is mounted over it.
pub fn local_path(path: &str, mounts: &[(String, PathBuf)]) -> Option<PathBuf> {
    let (mp, dir) = mounts
        .iter()
        .filter(|(mp, _)| {
            path == mp
                || path
                    .strip_prefix(mp.as_str())
                    .is_some_and(|r| r.starts_with('/'))
        })
        .max_by_key(|(mp, _)| mp.len())?;
    let rest = path[mp.len()..].trim_start_matches('/');
    Some(if rest.is_empty() {
        dir.clone()
    } else {
        dir.join(rest)
    })
}

/// Rewrite one string: mounted paths, cluster DNS names (with their port) and listen-all
/// addresses; everything else is copied.
fn rewrite(s: &str, pod_ip: Ipv4Addr, world: &World) -> (String, Vec<Rewrite>) {
    let mut mounts: Vec<&(String, PathBuf)> = world.mounts.iter().collect();
    mounts.sort_by_key(|(mp, _)| std::cmp::Reverse(mp.len()));
    let mut hosts: Vec<&Host> = world.hosts.iter().collect();
    hosts.sort_by_key(|h| std::cmp::Reverse(h.name.len()));
    let mut out = String::new();
    let mut done = Vec::new();
    let mut i = 0;
    'scan: while i < s.len() {
        let prev = s[..i].chars().last();
        let rest = &s[i..];
        // A path starts a value: after `=`, `,`, `:` or at the start.
        if prev.is_none_or(|c| "=,: ".contains(c)) {
            for (mp, dir) in &mounts {
                let after = rest.strip_prefix(mp.as_str());
                if after.is_some_and(|a| a.is_empty() || a.starts_with(['/', ',', ' '])) {
                    let to = dir.to_str().expect("utf-8 path").to_string();
                    out.push_str(&to);
                    done.push(Rewrite {
                        kind: Kind::MountPath,
                        from: mp.clone(),
                        to,
                    });
                    i += mp.len();
                    continue 'scan;
                }
            }
        }
        // A host name starts after `=`, `,`, `/` (a URL), `@` or at the start, and ends
        // before `:`, `,`, `/` or the end.
        if prev.is_none_or(|c| "=,/@ ".contains(c)) {
            for h in &hosts {
                let Some(after) = rest.strip_prefix(h.name.as_str()) else {
                    continue;
                };
                if !(after.is_empty() || after.starts_with([':', ',', '/', ' '])) {
                    continue;
                }
                let digits: String = after
                    .strip_prefix(':')
                    .map(|p| p.chars().take_while(char::is_ascii_digit).collect())
                    .unwrap_or_default();
                let (from, to) = if digits.is_empty() {
                    (h.name.clone(), h.ip.to_string())
                } else {
                    let port: u16 = digits.parse().expect("port");
                    let target = h.ports.get(&port).copied().unwrap_or(port);
                    assert!(
                        h.ports.is_empty() || h.ports.contains_key(&port),
                        "{} has no port {port}",
                        h.name
                    );
                    (format!("{}:{port}", h.name), format!("{}:{target}", h.ip))
                };
                i += from.len();
                out.push_str(&to);
                done.push(Rewrite {
                    kind: h.kind,
                    from,
                    to,
                });
                continue 'scan;
            }
            if rest.starts_with("0.0.0.0:") {
                let to = format!("{pod_ip}:");
                out.push_str(&to);
                done.push(Rewrite {
                    kind: Kind::ListenAll,
                    from: "0.0.0.0:".into(),
                    to,
                });
                i += "0.0.0.0:".len();
                continue 'scan;
            }
        }
        let c = rest.chars().next().expect("a char");
        out.push(c);
        i += c.len_utf8();
    }
    (out, done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch() -> Launch {
        let image = Image {
            entrypoint: vec!["/usr/local/bin/signet".into()],
            workdir: "/var/lib/signet".into(),
        };
        let hosts = [Host {
            name: "p-1.h.ns.svc.cluster.local".into(),
            kind: Kind::PodDns,
            ip: Ipv4Addr::new(127, 0, 0, 9),
            ports: BTreeMap::new(),
        }];
        let mounts = [("/var/lib/signet".to_string(), PathBuf::from("/x/pvc"))];
        let secrets = BTreeMap::new();
        let world = World {
            hosts: &hosts,
            secrets: &secrets,
            kubelet_env: vec![("HOSTNAME".into(), "p-0".into())],
            mounts: &mounts,
            image: &image,
            binary: Path::new("/bin/signet"),
            workdir_fallback: Path::new("/nowhere"),
        };
        let container = serde_json::json!({
            "name": "c",
            "args": ["store", "--data-dir=/var/lib/signet/store", "--api-addr=0.0.0.0:7401",
                     "--peers=p-1.h.ns.svc.cluster.local:7401", "--log=/var/lib/signetx",
                     "--advertise=$(POD_NAME).h:1"],
            "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        });
        let pod = PodRef {
            name: "p-0",
            namespace: "ns",
            ip: Ipv4Addr::new(127, 0, 0, 5),
            service_account: "sa",
        };
        Launch::build(&container, &pod, &world)
    }

    #[test]
    fn only_mounts_dns_names_and_listen_all_addresses_are_rewritten() {
        let l = launch();
        assert_eq!(
            l.args,
            [
                "store",
                "--data-dir=/x/pvc/store",
                "--api-addr=127.0.0.5:7401",
                "--peers=127.0.0.9:7401",
                "--log=/var/lib/signetx",
                "--advertise=p-0.h:1",
            ]
        );
        assert_eq!(l.cwd, PathBuf::from("/x/pvc"));
        assert!(l.env.contains(&("POD_NAME".into(), "p-0".into())));
    }

    #[test]
    #[should_panic(expected = "flag changed")]
    fn a_changed_flag_is_caught() {
        let mut l = launch();
        l.args[1] = "--data=/x/pvc/store".into();
        l.check();
    }

    #[test]
    #[should_panic(expected = "changed beyond its rewrites")]
    fn a_changed_value_is_caught() {
        let mut l = launch();
        l.args[2] = "--api-addr=127.0.0.5:7402".into();
        l.check();
    }

    #[test]
    fn dollar_references_expand_like_kubernetes() {
        let lookup = |n: &str| (n == "POD_NAME").then(|| "p-0".to_string());
        assert_eq!(expand("$(POD_NAME).x:1", &lookup), "p-0.x:1");
        assert_eq!(expand("$$(POD_NAME)", &lookup), "$(POD_NAME)");
        assert_eq!(expand("$(NOPE)-$", &lookup), "$(NOPE)-$");
    }
}
