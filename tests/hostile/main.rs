//! The hostile-input suite: every source the auditor reads, played by an attacker.
//! One module per source. Each case asserts the promise it breaks today: an exit code in
//! 0-3, a bounded time, and no check passing on a fact that was not observed.

mod tls;
