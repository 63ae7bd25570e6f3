//! Differential tests of watch registration and delivery, against Apache
//! ZooKeeper 3.8 (Debian's 3.8.0 with the CVE-2024-23944 fix) and ferrozk:
//!
//! - how a second registration on the same path and session changes the
//!   first (addWatch replaces the mode in both watch tables; a one-shot
//!   watch downgrades a persistent one in its table only), and what
//!   checkWatches/removeWatches of each type then find;
//! - that an event reaches a watcher only if the watcher's connection may
//!   READ the node the event names (the node's ACL at the time of the
//!   change, the parent's for NodeChildrenChanged), for every kind of watch.
//!
//! The harness is tests/common/script.rs: the transcripts (replies, zxids
//! and notifications of every session, in order) must be identical.

mod common;

use common::script::*;
use ferrozk::proto::records::proto::*;
use ferrozk::proto::Request;
use ferrozk::tree::acl::generate_digest;

use Step::Send as S;

/// AddWatchMode values on the wire.
const PERSISTENT: i32 = 0;
const RECURSIVE: i32 = 1;
/// WatcherType values of checkWatches/removeWatches.
const CHILDREN: i32 = 1;
const DATA: i32 = 2;
const ANY: i32 = 3;

/// Session 0 registers, session 1 changes the tree; each case ends with
/// the changes that tell which registrations survived, in which mode.
#[test]
fn a_second_registration_replaces_or_downgrades_the_first() {
    let mut steps = vec![];
    // Persistent, then recursive: one recursive watch; no
    // NodeChildrenChanged for /p any more.
    steps.extend([
        S(1, mk("/p")),
        S(0, add_watch("/p", PERSISTENT)),
        S(0, add_watch("/p", RECURSIVE)),
        S(1, mk("/p/c")),
        S(1, set("/p/c", "x", -1)),
        S(1, set("/p", "x", -1)),
        S(1, delete("/p/c", -1)),
    ]);
    // Recursive, then persistent: back to a plain persistent watch.
    steps.extend([
        S(1, mk("/q")),
        S(0, add_watch("/q", RECURSIVE)),
        S(0, add_watch("/q", PERSISTENT)),
        S(1, mk("/q/c")),
        S(1, set("/q/c", "x", -1)),
        S(1, set("/q", "x", -1)),
        S(1, delete("/q/c", -1)),
    ]);
    // One-shot data and child watches, then persistent: the persistent
    // watch takes over both tables and stays.
    steps.extend([
        S(1, mk("/r")),
        S(0, get("/r", true)),
        S(0, children("/r", true, false)),
        S(0, add_watch("/r", PERSISTENT)),
        S(1, set("/r", "1", -1)),
        S(1, set("/r", "2", -1)),
        S(1, mk("/r/c")),
        S(1, mk("/r/d")),
    ]);
    // One-shot child watch, then recursive: the child table's entry is
    // recursive now, which never fires NodeChildrenChanged.
    steps.extend([
        S(1, mk("/s")),
        S(0, children("/s", true, false)),
        S(0, add_watch("/s", RECURSIVE)),
        S(1, mk("/s/c")),
        S(1, set("/s", "1", -1)),
    ]);
    // Persistent, then a one-shot getData watch: the data table's entry is
    // one-shot now, the child table's stays persistent.
    steps.extend([
        S(1, mk("/t")),
        S(0, add_watch("/t", PERSISTENT)),
        S(0, get("/t", true)),
        S(1, set("/t", "1", -1)),
        S(1, set("/t", "2", -1)),
        S(1, mk("/t/c")),
        S(1, mk("/t/d")),
    ]);
    // Persistent, then a one-shot getChildren watch: the other way round.
    steps.extend([
        S(1, mk("/u")),
        S(0, add_watch("/u", PERSISTENT)),
        S(0, children("/u", true, false)),
        S(1, mk("/u/c")),
        S(1, mk("/u/d")),
        S(1, set("/u", "1", -1)),
        S(1, set("/u", "2", -1)),
    ]);
    // Recursive, then an exists watch on the same path.
    steps.extend([
        S(0, add_watch("/v", RECURSIVE)),
        S(0, exists("/v", true)),
        S(1, mk("/v")),
        S(1, mk("/v/c")),
        S(1, set("/v", "1", -1)),
    ]);
    compare("watch mode replacement", 2, &[], steps);
}

/// checkWatches and removeWatches of each type against persistent and
/// recursive watches (and how a removal in one table leaves the other).
#[test]
fn check_and_remove_watches_of_each_type_on_persistent_watches() {
    let mut steps = vec![S(1, mk("/a")), S(1, mk("/b")), S(1, mk("/c"))];
    for (path, mode) in [("/a", PERSISTENT), ("/b", RECURSIVE)] {
        steps.extend([
            S(0, add_watch(path, mode)),
            S(0, check_watches(path, CHILDREN)),
            S(0, check_watches(path, DATA)),
            S(0, check_watches(path, ANY)),
            S(0, remove_watches(path, CHILDREN)),
            S(0, check_watches(path, CHILDREN)),
            S(0, check_watches(path, DATA)),
            S(1, mk(&format!("{path}/k"))),
            S(1, set(path, "1", -1)),
            S(0, remove_watches(path, CHILDREN)),
            S(0, remove_watches(path, DATA)),
            S(0, check_watches(path, ANY)),
            S(1, set(path, "2", -1)),
            S(0, add_watch(path, mode)),
            S(0, remove_watches(path, ANY)),
            S(0, check_watches(path, ANY)),
            S(0, remove_watches(path, ANY)),
            S(1, set(path, "3", -1)),
        ]);
    }
    // A child of a recursively watched path has no watch of its own.
    steps.extend([
        S(0, add_watch("/c", RECURSIVE)),
        S(0, check_watches("/c/x", DATA)),
        S(0, remove_watches("/c/x", ANY)),
        S(1, remove_watches("/c", ANY)),
    ]);
    compare("check/remove watches", 2, &[], steps);
}

/// A documented difference (docs/differences.md): Apache ZooKeeper 3.8's
/// checkWatches answers OK when *any* session watches the path
/// (WatchManager.containsWatcher looks at the path's watcher set, not for
/// this watcher in it; 3.9 fixed it). ferrozk answers for the asking
/// session only, as 3.9 does. Both halves are checked, so the
/// documentation stays true of the reference.
#[test]
fn check_watches_answers_for_the_asking_session_only() {
    let steps = vec![
        S(0, mk("/c")),
        S(0, add_watch("/c", RECURSIVE)),
        S(1, check_watches("/c", DATA)),
        S(1, check_watches("/c", CHILDREN)),
        S(0, check_watches("/c", DATA)),
    ];
    for kind in common::kinds_under_test() {
        let server = common::TestServer::start(kind, &[]);
        let t = run(&server, 2, &steps);
        let err = |n: usize| {
            let line = t
                .iter()
                .find(|l| l.starts_with(&format!("#{n} ")))
                .expect("step answered");
            line.split("err=")
                .nth(1)
                .expect("has err")
                .split(' ')
                .next()
                .unwrap()
                .to_string()
        };
        let other_session = match kind {
            common::ServerKind::Apache => "0",
            common::ServerKind::Ferrozk => "-121",
        };
        assert_eq!(err(2), other_session, "{kind:?}: {t:#?}");
        assert_eq!(err(3), other_session, "{kind:?}: {t:#?}");
        assert_eq!(err(4), "0", "{kind:?}: {t:#?}");
    }
}

/// Events for nodes a watcher may not READ are not delivered to it
/// (CVE-2024-23944), for every kind of watch; super sees everything.
/// Session 0 is `u1`, session 1 is anonymous, session 2 is super.
#[test]
fn events_are_delivered_only_to_watchers_that_may_read_the_node() {
    let mine = || vec![acl(31, "auth", "")];
    let steps = vec![
        S(0, auth("u1:p1")),
        S(2, auth("super:secret")),
        S(0, mk("/open")),
        // Recursive watch on an open parent: the private child's name,
        // data changes and deletion must not reach the anonymous session;
        // the parent's child list is open, so persistent watchers of it
        // see NodeChildrenChanged.
        S(1, add_watch("/open", RECURSIVE)),
        S(2, add_watch("/open", RECURSIVE)),
        S(0, add_watch("/open", RECURSIVE)),
        S(1, add_watch("/", PERSISTENT)),
        S(1, children("/open", true, false)),
        S(0, create("/open/secret", data("s"), mine(), 0)),
        S(0, set("/open/secret", "t", -1)),
        S(0, mk("/open/public")),
        S(0, create("/open/secret/inner", data("s"), open(), 0)),
        S(0, delete("/open/secret/inner", -1)),
        S(0, delete("/open/secret", -1)),
        // One-shot exists watch on a node not yet created with a private
        // ACL: the watch is used up without an event.
        S(1, exists("/open/later", true)),
        S(0, create("/open/later", data("l"), mine(), 0)),
        S(0, delete("/open/later", -1)),
        S(0, create("/open/later", data("l"), open(), 0)),
        // exists() on a private node works (3.8.0 checks no ACL there)
        // and sets a watch whose events are filtered.
        S(0, create("/priv", data("p"), mine(), 0)),
        S(1, exists("/priv", true)),
        S(2, exists("/priv", true)),
        S(0, set("/priv", "q", -1)),
        S(1, exists("/priv", true)),
        S(0, delete("/priv", -1)),
        // getData/getChildren watches set while the node was open; the ACL
        // changes before the event: the ACL at the change decides.
        S(0, mk("/was-open")),
        S(1, get("/was-open", true)),
        S(1, children("/was-open", true, false)),
        S(
            0,
            Request::SetAcl(SetACLRequest {
                path: "/was-open".into(),
                acl: mine(),
                version: -1,
            }),
        ),
        S(0, mk("/was-open/child")),
        S(0, set("/was-open", "x", -1)),
        // A persistent watch on a private node (addWatch checks no ACL in
        // 3.8.0): nothing arrives.
        S(0, create("/pp", data("p"), mine(), 0)),
        S(1, add_watch("/pp", PERSISTENT)),
        S(0, set("/pp", "1", -1)),
        S(0, mk("/pp/c")),
        S(0, delete("/pp/c", -1)),
        S(0, delete("/pp", -1)),
        // An ACL that grants READ to this session's digest id: delivered.
        S(1, auth("u2:p2")),
        S(
            0,
            create(
                "/open/shared",
                data("s"),
                vec![
                    acl(31, "digest", &generate_digest("u1:p1")),
                    acl(1, "digest", &generate_digest("u2:p2")),
                ],
                0,
            ),
        ),
        S(0, set("/open/shared", "2", -1)),
        // Write-only for others: no READ, no event.
        S(
            0,
            create(
                "/open/wo",
                data("w"),
                vec![
                    acl(31, "digest", &generate_digest("u1:p1")),
                    acl(2, "world", "anyone"),
                ],
                0,
            ),
        ),
        S(1, set("/open/wo", "2", -1)),
    ];
    let digest = generate_digest("super:secret");
    compare(
        "watch acl",
        3,
        &[("DigestAuthenticationProvider.superDigest", &digest)],
        steps,
    );
}

/// The events of a session's own ephemerals, deleted when another session
/// closes, are filtered by their ACLs too.
#[test]
fn events_of_closed_sessions_ephemerals_are_filtered_by_acl() {
    let steps = vec![
        S(0, auth("u1:p1")),
        S(2, mk("/e")),
        S(1, add_watch("/e", RECURSIVE)),
        S(
            0,
            create("/e/private", data("p"), vec![acl(31, "auth", "")], 1),
        ),
        S(0, create("/e/public", data("p"), open(), 1)),
        S(0, Request::CloseSession),
        S(1, children("/e", false, false)),
    ];
    compare("watch acl on close", 3, &[], steps);
}
