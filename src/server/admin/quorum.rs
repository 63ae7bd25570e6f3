//! The commands about the ensemble: `leader`, `voting_view`, `zabstate`,
//! `observers`. On a standalone server they answer as ZooKeeper's
//! standalone `ZooKeeperServer` does (not a `QuorumZooKeeperServer`):
//! `leader` with its "not initialized" error, empty views.
//!
//! Addresses print as ZooKeeper prints them: `host:port` with the host as
//! the `server.N` line names it (IPv6 in brackets).

use serde::Serialize;

use super::commands::View;
use super::json::{self, Entries};
use crate::config::{PeerType, QuorumServer};
use crate::server::EnsembleOptions;
use crate::tree::java_order::hash_set_order;

/// `host:port` as `QuorumServer.delimitedHostString` + port.
fn address(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn ensemble<'a>(v: &View<'a>) -> Option<&'a EnsembleOptions> {
    v.core.opts.ensemble.as_ref()
}

fn member(e: &EnsembleOptions, sid: u64) -> Option<&QuorumServer> {
    e.servers.iter().find(|s| s.id == sid)
}

/// `leader` on an ensemble member.
#[derive(Serialize)]
pub struct Leader {
    is_leader: bool,
    leader_id: i64,
    /// The leader's quorum host(s), `|`-separated.
    leader_ip: String,
}

/// `None` on a standalone server ("server is not initialized").
pub fn leader(v: &View<'_>) -> Option<Leader> {
    let e = ensemble(v)?;
    let r = v.core.replica.as_ref()?;
    let leader = r.peer.leader();
    Some(Leader {
        is_leader: leader == Some(e.my_id),
        leader_id: leader.map_or(-1, |l| l as i64),
        leader_ip: leader
            .and_then(|l| member(e, l))
            .map(|s| s.host.clone())
            .unwrap_or_default(),
    })
}

/// One voting member (`VotingViewCommand.QuorumServerView`).
#[derive(Serialize)]
pub struct ServerView {
    server_addresses: Vec<String>,
    election_addresses: Vec<String>,
    client_address: String,
    learner_type: &'static str,
}

/// `voting_view`.
#[derive(Serialize)]
pub struct VotingView {
    current_config: Entries<String, ServerView>,
}

/// The client address ZooKeeper knows for `s`: its line's, or for this
/// server the client port it listens on; "" otherwise.
fn client_address(v: &View<'_>, e: &EnsembleOptions, s: &QuorumServer) -> String {
    match &s.client {
        Some(c) => address(&c.host, c.port),
        None if s.id == e.my_id => {
            let l = v.core.opts.listen;
            address(&l.ip().to_string(), l.port())
        }
        None => String::new(),
    }
}

pub fn voting_view(v: &View<'_>) -> VotingView {
    let Some(e) = ensemble(v) else {
        return VotingView {
            current_config: Entries::default(),
        };
    };
    // The voting members, in the order of the HashMap<Long, _> ZooKeeper
    // collects them into (Long.hashCode of small ids: ascending).
    let voters = e
        .servers
        .iter()
        .filter(|s| s.peer_type == PeerType::Participant)
        .map(|s| ((s.id ^ (s.id >> 32)) as i32, s))
        .collect();
    let entries = hash_set_order(voters)
        .into_iter()
        .map(|s| {
            let view = ServerView {
                server_addresses: vec![address(&s.host, s.quorum_port)],
                election_addresses: vec![address(&s.host, s.election_port)],
                client_address: client_address(v, e, s),
                learner_type: "participant",
            };
            (s.id.to_string(), view)
        })
        .collect();
    VotingView {
        current_config: Entries(entries),
    }
}

/// `MultipleAddresses` as Jackson writes the bean (one address: ferrozk
/// does not take ZooKeeper's `|`-separated multi-address lines). ferrozk
/// does not probe reachability: every address counts as reachable, as
/// ZooKeeper finds them on a working ensemble.
#[derive(Serialize)]
pub struct Addresses {
    empty: bool,
    all_addresses: Vec<String>,
    all_reachable_addresses: Vec<String>,
    one: String,
    reachable_address: String,
    wildcard_addresses: Vec<String>,
    all_ports: Vec<u16>,
    all_host_strings: Vec<String>,
    all_reachable_addresses_or_all: Vec<String>,
    reachable_or_one: String,
}

fn addresses(host: &str, port: u16) -> Addresses {
    let a = address(host, port);
    Addresses {
        empty: false,
        all_addresses: vec![a.clone()],
        all_reachable_addresses: vec![a.clone()],
        one: a.clone(),
        reachable_address: a.clone(),
        wildcard_addresses: vec![address("0.0.0.0", port)],
        all_ports: vec![port],
        all_host_strings: vec![host.to_owned()],
        all_reachable_addresses_or_all: vec![a.clone()],
        reachable_or_one: a,
    }
}

/// `zabstate` on a serving ensemble member.
#[derive(Serialize)]
pub struct ZabState {
    myid: u64,
    is_leader: bool,
    quorum_address: Addresses,
    election_address: Addresses,
    client_address: String,
    voting: bool,
    last_zxid: String,
    zab_epoch: i64,
    zab_counter: i64,
    zabstate: &'static str,
}

/// The standalone (and not-serving) form.
#[derive(Serialize)]
struct NoZabState {
    voting: bool,
    zabstate: &'static str,
}

/// ZooKeeper answers the full form only while its admin server holds a
/// quorum server, i.e. from the broadcast phase on (a leader sets it when
/// it starts broadcasting, a learner once up to date); before that, and on
/// a standalone server, `voting: false, zabstate: ""`.
pub fn zabstate(v: &View<'_>, p: &str) -> String {
    let me = ensemble(v).and_then(|e| Some((e, member(e, e.my_id)?)));
    let (Some((e, s)), true) = (me, v.core.serving()) else {
        return json::ok(
            p,
            &NoZabState {
                voting: false,
                zabstate: "",
            },
        );
    };
    let leader = v.core.replica.as_ref().and_then(|r| r.peer.leader());
    let zxid = v.core.tree.last_zxid;
    let l = v.core.opts.listen;
    let body = ZabState {
        myid: e.my_id,
        is_leader: leader == Some(e.my_id),
        quorum_address: addresses(&s.host, s.quorum_port),
        election_address: addresses(&s.host, s.election_port),
        client_address: address(&l.ip().to_string(), l.port()),
        voting: s.peer_type == PeerType::Participant,
        last_zxid: format!("0x{:x}", zxid as u64),
        zab_epoch: zxid >> 32,
        zab_counter: zxid & 0xffff_ffff,
        zabstate: "broadcast",
    };
    json::ok(p, &body)
}

/// One observer the leader feeds (`LearnerHandler.getLearnerHandlerInfo`),
/// from the core's bookkeeping of its learner links. The send queue lives
/// in the quorum network's link writer, which drains it without the core
/// seeing it: `queued_packets`/`queued_packets_size` read as a drained
/// queue's (0).
#[derive(Serialize)]
pub struct ObserverInfo {
    remote_socket_address: String,
    sid: u64,
    established: i64,
    queued_packets: u64,
    queued_packets_size: u64,
    packets_received: u64,
    packets_sent: u64,
    requests: u64,
    /// The last zxid sent: a synced observer is sent every commit.
    last_zxid: i64,
}

/// `observers`.
#[derive(Serialize)]
pub struct Observers {
    synced_observers: usize,
    observers: Vec<ObserverInfo>,
}

/// On a leader, its synced observers; elsewhere none (a follower is not
/// an observer master in ferrozk: no `observerMasterPort`).
pub fn observers(v: &View<'_>) -> Observers {
    let Some(r) = v.core.replica.as_ref() else {
        return Observers {
            synced_observers: 0,
            observers: Vec::new(),
        };
    };
    let sids = r.peer.synced_observers().unwrap_or_default();
    let observers: Vec<ObserverInfo> = sids
        .into_iter()
        .filter_map(|sid| {
            let l = r.learner_link(sid)?;
            Some(ObserverInfo {
                remote_socket_address: l
                    .peer
                    .map_or_else(String::new, crate::server::fourlw::java_socket_address),
                sid,
                established: l.established_ms,
                queued_packets: 0,
                queued_packets_size: 0,
                packets_received: l.packets_received,
                packets_sent: l.packets_sent,
                requests: l.requests,
                last_zxid: l.last_zxid,
            })
        })
        .collect();
    Observers {
        synced_observers: observers.len(),
        observers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_hosts_are_bracketed() {
        assert_eq!(address("127.0.0.1", 2888), "127.0.0.1:2888");
        assert_eq!(address("::1", 2888), "[::1]:2888");
        assert_eq!(address("zk1.example", 2888), "zk1.example:2888");
    }
}
