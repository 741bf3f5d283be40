//! Whole deployments, audited through the binary (issue 6, acceptance; issue 11):
//!
//! * a FRESH INSTALL, built the way the packages and installers leave it: an EL-layout
//!   tree with the modes and owners of `packaging/el8/cloud.spec` (reference §7),
//!   server.properties from the template (HTTP on, HTTPS off, keystore password
//!   `vmops.com`), db.properties as `cloudstack-setup-databases` writes it (`-e file -m
//!   password -k password -g V2`: key file `password`, DB key `password`, V2 `ENC()`
//!   values), and a `cloud` database on a private MariaDB holding what a first start
//!   writes (every setting at its code default, then the server-setup.sql and
//!   ConfigurationServerImpl rows of §4.5, the generated secrets of §3.7, the admin user);
//!   the audit must give exactly the outcomes the reference predicts, check by check;
//! * HARDENED deployments, in the EL and in the DEB layout ([`hardened`]): the same install
//!   with every remediation of the catalog applied, a narrow DB account, a per-account API
//!   allow-list, authenticated SMTP and real TLS endpoints; under `production` they must
//!   have no `fail`, and the only checks that are not `pass` are the ones listed with the
//!   reason.
//!
//! `ENC()` values and DB-encrypted settings are produced by an encryptor independent of
//! the crate (Python `cryptography`'s AES-GCM in CloudStack's V2 layout, reference §5.3);
//! the crate only decrypts. Every secret of every deployment is checked to be absent from
//! the facts, the reports and stderr.
//!
//! Needs: root (to chown to the tree's own cloud uid/gid), `mariadbd` +
//! `mariadb-install-db` (apt-get install mariadb-server), python3 with `cryptography`
//! (apt-get install python3-cryptography), `openssl`; the EL hardened tree also `rpm` and
//! `rpmbuild` (apt-get install rpm). Missing: a loud SKIP, or a failure when CI is set.

mod common;
#[path = "deployments/hardened.rs"]
mod hardened;

use common::tree::{dir, link, put};

use common::mariadb::{self, Maria, SCHEMA_422};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

const SETTINGS: &str = include_str!("fixtures/deployments/settings-4.22.tsv");
const DB_PROPERTIES_IN: &str = include_str!("fixtures/deployments/db.properties.in");
const SERVER_PROPERTIES_IN: &str = include_str!("fixtures/deployments/server.properties.in");
const MGMT_DEFAULT: &str = include_str!("fixtures/deployments/cloudstack-management.default");
const USAGE_DEFAULT: &str = include_str!("fixtures/deployments/cloudstack-usage.default");
const CIPHERS: &str = include_str!("fixtures/deployments/java.security.ciphers");
const SUDOERS: &str = include_str!("fixtures/deployments/cloudstack-sudoers");

/// `cloudstack-setup-databases` defaults: `-m password -k password` (H2).
const INSTALLER_KEY: &str = "password";

static SEQ: AtomicU32 = AtomicU32::new(0);

// ---------------------------------------------------------------------------------
// Preconditions and tools

fn ready() -> Option<(&'static Maria, String)> {
    if !nix::unistd::geteuid().is_root() {
        if std::env::var_os("CI").is_some() {
            panic!("tests/deployments.rs needs root (chown to the tree's cloud uid) and CI is set");
        }
        common::skip("needs root to chown to the tree's own cloud uid/gid");
        return None;
    }
    let py = common::python_with("cryptography")?;
    let m = mariadb::server()?;
    Some((m, py))
}

/// CloudStack V2 `ENC()` payloads (AES-256-GCM, key = SHA-256 of the key string, empty
/// AAD, base64(iv ‖ ciphertext ‖ tag); reference §5.3), made by Python `cryptography`.
fn v2_many(py: &str, items: &[(String, String)]) -> Vec<String> {
    if items.is_empty() {
        return Vec::new();
    }
    let script = r#"
import base64, hashlib, json, os, sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
out = []
for key, pt in json.load(sys.stdin):
    iv = os.urandom(12)
    ct = AESGCM(hashlib.sha256(key.encode()).digest()).encrypt(iv, pt.encode(), None)
    out.append(base64.b64encode(iv + ct).decode())
json.dump(out, sys.stdout)
"#;
    let mut child = Command::new(py)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(items).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python encryptor failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.len(), items.len());
    v
}

// ---------------------------------------------------------------------------------
// The file tree

/// Parent directories a package creates root-owned 0755.
fn base_dirs(root: &Path) {
    fs::set_permissions(root, fs::Permissions::from_mode(0o755)).unwrap();
    for d in [
        "etc",
        "etc/cloudstack",
        "etc/cloudstack/management",
        "etc/cloudstack/usage",
        "etc/default",
        "etc/sudoers.d",
        "usr",
        "usr/share",
        "usr/share/cloudstack-management",
        "var",
        "var/log",
        "var/log/cloudstack",
        "var/cache",
        "var/cache/cloudstack",
    ] {
        dir(root, d, 0o755, 0, 0);
    }
}

struct DbFile<'a> {
    db: &'a DbAccount,
    ms_key: &'a str,
    db_key: &'a str,
}

/// db.properties as `cloudstack-setup-databases` writes it (reference §5.1, §5.4): the
/// password and the DB key ENC()-wrapped under the management-server key (V2).
fn db_properties(py: &str, f: &DbFile) -> String {
    let enc = v2_many(
        py,
        &[
            (f.ms_key.into(), f.db.password.clone()),
            (f.ms_key.into(), f.db_key.into()),
        ],
    );
    DB_PROPERTIES_IN
        .replace("{{NODE_IP}}", "10.0.0.10")
        .replace("{{USER}}", &f.db.user)
        .replace("{{PASSWORD_ENC}}", &enc[0])
        .replace("{{HOST}}", "127.0.0.1")
        .replace("{{PORT}}", &f.db.port.to_string())
        .replace("{{NAME}}", &f.db.name)
        .replace("{{SECRET_ENC}}", &enc[1])
}

// EL: `useradd -M -U -r -s /bin/sh -d /var/cloudstack/management cloud` (spec :432-434).
const EL_CLOUD: (u32, u32) = (996, 994);
// DEB: `adduser --system --group --home /var/lib/cloudstack/management cloud`.
const DEB_CLOUD: (u32, u32) = (111, 116);

fn accounts(root: &Path, (uid, gid): (u32, u32), home: &str) {
    put(
        root,
        "etc/passwd",
        &format!(
            "root:x:0:0:root:/root:/bin/bash\nmysql:x:107:113:MySQL Server,,,:/nonexistent:/bin/false\n\
             cloud:x:{uid}:{gid}::{home}:/bin/sh\n"
        ),
        0o644,
        0,
        0,
    );
    put(
        root,
        "etc/group",
        &format!("root:x:0:\nmysql:x:113:\ncloud:x:{gid}:\n"),
        0o644,
        0,
        0,
    );
}

/// A fresh EL install (packaging/el8/cloud.spec; reference §7), after
/// `cloudstack-setup-databases` and a first start of the management and usage servers.
fn fresh_tree(root: &Path, db_properties: &str) {
    let (cu, cg) = EL_CLOUD;
    base_dirs(root);
    accounts(root, EL_CLOUD, "/var/cloudstack/management");
    let m = "etc/cloudstack/management";
    // %attr(0640,root,cloud): db.properties (:599), server.properties (:600), config.json (:601).
    put(
        root,
        &format!("{m}/db.properties"),
        db_properties,
        0o640,
        0,
        cg,
    );
    put(
        root,
        &format!("{m}/server.properties"),
        SERVER_PROPERTIES_IN,
        0o640,
        0,
        cg,
    );
    put(
        root,
        &format!("{m}/config.json"),
        "{\"apiBase\": \"/client/api\"}\n",
        0o640,
        0,
        cg,
    );
    // cloudstack-setup-databases: writes the key, chmod 0640, chgrp cloud (§5.4).
    put(
        root,
        &format!("{m}/key"),
        &format!("{INSTALLER_KEY}\n"),
        0o640,
        0,
        cg,
    );
    // %config(noreplace) without %attr: root:root, mode as built (:602-605).
    put(
        root,
        &format!("{m}/log4j-cloud.xml"),
        "<Configuration/>\n",
        0o644,
        0,
        0,
    );
    put(
        root,
        &format!("{m}/environment.properties"),
        "paths.script=/usr/share/cloudstack-common\nmount.parent=/var/cloudstack/mnt\n",
        0o644,
        0,
        0,
    );
    put(
        root,
        &format!("{m}/java.security.ciphers"),
        CIPHERS,
        0o644,
        0,
        0,
    );
    // %post usage: symlinks to the management files (:552-568).
    link(
        root,
        "etc/cloudstack/usage/db.properties",
        "/etc/cloudstack/management/db.properties",
    );
    link(
        root,
        "etc/cloudstack/usage/key",
        "/etc/cloudstack/management/key",
    );
    put(
        root,
        "etc/default/cloudstack-management",
        MGMT_DEFAULT,
        0o644,
        0,
        0,
    );
    put(
        root,
        "etc/default/cloudstack-usage",
        USAGE_DEFAULT,
        0o644,
        0,
        0,
    );
    // chmod 440 (:342).
    put(
        root,
        "etc/sudoers.d/cloudstack-management",
        SUDOERS,
        0o440,
        0,
        0,
    );
    // Extensions: %attr(0755,cloud,cloud) on the directory and its entries (:637-638).
    dir(root, "etc/cloudstack/extensions", 0o755, cu, cg);
    for (d, f) in [
        ("Proxmox", "proxmox.sh"),
        ("HyperV", "hyperv.py"),
        ("MaaS", "maas.py"),
    ] {
        dir(
            root,
            &format!("etc/cloudstack/extensions/{d}"),
            0o755,
            cu,
            cg,
        );
        put(
            root,
            &format!("etc/cloudstack/extensions/{d}/{f}"),
            "#!/bin/sh\nexit 0\n",
            0o755,
            cu,
            cg,
        );
    }
    link(
        root,
        "usr/share/cloudstack-management/extensions",
        "/etc/cloudstack/extensions",
    );
    // ~cloud: %dir %attr(0770,cloud,cloud) (:592); the SSH key made by ssh-keygen (0600)
    // in a .ssh the MS creates under UMask=0022 (§7.2).
    dir(root, "var/cloudstack", 0o755, 0, 0);
    dir(root, "var/cloudstack/management", 0o770, cu, cg);
    dir(root, "var/cloudstack/management/.ssh", 0o755, cu, cg);
    put(
        root,
        "var/cloudstack/management/.ssh/id_rsa",
        "-----BEGIN EC PRIVATE KEY-----\nCANARY-fresh-sshkey-file\n-----END EC PRIVATE KEY-----\n",
        0o600,
        cu,
        cg,
    );
    put(
        root,
        "var/cloudstack/management/.ssh/id_rsa.pub",
        "ecdsa-sha2-nistp256 AAAA cloud@ms1\n",
        0o644,
        cu,
        cg,
    );
    dir(root, "var/cloudstack/management/extensions", 0o755, cu, cg);
    dir(root, "var/cloudstack/mnt", 0o770, 0, cg); // :591
    dir(root, "var/cache/cloudstack/management", 0o770, 0, cg); // :593
                                                                // Logs: %dir %attr(0770,root,cloud) (:594), then %post chown -R cloud:cloud (:483);
                                                                // files created by the MS under UMask=0022.
    dir(root, "var/log/cloudstack/management", 0o770, cu, cg);
    for f in [
        "management-server.log",
        "apilog.log",
        "access.log",
        "management-server.out",
        "management-server.err",
    ] {
        put(
            root,
            &format!("var/log/cloudstack/management/{f}"),
            "log\n",
            0o644,
            cu,
            cg,
        );
    }
    // Usage logs: %dir %attr(0770,root,cloud) (:688); the usage server runs as root (H13).
    dir(root, "var/log/cloudstack/usage", 0o770, 0, cg);
    put(
        root,
        "var/log/cloudstack/usage/usage.log",
        "log\n",
        0o644,
        0,
        0,
    );
    dir(root, "var/log/cloudstack/ipallocator", 0o770, 0, 0); // :633
}

// ---------------------------------------------------------------------------------
// The database

struct DbAccount {
    name: String,
    user: String,
    password: String,
    port: u16,
}

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

/// Who the management server connects to the database as.
#[derive(Clone, Copy, PartialEq)]
enum DbGrants {
    /// The accounts `cloudstack-setup-databases --deploy-as` creates (H11: `localhost`
    /// and `'%'`, ALL on cloud.* and cloud_usage.*, PROCESS on *.*).
    Installer,
    /// One account for the MS's own address with ALL on cloud.* and cloud_usage.* and
    /// nothing else: no PROCESS, no access to the `mysql` schema (it cannot read
    /// `mysql.user`, so only SHOW GRANTS / CURRENT_USER() describe it).
    Narrow,
}

/// A `cloud` database (4.22 schema) and its account.
fn create_db(m: &Maria, grants: DbGrants) -> DbAccount {
    let n = SEQ.fetch_add(1, Ordering::SeqCst);
    let pid = std::process::id();
    let db = DbAccount {
        name: format!("dep{pid}_{n}"),
        user: format!("cloud{pid}_{n}"),
        password: format!("CANARY-dbpw-{pid}-{n}-Xr8"),
        port: m.port,
    };
    let (name, user, pw) = (&db.name, &db.user, &db.password);
    let mut sql = format!("CREATE DATABASE {name}; CREATE DATABASE {name}_usage;\n");
    let hosts: &[&str] = match grants {
        DbGrants::Installer => &["localhost", "%"],
        DbGrants::Narrow => &["127.0.0.1"],
    };
    for h in hosts {
        sql += &format!(
            "CREATE USER '{user}'@'{h}' IDENTIFIED BY {pw};\n\
             GRANT ALL ON {name}.* TO '{user}'@'{h}';\n\
             GRANT ALL ON {name}_usage.* TO '{user}'@'{h}';\n",
            pw = q(pw)
        );
        if grants == DbGrants::Installer {
            sql += &format!("GRANT PROCESS ON *.* TO '{user}'@'{h}';\n");
        }
    }
    m.sql(None, &sql);
    m.sql(Some(name), SCHEMA_422);
    db
}

#[derive(Clone)]
struct Setting {
    category: String,
    component: String,
    scope: u32,
    dynamic: bool,
    legacy: bool,
    default: Option<String>,
    value: Option<String>,
}

/// Every row of the fixture at its code default (reference §2.3: value = default at
/// first creation; legacy rows carry no default_value).
fn code_defaults() -> BTreeMap<String, Setting> {
    let mut out = BTreeMap::new();
    for line in SETTINGS.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let c: Vec<&str> = line.split('\t').collect();
        assert_eq!(c.len(), 7, "bad fixture line {line:?}");
        let default = (c[5] != "\\N").then(|| c[5].to_string());
        let legacy = c[3] == "legacy";
        out.insert(
            c[0].to_string(),
            Setting {
                category: c[1].into(),
                component: c[2].into(),
                scope: if legacy { 0 } else { c[3].parse().unwrap() },
                dynamic: c[4] == "1",
                legacy,
                value: default.clone(),
                default,
            },
        );
    }
    out
}

fn set(s: &mut BTreeMap<String, Setting>, name: &str, value: Option<&str>) {
    s.get_mut(name)
        .unwrap_or_else(|| panic!("{name} is not in settings-4.22.tsv"))
        .value = value.map(str::to_string);
}

/// A generated Hidden/Secure row that is not a code default (§3.7).
fn generated(s: &mut BTreeMap<String, Setting>, name: &str, category: &str, value: &str) {
    s.insert(
        name.into(),
        Setting {
            category: category.into(),
            component: "management-server".into(),
            scope: 0,
            dynamic: false,
            legacy: true,
            default: None,
            value: Some(value.into()),
        },
    );
}

/// INSERTs for the settings; Hidden/Secure values encrypted with the DB key (V2, as
/// `db.cloud.encryptor.version=V2` makes DBEncryptionUtil do; empty values stay empty).
fn settings_sql(py: &str, db_key: &str, s: &BTreeMap<String, Setting>) -> String {
    let secret = |x: &Setting| matches!(x.category.as_str(), "Hidden" | "Secure");
    let to_encrypt: Vec<(String, String)> = s
        .values()
        .filter(|x| secret(x))
        .filter_map(|x| x.value.clone().filter(|v| !v.is_empty()))
        .map(|v| (db_key.to_string(), v))
        .collect();
    let mut enc = v2_many(py, &to_encrypt).into_iter();
    let mut sql = String::new();
    for (name, x) in s {
        let value = match &x.value {
            Some(v) if secret(x) && !v.is_empty() => Some(enc.next().unwrap()),
            v => v.clone(),
        };
        let default = if x.legacy { None } else { x.default.clone() };
        sql += &format!(
            "INSERT INTO configuration (category, instance, component, name, value, default_value, scope, is_dynamic, updated) \
             VALUES ({}, 'DEFAULT', {}, {}, {}, {}, {}, {}, NOW());\n",
            q(&x.category),
            q(&x.component),
            q(name),
            value.as_deref().map_or("NULL".into(), q),
            default.as_deref().map_or("NULL".into(), q),
            x.scope,
            u8::from(x.dynamic)
        );
    }
    sql
}

/// A root CA certificate as RootCAProvider makes it (reference §3.5, §6.3): self-signed,
/// RSA of 2 x ca.framework.cert.keysize (4096), SHA256withRSA, 30 years, subject
/// `ca.plugin.root.issuer.dn`. Made with the openssl CLI (rcgen with ring cannot make RSA
/// keys); the private key stays in a temp dir that is deleted.
fn ca_certificate() -> String {
    let d = tempfile::tempdir().unwrap();
    let (key, crt) = (d.path().join("ca.key"), d.path().join("ca.crt"));
    let o = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:4096", "-sha256", "-days", "10950", "-nodes",
        ])
        .args(["-subj", "/CN=ca.cloudstack.apache.org", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .output()
        .expect("openssl (apt-get install openssl)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(crt).unwrap()
}

/// What a first start writes besides the code defaults (reference §4.5, §3.7, H1).
fn fresh_settings(canary: &str) -> BTreeMap<String, Setting> {
    let mut s = code_defaults();
    set(&mut s, "dynamic.apichecker.enabled", Some("true")); // server-setup.sql:28-29
    set(&mut s, "ca.plugin.root.auth.strictness", Some("true")); // server-setup.sql:31-32 (H3)
    set(
        &mut s,
        "user.password.encoders.exclude",
        Some("MD5,LDAP,PLAINTEXT"),
    ); // ConfigurationServerImpl.java:228
    set(&mut s, "user.authenticators.exclude", Some("PLAINTEXT")); // :231
    set(&mut s, "secstorage.encrypt.copy", Some("false")); // :222
    set(&mut s, "secondary.storage.vm", Some("true")); // :219
    set(&mut s, "host", Some("10.0.0.10")); // :252-267
    set(&mut s, "init", Some("true")); // :334
                                       // Generated at first init (§3.7, H18, H20): the SSO key, the upload PSK, the SSH
                                       // key pair, the copy password, the console-token keys, the Root CA.
    generated(
        &mut s,
        "security.singlesignon.key",
        "Secure",
        &format!("{canary}-sso"),
    );
    generated(
        &mut s,
        "upload.post.secret.key",
        "Hidden",
        &format!("{canary}-upload"),
    );
    generated(
        &mut s,
        "ssh.privatekey",
        "Hidden",
        &format!("-----BEGIN EC PRIVATE KEY-----\n{canary}-ssh\n-----END EC PRIVATE KEY-----\n"),
    );
    generated(
        &mut s,
        "ssh.publickey",
        "Hidden",
        "ecdsa-sha2-nistp256 AAAA cloud@ms1",
    );
    generated(
        &mut s,
        "secstorage.copy.password",
        "Hidden",
        &format!("{canary}-copy"),
    );
    generated(
        &mut s,
        "security.encryption.key",
        "Hidden",
        &format!("{canary}-tokenkey"),
    );
    generated(
        &mut s,
        "security.encryption.iv",
        "Hidden",
        &format!("{canary}-tokeniv"),
    );
    generated(
        &mut s,
        "security.hash.key",
        "Hidden",
        &format!("{canary}-hash"),
    );
    generated(
        &mut s,
        "ca.plugin.root.private.key",
        "Hidden",
        &format!("-----BEGIN PRIVATE KEY-----\n{canary}-cakey\n-----END PRIVATE KEY-----\n"),
    );
    generated(
        &mut s,
        "ca.plugin.root.public.key",
        "Hidden",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    );
    generated(
        &mut s,
        "ca.plugin.root.ca.certificate",
        "Hidden",
        &ca_certificate(),
    );
    s
}

/// A CloudStack PBKDF2 password hash (`b64(salt):b64(key):rounds`, PBKDF2-HMAC-SHA1,
/// 64-byte salt and key, 100,000 rounds: PBKDF2UserAuthenticator.java:43-45, 120-129),
/// made by Python's hashlib, independently of the crate.
fn pbkdf2_hash(py: &str, password: &str) -> String {
    let o = Command::new(py)
        .args([
            "-c",
            "import base64, hashlib, os, sys\n\
             s = os.urandom(64)\n\
             k = hashlib.pbkdf2_hmac('sha1', sys.argv[1].encode('latin-1'), s, 100000, 64)\n\
             print(base64.b64encode(s).decode() + ':' + base64.b64encode(k).decode() + ':100000')",
            password,
        ])
        .output()
        .expect("python3");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap().trim().to_string()
}

/// Rows outside `configuration`: the admin user as the first start leaves it (H1:
/// `enableAdminUser("password")` re-enables user 2 with password `password`; no 2FA).
fn fresh_users_sql(py: &str) -> String {
    format!(
        "UPDATE user SET state = 'enabled', is_user_2fa_enabled = 0, password = '{}' WHERE id = 2;\n",
        pbkdf2_hash(py, "password")
    )
}

// ---------------------------------------------------------------------------------
// Running the auditor

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let o = Command::new(common::bin())
        .args(args)
        .env_remove("CLOUD_SECRET_KEY")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// `collect` and `audit --format json` (production) of the tree; no secret may appear in
/// any output. Returns (facts, report, audit exit code).
fn audit(root: &Path, secrets: &[&str], extra: &[String]) -> (Value, Value, i32) {
    let r = root.to_str().unwrap();
    let mut common_args = vec!["--root", r, "--host-state", "never", "--db-timeout", "10"];
    common_args.extend(extra.iter().map(String::as_str));
    let mut c = vec!["collect"];
    c.extend(common_args.iter().copied());
    let facts = run(&c);
    let mut a = vec!["audit"];
    a.extend(common_args.iter().copied());
    a.extend([
        "--profile",
        "production",
        "--format",
        "json",
        "--as-of",
        "2026-11-28",
    ]);
    let report = run(&a);
    for out in [&facts.stdout, &facts.stderr, &report.stdout, &report.stderr] {
        for s in secrets {
            assert!(
                !out.contains(s),
                "secret {s:?} leaked:\n{}",
                &out[..out.len().min(2000)]
            );
        }
    }
    assert_eq!(facts.code, 0, "collect failed: {}", facts.stderr);
    let facts: Value = serde_json::from_str(&facts.stdout).unwrap();
    let report_v: Value =
        serde_json::from_str(&report.stdout).unwrap_or_else(|e| panic!("{e}: {}", report.stderr));
    // Every source was read: the tree and the database (not a silent fallback).
    assert_eq!(
        facts["sources"]["db"]["status"], "ok",
        "{}",
        facts["sources"]
    );
    (facts, report_v, report.code)
}

fn outcomes(report: &Value) -> BTreeMap<String, (String, Value)> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                (r["outcome"].as_str().unwrap().to_string(), r.clone()),
            )
        })
        .collect()
}

/// A check that only reads TLS-endpoint facts (`tls.*`): no `--endpoint` is given in
/// these tests, so such a check may be unknown or not_applicable, never fail.
fn reads_only_tls(r: &Value) -> bool {
    let obs = r["evidence"]["observed"].as_array();
    obs.is_some_and(|o| {
        !o.is_empty()
            && o.iter()
                .all(|f| f["fact"].as_str().is_some_and(|n| n.starts_with("tls.")))
    })
}

/// Host state (`listen.*`, `proc.*`, `clock.*`) describes the machine the auditor runs on,
/// not the audited tree: with `--host-state never` these are unknown in both deployments.
const HOST_STATE: &[&str] = &[
    "CS-NET-001",
    "CS-NET-002",
    "CS-NET-003",
    "CS-NET-004",
    "CS-NET-005",
    "CS-PROC-001",
    "CS-PROC-002",
    "CS-TIME-001",
];

// ---------------------------------------------------------------------------------
// The fresh install

/// What the reference predicts for a fresh install, check by check: (id, outcome, the
/// reference fact it follows from). Host-state checks are in [`HOST_STATE`].
#[rustfmt::skip]
const FRESH_PREDICTED: &[(&str, &str, &str)] = &[
    // db.properties as cloudstack-setup-databases writes it (§5.4, H2).
    ("CS-DBP-001", "pass", "-e file is the installer default (§5.4)"),
    ("CS-DBP-002", "pass", "the installer writes db.cloud.password=ENC(...) (§5.4)"),
    ("CS-DBP-003", "pass", "the operator's DB password is not a template default"),
    ("CS-DBP-004", "fail", "H2: -k defaults to `password`"),
    ("CS-DBP-005", "not_applicable", "DB on the same host (loopback)"),
    // The DB account (H11): cloud@'%' with ALL on cloud.*, PROCESS on *.*.
    ("CS-DBS-001", "fail", "H11: --deploy-as creates the account for '%'"),
    ("CS-DBS-002", "pass", "H11: ALL on cloud.*/cloud_usage.*, PROCESS on *.*, no GRANT OPTION"),
    ("CS-DBS-003", "not_applicable", "DB on the same host"),
    // Issue 11 item 5: the installer's PROCESS ON *.* is now flagged on its own (low).
    ("CS-DBS-004", "fail", "H11: the installer grants PROCESS on *.*"),
    // server.properties from the template (H5, §6.1).
    ("CS-SRV-001", "fail", "H5: https.enable=false"),
    ("CS-SRV-002", "fail", "H5: http.enable=true"),
    ("CS-SRV-003", "not_applicable", "HTTPS off: the vmops.com keystore password is not used"),
    ("CS-SRV-004", "fail", "§6.1: bind.interface commented out, all interfaces"),
    ("CS-SRV-005", "not_applicable", "HTTPS off"),
    ("CS-XS-001", "not_applicable", "HTTPS off"),
    ("CS-XS-002", "not_applicable", "HTTPS off, SAML off"),
    // Files as the RPM spec sets them (§7).
    ("CS-FILE-001", "pass", "§7.1: db.properties %attr(0640,root,cloud)"),
    ("CS-FILE-002", "pass", "§5.4: key chmod 0640, chgrp cloud"),
    ("CS-FILE-003", "not_applicable", "H5/§6.2: no code creates cloud.jks"),
    ("CS-FILE-004", "pass", "§7.1: server.properties %attr(0640,root,cloud) (RPM)"),
    ("CS-FILE-005", "pass", "§7.1: usage db.properties is a symlink to the 0640 file"),
    ("CS-FILE-006", "pass", "§7.1: usage key is a symlink to the 0640 key"),
    ("CS-FILE-007", "pass", "§7.1: config.json %attr(0640,root,cloud)"),
    ("CS-FILE-008", "pass", "§7.1: sudoers chmod 440"),
    ("CS-FILE-009", "pass", "§7.1: /etc/default/cloudstack-management 0644 root"),
    ("CS-FILE-010", "pass", "§7.2: ssh-keygen makes id_rsa 0600"),
    ("CS-FILE-011", "pass", "§7.2: 0770 log directory keeps others out of 0644 logs"),
    ("CS-FILE-012", "pass", "§7.2: usage log directory 0770 root:cloud"),
    ("CS-FILE-013", "pass", "no heap dump yet (H17)"),
    ("CS-FILE-014", "pass", "no heap dump yet (H17)"),
    ("CS-FILE-015", "pass", "§7.1: java.security.ciphers root 0644"),
    ("CS-EXT-001", "fail", "§7.3: extensions %attr(0755,cloud,cloud)"),
    ("CS-JVM-001", "pass", "§8: JAVA_DEBUG shipped commented out"),
    ("CS-JVM-002", "pass", "usage JAVA_DEBUG shipped commented out"),
    ("CS-JVM-003", "fail", "H15: the shipped list does not disable TLSv1/TLSv1.1"),
    // Settings at their code defaults and the first-init rows (§3, §4.5).
    ("CS-SET-001", "fail", "H7: api.throttling.enabled=false"),
    ("CS-SET-002", "not_applicable", "throttling off"),
    ("CS-SET-003", "not_applicable", "throttling off"),
    ("CS-SET-004", "fail", "H8: enable.user.2fa=false"),
    ("CS-SET-005", "not_applicable", "H8: 2FA not enabled, so mandate is moot"),
    ("CS-SET-006", "pass", "no domain_details rows on a fresh install"),
    ("CS-SET-007", "not_applicable", "2FA not mandated"),
    ("CS-SET-008", "fail", "H1/H8: admin (user 2) enabled without 2FA"),
    ("CS-SET-009", "pass", "H14: integration.api.port=0 (off on 4.22; 0 is off from 4.18.2.1, 4.19.0.2, 4.20.0.0, and on 4.11)"),
    ("CS-SET-010", "not_applicable", "§3.4: proxy.header.verify=false"),
    ("CS-SET-011", "pass", "§4.5: first init sets encoders.exclude=MD5,LDAP,PLAINTEXT"),
    ("CS-SET-012", "pass", "§4.5: first init sets authenticators.exclude=PLAINTEXT"),
    ("CS-SET-013", "pass", "§3.2: incorrect.login.attempts.allowed=5"),
    ("CS-SET-014", "fail", "H7: api.allowed.source.cidr.list=0.0.0.0/0,::/0"),
    ("CS-SET-015", "fail", "H16: enable.secure.session.cookie=false"),
    ("CS-SET-016", "fail", "§3.1: enforce.post.requests.and.timestamps=false"),
    ("CS-SET-017", "pass", "H3: server-setup.sql inserts strictness=true"),
    ("CS-SET-018", "fail", "H4: allow.expired.cert=true"),
    ("CS-SET-019", "fail", "H10: haproxy stats admin1:AdMiN123"),
    ("CS-SET-020", "fail", "H10: backup.plugin.networker.password=password"),
    ("CS-SET-021", "fail", "H10: cloudian.admin.password=public, sso.key ss0sh5r3dk3y"),
    ("CS-SET-022", "pass", "H1: the first start re-enables user 2"),
    ("CS-SET-023", "fail", "H20: security.singlesignon.key generated at first init"),
    ("CS-SET-024", "not_applicable", "SAML off (saml2.sigalg SHA1 unused, H19)"),
    ("CS-SET-025", "pass", "§3.1: use.secret.key.in.response=false"),
    ("CS-SET-026", "fail", "H9: password.policy.minimum.length=0"),
    ("CS-SESS-001", "pass", "§3.3: SameSite Lax"),
    ("CS-SESS-002", "pass", "§3.3: CookieAndParameter"),
    ("CS-CON-001", "fail", "§3.6: consoleproxy.sslEnabled=false"),
    ("CS-CON-002", "fail", "§3.6: novnc.console.sourceip.check.enabled=false"),
    ("CS-STO-001", "fail", "§3.6/§4.5: secstorage.encrypt.copy forced false"),
    ("CS-STO-002", "pass", "§3.6: use.https.to.upload=true"),
    ("CS-STO-003", "pass", "§3.6: extract URLs expire after 14400 s"),
    ("CS-SVM-001", "fail", "§3.6: system.vm.random.password=false"),
    ("CS-SVM-002", "pass", "§3.6: systemvm.userdata.enabled=false"),
    ("CS-MON-001", "fail", "§3.9: alert.email.addresses null, no e-mail alerting"),
    ("CS-MON-002", "not_applicable", "no alert recipients"),
    ("CS-MON-003", "pass", "§3.9: enabledSecurityProtocols empty"),
    ("CS-MON-004", "fail", "§3.9: event.purge.delay=15 days"),
    ("CS-MON-005", "pass", "§3.9: log.hide.password=true"),
    ("CS-MON-006", "not_applicable", "§3.9: Prometheus exporter off"),
    ("CS-LDAP-001", "not_applicable", "§3.8: LDAP not configured"),
    ("CS-SAML-001", "not_applicable", "§3.8: saml2.enabled=false"),
    ("CS-SAML-002", "not_applicable", "§3.8: saml2.enabled=false"),
    ("CS-DISC-002", "fail", "§3.1: expose.cloudstack.version.api.list.capabilities=true"),
    ("CS-INTG-001", "fail", "§3.10: veeam/networker validate.ssl=false"),
    ("CS-LEG-001", "pass", "§3.11: EC2/S3 APIs off"),
    // The release: 4.22.0.0 (cloud.version) has published advisories.
    ("CS-VULN-001", "fail", "advisories: important/critical CVEs fixed in 4.22.0.1/4.22.1.1"),
    ("CS-VULN-002", "fail", "advisories: moderate/low CVEs fixed in 4.22.0.1/4.22.1.1"),
    ("CS-VULN-003", "fail", "advisories U4: CVE-2025-22828 has no fixed release"),
    ("CS-VULN-004", "fail", "patch lag: 4.22.0.1 fixes announced 2026-05-05, over 90 days before --as-of 2026-11-28"),
    ("CS-VULN-005", "fail", "patch lag: critical CVE-2026-50112 fixed in 4.22.1.1 (2026-08-18), over 30 days"),
    ("CS-VULN-006", "fail", "patch lag: important CVE-2025-66171 fixed in 4.22.0.1 (2026-05-05), over 90 days"),
    ("CS-VULN-007", "pass", "the built-in feed (2026-09-03) is 86 days old on 2026-11-28"),
    ("CS-VULN-008", "pass", "4.22 is the current LTS, security fixes until 2027-11-11"),
    ("CS-VULN-009", "not_applicable", "only the DB records the version: nothing to compare"),
    ("CS-AUTH-001", "fail", "H9: password.policy.allowPasswordToContainUsername=true"),
    ("CS-AUTH-010", "fail", "H1: enableAdminUser(\"password\") gives user 2 the password `password`"),
    ("CS-AUTH-002", "pass", "§3.2: user.password.encoders.order starts with PBKDF2"),
    ("CS-AUTH-003", "not_applicable", "H8: enable.user.2fa=false"),
    ("CS-AUTH-004", "pass", "H20: security.singlesignon.tolerance.millis=300000"),
    ("CS-AUTH-005", "not_applicable", "§3.2: user.password.reset.enabled=false"),
    ("CS-AUTH-006", "not_applicable", "§3.2: user.password.reset.enabled=false"),
    ("CS-AUTH-007", "pass", "§3.3: session.timeout=30 in the server.properties template"),
    ("CS-AUTH-008", "not_applicable", "§3.8: saml2.enabled=false"),
    ("CS-AUTH-009", "pass", "§4.5: server-setup.sql sets dynamic.apichecker.enabled=true"),
    ("CS-CFG-001", "pass", "§6.1: extensions.deployment.mode=production"),
    ("CS-CFG-002", "pass", "§6.1: request.content.size and max form keys at their defaults"),
    ("CS-CFG-003", "fail", "H10: network.loadbalancer.haproxy.stats.visibility=global"),
    ("CS-CFG-004", "pass", "§3.6: secstorage.allowed.internal.sites null"),
    ("CS-CFG-005", "pass", "§3.5: ca.framework.cert.keysize=2048"),
    ("CS-CFG-006", "pass", "§3.5: ca.framework.cert.automatic.renewal=true"),
    ("CS-CFG-007", "pass", "§3.11: ssh.key.length=2048"),
    ("CS-CFG-008", "fail", "§3.11: vm.password.length=6"),
    ("CS-CFG-009", "pass", "§3.10: redfish.use.https=true"),
    ("CS-CFG-010", "not_applicable", "§3.9: alert.smtp.useAuth=false"),
    ("CS-HOST-001", "pass", "§7.1: /etc/default/cloudstack-usage as packaged, root 0644"),
    ("CS-HOST-002", "pass", "§7.2: the cloud home is 0770 cloud:cloud (spec :592)"),
    ("CS-SEC-001", "pass", "§3.9: quota.usage.smtp.password empty"),
    ("CS-SEC-002", "pass", "§3.6: secstorage.proxy null"),
    ("CS-SEC-003", "pass", "§5.4: cloudstack-setup-databases writes db.usage.password ENC()"),
    ("CS-SEC-004", "pass", "H2: cloudstack-setup-databases -g V2"),
    ("CS-SEC-005", "pass", "H2/§5.3: db.cloud.encrypt.secret is V2 ciphertext"),
    ("CS-SEC-006", "not_applicable", "§5.1: db.cloud.useSSL=false"),
    // Issue 11 item 2: with HTTPS deliberately off (CS-SRV-001's finding) the 8443 checks no
    // longer come out unknown (not probed) but not applicable, for that reason.
    ("CS-TLS-001", "not_applicable", "H5: https.enable=false, HTTPS deliberately off (CS-SRV-001)"),
    ("CS-TLS-012", "not_applicable", "H5: https.enable=false, HTTPS deliberately off (CS-SRV-001)"),
    // Issue 11 item 5: the MS key is now compared with the installer default (-m password).
    ("CS-SEC-007", "fail", "H2: -m defaults to `password`"),
    // Issue 11 item 4: overrides weakening the global value; none on a fresh install.
    ("CS-SCOPE-001", "pass", "no account_details/domain_details rows on a fresh install"),
    ("CS-SCOPE-002", "pass", "no domain_details rows on a fresh install"),
    ("CS-SCOPE-003", "pass", "no domain_details rows on a fresh install"),
    ("CS-SCOPE-004", "pass", "no domain_details rows on a fresh install"),
    ("CS-TLS-009", "unknown", "8250 is not probed in a test tree (no --endpoint): the wire cannot confirm strictness"),
    ("CS-TLS-013", "pass", "§3.5/§6.3: the root CA key is RSA 2 x ca.framework.cert.keysize = 4096"),
    ("CS-TLS-014", "pass", "§6.3: the root CA is SHA256withRSA, valid 30 years"),
    ("CS-TLS-015", "pass", "§3.5: root CA matches keysize 2048 (x2) and SHA256withRSA"),
];

#[test]
fn fresh_install_gets_the_findings_the_reference_predicts() {
    let Some((m, py)) = ready() else { return };
    let db = create_db(m, DbGrants::Installer);
    let canary = format!("CANARY-fresh-{}", db.name);
    let mut sql = settings_sql(&py, INSTALLER_KEY, &fresh_settings(&canary));
    sql += &fresh_users_sql(&py);
    m.sql(Some(&db.name), &sql);
    let t = tempfile::tempdir().unwrap();
    let dbp = db_properties(
        &py,
        &DbFile {
            db: &db,
            ms_key: INSTALLER_KEY,
            db_key: INSTALLER_KEY,
        },
    );
    fresh_tree(t.path(), &dbp);

    let (facts, report, code) = audit(
        t.path(),
        &[&db.password, &canary, "CANARY-fresh-sshkey-file"],
        &[],
    );
    let f = &facts["facts"];
    // The facts the predictions rest on were really collected, from the right source.
    assert_eq!(f["files.layout"]["value"], "el");
    assert_eq!(f["cs.version"]["value"], "4.22.0.0");
    assert_eq!(
        f["secret.db.db.cloud.encrypt.secret"]["value"]["decrypted"],
        "V2"
    );
    assert_eq!(
        f["secret.db.db.cloud.encrypt.secret"]["value"]["known_default"],
        true
    );
    assert_eq!(
        f["secret.db.db.cloud.password"]["value"]["known_default"],
        false
    );
    assert_eq!(
        f["cs.setting.ca.plugin.root.auth.strictness"]["value"],
        "true"
    );
    assert_eq!(
        f["cs.setting_info.ca.plugin.root.auth.strictness"]["value"]["default_value"], "false",
        "H3: code default false, install row true"
    );
    assert_eq!(f["dbserver.current_user"]["value"]["host"], "%");
    assert_eq!(f["cs.admin_users_without_2fa"]["value"]["count"], 1);
    // The default roles deny nothing: the annotations advisory stays open.
    assert_eq!(
        f["cs.api_access.denied_to_non_admin"]["value"],
        serde_json::json!({"addAnnotation": false, "listAnnotations": false})
    );
    assert_eq!(
        f["cs.setting_secret.network.loadbalancer.haproxy.stats.auth"]["value"]["known_default"],
        true,
        "H10: decrypted with the DB key `password`"
    );

    let got = outcomes(&report);
    let mut wrong = Vec::new();
    let mut seen = BTreeSet::new();
    for (id, want, why) in FRESH_PREDICTED {
        seen.insert(*id);
        match got.get(*id) {
            Some((o, r)) if o != want => wrong.push(format!(
                "{id}: predicted {want} ({why}), got {o}: {}",
                r.get("reason").unwrap_or(&r["evidence"])
            )),
            Some(_) => {}
            None => wrong.push(format!("{id}: not in the report")),
        }
    }
    for id in HOST_STATE {
        seen.insert(id);
        match got.get(*id) {
            Some((o, _)) if o == "unknown" => {}
            other => wrong.push(format!(
                "{id}: host state is not collected here, got {other:?}"
            )),
        }
    }
    for (id, (o, r)) in &got {
        assert_ne!(o, "error", "{id} errored: {r}");
        if seen.contains(id.as_str()) {
            continue;
        }
        if reads_only_tls(r) && (o == "unknown" || o == "not_applicable") {
            continue;
        }
        wrong.push(format!(
            "{id}: {o}, but the fresh-install test has no prediction for it (add one, from the reference)"
        ));
    }
    assert!(wrong.is_empty(), "fresh install:\n{}", wrong.join("\n"));
    // Findings at high/critical fail the production profile: exit code 1.
    assert_eq!(code, 1);
}

// ---------------------------------------------------------------------------------
// A 4.11-schema deployment (issue 11, item 6 acceptance)

const SETTINGS_411: &str = include_str!("fixtures/deployments/settings-4.11.tsv");

/// The settings 4.11.3 has (settings-4.11.tsv): name -> (a row is inserted, the 4.11
/// default where it differs from 4.22's: `Some(None)` for NULL).
fn settings_411() -> BTreeMap<String, (bool, Option<Option<String>>)> {
    SETTINGS_411
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            assert_eq!(c.len(), 3, "bad settings-4.11.tsv line {l:?}");
            let d = match c[2] {
                "" => None,
                "\\N" => Some(None),
                x => Some(Some(x.to_string())),
            };
            (c[0].to_string(), (c[1] == "row", d))
        })
        .collect()
}

/// A `cloud` database with the 4.11 schema (tests/fixtures/db/schema-4.11.sql: no 2FA
/// columns, text scopes, version 4.11.3.0) and one narrow account.
fn create_db_411(m: &Maria) -> DbAccount {
    let n = SEQ.fetch_add(1, Ordering::SeqCst);
    let pid = std::process::id();
    let db = DbAccount {
        name: format!("dep411_{pid}_{n}"),
        user: format!("c411_{pid}_{n}"),
        password: format!("CANARY-dbpw411-{pid}-{n}-Qz4"),
        port: m.port,
    };
    let (name, user) = (&db.name, &db.user);
    m.sql(
        None,
        &format!(
            "CREATE DATABASE {name}; CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY {pw};\n\
             GRANT ALL ON {name}.* TO '{user}'@'127.0.0.1';\n",
            pw = q(&db.password)
        ),
    );
    m.sql(Some(name), common::mariadb::SCHEMA_411);
    db
}

/// The catalog's checks and the settings each reads (`cs.setting.<name>` and the other
/// per-setting namespaces), from the embedded catalog.
fn settings_read_by_checks() -> BTreeMap<String, BTreeSet<String>> {
    let cat = stackposture::catalog::Catalog::builtin().unwrap();
    cat.checks
        .iter()
        .map(|c| {
            let names = c
                .facts()
                .into_iter()
                .filter_map(stackposture::catalog::history::setting_of)
                .map(str::to_string)
                .collect::<BTreeSet<_>>();
            (c.id.clone(), names)
        })
        .filter(|(_, n)| !n.is_empty())
        .collect()
}

/// A first start of 4.11.3 on the 4.11 schema: only the settings 4.11 has, at their 4.11
/// defaults, plus the first-start updates ConfigurationServerImpl made in 4.11 (encoder
/// and authenticator exclusions). No check may pass on a setting 4.11 does not have: such
/// a check is not_applicable (with the release in the reason) or, failing that, anything
/// but pass. 4.11's NULL integration.api.port is its default (listener off), not an error.
#[test]
fn schema_4_11_passes_no_check_on_a_setting_it_lacks() {
    let Some((m, py)) = ready() else { return };
    let db = create_db_411(m);
    let in411 = settings_411();
    let mut s = code_defaults();
    s.retain(|n, _| in411.get(n).is_some_and(|x| x.0));
    let rows = in411.values().filter(|x| x.0).count();
    assert_eq!(
        s.len(),
        rows,
        "settings-4.11.tsv names a row settings-4.22.tsv lacks"
    );
    for (n, (_, d)) in &in411 {
        if let Some(d) = d {
            let x = s.get_mut(n).unwrap();
            x.default = d.clone();
            x.value = d.clone();
        }
    }
    set(
        &mut s,
        "user.password.encoders.exclude",
        Some("MD5,LDAP,PLAINTEXT"),
    );
    set(&mut s, "user.authenticators.exclude", Some("PLAINTEXT"));
    let mut sql = settings_sql(&py, INSTALLER_KEY, &s);
    // 4.11 stored the scope as text (ConfigKey.Scope's name), NULL for Config enum rows.
    sql += "UPDATE configuration SET scope = CASE scope WHEN '0' THEN NULL WHEN '1' THEN 'Global' \
            WHEN '2' THEN 'Zone' WHEN '4' THEN 'Cluster' WHEN '8' THEN 'StoragePool' \
            WHEN '64' THEN 'Domain' WHEN '128' THEN 'Account' ELSE scope END;\n";
    m.sql(Some(&db.name), &sql);
    let t = tempfile::tempdir().unwrap();
    let dbp = db_properties(
        &py,
        &DbFile {
            db: &db,
            ms_key: INSTALLER_KEY,
            db_key: INSTALLER_KEY,
        },
    );
    fresh_tree(t.path(), &dbp);
    let (facts, report, _) = audit(t.path(), &[&db.password], &[]);
    let f = &facts["facts"];
    assert_eq!(f["cs.version"]["value"], "4.11.3.0");
    assert_eq!(
        f["cs.admin_users_without_2fa"]["missing"]["reason"], "unsupported",
        "{}",
        f["cs.admin_users_without_2fa"]
    );
    let got = outcomes(&report);
    let mut examined = 0;
    let mut problems = Vec::new();
    for (id, names) in settings_read_by_checks() {
        let lacking: Vec<&String> = names.iter().filter(|n| !in411.contains_key(*n)).collect();
        // A check reading only settings 4.11 lacks; a check that also reads one 4.11 has
        // may still be decided by it (an `any`), and is looked at below by name.
        if lacking.is_empty() || lacking.len() < names.len() {
            continue;
        }
        let Some((outcome, r)) = got.get(&id) else {
            continue; // not selected by production
        };
        examined += 1;
        if outcome == "pass" {
            problems.push(format!(
                "{id} passes on {lacking:?}, which 4.11 does not have: {r}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    eprintln!("4.11 schema: {examined} checks read only settings 4.11 lacks; none passes");
    assert!(
        examined >= 20,
        "only {examined} checks read settings 4.11 lacks"
    );
    // Named cases from the issue: SameSite (4.20.0, backported to 4.19.2 and 4.18.2.4) and
    // "no domain switches 2FA off" (2FA arrived in 4.18.0) are not applicable, saying why.
    for (id, setting) in [
        ("CS-SESS-001", "api.sessionkey.cookie.samesite"),
        ("CS-SET-006", "enable.user.2fa"),
        ("CS-SET-004", "enable.user.2fa"),
    ] {
        let (o, r) = &got[id];
        assert_eq!(o, "not_applicable", "{id}: {r}");
        let reason = r["reason"].as_str().unwrap_or("");
        assert!(
            reason.contains(&format!("setting {setting} was added in"))
                && reason.contains("installed 4.11.3.0"),
            "{id}: {reason}"
        );
    }
    // A NULL integration.api.port is 4.11's default (off): pass, never error.
    let (o, r) = &got["CS-SET-009"];
    assert_eq!(o, "pass", "{r}");
    // A check on a setting 4.11 has is still decided: api.throttling.enabled defaults off.
    assert_eq!(got["CS-SET-001"].0, "fail", "{}", got["CS-SET-001"].1);
}
