#!/usr/bin/python3
"""Watches: data, exists and child watches; one-shot semantics; which
operations fire which events; a notification reaches a client before the
reply that reveals the change (also on the session that made the change);
dedup of watches on one path; ephemerals deleted when their
session closes, with the watches of another session firing for them."""

from kazoo.protocol.serialization import GetData

from zkscenario import Collector, Scenario


def nop(_event):
    pass


def body(s):
    a = s.connect("a")
    b = s.connect("b")
    s.ok("create /w", a.create, "/w", b"0")
    s.ok("create /w/x", a.create, "/w/x", b"x")

    # data watch via get: fires once
    coll = Collector()
    s.ok("a: get /w/x with watch", a.get, "/w/x", watch=coll)
    s.ok("b: set /w/x", b.set, "/w/x", b"1")
    s.ok("b: set /w/x again", b.set, "/w/x", b"2")
    s.events("a: one NodeDataChanged, not two", a)
    got = coll.wait(1)
    s.expect("kazoo callback saw the event", got,
             [["CHANGED", "/w/x"]])

    # the notification precedes the reply that reveals the change
    s.ok("a: get /w/x with watch (2)", a.get, "/w/x", watch=nop)
    s.clear_wire(a)
    s.ok("b: set /w/x (3)", b.set, "/w/x", b"3")
    s.ok("a: get /w/x after b's set", a.get, "/w/x")
    s.wire_order("a: event before the GetData reply", a)

    # ... and on the session that made the change, before its own reply
    s.ok("a: watch /w/x (4)", a.get, "/w/x", watch=nop)
    s.clear_wire(a)
    s.ok("a: set /w/x itself", a.set, "/w/x", b"4")
    s.wire_order("a: event before its own SetData reply", a)

    # exists watch on a missing node fires NodeCreated
    s.ok("a: exists /w/new with watch", a.exists, "/w/new", watch=nop)
    s.ok("b: create /w/new", b.create, "/w/new", b"")
    s.ok("b: set /w/new", b.set, "/w/new", b"n")
    s.events("a: NodeCreated only", a)

    # exists watch on an existing node fires on data change and on delete
    s.ok("a: exists /w/new with watch", a.exists, "/w/new", watch=nop)
    s.ok("b: delete /w/new", b.delete, "/w/new")
    s.events("a: NodeDeleted via exists watch", a)

    # child watches
    s.ok("a: children /w with watch", a.get_children, "/w", watch=nop,
         sort_=True)
    s.ok("b: set child data does not fire", b.set, "/w/x", b"5")
    s.ok("b: set parent data does not fire child watch", b.set, "/w",
         b"p")
    s.events("a: nothing yet", a)
    s.ok("b: create child", b.create, "/w/c1")
    s.ok("b: create another child", b.create, "/w/c2")
    s.events("a: one NodeChildrenChanged", a)
    s.ok("a: children /w with watch again", a.get_children, "/w",
         watch=nop, sort_=True)
    s.ok("b: delete child", b.delete, "/w/c1")
    s.events("a: NodeChildrenChanged on delete", a)
    s.ok("a: children2 /w with watch", a.get_children, "/w", watch=nop,
         include_data=True, sort_=True)
    s.ok("b: create grandchild does not fire", b.create, "/w/c2/g")
    s.events("a: grandchild is not a child", a)
    s.ok("b: create sequential child", b.create, "/w/s-", sequence=True)
    s.events("a: fires for sequential child", a)

    # data + child + exists watch on one node, node deleted
    s.ok("b: create /d", b.create, "/d")
    s.ok("a: get /d watch", a.get, "/d", watch=nop)
    s.ok("a: exists /d watch (same path, deduplicated)", a.exists, "/d",
         watch=nop)
    s.ok("a: children /d watch", a.get_children, "/d", watch=nop)
    s.ok("b: delete /d", b.delete, "/d")
    s.events("a: a single NodeDeleted for data+child watches", a)

    # a child watch fires NodeDeleted when the node itself goes away
    s.ok("b: create /d2", b.create, "/d2")
    s.ok("a: children /d2 watch only", a.get_children, "/d2", watch=nop)
    s.ok("b: set /d2 (no child event)", b.set, "/d2", b"x")
    s.ok("b: delete /d2", b.delete, "/d2")
    s.events("a: NodeDeleted from child watch", a)

    # watches on / and on a node re-created
    s.ok("a: children / watch", a.get_children, "/", watch=nop, sort_=True)
    s.ok("a: exists /r watch", a.exists, "/r", watch=nop)
    s.ok("b: create /r", b.create, "/r", b"")
    s.ok("b: delete /r", b.delete, "/r")
    s.ok("b: create /r again", b.create, "/r", b"")
    s.events("a: created + root child event, once each", a)

    # both sessions watch; both get the event
    s.ok("a: get /w watch", a.get, "/w", watch=nop)
    s.ok("b: get /w watch", b.get, "/w", watch=nop)
    s.ok("a: set /w", a.set, "/w", b"both")
    s.events("a: event", a)
    s.events("b: event", b)

    # a watch set with a raw getData on a missing node leaves no watch
    s.raw_op("a: raw get missing with watch", a, GetData("/w/gone", True))
    s.ok("b: create /w/gone", b.create, "/w/gone")
    s.events("a: no watch left by a failed getData", a)

    # ephemerals go away with their session; b's watches fire
    e = s.connect("e")
    s.ok("e: create /eph1", e.create, "/eph1", b"", ephemeral=True)
    s.ok("e: create /w/eph2", e.create, "/w/eph2", b"", ephemeral=True)
    s.ok("e: create /w/eseq-", e.create, "/w/eseq-", b"", ephemeral=True,
         sequence=True)
    st = s.ok("b: stat /eph1", b.exists, "/eph1", watch=nop)
    s.expect("owner is e", st["ephemeralOwner"], "e")
    s.ok("b: get /w/eph2 watch", b.get, "/w/eph2", watch=nop)
    s.ok("b: children /w watch", b.get_children, "/w", watch=nop,
         sort_=True)
    s.ok("b: children / watch", b.get_children, "/", watch=nop, sort_=True)
    s.clear_wire(b)
    s.close("e")
    s.events("b: deletions at session close (sorted)", b, sort=True)
    s.ok("b: /eph1 gone", b.exists, "/eph1")
    s.ok("b: /w children after close", b.get_children, "/w", sort_=True)
    s.ok("b: stat /w after close", b.exists, "/w")


Scenario("watches").run(body)
