//! The HARDENED deployments (issue 6; issue 11, first acceptance item): a fresh install
//! with every remediation of the catalog applied, built twice, in the EL layout
//! (`packaging/el8/cloud.spec`, which `packaging/el9` links to; an sqlite RPM database) and
//! in the DEB layout (`packaging/debian`; a dpkg status file), each with
//!
//! * a narrow DB account: one host (the MS's own address), ALL on cloud.* and
//!   cloud_usage.* and nothing else, so it cannot read `mysql.user`;
//! * a per-account `api.allowed.source.cidr.list` (account_details) narrower than the
//!   global list;
//! * authenticated SMTP with implicit TLS for alerts, project invitations and password
//!   reset e-mails, each password a Secure (DB-encrypted V2) setting;
//! * real TLS endpoints on 127.0.0.1 given with `--endpoint`: 8443 served from the tree's
//!   own PKCS#12 keystore (`https.keystore`), a certificate for the management server's
//!   DNS name (the host of `endpoint.url`) with its IP (`host`) as IP SAN, issued by the
//!   operator's CA; 8250 and 9090 with a management certificate as RootCAProvider issues
//!   it (hostname, `cloudstack.internal`, the NIC IP), issued by the root CA the database
//!   records, requiring a client certificate; nothing on the plain HTTP port.
//!
//! Under `production` the audit exits 0 and the only checks that are not `pass` are listed
//! with the reason in [`HARDENED_NOT_PASS`] (they cannot pass in a test tree).

use super::*;
use common::tls::{openssl, s_server, Proc};

const HARDENED_MS_KEY: &str = "CANARY-hard-mskey-4f1c9a7e";
const HARDENED_DB_KEY: &str = "CANARY-hard-dbkey-8b2d6e03";
const HARDENED_KS_PASSWORD: &str = "CANARY-hard-kspw-51c0";

/// The management server's own address (`host`, `cluster.node.IP`, `bind.interface`) and
/// the DNS name users browse to (the host of `endpoint.url`).
const MS_IP: &str = "10.0.0.10";
const MS_DNS: &str = "cloud.example.org";
/// The MS's hostname (`NetUtils.getHostName()`), in its RootCAProvider certificate.
const MS_HOSTNAME: &str = "ms1";

/// The only checks a hardened deployment may leave not `pass`, each with the reason it
/// cannot be `pass` in this test.
#[rustfmt::skip]
const HARDENED_NOT_PASS: &[(&str, &str, &str)] = &[
    ("CS-NET-001", "unknown", "host state of the test machine, not of the tree"),
    ("CS-NET-002", "unknown", "host state of the test machine, not of the tree"),
    ("CS-NET-003", "unknown", "host state of the test machine, not of the tree"),
    ("CS-NET-004", "unknown", "host state of the test machine, not of the tree"),
    ("CS-NET-005", "unknown", "host state of the test machine, not of the tree"),
    ("CS-PROC-001", "unknown", "host state of the test machine, not of the tree"),
    ("CS-PROC-002", "unknown", "host state of the test machine, not of the tree"),
    ("CS-TIME-001", "unknown", "host state of the test machine, not of the tree"),
    ("CS-DBP-005", "not_applicable", "the private MariaDB is on loopback: no remote DB link to protect"),
    ("CS-DBS-003", "not_applicable", "the private MariaDB is on loopback: no remote DB link to protect"),
    ("CS-SEC-006", "not_applicable", "the private MariaDB is on loopback: db.cloud.useSSL stays off, no DB keystore"),
    ("CS-AUTH-004", "not_applicable", "no SSO key (CS-SET-023): the SSO tolerance does not apply"),
];

/// The package layout of a tree.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Layout {
    El,
    Deb,
}

impl Layout {
    /// `files.layout` as the collector names it.
    fn name(self) -> &'static str {
        match self {
            Layout::El => "el",
            Layout::Deb => "deb",
        }
    }
    fn cloud(self) -> (u32, u32) {
        match self {
            Layout::El => EL_CLOUD,
            Layout::Deb => DEB_CLOUD,
        }
    }
    /// `~cloud`: EL `useradd -d /var/cloudstack/management` (cloud.spec :433-434); DEB
    /// `adduser --home /var/lib/cloudstack/management`.
    fn home(self) -> &'static str {
        match self {
            Layout::El => "var/cloudstack/management",
            Layout::Deb => "var/lib/cloudstack/management",
        }
    }
    /// EL: `sudoers.d/cloudstack-management` (cloud.spec :307); DEB: `sudoers.d/cloudstack`.
    fn sudoers(self) -> &'static str {
        match self {
            Layout::El => "etc/sudoers.d/cloudstack-management",
            Layout::Deb => "etc/sudoers.d/cloudstack",
        }
    }
}

// ---------------------------------------------------------------------------------
// Certificates

/// `args` split on whitespace, for openssl command lines without spaces in arguments.
fn words(args: &str) -> Vec<&str> {
    args.split_whitespace().collect()
}

/// The deployment's PKI, made with the openssl CLI in `dir`:
/// * `root.pem`/`root.key`: CloudStack's root CA as RootCAProvider makes it (RSA 4096,
///   SHA256withRSA, 30 years, CN=ca.cloudstack.apache.org);
/// * `mgmt.pem`/`mgmt.key`: the management certificate it issues for 8250/9090
///   (RootCAProvider.loadManagementKeyStore: the hostname and
///   `ca.framework.cert.management.custom.san` as DNS SANs, the NIC IP as IP SAN);
/// * `opca.pem`/`opca.key`: the operator's CA; `https.pem`/`https.key`: the 8443
///   certificate it issues for the DNS name users browse to, with the MS IP as IP SAN.
fn hardened_pki(dir: &Path) {
    let ca = "-sha256 -nodes -addext basicConstraints=critical,CA:TRUE \
              -addext keyUsage=critical,keyCertSign,cRLSign";
    let mut root = words("req -x509 -newkey rsa:4096 -days 10950 -keyout root.key -out root.pem");
    root.extend(words(ca));
    root.extend(["-subj", "/CN=ca.cloudstack.apache.org"]);
    openssl(dir, &root);
    let mut op = words(
        "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 3650 \
         -keyout opca.key -out opca.pem",
    );
    op.extend(words(ca));
    op.extend(["-subj", "/CN=Example Org Issuing CA"]);
    openssl(dir, &op);
    // ca.framework.cert.keysize 2048 (§3.5).
    let mgmt_san = format!("DNS:{MS_HOSTNAME},DNS:cloudstack.internal,IP:{MS_IP}");
    issue(dir, "mgmt", "rsa:2048", MS_HOSTNAME, &mgmt_san, "root");
    let https_san = format!("DNS:{MS_DNS},IP:{MS_IP}");
    let ec = "ec -pkeyopt ec_paramgen_curve:prime256v1";
    issue(dir, "https", ec, MS_DNS, &https_san, "opca");
}

/// A leaf `<name>.pem`/`<name>.key` (`-newkey` arguments `newkey`, subject CN=`cn`,
/// subjectAltName `san`) issued for 365 days by the CA `<ca>.pem`/`<ca>.key`.
fn issue(dir: &Path, name: &str, newkey: &str, cn: &str, san: &str, ca: &str) {
    let req =
        format!("req -nodes -newkey {newkey} -subj /CN={cn} -keyout {name}.key -out {name}.csr");
    openssl(dir, &words(&req));
    fs::write(
        dir.join(format!("{name}.ext")),
        format!(
            "subjectAltName={san}\nbasicConstraints=CA:FALSE\n\
             keyUsage=critical,digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth,clientAuth\n"
        ),
    )
    .unwrap();
    let sign = format!(
        "x509 -req -in {name}.csr -CA {ca}.pem -CAkey {ca}.key -CAcreateserial -days 365 \
         -sha256 -out {name}.pem -extfile {name}.ext"
    );
    openssl(dir, &words(&sign));
}

/// openssl with the keystore password in `KSPW` (never on the command line).
fn openssl_ks(dir: &Path, args: &str) {
    let o = Command::new("openssl")
        .args(args.split_whitespace())
        .current_dir(dir)
        .env("KSPW", HARDENED_KS_PASSWORD)
        .output()
        .expect("openssl");
    assert!(
        o.status.success(),
        "openssl {args}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The 8443 keystore (`https.keystore`): PKCS#12, the type Jetty's SslContextFactory
/// opens by default (ServerDaemon.java:258-290 sets only its path and passwords), alias
/// `cloud`, the leaf with its chain.
fn keystore(pki: &Path) -> Vec<u8> {
    openssl_ks(
        pki,
        "pkcs12 -export -in https.pem -inkey https.key -certfile opca.pem -name cloud \
         -passout env:KSPW -out cloud.p12",
    );
    fs::read(pki.join("cloud.p12")).unwrap()
}

/// The servers of the deployment; 8443 serves the certificate and key read back from the
/// tree's keystore. Returns the servers (killed on drop) and the `--endpoint` arguments.
fn serve(pki: &Path, tree_keystore: &Path) -> (Vec<Proc>, Vec<String>) {
    let ks = tree_keystore.to_str().unwrap();
    assert!(!ks.contains(char::is_whitespace), "{ks}");
    let read = format!("pkcs12 -in {ks} -passin env:KSPW");
    openssl_ks(pki, &format!("{read} -clcerts -nokeys -out served.pem"));
    openssl_ks(pki, &format!("{read} -nocerts -nodes -out served.key"));
    // TLS 1.2+ with AEAD suites only: no CBC, no static RSA. 8443 (EC key) offers ECDHE;
    // 8250/9090 (RSA key, as a JVM's defaults) also DHE, with the 2048-bit group OpenSSL
    // picks for a 2048-bit key (JDK default jdk.tls.ephemeralDHKeySize=2048).
    let tls12 = "-min_protocol TLSv1.2 -cipher";
    let mut https_args = words(tls12);
    https_args.extend(["ECDHE+AESGCM:ECDHE+CHACHA20", "-cert_chain", "opca.pem"]);
    let (https, https_port) = s_server(pki, "served.pem", "served.key", &https_args);
    // ca.plugin.root.auth.strictness=true: RootCAProvider sets setNeedClientAuth.
    let mut mgmt_args = words(tls12);
    mgmt_args.push("ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM");
    mgmt_args.extend(words("-cert_chain root.pem -Verify 1 -CAfile root.pem"));
    let (agent, agent_port) = s_server(pki, "mgmt.pem", "mgmt.key", &mgmt_args);
    let (cluster, cluster_port) = s_server(pki, "mgmt.pem", "mgmt.key", &mgmt_args);
    let endpoints = [
        format!("https=127.0.0.1:{https_port}"),
        format!("agent=127.0.0.1:{agent_port}"),
        format!("cluster=127.0.0.1:{cluster_port}"),
        format!("http=127.0.0.1:{}", common::tls::free_port()),
    ];
    let args = endpoints
        .into_iter()
        .flat_map(|e| ["--endpoint".to_string(), e])
        .collect();
    (vec![https, agent, cluster], args)
}

// ---------------------------------------------------------------------------------
// The settings and rows

#[rustfmt::skip]
fn hardened_settings(canary: &str, root_ca: &str, root_key: &str) -> BTreeMap<String, Setting> {
    let mut s = fresh_settings(canary);
    let on = Some("true");
    let off = Some("false");
    for (name, v) in [
        ("api.throttling.enabled", on), // CS-SET-001
        ("enable.user.2fa", on),        // CS-SET-004
        ("mandate.user.2fa", on),       // CS-SET-005
        ("proxy.header.verify", on),    // CS-SET-010 (narrow cidr)
        ("proxy.cidr", Some("10.0.5.10/32,10.0.5.11/32")),
        ("api.allowed.source.cidr.list", Some("10.0.0.0/16")), // CS-SET-014
        ("enable.secure.session.cookie", on),                  // CS-SET-015
        ("enforce.post.requests.and.timestamps", on),          // CS-SET-016
        ("ca.plugin.root.allow.expired.cert", off),            // CS-SET-018
        ("password.policy.minimum.length", Some("12")),        // CS-SET-026
        ("consoleproxy.sslEnabled", on),                       // CS-CON-001
        ("consoleproxy.url.domain", Some("*.console.example.org")),
        ("novnc.console.sourceip.check.enabled", on), // CS-CON-002
        ("secstorage.encrypt.copy", on),              // CS-STO-001
        ("system.vm.random.password", on),            // CS-SVM-001
        ("alert.email.addresses", Some("cloud-ops@example.org")), // CS-MON-001
        ("event.purge.delay", Some("180")), // CS-MON-004
        ("prometheus.exporter.enable", on), // CS-MON-006
        ("prometheus.exporter.allowed.ips", Some("10.0.9.5")),
        ("expose.cloudstack.version.api.list.capabilities", off), // CS-DISC-002
        ("expose.cloudstack.version.api.xml.response", off),
        // CS-XS-001; CS-TLS-008: the 8443 certificate names this host.
        ("endpoint.url", Some("https://cloud.example.org:8443/client/api")),
        ("host", Some(MS_IP)), // CS-TLS-008: the 8250/9090 certificate names this address.
        ("saml2.enabled", on), // CS-SAML-*, CS-SET-024, CS-XS-002
        ("saml2.sigalg", Some("SHA256")),
        ("saml2.redirect.url", Some("https://cloud.example.org:8443/client")),
        ("ldap.basedn", Some("dc=example,dc=org")), // CS-LDAP-001
        ("ldap.truststore", Some("/etc/cloudstack/management/ldap-truststore.jks")),
        ("backup.plugin.veeam.validate.ssl", on), // CS-INTG-001
        ("backup.plugin.networker.validate.ssl", on),
        ("security.singlesignon.key", None), // CS-SET-023: SSO unused
        ("password.policy.allowPasswordToContainUsername", off), // CS-AUTH-001
        ("user.2fa.providers.exclude", Some("staticpin")),      // CS-AUTH-003
        ("saml2.idp.metadata.url", Some("https://idp.example.org/saml2/metadata")), // CS-AUTH-008
        ("network.loadbalancer.haproxy.stats.visibility", Some("disabled")), // CS-CFG-003
        ("vm.password.length", Some("16")),                     // CS-CFG-008
        ("user.password.reset.enabled", on), // CS-AUTH-005/006 apply: reset links by e-mail
        ("user.password.reset.ttl", Some("30")), // CS-AUTH-006
        ("user.password.reset.email.sender", Some("noreply@example.org")),
    ] {
        set(&mut s, name, v);
    }
    smtp(&mut s, canary);
    // Default credentials replaced (CS-SET-019/020/021); Secure ones are DB-encrypted.
    let hard = |x: &str| format!("{canary}-{x}");
    for (name, v) in [
        ("network.loadbalancer.haproxy.stats.auth", format!("stats:{}", hard("stats"))),
        ("backup.plugin.networker.password", hard("networker")),
        ("cloudian.admin.password", hard("cloudian")),
        ("cloudian.sso.key", hard("cloudiansso")),
        ("ldap.truststore.password", hard("ldapts")),
    ] {
        set(&mut s, name, Some(&v));
    }
    // system.vm.random.password=true generates a Secure system.vm.password (§3.7).
    generated(&mut s, "system.vm.password", "Secure", &hard("svmpw"));
    // The root CA that issued the 8250/9090 certificate (RootCAProvider, §3.5).
    generated(&mut s, "ca.plugin.root.ca.certificate", "Hidden", root_ca);
    generated(&mut s, "ca.plugin.root.private.key", "Hidden", root_key);
    s
}

/// Authenticated SMTP over implicit TLS (useAuth=true, useStartTLS=false, port 465,
/// TLS 1.2+) for the three mailers: alerts (AlertManager.java:38-44, Config.java:59-86;
/// CS-MON-002/003, CS-CFG-010), project invitations (ProjectManager.java:25-32,
/// Config.java:1440-1464) and password reset (UserPasswordResetManager.java:41-77;
/// CS-AUTH-005). Each password is a Secure setting, stored V2-encrypted.
fn smtp(s: &mut BTreeMap<String, Setting>, canary: &str) {
    for (prefix, user) in [
        ("alert.smtp", "cloud-alerts"),
        ("project.smtp", "cloud-projects"),
        ("user.password.reset.smtp", "cloud-reset"),
    ] {
        let password = format!("{canary}-{prefix}-pw");
        for (k, v) in [
            ("host", "smtp.example.org"),
            ("port", "465"),
            ("useAuth", "true"),
            ("useStartTLS", "false"),
            ("enabledSecurityProtocols", "TLSv1.2 TLSv1.3"),
            ("username", user),
            ("password", &password),
        ] {
            set(s, &format!("{prefix}.{k}"), Some(v));
        }
    }
}

/// Admin 2FA on (CS-SET-008), a tenant domain that keeps 2FA on and mandatory with its
/// domain admin enrolled (CS-SET-006/007 with overrides present) and a password policy at
/// least as strict as the global one (PasswordPolicy settings have Domain scope), the
/// tenant account's API
/// allow-list narrower than the global 10.0.0.0/16 (account_details; the setting has
/// Account scope, ApiServiceConfiguration.java:30-31), release 4.22.1.1 (every advisory
/// with a fix is fixed), and the interim step of CVE-2025-22828 (no fixed release,
/// advisories U4): listAnnotations/addAnnotation denied to every non-admin role, before
/// the wildcard ALLOW rules (CS-VULN-003).
const HARDENED_ROWS_SQL: &str = "\
UPDATE user SET state = 'enabled', is_user_2fa_enabled = 1, user_2fa_provider = 'totp' WHERE id = 2;
INSERT INTO domain (id, parent, name, uuid, path, level) VALUES (3, 1, 'tenants', 'd-3', '/tenants/', 1);
INSERT INTO domain_details (domain_id, name, value) VALUES (3, 'enable.user.2fa', 'true'), (3, 'mandate.user.2fa', 'true'),
  (3, 'password.policy.minimum.length', '14'), (3, 'password.policy.allowPasswordToContainUsername', 'false');
INSERT INTO account (id, account_name, uuid, type, domain_id) VALUES (5, 'tenants-admin', 'a-5', 2, 3);
INSERT INTO account_details (account_id, name, value) VALUES (5, 'api.allowed.source.cidr.list', '10.0.1.0/24');
INSERT INTO user (id, uuid, username, password, account_id, state, is_user_2fa_enabled, user_2fa_provider)
  VALUES (7, 'u-7', 'tenantadmin', 'x', 5, 'enabled', 1, 'totp');
INSERT INTO version (version, updated, step) VALUES ('4.22.1.1', NOW(), 'Complete');
INSERT INTO role_permissions (uuid, role_id, rule, permission, sort_order) VALUES
  ('rp-1', 2, 'listAnnotations', 'DENY', 0), ('rp-2', 2, 'addAnnotation', 'DENY', 1), ('rp-3', 2, '*', 'ALLOW', 2),
  ('rp-4', 3, 'listAnnotations', 'DENY', 0), ('rp-5', 3, 'addAnnotation', 'DENY', 1), ('rp-6', 3, 'list*', 'ALLOW', 2),
  ('rp-7', 4, '*Annotation*', 'DENY', 0), ('rp-8', 4, 'list*', 'ALLOW', 1);
";

// ---------------------------------------------------------------------------------
// The file tree

/// The tree's files with contents made elsewhere.
struct HardFiles<'a> {
    db_properties: &'a str,
    server_properties: &'a str,
    keystore: &'a [u8],
}

/// A binary file `rel` under `root` with `mode` and owner `uid:gid`.
fn put_bytes(root: &Path, rel: &str, body: &[u8], mode: u32, uid: u32, gid: u32) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, body).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    std::os::unix::fs::lchown(&p, Some(uid), Some(gid)).unwrap();
}

/// The hardened tree in `layout`, every file remediation of the catalog applied.
fn hardened_tree(root: &Path, layout: Layout, files: &HardFiles) {
    let (_, cg) = layout.cloud();
    base_dirs(root);
    accounts(root, layout.cloud(), &format!("/{}", layout.home()));
    let m = "etc/cloudstack/management";
    // CS-FILE-001/002/004/007 (Q15: root:cloud 0640; cloud.spec :599-601).
    for (f, body) in [
        ("db.properties", files.db_properties),
        ("server.properties", files.server_properties),
        ("config.json", "{\"apiBase\": \"/client/api\"}\n"),
        ("key", &format!("{HARDENED_MS_KEY}\n")),
    ] {
        put(root, &format!("{m}/{f}"), body, 0o640, 0, cg);
    }
    // CS-FILE-003 / CS-SRV-001: the operator's keystore (PKCS#12), root:cloud 0640.
    put_bytes(
        root,
        &format!("{m}/cloud.jks"),
        files.keystore,
        0o640,
        0,
        cg,
    );
    put(
        root,
        &format!("{m}/log4j-cloud.xml"),
        "<Configuration/>\n",
        0o644,
        0,
        0,
    );
    // CS-JVM-003: TLSv1 and TLSv1.1 disabled (the catalog's remediation line).
    put(
        root,
        &format!("{m}/java.security.ciphers"),
        "jdk.tls.disabledAlgorithms=SSLv2Hello, SSLv3, TLSv1, TLSv1.1, DH keySize < 2048, RSA keySize < 2048, DES keySize < 128, SHA1 keySize < 128, MD5 keySize < 128, RC4, 3DES_EDE_CBC, NULL\n",
        0o644,
        0,
        0,
    );
    // CS-FILE-005/006: the usage files are the symlinks the package scripts make.
    for f in ["db.properties", "key"] {
        link(
            root,
            &format!("etc/cloudstack/usage/{f}"),
            &format!("/etc/cloudstack/management/{f}"),
        );
    }
    // CS-FILE-009 / CS-JVM-001/002 / CS-HOST-001: root 0644, JAVA_DEBUG commented out.
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
    // CS-FILE-008: the layout's sudoers drop-in, 0440 root.
    put(root, layout.sudoers(), SUDOERS, 0o440, 0, 0);
    hardened_extensions(root, cg);
    hardened_home_and_logs(root, layout);
}

/// CS-EXT-001: base root:cloud 1775 (the MS can add, not replace), entries root:root go-w.
fn hardened_extensions(root: &Path, cg: u32) {
    dir(root, "etc/cloudstack/extensions", 0o1775, 0, cg);
    for (d, f) in [
        ("Proxmox", "proxmox.sh"),
        ("HyperV", "hyperv.py"),
        ("MaaS", "maas.py"),
    ] {
        dir(root, &format!("etc/cloudstack/extensions/{d}"), 0o755, 0, 0);
        put(
            root,
            &format!("etc/cloudstack/extensions/{d}/{f}"),
            "#!/bin/sh\nexit 0\n",
            0o755,
            0,
            0,
        );
    }
    link(
        root,
        "usr/share/cloudstack-management/extensions",
        "/etc/cloudstack/extensions",
    );
}

/// ~cloud (CS-HOST-002, CS-FILE-010: 0770 home, 0700 .ssh, 0600 key) and the logs
/// (CS-FILE-011..014: 0770 directories, 0640 files, no heap dump).
fn hardened_home_and_logs(root: &Path, layout: Layout) {
    let (cu, cg) = layout.cloud();
    let home = layout.home();
    let parent = Path::new(home).parent().unwrap().to_str().unwrap();
    if layout == Layout::Deb {
        dir(root, "var/lib", 0o755, 0, 0);
    }
    dir(root, parent, 0o755, 0, 0);
    dir(root, home, 0o770, cu, cg); // cloud.spec :592
    dir(root, &format!("{home}/.ssh"), 0o700, cu, cg);
    put(
        root,
        &format!("{home}/.ssh/id_rsa"),
        "-----BEGIN EC PRIVATE KEY-----\nCANARY-hard-sshkey-file\n-----END EC PRIVATE KEY-----\n",
        0o600,
        cu,
        cg,
    );
    if layout == Layout::El {
        dir(root, "var/cloudstack/mnt", 0o770, 0, cg); // :591
    }
    dir(root, "var/cache/cloudstack/management", 0o770, 0, cg); // :593
    dir(root, "var/log/cloudstack/management", 0o770, cu, cg); // :594, :483
    for f in ["management-server.log", "apilog.log", "access.log"] {
        put(
            root,
            &format!("var/log/cloudstack/management/{f}"),
            "log\n",
            0o640,
            cu,
            cg,
        );
    }
    dir(root, "var/log/cloudstack/usage", 0o770, 0, cg); // :688
    put(
        root,
        "var/log/cloudstack/usage/usage.log",
        "log\n",
        0o640,
        0,
        cg,
    );
}

/// The installed release, 4.22.1.1 (CS-VULN-*: it fixes every advisory with a fix), in
/// the layout's package database: an sqlite rpmdb written by `rpm --justdb` (EL9), or
/// the dpkg status file.
fn packages(root: &Path, layout: Layout, work: &Path) {
    let names = [
        "cloudstack-management",
        "cloudstack-common",
        "cloudstack-usage",
    ];
    match layout {
        Layout::El => {
            let pkgs: Vec<_> = names.iter().map(|n| (*n, "4.22.1.1", "1.el9")).collect();
            common::rpm::database(root, work, &pkgs);
        }
        Layout::Deb => {
            dir(root, "var/lib/dpkg", 0o755, 0, 0);
            let mut status = String::new();
            for p in names {
                status += &format!(
                    "Package: {p}\nStatus: install ok installed\nArchitecture: all\nSource: cloudstack\nVersion: 4.22.1.1\n\n"
                );
            }
            put(root, "var/lib/dpkg/status", &status, 0o644, 0, 0);
        }
    }
}

// ---------------------------------------------------------------------------------
// The test

/// The base64 lines of a PEM private key after the first (which is mostly the ASN.1
/// header every key of its type shares): any of them in an output is the key leaking.
fn key_lines(pem_file: &Path) -> Vec<String> {
    let pem = fs::read_to_string(pem_file).unwrap();
    let lines: Vec<String> = pem
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 32)
        .skip(1)
        .map(str::to_string)
        .collect();
    assert!(!lines.is_empty(), "{}", pem_file.display());
    lines
}

/// Builds the hardened deployment in `layout` and audits it; checks the facts it rests
/// on and the outcome of every check.
fn hardened(layout: Layout) {
    let Some((m, py)) = ready() else { return };
    let Some(_) = common::tool("openssl") else {
        return;
    };
    if layout == Layout::El && (common::tool("rpm").is_none() || common::tool("rpmbuild").is_none())
    {
        return;
    }
    let pki = tempfile::tempdir().unwrap();
    hardened_pki(pki.path());
    let db = create_db(m, DbGrants::Narrow);
    let canary = format!("CANARY-hard-{}", db.name);
    let root_ca = fs::read_to_string(pki.path().join("root.pem")).unwrap();
    let root_key = fs::read_to_string(pki.path().join("root.key")).unwrap();
    let settings = hardened_settings(&canary, &root_ca, &root_key);
    let mut sql = settings_sql(&py, HARDENED_DB_KEY, &settings);
    sql += HARDENED_ROWS_SQL;
    // The admin's password is a strong one, hashed as CloudStack does (CS-AUTH-010).
    sql += &format!(
        "UPDATE user SET password = '{}' WHERE id = 2;\n",
        pbkdf2_hash(&py, &format!("{canary}-admin-pw"))
    );
    m.sql(Some(&db.name), &sql);
    assert_narrow(&db);

    let t = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let dbp = db_properties(
        &py,
        &DbFile {
            db: &db,
            ms_key: HARDENED_MS_KEY,
            db_key: HARDENED_DB_KEY,
        },
    );
    let server = hardened_server_properties(&py);
    let ks = keystore(pki.path());
    let files = HardFiles {
        db_properties: &dbp,
        server_properties: &server,
        keystore: &ks,
    };
    hardened_tree(t.path(), layout, &files);
    packages(t.path(), layout, work.path());
    let (_servers, endpoints) = serve(
        pki.path(),
        &t.path().join("etc/cloudstack/management/cloud.jks"),
    );

    // Every secret of the deployment; none may appear in any output.
    let secrets = [
        db.password.clone(),
        canary.clone(),
        HARDENED_MS_KEY.into(),
        HARDENED_DB_KEY.into(),
        HARDENED_KS_PASSWORD.into(),
        "CANARY-hard-sshkey-file".into(),
    ]
    .into_iter()
    .chain(key_lines(&pki.path().join("root.key")))
    .chain(key_lines(&pki.path().join("https.key")))
    .collect::<Vec<String>>();
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let (facts, report, code) = audit(t.path(), &secrets, &endpoints);
    hardened_facts(&facts["facts"], layout, &db);
    let wrong = hardened_outcomes(&report);
    assert!(
        wrong.is_empty(),
        "hardened {} deployment:\n{}",
        layout.name(),
        wrong.join("\n")
    );
    assert!(report["summary"].is_object());
    assert_eq!(code, 0, "no finding: the audit exits 0");
}

/// The account really is narrow: the server refuses it `mysql.user` and a new database.
fn assert_narrow(db: &DbAccount) {
    for sql in [
        "SELECT Host FROM mysql.user LIMIT 1",
        "CREATE DATABASE narrow_probe",
    ] {
        let o = Command::new("mariadb")
            .args(["--no-defaults", "--protocol=TCP", "-h", "127.0.0.1"])
            .arg(format!("-P{}", db.port))
            .arg(format!("-u{}", db.user))
            .env("MYSQL_PWD", &db.password)
            .args(["-e", sql])
            .output()
            .expect("mariadb client");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains("denied"),
            "the narrow account may run {sql:?}: {err}"
        );
    }
}

/// CS-SRV-001..005: HTTPS on with the keystore present, HTTP off, bound to the management
/// address, keystore password non-default and ENC()-wrapped.
fn hardened_server_properties(py: &str) -> String {
    let ks = v2_many(py, &[(HARDENED_MS_KEY.into(), HARDENED_KS_PASSWORD.into())]);
    SERVER_PROPERTIES_IN
        .replace("# bind.interface=::", &format!("bind.interface={MS_IP}"))
        .replace("http.enable=true", "http.enable=false")
        .replace("https.enable=false", "https.enable=true")
        .replace(
            "https.keystore.password=vmops.com",
            &format!("https.keystore.password=ENC({})", ks[0]),
        )
        .replace(
            "# password.encryption.type=none",
            "password.encryption.type=file",
        )
}

/// The facts the outcomes rest on were really collected, from the right source.
fn hardened_facts(f: &Value, layout: Layout, db: &DbAccount) {
    assert_eq!(f["files.layout"]["value"], layout.name());
    assert_eq!(f["cs.version"]["value"], "4.22.1.1");
    let pkg = match layout {
        Layout::El => "pkg.rpm.cloudstack-management",
        Layout::Deb => "pkg.dpkg.cloudstack-management",
    };
    assert!(
        f[pkg]["value"]["version"]
            .as_str()
            .is_some_and(|v| v.starts_with("4.22.1.1")),
        "{pkg}: {}",
        f[pkg]
    );
    assert_eq!(
        f["secret.server.https.keystore.password"]["value"]["decrypted"],
        "V2"
    );
    // The narrow account (refused mysql.user: [`assert_narrow`]) connected as itself from
    // 127.0.0.1; its own grants are ALL on the two CloudStack schemas, nothing global.
    assert_eq!(
        f["dbserver.current_user"]["value"],
        serde_json::json!({"user": db.user, "host": "127.0.0.1"})
    );
    let g = &f["dbserver.grants"]["value"];
    let mut on: Vec<&str> = g["all_privileges_on"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    on.sort();
    let (cloud, usage) = (format!("{}.*", db.name), format!("{}_usage.*", db.name));
    assert_eq!(on, [cloud.as_str(), usage.as_str()], "{g}");
    assert_eq!(g["global_privileges"], serde_json::json!([]), "{g}");
    assert_eq!(g["with_grant_option"], false);
    // The per-account allow-list is collected, naming the account.
    let o = &f["cs.account_override.api.allowed.source.cidr.list"]["value"];
    assert_eq!(o["count"], 1, "{o}");
    assert_eq!(o["sample"][0]["account"], "tenants-admin", "{o}");
    assert_eq!(o["sample"][0]["value"], "10.0.1.0/24", "{o}");
    let d = &f["cs.domain_override.password.policy.minimum.length"]["value"];
    assert_eq!(d["sample"][0]["domain"], "/tenants/", "{d}");
    // Authenticated SMTP for the three mailers; the passwords are present, encrypted, and
    // described only by metadata.
    for p in ["alert", "project", "user.password.reset"] {
        assert_eq!(f[format!("cs.setting.{p}.smtp.useAuth")]["value"], "true");
        let s = &f[format!("cs.setting_secret.{p}.smtp.password")]["value"];
        assert_eq!(s["present"], true, "{p}: {s}");
        assert_eq!(s["encrypted_at_rest"], true, "{p}: {s}");
    }
    assert_eq!(
        f["cs.api_access.denied_to_non_admin"]["value"],
        serde_json::json!({"addAnnotation": true, "listAnnotations": true})
    );
    assert!(f["vuln.cloudstack.mitigated"]["value"][0]
        .as_str()
        .unwrap()
        .starts_with("CVE-2025-22828"));
    // The endpoints were probed for real: 8443 with the keystore's certificate.
    assert_eq!(f["tls.https.tls"]["value"], true, "{}", f["tls.https.tls"]);
    assert_eq!(f["tls.agent.client_auth"]["value"], "required");
    let leaf = &f["tls.https.leaf"]["value"];
    assert!(
        leaf.to_string().contains(MS_DNS),
        "8443 serves the keystore's certificate for {MS_DNS}: {leaf}"
    );
    let agent = &f["tls.agent.leaf"]["value"];
    assert_eq!(agent["issued_by_root_ca"], true, "{agent}");
    assert_eq!(leaf["issued_by_root_ca"], false, "{leaf}");
}

/// Every check is `pass`, or listed with the reason in [`HARDENED_NOT_PASS`] with the
/// outcome it has. Returns what is wrong.
fn hardened_outcomes(report: &Value) -> Vec<String> {
    let allowed: BTreeMap<&str, (&str, String)> = HARDENED_NOT_PASS
        .iter()
        .map(|(id, o, why)| (*id, (*o, why.to_string())))
        .collect();
    let got = outcomes(report);
    let mut wrong = Vec::new();
    for (id, (o, r)) in &got {
        assert_ne!(o, "error", "{id} errored: {r}");
        let ok = match allowed.get(id.as_str()) {
            Some((want, _)) => o == want,
            None => o == "pass",
        };
        if ok {
            continue;
        }
        wrong.push(format!(
            "{id}: {o}: {}",
            r.get("reason").unwrap_or(&r["evidence"])
        ));
    }
    for id in allowed.keys() {
        if !got.contains_key(*id) {
            wrong.push(format!("{id}: listed as allowed but not in the report"));
        }
    }
    wrong
}

#[test]
fn hardened_el_deployment_has_no_failure_under_production() {
    hardened(Layout::El);
}

#[test]
fn hardened_deb_deployment_has_no_failure_under_production() {
    hardened(Layout::Deb);
}
