//! The command line: clap arguments -> library calls -> exit code.
//!
//! Exit codes: 0 = nothing at or above `--fail-on` and score ≥ `--min-score`;
//! 1 = findings; 2 = usage or catalog error; 3 = the audit could not run.

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use stackposture::catalog::{Catalog, CatalogSource, Profile, Severity};
use stackposture::collect::{self, CollectOptions};
use stackposture::facts::Facts;
use stackposture::opfiles;
use stackposture::report::{self, Format, RenderOptions};
use stackposture::EvalOptions;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

mod cli_opts;
use cli_opts::collect_opts;

const EXIT_OK: u8 = 0;
const EXIT_FINDINGS: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_CANNOT_RUN: u8 = 3;

#[derive(Parser)]
#[command(
    name = "stackposture",
    version,
    about = "Security-posture auditor for Apache CloudStack management servers",
    long_about = "Reads how a CloudStack deployment is really configured (files, database \
settings, TLS endpoints, host state) and scores it against the operator's duties in \
CloudStack's security model.\n\nExit codes: 0 compliant, 1 findings at or above --fail-on \
or score below --min-score, 2 usage or catalog error, 3 the audit could not run."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Collect facts and evaluate them (the usual command).
    Audit {
        #[command(flatten)]
        collect: CollectArgs,
        #[command(flatten)]
        eval: EvalArgs,
    },
    /// Collect facts only and write them as JSON (evaluate them later, anywhere).
    Collect {
        #[command(flatten)]
        collect: CollectArgs,
        /// Write the facts here (default, or `-`: standard output); written atomically.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Evaluate facts files written by `collect` (the catalog is loaded once).
    Evaluate {
        /// Facts files (JSON), or directories of them (`*.json`, not recursive). More
        /// than one needs --output-dir: DIR/<file name>.report.<ext>.
        #[arg(required = true)]
        facts: Vec<PathBuf>,
        #[command(flatten)]
        eval: EvalArgs,
    },
    /// Compare two JSON reports (same host over time, or two hosts): regressions, fixes,
    /// coverage changes and score deltas. Exit 1 when a check regressed, a failing check
    /// disappeared or a decided check became unknown; exit 3 for a report of a schema
    /// version this build does not read.
    Diff {
        /// The earlier (or reference) report, from `--format json`.
        before: PathBuf,
        /// The later (or compared) report.
        after: PathBuf,
        /// text or json.
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Many hosts' JSON reports in one view (score per host and duty, shared findings) and
    /// the checks only a fleet shows: one secret in several environments, version skew in
    /// a cluster, clock drift, missing or stale reports. Exit 1 on any of them.
    Fleet {
        /// Reports, or directories of them (each subdirectory is an environment).
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = stackposture::fleet::FleetFormat::Table)]
        format: stackposture::fleet::FleetFormat,
        /// A report collected more than HOURS ago is stale.
        #[arg(long, value_name = "HOURS", default_value_t = 48)]
        stale_after: u32,
    },
    /// List the facts this user cannot read, and the smallest grant that would fix each.
    Privileges {
        #[command(flatten)]
        collect: CollectArgs,
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// List or show the checks of the catalog.
    Checks {
        #[command(subcommand)]
        cmd: ChecksCmd,
        #[command(flatten)]
        catalog: CatalogArgs,
    },
    /// List or show the profiles.
    Profiles {
        #[command(subcommand)]
        cmd: ProfilesCmd,
        #[command(flatten)]
        catalog: CatalogArgs,
    },
    /// Print a shell completion script (e.g. `stackposture completions bash >
    /// /etc/bash_completion.d/stackposture`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per subcommand into DIR.
    Man {
        /// Write stackposture.1, stackposture-audit.1, ... into this directory.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ChecksCmd {
    /// List the checks (of a profile, with --profile).
    List {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
        /// Only the checks this profile selects.
        #[arg(long)]
        profile: Option<String>,
    },
    /// Show one check as it is in the catalog.
    Show { id: String },
}

#[derive(Subcommand)]
enum ProfilesCmd {
    List {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    Show {
        name: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ListFormat {
    Table,
    Json,
    /// The catalog reference (docs/checks.md); not for `profiles list`.
    Markdown,
}

#[derive(Args, Clone)]
struct CatalogArgs {
    /// Extra catalog directory (checks/*.toml, profiles/*.toml); its checks add to or
    /// replace (same id) the embedded ones. May be repeated.
    #[arg(long = "catalog", value_name = "DIR", global = true)]
    dirs: Vec<PathBuf>,
    /// Do not load the embedded catalog (use only --catalog directories).
    #[arg(long, global = true)]
    no_builtin_catalog: bool,
}

#[derive(Args)]
struct CollectArgs {
    /// Audit a mounted or rendered filesystem: every host path is resolved under DIR.
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
    /// Advisory feed file (docs/advisories.md): its `[feed] mode` replaces or extends the
    /// built-in feed (and any in --catalog DIR/checks/cloudstack/). May be repeated.
    #[arg(long = "advisories", value_name = "FILE")]
    advisories: Vec<PathBuf>,
    /// Host name to record in the facts and report.
    #[arg(long)]
    host: Option<String>,
    /// Record the collection time in the facts.
    #[arg(long)]
    timestamp: bool,
    /// File with a key for keyed fingerprints of secrets (HMAC-SHA256), so that reports
    /// from several hosts can show which share a secret without revealing it.
    #[arg(long, value_name = "FILE")]
    fingerprint_key_file: Option<PathBuf>,
    /// Read this machine's host state (/proc/net/tcp*, processes, kernel clock): `auto`
    /// only when --root is /, `always`, or `never`.
    #[arg(long, value_enum, default_value_t = HostStateArg::Auto)]
    host_state: HostStateArg,
    #[command(flatten)]
    db: DbArgs,
    /// Also probe this TLS endpoint, `[LABEL=]HOST:PORT` (repeatable). LABEL names its
    /// facts (`tls.LABEL.*`); https, agent or cluster replace the deployment's endpoint,
    /// `http` probes plain HTTP. To assess one endpoint alone:
    /// `audit --root <empty dir> --endpoint HOST:PORT`.
    #[arg(long = "endpoint", value_name = "[LABEL=]HOST:PORT", value_parser = parse_endpoint)]
    endpoints: Vec<stackposture::collect::tls::EndpointSpec>,
    /// Probe the deployment's own TLS/HTTP endpoints (https.port, http.port, agent port,
    /// cluster port): auto = only when --root is / (the live host).
    #[arg(long, value_enum, default_value_t = ProbeArg::Auto)]
    probe_deployment: ProbeArg,
    /// Upper bound for one TLS probe, connect included, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 4000, value_parser = clap::value_parser!(u64).range(50..=60000))]
    tls_timeout_ms: u64,
    /// Upper bound of the whole collection, in seconds. Sources are read concurrently;
    /// whatever is still being read then is recorded as unknown (timeout) and the audit
    /// goes on with the rest.
    #[arg(long, value_name = "SECS", default_value_t = stackposture::collect::registry::DEFAULT_DEADLINE_SECS, value_parser = clap::value_parser!(u64).range(1..=86400))]
    deadline: u64,
}

#[derive(Clone, Copy, ValueEnum)]
enum HostStateArg {
    Auto,
    Always,
    Never,
}

/// Where the CloudStack settings come from: the `cloud` database (default, with the
/// connection in db.properties) or an offline export.
#[derive(Args)]
struct DbArgs {
    /// Do not connect to the database (DB-based checks come out unknown).
    #[arg(long)]
    no_db: bool,
    /// Connect here instead of what db.properties says: mysql://USER@HOST:PORT/DB
    /// (add ?ssl=true for TLS). A password in the URL is refused: use --db-password-env.
    #[arg(long, value_name = "URL")]
    db_url: Option<String>,
    /// Name of an environment variable holding the DB password (overrides db.properties).
    #[arg(long, value_name = "VAR")]
    db_password_env: Option<String>,
    /// Connect and per-query timeout, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    db_timeout: u64,
    /// File whose first line is the management-server key (decrypts ENC() values),
    /// instead of what db.cloud.encryption.type says (/etc/cloudstack/management/key
    /// for `file`, $CLOUD_SECRET_KEY for `env`).
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// Read settings from a `cmk list configurations` JSON export or a raw
    /// listconfigurationsresponse instead of the database.
    #[arg(long, value_name = "FILE")]
    settings_export: Option<PathBuf>,
    /// PEM file of the CA that signed the DB server's certificate: connect with TLS and
    /// verify the server (chain and host name). Without it, TLS (db.cloud.useSSL=true or
    /// ?ssl=true) encrypts but does not authenticate the server, like Connector/J without
    /// a trust store.
    #[arg(long, value_name = "FILE")]
    db_ca: Option<PathBuf>,
    /// Allow MySQL 8 caching_sha2_password full authentication to send the DB password
    /// to a server that is not authenticated: encrypted to the RSA key the server itself
    /// sends (plain TCP), or over TLS without --db-ca. Off by default (Connector/J's
    /// allowPublicKeyRetrieval=false): anything answering on the DB port could read it.
    #[arg(long)]
    db_allow_public_key_retrieval: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum ProbeArg {
    Auto,
    Yes,
    No,
}

fn parse_endpoint(s: &str) -> Result<stackposture::collect::tls::EndpointSpec, String> {
    stackposture::collect::tls::EndpointSpec::parse(s)
}

#[derive(Args)]
struct EvalArgs {
    /// Profile to evaluate under (default: the catalog's default profile).
    #[arg(long)]
    profile: Option<String>,
    /// Report format: table (people), json (versioned report), junit (CI), sarif (code
    /// scanning), prometheus (textfile collector), html (one self-contained page), csv
    /// (one row per result), markdown (tickets). Several, comma-separated, with
    /// --output-dir: `--format json,sarif,html --output-dir DIR`.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "table")]
    format: Vec<Format>,
    /// Write the report here instead of standard output (`-`: standard output). The file
    /// is replaced atomically (temporary file in its directory, then rename); a symbolic
    /// link or a non-regular file there is refused.
    #[arg(short, long, conflicts_with = "output_dir")]
    output: Option<PathBuf>,
    /// Write each format to DIR/report.<ext> (report.json, report.sarif, report.html,
    /// report.junit.xml, report.csv, report.md, report.prom, report.txt).
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
    /// SARIF: include passing, unknown, error and not-applicable results too (default:
    /// failures only; GitHub code scanning would raise every result as an alert).
    #[arg(long)]
    all_results: bool,
    /// Exit 1 when a check at or above this severity fails (default: the profile's).
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<SeverityArg>,
    /// Exit 1 when the overall score is below N (0-100; default: the profile's pass mark).
    #[arg(long, value_name = "N")]
    min_score: Option<f64>,
    /// Reference date for certificate expiry (RFC 3339 or YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// Colour in the table: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
    /// Hide passing checks in the table, HTML and Markdown (and in SARIF, even with
    /// --all-results).
    #[arg(long)]
    only_findings: bool,
    /// Waivers file (TOML [[waiver]] check/reason/expires/hosts): accepted findings stop
    /// counting for the exit code until they expire; outcomes and scores are unchanged.
    #[arg(long, value_name = "FILE")]
    waivers: Option<PathBuf>,
    /// Compliance frameworks to show (nist-800-53, cis-v8, iso-27001; repeatable or
    /// comma-separated; default: all): the per-framework summaries and each result's
    /// controls keep only these. Results, scores and the exit code are unchanged.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    framework: Vec<String>,
    #[command(flatten)]
    catalog: CatalogArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
enum SeverityArg {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl From<SeverityArg> for Severity {
    fn from(s: SeverityArg) -> Severity {
        match s {
            SeverityArg::Info => Severity::Info,
            SeverityArg::Low => Severity::Low,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::High => Severity::High,
            SeverityArg::Critical => Severity::Critical,
        }
    }
}

/// A failure with the exit code it maps to.
struct Failure {
    code: u8,
    message: String,
}

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        code: EXIT_USAGE,
        message: message.into(),
    }
}

fn cannot_run(message: impl Into<String>) -> Failure {
    Failure {
        code: EXIT_CANNOT_RUN,
        message: message.into(),
    }
}

/// A panic never prints its message (it may hold bytes from an audited source or a
/// hostile server), only where it happened; the process then exits with
/// `EXIT_CANNOT_RUN`, never 101. Collectors that talk to untrusted peers contain their
/// own panics and report the source unknown.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_else(|| "unknown location".into());
        eprintln!(
            "stackposture: internal error at {at} (details withheld: they may hold audited data)"
        );
    }));
}

fn main() -> ExitCode {
    install_panic_hook();
    match std::panic::catch_unwind(real_main) {
        Ok(code) => code,
        Err(_) => ExitCode::from(EXIT_CANNOT_RUN),
    }
}

fn real_main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("stackposture: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn load_catalog(args: &CatalogArgs) -> Result<Catalog, Failure> {
    let cat = Catalog::load(&CatalogSource {
        dirs: args.dirs.clone(),
        no_builtin: args.no_builtin_catalog,
    })
    .map_err(|e| usage(format!("catalog error: {e}")))?;
    // A check must read a fact some collector step produces: a typo in a fact key is a
    // catalog error, not a check that is quietly never decided.
    cat.validate_fact_keys(&collect::registry::owned_patterns())
        .map_err(|e| usage(format!("catalog error: {e}")))?;
    Ok(cat)
}

fn pick_profile<'a>(cat: &'a Catalog, name: Option<&str>) -> Result<&'a Profile, Failure> {
    match name {
        Some(n) => cat.profile(n).ok_or_else(|| {
            let names: Vec<&str> = cat.profiles.iter().map(|p| p.name.as_str()).collect();
            usage(format!(
                "no profile {n:?} (available: {})",
                names.join(", ")
            ))
        }),
        None => cat
            .default_profile()
            .or_else(|| cat.profiles.first())
            .ok_or_else(|| usage("the catalog has no profile")),
    }
}

/// `-o -` means standard output.
fn output_file(output: Option<&PathBuf>) -> Option<&PathBuf> {
    output.filter(|p| p.as_os_str() != "-")
}

/// Writes to a file (atomically) or stdout; a closed pipe (`| head`) is not an error.
fn emit(text: &str, output: Option<&PathBuf>) -> Result<(), Failure> {
    match output_file(output) {
        Some(p) => opfiles::write_atomic(p, text.as_bytes())
            .map_err(|e| cannot_run(format!("cannot write {}: {e}", p.display()))),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(cannot_run(format!("cannot write output: {e}"))),
            }
        }
    }
}

/// One format to --output or stdout; any number to --output-dir.
fn emit_formats(
    report: &report::Report,
    e: &EvalArgs,
    opts: &RenderOptions,
    prefix: Option<&str>,
) -> Result<(), Failure> {
    let formats = Format::distinct(&e.format);
    let Some(dir) = &e.output_dir else {
        return match formats.as_slice() {
            [f] => emit(&report::render(report, *f, opts), e.output.as_ref()),
            _ => Err(usage("several formats need --output-dir DIR")),
        };
    };
    if !dir.is_dir() {
        return Err(cannot_run(format!(
            "--output-dir {}: not a directory",
            dir.display()
        )));
    }
    for f in formats {
        let text = report::render(report, f, opts);
        match prefix {
            // One of many facts files: no fsync per file, one sync of the batch at the end.
            Some(p) => {
                let path = dir.join(format!("{p}.{}", f.file_name()));
                opfiles::write_atomic_unsynced(&path, text.as_bytes())
                    .map_err(|e| cannot_run(format!("cannot write {}: {e}", path.display())))?
            }
            None => emit(&text, Some(&dir.join(f.file_name())))?,
        }
    }
    Ok(())
}

/// What every facts file of one `evaluate` (or the one `audit`) is judged with: the
/// catalog is loaded and the waivers read once.
struct Evaluator {
    cat: Catalog,
    opts: EvalOptions,
}

fn evaluator(e: &EvalArgs) -> Result<Evaluator, Failure> {
    let cat = load_catalog(&e.catalog)?;
    pick_profile(&cat, e.profile.as_deref())?;
    if let Some(m) = e.min_score {
        if !(0.0..=100.0).contains(&m) {
            return Err(usage("--min-score must be between 0 and 100"));
        }
    }
    let as_of = match &e.as_of {
        Some(s) => Some(stackposture::dates::parse_rfc3339(s).ok_or_else(|| {
            usage(format!(
                "--as-of {s:?}: not a real date (YYYY-MM-DD or RFC 3339)"
            ))
        })?),
        None => None,
    };
    let waivers = match &e.waivers {
        Some(p) => {
            let text = opfiles::read_text_capped(p, opfiles::WAIVERS_CAP)
                .map_err(|err| cannot_run(format!("cannot read {}: {err}", p.display())))?;
            let ids: Vec<&str> = cat.checks.iter().map(|c| c.id.as_str()).collect();
            stackposture::waivers::parse(&p.display().to_string(), &text, &ids)
                .map_err(|err| usage(format!("waivers: {err}")))?
        }
        None => Vec::new(),
    };
    let frameworks = (!e.framework.is_empty())
        .then(|| stackposture::catalog::compliance::select(&cat.frameworks, &e.framework))
        .transpose()
        .map_err(|err| usage(format!("--framework: {err}")))?;
    let opts = EvalOptions {
        fail_on: e.fail_on.map(Severity::from),
        min_score: e.min_score,
        as_of,
        waivers,
        packs: None,
        frameworks,
    };
    Ok(Evaluator { cat, opts })
}

fn render_options(e: &EvalArgs) -> RenderOptions {
    let to_stdout = output_file(e.output.as_ref()).is_none() && e.output_dir.is_none();
    let tty = to_stdout && std::io::stdout().is_terminal();
    let color = match e.color {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    RenderOptions {
        color,
        width: if tty { None } else { Some(120) },
        show_passed: !e.only_findings,
        all_results: e.all_results,
    }
}

/// Evaluates one facts set and writes its report(s); `prefix` names the files in
/// --output-dir when several facts files are evaluated.
fn emit_report(
    ev: &Evaluator,
    facts: &Facts,
    e: &EvalArgs,
    prefix: Option<&str>,
) -> Result<u8, Failure> {
    let profile = pick_profile(&ev.cat, e.profile.as_deref())?;
    let report = stackposture::build_report(&ev.cat, profile, facts, &ev.opts);
    emit_formats(&report, e, &render_options(e), prefix)?;
    Ok(if report.verdict.exit_code == 0 {
        EXIT_OK
    } else {
        EXIT_FINDINGS
    })
}

/// `evaluate FACTS...|DIR`: every facts file with one catalog; one file keeps the
/// single-report behaviour, several need --output-dir (DIR/<name>.report.<ext>).
fn evaluate_files(paths: &[PathBuf], e: &EvalArgs) -> Result<u8, Failure> {
    let ev = evaluator(e)?; // usage and catalog errors first (exit 2)
    let files = report::batch::facts_files(paths).map_err(cannot_run)?;
    let several = files.len() > 1 || paths.iter().any(|p| p.is_dir());
    if several && e.output_dir.is_none() {
        return Err(usage("several facts files need --output-dir DIR"));
    }
    let mut code = EXIT_OK;
    let mut buf = Vec::new();
    for (path, name) in &files {
        let f = report::batch::load_facts_with(path, &mut buf).map_err(cannot_run)?;
        let prefix = several.then_some(name.as_str());
        code = code.max(emit_report(&ev, &f, e, prefix)?);
    }
    if let (true, Some(dir)) = (several, &e.output_dir) {
        opfiles::sync_filesystem(dir)
            .map_err(|err| cannot_run(format!("cannot sync {}: {err}", dir.display())))?;
    }
    Ok(code)
}

fn run(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
        Command::Completions { shell } => {
            let script = stackposture::clidocs::completions(Cli::command(), shell);
            emit(&String::from_utf8_lossy(&script), None)?;
            Ok(EXIT_OK)
        }
        Command::Man { out_dir: None } => {
            let page = stackposture::clidocs::man_page(Cli::command())
                .map_err(|e| cannot_run(format!("cannot render the man page: {e}")))?;
            emit(&String::from_utf8_lossy(&page), None)?;
            Ok(EXIT_OK)
        }
        Command::Man { out_dir: Some(dir) } => {
            stackposture::clidocs::write_man_pages(Cli::command(), &dir).map_err(|e| {
                cannot_run(format!("cannot write man pages to {}: {e}", dir.display()))
            })?;
            Ok(EXIT_OK)
        }
        Command::Audit { collect, eval } => {
            // Validate the catalog and profile before touching the host.
            // The catalog, profile and waivers first (usage errors before touching the host).
            let mut ev = evaluator(&eval)?;
            let opts = collect_opts(&collect, Some(&eval.catalog))?;
            let tree = stackposture::rootfs::RootFs::new(&opts.root);
            ev.opts.packs = Some(stackposture::packs_for_tree(&ev.cat, &tree));
            let collected = collect::collect(&opts);
            emit_report(&ev, &collected.facts, &eval, None)
        }
        Command::Collect { collect, output } => {
            let opts = collect_opts(&collect, None)?;
            let collected = collect::collect(&opts);
            emit(&collected.facts.to_json(), output.as_ref())?;
            Ok(EXIT_OK)
        }
        Command::Evaluate { facts, eval } => evaluate_files(&facts, &eval),
        Command::Diff {
            before,
            after,
            format,
        } => {
            let json = matches!(format, ListFormat::Json);
            let (text, code) =
                stackposture::diff::run(&before, &after, json).map_err(cannot_run)?;
            emit(&text, None)?;
            Ok(code)
        }
        Command::Fleet {
            reports,
            format,
            stale_after,
        } => {
            let (text, code) =
                stackposture::fleet::run(&reports, format, stale_after).map_err(cannot_run)?;
            emit(&text, None)?;
            Ok(code)
        }
        Command::Privileges { collect, format } => privileges(&collect, format),
        Command::Checks { cmd, catalog } => {
            let cat = load_catalog(&catalog)?;
            let text = match cmd {
                ChecksCmd::List { format, profile } => list_checks(&cat, format, profile)?,
                ChecksCmd::Show { id } => {
                    let c = cat
                        .check(&id)
                        .ok_or_else(|| usage(format!("no check {id:?}")))?;
                    report::lists::check(c)
                        .map_err(|e| cannot_run(format!("cannot render: {e}")))?
                }
            };
            emit(&text, None)?;
            Ok(EXIT_OK)
        }
        Command::Profiles { cmd, catalog } => {
            let cat = load_catalog(&catalog)?;
            let text = match cmd {
                ProfilesCmd::List {
                    format: ListFormat::Json,
                } => serde_json::to_string_pretty(&cat.profiles).expect("serialise") + "\n",
                ProfilesCmd::List { .. } => report::lists::profiles(&cat),
                ProfilesCmd::Show { name } => {
                    let p = pick_profile(&cat, Some(&name))?;
                    report::lists::profile(&cat, p)
                        .map_err(|e| cannot_run(format!("cannot render: {e}")))?
                }
            };
            emit(&text, None)?;
            Ok(EXIT_OK)
        }
    }
}

fn list_checks(
    cat: &Catalog,
    format: ListFormat,
    profile: Option<String>,
) -> Result<String, Failure> {
    let prof = match profile {
        Some(p) => Some(pick_profile(cat, Some(&p))?),
        None => None,
    };
    let checks: Vec<_> = cat
        .checks
        .iter()
        .filter(|c| prof.is_none_or(|p| p.selects(c)))
        .collect();
    Ok(match format {
        ListFormat::Markdown if prof.is_none() => stackposture::catalog::markdown::render(cat),
        ListFormat::Markdown => {
            return Err(usage(
                "--format markdown documents the whole catalog; drop --profile",
            ))
        }
        ListFormat::Json => serde_json::to_string_pretty(&checks).expect("serialise") + "\n",
        ListFormat::Table => report::lists::checks(&checks, prof),
    })
}

fn privileges(collect: &CollectArgs, format: ListFormat) -> Result<u8, Failure> {
    let opts = collect_opts(collect, None)?;
    let collected = collect::collect(&opts);
    let fs = stackposture::rootfs::RootFs::new(&opts.root);
    let denied = stackposture::privileges::denied_with_grants(&fs, &collected.facts);
    let user = stackposture::privileges::current_user();
    let text = match format {
        ListFormat::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "user": user,
                "denied": denied,
            }))
            .expect("serialise")
                + "\n"
        }
        ListFormat::Table | ListFormat::Markdown => report::lists::denied(&user, &denied),
    };
    emit(&text, None)?;
    Ok(EXIT_OK)
}
