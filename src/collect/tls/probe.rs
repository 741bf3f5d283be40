//! Network I/O of the TLS collector. Every step is bounded: the TCP connect, each whole
//! probe (connect + hello + answer) by a deadline, and every read by a byte cap. Nothing
//! here sends application data; the probes send a ClientHello (and, for rustls, the rest
//! of a handshake without a client certificate) and read only what the server answers.

use super::hello::{self, Parse, Verdict};
use super::suites::Version;
use crate::facts::Missing;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Time and byte limits for the probes.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Upper bound for one TCP connect.
    pub connect: Duration,
    /// Upper bound for one whole probe, connect included.
    pub probe: Duration,
    /// How long to wait, after a handshake without a client certificate, for the server
    /// to reject it (TLS 1.3 servers reject after the client's Finished).
    pub client_auth_wait: Duration,
    /// Cap on the bytes read from a peer in one probe.
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connect: Duration::from_secs(2),
            probe: Duration::from_secs(4),
            client_auth_wait: Duration::from_millis(400),
            max_bytes: 256 * 1024,
        }
    }
}

/// Why a probe gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// TCP connection refused: nothing listens there.
    Closed,
    Timeout(String),
    /// Anything else (reset before any answer, garbage, protocol violation).
    Error(String),
}

impl From<Failure> for Missing {
    fn from(f: Failure) -> Missing {
        match f {
            Failure::Timeout(d) => Missing::timeout(d),
            Failure::Closed => Missing::error("connection refused"),
            Failure::Error(d) => Missing::error(d),
        }
    }
}

pub(super) async fn connect(addr: SocketAddr, limits: &Limits) -> Result<TcpStream, Failure> {
    match timeout(limits.connect, TcpStream::connect(addr)).await {
        Err(_) => Err(Failure::Timeout(format!(
            "TCP connect to {addr} took longer than {} ms",
            limits.connect.as_millis()
        ))),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => Err(Failure::Closed),
        Ok(Err(e)) => Err(Failure::Error(format!(
            "TCP connect to {addr}: {}",
            e.kind()
        ))),
        Ok(Ok(s)) => {
            let _ = s.set_nodelay(true);
            Ok(s)
        }
    }
}

/// Whether anything accepts TCP connections at `addr`.
pub async fn tcp_open(addr: SocketAddr, limits: &Limits) -> Result<(), Failure> {
    connect(addr, limits).await.map(drop)
}

/// Sends one hand-built ClientHello and judges the answer.
pub async fn legacy(
    addr: SocketAddr,
    sni: Option<&str>,
    version: Version,
    suites: &[u16],
    limits: &Limits,
) -> Result<Verdict, Failure> {
    let work = async {
        let mut s = connect(addr, limits).await?;
        let mut random = [0u8; 32];
        // Not a secret: the client random only has to differ between probes.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        random[..16].copy_from_slice(&t.to_be_bytes());
        random[16..18].copy_from_slice(&version.0.to_be_bytes());
        let msg = hello::client_hello(version, suites, sni, random);
        if let Err(e) = s.write_all(&msg).await {
            return Err(Failure::Error(format!(
                "sending the ClientHello: {}",
                e.kind()
            )));
        }
        let mut buf: Vec<u8> = Vec::with_capacity(4096);
        let mut chunk = [0u8; 4096];
        loop {
            match hello::parse_reply(&buf) {
                Parse::Done(reply) => {
                    return hello::judge(&reply, version, suites)
                        .map_err(|e| Failure::Error(e.to_string()));
                }
                Parse::Invalid(why) => return Err(Failure::Error(why.to_string())),
                Parse::NeedMore(_) => {}
            }
            if buf.len() >= limits.max_bytes {
                return Err(Failure::Error("answer exceeds the read cap".into()));
            }
            let room = chunk.len().min(limits.max_bytes - buf.len());
            match s.read(&mut chunk[..room]).await {
                Ok(0) if buf.is_empty() => {
                    return Ok(Verdict::Closed("connection closed".into()));
                }
                Ok(0) => return Err(Failure::Error("connection closed mid-record".into())),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if buf.is_empty()
                        && matches!(
                            e.kind(),
                            std::io::ErrorKind::ConnectionReset
                                | std::io::ErrorKind::ConnectionAborted
                        ) =>
                {
                    return Ok(Verdict::Closed("connection reset".into()));
                }
                Err(e) => return Err(Failure::Error(format!("reading: {}", e.kind()))),
            }
        }
    };
    match timeout(limits.probe, work).await {
        Ok(r) => r,
        Err(_) => Err(Failure::Timeout(format!(
            "no complete answer to a {} ClientHello within {} ms",
            version.name(),
            limits.probe.as_millis()
        ))),
    }
}

/// The certificate chain from a TLS <= 1.2 server flight answering a hand-built hello
/// (for servers rustls cannot handshake with: CBC-only, TLS 1.0/1.1-only).
pub async fn legacy_chain(
    addr: SocketAddr,
    sni: Option<&str>,
    version: Version,
    suites: &[u16],
    limits: &Limits,
) -> Result<Vec<Vec<u8>>, Failure> {
    let work = async {
        let mut s = connect(addr, limits).await?;
        let msg = hello::client_hello(version, suites, sni, [0x5a; 32]);
        s.write_all(&msg)
            .await
            .map_err(|e| Failure::Error(format!("sending the ClientHello: {}", e.kind())))?;
        let mut buf: Vec<u8> = Vec::with_capacity(8192);
        let mut chunk = [0u8; 8192];
        let cap = limits.max_bytes.min(hello::MAX_FLIGHT + 4096);
        loop {
            match hello::parse_flight_certs(&buf) {
                hello::CertParse::Done(c) => return Ok(c),
                hello::CertParse::Invalid(w) => return Err(Failure::Error(w.to_string())),
                hello::CertParse::NeedMore => {}
            }
            if buf.len() >= cap {
                return Err(Failure::Error("server flight exceeds the read cap".into()));
            }
            let room = chunk.len().min(cap - buf.len());
            match s.read(&mut chunk[..room]).await {
                Ok(0) => {
                    return Err(Failure::Error(
                        "connection closed in the server flight".into(),
                    ))
                }
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(Failure::Error(format!("reading: {}", e.kind()))),
            }
        }
    };
    match timeout(limits.probe, work).await {
        Ok(r) => r,
        Err(_) => Err(Failure::Timeout(format!(
            "no certificate within {} ms",
            limits.probe.as_millis()
        ))),
    }
}

/// What a rustls handshake showed.
#[derive(Debug, Clone, Default)]
pub struct Modern {
    /// Negotiated version and suite (IANA-style names), when the handshake completed.
    pub negotiated: Option<(String, String)>,
    /// Why the handshake did not complete.
    pub error: Option<String>,
    /// The certificates as sent, leaf first (DER).
    pub chain: Vec<Vec<u8>>,
    /// The server sent a CertificateRequest.
    pub client_cert_requested: bool,
    /// The server rejected the handshake without a client certificate (None: not tested
    /// or could not tell).
    pub client_cert_required: Option<bool>,
    /// The handshake failed on a TLS alert from the server (a TLS answer, unlike a closed
    /// connection or bytes that are not TLS).
    pub peer_alert: bool,
}

#[derive(Debug)]
struct Recorder {
    chain: Mutex<Vec<Vec<u8>>>,
    schemes: Vec<SignatureScheme>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The auditor records the chain instead of trusting it: it sends no data.
        if let Ok(mut c) = self.chain.lock() {
            c.clear();
            c.push(end_entity.to_vec());
            c.extend(intermediates.iter().take(15).map(|d| d.to_vec()));
        }
        Ok(ServerCertVerified::assertion())
    }
    // Handshake signatures are not checked: the probe observes what the server offers,
    // including keys too weak for ring to verify (RSA-1024), and sends nothing to it.
    fn verify_tls12_signature(
        &self,
        _m: &[u8],
        _c: &CertificateDer<'_>,
        _d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _m: &[u8],
        _c: &CertificateDer<'_>,
        _d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes.clone()
    }
}

#[derive(Debug, Default)]
struct ClientAuthSpy {
    asked: AtomicBool,
}

impl rustls::client::ResolvesClientCert for ClientAuthSpy {
    fn resolve(
        &self,
        _hints: &[&[u8]],
        _schemes: &[SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        self.asked.store(true, Ordering::SeqCst);
        None
    }
    fn has_certs(&self) -> bool {
        true
    }
}

fn server_name(host: &str) -> ServerName<'static> {
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ServerName::IpAddress(ip.into()),
        Err(_) => ServerName::try_from(host.to_string())
            .unwrap_or_else(|_| ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into())),
    }
}

/// One rustls handshake pinned to `version` (TLS 1.2 or 1.3).
pub async fn modern(
    addr: SocketAddr,
    host: &str,
    version: Version,
    limits: &Limits,
) -> Result<Modern, Failure> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let pv: &'static rustls::SupportedProtocolVersion = if version == Version::TLS13 {
        &rustls::version::TLS13
    } else {
        &rustls::version::TLS12
    };
    let recorder = Arc::new(Recorder {
        chain: Mutex::new(Vec::new()),
        schemes: vec![
            SignatureScheme::ECDSA_NISTP256_SHA256,
            SignatureScheme::ECDSA_NISTP384_SHA384,
            SignatureScheme::ECDSA_NISTP521_SHA512,
            SignatureScheme::ED25519,
            SignatureScheme::RSA_PSS_SHA256,
            SignatureScheme::RSA_PSS_SHA384,
            SignatureScheme::RSA_PSS_SHA512,
            SignatureScheme::RSA_PKCS1_SHA256,
            SignatureScheme::RSA_PKCS1_SHA384,
            SignatureScheme::RSA_PKCS1_SHA512,
            SignatureScheme::RSA_PKCS1_SHA1,
            SignatureScheme::ECDSA_SHA1_Legacy,
        ],
    });
    let spy = Arc::new(ClientAuthSpy::default());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[pv])
        .map_err(|e| Failure::Error(format!("rustls config: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_client_cert_resolver(spy.clone());
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = server_name(host);
    let work = async {
        let tcp = connect(addr, limits).await?;
        let mut out = Modern::default();
        match connector.connect(name, tcp).await {
            Ok(mut tls) => {
                let (_, conn) = tls.get_ref();
                let v = conn
                    .protocol_version()
                    .map(|v| match v {
                        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_string(),
                        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_string(),
                        other => format!("{other:?}"),
                    })
                    .unwrap_or_default();
                let s = conn
                    .negotiated_cipher_suite()
                    .map(|s| format!("{:?}", s.suite()))
                    .unwrap_or_default();
                out.negotiated = Some((v, s));
                if spy.asked.load(Ordering::SeqCst) {
                    out.client_cert_required =
                        Some(rejects_empty_certificate(&mut tls, version, limits).await);
                }
                let _ = timeout(Duration::from_millis(50), tls.shutdown()).await;
            }
            Err(e) => {
                out.error = Some(short_error(&e));
                out.peer_alert = e
                    .get_ref()
                    .and_then(|i| i.downcast_ref::<rustls::Error>())
                    .is_some_and(|r| matches!(r, rustls::Error::AlertReceived(_)));
                if spy.asked.load(Ordering::SeqCst) {
                    // TLS 1.2: the server rejects the empty Certificate during the handshake.
                    out.client_cert_required = Some(true);
                }
            }
        }
        out.client_cert_requested = spy.asked.load(Ordering::SeqCst);
        out.chain = recorder.chain.lock().map(|c| c.clone()).unwrap_or_default();
        Ok(out)
    };
    match timeout(limits.probe, work).await {
        Ok(r) => r,
        Err(_) => Err(Failure::Timeout(format!(
            "{} handshake did not finish within {} ms",
            version.name(),
            limits.probe.as_millis()
        ))),
    }
}

/// After a completed handshake in which the server asked for a client certificate and got
/// an empty one: whether it then rejects that.
///
/// - TLS 1.2: the server sends its Finished only after taking our (empty) Certificate
///   (RFC 5246, section 7.3), so a completed handshake is its answer: accepted. Nothing
///   is read.
/// - TLS 1.3: the server judges our Certificate after our Finished, which ends the
///   handshake on our side. A strict server answers with an alert (or closes); one that
///   takes the empty certificate answers with a session ticket (which it may send before
///   our Finished only when it asks for no certificate: RFC 8446, section 4.6.1),
///   application data, or nothing. The first of these ends the wait: an alert or a close
///   is a rejection, anything else an acceptance, as is silence for
///   `limits.client_auth_wait`.
async fn rejects_empty_certificate(
    tls: &mut tokio_rustls::client::TlsStream<TcpStream>,
    version: Version,
    limits: &Limits,
) -> bool {
    if version != Version::TLS13 {
        return false;
    }
    let tickets =
        |t: &tokio_rustls::client::TlsStream<TcpStream>| t.get_ref().1.tls13_tickets_received();
    // Tickets processed with the handshake came before our Finished: they do not count.
    let before = tickets(tls);
    let mut b = [0u8; 512];
    let answer = std::future::poll_fn(|cx| {
        let mut rb = tokio::io::ReadBuf::new(&mut b);
        match std::pin::Pin::new(&mut *tls).poll_read(cx, &mut rb) {
            Poll::Ready(Ok(())) => Poll::Ready(rb.filled().is_empty()),
            Poll::Ready(Err(_)) => Poll::Ready(true),
            // A ticket is handled inside the read, which then waits for more.
            Poll::Pending if tickets(tls) > before => Poll::Ready(false),
            Poll::Pending => Poll::Pending,
        }
    });
    timeout(limits.client_auth_wait, answer)
        .await
        .unwrap_or(false)
}

fn short_error(e: &std::io::Error) -> String {
    // rustls errors name alerts and protocol problems, never peer data.
    let s = e.to_string();
    s.chars().take(200).collect()
}

/// What a plain-HTTP request showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Http {
    pub status: Option<u16>,
    pub location: Option<String>,
}

/// A bounded HTTP/1.0 `GET /` (reads at most 16 KiB of the answer's head).
pub async fn plain_http(addr: SocketAddr, host: &str, limits: &Limits) -> Result<Http, Failure> {
    let work = async {
        let mut s = connect(addr, limits).await?;
        let host_hdr = if host.contains(':') {
            format!("[{host}]:{}", addr.port())
        } else {
            format!("{host}:{}", addr.port())
        };
        let req = format!(
            "GET / HTTP/1.0\r\nHost: {host_hdr}\r\nUser-Agent: stackposture\r\nConnection: close\r\n\r\n"
        );
        s.write_all(req.as_bytes())
            .await
            .map_err(|e| Failure::Error(format!("sending the request: {}", e.kind())))?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 2048];
        let cap = 16 * 1024;
        while buf.len() < cap && !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut chunk).await {
                Ok(0) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n.min(cap - buf.len())]),
                Err(e) if buf.is_empty() => {
                    return Err(Failure::Error(format!("reading: {}", e.kind())))
                }
                Err(_) => break,
            }
        }
        if buf.is_empty() {
            // A close before any byte says nothing about what the port serves.
            return Err(Failure::Error("connection closed without an answer".into()));
        }
        Ok(parse_http_head(&buf))
    };
    match timeout(limits.probe, work).await {
        Ok(r) => r,
        Err(_) => Err(Failure::Timeout(format!(
            "no HTTP answer within {} ms",
            limits.probe.as_millis()
        ))),
    }
}

/// Parses an HTTP response head: the status code and the Location header. Pure.
pub fn parse_http_head(buf: &[u8]) -> Http {
    let text = String::from_utf8_lossy(buf);
    let mut lines = text.split("\r\n");
    let status = lines.next().and_then(|l| {
        let mut p = l.split(' ');
        let proto = p.next()?;
        if !proto.starts_with("HTTP/1.") {
            return None;
        }
        let code: u16 = p.next()?.parse().ok()?;
        (100..600).contains(&code).then_some(code)
    });
    let location = if status.is_some() {
        lines.take_while(|l| !l.is_empty()).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("location")
                .then(|| v.trim().chars().take(512).collect::<String>())
        })
    } else {
        None
    };
    Http { status, location }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_heads() {
        assert_eq!(
            parse_http_head(b"HTTP/1.1 301 Moved\r\nLocation: https://x/client\r\n\r\n"),
            Http {
                status: Some(301),
                location: Some("https://x/client".into())
            }
        );
        assert_eq!(
            parse_http_head(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\nLocation: no"),
            Http {
                status: Some(200),
                location: None
            }
        );
        assert_eq!(parse_http_head(b"\x16\x03\x01garbage").status, None);
        assert_eq!(parse_http_head(b"HTTP/1.1 9999 x").status, None);
        assert_eq!(parse_http_head(b"").status, None);
    }
}
