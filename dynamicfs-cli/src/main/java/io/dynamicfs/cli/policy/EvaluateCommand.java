package io.dynamicfs.cli.policy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dynamicfs.policy.eval.Evaluation;
import io.dynamicfs.policy.eval.Evaluator;
import io.dynamicfs.policy.trace.TraceSource;
import io.dynamicfs.policy.trace.Traces;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dynamicfs policy evaluate}: replays a trace through the policy engine's decision code and the
 * baselines on a virtual clock and prints their figures side by side (see docs/policy.md).
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
    description = {"Replay an access trace through the hotness model and the baseline policies, side by side.",
        "For each fast-tier capacity (percent of the trace's footprint): positive rate, PR-AUC, ROC-AUC, Brier "
            + "score and precision at capacity of each policy's predictions on held-out windows, then its fast-tier "
            + "byte hit ratio, bytes moved and ping-pong moves. The model is trained on earlier windows and "
            + "tested on the next; Belady (offline optimum) is the bound. Deterministic for a seed."})
public final class EvaluateCommand implements Callable<Integer> {
  static final double[] DEFAULT_CAPACITIES = {1, 5, 10, 20};

  @Option(names = "--trace", required = true, paramLabel = "FILE|synthetic:NAME",
      description = "A trace file (formats: docs/policy.md) or synthetic:NAME (policy = all of zipf-shift, "
          + "scan-hot, loop, periodic).")
  String trace;

  @Option(names = "--capacity", paramLabel = "PCT",
      description = "Only this fast-tier capacity, percent of the footprint (default: 1, 5, 10 and 20).")
  Double capacity;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of the sampling and the victim choice (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--limit", paramLabel = "N", description = "Evaluate only the first N accesses of each trace.")
  Long limit;

  @Option(names = "--admission-window", paramLabel = "PCT", defaultValue = "1",
      description = "Share of the fast tier (percent, 0-50) where the engine's policy lets every missed key stay once "
          + "before the model decides (default ${DEFAULT-VALUE}; 0: keys move up only when they beat what they displace).")
  double admissionWindow;

  @Option(names = "--json", description = "Print the figures as JSON.")
  boolean json;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (capacity != null && !(capacity > 0 && capacity <= 100)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--capacity must be in (0, 100] percent: " + capacity);
    }
    if (!(admissionWindow >= 0 && admissionWindow <= 50)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--admission-window must be 0-50 (percent): "
          + admissionWindow);
    }
    if (limit != null && limit < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--limit must be at least 1: " + limit);
    }
    List<TraceSource> sources;
    try {
      sources = Traces.resolve(trace);
    } catch (NoSuchFileException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--trace " + trace + ": no such file");
    } catch (IllegalArgumentException | IOException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--trace " + e.getMessage());
    }
    double[] capacities = capacity == null ? DEFAULT_CAPACITIES : new double[] {capacity};
    Evaluator.Settings s = Evaluator.Settings.defaults().withSeed(seed)
        .withLimit(limit == null ? Long.MAX_VALUE : limit).withAdmissionWindow(admissionWindow / 100);
    Evaluator evaluator = new Evaluator(s);
    List<Evaluation> results = new ArrayList<>();
    PrintWriter out = spec.commandLine().getOut();
    for (TraceSource source : sources) {
      Evaluation e;
      try {
        e = evaluator.evaluate(source, capacities);
      } catch (IOException ex) {
        spec.commandLine().getErr().println("dynamicfs: cannot read trace " + source.name() + ": " + ex.getMessage());
        return io.dynamicfs.cli.Main.EXIT_USAGE;
      }
      results.add(e);
      if (!json) {
        out.print(render(e));
        out.flush();
      }
    }
    if (json) {
      out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(toJson(results)));
    }
    return 0;
  }

  static String render(Evaluation e) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "trace %s: %,d accesses, %,d keys, footprint %s%n", e.trace(), e.accesses(),
        e.distinctKeys(), bytes(e.footprintBytes())));
    for (Evaluation.AtCapacity c : e.capacities()) {
      b.append(String.format(Locale.ROOT,
          "%n  capacity %s%% (%s): horizon %,d accesses, %d windows of %,d; %d models trained, live in %d windows; "
              + "deciding at the end: %s%n",
          pct(c.capacityPercent()), bytes(c.capacityBytes()), c.horizon(), c.windows(), c.windowLength(),
          c.modelsTrained(), c.windowsModelLive(), c.deciderAtEnd()));
      b.append(String.format(Locale.ROOT, "  %-10s %8s %7s %7s %7s %9s %9s %11s %10s%n", "policy", "pos.rate",
          "PR-AUC", "ROC-AUC", "Brier", "prec@cap", "byte-hit", "moved", "ping-pong"));
      for (Evaluation.PolicyFigures p : c.policies()) {
        b.append(String.format(Locale.ROOT, "  %-10s %8s %7s %7s %7s %9s %9s %11s %10d%n", p.policy(),
            num(p.positiveRate()), num(p.prAuc()), num(p.rocAuc()), num(p.brier()), num(p.precisionAtCapacity()),
            num(p.byteHitRatio()), bytes(p.bytesMoved()), p.pingPong()));
      }
    }
    b.append(System.lineSeparator());
    return b.toString();
  }

  private static String pct(double p) {
    return p == Math.rint(p) ? String.valueOf((long) p) : String.valueOf(p);
  }

  private static String num(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.3f", v);
  }

  static String bytes(long n) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = n;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return u == 0 ? n + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }

  private static ArrayNode toJson(List<Evaluation> results) {
    ObjectMapper m = new ObjectMapper();
    ArrayNode traces = m.createArrayNode();
    for (Evaluation e : results) {
      ObjectNode t = traces.addObject();
      t.put("trace", e.trace());
      t.put("accesses", e.accesses());
      t.put("distinct_keys", e.distinctKeys());
      t.put("footprint_bytes", e.footprintBytes());
      ArrayNode caps = t.putArray("capacities");
      for (Evaluation.AtCapacity c : e.capacities()) {
        ObjectNode cn = caps.addObject();
        cn.put("capacity_percent", c.capacityPercent());
        cn.put("capacity_bytes", c.capacityBytes());
        cn.put("horizon", c.horizon());
        cn.put("window_length", c.windowLength());
        cn.put("windows", c.windows());
        cn.put("models_trained", c.modelsTrained());
        cn.put("windows_model_live", c.windowsModelLive());
        cn.put("decider_at_end", c.deciderAtEnd());
        ArrayNode contributions = cn.putArray("model_contributions");
        for (Evaluation.Contribution k : c.contributions()) {
          ObjectNode kn = contributions.addObject();
          kn.put("feature", k.feature());
          put(kn, "weight", k.weight());
          put(kn, "mean_abs_contribution", k.meanAbsContribution());
        }
        ArrayNode ps = cn.putArray("policies");
        for (Evaluation.PolicyFigures p : c.policies()) {
          ObjectNode pn = ps.addObject();
          pn.put("policy", p.policy());
          put(pn, "positive_rate", p.positiveRate());
          put(pn, "pr_auc", p.prAuc());
          put(pn, "roc_auc", p.rocAuc());
          put(pn, "brier", p.brier());
          put(pn, "precision_at_capacity", p.precisionAtCapacity());
          put(pn, "byte_hit_ratio", p.byteHitRatio());
          pn.put("bytes_moved", p.bytesMoved());
          pn.put("ping_pong", p.pingPong());
          pn.put("promotions", p.promotions());
          ArrayNode wh = pn.putArray("window_byte_hit_ratio");
          for (double v : p.windowHitRatio()) {
            if (Double.isNaN(v)) {
              wh.addNull();
            } else {
              wh.add(v);
            }
          }
        }
      }
    }
    return traces;
  }

  /** JSON has no NaN: an undefined figure is null. */
  private static void put(ObjectNode n, String k, double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      n.putNull(k);
    } else {
      n.put(k, v);
    }
  }
}
