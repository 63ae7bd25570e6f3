//! A minimal blocking raw-protocol session, for tests that need to see
//! exactly what a server sends: bad-input and differential tests.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use ferrozk::proto::connect::Connect;
use ferrozk::proto::records::proto::*;
use ferrozk::proto::{Jute, OpCode, Request};

/// How long a read may wait before the test calls the server stuck.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// One connection.
pub struct Raw {
    pub sock: TcpStream,
    pub session_id: i64,
    pub passwd: Bytes,
}

impl Raw {
    /// A TCP connection without handshake.
    pub fn open(addr: &str) -> Raw {
        let sock = TcpStream::connect(addr).expect("connect");
        sock.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        Raw {
            sock,
            session_id: 0,
            passwd: Bytes::from_static(&[0; 16]),
        }
    }

    /// Opens a connection and establishes a new session.
    pub fn session(addr: &str) -> Raw {
        Raw::resume(addr, 0, Bytes::from_static(&[0; 16])).expect("session established")
    }

    /// A connect request with the usual fields.
    pub fn connect_request(
        time_out: i32,
        last_zxid_seen: i64,
        session_id: i64,
        passwd: Bytes,
    ) -> ConnectRequest {
        ConnectRequest {
            protocol_version: 0,
            last_zxid_seen,
            time_out,
            session_id,
            passwd: Some(passwd),
        }
    }

    /// Opens a connection and sends `req` (with the readOnly byte), without
    /// waiting for the answer.
    pub fn send_connect(addr: &str, req: ConnectRequest) -> Raw {
        let mut r = Raw::open(addr);
        let mut body = BytesMut::new();
        Connect {
            req,
            read_only: Some(false),
        }
        .encode(&mut body);
        r.send_frame(&body);
        r
    }

    /// Opens a connection for `session_id` (0 = new); `None` if the server
    /// refused the session (timeout 0) or closed the connection.
    pub fn resume(addr: &str, session_id: i64, passwd: Bytes) -> Option<Raw> {
        let mut r = Raw::send_connect(addr, Raw::connect_request(30000, 0, session_id, passwd));
        let frame = r.read_frame()?;
        let (rsp, _) =
            ferrozk::proto::connect::decode_response(frame).expect("connect reply decodes");
        if rsp.time_out <= 0 {
            return None;
        }
        r.session_id = rsp.session_id;
        r.passwd = rsp.passwd.unwrap_or_default();
        Some(r)
    }

    /// Writes bytes. A server that already closed the connection can make
    /// this fail; the caller then sees the close when it reads.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        let _ = self.sock.write_all(bytes);
    }

    pub fn send_frame(&mut self, body: &[u8]) {
        let mut f = BytesMut::new();
        f.put_i32(body.len() as i32);
        f.put_slice(body);
        self.send_raw(&f);
    }

    /// Sends a raw request body under `op`.
    pub fn request(&mut self, xid: i32, op: i32, body: &[u8]) {
        let mut f = BytesMut::new();
        RequestHeader { xid, r#type: op }.encode(&mut f);
        f.put_slice(body);
        self.send_frame(&f);
    }

    /// Sends a typed request.
    pub fn send(&mut self, xid: i32, req: &Request) {
        let mut body = BytesMut::new();
        req.encode(&mut body);
        self.request(xid, req.opcode(), &body);
    }

    /// Next frame; `None` once the server closed the connection.
    pub fn read_frame(&mut self) -> Option<Bytes> {
        let mut len = [0u8; 4];
        match self.sock.read_exact(&mut len) {
            Ok(()) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset
                ) =>
            {
                return None
            }
            Err(e) => {
                panic!("read failed (timeout means the server neither answered nor closed): {e}")
            }
        }
        let mut buf = vec![0u8; i32::from_be_bytes(len) as usize];
        self.sock.read_exact(&mut buf).ok()?;
        Some(Bytes::from(buf))
    }

    /// Waits up to `wait` for a frame: `Ok(Some)` a frame, `Ok(None)` the
    /// server closed the connection, `Err(())` nothing arrived in time.
    pub fn frame_within(&mut self, wait: Duration) -> Result<Option<Bytes>, ()> {
        self.sock.set_read_timeout(Some(wait)).unwrap();
        let mut first = [0u8; 1];
        let got = self.sock.peek(&mut first);
        self.sock.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        match got {
            Ok(0) => Ok(None),
            Ok(_) => Ok(self.read_frame()),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Err(()),
            Err(_) => Ok(None),
        }
    }

    /// Sends a ping (xid -2), keeping the session alive.
    pub fn ping(&mut self) {
        self.request(-2, OpCode::Ping.code(), &[]);
    }

    /// Next reply that is not a notification; notifications read on the way
    /// are appended to `events`.
    pub fn reply_collecting(
        &mut self,
        events: &mut Vec<WatcherEvent>,
    ) -> Option<(ReplyHeader, Bytes)> {
        loop {
            let mut f = self.read_frame()?;
            let h = ReplyHeader::decode(&mut f).unwrap();
            if h.xid == -1 {
                events.push(WatcherEvent::decode(&mut f).unwrap());
            } else {
                return Some((h, f));
            }
        }
    }

    /// Next reply that is not a notification.
    pub fn reply(&mut self) -> Option<(ReplyHeader, Bytes)> {
        self.reply_collecting(&mut Vec::new())
    }

    /// Asserts the server closes this connection (EOF or reset).
    pub fn expect_closed(&mut self, what: &str) {
        if let Some(f) = self.read_frame() {
            panic!(
                "{what}: expected the connection to be closed, got a {}-byte frame",
                f.len()
            );
        }
    }

    pub fn get_data(&mut self, xid: i32, path: &str) -> (ReplyHeader, Bytes) {
        self.request(
            xid,
            OpCode::GetData.code(),
            &GetDataRequest {
                path: path.into(),
                watch: false,
            }
            .to_bytes(),
        );
        self.reply().expect("reply")
    }

    pub fn create(&mut self, xid: i32, path: &str, data: &[u8]) -> ReplyHeader {
        let acl = ferrozk::tree::acl::open_acl_unsafe();
        let req = CreateRequest {
            path: path.into(),
            data: Some(Bytes::copy_from_slice(data)),
            acl,
            flags: 0,
        };
        self.request(xid, OpCode::Create.code(), &req.to_bytes());
        self.reply().expect("reply").0
    }
}
