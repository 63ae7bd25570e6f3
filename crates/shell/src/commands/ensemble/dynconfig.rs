//! zkCli's Java machinery behind `config -c` and `reconfig -file`,
//! reproduced: `Properties.load`, the iteration order of the
//! `ConcurrentHashMap` behind `Properties` and of the `HashMap` of servers
//! in `QuorumMaj` (both decide the order servers are printed in),
//! `QuorumServer`'s parsing, checks and messages,
//! `ConfigUtils.getClientConfigStr` and `QuorumMaj.toString`.

use crate::commands::acl::java_split;

/// `ConfigUtils.getClientConfigStr`: the config version, a space, and the
/// client address of each `server.N` entry (comma separated, in the
/// order Java iterates them). Entries that do not parse are skipped with a
/// note, as Java prints their stack trace and goes on.
pub fn client_config_str(config: &str) -> (String, Vec<String>) {
    let mut notes = Vec::new();
    let props = match load_properties(config) {
        Ok(p) => p,
        Err(e) => {
            return (
                String::new(),
                vec![format!("java.lang.IllegalArgumentException: {e}")],
            )
        }
    };
    let mut version = String::new();
    let mut clients = Vec::new();
    for (k, v) in chm_order(props) {
        let (key, value) = (k.trim(), v.trim());
        if key == "version" {
            version = value.to_string();
        }
        if !key.starts_with("server.") {
            continue;
        }
        match QuorumServer::parse(-1, value) {
            Ok(qs) => clients.push(
                qs.client
                    .map(|(h, port)| format!("{h}:{port}"))
                    .unwrap_or_default(),
            ),
            Err(e) => notes.push(format!("{}: {e}", java_exception_class(&e))),
        }
    }
    (format!("{version} {}", clients.join(",")), notes)
}

/// The Java exception class behind one of [`QuorumServer::parse`]'s
/// messages (for the note that stands for Java's stack trace).
fn java_exception_class(msg: &str) -> &'static str {
    if msg.starts_with("port out of range") {
        "java.lang.IllegalArgumentException"
    } else if msg.starts_with("Index ") {
        "java.lang.ArrayIndexOutOfBoundsException"
    } else {
        "org.apache.zookeeper.server.quorum.QuorumPeerConfig$ConfigException"
    }
}

/// `InetSocketAddress.getHostString` of an address made from `host`: an
/// IP literal comes back as Java writes the address (IPv6 in full, without
/// `::`; an IPv4-mapped one as IPv4), a name as given.
fn java_host_string(host: &str) -> String {
    match host.parse::<std::net::Ipv6Addr>() {
        Ok(a) => match a.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => a
                .segments()
                .iter()
                .map(|g| format!("{g:x}"))
                .collect::<Vec<_>>()
                .join(":"),
        },
        Err(_) => host.to_string(),
    }
}

/// Reads a dynamic config file as `QuorumPeerConfig.parseDynamicConfig`
/// does and returns the membership as `QuorumMaj.toString` writes it.
/// The error is the Java exception's message.
pub(super) fn members_from_file(file: &str) -> Result<String, String> {
    let bytes = std::fs::read(file).map_err(|e| {
        let msg = e.to_string();
        let msg = msg.split(" (os error").next().unwrap_or(&msg).to_string();
        format!("{file} ({msg})")
    })?;
    // Properties.load(InputStream) reads ISO-8859-1.
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    members_from_text(&text)
}

/// The parse of a dynamic config text (see [`members_from_file`]).
fn members_from_text(text: &str) -> Result<String, String> {
    let entries = chm_order(load_properties(text)?);
    for (k, _) in &entries {
        let key = k.trim();
        if key.starts_with("group") || key.starts_with("weight") {
            return Err(
                "hierarchical quorums (group./weight. keys) are not supported by \
ferrozk shell's -file"
                    .into(),
            );
        }
        if !key.starts_with("server.") && key != "version" {
            return Err(format!("Unrecognised parameter: {key}"));
        }
    }
    let mut servers: Vec<(i64, QuorumServer)> = Vec::new();
    let mut version: i64 = 0;
    for (k, v) in &entries {
        if k.starts_with("server.") {
            let id_text = &k[k.find('.').map_or(0, |d| d + 1)..];
            let id: i64 = id_text
                .parse()
                .map_err(|_| format!("For input string: \"{id_text}\""))?;
            let qs = QuorumServer::parse(id, v)?;
            match servers.iter_mut().find(|(i, _)| *i == id) {
                Some(slot) => slot.1 = qs,
                None => servers.push((id, qs)),
            }
        } else if k == "version" {
            version = i64::from_str_radix(v, 16)
                .map_err(|_| format!("For input string: \"{v}\" under radix 16"))?;
        }
    }
    let voting = servers.iter().filter(|(_, s)| !s.observer).count();
    let observing = servers.len() - voting;
    if voting == 0 && observing > 0 {
        return Err("Observers w/o participants is an invalid configuration".into());
    }
    if voting == 1 && observing > 0 {
        return Err("Observers w/o quorum is an invalid configuration".into());
    }
    let mut out = String::new();
    for (id, qs) in hashmap_long_order(servers) {
        out.push_str(&format!("server.{id}={}\n", qs.render()));
    }
    out.push_str(&format!("version={:x}", version as u64));
    Ok(out)
}

/// One `server.N` value (`QuorumPeer.QuorumServer`), as parsed with
/// multiple addresses and host name canonicalization off (the defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
struct QuorumServer {
    host: String,
    port: u16,
    election_port: u16,
    observer: bool,
    client: Option<(String, u16)>,
}

const WRONG_FORMAT: &str = " does not have the form server_config or server_config;client_config \
where server_config is the pipe separated list of host:port:port or host:port:port:type and \
client_config is port or host:port";

impl QuorumServer {
    /// Parses `value`; the error is the message Java's parser throws.
    fn parse(id: i64, value: &str) -> Result<QuorumServer, String> {
        let sc = java_split(value, ';');
        let Some(server_part) = sc.first() else {
            return Err("Index 0 out of bounds for length 0".into());
        };
        let mut client = None;
        if sc.len() == 2 {
            let cp = host_and_port(sc[1])?;
            if cp.len() > 2 {
                return Err(format!("{value}{WRONG_FORMAT}"));
            }
            let host = if cp.len() == 2 {
                java_host_string(&cp[0])
            } else {
                "0.0.0.0".into()
            };
            let port_text = &cp[cp.len() - 1];
            let port = port_text
                .parse::<i32>()
                .map_err(|_| format!("Address unresolved: null:{port_text}"))?;
            client = Some((host, socket_port(port)?));
        }
        let addresses = java_split(server_part, '|');
        if addresses.len() > 1 {
            return Err(format!(
                "Multiple address feature is disabled, but multiple addresses were specified \
for sid {id}"
            ));
        }
        let sp = host_and_port(addresses[0])?;
        if sc.len() > 2 || sp.len() < 3 || sp.len() > 4 {
            return Err(format!("{value}{WRONG_FORMAT}"));
        }
        let raw_host = &sp[0];
        let host = java_host_string(raw_host);
        let port_of = |s: &str| -> Result<u16, String> {
            let p = s
                .parse::<i32>()
                .map_err(|_| format!("Address unresolved: {raw_host}:{s}"))?;
            socket_port(p)
        };
        let port = port_of(&sp[1])?;
        let election_port = port_of(&sp[2])?;
        if port == election_port {
            return Err(format!(
                "Client and election port must be different! Please update the configuration \
file on server.{id}"
            ));
        }
        let observer = match sp.get(3) {
            None => false,
            Some(t) => match t.trim().to_lowercase().as_str() {
                "observer" => true,
                "participant" => false,
                _ => return Err(format!("Unrecognised peertype: {t}")),
            },
        };
        Ok(QuorumServer {
            host,
            port,
            election_port,
            observer,
            client,
        })
    }

    /// `QuorumServer.toString`.
    fn render(&self) -> String {
        let mut s = format!(
            "{}:{}:{}:{}",
            delimited(&self.host),
            self.port,
            self.election_port,
            if self.observer {
                "observer"
            } else {
                "participant"
            }
        );
        if let Some((h, p)) = &self.client {
            s.push_str(&format!(";{}:{p}", delimited(h)));
        }
        s
    }
}

/// `InetSocketAddress`'s port check.
fn socket_port(p: i32) -> Result<u16, String> {
    u16::try_from(p).map_err(|_| format!("port out of range:{p}"))
}

/// `QuorumServer.delimitedHostString`: IPv6 hosts in brackets.
fn delimited(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// `ConfigUtils.getHostAndPort`: `host:port...` split on colons, with a
/// bracketed IPv6 host kept whole.
fn host_and_port(s: &str) -> Result<Vec<String>, String> {
    if !s.starts_with('[') {
        return Ok(java_split(s, ':').into_iter().map(String::from).collect());
    }
    let Some(i) = s.find(']') else {
        return Err(format!("{s} starts with '[' but has no matching ']:'"));
    };
    if i + 2 == s.len() {
        return Err(format!("{s} doesn't have a port after colon"));
    }
    if i + 2 < s.len() {
        let mut v = vec![s[1..i].to_string()];
        v.extend(java_split(&s[i + 2..], ':').into_iter().map(String::from));
        return Ok(v);
    }
    Ok(vec![s.replace(['[', ']'], "")])
}

/// `Properties.load`: `key=value`, `key:value` or `key value` lines,
/// `#`/`!` comments, backslash continuations and escapes. Entries in the
/// order first seen, a repeated key keeping its place with the last value.
fn load_properties(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in logical_lines(text) {
        let (key, value) = split_property(&line);
        let (key, value) = (unescape(&key)?, unescape(&value)?);
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => out.push((key, value)),
        }
    }
    Ok(out)
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{c}')
}

/// The logical lines of a properties text, as Java's `LineReader` reads
/// them: leading blanks dropped, blank lines and `#`/`!` comment lines
/// skipped, a line ending in an odd number of backslashes joined with the
/// next (whose leading blanks go too, and which is never a comment).
fn logical_lines(text: &str) -> Vec<Vec<char>> {
    let mut lines = Vec::new();
    let mut cur: Vec<char> = Vec::new();
    let mut skip_blanks = true;
    let mut appended = false;
    let mut new_line = true;
    let mut backslash = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let eol = c == '\n' || c == '\r';
        if skip_blanks {
            if is_blank(c) || (eol && !appended) {
                continue;
            }
            skip_blanks = false;
            appended = false;
        }
        if new_line {
            new_line = false;
            if c == '#' || c == '!' {
                while chars.next_if(|&c| c != '\n' && c != '\r').is_some() {}
                new_line = true;
                skip_blanks = true;
                continue;
            }
        }
        if !eol {
            cur.push(c);
            backslash = c == '\\' && !backslash;
            continue;
        }
        if backslash && chars.peek().is_none() {
            // Java returns the line when the input ends right after its
            // newline, even when the continuation left it empty.
            cur.pop();
            lines.push(std::mem::take(&mut cur));
            break;
        }
        if c == '\r' {
            chars.next_if_eq(&'\n');
        }
        if backslash {
            cur.pop();
            backslash = false;
            skip_blanks = true;
            appended = true;
            continue;
        }
        if !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
        }
        skip_blanks = true;
        new_line = true;
    }
    if backslash {
        cur.pop();
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// The key and the raw value of a logical line (Java's `load0` scan).
fn split_property(line: &[char]) -> (String, String) {
    let limit = line.len();
    let mut key_len = 0;
    let mut value_start = limit;
    let mut has_sep = false;
    let mut escaped = false;
    while key_len < limit {
        let c = line[key_len];
        if (c == '=' || c == ':') && !escaped {
            value_start = key_len + 1;
            has_sep = true;
            break;
        }
        if is_blank(c) && !escaped {
            value_start = key_len + 1;
            break;
        }
        escaped = c == '\\' && !escaped;
        key_len += 1;
    }
    while value_start < limit {
        let c = line[value_start];
        if !is_blank(c) {
            if !has_sep && (c == '=' || c == ':') {
                has_sep = true;
            } else {
                break;
            }
        }
        value_start += 1;
    }
    (
        line[..key_len].iter().collect(),
        line[value_start.min(limit)..].iter().collect(),
    )
}

/// `Properties.loadConvert`: `\uXXXX`, `\t`, `\n`, `\r`, `\f`, and any
/// other escaped character as itself.
fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('u') => {
                let hex: String = it.by_ref().take(4).collect();
                let v = (hex.len() == 4)
                    .then(|| u32::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .and_then(char::from_u32)
                    .ok_or_else(|| "Malformed \\uxxxx encoding.".to_string())?;
                out.push(v);
            }
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    Ok(out)
}

/// Java's `String.hashCode` (over UTF-16 code units).
fn java_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u)))
}

/// The order a `Properties` (a `ConcurrentHashMap` created with capacity
/// 8: a 16-bin table, doubled when 3/4 full) iterates `entries` inserted
/// in order: bin by bin, each bin in insertion order, except where a
/// resize split a bin (reproduced as `transfer` does it).
fn chm_order<V>(entries: Vec<(String, V)>) -> Vec<(String, V)> {
    let spread = |h: i32| ((h ^ ((h as u32) >> 16) as i32) & 0x7fff_ffff) as u32;
    let mut n: usize = 16;
    let mut size_ctl = 12;
    let mut table: Vec<Vec<(u32, usize)>> = vec![Vec::new(); n];
    for (idx, (k, _)) in entries.iter().enumerate() {
        let h = spread(java_hash(k));
        table[h as usize & (n - 1)].push((h, idx));
        if idx + 1 >= size_ctl {
            table = chm_transfer(table, n);
            n *= 2;
            size_ctl = n - (n >> 2);
        }
    }
    let mut slots: Vec<Option<(String, V)>> = entries.into_iter().map(Some).collect();
    table
        .into_iter()
        .flatten()
        .filter_map(|(_, idx)| slots[idx].take())
        .collect()
}

/// `ConcurrentHashMap.transfer` of a table of `n` bins into `2n`: each bin
/// splits by the `n` bit; its last run of nodes with the same bit keeps
/// its order, the nodes before it are prepended one by one.
fn chm_transfer(table: Vec<Vec<(u32, usize)>>, n: usize) -> Vec<Vec<(u32, usize)>> {
    let mut next = vec![Vec::new(); 2 * n];
    for (i, bin) in table.into_iter().enumerate() {
        if bin.is_empty() {
            continue;
        }
        let bit = |h: u32| h as usize & n;
        let mut last_run = 0;
        for j in 1..bin.len() {
            if bit(bin[j].0) != bit(bin[j - 1].0) {
                last_run = j;
            }
        }
        let run_bit = bit(bin[last_run].0);
        let (mut lo, mut hi) = (Vec::new(), Vec::new());
        if run_bit == 0 {
            lo.extend_from_slice(&bin[last_run..]);
        } else {
            hi.extend_from_slice(&bin[last_run..]);
        }
        for node in bin[..last_run].iter() {
            if bit(node.0) == 0 {
                lo.insert(0, *node);
            } else {
                hi.insert(0, *node);
            }
        }
        next[i] = lo;
        next[i + n] = hi;
    }
    next
}

/// The order a `HashMap<Long, _>` (16 bins, doubled past 3/4 full)
/// iterates `entries` inserted in order: by bin of the final table, and in
/// insertion order within a bin (HashMap's resize keeps that order).
fn hashmap_long_order<V>(entries: Vec<(i64, V)>) -> Vec<(i64, V)> {
    let mut n = 16usize;
    while entries.len() * 4 > n * 3 {
        n *= 2;
    }
    let bin = |v: i64| {
        let h = (v ^ ((v as u64) >> 32) as i64) as i32;
        ((h ^ ((h as u32) >> 16) as i32) as u32 as usize) & (n - 1)
    };
    let mut keyed: Vec<(usize, usize, (i64, V))> = entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| (bin(e.0), i, e))
        .collect();
    keyed.sort_by_key(|(b, i, _)| (*b, *i));
    keyed.into_iter().map(|(_, _, e)| e).collect()
}

#[cfg(test)]
mod tests {
    //! Expected values are what Java 17 with ZooKeeper 3.8.0's classes
    //! (`Properties.load`, `ConfigUtils.getClientConfigStr`,
    //! `QuorumPeerConfig.parseDynamicConfig(..).toString()`) gave for the
    //! same inputs.
    use super::*;

    fn keys(text: &str) -> Vec<String> {
        chm_order(load_properties(text).unwrap())
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    }

    #[test]
    fn properties_syntax() {
        let text = "a\\\n#notcomment=1\nb=\\\n\nc  =  d\\\\\ne\\=f:g\n\\\n";
        assert_eq!(keys(text), ["=", "b=", "a#notcomment=1", "c=d\\", "e=f=g"]);
        let text = "# comment\n  ! other\nserver.1 = a:1:2 \\\n   ;3\nserver.2 b:1:2;4\n\
server.3:c:1:2;5\n\\u0073erver.4=d:1:2;6\nversion=0\n";
        assert_eq!(
            keys(text),
            [
                "server.2=b:1:2;4",
                "server.1=a:1:2 ;3",
                "server.4=d:1:2;6",
                "server.3=c:1:2;5",
                "version=0"
            ]
        );
        assert_eq!(keys("a\\\r\nb=1\\\r\n"), ["ab=1"]);
        assert_eq!(
            keys("server.1=a:1:2\r\nserver.2=b:1:2\rserver.3=c:1:2\r\n").len(),
            3
        );
        assert_eq!(
            load_properties("k\\u00zz=1\n").unwrap_err(),
            "Malformed \\uxxxx encoding."
        );
    }

    #[test]
    fn java_iteration_orders() {
        let text: String = (1..=20)
            .map(|i| format!("server.{i}=10.0.0.{i}:2888:3888;{}\n", 2000 + i))
            .chain(["version=1f\n".to_string()])
            .collect();
        let order: Vec<String> = keys(&text)
            .into_iter()
            .map(|k| k.split('=').next().unwrap().to_string())
            .collect();
        let java = "server.18 server.19 server.16 server.17 version server.10 server.11 server.20 \
server.2 server.14 server.1 server.15 server.12 server.13 server.6 server.5 server.4 server.3 \
server.9 server.8 server.7";
        assert_eq!(order.join(" "), java, "a resized ConcurrentHashMap");
        let inserted = [
            1, 2, 3, 17, 18, 33, 34, 100, 1000, 65, 64, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
        ];
        let text: String = inserted
            .iter()
            .map(|i| format!("server.{i}=h{i}:1:2;{i}\n"))
            .collect();
        let members = members_from_text(&text).unwrap();
        let got: Vec<&str> = members
            .lines()
            .filter_map(|l| l.strip_prefix("server."))
            .map(|l| l.split('=').next().unwrap())
            .collect();
        let java = "64 65 33 1 2 34 3 100 7 1000 8 9 10 11 12 13 14 15 16 17 18";
        assert_eq!(
            got.join(" "),
            java,
            "a HashMap<Long> of 21 entries (64 bins)"
        );
    }

    #[test]
    fn client_config_strings() {
        let c = "server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\n\
server.2=127.0.0.1:2889:3889:participant;0.0.0.0:2182\n\
server.3=127.0.0.1:2890:3890:participant;0.0.0.0:2183\nversion=100000000\n";
        assert_eq!(
            client_config_str(c).0,
            "100000000 0.0.0.0:2182,0.0.0.0:2181,0.0.0.0:2183"
        );
        let c = "server.3=h3:1:2;2181\nserver.1=h1:1:2;h1:2181\nserver.2=h2:1:2:observer\nversion=abc\n";
        assert_eq!(client_config_str(c).0, "abc ,h1:2181,0.0.0.0:2181");
        let c = "server.1=A:1:2;B:3\nserver.01=x:5:6;7\nserver.2=b:1:2\nserver.3=c:1:2 \n";
        assert_eq!(client_config_str(c).0, " ,B:3,0.0.0.0:7,");
        let (line, notes) = client_config_str("server.1=a:1:1\n");
        assert_eq!(line, " ");
        assert_eq!(
            notes,
            [
                "org.apache.zookeeper.server.quorum.QuorumPeerConfig$ConfigException: Client and \
election port must be different! Please update the configuration file on server.-1"
            ]
        );
        assert_eq!(client_config_str("").0, " ");
        assert_eq!(
            client_config_str("server.1=[::1]:1:2;[::ffff:1.2.3.4]:5\n").0,
            " 1.2.3.4:5"
        );
    }

    #[test]
    fn dynamic_config_members() {
        let m = members_from_text(
            "server.3=h3:1:2;2181\nserver.1=h1:1:2;h1:2181\nserver.2=h2:1:2:observer\nversion=abc\n",
        );
        assert_eq!(
            m.unwrap(),
            "server.1=h1:1:2:participant;h1:2181\nserver.2=h2:1:2:observer\n\
server.3=h3:1:2:participant;0.0.0.0:2181\nversion=abc"
        );
        let m = members_from_text(
            "server.1=[::1]:1:2;[::ffff:1.2.3.4]:5\nserver.2=[fe80::1]:1:2\nserver.3=127.0.0.1:1:2\n",
        );
        assert_eq!(
            m.unwrap(),
            "server.1=[0:0:0:0:0:0:0:1]:1:2:participant;1.2.3.4:5\n\
server.2=[fe80:0:0:0:0:0:0:1]:1:2:participant\nserver.3=127.0.0.1:1:2:participant\nversion=0"
        );
        assert_eq!(members_from_text("").unwrap(), "version=0");
        assert_eq!(
            members_from_text("server.1=a:1:2;\n").unwrap(),
            "server.1=a:1:2:participant\nversion=0"
        );
    }

    #[test]
    fn dynamic_config_errors() {
        let err = |t: &str| members_from_text(t).unwrap_err();
        assert_eq!(err("server.1=a:1:2:foo\n"), "Unrecognised peertype: foo");
        assert_eq!(
            err("server.1=a:1:2|b:1:2\n"),
            "Multiple address feature is disabled, but multiple addresses were specified for sid 1"
        );
        assert_eq!(err("server.x=a:1:2\n"), "For input string: \"x\"");
        assert_eq!(err("server.1=a:x:2\n"), "Address unresolved: a:x");
        assert_eq!(err("server.1=a:1:2;h:x\n"), "Address unresolved: null:x");
        assert_eq!(err("server.1=a:1:2 \n"), "Address unresolved: a:2 ");
        assert!(err("server.1=a:1:2;h:1:2\n").ends_with(" and client_config is port or host:port"));
        assert_eq!(
            err("foo=bar\nserver.1=a:1:2\n"),
            "Unrecognised parameter: foo"
        );
        assert_eq!(
            err("server.1=a:1:2:observer\n"),
            "Observers w/o participants is an invalid configuration"
        );
        assert_eq!(
            err("server.1=a:1:2\nserver.2=b:1:2:observer\n"),
            "Observers w/o quorum is an invalid configuration"
        );
        assert_eq!(
            err("version=zz\n"),
            "For input string: \"zz\" under radix 16"
        );
        assert_eq!(err("server.1=a:1:99999\n"), "port out of range:99999");
        assert_eq!(err("server.1=;\n"), "Index 0 out of bounds for length 0");
        assert_eq!(
            err("server.1=[::1]:\n"),
            "[::1]: doesn't have a port after colon"
        );
        assert_eq!(
            err("server.1=[::1:3:4\n"),
            "[::1:3:4 starts with '[' but has no matching ']:'"
        );
        assert_eq!(err("server.1=[::1]x:1:2\n"), "Address unresolved: ::1:");
    }

    #[test]
    fn a_missing_file_reads_as_java_says() {
        assert_eq!(
            members_from_file("/nonexistent-ferrozk").unwrap_err(),
            "/nonexistent-ferrozk (No such file or directory)"
        );
    }
}
