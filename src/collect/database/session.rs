//! One database session: connection, bounded queries, and the rule that keeps facts in
//! step with their queries.
//!
//! * Every connect and every query has a timeout; every reply is bounded (packet size,
//!   rows, bytes) and must have the shape its query asks for (column count, a single
//!   result set).
//! * After a timeout, an I/O or protocol error, or a reply cut at a bound, the connection
//!   is **dropped** (its socket closed, never drained): a late reply can never be read as
//!   the answer to a later query. The next query opens a new connection; when that fails
//!   (or after [`MAX_RECONNECTS`]), every later query is unknown with the reason.
//! * A server error (an ERR packet) is the complete reply of its own query: the
//!   connection stays in step and is kept.
//! * Driver errors are reduced to a kind and the server's message, with every secret
//!   removed ([`sanitize`]).

use crate::facts::{Missing, MissingReason};
use mysql_async::prelude::*;
use mysql_async::{Conn, OptsBuilder, Row, Value as MyValue};
use std::time::Duration;

/// Largest MySQL packet accepted from the server (one row, or one column definition).
pub const MAX_PACKET: usize = 4 << 20;
/// Most rows read from one reply; more and the reply is cut (and the connection dropped).
pub const MAX_ROWS: usize = 100_000;
/// Most value bytes read from one reply.
pub const MAX_REPLY_BYTES: usize = 16 << 20;
/// Most new connections opened after failures, per session.
pub const MAX_RECONNECTS: u32 = 4;

/// A connection that may be replaced, with what is needed to open it again.
pub struct Session {
    opts: OptsBuilder,
    conn: Option<Conn>,
    connect_timeout: Duration,
    query_timeout: Duration,
    /// Set when the session may no longer be used: why.
    broken: Option<Missing>,
    reconnects: u32,
    pub queries: u32,
    secrets: Vec<String>,
}

/// Why a reply was not taken: whether the connection is still in step.
struct Failed {
    missing: Missing,
    in_step: bool,
}

impl Session {
    /// Opens the first connection.
    pub async fn connect(
        opts: OptsBuilder,
        connect_timeout: Duration,
        query_timeout: Duration,
        secrets: Vec<String>,
    ) -> Result<Session, Missing> {
        // Both set here so that the driver sends no settings query of its own on connect.
        let opts = opts
            .max_allowed_packet(Some(MAX_PACKET))
            .wait_timeout(Some(28_800));
        let mut s = Session {
            opts,
            conn: None,
            connect_timeout,
            query_timeout,
            broken: None,
            reconnects: 0,
            queries: 0,
            secrets,
        };
        s.conn = Some(s.open().await?);
        Ok(s)
    }

    /// A second session with the same options (for queries run side by side).
    pub async fn another(&self) -> Result<Session, Missing> {
        Session::connect(
            self.opts.clone(),
            self.connect_timeout,
            self.query_timeout,
            self.secrets.clone(),
        )
        .await
    }

    async fn open(&self) -> Result<Conn, Missing> {
        match tokio::time::timeout(self.connect_timeout, Conn::new(self.opts.clone())).await {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(classify(&e, &self.secret_refs())),
            Err(_) => Err(Missing::timeout(format!(
                "no connection within {:?}",
                self.connect_timeout
            ))),
        }
    }

    fn secret_refs(&self) -> Vec<&str> {
        self.secrets.iter().map(String::as_str).collect()
    }

    /// Runs one query whose reply must have `ncols` columns. Its rows, or why none.
    pub async fn query(&mut self, sql: &str, ncols: usize) -> Result<Vec<Row>, Missing> {
        if let Some(m) = &self.broken {
            return Err(m.clone());
        }
        let mut conn = match self.conn.take() {
            Some(c) => c,
            None => self.reopen().await?,
        };
        self.queries += 1;
        let r = tokio::time::timeout(self.query_timeout, read_reply(&mut conn, sql, ncols)).await;
        let failed = match r {
            Ok(Ok(rows)) => {
                self.conn = Some(conn);
                return Ok(rows);
            }
            Ok(Err(Err(e))) => Failed {
                in_step: matches!(e, mysql_async::Error::Server(_)),
                missing: classify(&e, &self.secret_refs()),
            },
            Ok(Err(Ok(f))) => f,
            Err(_) => Failed {
                missing: Missing::timeout(format!(
                    "query did not answer within {:?}",
                    self.query_timeout
                )),
                in_step: false,
            },
        };
        if failed.in_step {
            self.conn = Some(conn);
        } else {
            abort(conn);
        }
        Err(failed.missing)
    }

    /// A new connection after a failure, or the reason the session is now broken.
    async fn reopen(&mut self) -> Result<Conn, Missing> {
        let r = if self.reconnects >= MAX_RECONNECTS {
            Err(Missing::error(format!(
                "not run: {MAX_RECONNECTS} connections were already dropped after failures"
            )))
        } else {
            self.reconnects += 1;
            self.open()
                .await
                .map_err(|m| m.context("not run: reconnecting after an earlier failure"))
        };
        if let Err(m) = &r {
            self.broken = Some(m.clone());
        }
        r
    }

    /// Closes the connection politely (bounded).
    pub async fn close(mut self) {
        if let Some(c) = self.conn.take() {
            let _ = tokio::time::timeout(Duration::from_secs(1), c.disconnect()).await;
        }
    }
}

/// Drops a connection without reading what the server may still send: the driver's own
/// drop would spawn a task that drains pending results (unbounded on a hostile server),
/// so the connection is dropped where no runtime is current and its socket just closes.
fn abort(conn: Conn) {
    let _ = std::thread::spawn(move || drop(conn)).join();
}

/// Reads one reply, bounded. `Err(Ok(..))`: a reply not taken, with whether the
/// connection is still in step; `Err(Err(..))`: a driver error.
async fn read_reply(
    conn: &mut Conn,
    sql: &str,
    ncols: usize,
) -> Result<Vec<Row>, Result<Failed, mysql_async::Error>> {
    let out_of_step = |detail: String| {
        Ok(Failed {
            missing: Missing::error(detail),
            in_step: false,
        })
    };
    let mut result = conn.query_iter(sql).await.map_err(Err)?;
    let got = result.columns_ref().len();
    if got != ncols {
        return Err(out_of_step(format!(
            "reply has {got} columns where the query asks for {ncols}: not taken"
        )));
    }
    let (mut rows, mut bytes) = (Vec::new(), 0usize);
    while let Some(row) = result.next().await.map_err(Err)? {
        bytes += row_bytes(&row);
        if row.len() != ncols {
            return Err(out_of_step(
                "a row does not match the reply's columns".into(),
            ));
        }
        if rows.len() >= MAX_ROWS || bytes > MAX_REPLY_BYTES {
            return Err(out_of_step(format!(
                "reply larger than {MAX_ROWS} rows or {} MiB: not read further",
                MAX_REPLY_BYTES >> 20
            )));
        }
        rows.push(row);
    }
    if !result.is_empty() {
        return Err(out_of_step(
            "the server sent more than one result set: not taken".into(),
        ));
    }
    Ok(rows)
}

fn row_bytes(row: &Row) -> usize {
    (0..row.len())
        .map(|i| match row.as_ref(i) {
            Some(MyValue::Bytes(b)) => b.len(),
            _ => 8,
        })
        .sum::<usize>()
        + 16
}

/// Reduces a driver error to something safe to print: the server's error code and
/// message (which names the user, never the password), or the error's kind.
pub fn classify(e: &mysql_async::Error, secrets: &[&str]) -> Missing {
    use mysql_async::{DriverError as D, Error as E, IoError};
    let (reason, detail) = match e {
        E::Server(s) => {
            let reason = match s.code {
                1044 | 1045 | 1142 | 1143 | 1227 | 1370 | 1698 => MissingReason::PermissionDenied,
                1049 | 1054 | 1146 => MissingReason::Unsupported,
                1969 | 3024 => MissingReason::Timeout,
                _ => MissingReason::Error,
            };
            (reason, format!("server error {}: {}", s.code, s.message))
        }
        // Codec errors (a packet above the bound, a malformed packet) come as `Other`
        // I/O errors whose text is the driver's own.
        E::Io(IoError::Io(io)) if io.kind() == std::io::ErrorKind::Other => (
            MissingReason::Error,
            format!("unusable reply from the database: {io}"),
        ),
        // rustls reports a certificate that does not verify (`--db-ca`) this way.
        E::Io(IoError::Io(io)) if io.kind() == std::io::ErrorKind::InvalidData => (
            MissingReason::Error,
            format!("TLS or protocol error with the database: {io}"),
        ),
        E::Io(IoError::Io(io)) => (
            MissingReason::Error,
            format!("cannot reach the database: {}", io.kind()),
        ),
        E::Io(_) => (
            MissingReason::Error,
            "TLS with the database failed".to_string(),
        ),
        E::Driver(D::PublicKeyRetrievalDisabled) => (
            MissingReason::NotCollected,
            "refused to send the DB password: the server asked for caching_sha2_password full \
             authentication, which would send it to an unauthenticated server (its own RSA key \
             over plain TCP, or TLS without a verified certificate); use TLS with --db-ca, or \
             --db-allow-public-key-retrieval if you trust the network path"
                .to_string(),
        ),
        E::Driver(d) => (MissingReason::Error, format!("driver error: {d}")),
        E::Url(_) => (MissingReason::Error, "invalid database URL".to_string()),
        E::Other(_) => (MissingReason::Error, "database error".to_string()),
    };
    Missing::new(reason, sanitize(&detail, secrets))
}

/// Removes every secret occurrence and URL credentials from a message.
pub fn sanitize(msg: &str, secrets: &[&str]) -> String {
    let mut m = msg.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 2) {
        m = m.replace(s, "***");
    }
    let m = crate::secrets::redact_inline(&m);
    m.chars().take(300).collect()
}

/// A cell as text (the text protocol gives every value as bytes).
pub fn cell(row: &Row, i: usize) -> Option<String> {
    match row.as_ref(i)? {
        MyValue::NULL => None,
        MyValue::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        MyValue::Int(n) => Some(n.to_string()),
        MyValue::UInt(n) => Some(n.to_string()),
        MyValue::Float(f) => Some(f.to_string()),
        MyValue::Double(f) => Some(f.to_string()),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

pub fn cell_i64(row: &Row, i: usize) -> Option<i64> {
    cell(row, i).and_then(|s| s.trim().parse().ok())
}

/// A quoted SQL list of constant names.
pub fn sql_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    #[test]
    fn sanitize_removes_password() {
        let m = super::sanitize(
            "mysql://cloud:hunter22@h/x failed for hunter22",
            &["hunter22"],
        );
        assert!(!m.contains("hunter22"), "{m}");
    }
}
