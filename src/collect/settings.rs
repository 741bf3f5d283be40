//! CloudStack global settings as facts, from whichever source read them (the `cloud`
//! database or an offline `listConfigurations` export).
//!
//! * `cs.setting.<name>`: the effective global value as CloudStack stores it: `value`,
//!   else `default_value` (string, or null when both are NULL). A missing row is absent.
//! * `cs.setting_info.<name>`: `{value_set, default_value?, category?, scope?,
//!   is_dynamic?, updated?, component?}`.
//! * `cs.setting_secret.<name>`: for Hidden/Secure rows and settings that hold
//!   credentials, metadata only: `{present, category?, encrypted_at_rest?,
//!   known_default?, fingerprint?}`; such settings have no `cs.setting.` fact.
//!
//! Read semantics follow `ConfigKey`/`ConfigDepotImpl` in apache/cloudstack at 3d6cafe
//! (a missing or NULL row means the code default); default credentials shipped in
//! settings: docs/cloudstack-notes.md#h10.

use crate::facts::Facts;
use crate::secrets::{fingerprint, redact_inline, KNOWN_DEFAULT_SECRETS};
use serde_json::{json, Map, Value};

/// Default credentials CloudStack ships in global settings (H10), by setting name.
pub const DEFAULT_CREDENTIAL_SETTINGS: &[(&str, &str)] = &[
    ("network.loadbalancer.haproxy.stats.auth", "admin1:AdMiN123"),
    ("backup.plugin.networker.password", "password"),
    ("cloudian.admin.password", "public"),
    ("cloudian.sso.key", "ss0sh5r3dk3y"),
];

/// The one Hidden value decrypted on purpose: the Root CA certificate (public data).
pub const ROOT_CA_CERT: &str = "ca.plugin.root.ca.certificate";

/// One settings row as read. `value` is the plaintext when it could be read (never
/// for Hidden/Secure rows except the few compared in memory); it is never put into a
/// fact when the row is secret.
#[derive(Clone, Default)]
pub struct SettingRow {
    pub name: String,
    pub value: Option<String>,
    /// Whether the row has a non-NULL `value` (known even when the value was not read).
    pub value_set: bool,
    pub default_value: Option<String>,
    pub category: Option<String>,
    pub scope: Option<Value>,
    pub is_dynamic: Option<bool>,
    pub updated: Option<String>,
    pub component: Option<String>,
    /// For secret rows: the value is encrypted at rest (DB key), if known.
    pub encrypted_at_rest: Option<bool>,
    /// For secret rows whose value could not be decrypted: why.
    pub undecryptable: Option<String>,
}

impl std::fmt::Debug for SettingRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SettingRow")
            .field("name", &self.name)
            .field("value_set", &self.value_set)
            .field("category", &self.category)
            .finish_non_exhaustive()
    }
}

fn is_boolish(v: Option<&str>) -> bool {
    v.is_some_and(|s| s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false"))
}

impl SettingRow {
    /// Category Hidden or Secure: encrypted at rest, never shown.
    pub fn is_hidden_or_secure(&self) -> bool {
        self.category
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("hidden") || c.eq_ignore_ascii_case("secure"))
    }

    /// Whether the value is a secret: Hidden/Secure, a known default-credential
    /// setting, or a credential-looking name whose value is not a boolean flag
    /// (`use.secret.key.in.response` is a flag, `cloudian.sso.key` a secret).
    pub fn is_secret(&self) -> bool {
        if self.name == ROOT_CA_CERT {
            return false;
        }
        self.is_hidden_or_secure()
            || DEFAULT_CREDENTIAL_SETTINGS
                .iter()
                .any(|(n, _)| *n == self.name)
            || (is_secret_setting_name(&self.name) && !self.is_boolean_flag())
    }

    /// Every text the row holds (value, default) is `true`/`false`, and there is one:
    /// only then is a credential-named setting a flag whose text may be shown. A boolean
    /// default with a non-boolean value (or the reverse) stays secret.
    fn is_boolean_flag(&self) -> bool {
        let texts = [self.value.as_deref(), self.default_value.as_deref()];
        texts.iter().any(Option::is_some) && texts.iter().flatten().all(|t| is_boolish(Some(t)))
    }
}

/// A setting whose name ends in a credential word (`cloudian.admin.password`,
/// `cloudian.sso.key`, `...stats.auth`), unlike settings *about* credentials
/// (`user.password.encoders.exclude`, `password.policy.regex`, `api.key.access`).
pub fn is_secret_setting_name(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    matches!(
        last.as_str(),
        "pass" | "pwd" | "psk" | "auth" | "key" | "token"
    ) || [
        // Suffixes, so that `keyStorePassword`, `adminPwd`-like or `apikey` names count too
        // (e.g. cloudbyte.management.apikey, nvp.admin.pwd in the CloudStack sources).
        "password",
        "passwd",
        "secret",
        "secretkey",
        "privatekey",
        "passphrase",
        "apikey",
        "accesskey",
        "-secret",
    ]
    .iter()
    .any(|sfx| last.ends_with(sfx))
}

/// Scope as stored: a bitmask (4.21+) becomes the list of scope names; text (older
/// schemas) stays text. `ConfigKey.Scope`, reference §2.2.
pub fn scope_value(raw: Option<&str>) -> Option<Value> {
    let s = raw?.trim();
    if s.is_empty() {
        return None;
    }
    match s.parse::<u64>() {
        Ok(bits) => {
            const NAMES: [(u64, &str); 8] = [
                (1, "Global"),
                (2, "Zone"),
                (4, "Cluster"),
                (8, "StoragePool"),
                (16, "ManagementServer"),
                (32, "ImageStore"),
                (64, "Domain"),
                (128, "Account"),
            ];
            let names: Vec<Value> = NAMES
                .iter()
                .filter(|(b, _)| bits & b != 0)
                .map(|(_, n)| Value::from(*n))
                .collect();
            Some(json!({"bits": bits, "names": names}))
        }
        Err(_) => Some(Value::from(s)),
    }
}

/// Records the rows as facts under `source` and declares the settings namespaces
/// complete.
pub fn record(rows: &[SettingRow], source: &str, fp_key: Option<&[u8]>, facts: &mut Facts) {
    for p in ["cs.setting.", "cs.setting_info.", "cs.setting_secret."] {
        facts.namespace_complete(p, source);
    }
    // A legacy `Config` setting with no row still has its code default in force: say
    // so, so that a check on it is decided rather than guessed.
    const ALWAYS_DEFINED: &[&str] = &["network.loadbalancer.haproxy.stats.auth"];
    for name in ALWAYS_DEFINED {
        if !rows.iter().any(|r| r.name == *name) {
            facts.set(
                format!("cs.setting_secret.{name}"),
                source,
                json!({"present": false, "known_default": true, "note": "no row: the shipped default applies"}),
            );
        }
    }
    for r in rows {
        let secret = r.is_secret();
        let mut info = Map::new();
        info.insert("value_set".into(), Value::Bool(r.value_set));
        if let Some(c) = &r.category {
            info.insert("category".into(), Value::from(c.clone()));
        }
        if !secret {
            if let Some(d) = &r.default_value {
                info.insert("default_value".into(), Value::from(d.clone()));
            }
        }
        if let Some(s) = &r.scope {
            info.insert("scope".into(), s.clone());
        }
        if let Some(d) = r.is_dynamic {
            info.insert("is_dynamic".into(), Value::Bool(d));
        }
        if let Some(u) = &r.updated {
            info.insert("updated".into(), Value::from(u.clone()));
        }
        if let Some(c) = &r.component {
            info.insert("component".into(), Value::from(c.clone()));
        }
        facts.set(
            format!("cs.setting_info.{}", r.name),
            source,
            Value::Object(info),
        );
        if secret {
            facts.set(
                format!("cs.setting_secret.{}", r.name),
                source,
                describe_secret(r, fp_key),
            );
            continue;
        }
        if r.name == ROOT_CA_CERT {
            // The certificate goes to its own fact (see the DB collector); the setting
            // fact only says whether it is set.
            continue;
        }
        let eff = if r.value_set {
            r.value.clone()
        } else {
            r.default_value.clone()
        };
        let key = format!("cs.setting.{}", r.name);
        match eff {
            // Credentials inside URL-like values (secstorage.proxy) are redacted.
            Some(v) => facts.set(key, source, redact_inline(&v)),
            // Value and default both NULL: CloudStack then uses the default compiled into
            // the setting's ConfigKey (`ConfigKey.value()` falls back to `defaultValue()`,
            // framework/config/src/main/java/org/apache/cloudstack/framework/config/ConfigKey.java),
            // never an empty string. Recorded as absent, so a check applies the product
            // default it names (`if_absent = "default"`) or stays unknown.
            None => facts.insert(
                key,
                crate::facts::Fact::absent(
                    source,
                    "value and default_value are NULL: the product's built-in default applies",
                ),
            ),
        }
    }
}

fn describe_secret(r: &SettingRow, fp_key: Option<&[u8]>) -> Value {
    let mut v = json!({ "present": r.value_set });
    if let Some(c) = &r.category {
        v["category"] = Value::from(c.clone());
    }
    if let Some(e) = r.encrypted_at_rest {
        v["encrypted_at_rest"] = Value::Bool(e);
    }
    let shipped = DEFAULT_CREDENTIAL_SETTINGS
        .iter()
        .find(|(n, _)| *n == r.name)
        .map(|(_, d)| *d);
    // The effective plaintext: the value, else the default (column, else shipped).
    let plain: Option<&str> = if r.value_set {
        r.value.as_deref()
    } else {
        r.default_value.as_deref().or(shipped)
    };
    match plain {
        Some(p) => {
            let known = KNOWN_DEFAULT_SECRETS.contains(&p)
                || shipped == Some(p)
                || r.default_value
                    .as_deref()
                    .is_some_and(|d| !d.is_empty() && d == p);
            v["known_default"] = Value::Bool(known && !p.is_empty());
            v["empty"] = Value::Bool(p.is_empty());
            if let (Some(k), false) = (fp_key, p.is_empty()) {
                v["fingerprint"] = Value::from(fingerprint(k, &r.name, p));
            }
        }
        None => {
            if !r.value_set {
                v["empty"] = Value::Bool(true);
                v["known_default"] = Value::Bool(false);
            } else if let Some(why) = &r.undecryptable {
                v["not_compared"] = Value::from(why.clone());
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for n in [
            "cloudian.admin.password",
            "cloudian.sso.key",
            "network.loadbalancer.haproxy.stats.auth",
            "ssh.privatekey",
            "alert.smtp.password",
            "cloudbyte.management.apikey",
            "nvp.admin.pwd",
            "some.plugin.keyStorePassword",
            "encrypt.key-secret",
        ] {
            assert!(is_secret_setting_name(n), "{n}");
        }
        for n in [
            "user.password.encoders.exclude",
            "password.policy.regex",
            "api.key.access",
            "use.secret.key.in.response",
            "ssh.publickey",
            "password.policy.allowPasswordToContainUsername",
            "user.password.reset.smtp.useAuth",
            "vm.password.length",
        ] {
            assert!(!is_secret_setting_name(n), "{n}");
        }
    }

    #[test]
    fn scope_bitmask_and_text() {
        assert_eq!(
            scope_value(Some("192")).unwrap()["names"],
            json!(["Domain", "Account"])
        );
        assert_eq!(scope_value(Some("Global")).unwrap(), json!("Global"));
        assert_eq!(scope_value(Some("")), None);
    }

    #[test]
    fn secret_rows_never_in_facts() {
        let rows = vec![
            SettingRow {
                name: "cloudian.admin.password".into(),
                value: Some("canary-7781".into()),
                value_set: true,
                default_value: Some("public".into()),
                category: Some("Advanced".into()),
                ..Default::default()
            },
            SettingRow {
                name: "use.secret.key.in.response".into(),
                value: Some("false".into()),
                value_set: true,
                default_value: Some("false".into()),
                ..Default::default()
            },
            SettingRow {
                name: "network.loadbalancer.haproxy.stats.auth".into(),
                value: None,
                value_set: false,
                category: Some("Secure".into()),
                ..Default::default()
            },
        ];
        let mut f = Facts::new();
        record(&rows, "t", Some(b"0123456789abcdef"), &mut f);
        let j = f.to_json();
        assert!(!j.contains("canary-7781"), "{j}");
        assert_eq!(
            f.get("cs.setting_secret.cloudian.admin.password")
                .unwrap()
                .value
                .as_ref()
                .unwrap()["known_default"],
            json!(false)
        );
        assert_eq!(
            f.get("cs.setting_secret.network.loadbalancer.haproxy.stats.auth")
                .unwrap()
                .value
                .as_ref()
                .unwrap()["known_default"],
            json!(true)
        );
        assert_eq!(
            f.get("cs.setting.use.secret.key.in.response")
                .unwrap()
                .value,
            Some(json!("false"))
        );
        assert!(!f.facts.contains_key("cs.setting.cloudian.admin.password"));
    }

    #[test]
    fn secret_name_with_boolean_default_is_not_shown() {
        let rows = vec![SettingRow {
            name: "some.plugin.password".into(),
            value: Some("canary-bool-4411".into()),
            value_set: true,
            default_value: Some("false".into()),
            ..Default::default()
        }];
        let mut f = Facts::new();
        record(&rows, "t", None, &mut f);
        let j = f.to_json();
        assert!(!j.contains("canary-bool-4411"), "{j}");
        assert!(f
            .facts
            .contains_key("cs.setting_secret.some.plugin.password"));
    }

    #[test]
    fn null_value_and_default_is_the_product_default_not_empty() {
        let rows = vec![SettingRow {
            name: "api.allowed.source.cidr.list".into(),
            ..Default::default()
        }];
        let mut f = Facts::new();
        record(&rows, "t", None, &mut f);
        let fact = f.get("cs.setting.api.allowed.source.cidr.list").unwrap();
        assert_eq!(fact.value, None);
        assert!(fact.missing.as_ref().unwrap().reason.is_known_absent());
    }
}
