//! `server.N` lines: the members of an ensemble.
//!
//! Grammar, from `QuorumPeer.QuorumServer(long, String)`:
//!
//! ```text
//! server.<id> = <host>:<quorumPort>:<electionPort>[:participant|:observer][;[<clientHost>:]<clientPort>]
//! ```
//!
//! An IPv6 host is written in brackets (`[::1]:2888:3888`). Without a client
//! host the client address is `0.0.0.0`. ZooKeeper's multi-address form
//! (`a:1:2|b:1:2`, behind `multiAddress.enabled`) is rejected as unsupported.

use std::fmt;

use super::error::ConfigError;
use super::values;

/// Whether a server votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PeerType {
    /// Votes in elections and on proposals.
    #[default]
    Participant,
    /// Receives the committed stream but does not vote.
    Observer,
}

impl PeerType {
    /// `participant` or `observer`, any case (`QuorumServer.getType`).
    pub fn parse(key: &str, value: &str) -> Result<Self, ConfigError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "participant" => Ok(PeerType::Participant),
            "observer" => Ok(PeerType::Observer),
            _ => Err(ConfigError::invalid(key, value, "participant or observer")),
        }
    }
}

impl fmt::Display for PeerType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PeerType::Participant => "participant",
            PeerType::Observer => "observer",
        })
    }
}

/// Where clients reach a server, from the part after `;`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress {
    /// Host to bind or reach; `0.0.0.0` when only a port was given.
    pub host: String,
    /// Client port.
    pub port: u16,
}

/// One `server.N` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumServer {
    /// The server id (`myid`).
    pub id: u64,
    /// Host name or address, without IPv6 brackets.
    pub host: String,
    /// Port followers use to connect to the leader.
    pub quorum_port: u16,
    /// Port for leader election.
    pub election_port: u16,
    /// Voting member or observer.
    pub peer_type: PeerType,
    /// Client address, if given on this line (the dynamic-config form).
    pub client: Option<ClientAddress>,
}

impl fmt::Display for QuorumServer {
    /// The canonical form ZooKeeper writes back (`QuorumServer.toString`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = bracket(&self.host);
        write!(
            f,
            "{host}:{}:{}:{}",
            self.quorum_port, self.election_port, self.peer_type
        )?;
        if let Some(c) = &self.client {
            write!(f, ";{}:{}", bracket(&c.host), c.port)?;
        }
        Ok(())
    }
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

const FORM: &str = "host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort]";

impl QuorumServer {
    /// Parse the value of key `key` (`server.<id>`).
    pub fn parse(key: &str, value: &str) -> Result<Self, ConfigError> {
        let id_text = key.strip_prefix("server.").unwrap_or(key);
        let id = values::number::<u64>(key, id_text)
            .map_err(|_| ConfigError::invalid(key, value, "a key of the form server.<number>"))?;
        let bad = |why: &str| ConfigError::invalid(key, value, format!("{FORM} ({why})"));

        let halves = java_split(value, ';');
        if halves.len() > 2 {
            return Err(bad("more than one ';'"));
        }
        if halves[0].contains('|') {
            return Err(bad("multiple addresses separated by '|' are not supported"));
        }
        let parts = host_and_ports(&halves[0]).map_err(|why| bad(&why))?;
        if !(3..=4).contains(&parts.len()) {
            return Err(bad("expected three or four ':'-separated fields"));
        }
        let port = |s: &str| values::port(key, s.trim()).map_err(|_| bad("bad port"));
        let quorum_port = port(&parts[1])?;
        let election_port = port(&parts[2])?;
        if quorum_port == election_port {
            return Err(bad("quorum and election ports must differ"));
        }
        let peer_type = match parts.get(3) {
            Some(t) => PeerType::parse(key, t)?,
            None => PeerType::Participant,
        };
        let client = match halves.get(1) {
            None => None,
            Some(c) => {
                let cparts = host_and_ports(c).map_err(|why| bad(&why))?;
                let (host, p) = match cparts.as_slice() {
                    [p] => ("0.0.0.0".to_owned(), p),
                    [h, p] => (h.clone(), p),
                    _ => return Err(bad("client part must be port or host:port")),
                };
                Some(ClientAddress {
                    host,
                    port: port(p)?,
                })
            }
        };
        Ok(QuorumServer {
            id,
            host: parts[0].trim().to_owned(),
            quorum_port,
            election_port,
            peer_type,
            client,
        })
    }
}

/// Java's `String.split(sep)`: trailing empty fields are dropped (but at
/// least one field remains).
fn java_split(s: &str, sep: char) -> Vec<String> {
    let mut parts: Vec<String> = s.split(sep).map(str::to_owned).collect();
    while parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
}

/// `ConfigUtils.getHostAndPort`: split on `:`, except inside a leading
/// `[ipv6]`.
fn host_and_ports(s: &str) -> Result<Vec<String>, String> {
    let Some(rest) = s.strip_prefix('[') else {
        return Ok(java_split(s, ':'));
    };
    let close = rest.find(']').ok_or("'[' without matching ']'")?;
    let host = rest[..close].to_owned();
    let after = &rest[close + 1..];
    if after.is_empty() {
        return Ok(vec![host]);
    }
    let ports = after.strip_prefix(':').ok_or("expected ':' after ']'")?;
    if ports.is_empty() {
        return Err("no port after ':'".into());
    }
    let mut out = vec![host];
    out.extend(java_split(ports, ':'));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(key: &str, value: &str) -> Result<QuorumServer, ConfigError> {
        QuorumServer::parse(key, value)
    }

    #[test]
    fn plain_server_is_participant_without_client() {
        let s = parse("server.1", "zk1:2888:3888").unwrap();
        assert_eq!(
            s,
            QuorumServer {
                id: 1,
                host: "zk1".into(),
                quorum_port: 2888,
                election_port: 3888,
                peer_type: PeerType::Participant,
                client: None,
            }
        );
    }

    #[test]
    fn role_is_case_insensitive() {
        assert_eq!(
            parse("server.2", "h:1:2:OBSERVER").unwrap().peer_type,
            PeerType::Observer
        );
        assert_eq!(
            parse("server.2", "h:1:2:participant").unwrap().peer_type,
            PeerType::Participant
        );
        assert!(parse("server.2", "h:1:2:leader").is_err());
    }

    #[test]
    fn client_port_alone_binds_wildcard() {
        let c = parse("server.3", "h:1:2;2181").unwrap().client.unwrap();
        assert_eq!(
            c,
            ClientAddress {
                host: "0.0.0.0".into(),
                port: 2181
            }
        );
    }

    #[test]
    fn client_host_and_port() {
        let s = parse("server.3", "h:1:2:observer;127.0.0.1:2182").unwrap();
        assert_eq!(s.client.unwrap().host, "127.0.0.1");
        assert_eq!(s.peer_type, PeerType::Observer);
    }

    #[test]
    fn ipv6_hosts_in_brackets() {
        let s = parse("server.4", "[::1]:2888:3888;[::1]:2181").unwrap();
        assert_eq!(s.host, "::1");
        assert_eq!(s.client.as_ref().unwrap().host, "::1");
        assert_eq!(s.to_string(), "[::1]:2888:3888:participant;[::1]:2181");
    }

    #[test]
    fn display_is_canonical_form() {
        let s = parse("server.1", "h:1:2").unwrap();
        assert_eq!(s.to_string(), "h:1:2:participant");
    }

    #[test]
    fn errors_name_the_key() {
        for bad in [
            "h:2888",
            "h:1:2:observer:x",
            "h:x:3888",
            "h:2888:2888",
            "h:1:2;3;4",
            "a:1:2|b:1:2",
            "[::1:1:2",
            "h:1:2;h:p",
            "h:1:2;a:b:3",
        ] {
            let err = parse("server.9", bad).unwrap_err();
            assert!(err.to_string().contains("server.9"), "{bad}: {err}");
        }
    }

    #[test]
    fn non_numeric_id_is_rejected() {
        assert!(parse("server.a", "h:1:2").is_err());
    }
}
