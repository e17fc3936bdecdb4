/**
 * Access traces as streams of (time, key, bytes, read/write): the shared trace files in their formats, the
 * seeded synthetic workloads, and {@link io.dynamicfs.policy.trace.Traces} to resolve a command's argument.
 */
package io.dynamicfs.policy.trace;
