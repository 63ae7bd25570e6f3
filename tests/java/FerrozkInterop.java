// Java client interop checks for ferrozk (run by tests/interop_java.rs).
//
// Usage: java FerrozkInterop HOST:PORT
// Prints one line per check, "PASS name" or "FAIL name: why", then
// "DONE"; exits 1 if any check failed.  Every wait is bounded.
//
// Covers Curator 5.4 recipes (InterProcessMutex, LeaderLatch,
// DistributedQueue, CuratorCache) and the plain ZooKeeper 3.8 client's
// newer calls: addWatch (persistent and persistent-recursive),
// removeWatches, getEphemerals, getAllChildrenNumber, multi and multiRead,
// whoAmI, and the order of a notification relative to the reply that
// reveals the change (both delivered on the client's event thread).

import java.nio.charset.StandardCharsets;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.queue.DistributedQueue;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueConsumer;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.*;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Stat;

public class FerrozkInterop {
    static final long WAIT_S = 30;
    static String addr;
    static int failures = 0;

    interface Check { void run() throws Exception; }

    static void check(String name, Check c) {
        try {
            c.run();
            System.out.println("PASS " + name);
        } catch (Throwable t) {
            failures++;
            System.out.println("FAIL " + name + ": " + t);
            t.printStackTrace(System.err);
        }
        System.out.flush();
    }

    static void expect(boolean cond, String what) {
        if (!cond) throw new AssertionError(what);
    }

    static void expectEq(Object expected, Object actual, String what) {
        if (!Objects.equals(expected, actual))
            throw new AssertionError(what + ": expected " + expected + ", got " + actual);
    }

    static ZooKeeper connect(Watcher w) throws Exception {
        CountDownLatch up = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(addr, 10000, e -> {
            if (e.getType() == Watcher.Event.EventType.None
                    && e.getState() == Watcher.Event.KeeperState.SyncConnected) up.countDown();
            if (w != null) w.process(e);
        });
        expect(up.await(WAIT_S, TimeUnit.SECONDS), "connected in time");
        return zk;
    }

    static CuratorFramework curator() throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.newClient(addr, 10000, 10000, new RetryNTimes(3, 100));
        c.start();
        expect(c.blockUntilConnected((int) WAIT_S, TimeUnit.SECONDS), "curator connected");
        return c;
    }

    static byte[] b(String s) { return s.getBytes(StandardCharsets.UTF_8); }

    /** Events queued by a watcher, awaited with a deadline. */
    static class Events implements Watcher {
        final BlockingQueue<WatchedEvent> q = new LinkedBlockingQueue<>();
        public void process(WatchedEvent e) {
            if (e.getType() != Event.EventType.None) q.add(e);
        }
        String next() throws InterruptedException {
            WatchedEvent e = q.poll(WAIT_S, TimeUnit.SECONDS);
            if (e == null) throw new AssertionError("no event within " + WAIT_S + " s");
            return e.getType() + " " + e.getPath();
        }
        /** After a round trip on the same session, nothing more is queued. */
        void expectNone(ZooKeeper zk) throws Exception {
            zk.exists("/", false); // replies are delivered after earlier events
            expect(q.isEmpty(), "no further events, but got " + q);
        }
    }

    public static void main(String[] args) throws Exception {
        addr = args[0];
        try (ZooKeeper zk = connect(null)) {
            zk.create("/it", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }

        check("mutex: two clients never hold the lock together", () -> {
            CuratorFramework c1 = curator(), c2 = curator();
            try {
                AtomicInteger holders = new AtomicInteger(), maxHolders = new AtomicInteger(), total = new AtomicInteger();
                ExecutorService pool = Executors.newFixedThreadPool(2);
                List<Future<?>> fs = new ArrayList<>();
                for (CuratorFramework c : List.of(c1, c2)) {
                    InterProcessMutex m = new InterProcessMutex(c, "/it/lock");
                    fs.add(pool.submit(() -> {
                        for (int i = 0; i < 10; i++) {
                            expect(m.acquire(WAIT_S, TimeUnit.SECONDS), "acquired in time");
                            int h = holders.incrementAndGet();
                            maxHolders.accumulateAndGet(h, Math::max);
                            total.incrementAndGet();
                            Thread.yield();
                            holders.decrementAndGet();
                            m.release();
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) f.get(2 * WAIT_S, TimeUnit.SECONDS);
                pool.shutdown();
                expectEq(1, maxHolders.get(), "max simultaneous holders");
                expectEq(20, total.get(), "acquisitions");
                expectEq(0, c1.getChildren().forPath("/it/lock").size(), "lock nodes left");
            } finally { c1.close(); c2.close(); }
        });

        check("mutex: reentrant, and blocks another client until released", () -> {
            CuratorFramework c1 = curator(), c2 = curator();
            try {
                InterProcessMutex m1 = new InterProcessMutex(c1, "/it/lock2");
                InterProcessMutex m2 = new InterProcessMutex(c2, "/it/lock2");
                expect(m1.acquire(WAIT_S, TimeUnit.SECONDS), "first acquire");
                expect(m1.acquire(WAIT_S, TimeUnit.SECONDS), "reentrant acquire");
                expect(!m2.acquire(300, TimeUnit.MILLISECONDS), "other client must not get it");
                m1.release();
                expect(!m2.acquire(300, TimeUnit.MILLISECONDS), "still held once");
                m1.release();
                expect(m2.acquire(WAIT_S, TimeUnit.SECONDS), "other client gets it after release");
                m2.release();
            } finally { c1.close(); c2.close(); }
        });

        check("leader latch: exactly one leader, failover on close", () -> {
            CuratorFramework c1 = curator(), c2 = curator(), c3 = curator();
            List<LeaderLatch> latches = new ArrayList<>();
            try {
                int i = 0;
                for (CuratorFramework c : List.of(c1, c2, c3)) {
                    LeaderLatch l = new LeaderLatch(c, "/it/leader", "p" + (i++));
                    l.start();
                    latches.add(l);
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
                LeaderLatch leader = null;
                while (leader == null && System.nanoTime() < deadline) {
                    for (LeaderLatch l : latches) if (l.await(100, TimeUnit.MILLISECONDS)) { leader = l; break; }
                }
                expect(leader != null, "a leader was elected");
                int leaders = 0;
                for (LeaderLatch l : latches) if (l.hasLeadership()) leaders++;
                expectEq(1, leaders, "leaders");
                expectEq(leader.getId(), latches.get(1).getLeader().getId(), "everyone agrees on the leader");
                leader.close();
                latches.remove(leader);
                LeaderLatch next = null;
                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
                while (next == null && System.nanoTime() < deadline) {
                    for (LeaderLatch l : latches) if (l.await(100, TimeUnit.MILLISECONDS)) { next = l; break; }
                }
                expect(next != null, "a new leader after close");
                leaders = 0;
                for (LeaderLatch l : latches) if (l.hasLeadership()) leaders++;
                expectEq(1, leaders, "leaders after failover");
            } finally {
                for (LeaderLatch l : latches) l.close();
                c1.close(); c2.close(); c3.close();
            }
        });

        check("distributed queue: items consumed in order", () -> {
            CuratorFramework producer = curator(), consumer = curator();
            BlockingQueue<String> got = new LinkedBlockingQueue<>();
            QueueSerializer<String> ser = new QueueSerializer<String>() {
                public byte[] serialize(String s) { return b(s); }
                public String deserialize(byte[] bs) { return new String(bs, StandardCharsets.UTF_8); }
            };
            QueueConsumer<String> qc = new QueueConsumer<String>() {
                public void consumeMessage(String m) { got.add(m); }
                public void stateChanged(CuratorFramework c, ConnectionState s) {}
            };
            DistributedQueue<String> pq = QueueBuilder.builder(producer, null, ser, "/it/queue").buildQueue();
            DistributedQueue<String> cq = QueueBuilder.builder(consumer, qc, ser, "/it/queue").buildQueue();
            try {
                pq.start();
                for (int i = 0; i < 20; i++) pq.put(String.format("item-%02d", i));
                cq.start();
                for (int i = 0; i < 20; i++) {
                    String m = got.poll(WAIT_S, TimeUnit.SECONDS);
                    expectEq(String.format("item-%02d", i), m, "item " + i);
                }
            } finally { cq.close(); pq.close(); producer.close(); consumer.close(); }
        });

        check("curator cache sees creates, updates and deletes", () -> {
            CuratorFramework c = curator(), writer = curator();
            BlockingQueue<String> evs = new LinkedBlockingQueue<>();
            writer.create().forPath("/it/cache", b("root"));
            CountDownLatch init = new CountDownLatch(1);
            CuratorCache cache = CuratorCache.build(c, "/it/cache");
            cache.listenable().addListener(CuratorCacheListener.builder()
                    .forCreates(n -> evs.add("create " + n.getPath()))
                    .forChanges((o, n) -> evs.add("change " + n.getPath() + " " + new String(n.getData(), StandardCharsets.UTF_8)))
                    .forDeletes(o -> evs.add("delete " + o.getPath()))
                    .forInitialized(init::countDown)
                    .build());
            try {
                cache.start();
                expect(init.await(WAIT_S, TimeUnit.SECONDS), "cache initialised");
                expectEq("create /it/cache", evs.poll(WAIT_S, TimeUnit.SECONDS), "initial node");
                writer.create().forPath("/it/cache/a", b("1"));
                expectEq("create /it/cache/a", evs.poll(WAIT_S, TimeUnit.SECONDS), "create event");
                writer.setData().forPath("/it/cache/a", b("2"));
                expectEq("change /it/cache/a 2", evs.poll(WAIT_S, TimeUnit.SECONDS), "change event");
                writer.create().forPath("/it/cache/a/deep", b("d"));
                expectEq("create /it/cache/a/deep", evs.poll(WAIT_S, TimeUnit.SECONDS), "deep create");
                writer.delete().forPath("/it/cache/a/deep");
                expectEq("delete /it/cache/a/deep", evs.poll(WAIT_S, TimeUnit.SECONDS), "delete event");
                expectEq("2", new String(cache.get("/it/cache/a").get().getData(), StandardCharsets.UTF_8), "cached data");
            } finally { cache.close(); c.close(); writer.close(); }
        });

        check("addWatch PERSISTENT fires repeatedly, not for grandchildren", () -> {
            Events ev = new Events();
            try (ZooKeeper zk = connect(null); ZooKeeper other = connect(null)) {
                zk.create("/it/pw", b(""), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                zk.addWatch("/it/pw", ev, AddWatchMode.PERSISTENT);
                other.setData("/it/pw", b("1"), -1);
                other.setData("/it/pw", b("2"), -1);
                other.create("/it/pw/c", b(""), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                other.create("/it/pw/c/g", b(""), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                other.delete("/it/pw/c/g", -1);
                other.delete("/it/pw/c", -1);
                other.delete("/it/pw", -1);
                other.create("/it/pw", b(""), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                expectEq("NodeDataChanged /it/pw", ev.next(), "1st");
                expectEq("NodeDataChanged /it/pw", ev.next(), "2nd");
                expectEq("NodeChildrenChanged /it/pw", ev.next(), "child create");
                expectEq("NodeChildrenChanged /it/pw", ev.next(), "child delete");
                expectEq("NodeDeleted /it/pw", ev.next(), "delete");
                expectEq("NodeCreated /it/pw", ev.next(), "re-create (watch persists)");
                ev.expectNone(zk);
            }
        });

        check("addWatch PERSISTENT_RECURSIVE sees the subtree, no child events", () -> {
            Events ev = new Events();
            try (ZooKeeper zk = connect(null); ZooKeeper other = connect(null)) {
                zk.create("/it/rw", b(""), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                zk.addWatch("/it/rw", ev, AddWatchMode.PERSISTENT_RECURSIVE);
                other.create("/it/rw/a", b(""), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                other.create("/it/rw/a/b", b(""), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                other.setData("/it/rw/a/b", b("x"), -1);
                other.delete("/it/rw/a/b", -1);
                other.setData("/it/rw", b("y"), -1);
                expectEq("NodeCreated /it/rw/a", ev.next(), "create a");
                expectEq("NodeCreated /it/rw/a/b", ev.next(), "create a/b");
                expectEq("NodeDataChanged /it/rw/a/b", ev.next(), "change a/b");
                expectEq("NodeDeleted /it/rw/a/b", ev.next(), "delete a/b");
                expectEq("NodeDataChanged /it/rw", ev.next(), "change root of watch");
                ev.expectNone(zk);
                zk.removeWatches("/it/rw", ev, Watcher.WatcherType.Any, false);
                other.setData("/it/rw", b("z"), -1);
                other.sync("/it/rw", (rc, p, ctx) -> {}, null);
                expectEq("PersistentWatchRemoved /it/rw", ev.next(), "removal is reported");
                ev.expectNone(zk);
            }
        });

        check("removeWatches: data and child watches, NoWatcher", () -> {
            Events ev = new Events();
            try (ZooKeeper zk = connect(null); ZooKeeper other = connect(null)) {
                zk.create("/it/rm", b(""), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                zk.getData("/it/rm", ev, null);
                zk.getChildren("/it/rm", ev);
                zk.removeWatches("/it/rm", ev, Watcher.WatcherType.Data, false);
                expectEq("DataWatchRemoved /it/rm", ev.next(), "data removal event");
                other.setData("/it/rm", b("1"), -1);
                other.create("/it/rm/c", b(""), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                expectEq("NodeChildrenChanged /it/rm", ev.next(), "child watch still there");
                ev.expectNone(zk);
                try {
                    zk.removeWatches("/it/rm", ev, Watcher.WatcherType.Children, false);
                    throw new AssertionError("expected NoWatcherException");
                } catch (KeeperException.NoWatcherException e) { /* expected */ }
                // removing locally-unknown watches on the server: remove all
                zk.getData("/it/rm", ev, null);
                zk.removeAllWatches("/it/rm", Watcher.WatcherType.Any, false);
                expectEq("DataWatchRemoved /it/rm", ev.next(), "remove all");
            }
        });

        check("getEphemerals and getAllChildrenNumber", () -> {
            try (ZooKeeper zk = connect(null); ZooKeeper other = connect(null)) {
                zk.create("/it/eph", b(""), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                zk.create("/it/eph/a", b(""), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
                zk.create("/it/eph/b-", b(""), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL);
                zk.create("/it/e-top", b(""), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
                other.create("/it/eph/o", b(""), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
                List<String> all = new ArrayList<>(zk.getEphemerals());
                Collections.sort(all);
                expectEq(List.of("/it/e-top", "/it/eph/a", "/it/eph/b-0000000001"), all, "all own ephemerals");
                List<String> under = new ArrayList<>(zk.getEphemerals("/it/eph"));
                Collections.sort(under);
                expectEq(List.of("/it/eph/a", "/it/eph/b-0000000001"), under, "ephemerals by prefix");
                expectEq(List.of("/it/eph/o"), other.getEphemerals("/it/eph"), "other session's");
                zk.create("/it/eph/p", b(""), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                zk.create("/it/eph/p/q", b(""), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                expectEq(5, zk.getAllChildrenNumber("/it/eph"), "all descendants");
                expectEq(0, zk.getAllChildrenNumber("/it/eph/p/q"), "leaf");
                try {
                    zk.getAllChildrenNumber("/it/nope");
                    throw new AssertionError("expected NoNode");
                } catch (KeeperException.NoNodeException e) { /* expected */ }
            }
        });

        check("multi: results, failure in the middle, multiRead", () -> {
            try (ZooKeeper zk = connect(null)) {
                List<OpResult> rs = zk.multi(List.of(
                        Op.create("/it/m", b("m"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                        Op.create("/it/m/s-", b(""), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL),
                        Op.setData("/it/m", b("n"), 0),
                        Op.check("/it/m", 1)));
                expectEq("/it/m/s-0000000000", ((OpResult.CreateResult) rs.get(1)).getPath(), "seq path");
                expectEq(1, ((OpResult.SetDataResult) rs.get(2)).getStat().getVersion(), "set version");
                try {
                    zk.multi(List.of(
                            Op.create("/it/m/x", b(""), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                            Op.delete("/it/m/missing", -1),
                            Op.setData("/it/m", b(""), -1)));
                    throw new AssertionError("expected failure");
                } catch (KeeperException.NoNodeException e) {
                    List<OpResult> res = e.getResults();
                    List<Integer> codes = new ArrayList<>();
                    for (OpResult r : res) codes.add(((OpResult.ErrorResult) r).getErr());
                    expectEq(List.of(0, -101, -2), codes, "per-op error codes");
                }
                expect(zk.exists("/it/m/x", false) == null, "rolled back");
                List<OpResult> reads = zk.multi(List.of(
                        Op.getData("/it/m"), Op.getChildren("/it/m"), Op.getData("/it/m/nope")));
                expectEq("n", new String(((OpResult.GetDataResult) reads.get(0)).getData(), StandardCharsets.UTF_8), "read data");
                expectEq(List.of("s-0000000000"), ((OpResult.GetChildrenResult) reads.get(1)).getChildren(), "read children");
                expectEq(-101, ((OpResult.ErrorResult) reads.get(2)).getErr(), "read error is per-op");
                try {
                    zk.multi(List.of(Op.getData("/it/m"),
                            Op.create("/it/m/y", b(""), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT)));
                    throw new AssertionError("mixing reads and writes must be refused");
                } catch (IllegalArgumentException e) { /* client-side refusal */ }
            }
        });

        check("whoAmI: world identity, then digest after addAuthInfo", () -> {
            try (ZooKeeper zk = connect(null)) {
                List<String> ids = new ArrayList<>();
                for (ClientInfo ci : zk.whoAmI()) ids.add(ci.getAuthScheme() + ":" + ci.getUser());
                expect(ids.contains("ip:127.0.0.1"), "ip identity, got " + ids);
                zk.addAuthInfo("digest", b("alice:secret"));
                ids.clear();
                for (ClientInfo ci : zk.whoAmI()) ids.add(ci.getAuthScheme() + ":" + ci.getUser());
                expect(ids.contains("digest:alice"), "digest identity, got " + ids);
            }
        });

        check("notification precedes the reply that reveals the change", () -> {
            List<String> order = Collections.synchronizedList(new ArrayList<>());
            try (ZooKeeper zk = connect(null); ZooKeeper other = connect(null)) {
                zk.create("/it/ord", b("0"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                zk.getData("/it/ord", e -> order.add("event " + e.getType()), null);
                other.setData("/it/ord", b("1"), -1);
                CountDownLatch done = new CountDownLatch(1);
                zk.getData("/it/ord", false, (rc, path, ctx, data, stat) -> {
                    order.add("reply " + new String(data, StandardCharsets.UTF_8));
                    done.countDown();
                }, null);
                expect(done.await(WAIT_S, TimeUnit.SECONDS), "reply in time");
                expectEq(List.of("event NodeDataChanged", "reply 1"), order, "order on the event thread");
            }
        });

        check("session close removes ephemerals and notifies others", () -> {
            Events ev = new Events();
            try (ZooKeeper watcher = connect(null)) {
                ZooKeeper owner = connect(null);
                owner.create("/it/gone", b(""), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
                Stat st = watcher.exists("/it/gone", ev);
                expectEq(owner.getSessionId(), st.getEphemeralOwner(), "ephemeralOwner");
                owner.close();
                expectEq("NodeDeleted /it/gone", ev.next(), "deleted at close");
                expect(watcher.exists("/it/gone", false) == null, "gone");
            }
        });

        System.out.println("DONE");
        System.exit(failures == 0 ? 0 : 1);
    }
}
