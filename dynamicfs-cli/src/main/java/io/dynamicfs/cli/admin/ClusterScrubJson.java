package io.dynamicfs.cli.admin;

import io.dynamicfs.cluster.node.ClusterScrub;
import io.dynamicfs.cluster.node.CopyCheck;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A cluster scrub's report as the admin API and {@code scrub} print it: the same figures whether it ran in a
 * cluster mount (scrub MNT) or in the command itself (scrub --cluster).
 */
public final class ClusterScrubJson {
  private ClusterScrubJson() {}

  public static Map<String, Object> of(ClusterScrub.Report r, boolean repair) {
    CopyCheck.Report f = r.found();
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("cluster", true);
    s.put("repair", repair);
    s.put("blocks", f.blocks());
    s.put("copies", f.copies());
    s.put("intact", f.intact());
    s.put("corrupt", f.count(CopyCheck.Kind.CORRUPT_COPY));
    s.put("missing", f.count(CopyCheck.Kind.MISSING_COPY));
    s.put("under_replicated", f.count(CopyCheck.Kind.UNDER_REPLICATED));
    s.put("repaired", r.repaired());
    s.put("unrepairable", r.lost());
    s.put("problems_after", r.after().problems().stream().map(String::valueOf).toList());
    s.put("at_risk", r.after().atRisk());
    return s;
  }

  /** The lines {@code scrub} prints for such a report. */
  public static String render(Map<String, ?> s) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "scrub: %d blocks, %d copies verified on their nodes, %d intact%n",
        num(s, "blocks"), num(s, "copies"), num(s, "intact")));
    b.append(String.format(Locale.ROOT, "  corrupt %d, missing %d, under-replicated %d, repaired %d, unrepairable %d%n",
        num(s, "corrupt"), num(s, "missing"), num(s, "under_replicated"), num(s, "repaired"), num(s, "unrepairable")));
    Object problems = s.get("problems_after");
    if (problems instanceof List<?> l) {
      boolean repair = Boolean.TRUE.equals(s.get("repair"));
      for (Object p : l) {
        b.append("  ").append(repair ? "still " : "").append(p).append(System.lineSeparator());
      }
    }
    return b.toString();
  }

  private static long num(Map<String, ?> s, String key) {
    return s.get(key) instanceof Number n ? n.longValue() : 0;
  }
}
