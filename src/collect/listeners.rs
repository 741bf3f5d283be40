//! Listening TCP sockets from `/proc/net/tcp` and `/proc/net/tcp6` (no shell, no `ss`).
//!
//! This is host state of the machine the auditor runs on (and of its network namespace),
//! not of a `--root` tree: see `collect::host` for when it is collected.
//!
//! Facts: `listen.sockets` (every listening `address:port`, sorted) and
//! `listen.port.<port>` for each port a management server may open
//! (the ports of `client/conf/server.properties.in` and the agent/cluster settings):
//! `{port, service, listening, addresses, non_loopback}`.

use crate::facts::{Fact, Facts, MissingReason, SourceStatus};
use serde_json::json;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

/// Ports a management server (or its database) may listen on, with what they are.
pub const PORTS: &[(u16, &str)] = &[
    (8080, "Jetty HTTP (UI and API, no TLS)"),
    (8443, "Jetty HTTPS (UI and API)"),
    (8250, "agent / system VM channel"),
    (9090, "cluster servlet (MS to MS)"),
    (8096, "integration API (unauthenticated)"),
    (8097, "secret-key receiver (web encryption type)"),
    (8000, "JDWP remote debugging"),
    (3306, "MySQL/MariaDB"),
    (9595, "Prometheus exporter"),
];

/// Most sockets recorded in `listen.sockets`.
pub const MAX_SOCKETS: usize = 4096;
const CAP: u64 = 32 * 1024 * 1024;

/// One listening socket.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Listener {
    pub addr: IpAddr,
    pub port: u16,
}

impl Listener {
    pub fn text(&self) -> String {
        match self.addr {
            IpAddr::V4(a) => format!("{a}:{}", self.port),
            IpAddr::V6(a) => format!("[{a}]:{}", self.port),
        }
    }
}

/// Whether only the host itself can reach an address (127/8, ::1, v4-mapped 127/8).
pub fn is_loopback(a: &IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => v.is_loopback(),
        IpAddr::V6(v) => v.is_loopback() || v.to_ipv4_mapped().is_some_and(|m| m.is_loopback()),
    }
}

fn parse_addr(hex: &str) -> Option<(IpAddr, u16)> {
    let (a, p) = hex.split_once(':')?;
    let port = u16::from_str_radix(p, 16).ok()?;
    // The kernel prints each 32-bit word of the address in host byte order.
    let addr = match a.len() {
        8 => {
            let w = u32::from_str_radix(a, 16).ok()?;
            IpAddr::V4(Ipv4Addr::from(w.to_ne_bytes()))
        }
        32 => {
            let mut b = [0u8; 16];
            for i in 0..4 {
                // `get`: a 32-byte field that is not ASCII has no word boundaries.
                let w = u32::from_str_radix(a.get(i * 8..i * 8 + 8)?, 16).ok()?;
                b[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(b))
        }
        _ => return None,
    };
    Some((addr, port))
}

/// Parses `/proc/net/tcp{,6}` text: the sockets in state LISTEN (`0A`).
pub fn parse(text: &str) -> Vec<Listener> {
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 4 || f[3] != "0A" {
            continue;
        }
        if let Some((addr, port)) = parse_addr(f[1]) {
            out.push(Listener { addr, port });
        }
    }
    out
}

fn read(path: &Path) -> std::io::Result<String> {
    let f = std::fs::File::open(path)?;
    let mut s = String::new();
    f.take(CAP).read_to_string(&mut s)?;
    Ok(s)
}

/// Reads the listening sockets under `proc` (normally `/proc`) and records the facts.
pub fn collect(proc: &Path, facts: &mut Facts) {
    let mut all = Vec::new();
    let mut errors = Vec::new();
    let mut any_ok = false;
    for name in ["tcp", "tcp6"] {
        let p = proc.join("net").join(name);
        match read(&p) {
            Ok(t) => {
                any_ok = true;
                all.extend(parse(&t));
            }
            // No IPv6 in this kernel: nothing listens on it.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && name == "tcp6" => any_ok = true,
            Err(e) => errors.push((p.display().to_string(), e)),
        }
    }
    let location = proc.join("net/tcp{,6}").display().to_string();
    if !errors.is_empty() || !any_ok {
        let (path, e) = &errors[0];
        let reason = match e.kind() {
            std::io::ErrorKind::PermissionDenied => MissingReason::PermissionDenied,
            _ => MissingReason::Error,
        };
        let detail = format!("{path}: {}", e.kind());
        facts.source(
            "listen",
            SourceStatus::failed("proc", &location, reason, &detail),
        );
        facts.namespace_missing("listen.", "listen", reason, detail);
        return;
    }
    all.sort();
    all.dedup();
    facts.source("listen", SourceStatus::ok("proc", &location));
    let src = "proc:/proc/net/tcp";
    let texts: Vec<String> = all.iter().take(MAX_SOCKETS).map(Listener::text).collect();
    facts.set("listen.sockets", src, json!(texts));
    for (port, what) in PORTS {
        let on: Vec<&Listener> = all.iter().filter(|l| l.port == *port).collect();
        let addrs: Vec<String> = on.iter().map(|l| l.addr.to_string()).collect();
        let open: Vec<String> = on
            .iter()
            .filter(|l| !is_loopback(&l.addr))
            .map(|l| l.addr.to_string())
            .collect();
        facts.insert(
            format!("listen.port.{port}"),
            Fact::value(
                src,
                json!({
                    "port": port,
                    "service": what,
                    "listening": !on.is_empty(),
                    "addresses": addrs,
                    "non_loopback": open,
                }),
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kernel_format() {
        let v4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   106        0 22213 1 0\n   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000   0        0 1 1 0\n   2: 0100007F:A2C4 0100007F:0CEA 01 00000000:00000000 00:00000000 00000000   0        0 1 1 0\n";
        let l = parse(v4);
        assert_eq!(l.len(), 2, "the ESTABLISHED row is not a listener");
        if cfg!(target_endian = "little") {
            assert_eq!(l[0].text(), "127.0.0.1:3306");
            assert_eq!(l[1].text(), "0.0.0.0:8080");
        }
        let v6 = "  sl local rem st\n   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 0\n   1: 00000000000000000000000000000000:20FB 00000000000000000000000000000000:0000 0A 0\n";
        let l = parse(v6);
        if cfg!(target_endian = "little") {
            assert_eq!(l[0].text(), "[::1]:8080");
            assert!(is_loopback(&l[0].addr));
            assert_eq!(l[1].text(), "[::]:8443");
            assert!(!is_loopback(&l[1].addr));
        }
        assert!(parse("header\n garbage line\n0: zz:zz 0 0A\n").is_empty());
    }
}
