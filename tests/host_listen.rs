//! Listening-socket facts from the real /proc/net/tcp and /proc/net/tcp6: bind real
//! sockets on 127.0.0.1, [::1] and 0.0.0.0 and find them with the right loopback verdict.

mod common;

use stackposture::collect::listeners;
use stackposture::facts::Facts;
use std::net::TcpListener;
use std::path::Path;

fn sockets(f: &Facts) -> Vec<String> {
    f.facts["listen.sockets"]
        .value
        .as_ref()
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn finds_real_ipv4_listeners() {
    let lo = TcpListener::bind("127.0.0.1:0").unwrap();
    let any = TcpListener::bind("0.0.0.0:0").unwrap();
    let mut f = Facts::new();
    listeners::collect(Path::new("/proc"), &mut f);
    let s = sockets(&f);
    let lo_s = format!("127.0.0.1:{}", lo.local_addr().unwrap().port());
    let any_s = format!("0.0.0.0:{}", any.local_addr().unwrap().port());
    assert!(s.contains(&lo_s), "{lo_s} not in {s:?}");
    assert!(s.contains(&any_s), "{any_s} not in {s:?}");
    let all = listeners::parse(&std::fs::read_to_string("/proc/net/tcp").unwrap());
    let l = all
        .iter()
        .find(|l| l.port == lo.local_addr().unwrap().port())
        .unwrap();
    assert!(listeners::is_loopback(&l.addr));
    let a = all
        .iter()
        .find(|l| l.port == any.local_addr().unwrap().port())
        .unwrap();
    assert!(!listeners::is_loopback(&a.addr));
    // A connected (not listening) socket is not reported.
    let c = std::net::TcpStream::connect(lo.local_addr().unwrap()).unwrap();
    let mut f2 = Facts::new();
    listeners::collect(Path::new("/proc"), &mut f2);
    let cport = format!(":{}", c.local_addr().unwrap().port());
    assert!(!sockets(&f2).iter().any(|x| x.ends_with(&cport)));
    // Every watched port has a fact, listening or not.
    for (p, _) in listeners::PORTS {
        assert!(f.facts.contains_key(&format!("listen.port.{p}")));
    }
}

#[test]
fn finds_real_ipv6_loopback_listener() {
    let l = match TcpListener::bind("[::1]:0") {
        Ok(l) => l,
        Err(e) => {
            common::skip(&format!("no IPv6 loopback here ({e})"));
            assert!(std::env::var_os("CI").is_none(), "CI needs IPv6 loopback");
            return;
        }
    };
    let mut f = Facts::new();
    listeners::collect(Path::new("/proc"), &mut f);
    let want = format!("[::1]:{}", l.local_addr().unwrap().port());
    assert!(sockets(&f).contains(&want), "{want} not found");
    let all = listeners::parse(&std::fs::read_to_string("/proc/net/tcp6").unwrap());
    let hit = all
        .iter()
        .find(|x| x.port == l.local_addr().unwrap().port())
        .unwrap();
    assert!(listeners::is_loopback(&hit.addr));
}

#[test]
fn unreadable_proc_is_missing_not_empty() {
    let t = tempfile::tempdir().unwrap();
    let mut f = Facts::new();
    listeners::collect(t.path(), &mut f);
    let g = f.get("listen.port.8096").unwrap();
    assert!(
        g.value.is_none(),
        "no /proc/net/tcp must not read as 'nothing listens'"
    );
}
