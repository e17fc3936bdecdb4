package io.dynamicfs.cli.admin;

import io.dynamicfs.core.api.ProgressListener;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The admin API's routes: method + exact path → handler. A handler returns any object Jackson can write
 * (records, maps, lists); it is sent as JSON with snake_case names. A streaming handler is for long work:
 * its {@link ProgressListener} calls become JSON lines ({@code {"progress":{"phase":…,"done":…,"total":…}}})
 * sent as they happen, and its result the last line ({@code {"result":…}}, or {@code {"error":…}}).
 *
 * <p>Adding an endpoint is one line where the daemon's routes are registered ({@link AdminEndpoints}):
 * <pre>{@code
 * routes.stream("/v1/scrub", (req, progress) -> scrubber.run(req.bool("repair", false), progress));
 * }</pre>
 * and, in the CLI, {@code AdminClient.forMount(mnt).stream("/v1/scrub", Map.of("repair", true), bar)}.
 */
public final class AdminRoutes {
  /** Answers a request with an object to send as JSON. */
  @FunctionalInterface
  public interface Handler {
    Object handle(AdminRequest request) throws Exception;
  }

  /** Answers a long request, reporting progress on the way. */
  @FunctionalInterface
  public interface StreamingHandler {
    Object handle(AdminRequest request, ProgressListener progress) throws Exception;
  }

  /** One registered route, as {@code GET /v1/routes} lists it. */
  public record Route(String method, String path, boolean streaming, String description) {}

  record Entry(Route route, Handler handler, StreamingHandler streaming) {}

  private final Map<String, Entry> routes = new LinkedHashMap<>();

  public AdminRoutes get(String path, String description, Handler h) {
    return add(new Entry(new Route("GET", path, false, description), h, null));
  }

  public AdminRoutes post(String path, String description, Handler h) {
    return add(new Entry(new Route("POST", path, false, description), h, null));
  }

  /** A POST whose answer is a stream of JSON lines: progress, then the result. */
  public AdminRoutes stream(String path, String description, StreamingHandler h) {
    return add(new Entry(new Route("POST", path, true, description), null, h));
  }

  private AdminRoutes add(Entry e) {
    if (!e.route().path().startsWith("/v1/")) {
      throw new IllegalArgumentException("admin routes live under /v1/: " + e.route().path());
    }
    if (routes.putIfAbsent(e.route().method() + " " + e.route().path(), e) != null) {
      throw new IllegalArgumentException("route registered twice: " + e.route().method() + " " + e.route().path());
    }
    return this;
  }

  Entry find(String method, String path) {
    return routes.get(method + " " + path);
  }

  boolean hasPath(String path) {
    return routes.values().stream().anyMatch(e -> e.route().path().equals(path));
  }

  public List<Route> list() {
    List<Route> out = new ArrayList<>();
    routes.values().forEach(e -> out.add(e.route()));
    return out;
  }
}
