import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * The Java client across a leader failure. The test kills the leader between
 * our READY line and its GO line; the session must survive, its ephemeral
 * stay, and writes resume through another member.
 * Usage: FailoverClient HOSTS. Prints "RESULT session_same=B ephemeral=B written=S".
 */
public class FailoverClient {
    interface Op<T> { T run() throws Exception; }

    static <T> T retry(Op<T> op) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while (true) {
            try {
                return op.run();
            } catch (KeeperException.ConnectionLossException e) {
                if (System.currentTimeMillis() > deadline) throw e;
                Thread.sleep(200);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(args[0], 10_000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        if (!connected.await(60, TimeUnit.SECONDS)) throw new IllegalStateException("no connection");
        try {
            zk.create("/jfo", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        } catch (KeeperException.NodeExistsException e) {
            // from an earlier run on this ensemble
        }
        zk.create("/jfo/eph", "mine".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        long before = zk.getSessionId();
        System.out.println("READY " + Long.toHexString(before));
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in)).readLine();
        retry(() -> zk.setData("/jfo", "after failover".getBytes(), -1));
        byte[] data = retry(() -> zk.getData("/jfo", false, null));
        boolean eph = retry(() -> zk.exists("/jfo/eph", false)) != null;
        System.out.println("RESULT session_same=" + (zk.getSessionId() == before) + " ephemeral=" + eph
                + " written=" + new String(data));
        zk.close();
    }
}
