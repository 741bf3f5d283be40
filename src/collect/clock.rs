//! Whether the kernel clock is synchronised: `adjtimex(2)` in read-only mode (`modes = 0`),
//! no command. Signed API requests carry an `expires` time (signature version 3), so the
//! management server's clock must be right (threat model Q14, duty `time`).
//!
//! The kernel reports `TIME_ERROR` and sets `STA_UNSYNC` until a time daemon (chrony,
//! ntpd, systemd-timesyncd) disciplines the clock. Host state (see `collect::host`).
//!
//! Facts: `clock.synchronized` (bool), `clock.kernel` = `{state, unsync_flag,
//! max_error_us, est_error_us}`.

use crate::facts::{Facts, MissingReason, SourceStatus};
use serde_json::json;

/// What the kernel says about its clock discipline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelClock {
    pub state: i32,
    pub status: i32,
    pub max_error_us: i64,
    pub est_error_us: i64,
}

impl KernelClock {
    /// Synchronised: not `TIME_ERROR` and `STA_UNSYNC` clear.
    pub fn synchronized(&self) -> bool {
        self.state != libc::TIME_ERROR && self.status & libc::STA_UNSYNC == 0
    }
    pub fn state_name(&self) -> &'static str {
        match self.state {
            libc::TIME_OK => "TIME_OK",
            libc::TIME_INS => "TIME_INS",
            libc::TIME_DEL => "TIME_DEL",
            libc::TIME_OOP => "TIME_OOP",
            libc::TIME_WAIT => "TIME_WAIT",
            libc::TIME_ERROR => "TIME_ERROR",
            _ => "unknown",
        }
    }
}

/// Reads the kernel clock state without changing it.
pub fn read() -> std::io::Result<KernelClock> {
    // SAFETY: `timex` is plain old data, so all-zero is a valid value; `modes = 0` makes
    // adjtimex read-only (it changes nothing and needs no privilege). The kernel writes
    // only inside the struct we pass, which lives for the whole call.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    tx.modes = 0;
    let state = unsafe { libc::adjtimex(&mut tx) };
    if state < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(KernelClock {
        state,
        status: tx.status,
        max_error_us: tx.maxerror as i64,
        est_error_us: tx.esterror as i64,
    })
}

pub fn collect(facts: &mut Facts) {
    match read() {
        Ok(k) => {
            facts.source("clock", SourceStatus::ok("kernel", "adjtimex(2)"));
            let s = "kernel:adjtimex";
            facts.set("clock.synchronized", s, k.synchronized());
            facts.set(
                "clock.kernel",
                s,
                json!({
                    "state": k.state_name(),
                    "unsync_flag": k.status & libc::STA_UNSYNC != 0,
                    "max_error_us": k.max_error_us,
                    "est_error_us": k.est_error_us,
                }),
            );
        }
        Err(e) => {
            let d = format!("adjtimex: {e}");
            facts.source(
                "clock",
                SourceStatus::failed("kernel", "adjtimex(2)", MissingReason::Error, &d),
            );
            facts.namespace_missing("clock.", "clock", MissingReason::Error, d);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_real_kernel_clock_and_agrees_with_its_flags() {
        let k = super::read().expect("adjtimex with modes=0 needs no privilege");
        // The decision must follow the kernel's own two indicators.
        let expect = k.state != libc::TIME_ERROR && k.status & libc::STA_UNSYNC == 0;
        assert_eq!(k.synchronized(), expect);
        assert_ne!(k.state_name(), "unknown");
    }
}
