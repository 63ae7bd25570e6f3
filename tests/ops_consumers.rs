//! Real monitoring consumers read ferrozk as they read Apache ZooKeeper.
//!
//! `zktop` (Debian's) polls `stat` and parses its header, its `Clients:`
//! lines (one `Session` each: `/ip:port[interest](k=v,...)`) and the
//! `Key: value` lines after them; a server whose answer it cannot parse is
//! shown as `Unavailable`. Its curses screen is drawn with cursor-motion
//! optimisations that no plain text match can read back, so the test runs
//! zktop's own parser — its `ZKServer` class, imported from the installed
//! module with zktop's command line — against each server holding the same
//! state (one session, two znodes), and prints what zktop's summary and
//! server lines would show.

mod common;

use std::process::Command;
use std::time::Duration;

use common::raw::Raw;
use common::{kinds_under_test, require_tool, run_with_timeout, ServerKind, TestServer};

/// What zktop made of one server, as the script prints it.
const ZKTOP_VIEW: &str = r#"
import sys
addr = sys.argv[1]
sys.argv = ["zktop", "--servers", addr, "-t", "5", "-l", ""]
import zktop
s = zktop.ZKServer(addr, 0)
if s.unavailable:
    print("unavailable")
    sys.exit(0)
print("version", s.version)
print("mode", s.mode)
print("nodecount", int(s.node_count))
print("zxid", zktop.strToLong(s.zxid, 16))
print("sessions", len(s.sessions))
print("outstanding", s.outstanding)
print("latency", s.min_latency, s.avg_latency, s.max_latency)
for c in s.sessions:
    print("client", c.host, c.interest_ops, c.queued, c.recved, c.sent)
"#;

/// zktop's view of `server`: `key value...` lines.
fn zktop_view(server: &TestServer) -> Vec<String> {
    let out = run_with_timeout(
        Command::new("/usr/bin/python3").args(["-c", ZKTOP_VIEW, &server.addr()]),
        Duration::from_secs(30),
    );
    assert!(out.success(), "zktop's parser: {}", out.describe());
    out.stdout.lines().map(str::to_owned).collect()
}

/// The value of `key` in a view.
fn field<'a>(view: &'a [String], key: &str) -> &'a str {
    view.iter()
        .find_map(|l| l.strip_prefix(key).and_then(|v| v.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no {key} in zktop's view: {view:?}"))
}

/// Reads `key` out of `srvr`'s `Key: value` lines.
fn srvr_value(srvr: &str, key: &str) -> String {
    srvr.lines()
        .find_map(|l| l.strip_prefix(key))
        .map(|v| v.trim_start_matches(':').trim().to_owned())
        .unwrap_or_else(|| panic!("no {key} in srvr:\n{srvr}"))
}

#[test]
fn zktop_parses_both_servers_alike() {
    require_tool("/usr/bin/zktop", &["--help"]);
    let mut views = Vec::new();
    for kind in kinds_under_test() {
        let server = TestServer::start(kind, &[]);
        let mut c = Raw::session(&server.addr());
        assert_eq!(c.create(1, "/zktop", b"x").err, 0);
        assert_eq!(c.create(2, "/zktop/child", b"y").err, 0);
        let view = zktop_view(&server);
        let name = kind.name();
        assert_ne!(view, ["unavailable"], "{name}: zktop could not parse stat");
        let srvr = server.four_letter("srvr");
        assert_eq!(field(&view, "version"), "3.8.0", "{name}");
        assert_eq!(field(&view, "mode"), "standalone", "{name}");
        assert_eq!(
            field(&view, "nodecount"),
            srvr_value(&srvr, "Node count"),
            "{name}"
        );
        let zxid = srvr_value(&srvr, "Zxid");
        let zxid = i64::from_str_radix(zxid.trim_start_matches("0x"), 16).unwrap();
        assert_eq!(field(&view, "zxid"), zxid.to_string(), "{name}");
        // Our session, and the connection zktop's own `stat` came on.
        assert_eq!(field(&view, "sessions"), "2", "{name}: {view:?}");
        views.push((kind, view));
    }
    // The same state reads the same on both, but for the clients' ports
    // and counters and the latencies.
    let comparable = |v: &[String]| -> Vec<String> {
        v.iter()
            .filter(|l| !l.starts_with("client ") && !l.starts_with("latency "))
            .cloned()
            .collect()
    };
    if let [(ServerKind::Apache, a), (ServerKind::Ferrozk, f)] = views.as_slice() {
        assert_eq!(
            comparable(a),
            comparable(f),
            "zktop's view: Apache vs ferrozk"
        );
    }
}
