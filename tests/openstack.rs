//! The OpenStack pack end to end: real trees (real owners and modes, as root) for a
//! compliant and a non-compliant keystone, nova, cinder, glance, neutron, manila, horizon
//! and barbican host, audited with `audit --root`; platform detection; a mixed
//! CloudStack + OpenStack host; release applicability; no credential in any output.

mod common;

use common::tree::{dir, put};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const CANARY: &str = "CanaryOsPw-7f3e9d";

/// (service, uid/gid in the tree's account files). None of them exists on the auditor.
const ACCOUNTS: &[(&str, u32)] = &[
    ("keystone", 4301),
    ("nova", 4302),
    ("cinder", 4303),
    ("glance", 4304),
    ("manila", 4305),
    ("neutron", 4306),
    ("barbican", 4307),
    ("horizon", 4308),
];

fn id(name: &str) -> u32 {
    ACCOUNTS.iter().find(|(n, _)| *n == name).unwrap().1
}

fn accounts(root: &Path) {
    let mut passwd = String::from("root:x:0:0:root:/root:/bin/bash\n");
    let mut group = String::from("root:x:0:\n");
    for (n, i) in ACCOUNTS {
        passwd.push_str(&format!("{n}:x:{i}:{i}::/var/lib/{n}:/usr/sbin/nologin\n"));
        group.push_str(&format!("{n}:x:{i}:\n"));
    }
    put(root, "etc/passwd", &passwd, 0o644, 0, 0);
    put(root, "etc/group", &group, 0o644, 0, 0);
}

/// dpkg status naming each service's package at `series`-era versions.
fn dpkg(root: &Path, majors: &[(&str, u32)]) {
    let mut s = String::new();
    for (p, m) in majors {
        s.push_str(&format!(
            "Package: {p}\nStatus: install ok installed\nVersion: 2:{m}.1.0-0ubuntu1\n\n"
        ));
    }
    put(root, "var/lib/dpkg/status", &s, 0o644, 0, 0);
}

const ROCKY: &[(&str, u32)] = &[
    ("keystone", 14),
    ("nova-common", 18),
    ("cinder-common", 13),
    ("glance-common", 17),
    ("neutron-common", 13),
    ("manila-common", 7),
    ("barbican-common", 7),
];

/// One service's files: (relative path, content).
fn service_files(svc: &str, good: bool) -> Vec<(String, String)> {
    let ka = |good: bool| {
        format!(
            "[keystone_authtoken]\nwww_authenticate_uri = {}://keystone:5000\npassword = {CANARY}\ninsecure = {}\n",
            if good { "https" } else { "http" },
            if good { "false" } else { "True" }
        )
    };
    let auth = if good { "keystone" } else { "noauth" };
    let db = format!("[database]\nconnection = mysql+pymysql://{svc}:{CANARY}@db/{svc}\n");
    let f = |p: &str, c: String| (format!("etc/{svc}/{p}"), c);
    match svc {
        "keystone" => vec![
            f(
                "keystone.conf",
                if good {
                    format!("[DEFAULT]\n{db}[token]\nprovider = fernet\n[oslo_middleware]\nmax_request_body_size = 114688\n")
                } else {
                    format!("[DEFAULT]\nadmin_token = {CANARY}\ninsecure_debug = true\n{db}[token]\nprovider = uuid\n")
                },
            ),
            f(
                "keystone-paste.ini",
                if good {
                    "[pipeline:api_v3]\npipeline = cors sizelimit authtoken service_v3\n".into()
                } else {
                    "[filter:admin_token_auth]\nuse = egg:keystone#admin_token_auth\n[pipeline:api_v3]\npipeline = cors admin_token_auth service_v3\n".into()
                },
            ),
            f("policy.json", "{}".into()),
            f("logging.conf", "[loggers]\nkeys=root\n".into()),
            f("ssl/private/signing_key.pem", "not a key".into()),
        ],
        "nova" => vec![
            f(
                "nova.conf",
                format!(
                    "[DEFAULT]\ntransport_url = rabbit://nova:{CANARY}@mq:5672/\n[api]\nauth_strategy = {}\n{}[glance]\napi_servers = {}\napi_insecure = {}\n{}{db}",
                    if good { "keystone" } else { "noauth2" },
                    ka(good),
                    if good { "https://glance:9292" } else { "http://glance:9292" },
                    if good { "False" } else { "yes" },
                    if good { "[key_manager]\nbackend = barbican\n" } else { "" },
                ),
            ),
            f("api-paste.ini", "[composite:osapi_compute]\nuse = call:x\n".into()),
            f("rootwrap.conf", "[DEFAULT]\n".into()),
        ],
        "cinder" => vec![
            f(
                "cinder.conf",
                if good {
                    format!("[DEFAULT]\nauth_strategy = keystone\nnova_api_insecure = false\nglance_api_servers = https://glance:9292\nnas_secure_file_permissions = auto\nnas_secure_file_operations = auto\n{}[oslo_middleware]\nmax_request_body_size = 114688\n[key_manager]\nbackend = barbican\n{db}", ka(true))
                } else {
                    format!("[DEFAULT]\nauth_strategy = noauth\nnova_api_insecure = true\nglance_api_insecure = 1\nglance_api_servers = http://glance:9292\nnas_secure_file_permissions = false\nnas_secure_file_operations = false\n{}[oslo_middleware]\nmax_request_body_size = 10485760\n{db}", ka(false))
                },
            ),
            f("api-paste.ini", "[composite:osapi_volume]\nuse = call:x\n".into()),
            f("policy.json", "{}".into()),
            f("rootwrap.conf", "[DEFAULT]\n".into()),
        ],
        "glance" => vec![
            f(
                "glance-api.conf",
                format!("[DEFAULT]\nauth_strategy = {auth}\nenable_v1_api = True\n{}{db}", ka(good)),
            ),
            f("glance-registry.conf", format!("[DEFAULT]\nauth_strategy = {auth}\n")),
            f("glance-api-paste.ini", "[pipeline:glance-api]\npipeline = versionnegotiation unauthenticated-context rootapp\n".into()),
            f(
                "policy.json",
                if good { r#"{"context_is_admin": "role:admin", "copy_from": "role:admin"}"# } else { r#"{"context_is_admin": "role:admin"}"# }.into(),
            ),
            f("schema-image.json", "{}".into()),
        ],
        "manila" => vec![
            f(
                "manila.conf",
                if good {
                    format!("[DEFAULT]\nauth_strategy = keystone\nnova_api_insecure = False\nneutron_api_insecure = False\ncinder_api_insecure = False\n{}[oslo_middleware]\nmax_request_body_size = 114688\n", ka(true))
                } else {
                    format!("[DEFAULT]\nauth_strategy = noauth\nnova_api_insecure = True\nneutron_api_insecure = on\ncinder_api_insecure = yes\nosapi_max_request_body_size = 999999999\n{}[oslo_middleware]\nmax_request_body_size = 999999999\n", ka(false))
                },
            ),
            f("api-paste.ini", "[composite:osapi_share]\nuse = call:x\n".into()),
            f("policy.json", "{}".into()),
            f("rootwrap.conf", "[DEFAULT]\n".into()),
        ],
        "neutron" => vec![
            f(
                "neutron.conf",
                format!(
                    "[DEFAULT]\nauth_strategy = {}\nuse_ssl = {}\n{}{db}",
                    if good { "keystone" } else { "noauth" },
                    if good { "True" } else { "False" },
                    ka(good)
                ),
            ),
            f("api-paste.ini", "[composite:neutron]\nuse = egg:Paste#urlmap\n".into()),
            f("policy.json", "{}".into()),
            f("rootwrap.conf", "[DEFAULT]\n".into()),
        ],
        "barbican" => vec![
            f("barbican.conf", format!("[DEFAULT]\nsql_connection = mysql://b:{CANARY}@db/b\n{}", ka(good))),
            f(
                "barbican-api-paste.ini",
                format!(
                    "[pipeline:barbican-api-keystone]\npipeline = cors http_proxy_to_wsgi {} apiapp\n",
                    if good { "authtoken context" } else { "unauthenticated-context" }
                ),
            ),
            f("policy.json", "{}".into()),
        ],
        "horizon" => vec![(
            "etc/openstack-dashboard/local_settings.py".into(),
            if good {
                format!("import os\nfrom horizon.utils import secret_key\nSECRET_KEY = '{CANARY}'\nDEBUG = False\nDISALLOW_IFRAME_EMBED = True\nCSRF_COOKIE_SECURE = True\nSESSION_COOKIE_SECURE = True\nSESSION_COOKIE_HTTPONLY = True\nPASSWORD_AUTOCOMPLETE = 'off'\nDISABLE_PASSWORD_REVEAL = True\nENFORCE_PASSWORD_CHECK = True\nPASSWORD_VALIDATOR = {{\n    'regex': '^(?=.*[0-9])(?=.*[a-z]).{{12,}}$',\n    'help_text': 'twelve characters',\n}}\nSECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https')\n")
            } else {
                format!("SECRET_KEY = '{CANARY}'\nDISALLOW_IFRAME_EMBED = False\nCSRF_COOKIE_SECURE = False\n# SESSION_COOKIE_SECURE = True\nSESSION_COOKIE_HTTPONLY = False\nPASSWORD_AUTOCOMPLETE = 'on'\nPASSWORD_VALIDATOR = {{'regex': '.*', 'help_text': ''}}\nSECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'http')\n")
            },
        )],
        _ => unreachable!(),
    }
}

/// Directory of a service under the tree.
fn svc_dir(svc: &str) -> String {
    if svc == "horizon" {
        "etc/openstack-dashboard".into()
    } else {
        format!("etc/{svc}")
    }
}

/// Writes `svc` into the tree: compliant (owners and modes of the guide) or not.
fn service(root: &Path, svc: &str, good: bool) {
    let g = id(svc);
    let (owner, dmode, fmode) = match (svc, good) {
        ("keystone", true) => (g, 0o750, 0o640),
        (_, true) => (0, 0o750, 0o640),
        // Wrong owner (keystone: root; others: the service user) and group root.
        ("keystone", false) => (0, 0o755, 0o644),
        (_, false) => (g, 0o755, 0o644),
    };
    let group = if good { g } else { 0 };
    dir(root, &svc_dir(svc), dmode, owner, group);
    for (rel, body) in service_files(svc, good) {
        put(root, &rel, &body, fmode, owner, group);
    }
    // Parent directories created by put() for nested files keep the service's owner.
    if svc == "keystone" {
        for d in ["etc/keystone/ssl", "etc/keystone/ssl/private"] {
            dir(root, d, 0o750, owner, group);
        }
    }
}

fn openstack_tree(root: &Path, good: bool) {
    accounts(root);
    dpkg(root, ROCKY);
    for (svc, _) in ACCOUNTS {
        service(root, svc, good);
    }
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn skip(name: &str) -> bool {
    if is_root() {
        return false;
    }
    eprintln!("SKIP {name}: needs root to give files owners the host lacks");
    assert!(
        std::env::var_os("CI").is_none(),
        "CI runs these tests as root"
    );
    true
}

/// `audit --no-db --root` as JSON: the report and all output text.
fn audit(root: &Path, extra: &[&str]) -> (Value, String) {
    let o = Command::new(common::bin())
        .args(["audit", "--no-db", "--format", "json", "--root"])
        .arg(root)
        .args(extra)
        .output()
        .unwrap();
    let code = o.status.code().unwrap();
    assert!((0..=3).contains(&code));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (v, text)
}

/// id -> (outcome, reason) of the OpenStack checks.
fn os_results(v: &Value) -> BTreeMap<String, (String, String)> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["id"].as_str().unwrap().starts_with("OS-"))
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                (
                    r["outcome"].as_str().unwrap().to_string(),
                    r["reason"].as_str().unwrap_or("").to_string(),
                ),
            )
        })
        .collect()
}

#[test]
fn compliant_host_passes_every_automated_item() {
    if skip("compliant_host_passes_every_automated_item") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    openstack_tree(t.path(), true);
    let (v, text) = audit(t.path(), &[]);
    assert!(
        !text.contains(CANARY),
        "a credential leaked into the report"
    );
    let r = os_results(&v);
    assert_eq!(r.len(), 54, "{r:?}");
    let manual = ["OS-IDENTITY-03", "OS-BLOCK-09"];
    for (id, (outcome, reason)) in &r {
        if manual.contains(&id.as_str()) {
            assert_eq!(outcome, "unknown", "{id}");
            assert!(reason.contains("manual test"), "{id}: {reason}");
        } else {
            assert_eq!(outcome, "pass", "{id}: {reason}");
        }
    }
    // The OpenStack profile judges only the pack, and this host meets it.
    let (v, _) = audit(t.path(), &["--profile", "openstack-checklist"]);
    let all = v["results"].as_array().unwrap();
    assert_eq!(all.len(), 54);
    assert!(all
        .iter()
        .all(|r| r["id"].as_str().unwrap().starts_with("OS-")));
    assert_eq!(v["profile"]["name"], "openstack-checklist");
}

#[test]
fn non_compliant_host_fails_every_automated_item() {
    if skip("non_compliant_host_fails_every_automated_item") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    openstack_tree(t.path(), false);
    let (v, text) = audit(t.path(), &[]);
    assert!(
        !text.contains(CANARY),
        "a credential leaked into the report"
    );
    let r = os_results(&v);
    assert_eq!(r.len(), 54);
    for (id, (outcome, reason)) in &r {
        if id == "OS-IDENTITY-03" {
            assert_eq!(outcome, "unknown", "{id}");
        } else {
            assert_eq!(outcome, "fail", "{id}: {reason}");
        }
    }
    // The collected facts carry no credential either, and the admin token only as `set`.
    let o = Command::new(common::bin())
        .args(["collect", "--no-db", "--root"])
        .arg(t.path())
        .output()
        .unwrap();
    let facts = String::from_utf8_lossy(&o.stdout);
    assert!(
        !facts.contains(CANARY),
        "a credential leaked into the facts"
    );
    let f: Value = serde_json::from_str(&facts).unwrap();
    assert_eq!(
        f["facts"]["os.ini.keystone_conf.DEFAULT.admin_token"]["value"],
        serde_json::json!({"set": true})
    );
}

#[test]
fn only_installed_services_are_evaluated_and_mixed_hosts_get_both_packs() {
    if skip("only_installed_services_are_evaluated_and_mixed_hosts_get_both_packs") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    accounts(root);
    dpkg(root, ROCKY);
    service(root, "nova", false);
    // A CloudStack management server's db.properties on the same host.
    put(
        root,
        "etc/cloudstack/management/db.properties",
        "db.cloud.host=localhost\ndb.cloud.password=ENC(x)\ndb.cloud.encryption.type=file\n",
        0o644,
        0,
        0,
    );
    let (v, _) = audit(root, &[]);
    let r = os_results(&v);
    for (id, (outcome, reason)) in &r {
        if id.starts_with("OS-COMPUTE-") {
            assert_ne!(outcome, "not_applicable", "{id}: {reason}");
        } else {
            assert_eq!(outcome, "not_applicable", "{id}: {reason}");
            assert!(reason.contains("is absent"), "{id}: {reason}");
        }
    }
    let cs = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "CS-FILE-001")
        .unwrap();
    assert_eq!(
        cs["outcome"], "fail",
        "the CloudStack pack is evaluated too"
    );
}

#[test]
fn release_decides_the_auth_strategy_items() {
    if skip("release_decides_the_auth_strategy_items") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    openstack_tree(root, false);
    // Stein and newer: the auth_strategy items (Rocky and earlier) do not apply.
    dpkg(
        root,
        &[
            ("nova-common", 19),
            ("cinder-common", 14),
            ("manila-common", 10),
        ],
    );
    let (v, _) = audit(root, &[]);
    let r = os_results(&v);
    for id in ["OS-COMPUTE-03", "OS-BLOCK-03"] {
        assert_eq!(r[id].0, "not_applicable", "{id}: {:?}", r[id]);
        assert!(r[id].1.contains("ordinal"), "{id}: {:?}", r[id]);
    }
    // manila 10 = Ussuri: the *_api_insecure options were removed.
    assert_eq!(r["OS-SHARED-05"].0, "not_applicable");
    // glance is not in this dpkg database: its release, hence applicability, is unknown.
    assert_eq!(r["OS-IMAGE-03"].0, "unknown", "{:?}", r["OS-IMAGE-03"]);
    assert!(r["OS-IMAGE-03"].1.contains("installed release unknown"));
    // No package database at all: unknown with the reason, never a guess.
    std::fs::remove_file(root.join("var/lib/dpkg/status")).unwrap();
    let (v, _) = audit(root, &[]);
    let r = os_results(&v);
    assert_eq!(r["OS-NEUTRON-03"].0, "unknown");
    assert!(
        r["OS-NEUTRON-03"].1.contains("not a dpkg system"),
        "{:?}",
        r["OS-NEUTRON-03"]
    );
    // An EL or source install: the release from the Python distribution metadata.
    dir(
        root,
        "usr/lib/python3.9/site-packages/neutron-15.3.0.dist-info",
        0o755,
        0,
        0,
    );
    dir(
        root,
        "usr/lib/python3.9/site-packages/nova-18.0.0-py3.9.egg-info",
        0o755,
        0,
        0,
    );
    let (v, _) = audit(root, &[]);
    let r = os_results(&v);
    assert_eq!(
        r["OS-NEUTRON-03"].0, "not_applicable",
        "Train: {:?}",
        r["OS-NEUTRON-03"]
    );
    assert_eq!(
        r["OS-COMPUTE-03"].0, "fail",
        "Rocky applies: {:?}",
        r["OS-COMPUTE-03"]
    );
}

/// An EL (RDO) host: the release comes from an sqlite RPM database written by Debian's
/// `rpm` (`--justdb` of a package built with `rpmbuild`), as on EL9.
#[test]
fn release_from_the_rpm_database_on_el() {
    if skip("release_from_the_rpm_database_on_el") {
        return;
    }
    if common::tool("rpm").is_none() || common::tool("rpmbuild").is_none() {
        assert!(std::env::var_os("CI").is_none(), "CI installs rpm");
        common::skip("rpm/rpmbuild missing");
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let root = t.path();
    openstack_tree(root, false);
    // No dpkg on EL: the tree's Rocky dpkg database goes.
    std::fs::remove_file(root.join("var/lib/dpkg/status")).unwrap();
    common::rpm::database(
        root,
        work.path(),
        &[("openstack-nova-common", "19.0.0", "1.el9")],
    );
    let (v, _) = audit(root, &[]);
    let r = os_results(&v);
    // nova 19 = Stein: the auth_strategy item (Rocky and earlier) does not apply.
    assert_eq!(
        r["OS-COMPUTE-03"].0, "not_applicable",
        "{:?}",
        r["OS-COMPUTE-03"]
    );
    // cinder is not in the RPM database (nor dpkg, nor Python metadata): unknown.
    assert_eq!(r["OS-BLOCK-03"].0, "unknown", "{:?}", r["OS-BLOCK-03"]);
}

#[test]
fn hostile_configuration_files_give_reasons_not_values() {
    if skip("hostile_configuration_files_give_reasons_not_values") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    openstack_tree(root, true);
    // oslo.config refuses a file with a stray line: every nova option is an error.
    put(
        root,
        "etc/nova/nova.conf",
        "[DEFAULT]\nthis is not an option\n",
        0o640,
        0,
        id("nova"),
    );
    // $-substitution is not expanded: that option is unknown, not judged as text.
    put(
        root,
        "etc/neutron/neutron.conf",
        "[DEFAULT]\nauth_strategy = keystone\nuse_ssl = true\n[keystone_authtoken]\nwww_authenticate_uri = $proto://keystone:5000\n",
        0o640,
        0,
        id("neutron"),
    );
    // A conditional assignment in local_settings.py is unknown with its line.
    put(
        root,
        "etc/openstack-dashboard/local_settings.py",
        "import os\nSESSION_COOKIE_SECURE = True\nif os.environ.get('DEV'):\n    SESSION_COOKIE_SECURE = False\nCSRF_COOKIE_SECURE = os.environ.get('X', True)\n",
        0o640,
        0,
        id("horizon"),
    );
    // PasteDeploy refuses a duplicate section: the paste facts are errors, never a pass.
    put(
        root,
        "etc/keystone/keystone-paste.ini",
        "[pipeline:api_v3]\npipeline = a\n[pipeline:api_v3]\npipeline = b\n",
        0o640,
        id("keystone"),
        id("keystone"),
    );
    // A FIFO where a config file should be is never opened (the audit would hang).
    let fifo = root.join("etc/cinder/cinder.conf");
    std::fs::remove_file(&fifo).unwrap();
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o640)).unwrap();
    let (v, _) = audit(root, &[]);
    let r = os_results(&v);
    let unknown = |id: &str, needle: &str| {
        assert_eq!(r[id].0, "unknown", "{id}: {:?}", r[id]);
        assert!(r[id].1.contains(needle), "{id}: {:?}", r[id]);
    };
    unknown("OS-COMPUTE-04", "line 2");
    unknown("OS-NEUTRON-04", "substitution");
    unknown("OS-DASHBOARD-05", "inside a block at line 4");
    unknown("OS-DASHBOARD-04", "not a literal at line 5");
    unknown("OS-BLOCK-05", "fifo");
    unknown("OS-IDENTITY-06", "duplicate section");
}

/// The keystone endpoint a service's configuration names is probed by the TLS collector,
/// only with the deployment opt-in when --root is not /, and judged by the TLS checks.
#[test]
fn configured_keystone_endpoint_is_probed_on_opt_in() {
    if common::tool("openssl").is_none() {
        return;
    }
    let pki = tempfile::tempdir().unwrap();
    common::tls::test_pki(pki.path(), &[]);
    let (_server, port) = common::tls::s_server(pki.path(), "leaf.pem", "leaf.key", &[]);
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    std::fs::create_dir_all(root.join("etc/nova")).unwrap();
    std::fs::write(
        root.join("etc/nova/nova.conf"),
        format!("[keystone_authtoken]\nwww_authenticate_uri = https://127.0.0.1:{port}/v3\n[glance]\napi_servers = http://127.0.0.1:1\n"),
    )
    .unwrap();
    let collect = |extra: &[&str]| -> Value {
        let o = Command::new(common::bin())
            .args(["collect", "--no-db", "--tls-timeout-ms", "3000", "--root"])
            .arg(root)
            .args(extra)
            .output()
            .unwrap();
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let off = collect(&[]);
    assert!(
        off["facts"].get("tls.os-keystone.tls").is_none(),
        "not probed without opt-in"
    );
    let on = collect(&["--probe-deployment", "yes"]);
    assert_eq!(
        on["facts"]["tls.os-keystone.tls"]["value"], true,
        "{}",
        on["facts"]
    );
    assert_eq!(
        on["facts"]["tls.os-keystone.endpoint"]["value"],
        format!("127.0.0.1:{port}")
    );
    // The plain-HTTP glance URL is left to its configuration check, not probed.
    assert!(on["facts"].get("tls.os-glance.tls").is_none());
}
