//! Leader fail-over time of an ensemble, one round:
//!
//! 1. With one leader and the others following, a few writer sessions
//!    connect to the followers' addresses and write in a closed loop
//!    (setData, one outstanding each), recording when each acknowledged
//!    write was sent and answered.
//! 2. After a steady spell the leader gets SIGKILL. From that instant the
//!    survivors' `srvr` is polled until one says `Mode: leader` (the
//!    ensemble's own recovery), while the writers carry on through their
//!    client's reconnects.
//! 3. Fail-over time is from the kill until the first acknowledgement of a
//!    write *sent* after the kill ([`failover_time`]): a write already in
//!    flight may have been committed by the dead leader and says nothing
//!    about the new one.
//! 4. The killed member restarts on its data; the round ends when it
//!    follows again (timed too), so every round starts from a full
//!    ensemble.
//!
//! The writers' time includes the client's reconnect back-off (50 ms,
//! doubling to 1 s, as ferrozk's client retries; the same client for both
//! kinds), so it is what an application sees, not only the election.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::members::{four_letter, parse_mode, Ensemble, Mode, ELECTION_TIMEOUT};
use crate::memory::{close_all, open_sessions};
use crate::workload::ensure_node;
use ferrozk_client::Client;

/// Writer sessions, each with one write outstanding.
pub const WRITERS: usize = 4;

/// Where the writers write.
const PREFIX: &str = "/ferrozk-bench-failover";

/// One fail-over round, as saved in results.json.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Round {
    /// `ferrozk` or `apache`.
    pub server: String,
    /// 0-based round of this kind.
    pub round: usize,
    /// The killed leader's `server.N`.
    pub killed_sid: usize,
    /// The member that led next, if one did in time.
    pub new_leader_sid: Option<usize>,
    /// Kill until a survivor's `srvr` said `Mode: leader`, ms.
    pub leader_ms: Option<f64>,
    /// Kill until the first write sent after it was acknowledged, ms.
    pub write_ms: Option<f64>,
    /// Restart of the killed member until it followed again, ms.
    pub rejoin_ms: Option<f64>,
    /// Writes acknowledged before the kill (the writers were working).
    pub writes_before_kill: u64,
    /// Failed writes during the round (connection loss while re-electing).
    pub write_errors: u64,
}

/// Time from `kill` to the first acknowledgement of a write sent at or
/// after `kill`; `acks` are (sent, acknowledged) instants, in any order.
pub fn failover_time(kill: Instant, acks: &[(Instant, Instant)]) -> Option<Duration> {
    acks.iter()
        .filter(|(sent, _)| *sent >= kill)
        .map(|(_, acked)| acked.duration_since(kill))
        .min()
}

/// Shared between the round and its writers.
struct Probe {
    kill_at: OnceLock<Instant>,
    stop: AtomicBool,
    /// Signalled on the first ack of a write sent after the kill.
    recovered: Notify,
}

struct WriterOut {
    acks: Vec<(Instant, Instant)>,
    errors: u64,
}

async fn writer(client: Client, path: String, probe: Arc<Probe>) -> WriterOut {
    let data = vec![b'f'; 64];
    let mut out = WriterOut {
        acks: Vec::new(),
        errors: 0,
    };
    while !probe.stop.load(Ordering::Acquire) {
        let sent = Instant::now();
        match client.set_data(&path, &data, -1).await {
            Ok(_) => {
                out.acks.push((sent, Instant::now()));
                if probe.kill_at.get().is_some_and(|k| sent >= *k) {
                    probe.recovered.notify_one();
                }
            }
            Err(_) => {
                out.errors += 1;
                if client.state().is_terminal() {
                    break;
                }
            }
        }
    }
    out
}

/// Polls the running members' `srvr` every 10 ms until one leads; returns
/// its index and when it was seen.
async fn poll_leader(ens: &Ensemble, deadline: Instant) -> Option<(usize, Instant)> {
    loop {
        for (i, m) in ens.members.iter().enumerate() {
            if m.pid().is_none() {
                continue;
            }
            if let Ok(srvr) = four_letter(&m.addr, "srvr").await {
                if parse_mode(&srvr) == Some(Mode::Leader) {
                    return Some((i, Instant::now()));
                }
            }
        }
        if Instant::now() > deadline {
            return None;
        }
        // Polling the survivors for the moment a leader is established.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// One round on `ens`: `steady` of writing before the kill.
pub async fn round(ens: &mut Ensemble, round: usize, steady: Duration) -> Result<Round, String> {
    let label = ens.kind.label();
    let leader = ens.wait_for_leader(ELECTION_TIMEOUT).await?;
    let followers = ens.connect_string_without(Some(leader));
    let err = |what: &str| {
        let what = format!("{label} fail-over round {round}: {what}");
        move |e: ferrozk_client::Error| format!("{what}: {e}")
    };
    let clients = open_sessions(&followers, WRITERS, WRITERS, Duration::from_secs(30))
        .await
        .map_err(err("connecting writers"))?;
    ensure_node(&clients[0], PREFIX)
        .await
        .map_err(err("creating the writers' parent"))?;
    let mut paths = Vec::new();
    for i in 0..WRITERS {
        let p = format!("{PREFIX}/w{i}");
        ensure_node(&clients[0], &p)
            .await
            .map_err(err("creating the writers' nodes"))?;
        paths.push(p);
    }
    let probe = Arc::new(Probe {
        kill_at: OnceLock::new(),
        stop: AtomicBool::new(false),
        recovered: Notify::new(),
    });
    let mut tasks = tokio::task::JoinSet::new();
    for (c, p) in clients.iter().zip(paths) {
        tasks.spawn(writer(c.clone(), p, probe.clone()));
    }
    tokio::time::sleep(steady).await;

    let kill = ens.kill(leader);
    let _ = probe.kill_at.set(kill);
    let deadline = kill + ELECTION_TIMEOUT;
    let (elected, recovered) = tokio::join!(
        poll_leader(ens, deadline),
        tokio::time::timeout_at(deadline, probe.recovered.notified())
    );
    probe.stop.store(true, Ordering::Release);
    let mut acks = Vec::new();
    let mut errors = 0;
    while let Some(w) = tasks.join_next().await {
        let w = w.expect("fail-over writer panicked");
        acks.extend(w.acks);
        errors += w.errors;
    }
    close_all(clients, WRITERS).await;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut r = Round {
        server: label.to_string(),
        round,
        killed_sid: ens.members[leader].sid,
        new_leader_sid: elected.map(|(i, _)| ens.members[i].sid),
        leader_ms: elected.map(|(_, at)| ms(at.duration_since(kill))),
        write_ms: recovered.ok().and(failover_time(kill, &acks)).map(ms),
        rejoin_ms: None,
        writes_before_kill: acks.iter().filter(|(s, _)| *s < kill).count() as u64,
        write_errors: errors,
    };
    let restarted = Instant::now();
    ens.restart(leader)?;
    ens.wait_for_leader(ELECTION_TIMEOUT).await?;
    if ens.members[leader].mode().await == Some(Mode::Follower) {
        r.rejoin_ms = Some(ms(restarted.elapsed()));
    }
    eprintln!(
        "{label} fail-over {round}: killed leader {}, new leader {:?} after {:?} ms, \
         first write after {:?} ms, rejoined after {:?} ms",
        r.killed_sid, r.new_leader_sid, r.leader_ms, r.write_ms, r.rejoin_ms
    );
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failover_counts_only_writes_sent_after_the_kill() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let kill = at(1000);
        let acks = [
            // Sent before the kill, answered after: ignored.
            (at(999), at(1001)),
            (at(1500), at(1800)),
            (at(1200), at(1700)),
            (at(900), at(950)),
        ];
        assert_eq!(failover_time(kill, &acks), Some(Duration::from_millis(700)));
    }

    #[test]
    fn no_write_after_the_kill_means_no_failover_time() {
        let t0 = Instant::now();
        let acks = [(t0, t0 + Duration::from_millis(5))];
        assert_eq!(failover_time(t0 + Duration::from_secs(1), &acks), None);
        assert_eq!(failover_time(t0, &[]), None);
    }
}
