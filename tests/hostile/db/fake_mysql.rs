//! A small fake MySQL server on 127.0.0.1 for the hostile DB cases: it speaks just
//! enough of the protocol (handshake v10, auth replies, text result sets) to act as a
//! hostile MySQL 8 or a server streaming huge rows. Every byte a client sends is kept,
//! so a test can prove a password never reached it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server does after the client's handshake response.
#[derive(Clone, Debug)]
pub enum Script {
    /// caching_sha2_password: "perform full authentication"; if the client asks for the
    /// public key (0x02), answer with this packet body (after the 0x01 marker when
    /// `marker`), then accept whatever comes.
    FullAuth { key_reply: Vec<u8> },
    /// AuthSwitchRequest to `plugin` with a fresh nonce; then, for
    /// caching_sha2_password, full authentication as above.
    Switch { plugin: String, key_reply: Vec<u8> },
    /// Accept the login, then answer every query with two columns and rows of
    /// `row_bytes` bytes each, `rows` of them (`usize::MAX`: until the client leaves).
    Rows { row_bytes: usize, rows: usize },
    /// Accept the login, then announce a result set of `count` columns and send
    /// column definitions until the client leaves.
    Columns { count: u64, name_bytes: usize },
}

pub struct FakeMysql {
    pub port: u16,
    /// The server offers TLS (a self-signed certificate no client can verify).
    pub tls: bool,
    received: Arc<Mutex<Vec<u8>>>,
    pub key_requests: Arc<Mutex<u32>>,
}

impl FakeMysql {
    pub fn start(script: Script) -> FakeMysql {
        FakeMysql::start_with(script, false)
    }

    /// As [`FakeMysql::start`], offering TLS when `tls` (the login then happens inside
    /// TLS; the bytes kept are the decrypted ones).
    pub fn start_with(script: Script, tls: bool) -> FakeMysql {
        let tls_config = tls.then(tls_config);
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let key_requests = Arc::new(Mutex::new(0));
        let (r, k) = (received.clone(), key_requests.clone());
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                let (script, r, k) = (script.clone(), r.clone(), k.clone());
                let cfg = tls_config.clone();
                std::thread::spawn(move || {
                    let _ = serve(s, &script, &r, &k, cfg);
                });
            }
        });
        FakeMysql {
            port,
            tls,
            received,
            key_requests,
        }
    }

    pub fn url(&self) -> String {
        let tls = if self.tls { "?ssl=true" } else { "" };
        format!("mysql://cloud@127.0.0.1:{}/cloud{tls}", self.port)
    }

    /// Everything clients sent so far.
    pub fn received(&self) -> Vec<u8> {
        self.received.lock().unwrap().clone()
    }
}

fn tls_config() -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let ck = rcgen::generate_simple_self_signed(vec!["impostor.test".into()]).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(ck.cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der())),
        )
        .unwrap();
    Arc::new(cfg)
}

type TlsStream = rustls::StreamOwned<rustls::ServerConnection, TcpStream>;

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

struct Conn<'a> {
    tcp: Option<TcpStream>,
    tls: Option<Box<TlsStream>>,
    seq: u8,
    log: &'a Mutex<Vec<u8>>,
}

impl Conn<'_> {
    fn io(&mut self) -> &mut dyn ReadWrite {
        match (&mut self.tls, &mut self.tcp) {
            (Some(t), _) => t.as_mut(),
            (None, Some(s)) => s,
            (None, None) => unreachable!("a connection always has a stream"),
        }
    }

    fn start_tls(&mut self, cfg: Arc<rustls::ServerConfig>) -> std::io::Result<()> {
        let tcp = self.tcp.take().expect("plain stream");
        let conn = rustls::ServerConnection::new(cfg).map_err(std::io::Error::other)?;
        self.tls = Some(Box::new(rustls::StreamOwned::new(conn, tcp)));
        Ok(())
    }

    fn write(&mut self, payload: &[u8]) -> std::io::Result<()> {
        let n = payload.len();
        let mut p = vec![n as u8, (n >> 8) as u8, (n >> 16) as u8, self.seq];
        p.extend_from_slice(payload);
        self.seq = self.seq.wrapping_add(1);
        self.io().write_all(&p)?;
        self.io().flush()
    }

    fn read(&mut self) -> std::io::Result<Vec<u8>> {
        let mut h = [0u8; 4];
        self.io().read_exact(&mut h)?;
        let n = h[0] as usize | (h[1] as usize) << 8 | (h[2] as usize) << 16;
        let mut p = vec![0u8; n];
        self.io().read_exact(&mut p)?;
        self.seq = h[3].wrapping_add(1);
        self.log.lock().unwrap().extend_from_slice(&p);
        Ok(p)
    }
}

/// CLIENT_SSL, offered only by a TLS fake server.
const CAP_SSL: u32 = 0x0800;

const CAPS: u32 =
    0x0001 | 0x0004 | 0x0008 | 0x0200 | 0x2000 | 0x8000 | 0x20000 | 0x80000 | 0x200000;

fn handshake(plugin: &str, tls: bool) -> Vec<u8> {
    let caps = if tls { CAPS | CAP_SSL } else { CAPS };
    let mut p = vec![10u8];
    p.extend_from_slice(b"8.0.36-fake\0");
    p.extend_from_slice(&7u32.to_le_bytes());
    p.extend_from_slice(b"abcdefgh\0");
    p.extend_from_slice(&(caps as u16).to_le_bytes());
    p.push(0xff);
    p.extend_from_slice(&2u16.to_le_bytes());
    p.extend_from_slice(&((caps >> 16) as u16).to_le_bytes());
    p.push(21);
    p.extend_from_slice(&[0u8; 10]);
    p.extend_from_slice(b"ijklmnopqrst\0");
    p.extend_from_slice(plugin.as_bytes());
    p.push(0);
    p
}

const OK: &[u8] = &[0, 0, 0, 2, 0, 0, 0];
const EOF: &[u8] = &[0xfe, 0, 0, 2, 0];

fn serve(
    s: TcpStream,
    script: &Script,
    log: &Mutex<Vec<u8>>,
    keys: &Mutex<u32>,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> std::io::Result<()> {
    s.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut c = Conn {
        tcp: Some(s),
        tls: None,
        seq: 0,
        log,
    };
    let plugin = match script {
        Script::Rows { .. } | Script::Columns { .. } => "mysql_native_password",
        _ => "caching_sha2_password",
    };
    c.write(&handshake(plugin, tls.is_some()))?;
    let first = c.read()?;
    // An SSLRequest (32 bytes) comes before the real handshake response.
    if let (Some(cfg), 32) = (tls, first.len()) {
        c.start_tls(cfg)?;
        c.read()?;
    }
    match script {
        Script::FullAuth { key_reply } => full_auth(&mut c, key_reply, keys),
        Script::Switch { plugin, key_reply } => {
            let mut p = vec![0xfe];
            p.extend_from_slice(plugin.as_bytes());
            p.push(0);
            p.extend_from_slice(b"ABCDEFGHIJKLMNOPQRST\0");
            c.write(&p)?;
            c.read()?;
            if plugin == "caching_sha2_password" {
                full_auth(&mut c, key_reply, keys)
            } else {
                c.write(OK)
            }
        }
        Script::Rows { row_bytes, rows } => {
            c.write(OK)?;
            loop {
                let q = c.read()?;
                if q.first() != Some(&3) {
                    return Ok(());
                }
                result_set(&mut c, *row_bytes, *rows)?;
            }
        }
        Script::Columns { count, name_bytes } => {
            let def = column(&"c".repeat(*name_bytes));
            c.write(OK)?;
            c.read()?;
            let mut p = vec![0xfe];
            p.extend_from_slice(&count.to_le_bytes());
            c.write(&p)?;
            loop {
                c.write(&def)?;
            }
        }
    }
}

fn full_auth(c: &mut Conn, key_reply: &[u8], keys: &Mutex<u32>) -> std::io::Result<()> {
    c.write(&[0x01, 0x04])?;
    let p = c.read()?;
    if p == [0x02] {
        *keys.lock().unwrap() += 1;
        c.write(key_reply)?;
        c.read()?;
    }
    c.write(OK)?;
    // Keep the socket open a little, as a real server would.
    let _ = c.read();
    Ok(())
}

fn lenenc_str(out: &mut Vec<u8>, b: &[u8]) {
    let n = b.len();
    if n < 251 {
        out.push(n as u8);
    } else if n < 1 << 16 {
        out.push(0xfc);
        out.extend_from_slice(&(n as u16).to_le_bytes());
    } else {
        out.push(0xfd);
        out.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
    }
    out.extend_from_slice(b);
}

fn column(name: &str) -> Vec<u8> {
    let mut p = Vec::new();
    for s in ["def", "", "", "", name, ""] {
        lenenc_str(&mut p, s.as_bytes());
    }
    p.push(0x0c);
    p.extend_from_slice(&[0x21, 0]);
    p.extend_from_slice(&(1u32 << 24).to_le_bytes());
    p.push(0xfd);
    p.extend_from_slice(&[0, 0, 0, 0, 0]);
    p
}

fn result_set(c: &mut Conn, row_bytes: usize, rows: usize) -> std::io::Result<()> {
    c.write(&[2])?;
    c.write(&column("a"))?;
    c.write(&column("b"))?;
    c.write(EOF)?;
    let half = vec![b'x'; row_bytes / 2];
    let mut row = Vec::new();
    lenenc_str(&mut row, &half);
    lenenc_str(&mut row, &half);
    for _ in 0..rows {
        c.write(&row)?;
    }
    c.write(EOF)
}
