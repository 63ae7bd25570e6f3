//! The AdminServer's HTTP side, shaped like ZooKeeper's Jetty servlet
//! (`JettyAdminServer.CommandServlet`) mounted at `admin.commandURL`:
//!
//! - `GET <url>` and `GET <url>/`: the list of commands, one HTML link per
//!   primary name, sorted, each followed by `<br/>` (no content type, as
//!   Jetty leaves it);
//! - `GET <url>/<name>[?key=value…]`: the command's JSON, always status
//!   200 — an unknown name or a server that does not serve is an `error`
//!   inside the body, as in ZooKeeper;
//! - HEAD answers as GET without a body (the servlet's `doHead` runs the
//!   command too); TRACE is refused with 403 (ZooKeeper constrains it);
//!   other methods on the command path get 405, and any other path 404,
//!   with an HTML error page like Jetty's.
//!
//! A command runs on the driver (`CoreMsg::Admin`): the handler waits for
//! its answer without blocking anything else; if the driver is gone, the
//! answer is ZooKeeper's "not currently serving" error.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use tokio::sync::{mpsc, oneshot};

use super::commands;
use super::json;
use crate::server::mailbox::CoreMsg;

/// What every request handler shares.
pub struct Shared {
    /// `admin.commandURL` without a trailing slash.
    pub url: String,
    /// The driver's queue.
    pub core: mpsc::Sender<CoreMsg>,
}

/// The router: everything goes to [`handle`], which dispatches on the path
/// the way the servlet mapping `<url>/*` does.
pub fn router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(shared)
}

/// Where a request path lands.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// The command list.
    List,
    /// A command, by the name asked (decoded).
    Command(String),
    /// Outside the servlet.
    Elsewhere,
}

fn target(url: &str, path: &str) -> Target {
    let path = percent_decode(path);
    let Some(rest) = path.strip_prefix(url) else {
        return Target::Elsewhere;
    };
    match rest.strip_prefix('/') {
        _ if rest.is_empty() => Target::List,
        Some("") => Target::List,
        Some(name) => Target::Command(name.to_owned()),
        None => Target::Elsewhere,
    }
}

async fn handle(State(shared): State<Arc<Shared>>, method: Method, uri: Uri) -> Response {
    if method == Method::TRACE {
        return empty(StatusCode::FORBIDDEN);
    }
    let target = target(&shared.url, uri.path());
    if target == Target::Elsewhere {
        return error_page(StatusCode::NOT_FOUND, "Not Found", uri.path());
    }
    match method {
        Method::GET | Method::HEAD => {}
        Method::OPTIONS => {
            let mut r = empty(StatusCode::OK);
            r.headers_mut().insert(
                header::ALLOW,
                HeaderValue::from_static("GET, HEAD, TRACE, OPTIONS"),
            );
            return r;
        }
        other => {
            let message = format!("HTTP method {other} is not supported by this URL");
            return error_page(StatusCode::METHOD_NOT_ALLOWED, &message, uri.path());
        }
    }
    match target {
        Target::List => list(&shared.url),
        Target::Command(name) => {
            // Query parameters: the first value of each key, as the
            // servlet's parameter map gives them.
            let params = Query::<Vec<(String, String)>>::try_from_uri(&uri)
                .map(|q| q.0)
                .unwrap_or_default();
            let body = run(&shared, name, params).await;
            let mut r = Response::new(Body::from(body));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        Target::Elsewhere => unreachable!("answered above"),
    }
}

/// Runs a command on the driver and returns its JSON body.
async fn run(shared: &Shared, name: String, params: Vec<(String, String)>) -> String {
    if commands::find(&name).is_none() {
        return json::refused(&name, &format!("Unknown command: {name}"));
    }
    let not_serving = |name: &str| json::refused(name, commands::NOT_SERVING);
    let (reply, answer) = oneshot::channel();
    let msg = CoreMsg::Admin {
        name: name.clone(),
        params,
        reply,
    };
    if shared.core.send(msg).await.is_err() {
        return not_serving(&name);
    }
    answer.await.unwrap_or_else(|_| not_serving(&name))
}

/// The command list page.
fn list(url: &str) -> Response {
    let mut body = String::new();
    for name in commands::primary_names() {
        body.push_str(&format!("<a href=\"{url}/{name}\">{name}</a>\n<br/>\n"));
    }
    Response::new(Body::from(body))
}

fn empty(status: StatusCode) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = status;
    r
}

/// An error page in the layout of Jetty's (ErrorHandler).
fn error_page(status: StatusCode, message: &str, uri: &str) -> Response {
    let code = status.as_u16();
    let message = html_escape(message);
    let uri = html_escape(uri);
    let body = format!(
        "<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=ISO-8859-1\"/>\n\
         <title>Error {code} {message}</title>\n</head>\n<body><h2>HTTP ERROR {code} {message}</h2>\n\
         <table>\n<tr><th>URI:</th><td>{uri}</td></tr>\n<tr><th>STATUS:</th><td>{code}</td></tr>\n\
         <tr><th>MESSAGE:</th><td>{message}</td></tr>\n</table>\n\n</body>\n</html>\n"
    );
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html;charset=iso-8859-1"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("must-revalidate,no-cache,no-store"),
    );
    r
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Decodes `%XX` escapes of a path (Jetty hands the servlet the decoded
/// path info); invalid escapes stay as they are.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_as_the_servlet_mapping_does() {
        let url = "/commands";
        assert_eq!(target(url, "/commands"), Target::List);
        assert_eq!(target(url, "/commands/"), Target::List);
        assert_eq!(
            target(url, "/commands/ruok"),
            Target::Command("ruok".into())
        );
        assert_eq!(
            target(url, "/commands/ru%6Fk"),
            Target::Command("ruok".into())
        );
        assert_eq!(target(url, "/commands/a/b"), Target::Command("a/b".into()));
        assert_eq!(target(url, "/commandsx"), Target::Elsewhere);
        assert_eq!(target(url, "/"), Target::Elsewhere);
        assert_eq!(target(url, "/nope"), Target::Elsewhere);
    }

    #[test]
    fn percent_escapes_decode_and_bad_ones_stay() {
        assert_eq!(percent_decode("/a%20b"), "/a b");
        assert_eq!(percent_decode("/a%2"), "/a%2");
        assert_eq!(percent_decode("/a%zz"), "/a%zz");
        assert_eq!(percent_decode("%41"), "A");
    }
}
