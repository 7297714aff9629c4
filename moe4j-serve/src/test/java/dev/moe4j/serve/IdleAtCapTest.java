package dev.moe4j.serve;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * At the connection cap, connections with no request on the way are closed after the header deadline, so a
 * handful of idle sockets (never used, or kept alive after one request) cannot lock new clients out for Jetty's
 * idle timeout (30 s). Raw sockets; the bound from above (10 s for a 1 s deadline) is far below the 30 s a
 * locked-out client would wait, so a loaded machine does not fail it.
 */
class IdleAtCapTest {
    static final long DEADLINE_MS = 1_000;
    static final int MAX_CONNECTIONS = 4;
    static TestServer s;

    @BeforeAll
    static void start() {
        s = TestServer.start("qwen2moe-tiny", new ServerOptions("127.0.0.1", 0, null, 1, 0, "qwen2moe-tiny", 0)
                .withLimits(new ServerOptions.ConnectionLimits(MAX_CONNECTIONS, DEADLINE_MS, DEADLINE_MS, 1 << 20)));
    }

    @AfterAll
    static void stop() {
        if (s != null) s.close();
    }

    @Test
    void silentSocketsAtTheCapMakeRoomWithinTheDeadline() throws Exception {
        assertServedSoonDespite(false);
    }

    @Test
    void keptAliveSocketsAtTheCapMakeRoomWithinTheDeadline() throws Exception {
        assertServedSoonDespite(true);
    }

    /** Fills the cap with idle connections (after one request each when {@code used}); a new client must be served soon. */
    private static void assertServedSoonDespite(boolean used) throws Exception {
        List<RawHttp> idle = new ArrayList<>();
        try {
            for (int i = 0; i < MAX_CONNECTIONS; i++) {
                RawHttp c = new RawHttp(s.server.port());
                idle.add(c);
                if (used) {
                    c.send(RawHttp.get("/health", "localhost"));
                    assertEquals(200, c.response().status());
                }
            }
            long t0 = System.nanoTime();
            try (RawHttp c = new RawHttp(s.server.port())) {
                c.send(RawHttp.get("/health", "localhost"));
                RawHttp.Response r = c.response();
                double took = (System.nanoTime() - t0) / 1e9;
                assertEquals(200, r.status(), r.body());
                assertTrue(took < 10 * DEADLINE_MS / 1e3, "a new client waited " + took + " s behind idle connections");
                System.out.printf("IdleAtCapTest: served after %.2f s behind %d idle%s connections%n", took, MAX_CONNECTIONS, used ? " kept-alive" : "");
            }
            for (RawHttp c : idle) assertTrue(c.closedWithin(5_000), "the idle connections were closed");
        } finally {
            for (RawHttp c : idle) c.close();
        }
    }
}
