//! The AdminServer's JSON: the body shapes of ZooKeeper's `CommandResponse`
//! and the text layout of its `JsonOutputter` (Jackson's default pretty
//! printer), so that a tool that diffs or greps the answers sees what it
//! sees from ZooKeeper.
//!
//! Jackson's pretty printer writes `{`, each entry on its own line indented
//! by two spaces per object level as `"key" : value`, and `}` on its own
//! line; arrays stay on one line (`[ 1, 2 ]`, `[ {` … `} ]`) and do not add
//! an indentation level; empty containers are `{ }` and `[ ]`; there is no
//! newline at the end. Doubles print as Java's `Double.toString` (`0.0`,
//! `5.0E-4`).
//!
//! A response is the command's data, then `command` and `error` — unless
//! the data itself holds `error` (ZooKeeper's `CommandResponse.toMap` puts
//! the data first and only then the two keys, and a key already present
//! keeps its place): then `error` comes first, as in `leader` on a
//! standalone server.

use std::io;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::ser::Formatter;

/// Serializes a command's body as ZooKeeper prints it.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::with_capacity(256);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Jackson::default());
    value
        .serialize(&mut ser)
        .expect("admin responses are maps of plain values");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// A successful answer: `data`'s fields, then `"command"` and `"error" : null`.
#[derive(Serialize)]
pub struct Ok<'a, T: Serialize> {
    #[serde(flatten)]
    data: &'a T,
    command: &'a str,
    error: Option<&'a str>,
}

/// The body of command `command` that ran and produced `data`.
pub fn ok<'a, T: Serialize>(command: &'a str, data: &'a T) -> String {
    to_string(&Ok {
        data,
        command,
        error: None,
    })
}

/// A command that ran and put an error into its data (`leader` on a
/// standalone server, `set_trace_mask` without its argument): `error`
/// first, then `command`.
pub fn data_error(command: &str, error: &str) -> String {
    #[derive(Serialize)]
    struct Body<'a> {
        error: &'a str,
        command: &'a str,
    }
    to_string(&Body { error, command })
}

/// A command that did not run (unknown, or the server is not serving):
/// `command`, then `error`.
pub fn refused(command: &str, error: &str) -> String {
    #[derive(Serialize)]
    struct Body<'a> {
        command: &'a str,
        error: &'a str,
    }
    to_string(&Body { command, error })
}

/// Entries serialized as a JSON object in the order given (serde_json's
/// own map sorts its keys; ZooKeeper's maps are ordered by insertion or
/// by Java's hash order, which the caller reproduces).
#[derive(Debug, Clone)]
pub struct Entries<K, V>(pub Vec<(K, V)>);

impl<K, V> Default for Entries<K, V> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<K: Serialize, V: Serialize> Serialize for Entries<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Jackson's `DefaultPrettyPrinter` as a serde_json formatter.
#[derive(Debug, Default)]
struct Jackson {
    /// Object nesting (arrays do not indent).
    depth: usize,
    /// Whether the innermost open object has entries, per open object.
    has_entries: Vec<bool>,
}

impl Jackson {
    fn newline_indent<W: ?Sized + io::Write>(&self, w: &mut W) -> io::Result<()> {
        w.write_all(b"\n")?;
        for _ in 0..self.depth {
            w.write_all(b"  ")?;
        }
        Ok(())
    }
}

impl Formatter for Jackson {
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_entries.push(false);
        w.write_all(b"{")
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth -= 1;
        if self.has_entries.pop().unwrap_or(false) {
            self.newline_indent(w)?;
        } else {
            w.write_all(b" ")?;
        }
        w.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if let Some(h) = self.has_entries.last_mut() {
            *h = true;
        }
        if !first {
            w.write_all(b",")?;
        }
        self.newline_indent(w)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b" : ")
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b"[")
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        // Empty or not, Jackson's inline array indenter writes one space.
        w.write_all(b" ]")
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        w.write_all(b" ")
    }

    fn write_f64<W: ?Sized + io::Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        w.write_all(crate::server::core::stats::java_double(value).as_bytes())
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, w: &mut W, value: f32) -> io::Result<()> {
        self.write_f64(w, f64::from(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Conn {
        remote_socket_address: &'static str,
        interest_ops: i32,
    }

    #[derive(Serialize)]
    struct Cons {
        connections: Vec<Conn>,
        secure_connections: Vec<Conn>,
    }

    #[test]
    fn nested_objects_and_arrays_print_as_jackson_does() {
        let body = ok(
            "connections",
            &Cons {
                connections: vec![Conn {
                    remote_socket_address: "127.0.0.1:38912",
                    interest_ops: 1,
                }],
                secure_connections: vec![],
            },
        );
        assert_eq!(
            body,
            "{\n  \"connections\" : [ {\n    \"remote_socket_address\" : \"127.0.0.1:38912\",\n    \
             \"interest_ops\" : 1\n  } ],\n  \"secure_connections\" : [ ],\n  \
             \"command\" : \"connections\",\n  \"error\" : null\n}"
        );
    }

    #[test]
    fn maps_keep_their_order_and_empty_ones_are_spaced() {
        let watches = Entries(vec![("/b", vec![2i64, 1]), ("/a", vec![3])]);
        #[derive(Serialize)]
        struct W<'a> {
            path_to_session_ids: &'a Entries<&'static str, Vec<i64>>,
            current_config: Entries<String, i32>,
        }
        let body = ok(
            "watches_by_path",
            &W {
                path_to_session_ids: &watches,
                current_config: Entries::default(),
            },
        );
        assert_eq!(
            body,
            "{\n  \"path_to_session_ids\" : {\n    \"/b\" : [ 2, 1 ],\n    \"/a\" : [ 3 ]\n  },\n  \
             \"current_config\" : { },\n  \"command\" : \"watches_by_path\",\n  \"error\" : null\n}"
        );
    }

    #[test]
    fn error_bodies_order_their_keys_as_zookeeper() {
        assert_eq!(
            refused("nope", "Unknown command: nope"),
            "{\n  \"command\" : \"nope\",\n  \"error\" : \"Unknown command: nope\"\n}"
        );
        assert_eq!(
            data_error("leader", "server is not initialized"),
            "{\n  \"error\" : \"server is not initialized\",\n  \"command\" : \"leader\"\n}"
        );
    }

    #[test]
    fn doubles_and_escapes_are_javas() {
        #[derive(Serialize)]
        struct D {
            avg_latency: f64,
            small: f64,
            text: &'static str,
        }
        let body = ok(
            "x",
            &D {
                avg_latency: 0.0,
                small: 0.0005,
                text: "a=1\nb=\"2\"",
            },
        );
        assert!(body.contains("\"avg_latency\" : 0.0,"), "{body}");
        assert!(body.contains("\"small\" : 5.0E-4,"), "{body}");
        assert!(body.contains(r#""text" : "a=1\nb=\"2\"""#), "{body}");
    }
}
