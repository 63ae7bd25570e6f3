//! Start-up of an ensemble member: resolve the `server.N` addresses, bind
//! the election port, and build the Zab peer from what the disk holds.

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::core::{Core, Replica, COMMIT_LOG_COUNT};
use super::mailbox::CoreMsg;
use super::quorum_net::{self, MemberAddrs, QuorumNet};
use super::{EnsembleOptions, StartError};
use crate::config::PeerType;
use crate::zab::election::ElectionTiming;
use crate::zab::{Config, Ensemble, Member, Peer};

fn resolve(key: &str, host: &str, port: u16) -> Result<SocketAddr, StartError> {
    (host, port)
        .to_socket_addrs()
        .map_err(|e| StartError::Quorum(format!("{key}: cannot resolve {host}: {e}")))?
        .next()
        .ok_or_else(|| StartError::Quorum(format!("{key}: {host} resolves to nothing")))
}

/// The configuration text ZooKeeper sends in notifications and NEWLEADER
/// (`QuorumMaj.toString`).
pub(super) fn config_text(e: &EnsembleOptions) -> String {
    let mut s = String::new();
    for q in &e.servers {
        s.push_str(&format!("server.{}={q}\n", q.id));
    }
    s.push_str("version=0");
    s
}

/// Binds the election port and builds this member's replication state.
pub(super) async fn start_member(
    core: &Core,
    e: &EnsembleOptions,
    core_tx: mpsc::Sender<CoreMsg>,
    snapshot_zxid: i64,
    epoch: std::time::Instant,
) -> Result<(Replica, QuorumNet), StartError> {
    let mut members = BTreeMap::new();
    for q in &e.servers {
        let key = format!("server.{}", q.id);
        members.insert(
            q.id,
            MemberAddrs {
                quorum: resolve(&key, &q.host, q.quorum_port)?,
                election: resolve(&key, &q.host, q.election_port)?,
                election_text: (q.host.clone(), q.election_port),
            },
        );
    }
    let me = &members[&e.my_id];
    let listener = TcpListener::bind(me.election)
        .await
        .map_err(|source| StartError::Bind {
            addr: me.election,
            source,
        })?;
    let opts = core.options();
    let disk = super::persist::durable_state(opts, core.tree().last_zxid, snapshot_zxid)?;
    tracing::info!(
        "member {} of {} servers: acceptedEpoch {}, currentEpoch {}, last zxid 0x{:x}",
        e.my_id,
        e.servers.len(),
        disk.accepted_epoch,
        disk.current_epoch,
        disk.last_zxid.0
    );
    let ensemble = Ensemble::new(e.servers.iter().map(|q| {
        let m = match q.peer_type {
            PeerType::Participant => Member::Participant,
            PeerType::Observer => Member::Observer,
        };
        (q.id, m)
    }));
    let cfg = Config {
        me: e.my_id,
        ensemble,
        tick_ms: u64::from(opts.tick_ms),
        init_limit: u64::from(e.init_limit),
        sync_limit: u64::from(e.sync_limit),
        election: ElectionTiming::default(),
        commit_log_count: COMMIT_LOG_COUNT,
        config_text: Bytes::from(config_text(e)),
    };
    let net = quorum_net::start(e.my_id, members, listener, core_tx);
    let peer = Peer::new(cfg, disk, super::driver::now(epoch).mono_ms);
    Ok((Replica::new(peer), net))
}
