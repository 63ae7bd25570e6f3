//! Rendering: zkCli's text (`StatPrinter`, `Date.toString`, permission
//! strings, `WatchedEvent.toString`) and the JSON form of the same values.

use ferrozk_client::{Stat, WatchedEvent, ACL};
use serde_json::{json, Value};

/// Java's `new Date(ms).toString()` in the local time zone:
/// `Thu Jan 01 00:00:00 UTC 1970`.
pub fn java_date(ms: i64) -> String {
    let Ok(ts) = jiff::Timestamp::from_millisecond(ms) else {
        return ms.to_string();
    };
    ts.to_zoned(jiff::tz::TimeZone::system())
        .strftime("%a %b %d %H:%M:%S %Z %Y")
        .to_string()
}

/// Java's `Long.toHexString`: two's complement for negative values.
pub fn hex(v: i64) -> String {
    format!("{:x}", v as u64)
}

/// `StatPrinter.print`.
pub fn stat_text(s: &Stat) -> String {
    format!(
        "cZxid = 0x{}\nctime = {}\nmZxid = 0x{}\nmtime = {}\npZxid = 0x{}\ncversion = {}\n\
dataVersion = {}\naclVersion = {}\nephemeralOwner = 0x{}\ndataLength = {}\nnumChildren = {}\n",
        hex(s.czxid),
        java_date(s.ctime),
        hex(s.mzxid),
        java_date(s.mtime),
        hex(s.pzxid),
        s.cversion,
        s.version,
        s.aversion,
        hex(s.ephemeral_owner),
        s.data_length,
        s.num_children,
    )
}

/// A stat as JSON, with ZooKeeper's field names (the `Stat` record's).
pub fn stat_json(s: &Stat) -> Value {
    json!({
        "czxid": s.czxid,
        "mzxid": s.mzxid,
        "ctime": s.ctime,
        "mtime": s.mtime,
        "version": s.version,
        "cversion": s.cversion,
        "aversion": s.aversion,
        "ephemeralOwner": s.ephemeral_owner,
        "dataLength": s.data_length,
        "numChildren": s.num_children,
        "pzxid": s.pzxid,
    })
}

/// `ZKUtil.getPermString`: the letters of `perms`, in `cdrwa` order.
pub fn perm_string(perms: i32) -> String {
    use ferrozk_proto::ops::perms::*;
    [
        (CREATE, 'c'),
        (DELETE, 'd'),
        (READ, 'r'),
        (WRITE, 'w'),
        (ADMIN, 'a'),
    ]
    .iter()
    .filter(|(bit, _)| perms & bit != 0)
    .map(|(_, c)| *c)
    .collect()
}

/// getAcl's text: `'scheme,'id` then `: perms`, per entry (the jute
/// `Id.toString` followed by zkCli's `": " + perms`).
pub fn acl_text(acl: &[ACL]) -> String {
    acl.iter()
        .map(|a| {
            format!(
                "'{},'{}\n: {}\n",
                a.id.scheme,
                a.id.id,
                perm_string(a.perms)
            )
        })
        .collect()
}

/// An ACL list as JSON.
pub fn acl_json(acl: &[ACL]) -> Value {
    Value::Array(
        acl.iter()
            .map(|a| {
                json!({
                    "scheme": a.id.scheme,
                    "id": a.id.id,
                    "perms": perm_string(a.perms),
                })
            })
            .collect(),
    )
}

/// Whether `data` is text that prints safely: UTF-8 without control
/// characters other than tab, newline and carriage return.
pub fn is_printable(data: &[u8]) -> bool {
    match std::str::from_utf8(data) {
        Ok(s) => !s
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')),
        Err(_) => false,
    }
}

/// Node data for the terminal: text as is (zkCli prints `null` for a node
/// without data), anything else as `0x` and hex digits, so binary data
/// never reaches the terminal raw.
pub fn data_text(data: Option<&[u8]>) -> String {
    match data {
        None => "null".to_string(),
        Some(d) if is_printable(d) => String::from_utf8_lossy(d).into_owned(),
        Some(d) => {
            let mut s = String::with_capacity(2 + 2 * d.len());
            s.push_str("0x");
            for b in d {
                s.push_str(&format!("{b:02x}"));
            }
            s
        }
    }
}

/// Node data as JSON: `{"text": …}` for printable text, `{"base64": …}`
/// otherwise, `null` for none.
pub fn data_json(data: Option<&[u8]>) -> Value {
    use base64::Engine;
    match data {
        None => Value::Null,
        Some(d) if is_printable(d) => json!({ "text": String::from_utf8_lossy(d) }),
        Some(d) => json!({ "base64": base64::engine::general_purpose::STANDARD.encode(d) }),
    }
}

/// `WatchedEvent.toString` of the 3.8 Java client.
pub fn event_text(e: &WatchedEvent) -> String {
    format!(
        "WatchedEvent state:{:?} type:{:?} path:{}",
        e.keeper_state,
        e.event_type,
        e.path.as_deref().unwrap_or("null")
    )
}

/// A watch event as JSON.
pub fn event_json(e: &WatchedEvent) -> Value {
    json!({
        "event": {
            "state": format!("{:?}", e.keeper_state),
            "type": format!("{:?}", e.event_type),
            "path": e.path,
            "zxid": e.zxid,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zkcli_text() {
        assert_eq!(perm_string(31), "cdrwa");
        assert_eq!(perm_string(1 | 16), "ra");
        assert_eq!(hex(-1), "ffffffffffffffff");
        assert!(java_date(0).ends_with(" 1970") || java_date(0).ends_with(" 1969"));
        let s = stat_text(&Stat::default());
        assert!(s.starts_with("cZxid = 0x0\nctime = "));
        assert!(s.ends_with("dataLength = 0\nnumChildren = 0\n"));
    }

    #[test]
    fn data_is_shown_safely() {
        assert_eq!(data_text(None), "null");
        assert_eq!(data_text(Some(b"hello\n")), "hello\n");
        assert_eq!(data_text(Some(&[0, 1, 0xff])), "0x0001ff");
        assert_eq!(data_json(Some(&[0xff])), json!({"base64": "/w=="}));
        assert_eq!(data_json(Some(b"hi")), json!({"text": "hi"}));
    }
}
