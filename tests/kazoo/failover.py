"""kazoo across a leader failure: the test kills the leader between our
READY line and its GO line; the session must survive, its ephemeral stay,
and writes resume through another member.

Usage: failover.py HOSTS   (HOSTS is the connect string of every member)
Prints JSON: {"session_same": bool, "ephemeral": bool, "written": str}.
"""
import json
import sys

from kazoo.client import KazooClient
from kazoo.retry import KazooRetry

hosts = sys.argv[1]
retry = KazooRetry(max_tries=-1, deadline=60, max_delay=0.5)
zk = KazooClient(hosts=hosts, timeout=10, connection_retry=KazooRetry(max_tries=-1, max_delay=0.5),
                 command_retry=retry)
zk.start(timeout=60)
zk.ensure_path("/fo")
zk.create("/fo/eph", b"mine", ephemeral=True)
before = zk.client_id[0]
print("READY %x" % before, flush=True)
sys.stdin.readline()
zk.retry(zk.set, "/fo", b"after failover")
zk.retry(zk.sync, "/fo")
data, _ = zk.retry(zk.get, "/fo")
eph = zk.retry(zk.exists, "/fo/eph") is not None
print(json.dumps({"session_same": zk.client_id[0] == before, "ephemeral": eph,
                  "written": data.decode()}), flush=True)
zk.stop()
zk.close()
