//! The hostile-input suite: one module per untrusted source (the audited tree, the DB
//! server, TLS peers, and the files the operator names).

#[path = "../common/mod.rs"]
mod common;

mod operator;
