//! A userspace TCP proxy between store nodes, for link faults the kernel cannot make here
//! (no netem): added delay per direction, and one-way drops that keep the connection up.
//!
//! One listener per store stands in for that store's Raft address: the store advertises
//! the listener's address, so every peer that calls it goes through the proxy. Each
//! accepted connection is forwarded to the store's real address and copied both ways;
//! rules are looked up for every chunk of bytes, so a rule set at run time applies at once
//! to connections already open (Raft keeps its HTTP/2 connections for the run).
//!
//! Rules are per ordered link, "bytes flowing from store i to store j", which needs the
//! proxy to know who called: a connection's source address names its sender when the
//! stores have addresses of their own (one network namespace each). On a plain loopback
//! every store calls from 127.0.0.1 and no sender can be named: there, only the rules that
//! cover every link ([`ProxyHandle::delay_all`]) apply, and per-link rules hit nothing.
//!
//! When each store also has an address of its own on the proxy's side ([`Route::speak_as`]),
//! the proxy calls a store from the sender's address, so that firewall rules keyed on
//! addresses (the namespaces' iptables cuts) still tell the stores apart through it.

mod pump;

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How long the proxy waits for a store to accept a forwarded connection: a store that is
/// cut off by a partition never answers, and its caller gives up long before the kernel.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Added delay on one direction of a link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delay {
    /// Milliseconds every chunk of bytes waits beyond its arrival.
    pub ms: u64,
    /// Up to this many milliseconds more or less, drawn per chunk (never below zero, and
    /// never letting a chunk overtake the one before it).
    pub jitter_ms: u64,
}

/// One store behind the proxy.
#[derive(Clone, Debug)]
pub struct Route {
    /// Where the listener standing in for this store binds (port 0: any free port).
    pub listen: SocketAddr,
    /// The store's real address, where accepted connections are forwarded.
    pub upstream: SocketAddr,
    /// The address this store's own calls come from, which names it as a sender (None,
    /// or an address shared with another store: its calls cannot be told apart).
    pub sender: Option<IpAddr>,
    /// The local address the proxy calls other stores from on this store's behalf (None:
    /// whatever the kernel picks).
    pub speak_as: Option<IpAddr>,
}

/// What applies to one direction of a link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct LinkRule {
    delay: Delay,
    /// Bytes are read and discarded: the sender sees a live connection whose writes vanish.
    drop: bool,
}

#[derive(Debug, Default)]
struct Rules {
    /// By (from, to), store indexes.
    links: HashMap<(usize, usize), LinkRule>,
    /// Delay on every link, named or not (links with a rule of their own keep theirs).
    all: Option<Delay>,
}

impl Rules {
    fn lookup(&self, from: Option<usize>, to: Option<usize>) -> LinkRule {
        let own = match (from, to) {
            (Some(f), Some(t)) => self.links.get(&(f, t)).copied(),
            _ => None,
        };
        own.unwrap_or(LinkRule {
            delay: self.all.unwrap_or_default(),
            drop: false,
        })
    }
}

/// Shared between the handle and every connection.
#[derive(Debug)]
struct Shared {
    rules: Mutex<Rules>,
    /// Bumped by every heal: connections that lost bytes to a drop close then.
    heals: watch::Sender<u64>,
}

impl Shared {
    fn lookup(&self, from: Option<usize>, to: Option<usize>) -> LinkRule {
        // A panic while holding the lock cannot leave the table half-written (each change
        // is one insert or clear), so a poisoned lock is still good to read.
        self.rules
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .lookup(from, to)
    }

    fn change(&self, f: impl FnOnce(&mut Rules)) {
        f(&mut self.rules.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

/// Changes the rules of a running [`Proxy`]; cheap to clone.
#[derive(Clone, Debug)]
pub struct ProxyHandle {
    shared: Arc<Shared>,
}

impl ProxyHandle {
    /// Delay the bytes that store `from` sends to store `to` (one direction only).
    pub fn delay(&self, from: usize, to: usize, delay: Delay) {
        self.shared.change(|r| {
            r.links.entry((from, to)).or_default().delay = delay;
        });
    }

    /// Delay the bytes on every link, both ways, including connections whose sender the
    /// proxy cannot name (each direction draws its own jitter).
    pub fn delay_all(&self, delay: Delay) {
        self.shared.change(|r| r.all = Some(delay));
    }

    /// Stop delivering the bytes store `from` sends to store `to`: they are read and
    /// discarded, so `from` sees a live connection whose writes vanish, while `to`'s bytes
    /// to `from` still arrive. A connection that lost bytes is closed at the next
    /// [`ProxyHandle::heal`]: its stream has a hole no real network would leave (TCP would
    /// have sent them again), so it ends as a reset would end it.
    pub fn drop_one_way(&self, from: usize, to: usize) {
        self.shared.change(|r| {
            r.links.entry((from, to)).or_default().drop = true;
        });
    }

    /// Clear every rule.
    pub fn heal(&self) {
        self.shared.change(|r| *r = Rules::default());
        self.shared.heals.send_modify(|n| *n += 1);
    }
}

/// A running proxy: one listener per [`Route`], all stopped on drop.
pub struct Proxy {
    addrs: Vec<SocketAddr>,
    handle: ProxyHandle,
    /// The accept loops; each owns the connections it accepted (aborted with it).
    tasks: JoinSet<()>,
}

impl Proxy {
    /// Bind one listener per route (`routes[i]` stands in for store `i`) and start
    /// forwarding.
    pub async fn start(routes: Vec<Route>) -> io::Result<Proxy> {
        let (heals, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            rules: Mutex::new(Rules::default()),
            heals,
        });
        let senders = Arc::new(senders(&routes));
        let routes = Arc::new(routes);
        let mut listeners = Vec::with_capacity(routes.len());
        for r in routes.iter() {
            listeners.push(TcpListener::bind(r.listen).await?);
        }
        let addrs = listeners
            .iter()
            .map(TcpListener::local_addr)
            .collect::<io::Result<Vec<_>>>()?;
        let mut tasks = JoinSet::new();
        for (to, listener) in listeners.into_iter().enumerate() {
            let ctx = Accept {
                to,
                routes: routes.clone(),
                senders: senders.clone(),
                shared: shared.clone(),
            };
            tasks.spawn(ctx.run(listener));
        }
        Ok(Proxy {
            addrs,
            handle: ProxyHandle { shared },
            tasks,
        })
    }

    /// The address standing in for store `index` (what it should advertise).
    pub fn addr(&self, index: usize) -> Option<SocketAddr> {
        self.addrs.get(index).copied()
    }

    /// A handle to change the rules.
    pub fn handle(&self) -> ProxyHandle {
        self.handle.clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.tasks.abort_all();
    }
}

/// Source address → store index, for the addresses that name exactly one store.
fn senders(routes: &[Route]) -> HashMap<IpAddr, usize> {
    let mut count: HashMap<IpAddr, usize> = HashMap::new();
    for ip in routes.iter().filter_map(|r| r.sender) {
        *count.entry(ip).or_default() += 1;
    }
    routes
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some((r.sender?, i)))
        .filter(|(ip, _)| count.get(ip) == Some(&1))
        .collect()
}

/// The accept loop of the listener standing in for store `to`.
struct Accept {
    to: usize,
    routes: Arc<Vec<Route>>,
    senders: Arc<HashMap<IpAddr, usize>>,
    shared: Arc<Shared>,
}

impl Accept {
    async fn run(self, listener: TcpListener) {
        let mut conns = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let from = self.senders.get(&peer.ip()).copied();
                        let (to, shared) = (self.to, self.shared.clone());
                        let upstream = self.dial(from);
                        conns.spawn(async move {
                            if let Ok(Ok(up)) = tokio::time::timeout(CONNECT_TIMEOUT, upstream).await {
                                pump::Conn { from, to: Some(to), shared }.run(stream, up).await;
                            }
                        });
                    }
                    // Out of descriptors or the like: wait instead of spinning.
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                },
                // Reap finished connections so the set does not grow for the whole run.
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
            }
        }
    }

    /// Connect to store `to` for sender `from`, from the sender's own address if it has one.
    fn dial(
        &self,
        from: Option<usize>,
    ) -> impl std::future::Future<Output = io::Result<TcpStream>> {
        let upstream = self.routes[self.to].upstream;
        let speak_as = from.and_then(|f| self.routes[f].speak_as);
        async move {
            let socket = match upstream {
                SocketAddr::V4(_) => TcpSocket::new_v4()?,
                SocketAddr::V6(_) => TcpSocket::new_v6()?,
            };
            if let Some(ip) = speak_as {
                socket.bind(SocketAddr::new(ip, 0))?;
            }
            socket.connect(upstream).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(sender: Option<&str>) -> Route {
        Route {
            listen: "127.0.0.1:0".parse().unwrap(),
            upstream: "127.0.0.1:1".parse().unwrap(),
            sender: sender.map(|s| s.parse().unwrap()),
            speak_as: None,
        }
    }

    #[test]
    fn a_sender_is_named_only_by_an_address_of_its_own() {
        let routes = [
            route(Some("10.0.0.1")),
            route(Some("10.0.0.2")),
            route(Some("10.0.0.2")),
            route(None),
        ];
        let s = senders(&routes);
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(s.get(&"10.0.0.1".parse().unwrap()), Some(&0));
    }

    #[test]
    fn a_link_rule_wins_over_the_delay_on_every_link() {
        let mut r = Rules::default();
        let all = Delay {
            ms: 50,
            jitter_ms: 10,
        };
        r.all = Some(all);
        r.links.insert(
            (0, 1),
            LinkRule {
                delay: Delay::default(),
                drop: true,
            },
        );
        assert!(r.lookup(Some(0), Some(1)).drop);
        assert_eq!(r.lookup(Some(1), Some(0)).delay, all);
        assert_eq!(r.lookup(None, Some(1)).delay, all, "unnamed senders too");
        assert!(!r.lookup(None, Some(1)).drop);
    }
}
