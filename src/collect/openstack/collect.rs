//! Turns an OpenStack host's configuration under `--root` into `os.*` facts.

use super::{
    ini, logical, pysettings, release, Service, BOOL_OPTIONS, HORIZON_SETTINGS, INI_OPTIONS,
    SECRET_OPTIONS, SERVICES,
};
use crate::collect::accounts::Accounts;
use crate::collect::files;
use crate::facts::{Fact, Facts, Missing, MissingReason};
use crate::privileges::{denied_detail, Need};
use crate::rootfs::{ReadError, RootFs};
use serde_json::{json, Value};

/// Largest configuration file read (nova.conf with every option commented is ~250 KiB).
const CONF_CAP: u64 = 2 * 1024 * 1024;

/// Runs the OpenStack collectors for the services found under the root.
pub fn collect(fs: &RootFs, facts: &mut Facts) {
    let acc = Accounts::load(fs);
    let dpkg = read_dpkg(fs);
    let dists = python_dists(fs);
    // EL (RDO) hosts: the RPM database, read once for every service.
    let rpm: Vec<(String, String, String)> = crate::collect::rpmdb::installed_packages(fs)
        .map(|db| {
            db.packages
                .into_iter()
                .map(|p| (p.name, p.version, format!("rpm:{}", db.path)))
                .collect()
        })
        .unwrap_or_default();
    for svc in SERVICES {
        let key = format!("os.service.{}", svc.id);
        let src = format!("files:{}", svc.dir);
        match fs.inspect(svc.dir) {
            Ok(_) => facts.set(&key, &src, json!({"dir": svc.dir})),
            Err(ReadError::NotFound) => {
                let why = format!(
                    "{} does not exist: {} is not installed under the root",
                    svc.dir, svc.id
                );
                facts.insert(&key, Fact::absent(&src, &why));
                facts.insert(format!("os.release.{}", svc.id), Fact::absent(&src, &why));
                // Nothing else of this service is looked at.
                facts.namespace_missing(
                    &format!("os.file.{}.", svc.id),
                    &src,
                    MissingReason::Absent,
                    &why,
                );
                for (c, _) in svc.confs.iter().chain(svc.pastes) {
                    facts.namespace_missing(
                        &format!("os.ini.{c}."),
                        &src,
                        MissingReason::Absent,
                        &why,
                    );
                    facts.namespace_missing(
                        &format!("os.paste.{c}."),
                        &src,
                        MissingReason::Absent,
                        &why,
                    );
                }
                continue;
            }
            Err(e) => {
                let m = missing_of(fs, svc.dir, &e, Need::Stat);
                facts.insert(&key, Fact::from_missing(&src, m));
            }
        }
        files_of(fs, &acc, svc, facts);
        for (name, file) in svc.confs {
            conf(fs, name, &format!("{}/{file}", svc.dir), facts);
        }
        for (name, file) in svc.pastes {
            paste(fs, name, &format!("{}/{file}", svc.dir), facts);
        }
        release_of(svc.id, &dpkg, &rpm, &dists, facts);
    }
    horizon(fs, facts);
    glance_policy(fs, facts);
    glance_v1(facts);
    manual(facts);
}

fn missing_of(fs: &RootFs, abs: &str, e: &ReadError, need: Need) -> Missing {
    match e {
        ReadError::NotFound => Missing::absent(format!("{abs} does not exist")),
        ReadError::PermissionDenied => Missing::new(
            MissingReason::PermissionDenied,
            denied_detail(fs, abs, need),
        ),
        other => Missing::new(other.reason(), format!("{abs}: {other}")),
    }
}

fn files_of(fs: &RootFs, acc: &Accounts, svc: &Service, facts: &mut Facts) {
    facts.insert(
        format!("os.file.{}.dir", svc.id),
        files::describe(fs, acc, svc.dir),
    );
    for f in svc.files {
        let abs = format!("{}/{f}", svc.dir);
        facts.insert(
            format!("os.file.{}.{}", svc.id, logical(f)),
            files::describe(fs, acc, &abs),
        );
    }
}

fn read_text(fs: &RootFs, abs: &str) -> Result<String, Missing> {
    let bytes = fs
        .read_capped(abs, CONF_CAP)
        .map_err(|e| missing_of(fs, abs, &e, Need::Read))?;
    String::from_utf8(bytes).map_err(|e| Missing::unsupported(format!("{abs}: not UTF-8 ({e})")))
}

/// An option value as a fact: `$` substitution is not expanded (unknown), `$$` is `$`,
/// credentials in URLs are redacted.
fn option_value(value: &str, secret: bool) -> Result<Value, Missing> {
    if secret {
        let set = !value.trim().is_empty() && value.trim() != "<none>";
        return Ok(json!({ "set": set }));
    }
    let unescaped = value.replace("$$", "");
    if unescaped.contains('$') {
        return Err(Missing::unsupported(
            "the value uses oslo.config $-substitution, which is not expanded here",
        ));
    }
    Ok(Value::String(redact_userinfo(&value.replace("$$", "$"))))
}

/// `scheme://user:pass@host` -> `scheme://***@host` (each comma-separated URL).
pub fn redact_userinfo(v: &str) -> String {
    v.split(',')
        .map(|part| match part.find("://") {
            Some(i) => {
                let rest = &part[i + 3..];
                let end = rest.find('/').unwrap_or(rest.len());
                match rest[..end].rfind('@') {
                    Some(at) => format!("{}://***{}", &part[..i], &rest[at..]),
                    None => part.to_string(),
                }
            }
            None => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn conf(fs: &RootFs, name: &str, abs: &str, facts: &mut Facts) {
    let prefix = format!("os.ini.{name}.");
    let src = format!("oslo.config:{abs}");
    let parsed = read_text(fs, abs).and_then(|t| {
        ini::parse_oslo(&t)
            .map_err(|e| Missing::error(format!("{abs}: {e} (oslo.config refuses the whole file)")))
    });
    let ini = match parsed {
        Ok(i) => i,
        Err(m) => {
            facts.namespace_missing(&prefix, &src, m.reason, m.detail);
            return;
        }
    };
    facts.namespace_complete(&prefix, &src);
    for (c, section, option) in INI_OPTIONS.iter().filter(|(c, _, _)| *c == name) {
        let key = format!("os.ini.{c}.{section}.{option}");
        let Some(v) = ini.get(section, option) else {
            continue;
        };
        let secret = SECRET_OPTIONS.contains(option);
        let parsed = option_value(v, secret).and_then(|val| {
            if BOOL_OPTIONS.contains(option) {
                oslo_bool(&val)
            } else {
                Ok(val)
            }
        });
        match parsed {
            Ok(val) => facts.set(key, &src, val),
            Err(m) => facts.insert(key, Fact::from_missing(&src, m.context(abs))),
        }
    }
}

/// `oslo_config.types.Boolean`.
fn oslo_bool(v: &Value) -> Result<Value, Missing> {
    let s = v.as_str().unwrap_or_default();
    match s.to_lowercase().as_str() {
        "true" | "1" | "on" | "yes" => Ok(Value::Bool(true)),
        "false" | "0" | "off" | "no" => Ok(Value::Bool(false)),
        _ => Err(Missing::error(format!(
            "{s:?} is not a boolean oslo.config accepts (the service would refuse to start)"
        ))),
    }
}

fn paste(fs: &RootFs, name: &str, abs: &str, facts: &mut Facts) {
    let prefix = format!("os.paste.{name}.");
    let src = format!("paste:{abs}");
    let parsed = read_text(fs, abs)
        .and_then(|t| ini::parse_paste(&t).map_err(|e| Missing::error(format!("{abs}: {e}"))));
    let ini = match parsed {
        Ok(i) => i,
        Err(m) => {
            facts.namespace_missing(&prefix, &src, m.reason, m.detail);
            return;
        }
    };
    facts.namespace_complete(&prefix, &src);
    facts.set(format!("{prefix}sections"), &src, json!(ini.sections));
    for s in &ini.sections {
        if let Some(p) = s.strip_prefix("pipeline:") {
            if let Some(v) = ini.get(s, "pipeline") {
                let items: Vec<&str> = v.split_whitespace().collect();
                facts.set(format!("{prefix}pipeline.{}", p.trim()), &src, json!(items));
            }
        }
    }
}

fn read_dpkg(fs: &RootFs) -> Result<Vec<(String, String, String)>, Missing> {
    const STATUS: &str = "/var/lib/dpkg/status";
    let bytes = fs
        .read_capped(STATUS, 64 * 1024 * 1024)
        .map_err(|e| match e {
            ReadError::NotFound => Missing::absent(format!(
                "{STATUS} does not exist (not a dpkg system; the RPM database is not read)"
            )),
            other => missing_of(fs, STATUS, &other, Need::Read),
        })?;
    Ok(crate::collect::packages::parse_dpkg_status(
        &String::from_utf8_lossy(&bytes),
    ))
}

/// Python library directories where distribution metadata is looked for.
const PY_LIB_PARENTS: &[&str] = &["/usr/lib", "/usr/lib64", "/usr/local/lib"];

/// (project, version, path) of every `*.dist-info` / `*.egg-info` in the system's Python
/// library directories (each listing capped).
fn python_dists(fs: &RootFs) -> Vec<(String, String, String)> {
    let mut dirs = vec!["/usr/lib/python3/dist-packages".to_string()];
    for parent in PY_LIB_PARENTS {
        let Ok((names, _)) = fs.list_dir(parent, 10_000) else {
            continue;
        };
        for n in names {
            let n = n.to_string_lossy();
            if n.starts_with("python3") {
                for sub in ["site-packages", "dist-packages"] {
                    dirs.push(format!("{parent}/{n}/{sub}"));
                }
            }
        }
    }
    let mut out = Vec::new();
    for d in dirs {
        let Ok((names, _)) = fs.list_dir(&d, 20_000) else {
            continue;
        };
        for n in names {
            let n = n.to_string_lossy();
            if let Some((p, v)) = release::dist_info(&n) {
                out.push((p, v, format!("{d}/{n}")));
            }
        }
    }
    out
}

fn release_of(
    svc: &str,
    dpkg: &Result<Vec<(String, String, String)>, Missing>,
    rpm: &[(String, String, String)],
    dists: &[(String, String, String)],
    facts: &mut Facts,
) {
    let key = format!("os.release.{svc}");
    let Some((_, pkgs, _)) = release::PACKAGES.iter().find(|(s, _, _)| *s == svc) else {
        return;
    };
    let from_dpkg = dpkg.as_ref().ok().and_then(|all| {
        pkgs.iter().find_map(|p| {
            all.iter()
                .find(|(n, _, s)| n == p && s.ends_with(" installed"))
                .map(|(n, v, _)| {
                    (
                        n.clone(),
                        v.clone(),
                        "dpkg:/var/lib/dpkg/status".to_string(),
                    )
                })
        })
    });
    // The RPM database (name, version, "rpm:<path>"), the same package names as dpkg's.
    let from_rpm = || {
        pkgs.iter()
            .find_map(|p| rpm.iter().find(|(n, _, _)| n == p).cloned())
    };
    let project = release::python_project(svc);
    let from_python = || {
        dists
            .iter()
            .find(|(p, _, _)| p == project)
            .map(|(p, v, path)| (p.clone(), v.clone(), format!("python-metadata:{path}")))
    };
    let Some((package, version, src)) = from_dpkg.or_else(from_rpm).or_else(from_python) else {
        let dpkg_says = match dpkg {
            Ok(_) => format!("none of {} is installed according to dpkg", pkgs.join(", ")),
            Err(m) => m.detail.clone(),
        };
        let reason = match dpkg {
            Err(m) if !m.reason.is_known_absent() => m.reason,
            _ => MissingReason::NotCollected,
        };
        let why = format!(
            "installed release unknown: {dpkg_says}; no {project}-<version>.dist-info or .egg-info in the Python library directories"
        );
        facts.insert(
            key,
            Fact::from_missing("packages", Missing::new(reason, why)),
        );
        return;
    };
    match release::series(svc, &version) {
        Ok((ord, name)) => facts.set(
            key,
            &src,
            json!({"series": name, "ordinal": ord, "package": package, "version": version}),
        ),
        Err(why) => facts.insert(key, Fact::from_missing(&src, Missing::unsupported(why))),
    }
}

fn horizon(fs: &RootFs, facts: &mut Facts) {
    const PATH: &str = "/etc/openstack-dashboard/local_settings.py";
    let prefix = "os.horizon.setting.";
    let src = format!("python-literals:{PATH}");
    let text = match read_text(fs, PATH) {
        Ok(t) => t,
        Err(m) => {
            facts.namespace_missing(prefix, &src, m.reason, m.detail);
            return;
        }
    };
    let settings = pysettings::parse(&text);
    facts.namespace_complete(prefix, &src);
    for name in HORIZON_SETTINGS {
        match settings.get(name) {
            None => {}
            Some(pysettings::Setting::Known { value, .. }) => {
                facts.set(format!("{prefix}{name}"), &src, value)
            }
            Some(pysettings::Setting::Unknown(why)) => facts.insert(
                format!("{prefix}{name}"),
                Fact::from_missing(&src, Missing::unsupported(format!("{PATH}: {why}"))),
            ),
        }
    }
}

/// `os.glance.v1_api`: whether the Images API v1 is on (Check-Image-05 applies only then):
/// glance-api.conf's `enable_v1_api`; absent when glance is not installed; unknown when the
/// option is unset, as its default changed over the releases that had the v1 API.
fn glance_v1(facts: &mut Facts) {
    let key = "os.glance.v1_api";
    let opt = "os.ini.glance_api_conf.DEFAULT.enable_v1_api";
    let installed = facts
        .get("os.service.glance")
        .is_some_and(|f| f.value.is_some());
    let fact = match facts.get(opt).map(|f| f.into_owned()) {
        _ if !installed => Fact::absent("files:/etc/glance", "glance is not installed under the root"),
        Some(f) if f.value.is_some() => f,
        Some(f) if f.missing.as_ref().is_some_and(|m| m.reason.is_known_absent()) => {
            Fact::from_missing(
                f.source,
                Missing::unsupported(
                    "enable_v1_api is not set in /etc/glance/glance-api.conf and its default depended on the release: set it explicitly",
                ),
            )
        }
        Some(f) => f,
        None => Fact::from_missing("oslo.config", Missing::not_collected("glance-api.conf was not read")),
    };
    facts.insert(key, fact);
}

/// The `copy_from` rule of glance's policy.json (Check-Image-05).
fn glance_policy(fs: &RootFs, facts: &mut Facts) {
    const PATH: &str = "/etc/glance/policy.json";
    let prefix = "os.policy.glance.";
    let src = format!("json:{PATH}");
    let parsed = read_text(fs, PATH).and_then(|t| {
        serde_json::from_str::<Value>(&t)
            .map_err(|e| Missing::error(format!("{PATH}: not JSON ({e})")))
    });
    match parsed {
        Ok(Value::Object(m)) => {
            facts.namespace_complete(prefix, &src);
            if let Some(Value::String(rule)) = m.get("copy_from") {
                facts.set(format!("{prefix}copy_from"), &src, rule.clone());
            }
        }
        Ok(_) => facts.namespace_missing(
            prefix,
            &src,
            MissingReason::Unsupported,
            format!("{PATH}: not a JSON object"),
        ),
        Err(m) => facts.namespace_missing(prefix, &src, m.reason, m.detail),
    }
}

/// Items the guide checks outside any file this tool reads: each is a fact that is never
/// collected, with the manual test as its reason.
pub const MANUAL: &[(&str, &str)] = &[
    (
        "identity_api_tls",
        "manual test: keystone's API TLS is configured in the web server that hosts it (Apache/nginx), not in keystone.conf; check that its vhost serves HTTPS only, or probe it with --endpoint keystone=HOST:5000",
    ),
    (
        "volume_encryption",
        "manual test: create an encrypted volume type, attach a volume, write a known string and confirm it cannot be found on the backend device (Security Guide, Block Storage volume encryption)",
    ),
];

fn manual(facts: &mut Facts) {
    for (item, how) in MANUAL {
        facts.insert(
            format!("os.manual.{item}"),
            Fact::from_missing("manual", Missing::not_collected(*how)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_values() {
        assert_eq!(
            redact_userinfo("https://u:pw@a:1/x,http://b:2"),
            "https://***@a:1/x,http://b:2"
        );
        assert_eq!(option_value("a$$b", false).unwrap(), json!("a$b"));
        assert!(option_value("$proto://k", false).is_err());
        assert_eq!(option_value("<none>", true).unwrap(), json!({"set": false}));
        assert_eq!(option_value("tok", true).unwrap(), json!({"set": true}));
        assert_eq!(oslo_bool(&json!("ON")).unwrap(), json!(true));
        assert_eq!(oslo_bool(&json!("0")).unwrap(), json!(false));
        assert!(oslo_bool(&json!("maybe")).is_err());
    }
}
