//! Collectors: one module per source. Each turns its source into facts and knows
//! nothing of checks. Every I/O operation is bounded (read caps, timeouts).

pub mod accounts;
pub mod clock;
pub mod database;
pub mod encryption;
pub mod export;
pub mod files;
pub mod host;
pub mod jvm;
pub mod listeners;
pub mod openstack;
pub mod packages;
pub mod procs;
pub mod properties;
pub mod registry;
pub mod rpmdb;
pub mod settings;
pub mod tls;
pub mod userpass;

use crate::facts::Facts;
use crate::rootfs::RootFs;
use std::path::PathBuf;

/// What to collect and how.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// The audited host's filesystem root (`/`, or a mounted/rendered tree).
    pub root: PathBuf,
    /// Host name to record (defaults to the tree's `/etc/hostname`, then the machine's).
    pub host: Option<String>,
    /// Record the collection time in the facts.
    pub timestamp: bool,
    /// Key for keyed fingerprints of secrets (none: no fingerprints).
    pub fingerprint_key: Option<Vec<u8>>,
    /// The `cloud` database / offline settings export (see `collect::database`).
    pub db: database::DbOptions,
    /// When to read the auditor's own host state (/proc, clock); see `collect::host`.
    pub host_state: host::HostState,
    /// TLS endpoints given with `--endpoint [LABEL=]HOST:PORT` (always probed).
    pub endpoints: Vec<tls::EndpointSpec>,
    /// Probe the deployment's own endpoints: `None` = only when `root` is `/`.
    pub probe_deployment: Option<bool>,
    /// Limits of the TLS probes.
    pub tls_limits: tls::probe::Limits,
    /// The advisory feed the installed version is matched against (`vuln::annotate`).
    pub advisories: crate::vuln::Feed,
    /// Upper bound of the whole collection (see `collect::registry`).
    pub deadline: std::time::Duration,
    /// Show a progress line on stderr while a step is slow (the CLI sets it when stderr
    /// is a terminal).
    pub progress: bool,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            root: PathBuf::from("/"),
            host: None,
            timestamp: false,
            fingerprint_key: None,
            db: database::DbOptions::default(),
            host_state: host::HostState::Auto,
            endpoints: Vec::new(),
            probe_deployment: None,
            tls_limits: tls::probe::Limits::default(),
            advisories: crate::vuln::Feed::builtin(),
            deadline: std::time::Duration::from_secs(registry::DEFAULT_DEADLINE_SECS),
            progress: false,
        }
    }
}

/// Everything collected in one run.
pub struct Collected {
    pub facts: Facts,
}

/// Runs every collector step of [`registry::STEPS`], concurrently where they do not
/// depend on each other, within `opts.deadline`.
pub fn collect(opts: &CollectOptions) -> Collected {
    let fs = RootFs::new(&opts.root);
    let mut base = Facts::new();
    base.host = opts.host.clone().or_else(|| host_name(&fs));
    if opts.timestamp {
        base.collected_at = Some(now_rfc3339());
    }
    let progress: registry::ProgressSink = if opts.progress {
        Some(Box::new(std::io::stderr()))
    } else {
        None
    };
    Collected {
        facts: registry::run(registry::STEPS, base, opts, progress),
    }
}

/// The TLS collector's options: the deployment is probed on the live host (`--root /`)
/// or when asked; `--endpoint`s always.
pub fn tls_options(opts: &CollectOptions) -> tls::TlsOptions {
    let live = opts.root == std::path::Path::new("/");
    tls::TlsOptions {
        probe_deployment: opts.probe_deployment.unwrap_or(live),
        not_probed_because: if live {
            "deployment probing disabled (--probe-deployment no)".into()
        } else {
            format!(
                "not probed: --root {} is not the live host (use --probe-deployment yes or --endpoint)",
                opts.root.display()
            )
        },
        endpoints: opts.endpoints.clone(),
        limits: opts.tls_limits,
        now: now_unix(),
    }
}

fn host_name(fs: &RootFs) -> Option<String> {
    let from_tree = fs
        .read_capped("/etc/hostname", 4096)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if from_tree.is_some() || fs.root() != std::path::Path::new("/") {
        return from_tree;
    }
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
}

/// Current UTC time, RFC 3339, seconds precision.
pub fn now_rfc3339() -> String {
    format_rfc3339(now_unix())
}

pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Formats unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_rfc3339(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Inverse of days_from_civil (H. Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_round_trip() {
        for t in [0i64, 86_399, 951_782_400, 1_700_000_000, 4_102_444_800] {
            let s = super::format_rfc3339(t);
            assert_eq!(crate::evaluate::parse_rfc3339(&s), Some(t), "{s}");
        }
        assert_eq!(super::format_rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
