//! A local cluster's Raft traffic through the link proxy (`signet_chaos::proxy`), run in
//! this process, for the faults the kernel cannot make here: delay on a link, per
//! direction.
//!
//! Each store listens on a real Raft address fixed before it starts and advertises the
//! proxy's listener for it instead, so every call a peer makes to it (votes, appends,
//! snapshots) goes through the proxy; a restarted store, or the node that replaces a wiped
//! one at the same index, binds the same real address and advertises the same listener.
//!
//! In the stores' own network (`crate::netns`) each store calls from its own address, so
//! the proxy knows the sender of every connection and every rule is per ordered link; it
//! calls a store from the address that stands for the sender ([`Network::proxy_ip`]), so
//! the network's cuts still apply through it. On loopback every store calls from
//! 127.0.0.1: only rules on every link apply there.

use crate::netns::Network;
use anyhow::Context;
use signet_chaos::proxy::{Proxy, ProxyHandle, Route};
use std::net::{IpAddr, SocketAddr};

/// The real Raft port of a store in a namespace of its own (the namespace's API port is
/// drawn by the kernel from the ephemeral range, so the two never meet).
const RAFT_PORT: u16 = 7401;

/// The proxy of one run and where each store really listens.
pub struct Proxied {
    proxy: Proxy,
    /// Each store's real Raft address, by index.
    real: Vec<SocketAddr>,
}

fn ip(s: &str) -> anyhow::Result<IpAddr> {
    s.parse().with_context(|| format!("not an address: {s}"))
}

impl Proxied {
    /// Start one listener for each of `stores` stores, on `net`'s host side when given.
    pub async fn start(stores: usize, net: Option<&Network>) -> anyhow::Result<Proxied> {
        let mut routes = Vec::with_capacity(stores);
        for i in 0..stores {
            routes.push(match net {
                Some(n) => Route {
                    listen: SocketAddr::new(ip(&n.proxy_ip(i))?, 0),
                    upstream: SocketAddr::new(ip(&n.ip(i))?, RAFT_PORT),
                    sender: Some(ip(&n.ip(i))?),
                    speak_as: Some(ip(&n.proxy_ip(i))?),
                },
                None => {
                    let port = crate::netns::free_port()?;
                    let lo = IpAddr::from([127, 0, 0, 1]);
                    Route {
                        listen: SocketAddr::new(lo, 0),
                        upstream: SocketAddr::new(lo, port),
                        sender: None,
                        speak_as: None,
                    }
                }
            });
        }
        let real = routes.iter().map(|r| r.upstream).collect();
        let proxy = Proxy::start(routes)
            .await
            .context("starting the link proxy")?;
        Ok(Proxied { proxy, real })
    }

    /// Changes the proxy's rules.
    pub fn handle(&self) -> ProxyHandle {
        self.proxy.handle()
    }

    /// Make the arguments of the store at `index` listen on its real Raft address and
    /// advertise the proxy's listener for it.
    pub fn place(&self, index: usize, args: &mut Vec<String>) -> anyhow::Result<()> {
        let (real, front) = (self.real.get(index), self.proxy.addr(index));
        let (Some(real), Some(front)) = (real, front) else {
            anyhow::bail!("the link proxy has no listener for store index {index}");
        };
        let at = args
            .iter()
            .position(|a| a == "--raft-addr")
            .context("store arguments without --raft-addr")?;
        args[at + 1] = real.to_string();
        if let Some(i) = args.iter().position(|a| a == "--advertise-raft-addr") {
            args.drain(i..(i + 2).min(args.len()));
        }
        args.extend(["--advertise-raft-addr".to_string(), front.to_string()]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_store_listens_on_its_real_address_and_advertises_the_proxy() {
        let p = Proxied::start(2, None).await.unwrap();
        let mut args: Vec<String> = ["store", "--raft-addr", "127.0.0.1:0", "--init"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        p.place(1, &mut args).unwrap();
        let front = p.proxy.addr(1).unwrap().to_string();
        assert_eq!(args[2], p.real[1].to_string());
        assert_ne!(args[2], front);
        assert_eq!(
            &args[4..],
            ["--advertise-raft-addr".to_string(), front.clone()]
        );
        // Placing again (a restart's arguments) leaves one advertised address.
        p.place(1, &mut args).unwrap();
        assert_eq!(args.iter().filter(|a| **a == front).count(), 1);
        assert!(p.place(2, &mut args).is_err());
    }
}
