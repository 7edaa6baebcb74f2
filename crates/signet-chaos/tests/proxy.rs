//! The link proxy with plain sockets on loopback: stores are test servers, and each
//! "store" calls from a loopback address of its own (127.0.0.2, .3, …, which Linux
//! answers on `lo` without setup), so the proxy can tell the senders apart as it does
//! with the stores' network namespaces.

use signet_chaos::proxy::{Delay, Proxy, Route};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::mpsc;

/// Store `i` calls from this address.
fn ip_of(i: usize) -> String {
    format!("127.0.0.{}", i + 2)
}

/// A store that hands every connection it accepts to the test.
async fn store() -> (SocketAddr, mpsc::UnboundedReceiver<TcpStream>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            if tx.send(s).is_err() {
                return;
            }
        }
    });
    (addr, rx)
}

/// A store that echoes every byte back.
async fn echo() -> SocketAddr {
    let (addr, mut accepted) = store().await;
    tokio::spawn(async move {
        while let Some(mut s) = accepted.recv().await {
            tokio::spawn(async move {
                let (mut rd, mut wr) = s.split();
                let _ = tokio::io::copy(&mut rd, &mut wr).await;
            });
        }
    });
    addr
}

/// A proxy in front of `upstreams` (store `i` behind listener `i`), store `i` named by
/// [`ip_of`].
async fn proxy(upstreams: &[SocketAddr]) -> Proxy {
    let routes = upstreams
        .iter()
        .enumerate()
        .map(|(i, up)| Route {
            listen: "127.0.0.1:0".parse().unwrap(),
            upstream: *up,
            sender: Some(ip_of(i).parse().unwrap()),
            speak_as: None,
        })
        .collect();
    Proxy::start(routes).await.unwrap()
}

/// Store `from` calls store `to` through the proxy.
async fn call(p: &Proxy, from: &str, to: usize) -> TcpStream {
    let s = TcpSocket::new_v4().unwrap();
    s.bind(format!("{from}:0").parse().unwrap()).unwrap();
    let s = s.connect(p.addr(to).unwrap()).await.unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// One byte there and back.
async fn round_trip(s: &mut TcpStream) -> Duration {
    let t = Instant::now();
    s.write_all(&[7]).await.unwrap();
    let mut b = [0u8; 1];
    s.read_exact(&mut b).await.unwrap();
    assert_eq!(b, [7]);
    t.elapsed()
}

/// What arrives on `s` within `wait` (None: nothing did).
async fn arrives(s: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 64];
    match tokio::time::timeout(wait, s.read(&mut buf)).await {
        Ok(Ok(n)) => Some(buf[..n].to_vec()),
        Ok(Err(e)) => panic!("read failed: {e}"),
        Err(_) => None,
    }
}

const MS: fn(u64) -> Duration = Duration::from_millis;
/// Room for a loaded two-core machine above what the rules add.
const SLACK: Duration = Duration::from_millis(250);

#[tokio::test]
async fn delay_applies_per_direction_of_a_link_to_open_connections_and_heals() {
    let up = echo().await;
    let p = proxy(&[up, up, up]).await;
    let h = p.handle();
    let mut c01 = call(&p, &ip_of(0), 1).await;
    let mut c21 = call(&p, &ip_of(2), 1).await;
    assert!(round_trip(&mut c01).await < SLACK, "no rule, no delay");

    // 150 ms each way on the link 0 ↔ 1, set while the connection is open.
    let d = Delay {
        ms: 150,
        jitter_ms: 0,
    };
    h.delay(0, 1, d);
    h.delay(1, 0, d);
    for _ in 0..3 {
        let rtt = round_trip(&mut c01).await;
        assert!(rtt >= MS(300) && rtt < MS(300) + SLACK, "{rtt:?}");
    }
    // Another sender to the same store is not on that link.
    assert!(round_trip(&mut c21).await < SLACK);

    // One direction only: the answers (1 → 0) are no longer delayed.
    h.heal();
    h.delay(0, 1, d);
    let rtt = round_trip(&mut c01).await;
    assert!(rtt >= MS(150) && rtt < MS(150) + SLACK, "{rtt:?}");

    h.heal();
    assert!(round_trip(&mut c01).await < SLACK, "healed");
    let mut fresh = call(&p, &ip_of(0), 1).await;
    assert!(
        round_trip(&mut fresh).await < SLACK,
        "healed, new connection"
    );
}

#[tokio::test]
async fn a_sender_the_proxy_cannot_name_is_delayed_only_by_the_rule_on_every_link() {
    let up = echo().await;
    let p = proxy(&[up, up]).await;
    let h = p.handle();
    // 127.0.0.1 is no store's address.
    let mut anon = call(&p, "127.0.0.1", 1).await;
    h.delay(
        0,
        1,
        Delay {
            ms: 200,
            jitter_ms: 0,
        },
    );
    assert!(
        round_trip(&mut anon).await < SLACK,
        "a link rule cannot apply"
    );
    h.delay_all(Delay {
        ms: 100,
        jitter_ms: 0,
    });
    let rtt = round_trip(&mut anon).await;
    assert!(rtt >= MS(200) && rtt < MS(200) + SLACK, "{rtt:?}");
}

#[tokio::test]
async fn jittered_delays_deliver_every_byte_in_order() {
    let up = echo().await;
    let p = proxy(&[up, up]).await;
    p.handle().delay_all(Delay {
        ms: 20,
        jitter_ms: 20,
    });
    let c = call(&p, &ip_of(0), 1).await;
    let (mut rd, mut wr) = c.into_split();
    const N: u32 = 300;
    let send = tokio::spawn(async move {
        // Paced, so that the numbers arrive as many chunks, each drawing its own jitter.
        let mut tick = tokio::time::interval(MS(1));
        for i in 0..N {
            tick.tick().await;
            wr.write_all(&i.to_be_bytes()).await.unwrap();
        }
        wr
    });
    let mut got = vec![0u8; 4 * N as usize];
    tokio::time::timeout(MS(10_000), rd.read_exact(&mut got))
        .await
        .expect("every byte came back")
        .unwrap();
    let numbers: Vec<u32> = got
        .chunks(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(numbers, (0..N).collect::<Vec<_>>());
    send.await.unwrap();
}

#[tokio::test]
async fn a_one_way_drop_loses_one_direction_only_and_heal_resets_the_connection() {
    let (up, mut accepted) = store().await;
    let p = proxy(&[up, up]).await;
    let h = p.handle();
    let mut caller = call(&p, &ip_of(0), 1).await;
    let mut callee = accepted.recv().await.unwrap();
    caller.write_all(b"ping").await.unwrap();
    assert_eq!(arrives(&mut callee, MS(2000)).await.unwrap(), b"ping");

    // 0 → 1 lost: the caller keeps writing into a live connection (a megabyte, more than
    // any socket buffer holds) and none of it arrives, while 1's bytes still reach 0.
    h.drop_one_way(0, 1);
    for _ in 0..256 {
        caller.write_all(&[1u8; 4096]).await.unwrap();
    }
    callee.write_all(b"pong").await.unwrap();
    assert_eq!(arrives(&mut caller, MS(2000)).await.unwrap(), b"pong");
    assert_eq!(arrives(&mut callee, MS(500)).await, None, "0 → 1 dropped");

    // Healing ends the connection that lost bytes (its stream has a hole).
    h.heal();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(MS(2000), caller.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the caller's connection was closed");

    // The other way round on a new connection: 1 → 0 lost, 0 → 1 delivered.
    let mut caller = call(&p, &ip_of(0), 1).await;
    let mut callee = accepted.recv().await.unwrap();
    h.drop_one_way(1, 0);
    callee.write_all(b"lost").await.unwrap();
    caller.write_all(b"kept").await.unwrap();
    assert_eq!(arrives(&mut callee, MS(2000)).await.unwrap(), b"kept");
    assert_eq!(arrives(&mut caller, MS(500)).await, None, "1 → 0 dropped");

    // A link not named is untouched: store 1 calling store 0's listener is 1 → 0 too,
    // but a call from an unnamed address is not.
    h.heal();
    let mut other = call(&p, "127.0.0.1", 1).await;
    let mut callee = accepted.recv().await.unwrap();
    h.drop_one_way(1, 0);
    callee.write_all(b"seen").await.unwrap();
    assert_eq!(arrives(&mut other, MS(2000)).await.unwrap(), b"seen");

    // After healing a fresh connection carries both ways.
    h.heal();
    let mut caller = call(&p, &ip_of(0), 1).await;
    let mut callee = accepted.recv().await.unwrap();
    caller.write_all(b"a").await.unwrap();
    callee.write_all(b"b").await.unwrap();
    assert_eq!(arrives(&mut callee, MS(2000)).await.unwrap(), b"a");
    assert_eq!(arrives(&mut caller, MS(2000)).await.unwrap(), b"b");
}
