//! A 3-server ensemble of one kind for `compare`, configured exactly as
//! Apache ZooKeeper documents it: every member's zoo.cfg lists the same
//! `server.N=127.0.0.1:QUORUM:ELECTION` lines, `initLimit`/`syncLimit` bound
//! sync and silence in ticks, and `dataDir/myid` names the member. The
//! other settings are the standalone phase's (forceSync on, unlimited
//! connections, every four-letter word, no admin server).
//!
//! Who leads is read from `srvr` (`Mode: leader|follower`); a member with no
//! established leader answers "not currently serving requests" instead.
//! Members are killed with SIGKILL (a crash) and restarted on the same data
//! and ports. Every process is killed and reaped when the [`Ensemble`] is
//! dropped.

use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use super::servers::{self, Kind, Launch};

/// Zab's role of a member, from `srvr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Leads an established epoch.
    Leader,
    /// Follows an established leader.
    Follower,
    /// Learns without voting.
    Observer,
    /// Not in an ensemble at all.
    Standalone,
}

impl Mode {
    /// The word `srvr` prints.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Leader => "leader",
            Mode::Follower => "follower",
            Mode::Observer => "observer",
            Mode::Standalone => "standalone",
        }
    }
}

/// The `Mode:` of a `srvr` answer; `None` for "not currently serving
/// requests" (no established leader) or anything else without a mode.
pub fn parse_mode(srvr: &str) -> Option<Mode> {
    let word = srvr.lines().find_map(|l| l.strip_prefix("Mode:"))?.trim();
    [
        Mode::Leader,
        Mode::Follower,
        Mode::Observer,
        Mode::Standalone,
    ]
    .into_iter()
    .find(|m| m.name() == word)
}

/// "Connections: N" of a `srvr` answer.
pub fn parse_connections(srvr: &str) -> Option<u32> {
    srvr.lines()
        .find_map(|l| l.strip_prefix("Connections:"))
        .and_then(|n| n.trim().parse().ok())
}

/// The index of the leader when exactly one of `modes` leads and all the
/// others follow (an ensemble ready for load); `None` otherwise.
pub fn settled_leader(modes: &[(usize, Option<Mode>)]) -> Option<usize> {
    let mut leader = None;
    for &(i, m) in modes {
        match m {
            Some(Mode::Leader) if leader.is_none() => leader = Some(i),
            Some(Mode::Follower) => {}
            _ => return None,
        }
    }
    leader
}

/// Ports of one member: clients, quorum (followers to the leader), election.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    /// Client port.
    pub client: u16,
    /// Quorum port.
    pub quorum: u16,
    /// Election port.
    pub election: u16,
}

/// zoo.cfg of member `sid` (1-based) of the ensemble on `ports`.
pub fn member_cfg(sid: usize, data: &Path, ports: &[Ports], tick_ms: u64) -> String {
    let me = ports[sid - 1];
    let mut s = format!(
        "tickTime={tick_ms}\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={}\n\
         clientPortAddress=127.0.0.1\nmaxClientCnxns=0\nforceSync=yes\n\
         4lw.commands.whitelist=*\nadmin.enableServer=false\nautopurge.purgeInterval=0\n",
        data.display(),
        me.client
    );
    for (i, p) in ports.iter().enumerate() {
        let _ = writeln!(s, "server.{}=127.0.0.1:{}:{}", i + 1, p.quorum, p.election);
    }
    s
}

/// One member: its directory (zoo.cfg, server.log, data/myid) and process.
pub struct Member {
    /// Its `server.N` number.
    pub sid: usize,
    /// "127.0.0.1:CLIENT_PORT".
    pub addr: String,
    dir: PathBuf,
    child: Option<Child>,
}

impl Member {
    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Its mode now; `None` while it does not serve or is not running.
    pub async fn mode(&self) -> Option<Mode> {
        self.child.as_ref()?;
        parse_mode(&four_letter(&self.addr, "srvr").await.ok()?)
    }
}

/// A running ensemble, every member killed on drop.
pub struct Ensemble {
    /// Which server.
    pub kind: Kind,
    /// Members in `sid` order.
    pub members: Vec<Member>,
    launch: Launch,
}

/// How long an ensemble may take to (re-)elect on a loaded 2-core box.
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(120);

impl Ensemble {
    /// Writes each member's zoo.cfg and myid under `dir` and starts all of
    /// them; returns without waiting for a leader.
    pub fn start(
        kind: Kind,
        launch: &Launch,
        dir: &Path,
        size: usize,
        tick_ms: u64,
    ) -> Result<Ensemble, String> {
        let ports = free_ports(size)?;
        let mut e = Ensemble {
            kind,
            members: Vec::new(),
            launch: launch.clone(),
        };
        for sid in 1..=size {
            let mdir = dir.join(format!("s{sid}"));
            let data = mdir.join("data");
            std::fs::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
            let write = |name: &Path, text: String| {
                std::fs::write(name, text).map_err(|e| format!("{}: {e}", name.display()))
            };
            write(&data.join("myid"), format!("{sid}\n"))?;
            write(
                &mdir.join("zoo.cfg"),
                member_cfg(sid, &data, &ports, tick_ms),
            )?;
            e.members.push(Member {
                sid,
                addr: format!("127.0.0.1:{}", ports[sid - 1].client),
                dir: mdir,
                child: None,
            });
        }
        for i in 0..size {
            e.restart(i)?;
        }
        Ok(e)
    }

    /// Every member's client address, as a connect string.
    pub fn connect_string(&self) -> String {
        self.connect_string_without(None)
    }

    /// The connect string of every member but `skip`.
    pub fn connect_string_without(&self, skip: Option<usize>) -> String {
        let addrs: Vec<&str> = (0..self.members.len())
            .filter(|&i| Some(i) != skip)
            .map(|i| self.members[i].addr.as_str())
            .collect();
        addrs.join(",")
    }

    /// Modes of the running members, by index.
    pub async fn modes(&self) -> Vec<(usize, Option<Mode>)> {
        let mut out = Vec::new();
        for (i, m) in self.members.iter().enumerate() {
            if m.child.is_some() {
                out.push((i, m.mode().await));
            }
        }
        out
    }

    /// Waits until one running member leads and the others follow;
    /// returns the leader's index. Fails if a member exits.
    pub async fn wait_for_leader(&mut self, timeout: Duration) -> Result<usize, String> {
        let deadline = Instant::now() + timeout;
        loop {
            self.check_alive()?;
            if let Some(i) = settled_leader(&self.modes().await) {
                return Ok(i);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} ensemble: no settled leader within {timeout:?}; modes {:?}; logs in {}",
                    self.kind.label(),
                    self.modes().await,
                    self.members[0]
                        .dir
                        .parent()
                        .unwrap_or(Path::new(""))
                        .display()
                ));
            }
            // Polling a readiness probe.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn check_alive(&mut self) -> Result<(), String> {
        for m in &mut self.members {
            if let Some(c) = &mut m.child {
                if let Ok(Some(status)) = c.try_wait() {
                    return Err(format!(
                        "{} member {} exited ({status}); see {}",
                        self.kind.label(),
                        m.sid,
                        m.dir.join("server.log").display()
                    ));
                }
            }
        }
        Ok(())
    }

    /// kill -9 of member `i`, reaped; returns the instant just before the
    /// signal was sent.
    pub fn kill(&mut self, i: usize) -> Instant {
        let at = Instant::now();
        if let Some(mut c) = self.members[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        at
    }

    /// Starts member `i` (again) on its data.
    pub fn restart(&mut self, i: usize) -> Result<(), String> {
        let m = &mut self.members[i];
        if m.child.is_none() {
            m.child = Some(servers::spawn(self.kind, &self.launch, &m.dir)?);
        }
        Ok(())
    }
}

impl Drop for Ensemble {
    fn drop(&mut self) {
        for i in 0..self.members.len() {
            self.kill(i);
        }
    }
}

/// `3 * n` distinct free loopback ports (all held until every one is
/// chosen, then released for the servers).
fn free_ports(n: usize) -> Result<Vec<Ports>, String> {
    let mut held = Vec::new();
    for _ in 0..3 * n {
        held.push(TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?);
    }
    let port = |i: usize| -> Result<u16, String> {
        Ok(held[i].local_addr().map_err(|e| e.to_string())?.port())
    };
    (0..n)
        .map(|i| {
            Ok(Ports {
                client: port(3 * i)?,
                quorum: port(3 * i + 1)?,
                election: port(3 * i + 2)?,
            })
        })
        .collect()
}

/// Sends a four-letter word and returns the whole answer (2 s at most).
pub async fn four_letter(addr: &str, word: &str) -> std::io::Result<String> {
    let ask = async {
        let mut s = tokio::net::TcpStream::connect(addr).await?;
        s.write_all(word.as_bytes()).await?;
        let mut out = String::new();
        s.read_to_string(&mut out).await?;
        Ok(out)
    };
    tokio::time::timeout(Duration::from_secs(2), ask)
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_is_read_from_srvr_and_absent_while_not_serving() {
        let srvr = "Zookeeper version: 3.8.0\nConnections: 7\nMode: follower\nNode count: 5\n";
        assert_eq!(parse_mode(srvr), Some(Mode::Follower));
        assert_eq!(parse_connections(srvr), Some(7));
        assert_eq!(parse_mode("Mode: leader\n"), Some(Mode::Leader));
        let looking = "This ZooKeeper instance is not currently serving requests\n";
        assert_eq!(parse_mode(looking), None);
        assert_eq!(parse_mode("Mode: candidate\n"), None);
    }

    #[test]
    fn settled_means_one_leader_and_only_followers_besides() {
        let (l, f) = (Some(Mode::Leader), Some(Mode::Follower));
        assert_eq!(settled_leader(&[(0, f), (1, l), (2, f)]), Some(1));
        // A member still looking, two leaders, or none: not settled.
        assert_eq!(settled_leader(&[(0, f), (1, l), (2, None)]), None);
        assert_eq!(settled_leader(&[(0, l), (1, l), (2, f)]), None);
        assert_eq!(settled_leader(&[(0, f), (1, f)]), None);
        // A killed member is simply not listed.
        assert_eq!(settled_leader(&[(0, f), (2, l)]), Some(2));
    }

    #[test]
    fn member_cfg_lists_every_member_and_its_own_client_port() {
        let ports = [
            Ports {
                client: 1001,
                quorum: 1002,
                election: 1003,
            },
            Ports {
                client: 2001,
                quorum: 2002,
                election: 2003,
            },
        ];
        let cfg = member_cfg(2, Path::new("/d"), &ports, 2000);
        assert!(cfg.contains("clientPort=2001\n"), "{cfg}");
        assert!(cfg.contains("server.1=127.0.0.1:1002:1003\n"), "{cfg}");
        assert!(cfg.contains("server.2=127.0.0.1:2002:2003\n"), "{cfg}");
        for key in [
            "initLimit=10",
            "syncLimit=5",
            "forceSync=yes",
            "tickTime=2000",
        ] {
            assert!(cfg.contains(key), "{key} in {cfg}");
        }
    }

    #[test]
    fn free_ports_are_distinct() {
        let p = free_ports(3).unwrap();
        let mut all: Vec<u16> = p
            .iter()
            .flat_map(|p| [p.client, p.quorum, p.election])
            .collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 9);
    }
}
