package io.dynamicfs.cli.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin server on a real socket: token and address checks, the route registry, streaming progress,
 * and the files that let the CLI find it.
 */
class AdminServerTest {
  @TempDir
  Path run;

  private AdminServer server;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    AdminRoutes routes = new AdminRoutes()
        .get("/v1/echo", "echo", req -> Map.of("query", req.query(), "body", req.body()))
        .post("/v1/fail", "fails", req -> {
          throw new AdminException(409, "busy right now");
        })
        .stream("/v1/count", "counts to n", (req, progress) -> {
          long n = (long) req.number("n", 3);
          for (long i = 1; i <= n; i++) {
            progress.progress("counting", i, n);
          }
          return Map.of("counted", n);
        });
    server = AdminServer.start(new AdminAddress("127.0.0.1", 0), run, routes,
        () -> "# TYPE x_total counter\nx_total 1.0\n", "test");
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private String url() {
    return "http://127.0.0.1:" + server.port();
  }

  private String token() throws Exception {
    return Files.readString(run.resolve("admin.token")).trim();
  }

  private HttpResponse<String> get(String path, String authorization) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url() + path));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return http.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void files_adminJsonNamesTheServer_tokenIsOwnerOnly() throws Exception {
    JsonNode info = new ObjectMapper().readTree(Files.readString(run.resolve("admin.json")));
    assertEquals(server.port(), info.get("port").asInt());
    assertEquals("127.0.0.1", info.get("address").asText());
    assertEquals(ProcessHandle.current().pid(), info.get("pid").asLong());
    assertEquals(url(), info.get("url").asText());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(run.resolve("admin.token"))));
    assertEquals(64, token().length(), "32 random bytes in hex");
  }

  @Test
  void token_missing401_wrong403_right200() throws Exception {
    assertEquals(401, get("/v1/echo", null).statusCode());
    assertEquals(403, get("/v1/echo", "Bearer " + "0".repeat(64)).statusCode());
    assertEquals(403, get("/v1/echo", "Bearer " + token().substring(1)).statusCode());
    assertEquals(403, get("/v1/echo", token()).statusCode(), "no Bearer prefix");
    HttpResponse<String> ok = get("/v1/echo?x=1", "Bearer " + token());
    assertEquals(200, ok.statusCode(), ok.body());
    assertEquals("1", new ObjectMapper().readTree(ok.body()).path("query").path("x").asText());
  }

  @Test
  void metrics_needNoToken_prometheusContentType() throws Exception {
    HttpResponse<String> r = get("/metrics", null);
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
    assertEquals("# TYPE x_total counter\nx_total 1.0\n", r.body());
  }

  @Test
  void unknownPath404_wrongMethod405_handlerStatusPassedOn() throws Exception {
    assertEquals(404, get("/v1/nope", "Bearer " + token()).statusCode());
    assertEquals(405, get("/v1/fail", "Bearer " + token()).statusCode());
    AdminClient c = new AdminClient(URI.create(url()), token());
    AdminException e = assertThrows(AdminException.class, () -> c.post("/v1/fail", Map.of()));
    assertEquals(409, e.status());
    assertEquals("busy right now", e.getMessage());
    JsonNode routes = c.get("/v1/routes");
    assertTrue(routes.toString().contains("/v1/count") && routes.toString().contains("\"streaming\":true"),
        routes.toString());
  }

  @Test
  void stream_progressLinesThenResult() throws Exception {
    AdminClient c = new AdminClient(URI.create(url()), token());
    List<JsonNode> progress = Collections.synchronizedList(new ArrayList<>());
    JsonNode r = c.stream("/v1/count", Map.of("n", 5), progress::add);
    assertEquals(5, r.get("counted").asLong());
    assertFalse(progress.isEmpty());
    JsonNode last = progress.get(progress.size() - 1);
    assertEquals("counting", last.get("phase").asText());
    assertEquals(5, last.get("done").asLong(), "the last step is always sent");
    assertEquals(5, last.get("total").asLong());
  }

  @Test
  void wrongTokenThroughClient_isAnAdminException403() throws Exception {
    AdminClient c = new AdminClient(URI.create(url()), "f".repeat(64));
    assertEquals(403, assertThrows(AdminException.class, () -> c.get("/v1/echo")).status());
  }

  @Test
  void isLocalClient_onlyLoopback() throws Exception {
    assertTrue(AdminServer.isLocalClient(InetAddress.getByName("127.0.0.1")));
    assertTrue(AdminServer.isLocalClient(InetAddress.getByName("127.9.8.7")));
    assertTrue(AdminServer.isLocalClient(InetAddress.getByName("::1")));
    assertFalse(AdminServer.isLocalClient(InetAddress.getByName("192.0.2.10")));
    assertFalse(AdminServer.isLocalClient(InetAddress.getByName("10.1.2.3")));
    assertFalse(AdminServer.isLocalClient(InetAddress.getByName("::ffff:192.0.2.10")));
    assertFalse(AdminServer.isLocalClient(null));
  }

  /**
   * A request to the loopback address but from one of this machine's non-loopback addresses (the source
   * address a remote client would have): refused with 403 even with the right token. Skipped where the
   * machine has no such address (the address check itself is tested above).
   */
  @Test
  void requestFromNonLoopbackSource_refused403_evenWithToken() throws Exception {
    Optional<InetAddress> source = nonLoopbackAddress();
    org.junit.jupiter.api.Assumptions.assumeTrue(source.isPresent(), "no non-loopback IPv4 address here");
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress(source.get(), 0));
      s.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(("GET /v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token()
          + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(response.startsWith("HTTP/1.1 403"), response);
      assertTrue(response.contains("loopback"), response);
    }
  }

  private static Optional<InetAddress> nonLoopbackAddress() throws Exception {
    for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!ni.isUp() || ni.isLoopback()) {
        continue;
      }
      for (InetAddress a : Collections.list(ni.getInetAddresses())) {
        if (a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress()) {
          return Optional.of(a);
        }
      }
    }
    return Optional.empty();
  }

  @Test
  void close_removesAdminFiles() throws Exception {
    server.close();
    assertFalse(Files.exists(run.resolve("admin.json")));
    assertFalse(Files.exists(run.resolve("admin.token")));
  }

  @Test
  void address_parse() {
    assertEquals(new AdminAddress("127.0.0.1", 9567), AdminAddress.parse("127.0.0.1:9567"));
    assertEquals(new AdminAddress("127.0.0.1", 9567), AdminAddress.parse("9567"));
    assertEquals(new AdminAddress("::1", 0), AdminAddress.parse("[::1]:0"));
    assertThrows(IllegalArgumentException.class, () -> AdminAddress.parse("localhost:http"));
    assertThrows(IllegalArgumentException.class, () -> AdminAddress.parse("127.0.0.1:70000"));
    assertThrows(IllegalArgumentException.class, () -> AdminAddress.parse("::1:80"));
  }

  @Test
  void mounts_parseFsnameAndEscapes() {
    List<DynamicFsMounts.Mount> m = DynamicFsMounts.parse(List.of(
        "dynamicfs:/srv/my\\040data /mnt/a\\040b fuse.dynamicfs rw,nosuid 0 0",
        "/dev/sda1 / ext4 rw 0 0"));
    assertEquals(1, m.size());
    assertEquals(Path.of("/mnt/a b"), m.get(0).mountPoint());
    assertEquals(Path.of("/srv/my data"), m.get(0).data());
  }
}
