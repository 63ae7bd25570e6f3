//! Records generated from `jute/*.jute` by `build.rs`.
//!
//! Modules mirror the Jute modules: `data` (Stat, ACL, Id), `proto` (client
//! requests and responses), `txn` (transaction bodies, as logged), `quorum`
//! (peer packets) and `persistence` (file headers).

include!(concat!(env!("OUT_DIR"), "/jute_records.rs"));
