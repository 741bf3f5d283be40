//! The collection registry: every collector is a [`Step`] in [`STEPS`], and
//! [`run`] runs them.
//!
//! A step has a name, the fact key patterns it owns (exact keys, or prefixes ending in
//! `.`), the steps it runs after, and one signature: a [`StepContext`] (the root
//! filesystem, the options, the facts of the steps it runs after) in, the new [`Facts`]
//! out. The runner starts every step whose `after` steps are done on a thread of its
//! own, so steps that do not depend on each other run concurrently: a database that
//! does not answer and a TLS endpoint that does not answer cost the larger of their
//! timeouts, not the sum.
//!
//! **Deadline.** [`CollectOptions::deadline`] bounds the whole collection. A step still
//! running then (or not started, because a step it runs after was still running) is
//! abandoned: each pattern it owns becomes `timeout` with a detail naming the deadline and
//! the step, and `run` returns on time. Its thread finishes in the background (every
//! collector is itself bounded by its own timeouts) and its facts are dropped.
//!
//! **Determinism.** A step sees the facts of the steps it runs after (transitively), not
//! whatever else happens to be done, and the results are merged in registry order, so the
//! facts do not depend on which thread finished first.
//!
//! **Hand-offs.** A step may leave in-memory data that is not a fact (parsed properties
//! files, TLS probes waiting for the facts they are judged against) for a later step in
//! [`StepContext::handoff`]; the later step lists the earlier one in `after`.
//!
//! **Progress.** While a step has run longer than [`PROGRESS_AFTER`], one line on stderr
//! names the running steps, when [`CollectOptions::progress`] is set (the CLI sets it only
//! when stderr is a terminal); the line is cleared when collection ends.

use super::{database, files, host, packages, properties, tls, CollectOptions};
use crate::facts::{Fact, Facts, Missing, SourceStatus};
use crate::rootfs::RootFs;
use std::any::Any;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// One collector step (see the module docs).
pub struct Step {
    /// Unique name, used in `after`, in deadline details and in the progress line.
    pub name: &'static str,
    /// The fact keys it writes: exact keys, or prefixes ending in `.`.
    pub owns: &'static [&'static str],
    /// Steps that must be done before it starts (each listed earlier in the registry).
    pub after: &'static [&'static str],
    pub run: fn(&StepContext) -> Facts,
}

/// What a step gets.
pub struct StepContext {
    pub fs: RootFs,
    pub opts: Arc<CollectOptions>,
    /// The facts collected before the run (host name, time) plus those of every step this
    /// one runs after, directly or not.
    pub facts: Facts,
    pub handoff: Arc<Handoff>,
}

/// In-memory data passed from a step to a later one, by key.
#[derive(Default)]
pub struct Handoff(Mutex<BTreeMap<&'static str, Arc<dyn Any + Send + Sync>>>);

impl Handoff {
    pub fn put<T: Any + Send + Sync>(&self, key: &'static str, value: T) {
        self.lock().insert(key, Arc::new(value));
    }
    /// The value put under `key`, if any and of type `T`.
    pub fn get<T: Any + Send + Sync>(&self, key: &'static str) -> Option<Arc<T>> {
        let v = self.lock().get(key).cloned()?;
        v.downcast::<T>().ok()
    }
    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, Arc<dyn Any + Send + Sync>>> {
        // A step that panicked while holding the lock left the map itself consistent.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Default of `--deadline`, in seconds: well above a normal audit (a few seconds) and
/// above one database or TLS timeout, so only a source that keeps answering slowly, query
/// after query, is cut off.
pub const DEFAULT_DEADLINE_SECS: u64 = 60;

/// A step running longer than this shows the progress line.
pub const PROGRESS_AFTER: Duration = Duration::from_secs(1);

const PROPERTIES_DATA: &str = "properties.data";
const TLS_EXPLICIT: &str = "tls.explicit";

/// Every collector, in an order where each step comes after those it runs after.
pub const STEPS: &[Step] = &[
    Step {
        name: "properties",
        owns: &["props.db.", "props.server.", "secret.db.", "secret.server."],
        after: &[],
        run: properties_step,
    },
    Step {
        name: "packages",
        owns: &["pkg."],
        after: &[],
        run: packages_step,
    },
    Step {
        name: "host_state",
        owns: &["listen.", "proc.", "clock."],
        after: &[],
        run: host_state_step,
    },
    Step {
        name: "tls_endpoints",
        // Probes only; the `tls` step records what it found.
        owns: &[],
        after: &[],
        run: tls_endpoints_step,
    },
    Step {
        name: "files",
        owns: &["file.", "files.", "jvm."],
        after: &["properties"],
        run: files_step,
    },
    Step {
        name: "database",
        // It also re-describes the ENC() secrets of the properties files once decrypted.
        owns: &[
            "cs.",
            "dbserver.",
            "secret.db.",
            "secret.server.",
            "secret.ms_key",
        ],
        after: &["properties"],
        run: database_step,
    },
    Step {
        name: "vuln",
        owns: &["vuln."],
        after: &["database", "packages"],
        run: vuln_step,
    },
    Step {
        name: "openstack",
        owns: &["os."],
        after: &[],
        run: openstack_step,
    },
    Step {
        name: "tls",
        owns: &["tls."],
        after: &["database", "tls_endpoints", "openstack"],
        run: tls_step,
    },
];

/// Every fact key pattern some step owns, sorted, without duplicates.
pub fn owned_patterns() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = STEPS.iter().flat_map(|s| s.owns.iter().copied()).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Whether `pattern` (an exact key, or a prefix ending in `.`) covers `key`.
pub fn covers(pattern: &str, key: &str) -> bool {
    if pattern.ends_with('.') {
        key.starts_with(pattern)
    } else {
        key == pattern
    }
}

/// The step owning `key` (the first in registry order), if any.
pub fn owner(key: &str) -> Option<&'static Step> {
    STEPS.iter().find(|s| s.owns.iter().any(|p| covers(p, key)))
}

fn properties_step(ctx: &StepContext) -> Facts {
    let mut out = Facts::new();
    let fp = ctx.opts.fingerprint_key.as_deref();
    let data: Vec<Option<properties::PropertiesData>> = properties::FILES
        .iter()
        .map(|(name, path)| properties::collect_file(&ctx.fs, name, path, fp, &mut out))
        .collect();
    ctx.handoff.put(PROPERTIES_DATA, data);
    out
}

fn database_step(ctx: &StepContext) -> Facts {
    let mut out = Facts::new();
    let data = ctx
        .handoff
        .get::<Vec<Option<properties::PropertiesData>>>(PROPERTIES_DATA);
    let file = |i: usize| {
        data.as_ref()
            .and_then(|d| d.get(i))
            .and_then(Option::as_ref)
    };
    let fp = ctx.opts.fingerprint_key.as_deref();
    database::run_all(&ctx.fs, &ctx.opts.db, file(0), file(1), fp, &mut out);
    out
}

fn files_step(ctx: &StepContext) -> Facts {
    let mut out = Facts::new();
    files::collect(&ctx.fs, &mut out, host::keystore_path(&ctx.facts));
    out
}

fn packages_step(ctx: &StepContext) -> Facts {
    let mut out = Facts::new();
    packages::collect(&ctx.fs, &mut out);
    out
}

fn host_state_step(ctx: &StepContext) -> Facts {
    let mut out = Facts::new();
    host::collect_state(&ctx.fs, ctx.opts.host_state, &mut out);
    out
}

fn vuln_step(ctx: &StepContext) -> Facts {
    // `vuln::annotate` reads the facts it is given and adds its own: keep only those.
    let mut all = ctx.facts.clone();
    crate::vuln::annotate(&mut all, &ctx.opts.advisories, super::now_unix());
    owned_part(all, &["vuln."])
}

fn tls_endpoints_step(ctx: &StepContext) -> Facts {
    let probes = tls::probe_explicit(&super::tls_options(&ctx.opts));
    ctx.handoff.put(TLS_EXPLICIT, probes);
    Facts::new()
}

fn openstack_step(ctx: &StepContext) -> Facts {
    let mut facts = Facts::new();
    super::openstack::collect(&ctx.fs, &mut facts);
    facts
}

fn tls_step(ctx: &StepContext) -> Facts {
    let mut opts = super::tls_options(&ctx.opts);
    if opts.probe_deployment {
        // The OpenStack API endpoints the services' configuration names: probed with the
        // `--endpoint`s (probed again here, as they were probed before these were known).
        let os: Vec<_> = super::openstack::tls_endpoints(&ctx.facts)
            .into_iter()
            .filter(|e| !opts.endpoints.iter().any(|x| x.label == e.label))
            .collect();
        if !os.is_empty() {
            opts.endpoints.extend(os);
            return tls::collect(&opts, &ctx.facts);
        }
    }
    match ctx.handoff.get::<tls::ExplicitProbes>(TLS_EXPLICIT) {
        Some(probes) => tls::collect_with(&opts, &ctx.facts, &probes),
        None => tls::collect(&opts, &ctx.facts),
    }
}

/// The facts, namespaces and sources of `all` under `owns`.
fn owned_part(all: Facts, owns: &[&str]) -> Facts {
    let mut out = Facts::new();
    let mine = |k: &str| owns.iter().any(|p| covers(p, k));
    out.facts = all.facts.into_iter().filter(|(k, _)| mine(k)).collect();
    out.namespaces = all
        .namespaces
        .into_iter()
        .filter(|(k, _)| mine(k))
        .collect();
    out
}

/// Marks what `step` owns as missing for `why`, where no other step recorded it.
fn mark_owned(facts: &mut Facts, step: &Step, why: &Missing) {
    let source = format!("step:{}", step.name);
    for p in step.owns {
        if p.ends_with('.') {
            if !facts.namespaces.contains_key(*p) {
                facts.namespace_missing(p, &source, why.reason, why.detail.clone());
            }
        } else if !facts.facts.contains_key(*p) {
            facts.insert(*p, Fact::from_missing(&source, why.clone()));
        }
    }
    facts.source(
        &source,
        SourceStatus::failed("step", step.name, why.reason, why.detail.clone()),
    );
}

/// Where the progress line goes (`None`: nowhere).
pub type ProgressSink = Option<Box<dyn Write + Send>>;

/// The single progress line on stderr (see the module docs).
struct Progress {
    out: ProgressSink,
    shown: bool,
}

impl Progress {
    fn update(&mut self, running: &[(&str, Duration)]) {
        let Some(out) = self.out.as_mut() else { return };
        if !running.iter().any(|(_, d)| *d >= PROGRESS_AFTER) {
            return;
        }
        let names: Vec<String> = running
            .iter()
            .map(|(n, d)| format!("{n} {}s", d.as_secs()))
            .collect();
        let mut line = format!("stackposture: collecting: {}", names.join(", "));
        // Step names are ASCII: any byte is a character boundary.
        line.truncate(79);
        // Carriage return + erase line: one line, rewritten in place.
        let _ = write!(out, "\r\x1b[K{line}");
        let _ = out.flush();
        self.shown = true;
    }
    fn clear(&mut self) {
        if let (Some(out), true) = (self.out.as_mut(), self.shown) {
            let _ = write!(out, "\r\x1b[K");
            let _ = out.flush();
            self.shown = false;
        }
    }
}

enum State {
    Pending,
    Running(Instant),
    Done(Facts),
}

/// Runs `steps` (in registry order: each after the steps it lists) on top of `base` and
/// returns every fact, on time (see the module docs).
pub fn run(
    steps: &'static [Step],
    base: Facts,
    opts: &CollectOptions,
    progress: ProgressSink,
) -> Facts {
    let start = Instant::now();
    let deadline = start + opts.deadline;
    let opts = Arc::new(opts.clone());
    let fs = RootFs::new(&opts.root);
    let handoff = Arc::new(Handoff::default());
    let mut progress = Progress {
        out: progress,
        shown: false,
    };
    let mut state: Vec<State> = steps.iter().map(|_| State::Pending).collect();
    let (tx, rx) = mpsc::channel::<(usize, Facts)>();
    loop {
        for i in ready(steps, &state) {
            let ctx = StepContext {
                fs: fs.clone(),
                opts: Arc::clone(&opts),
                facts: facts_before(steps, &state, i, &base),
                handoff: Arc::clone(&handoff),
            };
            state[i] = State::Running(Instant::now());
            spawn(&steps[i], i, ctx, tx.clone());
        }
        let running: Vec<(&str, Duration)> = steps
            .iter()
            .zip(&state)
            .filter_map(|(s, st)| match st {
                State::Running(t) => Some((s.name, t.elapsed())),
                _ => None,
            })
            .collect();
        if running.is_empty() {
            break;
        }
        progress.update(&running);
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        let tick = (deadline - now).min(Duration::from_millis(250));
        if let Ok((i, f)) = rx.recv_timeout(tick) {
            state[i] = State::Done(f);
        }
    }
    progress.clear();
    finish(steps, state, base, opts.deadline)
}

/// The pending steps whose `after` steps are all done.
fn ready(steps: &[Step], state: &[State]) -> Vec<usize> {
    let done = |name: &str| {
        steps
            .iter()
            .zip(state)
            .any(|(s, st)| s.name == name && matches!(st, State::Done(_)))
    };
    (0..steps.len())
        .filter(|&i| matches!(state[i], State::Pending) && steps[i].after.iter().all(|a| done(a)))
        .collect()
}

/// `base` plus the facts of every step `i` runs after, directly or not, in registry order.
fn facts_before(steps: &[Step], state: &[State], i: usize, base: &Facts) -> Facts {
    let mut needed = vec![false; steps.len()];
    let mut stack = vec![i];
    while let Some(j) = stack.pop() {
        for a in steps[j].after {
            if let Some(k) = steps.iter().position(|s| s.name == *a) {
                if !needed[k] {
                    needed[k] = true;
                    stack.push(k);
                }
            }
        }
    }
    let mut facts = base.clone();
    for (k, st) in state.iter().enumerate() {
        if let (true, State::Done(f)) = (needed[k], st) {
            facts.merge(f.clone());
        }
    }
    facts
}

/// Runs one step on its own thread (inline if no thread can be started); a panic in a
/// collector becomes an `error` for what the step owns instead of a lost step.
fn spawn(step: &'static Step, i: usize, ctx: StepContext, tx: mpsc::Sender<(usize, Facts)>) {
    let job = move || {
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (step.run)(&ctx)))
            .unwrap_or_else(|_| {
                let mut f = Facts::new();
                let why = format!("collector step `{}` failed unexpectedly (a bug)", step.name);
                mark_owned(&mut f, step, &Missing::error(why));
                f
            });
        let _ = tx.send((i, out));
    };
    let job = Arc::new(Mutex::new(Some(job)));
    let j2 = Arc::clone(&job);
    let spawned = std::thread::Builder::new()
        .name(format!("collect-{}", step.name))
        .spawn(move || {
            if let Some(f) = j2.lock().ok().and_then(|mut g| g.take()) {
                f();
            }
        });
    if spawned.is_err() {
        if let Some(f) = job.lock().ok().and_then(|mut g| g.take()) {
            f();
        }
    }
}

/// Merges the finished steps in registry order and marks the others as cut off.
fn finish(steps: &[Step], state: Vec<State>, base: Facts, deadline: Duration) -> Facts {
    let mut facts = base;
    let mut late = Vec::new();
    for (i, st) in state.into_iter().enumerate() {
        match st {
            State::Done(f) => facts.merge(f),
            State::Running(_) => late.push((i, true)),
            State::Pending => late.push((i, false)),
        }
    }
    let secs = deadline.as_secs_f64();
    for (i, running) in late {
        let step = &steps[i];
        let detail = if running {
            format!(
                "collection deadline ({secs}s, --deadline) reached while step `{}` was still running",
                step.name
            )
        } else {
            format!(
                "collection deadline ({secs}s, --deadline) reached before step `{}` could start (it runs after {})",
                step.name,
                step.after.join(", ")
            )
        };
        mark_owned(&mut facts, step, &Missing::timeout(detail));
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn registry_is_well_formed() {
        for (i, s) in STEPS.iter().enumerate() {
            assert!(s.name.is_ascii() && !s.name.is_empty(), "{}", s.name);
            assert!(
                STEPS[i + 1..].iter().all(|o| o.name != s.name),
                "duplicate step {}",
                s.name
            );
            for a in s.after {
                assert!(
                    STEPS[..i].iter().any(|o| o.name == *a),
                    "{} runs after {a}, which is not an earlier step",
                    s.name
                );
            }
            for p in s.owns {
                assert!(!p.is_empty() && !p.starts_with('.'), "{}: {p:?}", s.name);
                assert!(!p.contains('*') && !p.contains(' '), "{}: {p:?}", s.name);
            }
        }
        let pats = owned_patterns();
        assert!(pats.contains(&"cs.") && pats.contains(&"tls.") && pats.contains(&"vuln."));
        assert!(
            pats.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicates"
        );
        assert!(covers("cs.", "cs.setting.x") && !covers("cs.", "css.x"));
        assert!(covers("a.b", "a.b") && !covers("a.b", "a.bc"));
        assert_eq!(owner("tls.summary.protocols").map(|s| s.name), Some("tls"));
        assert!(owner("nothing.owns.this").is_none());
    }

    fn opts(deadline_ms: u64) -> CollectOptions {
        CollectOptions {
            root: std::env::temp_dir(),
            deadline: Duration::from_millis(deadline_ms),
            ..CollectOptions::default()
        }
    }

    fn sleeper(ms: u64, key: &str) -> Facts {
        std::thread::sleep(Duration::from_millis(ms));
        let mut f = Facts::new();
        f.set(key, "test", true);
        f
    }
    fn slow_a(_: &StepContext) -> Facts {
        sleeper(600, "a.done")
    }
    fn slow_b(_: &StepContext) -> Facts {
        sleeper(600, "b.done")
    }
    /// Sees `a.done` only because it runs after `a`.
    fn after_a(ctx: &StepContext) -> Facts {
        let mut f = Facts::new();
        let seen = ctx.facts.get("a.done").is_some_and(|x| x.value.is_some());
        let b_seen = ctx.facts.get("b.done").is_some();
        f.set("c.saw", "test", json!([seen, b_seen]));
        f
    }
    fn hung(_: &StepContext) -> Facts {
        sleeper(5_000, "hung.done")
    }
    fn boom(_: &StepContext) -> Facts {
        panic!("collector bug")
    }
    fn tick(_: &StepContext) -> Facts {
        sleeper(1_300, "slow.done")
    }

    static PARALLEL: &[Step] = &[
        Step {
            name: "a",
            owns: &["a."],
            after: &[],
            run: slow_a,
        },
        Step {
            name: "b",
            owns: &["b."],
            after: &[],
            run: slow_b,
        },
        Step {
            name: "c",
            owns: &["c."],
            after: &["a"],
            run: after_a,
        },
    ];

    #[test]
    fn independent_steps_run_concurrently_and_see_only_their_dependencies() {
        let t0 = Instant::now();
        let f = run(PARALLEL, Facts::new(), &opts(30_000), None);
        let took = t0.elapsed();
        // Sequentially: 1.2 s; concurrently: 0.6 s (plus scheduling).
        assert!(took < Duration::from_millis(1_100), "took {took:?}");
        assert_eq!(f.facts["a.done"].value, Some(json!(true)));
        assert_eq!(f.facts["b.done"].value, Some(json!(true)));
        // c ran after a and was given a's facts, never b's (not a dependency).
        assert_eq!(f.facts["c.saw"].value, Some(json!([true, false])));
    }

    static HUNG: &[Step] = &[
        Step {
            name: "quick",
            owns: &["q.", "q.exact"],
            after: &[],
            run: after_a,
        },
        Step {
            name: "stuck",
            owns: &["s.", "s.exact"],
            after: &[],
            run: hung,
        },
        Step {
            name: "later",
            owns: &["l."],
            after: &["stuck"],
            run: after_a,
        },
    ];

    #[test]
    fn the_deadline_cuts_off_what_is_still_running_and_names_it() {
        let t0 = Instant::now();
        let f = run(HUNG, Facts::new(), &opts(400), None);
        let took = t0.elapsed();
        assert!(took < Duration::from_millis(1_500), "took {took:?}");
        let m = f.get("s.anything").unwrap().missing.clone().unwrap();
        assert_eq!(m.reason, crate::facts::MissingReason::Timeout);
        assert!(
            m.detail.contains("0.4s") && m.detail.contains("`stuck`"),
            "{m}"
        );
        let m = f.facts["s.exact"].missing.clone().unwrap();
        assert_eq!(m.reason, crate::facts::MissingReason::Timeout);
        let m = f.get("l.x").unwrap().missing.clone().unwrap();
        assert!(m.detail.contains("`later` could start") && m.detail.contains("stuck"));
        assert_eq!(f.sources["step:stuck"].status, "timeout");
        // The quick step's facts are kept.
        assert!(f.facts["c.saw"].value.is_some());
        assert!(!f.facts.contains_key("hung.done"));
    }

    static PANICS: &[Step] = &[Step {
        name: "boom",
        owns: &["boom."],
        after: &[],
        run: boom,
    }];

    #[test]
    fn a_panicking_step_is_an_error_not_a_wait_for_the_deadline() {
        let t0 = Instant::now();
        let f = run(PANICS, Facts::new(), &opts(30_000), None);
        assert!(t0.elapsed() < Duration::from_secs(5));
        let m = f.get("boom.x").unwrap().missing.clone().unwrap();
        assert_eq!(m.reason, crate::facts::MissingReason::Error);
        assert!(m.detail.contains("`boom`"), "{m}");
    }

    /// A `Write` whose bytes the test can read afterwards.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);
    impl Write for Captured {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    static SLOW: &[Step] = &[Step {
        name: "slowpoke",
        owns: &["slow."],
        after: &[],
        run: tick,
    }];

    #[test]
    fn progress_line_only_while_a_step_is_slow_and_cleared_after() {
        let cap = Captured::default();
        run(
            SLOW,
            Facts::new(),
            &opts(30_000),
            Some(Box::new(cap.clone())),
        );
        let out = String::from_utf8(cap.0.lock().unwrap().clone()).unwrap();
        assert!(
            out.starts_with("\r\x1b[Kstackposture: collecting: slowpoke 1s"),
            "{out:?}"
        );
        assert!(out.ends_with("\r\x1b[K"), "cleared: {out:?}");
        assert!(!out.contains('\n'), "one line, rewritten in place: {out:?}");

        let cap = Captured::default();
        run(
            PARALLEL,
            Facts::new(),
            &opts(30_000),
            Some(Box::new(cap.clone())),
        );
        assert!(
            cap.0.lock().unwrap().is_empty(),
            "nothing for steps under 1 s"
        );
    }
}
