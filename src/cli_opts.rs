//! `audit`/`collect` arguments to the collector's options (the CLI's part of
//! `collect::CollectOptions`): database, TLS, host state, advisory feed.

use super::*;

/// The advisory feed: the built-in one (unless --no-builtin-catalog), the feeds of the
/// --catalog directories, then --advisories files, in that order.
pub(crate) fn advisory_feed(
    a: &CollectArgs,
    catalog: Option<&CatalogArgs>,
) -> Result<stackposture::vuln::Feed, Failure> {
    let mut files = catalog
        .map(|c| stackposture::vuln::feed::catalog_feeds(&c.dirs))
        .unwrap_or_default();
    files.extend(a.advisories.iter().cloned());
    let no_builtin = catalog.is_some_and(|c| c.no_builtin_catalog);
    stackposture::vuln::Feed::load(no_builtin, &files)
        .map_err(|e| usage(format!("advisory feed error: {e}")))
}

pub(crate) fn collect_opts(
    a: &CollectArgs,
    catalog: Option<&CatalogArgs>,
) -> Result<CollectOptions, Failure> {
    let advisories = advisory_feed(a, catalog)?;
    if !a.root.is_dir() {
        return Err(cannot_run(format!(
            "--root {}: not a directory",
            a.root.display()
        )));
    }
    let fingerprint_key = match &a.fingerprint_key_file {
        Some(p) => {
            let k = opfiles::read_capped(p, opfiles::KEY_FILE_CAP).map_err(|e| {
                cannot_run(format!("cannot read fingerprint key {}: {e}", p.display()))
            })?;
            if k.len() < 16 {
                return Err(usage("the fingerprint key must be at least 16 bytes"));
            }
            Some(k)
        }
        None => None,
    };
    Ok(CollectOptions {
        root: a.root.clone(),
        host: a.host.clone(),
        timestamp: a.timestamp,
        fingerprint_key,
        endpoints: a.endpoints.clone(),
        probe_deployment: match a.probe_deployment {
            ProbeArg::Auto => None,
            ProbeArg::Yes => Some(true),
            ProbeArg::No => Some(false),
        },
        tls_limits: {
            let probe = std::time::Duration::from_millis(a.tls_timeout_ms);
            stackposture::collect::tls::probe::Limits {
                connect: probe.min(std::time::Duration::from_secs(2)),
                probe,
                ..Default::default()
            }
        },
        host_state: match a.host_state {
            HostStateArg::Auto => collect::host::HostState::Auto,
            HostStateArg::Always => collect::host::HostState::Always,
            HostStateArg::Never => collect::host::HostState::Never,
        },
        db: db_opts(&a.db)?,
        advisories,
        deadline: std::time::Duration::from_secs(a.deadline),
        progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
    })
}

pub(crate) fn db_opts(a: &DbArgs) -> Result<collect::database::DbOptions, Failure> {
    use collect::database::{DbOptions, SecretString};
    if a.db_timeout == 0 || a.db_timeout > 300 {
        return Err(usage("--db-timeout must be between 1 and 300 seconds"));
    }
    let password = match &a.db_password_env {
        Some(var) => match std::env::var(var) {
            Ok(v) => Some(SecretString::new(v)),
            Err(_) => {
                return Err(usage(format!(
                    "--db-password-env {var}: the variable is not set (or not UTF-8)"
                )))
            }
        },
        None => None,
    };
    if let Some(u) = &a.db_url {
        // Refuse early: a password on the command line is visible to every local user.
        let rest = u.split("://").nth(1).unwrap_or("");
        let auth = rest.split('/').next().unwrap_or("");
        if auth.rsplit_once('@').is_some_and(|(a, _)| a.contains(':')) {
            return Err(usage(
                "--db-url must not contain a password; use --db-password-env VAR",
            ));
        }
    }
    let t = std::time::Duration::from_secs(a.db_timeout);
    Ok(DbOptions {
        disabled: a.no_db,
        url: a.db_url.clone(),
        password,
        connect_timeout: t,
        query_timeout: t,
        key_file: a.key_file.clone(),
        cloud_secret_key: std::env::var(collect::encryption::MS_KEY_ENV)
            .ok()
            .map(SecretString::new),
        settings_export: a.settings_export.clone(),
        ca_file: a.db_ca.clone(),
        allow_public_key_retrieval: a.db_allow_public_key_retrieval,
    })
}
