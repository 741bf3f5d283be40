//! `db.cloud.useSSL=true` really speaks TLS (rustls) to a real MariaDB that requires
//! secure transport, and `useSSL=false` against the same server is refused and reported
//! as unknown with the server's reason, never as a pass and never with the password.

mod common;

use common::mariadb::{self, Maria, SCHEMA_422};
use stackposture::collect::{self, CollectOptions};
use stackposture::facts::MissingReason;

struct Server(Maria);
impl Drop for Server {
    fn drop(&mut self) {
        self.0.stop();
    }
}

fn tls_server(pki: &std::path::Path) -> Option<Server> {
    common::tool("mariadbd")?;
    common::tool("openssl")?;
    common::tls::test_pki(pki, &[]);
    // mariadbd runs as `mysql` and must read the key (a throwaway test key).
    for f in ["leaf.pem", "leaf.key", "ca.pem"] {
        std::fs::set_permissions(
            pki.join(f),
            std::os::unix::fs::PermissionsExt::from_mode(0o644),
        )
        .unwrap();
    }
    std::fs::set_permissions(pki, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let arg = |k: &str, f: &str| format!("--{k}={}", pki.join(f).display());
    let m = mariadb::start(&[
        arg("ssl-cert", "leaf.pem"),
        arg("ssl-key", "leaf.key"),
        arg("ssl-ca", "ca.pem"),
        "--require-secure-transport=ON".into(),
    ])
    .expect("start a TLS-only MariaDB");
    Some(Server(m))
}

fn tree(port: u16, db: &str, user: &str, password: &str, use_ssl: bool) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("etc/cloudstack/management");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("db.properties"),
        format!(
            "db.cloud.host=127.0.0.1\ndb.cloud.port={port}\ndb.cloud.name={db}\n\
             db.cloud.username={user}\ndb.cloud.password={password}\n\
             db.cloud.encryption.type=none\ndb.cloud.useSSL={use_ssl}\n"
        ),
    )
    .unwrap();
    t
}

fn opts(root: &std::path::Path) -> CollectOptions {
    let mut o = CollectOptions {
        root: root.to_path_buf(),
        ..CollectOptions::default()
    };
    o.db.connect_timeout = std::time::Duration::from_secs(10);
    o.db.query_timeout = std::time::Duration::from_secs(10);
    o
}

#[test]
fn use_ssl_connects_over_tls_and_plain_is_refused_with_the_reason() {
    if !nix::unistd::geteuid().is_root() {
        if std::env::var_os("CI").is_some() {
            panic!("tests/database_tls.rs needs root to run mariadbd as mysql, and CI is set");
        }
        eprintln!("SKIP: tests/database_tls.rs needs root");
        return;
    }
    let pki = tempfile::Builder::new()
        .prefix("sp-dbtls-")
        .tempdir_in("/tmp")
        .unwrap();
    let Some(srv) = tls_server(pki.path()) else {
        return;
    };
    let db = srv.0.new_db(SCHEMA_422);

    // useSSL=true: TLS, and the server says it enforces secure transport.
    let t = tree(db.port, &db.name, &db.user, &db.password, true);
    let c = collect::collect(&opts(t.path()));
    let f = &c.facts;
    assert_eq!(f.sources["db"].status, "ok", "{:?}", f.sources["db"]);
    let rst = f.get("dbserver.require_secure_transport").unwrap();
    assert!(
        rst.value
            .as_ref()
            .is_some_and(|v| v.to_string().to_uppercase().contains("ON")
                || v == &serde_json::Value::Bool(true)),
        "{rst:?}"
    );
    assert!(f
        .get("cs.setting.api.throttling.enabled")
        .is_some_and(|x| x.missing.is_none()
            || x.missing
                .as_ref()
                .is_some_and(|m| m.reason == MissingReason::Absent)));
    assert!(!f.to_json().contains(&db.password));

    // --db-ca: the server is verified against the test CA (chain and the IP SAN).
    let mut o = opts(t.path());
    o.db.ca_file = Some(pki.path().join("ca.pem"));
    let c = collect::collect(&o);
    assert_eq!(
        c.facts.sources["db"].status, "ok",
        "{:?}",
        c.facts.sources["db"]
    );
    // Another CA: the impostor check fails, nothing is read.
    let other = tempfile::tempdir().unwrap();
    common::tls::test_pki(other.path(), &[]);
    o.db.ca_file = Some(other.path().join("ca.pem"));
    let c = collect::collect(&o);
    let st = &c.facts.sources["db"];
    assert_eq!(st.status, "error", "{st:?}");
    assert!(st.detail.contains("TLS"), "{st:?}");
    assert!(!c.facts.to_json().contains(&db.password));

    // useSSL=false against the same server: refused; everything from the DB is unknown
    // with the server's reason.
    let t = tree(db.port, &db.name, &db.user, &db.password, false);
    let c = collect::collect(&opts(t.path()));
    let f = &c.facts;
    assert_ne!(f.sources["db"].status, "ok");
    let fact = f.get("cs.setting.api.throttling.enabled").unwrap();
    let m = fact.missing.clone().expect("no value without a connection");
    assert!(!m.reason.is_known_absent(), "{m:?}");
    // MariaDB 10.11 answers a plain login under require_secure_transport with error 1045
    // (access denied) rather than 3159; either way the server's words are passed on.
    let d = m.detail.to_lowercase();
    assert!(
        d.contains("secure transport") || d.contains("insecure") || d.contains("1045"),
        "{m:?}"
    );
    assert!(!f.to_json().contains(&db.password));
}
