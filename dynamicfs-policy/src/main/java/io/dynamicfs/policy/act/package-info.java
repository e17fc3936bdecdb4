/**
 * The mechanics of acting on a mount, apart from what to do: {@link io.dynamicfs.policy.act.AuditLog} (the
 * append-only JSON-lines record of every executed or refused action), {@link io.dynamicfs.policy.act.MoveHistory}
 * (what the log says was moved when: the cooldown and the hour's budget) and
 * {@link io.dynamicfs.policy.act.Pacer} (the budget over time and the back-off while the
 * {@link io.dynamicfs.policy.act.Foreground} is busy). What to move is decided in {@code policy.mount}.
 */
package io.dynamicfs.policy.act;
