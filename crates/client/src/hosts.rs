//! The connect string (`"host:port,host:port[/chroot]"`) and the chroot
//! mapping between client paths and server paths.
//!
//! With a chroot `/app`, the client path `/x` is the server path `/app/x`
//! and the client's `/` is `/app`. Paths the server sends back (created
//! names, notifications, multi results) are mapped the other way. Pure code.

use ferrozk_proto::path::{self, InvalidPath};

/// The port ZooKeeper listens on when the connect string names none.
pub const DEFAULT_PORT: u16 = 2181;

/// Why a connect string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectStringError {
    /// No host was listed.
    #[error("connect string lists no host")]
    Empty,
    /// A port did not parse.
    #[error("bad port in {0:?}")]
    BadPort(String),
    /// The chroot is not a valid path.
    #[error("bad chroot: {0}")]
    BadChroot(#[from] InvalidPath),
}

/// A parsed connect string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectString {
    /// `host:port` pairs in the order given.
    pub hosts: Vec<(String, u16)>,
    /// The chroot.
    pub chroot: Chroot,
}

impl ConnectString {
    /// Parses `"h:p,h:p[/chroot]"`; a missing port is 2181, IPv6 hosts go in
    /// brackets (`[::1]:2181`).
    pub fn parse(s: &str) -> Result<ConnectString, ConnectStringError> {
        let (list, chroot) = match s.find('/') {
            Some(i) => (&s[..i], Chroot::new(&s[i..])?),
            None => (s, Chroot::default()),
        };
        let mut hosts = Vec::new();
        for item in list.split(',').map(str::trim).filter(|h| !h.is_empty()) {
            hosts.push(parse_host(item)?);
        }
        if hosts.is_empty() {
            return Err(ConnectStringError::Empty);
        }
        Ok(ConnectString { hosts, chroot })
    }
}

fn parse_host(item: &str) -> Result<(String, u16), ConnectStringError> {
    let bad = || ConnectStringError::BadPort(item.to_string());
    if let Some(rest) = item.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| bad())?,
            None if after.is_empty() => DEFAULT_PORT,
            None => return Err(bad()),
        };
        return Ok((host.to_string(), port));
    }
    match item.rsplit_once(':') {
        Some((host, port)) => Ok((host.to_string(), port.parse().map_err(|_| bad())?)),
        None => Ok((item.to_string(), DEFAULT_PORT)),
    }
}

/// A chroot prefix; the default is none.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Chroot(Option<String>);

impl Chroot {
    /// A chroot at `root` (validated; `/` means none).
    pub fn new(root: &str) -> Result<Chroot, InvalidPath> {
        path::validate(root, false)?;
        Ok(Chroot(if root == "/" {
            None
        } else {
            Some(root.to_string())
        }))
    }

    /// The server path of a client path.
    pub fn to_server(&self, client_path: &str) -> String {
        match &self.0 {
            None => client_path.to_string(),
            Some(root) if client_path == "/" => root.clone(),
            Some(root) => {
                let mut s = String::with_capacity(root.len() + client_path.len());
                s.push_str(root);
                s.push_str(client_path);
                s
            }
        }
    }

    /// The client path of a server path. A path outside the chroot (which a
    /// correct server never sends) is returned unchanged.
    pub fn to_client(&self, server_path: String) -> String {
        let Some(root) = &self.0 else {
            return server_path;
        };
        match server_path.strip_prefix(root.as_str()) {
            Some("") => "/".to_string(),
            Some(rest) if rest.starts_with('/') => rest.to_string(),
            _ => server_path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts_ports_and_chroot() {
        let cs = ConnectString::parse("a:1, b ,[::1]:3,[fe80::1]/app/x").unwrap();
        assert_eq!(
            cs.hosts,
            vec![
                ("a".into(), 1),
                ("b".into(), 2181),
                ("::1".into(), 3),
                ("fe80::1".into(), 2181)
            ]
        );
        assert_eq!(cs.chroot, Chroot::new("/app/x").unwrap());
    }

    #[test]
    fn rejects_bad_strings() {
        assert_eq!(ConnectString::parse(""), Err(ConnectStringError::Empty));
        assert_eq!(ConnectString::parse("/a"), Err(ConnectStringError::Empty));
        assert!(matches!(
            ConnectString::parse("a:x"),
            Err(ConnectStringError::BadPort(_))
        ));
        assert!(matches!(
            ConnectString::parse("a:1/b/"),
            Err(ConnectStringError::BadChroot(_))
        ));
    }

    #[test]
    fn root_chroot_is_no_chroot() {
        let cs = ConnectString::parse("h:1/").unwrap();
        assert_eq!(cs.chroot, Chroot::default());
        assert_eq!(cs.chroot.to_server("/a"), "/a");
    }

    #[test]
    fn chroot_maps_both_ways() {
        let c = Chroot::new("/app").unwrap();
        assert_eq!(c.to_server("/"), "/app");
        assert_eq!(c.to_server("/x/y"), "/app/x/y");
        assert_eq!(c.to_client("/app".into()), "/");
        assert_eq!(c.to_client("/app/x".into()), "/x");
        // A sibling that merely shares the prefix is not inside the chroot.
        assert_eq!(c.to_client("/apple".into()), "/apple");
        assert_eq!(c.to_client("/other".into()), "/other");
    }
}
