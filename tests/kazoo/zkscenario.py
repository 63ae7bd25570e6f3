"""Shared machinery for ferrozk's kazoo scenarios (differential tests).

Each scenario script runs one deterministic sequence of ZooKeeper operations
through kazoo 2.8 (Debian's python3-kazoo, run with /usr/bin/python3) against
the server address given as argv[1], and prints ONE JSON document on stdout:

    {"scenario": NAME, "transcript": [[label, result], ...], "failures": [...]}

The transcript is normalised so that two correct servers produce identical
documents: zxids become ordinals in order of first appearance ("z1", "z2",
...), session ids become the names the script gave its clients, times become
"0" or "now", children lists are sorted (Apache ZooKeeper returns children in
hash-set order), large payloads become length + sha1.  Errors are recorded by
kazoo exception class name.  Watch notifications are read off the wire (in
kazoo's reader thread, before the reply that follows them is handled), so the
order of events relative to replies is recorded exactly, not as seen by
kazoo's callback thread.

`failures` lists the script's own expectations that did not hold; the
process exits 1 when there are any, so a scenario fails loudly against a wrong
server even without a reference to compare with.

The Rust side is tests/interop_kazoo.rs.  A script can ask for extra zoo.cfg
keys with a header line `# zoo.cfg: key=value key=value`.
"""

import hashlib
import json
import sys
import threading
import time
import traceback
from collections import namedtuple

import kazoo.exceptions as E
from kazoo.client import KazooClient
from kazoo.protocol import connection as _conn
from kazoo.protocol.serialization import (Create, Create2, Delete, Exists,
                                          GetChildren, GetData, SetData,
                                          Watch, int_struct, long_struct)
from kazoo.protocol.states import ZnodeStat
from kazoo.security import ACL, Id

TIMEOUT_S = 20.0
OPEN_ACL = [ACL(31, Id("world", "anyone"))]

EVENT_NAMES = {1: "NodeCreated", 2: "NodeDeleted", 3: "NodeDataChanged",
               4: "NodeChildrenChanged", 5: "DataWatchRemoved",
               6: "ChildWatchRemoved", 7: "PersistentWatchRemoved"}
STATE_NAMES = {3: "SyncConnected", 0: "Disconnected", -112: "Expired",
               4: "AuthFailed", 5: "ConnectedReadOnly"}


# --- wire log: record notifications and replies in the reader thread -------

_orig_read_watch_event = _conn.ConnectionHandler._read_watch_event
_orig_read_response = _conn.ConnectionHandler._read_response


def _read_watch_event(self, buffer, offset):
    log = getattr(self.client, "_ferrozk_wire", None)
    if log is not None:
        w, _ = Watch.deserialize(buffer, offset)
        log.append(("event", EVENT_NAMES.get(w.type, w.type),
                    STATE_NAMES.get(w.state, w.state), w.path))
    return _orig_read_watch_event(self, buffer, offset)


def _read_response(self, header, buffer, offset):
    log = getattr(self.client, "_ferrozk_wire", None)
    if log is not None and self.client._pending:
        request = self.client._pending[0][0]
        log.append(("reply", type(request).__name__, header.err,
                    header.zxid))
    return _orig_read_response(self, header, buffer, offset)


_conn.ConnectionHandler._read_watch_event = _read_watch_event
_conn.ConnectionHandler._read_response = _read_response


# --- requests kazoo 2.8 cannot build --------------------------------------

class CreateContainer(namedtuple("CreateContainer", "path data acl flags")):
    """createContainer (opcode 19); reply is a Create2Response."""
    type = 19
    serialize = Create2.serialize
    deserialize = Create2.deserialize


class CreateTTL(namedtuple("CreateTTL", "path data acl flags ttl")):
    """createTTL (opcode 21); reply is a Create2Response."""
    type = 21

    def serialize(self):
        b = Create2(self.path, self.data, self.acl, self.flags).serialize()
        b.extend(long_struct.pack(self.ttl))
        return b

    deserialize = Create2.deserialize


class RemoveWatches(namedtuple("RemoveWatches", "path type")):
    """removeWatches (opcode 18); empty reply."""
    type = 18

    def serialize(self):
        from kazoo.protocol.serialization import write_string
        b = bytearray(write_string(self.path))
        b.extend(int_struct.pack(self.type))
        return b

    @classmethod
    def deserialize(cls, buffer, offset):
        return True


# create flags on the wire
PERSISTENT, EPHEMERAL, PERSISTENT_SEQ, EPHEMERAL_SEQ = 0, 1, 2, 3
CONTAINER, PERSISTENT_TTL, PERSISTENT_SEQ_TTL = 4, 5, 6


class Scenario:
    """One scenario run: clients, a transcript, and self-checks."""

    def __init__(self, name):
        if len(sys.argv) < 2:
            sys.exit("usage: %s HOST:PORT" % sys.argv[0])
        self.name = name
        self.addr = sys.argv[1]
        self.transcript = []
        self.failures = []
        self.zxids = {0: "0", -1: "-1"}
        self.sessions = {0: "0"}
        self.clients = {}
        self.t_start_ms = int(time.time() * 1000) - 5 * 60 * 1000

    # -- clients ---------------------------------------------------------

    def connect(self, name, auth_data=None, timeout_s=10.0):
        """Open a session called `name` and wait until it is connected."""
        c = KazooClient(hosts=self.addr, timeout=timeout_s,
                        auth_data=auth_data)
        c._ferrozk_wire = []
        c.start(timeout=TIMEOUT_S)
        self.sessions[c.client_id[0]] = name
        self.clients[name] = c
        return c

    def close(self, name):
        """Close session `name` cleanly (its ephemerals go away)."""
        c = self.clients.pop(name)
        c.stop()
        c.close()

    def finish(self):
        for c in list(self.clients.values()):
            try:
                c.stop()
                c.close()
            except Exception:
                pass
        doc = {"scenario": self.name, "transcript": self.transcript,
               "failures": self.failures}
        print(json.dumps(doc, indent=1, sort_keys=True))
        sys.stdout.flush()
        sys.exit(1 if self.failures else 0)

    def run(self, body):
        """Run `body(self)`, turning a crash into a recorded failure."""
        try:
            body(self)
        except Exception:
            self.failures.append("crashed: " + traceback.format_exc())
        self.finish()

    # -- normalisation ---------------------------------------------------

    def zx(self, z):
        if z not in self.zxids:
            self.zxids[z] = "z%d" % (len(self.zxids) - 1)
        return self.zxids[z]

    def when(self, t_ms):
        if t_ms == 0:
            return "0"
        now = int(time.time() * 1000) + 5 * 60 * 1000
        return "now" if self.t_start_ms <= t_ms <= now else "bogus:%d" % t_ms

    def owner(self, sid):
        u = sid & 0xFFFFFFFFFFFFFFFF
        if u == 0x8000000000000000:
            return "container"
        if u >> 56 == 0xFF and (u >> 40) & 0xFFFF == 0:
            return "ttl:%d" % (u & 0xFFFFFFFFFF)
        return self.sessions.get(sid, "unknown-session")

    def norm_stat(self, st):
        if st.mtime < st.ctime:
            self.failures.append("mtime < ctime in %r" % (st,))
        return {"czxid": self.zx(st.czxid), "mzxid": self.zx(st.mzxid),
                "pzxid": self.zx(st.pzxid), "ctime": self.when(st.ctime),
                "mtime": self.when(st.mtime), "version": st.version,
                "cversion": st.cversion, "aversion": st.aversion,
                "ephemeralOwner": self.owner(st.ephemeralOwner),
                "dataLength": st.dataLength, "numChildren": st.numChildren}

    def norm(self, v, sort=False):
        if isinstance(v, ZnodeStat):
            return self.norm_stat(v)
        if isinstance(v, BaseException):
            return {"error": type(v).__name__}
        if isinstance(v, (bytes, bytearray)):
            if len(v) <= 64:
                return {"data": bytes(v).decode("latin-1")}
            return {"len": len(v), "sha1": hashlib.sha1(v).hexdigest()}
        if isinstance(v, ACL):
            return "%d/%s:%s" % (v.perms, v.id.scheme, v.id.id)
        if isinstance(v, (list, tuple)):
            items = [self.norm(x) for x in v]
            if sort:
                items.sort(key=lambda x: json.dumps(x, sort_keys=True))
            return items
        return v

    # -- recording operations --------------------------------------------

    def op(self, label, fn, *args, **kwargs):
        """Run fn(*args, **kwargs); record and return the normalised result
        (or {"error": ClassName})."""
        sort = kwargs.pop("sort_", False)
        try:
            r = fn(*args, **kwargs)
            if sort and isinstance(r, tuple) and len(r) == 2 \
                    and isinstance(r[0], list):
                res = [self.norm(r[0], sort=True), self.norm(r[1])]
            else:
                res = self.norm(r, sort=sort)
        except E.KazooException as e:
            res = {"error": type(e).__name__}
        self.transcript.append([label, res])
        return res

    def ok(self, label, fn, *args, **kwargs):
        """Like op, but the call must succeed."""
        r = self.op(label, fn, *args, **kwargs)
        if isinstance(r, dict) and "error" in r:
            self.failures.append("%s: unexpected %s" % (label, r["error"]))
        return r

    def err(self, label, expected, fn, *args, **kwargs):
        """Like op, but the call must fail with exception class `expected`."""
        r = self.op(label, fn, *args, **kwargs)
        got = r.get("error") if isinstance(r, dict) else None
        if got != expected:
            self.failures.append("%s: expected %s, got %r"
                                 % (label, expected, r))
        return r

    def children(self, label, client, path, **kw):
        return self.op(label, client.get_children, path, sort_=True, **kw)

    def note(self, label, value):
        self.transcript.append([label, value])

    def check(self, cond, msg):
        if not cond:
            self.failures.append(msg)
        return cond

    def expect(self, label, actual, expected):
        if actual != expected:
            self.failures.append("%s: expected %r, got %r"
                                 % (label, expected, actual))

    # -- raw requests ----------------------------------------------------

    def raw(self, client, request):
        """Send a request object as-is (no client-side path fixing)."""
        a = client.handler.async_result()
        client._call(request, a)
        return a.get(timeout=TIMEOUT_S)

    def raw_op(self, label, client, request, expected=None):
        r = self.op(label, self.raw, client, request)
        if expected is not None:
            got = r.get("error") if isinstance(r, dict) else "ok"
            if got != expected:
                self.failures.append("%s: expected %s, got %r"
                                     % (label, expected, r))
        return r

    # -- watches ---------------------------------------------------------

    def wire(self, client):
        """Drain the wire log of `client` (after a sync round trip, so all
        notifications the server sent before it have arrived)."""
        client.sync("/")
        log = client._ferrozk_wire
        items = list(log)
        del log[:len(items)]
        # drop the sync's own reply
        if items and items[-1][0] == "reply" and items[-1][1] == "Sync":
            items.pop()
        return items

    def events(self, label, client, sort=False):
        """Record (and return) the notifications `client` received since the
        last drain, in wire order (or sorted, where the reference's order
        comes from a hash set, e.g. ephemerals deleted at session close)."""
        evs = [[e[1], e[2], e[3]] for e in self.wire(client)
               if e[0] == "event"]
        if sort:
            evs.sort()
        self.transcript.append([label, evs])
        return evs

    def wire_order(self, label, client):
        """Record notifications AND replies (op name, error code) in wire
        order since the last drain."""
        items = []
        for e in self.wire(client):
            if e[0] == "event":
                items.append(["event", e[1], e[3]])
            else:
                items.append(["reply", e[1], e[2]])
        self.transcript.append([label, items])
        return items

    def clear_wire(self, client):
        self.wire(client)


class Collector:
    """A kazoo watcher that remembers the events it was called with and lets
    the script wait for them (bounded)."""

    def __init__(self):
        self.events = []
        self.cond = threading.Condition()

    def __call__(self, event):
        with self.cond:
            self.events.append([event.type, event.path])
            self.cond.notify_all()

    def wait(self, n, timeout_s=TIMEOUT_S):
        deadline = time.monotonic() + timeout_s
        with self.cond:
            while len(self.events) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            return list(self.events)


def wait_until(pred, timeout_s=TIMEOUT_S, poll_s=0.05):
    """Poll a condition with a bounded deadline (for server-side timers such
    as the container reaper, which no notification announces in advance)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(poll_s)
    return pred()
