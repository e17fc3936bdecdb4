package io.dynamicfs.cluster.mount;

import io.dynamicfs.core.meta.MetadataStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The sessions that mounts on this machine left when their process ended without unmounting (kill -9, an
 * out-of-memory exit), so that the next mount started here ends them at once.
 *
 * <p>Why: a session lives until it is not renewed for its lifetime (30 s), and until then its directory leases
 * hold: another mount that opens or looks up a name in such a directory asks for the lease back and waits for
 * a holder that will never answer. A program that restarts a crashed mount and reads what it wrote waited that
 * long. A pid says whether a process is alive only on the machine, the boot and the pid namespace it was taken
 * in, so a mount names its session with all three ({@link #client}); a session whose three match this process's
 * and whose pid is gone belongs to a dead process. Sessions named otherwise (other machines, containers, boots,
 * or versions before this one) are left to expire.
 */
public final class LocalSessions {
  private static final Pattern CLIENT = Pattern.compile("^mount .* pid (\\d+) boot (\\S+) pidns (\\S+)$");

  private LocalSessions() {}

  /** The client name a mount of {@code mountPoint} by this process gives its session. */
  public static String client(Path mountPoint) {
    String name = "mount " + mountPoint.toAbsolutePath().normalize() + " pid " + ProcessHandle.current().pid();
    String boot = bootId();
    String ns = pidNamespace();
    return boot == null || ns == null ? name : name + " boot " + boot + " pidns " + ns;
  }

  /**
   * The {@code sessions} made in this boot and pid namespace by processes {@code alive} says are gone (none
   * when either is unknown here).
   */
  static List<MetadataStore.Session> ofDeadProcesses(List<MetadataStore.Session> sessions, LongPredicate alive) {
    return ofDeadProcesses(sessions, bootId(), pidNamespace(), alive);
  }

  static List<MetadataStore.Session> ofDeadProcesses(List<MetadataStore.Session> sessions, String boot, String ns,
      LongPredicate alive) {
    List<MetadataStore.Session> dead = new ArrayList<>();
    if (boot == null || ns == null) {
      return dead;
    }
    for (MetadataStore.Session s : sessions) {
      Matcher m = CLIENT.matcher(s.client());
      if (m.matches() && m.group(2).equals(boot) && m.group(3).equals(ns)
          && !alive.test(Long.parseLong(m.group(1)))) {
        dead.add(s);
      }
    }
    return dead;
  }

  /** Whether process {@code pid} runs in this pid namespace. */
  static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  private static String bootId() {
    try {
      String id = Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim();
      return id.isEmpty() ? null : id;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static String pidNamespace() {
    try {
      // "pid:[4026531836]"
      String number = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString().replaceAll("[^0-9]", "");
      return number.isEmpty() ? null : number;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
