package io.dynamicfs.cli.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The CLI's side of the admin API. {@link #forMount} goes from a mount point to its daemon: the mount's
 * fsname in /proc/mounts gives DATA, {@code DATA/run/admin.json} the address and
 * {@code DATA/run/admin.token} the token (readable by the daemon's user only).
 *
 * <p>Failures are {@link AdminException}s with a one-line message: status 0 when the daemon cannot be
 * found or reached, else the HTTP status the daemon answered.
 */
public final class AdminClient {
  private final URI base;
  private final String token;
  private final HttpClient http;
  private final ObjectMapper json = AdminJson.mapper();

  public AdminClient(URI base, String token) {
    this.base = base;
    this.token = token;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  /** The client of the daemon serving the DynamicFS mounted at {@code mnt}, or of the node whose DATA it is. */
  public static AdminClient forMount(Path mnt) throws AdminException, IOException {
    Path mp = mnt.toAbsolutePath().normalize();
    for (DynamicFsMounts.Mount m : DynamicFsMounts.list()) {
      if (m.mountPoint().equals(mp)) {
        return forData(m.data());
      }
    }
    if (Files.isRegularFile(mp.resolve("cluster").resolve("node.json"))) {
      return forData(mp); // a cluster node's DATA: its daemon serves the admin API from DATA/run
    }
    throw new AdminException(0, mp + " is not a mounted DynamicFS (nor a cluster node's DATA)");
  }

  /** The client of the daemon that has {@code data} mounted. */
  public static AdminClient forData(Path data) throws AdminException, IOException {
    Path run = data.resolve("run");
    JsonNode info;
    String token;
    try {
      info = AdminJson.mapper().readTree(Files.readString(run.resolve(AdminServer.INFO_FILE)));
      token = Files.readString(run.resolve(AdminServer.TOKEN_FILE), StandardCharsets.US_ASCII).trim();
    } catch (NoSuchFileException e) {
      throw new AdminException(0, "no admin endpoint for " + data + " (" + e.getFile()
          + " is missing: is the daemon running, and is it a version with the admin API?)");
    } catch (java.nio.file.AccessDeniedException e) {
      throw new AdminException(0, "cannot read " + e.getFile() + ": the admin API needs the daemon's user (root?)");
    }
    return new AdminClient(URI.create(info.path("url").asText()), token);
  }

  public JsonNode get(String path) throws AdminException, IOException {
    return send(request(path).GET().build());
  }

  public JsonNode post(String path, Object body) throws AdminException, IOException {
    return send(request(path).POST(HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(body))).build());
  }

  /** A streaming POST whose progress objects ({@code phase}, {@code done}, {@code total}) go to {@code progress}. */
  public JsonNode stream(String path, Object body, io.dynamicfs.core.api.ProgressListener progress)
      throws AdminException, IOException {
    return stream(path, body, (Consumer<JsonNode>) p -> progress.progress(p.path("phase").asText(),
        p.path("done").asLong(), p.path("total").asLong()));
  }

  /**
   * A streaming POST: {@code onProgress} gets each progress object ({@code phase}, {@code done},
   * {@code total}) as it arrives; returns the result.
   */
  public JsonNode stream(String path, Object body, Consumer<JsonNode> onProgress)
      throws AdminException, IOException {
    HttpRequest req = request(path).timeout(Duration.ofDays(1))
        .POST(HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(body == null ? Map.of() : body))).build();
    HttpResponse<java.io.InputStream> resp = call(req, HttpResponse.BodyHandlers.ofInputStream());
    try (BufferedReader r = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8))) {
      if (resp.statusCode() != 200) {
        throw failure(resp.statusCode(), r.lines().reduce("", String::concat));
      }
      for (String line; (line = r.readLine()) != null; ) {
        JsonNode n = json.readTree(line);
        if (n.has("progress")) {
          onProgress.accept(n.get("progress"));
        } else if (n.has("result")) {
          return n.get("result");
        } else if (n.has("error")) {
          throw new AdminException(n.path("status").asInt(500), n.get("error").asText());
        }
      }
    }
    throw new AdminException(500, "the daemon closed the stream before the result (did it stop?)");
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofMinutes(5))
        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json");
  }

  private JsonNode send(HttpRequest req) throws AdminException, IOException {
    HttpResponse<String> resp = call(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    if (resp.statusCode() != 200) {
      throw failure(resp.statusCode(), resp.body());
    }
    return json.readTree(resp.body());
  }

  private <T> HttpResponse<T> call(HttpRequest req, HttpResponse.BodyHandler<T> handler)
      throws AdminException, IOException {
    try {
      return http.send(req, handler);
    } catch (java.net.ConnectException e) {
      throw new AdminException(0, "the daemon does not answer at " + base + " (is it still running?)");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AdminException(0, "interrupted");
    }
  }

  private AdminException failure(int status, String body) {
    String msg;
    try {
      msg = json.readTree(body).path("error").asText(body);
    } catch (IOException e) {
      msg = body;
    }
    return new AdminException(status, msg.isEmpty() ? "HTTP " + status : msg);
  }
}
