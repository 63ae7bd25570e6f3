//! Transcript tests: scenario files in `testdata/` that feed inputs to one
//! [`Peer`] and list the exact [`Output`]s each input must produce, in the
//! manner of etcd-io/raft's data-driven tests.
//!
//! A transcript shows a whole exchange (what the leader sent, what we
//! wrote to disk, what we answered) in the order the driver performs it,
//! so a reviewer can check it against ZooKeeper's `Learner.syncWithLeader`
//! and `LearnerHandler.syncFollower` line by line; a unit test asserting
//! one field would not show what else happened.
//!
//! Grammar, one item a line:
//!
//! ```text
//! # comment                 kept as is
//! peer id=2 voters=1,2,3 [observers=4] [accepted=1] [current=1]
//!      [log=0x100000001..0x100000003,0x200000001..0x200000002]
//!      [last=ZXID] [commit-log=500]       a fresh peer, LOOKING; its
//!      [now=MS]                           start-up outputs are dropped
//! > INPUT [now=MS]                        fed to the peer (time in ms, it
//!                                         never goes back; default: as before)
//! < OUTPUT                                one rendered output of that input
//! ```
//!
//! Inputs: `elect leader=N` (election notifications that make N the leader:
//! LEADING/FOLLOWING from the others, or, for ourselves, LOOKING votes and
//! a tick after `finalizeWait`; the notifications we send are not shown),
//! `connected to=N link=L`, `accepted link=L`, `packet link=L NAME k=v..`,
//! `link-closed link=L`, `persisted zxid=Z`, `tick`, `propose zxid=Z [txn=]`,
//! `learner-ping [data=]`, `revalidate data=`, `notify from=N leader=L
//! zxid=Z round=R state=looking|follower|leader epoch=E` (an election
//! notification), `step-down` (a graceful shutdown; it also renders
//! `quiescent=` before stepping down), and `show` (renders the peer's
//! observable state as a `state ...` line).
//!
//! Packets and outputs share one rendering ([`text::packet`], [`output`]);
//! bytes are text when printable (`txn=1.4`), else `hex:..`. A txn left
//! out defaults to `EPOCH.COUNTER` of its zxid, as log entries do.
//!
//! Each file is one test. The interpreter rebuilds the file with the
//! actual outputs in place of the `<` lines; the test fails, printing both
//! versions, unless they are equal. `ZAB_TRANSCRIPT_REWRITE=1` writes the
//! actual version back instead: review its diff before committing it.

use std::fmt::Write as _;
use std::path::PathBuf;

use bytes::Bytes;

use super::election::ElectionTiming;
use super::peer::{Config, DurableState, Output, Peer};
use super::quorum::{Ensemble, Member};
use super::types::{Entry, Notification, ServerState, Sid, Zxid};

mod text;

use text::{default_txn, num, output, parse_packet, Args, R};

/// `1,2,3` to ids.
fn ids(s: Option<&str>) -> R<Vec<Sid>> {
    s.map_or(Ok(vec![]), |s| s.split(',').map(num).collect())
}

/// `peer ...`: a fresh peer at time `now`, its start-up outputs dropped.
fn new_peer(a: &Args, now: u64) -> R<Peer> {
    let me = a.num("id")?;
    let voters = ids(a.opt("voters"))?;
    let observers = ids(a.opt("observers"))?;
    let mut recent = Vec::new();
    for range in a.opt("log").unwrap_or("").split(',') {
        if range.is_empty() {
            continue;
        }
        let (from, to) = range.split_once("..").unwrap_or((range, range));
        let (from, to) = (Zxid(num(from)? as i64), Zxid(num(to)? as i64));
        if from.epoch() != to.epoch()
            || from > to
            || recent.last().is_some_and(|e: &Entry| e.zxid >= from)
        {
            return Err(format!(
                "log range {range:?} is not ascending within one epoch"
            ));
        }
        let mut z = from;
        while z <= to {
            recent.push(Entry {
                zxid: z,
                txn: default_txn(z),
            });
            z = z.next();
        }
    }
    let logged = recent.last().map_or(Zxid::ZERO, |e| e.zxid);
    let last = Zxid(a.num_or("last", logged.0 as u64)? as i64);
    if !recent.is_empty() && last != logged {
        return Err(format!("last={last} but the log ends at {logged}"));
    }
    let cfg = Config {
        me,
        ensemble: Ensemble::new(
            voters
                .iter()
                .map(|s| (*s, Member::Participant))
                .chain(observers.iter().map(|s| (*s, Member::Observer))),
        ),
        tick_ms: 100,
        init_limit: 10,
        sync_limit: 5,
        election: ElectionTiming::default(),
        commit_log_count: a.num_or("commit-log", 500)? as usize,
        config_text: Bytes::new(),
    };
    let disk = DurableState {
        accepted_epoch: a.num_or("accepted", 0)? as u32,
        current_epoch: a.num_or("current", 0)? as u32,
        last_zxid: last,
        recent,
    };
    let mut p = Peer::new(cfg, disk, now);
    p.take_outputs();
    Ok(p)
}

/// `elect leader=N`: the notifications that end our first election with
/// N as leader (see the module doc).
fn elect(p: &mut Peer, voters: &[Sid], leader: Sid, now: &mut u64) -> Vec<Output> {
    let me = p.id();
    let note = |leader, state| Notification {
        leader,
        zxid: p.last_logged(),
        round: 1,
        state,
        peer_epoch: p.current_epoch() as i64,
        config: Bytes::new(),
    };
    let notes: Vec<(Sid, Notification)> = voters
        .iter()
        .filter(|v| **v != me)
        .map(|v| match (leader == me, *v == leader) {
            (true, _) => (*v, note(me, ServerState::Looking)),
            (false, true) => (*v, note(leader, ServerState::Leading)),
            (false, false) => (*v, note(leader, ServerState::Following)),
        })
        .collect();
    for (from, n) in notes {
        p.notification(*now, from, n);
    }
    if leader == me {
        *now += ElectionTiming::default().finalize_wait;
        p.tick(*now);
    }
    let mut out = p.take_outputs();
    out.retain(|o| !matches!(o, Output::Notify { .. }));
    out
}

/// The peer's outputs so far, rendered.
fn rendered(p: &mut Peer) -> Vec<String> {
    p.take_outputs().iter().map(output).collect()
}

/// Feeds one `>` line to the peer and returns what it output, rendered.
fn step(p: &mut Peer, voters: &[Sid], now: &mut u64, a: &Args) -> R<Vec<String>> {
    if let Some(t) = a.opt("now") {
        let t = num(t)?;
        if t < *now {
            return Err(format!("now={t} goes back from {}", *now));
        }
        *now = t;
    }
    let t = *now;
    let cmd = a.words.first().map_or("", |s| s.as_str());
    match cmd {
        "elect" => {
            return Ok(elect(p, voters, a.num("leader")?, now)
                .iter()
                .map(output)
                .collect())
        }
        "connected" => p.connected(t, a.num("to")?, a.link()?),
        "accepted" => p.accepted(t, a.link()?),
        "packet" => {
            let name = a.words.get(1).ok_or("packet needs a type")?;
            p.packet(t, a.link()?, parse_packet(name, a)?)
        }
        "link-closed" => p.link_closed(t, a.link()?),
        "persisted" => p.persisted(t, a.zxid("zxid")?),
        "tick" => p.tick(t),
        "propose" => {
            let zxid = a.zxid("zxid")?;
            let entry = Entry {
                zxid,
                txn: a.txn(zxid)?,
            };
            if let Err(e) = p.propose(t, entry) {
                return Err(format!("propose refused: {e:?}"));
            }
        }
        "learner-ping" => p.learner_ping(a.bytes_or("data", Bytes::new)?),
        "revalidate" => {
            if let Err(e) = p.revalidate(a.bytes_or("data", Bytes::new)?) {
                return Err(format!("revalidate refused: {e:?}"));
            }
        }
        "notify" => {
            let state = match a.get("state")? {
                "looking" => ServerState::Looking,
                "follower" => ServerState::Following,
                "leader" => ServerState::Leading,
                "observer" => ServerState::Observing,
                other => return Err(format!("unknown state {other:?}")),
            };
            let n = Notification {
                leader: a.num("leader")?,
                zxid: a.zxid("zxid")?,
                round: a.num("round")? as i64,
                state,
                peer_epoch: a.num("epoch")? as i64,
                config: Bytes::new(),
            };
            p.notification(t, a.num("from")?, n);
        }
        "step-down" => {
            let quiescent = format!("quiescent={}", p.quiescent());
            p.step_down(t);
            let mut lines = vec![quiescent];
            lines.extend(rendered(p));
            return Ok(lines);
        }
        "show" => {
            let mut lines = rendered(p);
            lines.push(format!(
                "state role={} serving={} accepted={} current={} logged={} applied={}",
                p.state().role_name(),
                p.is_serving(),
                p.accepted_epoch(),
                p.current_epoch(),
                p.last_logged(),
                p.last_applied()
            ));
            return Ok(lines);
        }
        other => return Err(format!("unknown input {other:?}")),
    }
    Ok(rendered(p))
}

/// Interprets a scenario and returns it with the actual outputs.
fn interpret(name: &str, text: &str) -> String {
    let mut actual = String::new();
    let mut peer: Option<(Peer, Vec<Sid>)> = None;
    let mut now = 0;
    for (i, line) in text.lines().enumerate() {
        let fail = |e: String| -> ! { panic!("{name}:{}: {e}\n  {line}", i + 1) };
        let t = line.trim_start();
        if t.starts_with('<') {
            continue;
        }
        actual.push_str(line);
        actual.push('\n');
        if let Some(rest) = t.strip_prefix("peer ") {
            let a = Args::parse(rest);
            now = a.num_or("now", 0).unwrap_or_else(|e| fail(e));
            let p = new_peer(&a, now).unwrap_or_else(|e| fail(e));
            let voters = ids(a.opt("voters")).unwrap_or_else(|e| fail(e));
            a.unused().unwrap_or_else(|e| fail(e));
            peer = Some((p, voters));
        } else if let Some(rest) = t.strip_prefix('>') {
            let Some((p, voters)) = peer.as_mut() else {
                fail("an input before any `peer` line".into())
            };
            let a = Args::parse(rest);
            let outs = step(p, voters, &mut now, &a)
                .and_then(|o| a.unused().map(|()| o))
                .unwrap_or_else(|e| fail(e));
            for o in outs {
                let _ = writeln!(actual, "< {o}");
            }
        } else if !(t.is_empty() || t.starts_with('#')) {
            fail("expected `#`, `peer`, `>` or `<`".into());
        }
    }
    actual
}

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/zab/testdata")
}

/// Runs `testdata/<name>.txt`; see the module doc.
fn run(name: &str) {
    let path = testdata().join(format!("{name}.txt"));
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let actual = interpret(name, &expected);
    if actual == expected {
        return;
    }
    if std::env::var_os("ZAB_TRANSCRIPT_REWRITE").is_some_and(|v| v == "1") {
        std::fs::write(&path, &actual)
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let line = expected
        .lines()
        .zip(actual.lines())
        .position(|(e, a)| e != a)
        .unwrap_or(expected.lines().count().min(actual.lines().count()));
    panic!(
        "{name}.txt: outputs differ from line {}\n\
         ----- expected -----\n{expected}----- actual -----\n{actual}--------------------\n\
         ZAB_TRANSCRIPT_REWRITE=1 rewrites the file; review its diff before keeping it",
        line + 1
    );
}

macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        $(#[test] fn $name() { run(stringify!($name)); })*
        const ALL: &[&str] = &[$(stringify!($name)),*];
    };
}

scenarios!(
    leader_sync_diff,
    leader_sync_divergent,
    leader_sync_new_epoch_zxid,
    leader_sync_returning_leader,
    leader_sync_snap,
    leader_sync_trunc,
    leader_step_down,
    leader_step_down_successor,
    leader_sync_up_to_date,
    learner_bad_broadcast_packets,
    learner_bad_sync_packets,
    learner_broadcast,
    learner_diff_sync,
    learner_epoch_checks,
    learner_leader_steps_down,
    learner_observer_inform,
    learner_observer_inform_before_newleader,
    learner_ping_sync_revalidate,
    learner_snap_link_lost,
    learner_snap_sync,
    learner_stepped_down,
    learner_trunc_beyond_log,
    learner_trunc_sync,
);

#[test]
fn every_scenario_file_has_a_test() {
    let dir = testdata();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        if let Some(stem) = file.strip_suffix(".txt") {
            assert!(
                ALL.contains(&stem),
                "testdata/{file} is not listed in scenarios!()"
            );
        }
    }
}
