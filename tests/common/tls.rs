//! Real TLS servers for tests: a throwaway PKI made with the openssl CLI, and
//! `openssl s_server` processes on free loopback ports, killed on Drop.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed on Drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A test CA (`ca.pem`/`ca.key`, EC P-256) and a leaf (`leaf.pem`/`leaf.key`) it issued
/// for 365 days, with SANs for 127.0.0.1, `localhost` and each of `extra_ips`.
pub fn test_pki(dir: &Path, extra_ips: &[&str]) {
    let mut san = String::from("IP:127.0.0.1,DNS:localhost");
    for ip in extra_ips {
        san.push_str(&format!(",IP:{ip}"));
    }
    test_pki_sans(dir, "127.0.0.1", &san);
}

/// [`test_pki`] with the leaf's subject `/CN=cn` and exactly the subjectAltNames `san`
/// (openssl syntax, e.g. `DNS:cloud.example.org,IP:10.0.0.10`).
pub fn test_pki_sans(dir: &Path, cn: &str, san: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-sha256",
            "-days",
            "3650",
            "-nodes",
            "-subj",
            "/CN=stackposture test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            &format!("/CN={cn}"),
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
        ],
    );
    std::fs::write(
        dir.join("leaf.ext"),
        format!("subjectAltName={san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n"),
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "365",
            "-sha256",
            "-out",
            "leaf.pem",
            "-extfile",
            "leaf.ext",
        ],
    );
}

/// `openssl s_server` on a free 127.0.0.1 port with `extra` arguments; waits until it
/// accepts connections (10 s at most).
pub fn s_server(dir: &Path, cert: &str, key: &str, extra: &[&str]) -> (Proc, u16) {
    for _ in 0..5 {
        let port = free_port();
        let accept = format!("127.0.0.1:{port}");
        let mut args = vec![
            "s_server", "-accept", &accept, "-cert", cert, "-key", key, "-www", "-quiet",
        ];
        args.extend_from_slice(extra);
        let mut child = Command::new("openssl")
            .args(&args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start openssl s_server");
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = child.try_wait() {
                break; // port taken: try another
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return (Proc(child), port);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("openssl s_server did not start");
}

/// A self-signed certificate `cert` with key `key` (e.g. `newkey = "rsa:2048"`,
/// `digest = "-sha256"`), valid `days`, subject `/CN=cn`, plus `extra` req arguments.
#[allow(clippy::too_many_arguments)]
pub fn self_signed(
    dir: &Path,
    newkey: &str,
    digest: &str,
    days: &str,
    cn: &str,
    key: &str,
    cert: &str,
    extra: &[&str],
) {
    let subj = format!("/CN={cn}");
    let mut args = vec![
        "req", "-x509", "-newkey", newkey, digest, "-nodes", "-days", days, "-subj", &subj,
    ];
    args.extend_from_slice(extra);
    args.extend(["-keyout", key, "-out", cert]);
    openssl(dir, &args);
}
