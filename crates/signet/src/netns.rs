//! A private network for a local cluster's store nodes: one network namespace per store,
//! each with a veth link onto a bridge this module makes, so that links between stores can
//! be cut (iptables inside the namespaces) while the gateways, on the host, still reach
//! every store. Needs root (CAP_NET_ADMIN) and iproute2 and iptables; everything made is
//! named after this process and removed on drop.
//!
//! Cuts are made where packets arrive, in the receiving store's INPUT chain:
//! * both ways: every packet from the other side is dropped, at both ends;
//! * one way, `from` ↛ `to`: only packets of connections that `from` opened to `to`
//!   (conntrack's ORIGINAL direction) are dropped at `to`, so `from`'s calls to `to` are
//!   lost while `to`'s calls to `from`, and their answers, go through;
//! * lossy: a share of the packets between two stores is dropped at random, both ways
//!   (iptables' `statistic` match; the kernel here has no netem for delay: the link
//!   proxy, `crate::proxied`, delays instead).
//!
//! When the stores' Raft traffic goes through the proxy, a store's peers see the proxy's
//! address that stands for it ([`Network::proxy_ip`]), so every cut names both.

use anyhow::{bail, Context};
use std::process::Command;

/// A port free on loopback now, for a listener whose address must be known before its
/// process starts (a gateway's HTTP port is part of its public URL; a store behind the link
/// proxy listens where the proxy forwards).
pub fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// The namespaces and bridge of one run.
pub struct Network {
    tag: String,
    subnet: u8,
    stores: usize,
}

fn run(args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .with_context(|| format!("running {}", args[0]))?;
    if !out.status.success() {
        bail!(
            "`{}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

impl Network {
    /// Make the bridge and one namespace per store (`stores` of them).
    pub fn create(stores: usize) -> anyhow::Result<Network> {
        let pid = std::process::id();
        let used = Command::new("ip")
            .args(["-4", "-o", "addr", "show"])
            .output()
            .context("running ip (iproute2 is needed for --faults with partitions)")?;
        let used = String::from_utf8_lossy(&used.stdout).into_owned();
        let subnet = (0..250u32)
            .map(|k| ((pid + k) % 250) as u8)
            .find(|s| !used.contains(&format!("10.213.{s}.")))
            .context("no free 10.213.x.0/24 subnet for the chaos network")?;
        let net = Network {
            tag: format!("sc{}", pid % 100_000),
            subnet,
            stores,
        };
        net.build().inspect_err(|_| net.teardown())?;
        Ok(net)
    }

    fn build(&self) -> anyhow::Result<()> {
        let bridge = self.bridge();
        run(&["ip", "link", "add", &bridge, "type", "bridge"])?;
        let host = format!("10.213.{}.254/24", self.subnet);
        run(&["ip", "addr", "add", &host, "dev", &bridge])?;
        run(&["ip", "link", "set", &bridge, "up"])?;
        for i in 0..self.stores {
            // The address the link proxy (`crate::proxied`) speaks for store i from.
            let alias = format!("{}/24", self.proxy_ip(i));
            run(&["ip", "addr", "add", &alias, "dev", &bridge])?;
        }
        for i in 0..self.stores {
            let (ns, outside, inside) = (self.ns(i), self.veth(i, 'h'), self.veth(i, 'n'));
            run(&["ip", "netns", "add", &ns])?;
            run(&[
                "ip", "link", "add", &outside, "type", "veth", "peer", "name", &inside,
            ])?;
            run(&["ip", "link", "set", &outside, "master", &bridge, "up"])?;
            run(&["ip", "link", "set", &inside, "netns", &ns])?;
            let addr = format!("{}/24", self.ip(i));
            run(&["ip", "-n", &ns, "addr", "add", &addr, "dev", &inside])?;
            run(&["ip", "-n", &ns, "link", "set", &inside, "up"])?;
            run(&["ip", "-n", &ns, "link", "set", "lo", "up"])?;
            // Track connections from their first packet, so that a one-way cut knows who
            // opened each one: a connection first seen mid-stream would be taken to be
            // opened by whoever sent next. A conntrack rule turns tracking on in the
            // namespace; this one (in OUTPUT, which `heal` leaves alone) accepts what it
            // matches, as the chain would anyway.
            run(&[
                "ip",
                "netns",
                "exec",
                &ns,
                "iptables",
                "-w",
                "-A",
                "OUTPUT",
                "-m",
                "conntrack",
                "--ctstate",
                "NEW,ESTABLISHED,RELATED,INVALID",
                "-j",
                "ACCEPT",
            ])?;
        }
        Ok(())
    }

    fn teardown(&self) {
        for i in 0..self.stores {
            let _ = run(&["ip", "netns", "del", &self.ns(i)]);
            let _ = run(&["ip", "link", "del", &self.veth(i, 'h')]);
        }
        let _ = run(&["ip", "link", "del", &self.bridge()]);
    }

    fn bridge(&self) -> String {
        format!("{}br", self.tag)
    }

    fn ns(&self, i: usize) -> String {
        format!("{}-store-{}", self.tag, i + 1)
    }

    fn veth(&self, i: usize, side: char) -> String {
        format!("{}{side}{}", self.tag, i + 1)
    }

    /// Store `i`'s address (0-based).
    pub fn ip(&self, i: usize) -> String {
        format!("10.213.{}.{}", self.subnet, i + 1)
    }

    /// The host-side address that stands for store `i` (0-based) on the link proxy: its
    /// listener for calls to `i`, and the source of its calls on `i`'s behalf, so that the
    /// cuts below still tell the stores apart when their traffic goes through it.
    pub fn proxy_ip(&self, i: usize) -> String {
        format!("10.213.{}.{}", self.subnet, i + 101)
    }

    /// The command prefix that runs a program inside store `i`'s namespace (`ip netns
    /// exec` execs it: the child's pid is the program's).
    pub fn wrap(&self, i: usize) -> Vec<String> {
        ["ip", "netns", "exec", &self.ns(i)]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    /// Drop at `at` what comes from `from`: from its own address, and from the proxy's
    /// address that speaks for it.
    fn drop_at(&self, at: usize, from: usize, extra: &[&str]) -> anyhow::Result<()> {
        let ns = self.ns(at);
        for src in [self.ip(from), self.proxy_ip(from)] {
            let mut args = vec![
                "ip", "netns", "exec", &ns, "iptables", "-w", "-A", "INPUT", "-s", &src,
            ];
            args.extend_from_slice(extra);
            args.extend_from_slice(&["-j", "DROP"]);
            run(&args)?;
        }
        Ok(())
    }

    /// Cut every link between a store of `side` and a store not in it, both ways.
    pub fn isolate(&self, side: &[usize]) -> anyhow::Result<()> {
        for &a in side {
            for b in (0..self.stores).filter(|b| !side.contains(b)) {
                self.drop_at(a, b, &[])?;
                self.drop_at(b, a, &[])?;
            }
        }
        Ok(())
    }

    /// `from`'s calls to every other store are lost; theirs to it go through.
    pub fn mute(&self, from: usize) -> anyhow::Result<()> {
        for to in (0..self.stores).filter(|&t| t != from) {
            self.drop_at(to, from, &["-m", "conntrack", "--ctdir", "ORIGINAL"])?;
        }
        Ok(())
    }

    /// Drop `percent` of the packets on every link of store `i`, both ways.
    pub fn lossy(&self, i: usize, percent: u8) -> anyhow::Result<()> {
        let p = format!("{:.2}", f64::from(percent.min(100)) / 100.0);
        let rule = ["-m", "statistic", "--mode", "random", "--probability", &p];
        for other in (0..self.stores).filter(|&o| o != i) {
            self.drop_at(i, other, &rule)?;
            self.drop_at(other, i, &rule)?;
        }
        Ok(())
    }

    /// Remove every cut.
    pub fn heal(&self) -> anyhow::Result<()> {
        for i in 0..self.stores {
            let ns = self.ns(i);
            run(&["ip", "netns", "exec", &ns, "iptables", "-w", "-F", "INPUT"])?;
        }
        Ok(())
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        self.teardown();
    }
}
