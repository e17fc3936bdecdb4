package io.dynamicfs.cli.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.api.ProgressListener;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's HTTP endpoint (the JDK's {@code com.sun.net.httpserver}): Prometheus metrics and the admin
 * API that the {@code dynamicfs} commands talk to.
 *
 * <h2>Where it is</h2>
 * It binds the mount's {@code --admin-address} (default {@code 127.0.0.1:0}: loopback, a free port) and
 * writes {@code DATA/run/admin.json} ({@code address}, {@code port}, {@code pid}, {@code url},
 * {@code token_file}, {@code version}) and {@code DATA/run/admin.token} (32 random bytes in hex, mode 0600,
 * new at every mount). Both are removed at unmount. The CLI finds them from a mount point through the
 * mount's fsname {@code dynamicfs:DATA} in /proc/mounts ({@link AdminClient#forMount}).
 *
 * <h2>Who may ask</h2>
 * <ul>
 *   <li>{@code GET /metrics}: anyone who can reach the address (Prometheus text format, version 0.0.4).
 *       It is loopback-only unless the operator binds another address to let a Prometheus server scrape.
 *   <li>{@code /v1/...}: only a client on this machine's loopback ({@code 403} otherwise, whatever the
 *       bind address), and only with {@code Authorization: Bearer TOKEN} ({@code 401} when missing,
 *       {@code 403} when wrong).
 * </ul>
 *
 * <h2>Endpoints</h2>
 * {@code GET /v1/routes} lists them; the built-in ones are registered in {@link AdminEndpoints}:
 * {@code GET /v1/status}, {@code GET /v1/stats}, {@code POST /v1/warmup} (streaming),
 * {@code POST /v1/gc} (streaming). Answers are JSON (snake_case); errors are {@code {"error": "..."}} with
 * 400 (bad request), 404 (no such path), 405 (wrong method), 409/500 (the operation failed). Streaming
 * answers are {@code application/x-ndjson}: progress lines, then one {@code result} or {@code error} line.
 */
public final class AdminServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
  static final String TOKEN_FILE = "admin.token";
  static final String INFO_FILE = "admin.json";
  static final long PROGRESS_EVERY_NANOS = 100_000_000L;

  private final HttpServer server;
  private final ExecutorService pool;
  private final AdminRoutes routes;
  private final Supplier<String> metrics;
  private final byte[] token;
  private final Path runDir;
  private final ObjectMapper json = AdminJson.mapper();

  private AdminServer(HttpServer server, ExecutorService pool, AdminRoutes routes, Supplier<String> metrics,
      byte[] token, Path runDir) {
    this.server = server;
    this.pool = pool;
    this.routes = routes;
    this.metrics = metrics;
    this.token = token;
    this.runDir = runDir;
  }

  /**
   * Binds {@code address}, writes the token and admin.json under {@code runDir} and starts serving.
   * A busy or unusable address is an FsException (EBUSY/EINVAL) with a one-line message.
   */
  public static AdminServer start(AdminAddress address, Path runDir, AdminRoutes routes, Supplier<String> metrics,
      String version) throws IOException {
    routes.get("/v1/routes", "The endpoints of this API", req -> routes.list());
    HttpServer server;
    InetSocketAddress bind;
    try {
      bind = new InetSocketAddress(InetAddress.getByName(address.host()), address.port());
      server = HttpServer.create(bind, 16);
    } catch (java.net.BindException e) {
      throw FsException.of(io.dynamicfs.core.api.Errno.EBUSY, "admin address %s is in use (choose another with "
          + "--admin-address)", address);
    } catch (IOException | RuntimeException e) {
      throw FsException.of(io.dynamicfs.core.api.Errno.EINVAL, "cannot listen on admin address %s: %s", address,
          e.getMessage());
    }
    AtomicInteger n = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(4, r -> {
      Thread t = new Thread(r, "dfs-admin-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    byte[] token = new byte[32];
    new SecureRandom().nextBytes(token);
    String hex = HexFormat.of().formatHex(token);
    AdminServer s = new AdminServer(server, pool, routes, metrics, hex.getBytes(StandardCharsets.US_ASCII),
        runDir);
    server.setExecutor(pool);
    server.createContext("/", s::handle);
    server.start();
    try {
      Files.createDirectories(runDir);
      Path tokenFile = runDir.resolve(TOKEN_FILE);
      writeAtomically(tokenFile, hex + "\n", true);
      InetSocketAddress bound = server.getAddress();
      Map<String, Object> info = new LinkedHashMap<>();
      info.put("address", bound.getAddress().getHostAddress());
      info.put("port", bound.getPort());
      info.put("pid", ProcessHandle.current().pid());
      info.put("url", "http://" + hostForUrl(bound) + ":" + bound.getPort());
      info.put("token_file", tokenFile.toString());
      info.put("version", version);
      writeAtomically(runDir.resolve(INFO_FILE), s.json.writeValueAsString(info) + "\n", false);
      log.atInfo().addKeyValue("address", bound.getAddress().getHostAddress()).addKeyValue("port", bound.getPort())
          .log("admin server listening");
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
    return s;
  }

  private static String hostForUrl(InetSocketAddress a) {
    String h = a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getAddress().getHostAddress();
    return h.contains(":") ? "[" + h + "]" : h;
  }

  private static void writeAtomically(Path target, String content, boolean secret) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    if (secret) {
      Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }
    Files.writeString(tmp, content, StandardCharsets.UTF_8);
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** The port actually bound (the chosen one when 0 was asked). */
  public int port() {
    return server.getAddress().getPort();
  }

  /** Only loopback clients may use /v1: the check every admin request passes first. */
  public static boolean isLocalClient(InetAddress client) {
    return client != null && client.isLoopbackAddress();
  }

  /** Compares in constant time; {@code header} is the whole Authorization header or null. */
  boolean tokenMatches(String header) {
    if (header == null || !header.startsWith("Bearer ")) {
      return false;
    }
    byte[] given = header.substring(7).trim().getBytes(StandardCharsets.US_ASCII);
    return MessageDigest.isEqual(given, token);
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      String method = ex.getRequestMethod();
      if (path.equals("/metrics")) {
        if (!method.equals("GET") && !method.equals("HEAD")) {
          sendJson(ex, 405, Map.of("error", "use GET"));
          return;
        }
        byte[] body = metrics.get().getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        ex.sendResponseHeaders(200, method.equals("HEAD") ? -1 : body.length);
        if (!method.equals("HEAD")) {
          ex.getResponseBody().write(body);
        }
        return;
      }
      InetAddress client = ex.getRemoteAddress().getAddress();
      if (!isLocalClient(client)) {
        log.atWarn().addKeyValue("client", String.valueOf(client)).addKeyValue("path", path)
            .log("admin request refused: not from this machine");
        sendJson(ex, 403, Map.of("error", "the admin API answers only on this machine's loopback"));
        return;
      }
      String auth = ex.getRequestHeaders().getFirst("Authorization");
      if (auth == null) {
        sendJson(ex, 401, Map.of("error", "missing token (Authorization: Bearer <DATA/run/admin.token>)"));
        return;
      }
      if (!tokenMatches(auth)) {
        log.atWarn().addKeyValue("client", String.valueOf(client)).addKeyValue("path", path)
            .log("admin request refused: wrong token");
        sendJson(ex, 403, Map.of("error", "wrong token"));
        return;
      }
      AdminRoutes.Entry e = routes.find(method, path);
      if (e == null) {
        sendJson(ex, routes.hasPath(path) ? 405 : 404,
            Map.of("error", (routes.hasPath(path) ? "wrong method for " : "no endpoint ") + path));
        return;
      }
      AdminRequest req;
      try {
        req = new AdminRequest(method, path, query(ex), body(ex));
      } catch (IOException bad) {
        sendJson(ex, 400, Map.of("error", "the body is not JSON: " + bad.getMessage()));
        return;
      }
      if (e.streaming() != null) {
        stream(ex, e.streaming(), req);
      } else {
        try {
          sendJson(ex, 200, e.handler().handle(req));
        } catch (Exception failure) {
          sendJson(ex, statusOf(failure), Map.of("error", messageOf(failure)));
          logFailure(path, failure);
        }
      }
    } catch (IOException | RuntimeException e) {
      log.atWarn().addKeyValue("error", String.valueOf(e.getMessage())).log("admin request failed");
    }
  }

  private void stream(HttpExchange ex, AdminRoutes.StreamingHandler h, AdminRequest req) throws IOException {
    ex.getResponseHeaders().set("Content-Type", "application/x-ndjson");
    ex.sendResponseHeaders(200, 0);
    OutputStream out = ex.getResponseBody();
    long[] last = {0};
    String[] lastPhase = {null};
    ProgressListener progress = (phase, done, total) -> {
      long now = System.nanoTime();
      boolean finished = total > 0 && done >= total;
      if (!finished && phase.equals(lastPhase[0]) && now - last[0] < PROGRESS_EVERY_NANOS) {
        return;
      }
      last[0] = now;
      lastPhase[0] = phase;
      Map<String, Object> p = new LinkedHashMap<>();
      p.put("phase", phase);
      p.put("done", done);
      p.put("total", total);
      writeLine(out, Map.of("progress", p));
    };
    Object line;
    try {
      line = Map.of("result", h.handle(req, progress));
    } catch (Exception failure) {
      logFailure(req.path(), failure);
      line = Map.of("error", messageOf(failure), "status", statusOf(failure));
    }
    writeLine(out, line);
  }

  private void writeLine(OutputStream out, Object value) {
    try {
      out.write(json.writeValueAsBytes(value));
      out.write('\n');
      out.flush();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e); // the client went away: stop the work
    }
  }

  private static int statusOf(Exception e) {
    if (e instanceof AdminException a) {
      return a.status();
    }
    if (e instanceof FsException f) {
      return switch (f.errno()) {
        case ENOENT -> 404;
        case EINVAL, ENOTDIR, ENAMETOOLONG -> 400;
        case EBUSY -> 409;
        default -> 500;
      };
    }
    return e instanceof IllegalArgumentException ? 400 : 500;
  }

  private static String messageOf(Exception e) {
    return e instanceof FsException fe ? fe.detail() : String.valueOf(e.getMessage());
  }

  private static void logFailure(String path, Exception e) {
    if (statusOf(e) >= 500) {
      log.atError().addKeyValue("path", path).addKeyValue("error", String.valueOf(e.getMessage())).setCause(e)
          .log("admin request failed");
    }
  }

  private void sendJson(HttpExchange ex, int status, Object value) throws IOException {
    byte[] body = json.writeValueAsBytes(value);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, body.length);
    ex.getResponseBody().write(body);
  }

  private static Map<String, String> query(HttpExchange ex) {
    Map<String, String> q = new LinkedHashMap<>();
    String raw = ex.getRequestURI().getRawQuery();
    if (raw != null) {
      for (String kv : raw.split("&")) {
        int eq = kv.indexOf('=');
        String k = URLDecoder.decode(eq < 0 ? kv : kv.substring(0, eq), StandardCharsets.UTF_8);
        q.put(k, eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return q;
  }

  private JsonNode body(HttpExchange ex) throws IOException {
    byte[] b = ex.getRequestBody().readNBytes(1 << 20);
    if (b.length == 0) {
      return json.createObjectNode();
    }
    JsonNode n = json.readTree(b);
    if (n == null || !n.isObject()) {
      throw new IOException("expected a JSON object");
    }
    return n;
  }

  /** Stops serving (waiting up to a second for answers in flight) and removes admin.json and the token. */
  @Override
  public void close() {
    server.stop(1);
    pool.shutdownNow();
    try {
      Files.deleteIfExists(runDir.resolve(INFO_FILE));
      Files.deleteIfExists(runDir.resolve(TOKEN_FILE));
    } catch (IOException e) {
      log.atWarn().addKeyValue("error", e.getMessage()).log("cannot remove the admin files");
    }
  }
}
