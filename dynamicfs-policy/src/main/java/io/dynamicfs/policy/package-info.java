/**
 * The policy engine (docs/policy.md): {@code trace} (access traces: the shared files, synthetic workloads,
 * streaming readers), {@code track} (the access tracker: per-file and per-extent statistics in bounded
 * primitive tables, persisted; the binary ring log of accesses), {@code model} (features, the logistic
 * hotness model, the deciding heuristics, prediction metrics), {@code tier} (fast-tier policies on one
 * interface: the engine's scored placement and the baselines LRU, LFU with ageing, ARC, S3-FIFO,
 * W-TinyLFU and Belady) and {@code eval} (the trace-driven evaluation behind {@code dynamicfs policy
 * evaluate}); {@code rules} (the operator's rules file), {@code mount} (the engine on a mount: tracking,
 * status, explain, plan, simulate and the executor) and {@code act} (the audit log, the move history, pacing
 * and back-off).
 */
package io.dynamicfs.policy;
