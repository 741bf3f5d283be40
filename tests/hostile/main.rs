//! Hostile-input suite: one module per untrusted source (the audited tree, the database
//! server, TLS peers, operator files).

#[path = "../common/mod.rs"]
mod common;

mod tree;
