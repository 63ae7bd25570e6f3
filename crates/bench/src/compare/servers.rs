//! Starting the two servers for `compare` with equal settings: standalone,
//! on a free loopback port, data directory on the same disk, forceSync on,
//! the same tickTime, unlimited connections. Each process is killed (and
//! reaped) when its [`Server`] is dropped.
//!
//! Apache ZooKeeper runs from Debian's jars with the JVM's default
//! (tiered, C2) compiler and a fixed heap limit; ferrozk from the given
//! binary with `--config` on the same zoo.cfg text.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The binary under test.
    Ferrozk,
    /// Apache ZooKeeper 3.8 from Debian.
    Apache,
}

impl Kind {
    /// Its label in reports.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Ferrozk => "ferrozk",
            Kind::Apache => "apache",
        }
    }
}

/// How to launch each server.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The ferrozk binary.
    pub ferrozk_bin: PathBuf,
    /// Classpath for Apache ZooKeeper.
    pub zk_classpath: String,
    /// `-Xmx` for the JVM.
    pub java_heap: String,
}

/// A running server, killed on drop.
pub struct Server {
    /// Which one.
    pub kind: Kind,
    /// "127.0.0.1:PORT".
    pub addr: String,
    /// Its own directory: zoo.cfg, server.log, data/.
    pub dir: PathBuf,
    child: Child,
    launch: Launch,
}

/// How long a server may take to serve after it is spawned.
const START_TIMEOUT: Duration = Duration::from_secs(300);

impl Server {
    /// Writes zoo.cfg in `dir` and starts the server; returns once it serves.
    pub fn start(kind: Kind, launch: &Launch, dir: &Path) -> Result<Server, String> {
        let data = dir.join("data");
        std::fs::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
        let port = free_port()?;
        let cfg = format!(
            "tickTime=2000\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
             maxClientCnxns=0\nforceSync=yes\n4lw.commands.whitelist=*\n\
             admin.enableServer=false\nautopurge.purgeInterval=0\n",
            data.display()
        );
        std::fs::write(dir.join("zoo.cfg"), cfg).map_err(|e| format!("zoo.cfg: {e}"))?;
        let child = spawn(kind, launch, dir)?;
        let mut s = Server {
            kind,
            addr: format!("127.0.0.1:{port}"),
            dir: dir.to_path_buf(),
            child,
            launch: launch.clone(),
        };
        s.wait_serving()?;
        Ok(s)
    }

    /// The process id, for RSS readings.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the server (SIGKILL, like a crash) and starts it again on the
    /// same data; returns the time until it serves and how many znodes it
    /// has then.
    pub fn restart(&mut self) -> Result<(Duration, u64), String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let started = Instant::now();
        self.child = spawn(self.kind, &self.launch, &self.dir)?;
        let nodes = self.wait_serving()?;
        Ok((started.elapsed(), nodes))
    }

    /// Polls `srvr` until the server says it serves (Apache ZooKeeper only
    /// does once its database is loaded); returns its node count.
    fn wait_serving(&mut self) -> Result<u64, String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited ({status}); see {}",
                    self.kind.label(),
                    self.dir.join("server.log").display()
                ));
            }
            if let Ok(srvr) = four_letter(&self.addr, "srvr") {
                if srvr.contains("Mode:") {
                    return Ok(node_count(&srvr).unwrap_or(0));
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} not serving after {START_TIMEOUT:?}",
                    self.kind.label()
                ));
            }
            // Polling a readiness probe.
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the server has written a transaction log (`log.*`) under
    /// its data directory: ferrozk before its durability work did not.
    pub fn has_txn_log(&self) -> bool {
        fn walk(p: &Path) -> bool {
            let Ok(rd) = std::fs::read_dir(p) else {
                return false;
            };
            rd.flatten().any(|e| {
                let path = e.path();
                if path.is_dir() {
                    walk(&path)
                } else {
                    e.file_name().to_string_lossy().starts_with("log.")
                        && e.metadata().map(|m| m.len() > 0).unwrap_or(false)
                }
            })
        }
        walk(&self.dir.join("data"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `kind` on `dir/zoo.cfg`, its output appended to `dir/server.log`.
pub(super) fn spawn(kind: Kind, launch: &Launch, dir: &Path) -> Result<Child, String> {
    let cfg = dir.join("zoo.cfg");
    let mut cmd = match kind {
        Kind::Ferrozk => {
            let mut c = Command::new(&launch.ferrozk_bin);
            c.arg("--config").arg(&cfg).arg("--log-level").arg("warn");
            c
        }
        Kind::Apache => {
            let mut c = Command::new("java");
            c.arg(format!("-Xmx{}", launch.java_heap))
                .arg("-cp")
                .arg(&launch.zk_classpath)
                .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
                .arg(&cfg);
            c
        }
    };
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .map_err(|e| format!("server.log: {e}"))?;
    cmd.current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log);
    cmd.spawn()
        .map_err(|e| format!("starting {}: {e}", kind.label()))
}

/// A free loopback port (bound, then released for the server).
fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

/// Sends a four-letter word and returns the whole answer.
pub fn four_letter(addr: &str, word: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(word.as_bytes())?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

/// "Node count: N" from a `srvr` answer.
fn node_count(srvr: &str) -> Option<u64> {
    srvr.lines()
        .find_map(|l| l.strip_prefix("Node count:"))
        .and_then(|n| n.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_count_is_read_from_srvr() {
        let srvr = "Zookeeper version: 3.8.0\nMode: standalone\nNode count: 1005\n";
        assert_eq!(node_count(srvr), Some(1005));
        assert_eq!(node_count("Mode: standalone\n"), None);
    }
}
