//! The hostile-input suite: one module per source. Each case reproduces an attack
//! against real parts (the real MariaDB, fake servers written for the tests) and
//! asserts: exit code 0-3, bounded time and memory, no canary secret in any output, no
//! check passing on a fact that was not observed.

#[path = "../common/mod.rs"]
mod common;

mod db;
mod operator;
mod tls;
mod tree;
