//! The `## Ensemble (3 servers on loopback)` section of the page, from
//! [`EnsembleResults`]: the exact method, one table of ferrozk beside
//! Apache ZooKeeper (write throughput and latency, peak RSS of the members,
//! fail-over medians and maxima) and every fail-over round.

use std::fmt::Write as _;

use super::super::svg;
use super::ensemble::{EnsembleResults, MemberRss};
use super::failover::{Round, WRITERS};
use super::summary::{median, speed_rows};
use super::{CompareArgs, Plan};

const SERVERS: [&str; 2] = ["ferrozk", "apache"];

/// Median and maximum of one fail-over measure over a kind's rounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Spread {
    /// Rounds that produced the measure.
    pub n: usize,
    /// Rounds of the kind, whether or not they did.
    pub of: usize,
    /// Median of the measured rounds, ms (NaN if none).
    pub median: f64,
    /// Largest, ms (NaN if none).
    pub max: f64,
}

/// `pick` over the rounds of `server`.
pub fn spread(rounds: &[Round], server: &str, pick: impl Fn(&Round) -> Option<f64>) -> Spread {
    let of: Vec<&Round> = rounds.iter().filter(|r| r.server == server).collect();
    let v: Vec<f64> = of.iter().filter_map(|r| pick(r)).collect();
    Spread {
        n: v.len(),
        of: of.len(),
        median: median(v.clone()),
        max: v.iter().copied().fold(f64::NAN, f64::max),
    }
}

fn ms(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v >= 10_000.0 {
        format!("{:.1} s", v / 1000.0)
    } else {
        format!("{v:.0} ms")
    }
}

fn ratio(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.2}×")
    } else {
        "–".into()
    }
}

fn spread_cell(s: &Spread) -> String {
    if s.of == 0 {
        return "–".into();
    }
    let missing = if s.n < s.of {
        format!(", {} of {} rounds without", s.of - s.n, s.of)
    } else {
        String::new()
    };
    format!("{} / {}{missing}", ms(s.median), ms(s.max))
}

/// "70 MiB (leader 26, followers 22, 22)" for one kind's members.
fn rss_cell(rss: &[MemberRss], server: &str) -> (String, f64) {
    let mut of: Vec<&MemberRss> = rss.iter().filter(|r| r.server == server).collect();
    if of.is_empty() {
        return ("–".into(), f64::NAN);
    }
    of.sort_by_key(|r| (r.mode != "leader", r.sid));
    let mib = |kb: u64| kb as f64 / 1024.0;
    let total: u64 = of.iter().map(|r| r.vm_hwm_kb).sum();
    let parts: Vec<String> = of
        .iter()
        .map(|r| format!("{:.0}", mib(r.vm_hwm_kb)))
        .collect();
    let roles = if of[0].mode == "leader" {
        format!("leader {}, followers {}", parts[0], parts[1..].join(", "))
    } else {
        parts.join(", ")
    };
    (format!("{:.0} MiB ({roles})", mib(total)), total as f64)
}

/// The comparison table.
pub fn table(e: &EnsembleResults) -> String {
    let mut s = String::from("| | ferrozk | apache | ferrozk/apache |\n|---|---:|---:|---:|\n");
    let row = speed_rows(&e.runs).into_iter().next();
    let mut line = |what: &str, cells: [String; 2], r: String| {
        let _ = writeln!(s, "| {what} | {} | {} | {r} |", cells[0], cells[1]);
    };
    if let Some(w) = &row {
        let errors = if w.errors.iter().any(|e| *e > 0) {
            format!(" (failed: {} / {})", w.errors[0], w.errors[1])
        } else {
            String::new()
        };
        line(
            &format!("write throughput, ops/s{errors}"),
            w.throughput.map(svg::human),
            format!("**{}**", ratio(w.throughput_ratio)),
        );
        line(
            "write latency p50",
            w.p50.map(svg::human_us),
            ratio(w.p50_ratio),
        );
        line(
            "write latency p99",
            w.p99.map(svg::human_us),
            ratio(w.p99_ratio),
        );
    }
    let rss = SERVERS.map(|k| rss_cell(&e.peak_rss, k));
    line(
        "peak RSS of the members (VmHWM)",
        [rss[0].0.clone(), rss[1].0.clone()],
        ratio(rss[0].1 / rss[1].1),
    );
    type Pick = fn(&Round) -> Option<f64>;
    let measures: [(&str, Pick); 3] = [
        (
            "fail-over: kill -9 of the leader → first write acknowledged, median / max",
            |r| r.write_ms,
        ),
        (
            "fail-over: kill -9 of the leader → a survivor leads (`srvr`), median / max",
            |r| r.leader_ms,
        ),
        (
            "restart of the killed member → following again, median / max",
            |r| r.rejoin_ms,
        ),
    ];
    for (what, pick) in measures {
        let sp = SERVERS.map(|k| spread(&e.failover, k, pick));
        let r = ratio(sp[0].median / sp[1].median);
        let r = if what.contains("first write") {
            format!("**{r}**")
        } else {
            r
        };
        line(what, [spread_cell(&sp[0]), spread_cell(&sp[1])], r);
    }
    s
}

/// Every fail-over round.
pub fn rounds_table(rounds: &[Round]) -> String {
    let mut s = String::from(
        "| server | round | killed | new leader | leader after | first write after | rejoined after | writes before kill | failed writes |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let opt_ms = |v: Option<f64>| v.map_or("–".into(), ms);
    for r in rounds {
        let _ = writeln!(
            s,
            "| {} | {} | server.{} | {} | {} | {} | {} | {} | {} |",
            r.server,
            r.round + 1,
            r.killed_sid,
            r.new_leader_sid
                .map_or("–".into(), |sid| format!("server.{sid}")),
            opt_ms(r.leader_ms),
            opt_ms(r.write_ms),
            opt_ms(r.rejoin_ms),
            r.writes_before_kill,
            r.write_errors
        );
    }
    s
}

/// "6/5/5" per run of `server`.
fn connections(e: &EnsembleResults, server: &str) -> String {
    let runs: Vec<String> = e
        .connections
        .iter()
        .filter(|(s, _)| s == server)
        .map(|(_, c)| {
            let v: Vec<String> = c
                .iter()
                .map(|n| n.map_or("?".into(), |n| n.to_string()))
                .collect();
            v.join("/")
        })
        .collect();
    if runs.is_empty() {
        "–".into()
    } else {
        runs.join(", ")
    }
}

/// The whole section, heading included.
pub fn section(a: &CompareArgs, plan: &Plan, e: &EnsembleResults) -> String {
    let mut md = String::from("## Ensemble (3 servers on loopback)\n\n");
    if let Some(err) = &e.error {
        let _ = writeln!(
            md,
            "> **The ensemble phase stopped early:** {err}. What it measured before is below.\n"
        );
    }
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let _ = writeln!(
        md,
        "- Two ensembles of {n} members, one of each kind, run on this machine at the same time \
         ({six} processes on {cores} cores, plus the load generator). Every member has a fresh data \
         directory on the same disk, `myid` in it, and the zoo.cfg `tickTime={tick}`, `initLimit=10`, \
         `syncLimit=5`, `forceSync=yes`, `maxClientCnxns=0`, `4lw.commands.whitelist=*`, \
         `admin.enableServer=false` and `server.1..{n}=127.0.0.1:QUORUM:ELECTION`; Apache ZooKeeper \
         members run with `-Xmx{heap}`. Load starts once `srvr` shows one leader and {f} followers.\n\
         - Each ensemble first gets {sw} s of mixed load (30 % writes) through all members, so the JVMs are warm.\n\
         - Writes: the `write` workload (setData of 1 KiB on {keys} keys), {sessions} sessions × {depth} \
         outstanding, closed loop, on the connect string of all {n} members. Each session connects to a \
         member picked at random (the client shuffles the list, as ZooKeeper's clients do), so most writes \
         reach a follower, which forwards them to the leader; a write is acknowledged once a majority has \
         fsynced it. {wu} s warm-up and {d} s measured per run, {pairs} pair(s) alternating between the \
         kinds, the order flipping each pair; ratios are ferrozk/apache, the median of the per-pair ratios.\n\
         - Peak RSS: VmHWM of every member process after the write runs.\n\
         - Fail-over, {rounds} round(s) per kind, the kinds alternating: {writers} writer sessions on the \
         two followers' addresses write in a closed loop (setData of 64 bytes, one outstanding each) for \
         {steady} s, then the leader gets `kill -9`. *First write acknowledged* is the time from the kill \
         until the first acknowledgement of a write *sent* after the kill; it includes the client's \
         reconnect back-off (ferrozk's client library for both kinds: 50 ms, doubling up to 1 s). *A \
         survivor leads* is the time until a survivor's `srvr` says `Mode: leader` (polled every 10 ms). \
         Then the killed member restarts on its data, and the round ends when it follows again; every \
         round starts with all members up.\n",
        n = e.members,
        six = 2 * e.members,
        f = e.members.saturating_sub(1),
        tick = e.tick_ms,
        heap = a.java_heap,
        sw = plan.server_warmup,
        keys = plan.keys,
        sessions = a.sessions,
        depth = a.depth,
        wu = plan.warmup,
        d = plan.duration,
        pairs = plan.pairs,
        rounds = plan.failover_rounds,
        writers = WRITERS,
        steady = plan.failover_steady,
    );
    let _ = writeln!(md, "{}", table(e));
    if !e.failover.is_empty() {
        let _ = writeln!(
            md,
            "Every fail-over round:\n\n{}",
            rounds_table(&e.failover)
        );
    }
    let _ = writeln!(
        md,
        "Client connections per member in the middle of each write run (`srvr` `Connections:`, \
         server.1/2/3; Apache ZooKeeper counts the asking connection too): ferrozk {}; apache {}.\n",
        connections(e, "ferrozk"),
        connections(e, "apache")
    );
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::BenchResult;

    fn round(server: &str, write_ms: Option<f64>) -> Round {
        Round {
            server: server.into(),
            round: 0,
            killed_sid: 1,
            new_leader_sid: Some(2),
            leader_ms: Some(100.0),
            write_ms,
            rejoin_ms: Some(2000.0),
            writes_before_kill: 10,
            write_errors: 1,
        }
    }

    #[test]
    fn spread_is_median_and_max_of_the_rounds_that_measured() {
        let rounds = [
            round("ferrozk", Some(300.0)),
            round("apache", Some(900.0)),
            round("ferrozk", Some(100.0)),
            round("ferrozk", None),
            round("ferrozk", Some(200.0)),
        ];
        let s = spread(&rounds, "ferrozk", |r| r.write_ms);
        assert_eq!((s.n, s.of, s.median, s.max), (3, 4, 200.0, 300.0));
        assert_eq!(spread_cell(&s), "200 ms / 300 ms, 1 of 4 rounds without");
        let none = spread(&[], "apache", |r| r.write_ms);
        assert_eq!(spread_cell(&none), "–");
    }

    #[test]
    fn table_puts_ferrozk_beside_apache_with_ratios() {
        let mut e = EnsembleResults {
            members: 3,
            tick_ms: 2000,
            ..Default::default()
        };
        for (server, tput) in [("ferrozk", 3000.0), ("apache", 1000.0)] {
            let mut r = BenchResult::new("write", server);
            r.throughput = tput;
            e.runs.push(r);
        }
        e.failover = vec![round("ferrozk", Some(400.0)), round("apache", Some(800.0))];
        for (server, sid, mode, kb) in [
            ("ferrozk", 2, "follower", 20 * 1024),
            ("ferrozk", 1, "leader", 30 * 1024),
            ("ferrozk", 3, "follower", 20 * 1024),
        ] {
            e.peak_rss.push(MemberRss {
                server: server.into(),
                sid,
                mode: mode.into(),
                vm_hwm_kb: kb,
            });
        }
        let t = table(&e);
        assert!(
            t.contains("| write throughput, ops/s | 3000 | 1000 | **3.00×** |"),
            "{t}"
        );
        assert!(
            t.contains("| 70 MiB (leader 30, followers 20, 20) | – | – |"),
            "{t}"
        );
        assert!(
            t.contains("first write acknowledged, median / max | 400 ms / 400 ms | 800 ms / 800 ms | **0.50×** |"),
            "{t}"
        );
        let rounds = rounds_table(&e.failover);
        assert!(
            rounds.contains(
                "| ferrozk | 1 | server.1 | server.2 | 100 ms | 400 ms | 2000 ms | 10 | 1 |"
            ),
            "{rounds}"
        );
    }
}
