/**
 * @module
 * CPU time of this process (user + system, all its threads), in milliseconds. On a
 * shared machine, wall-clock time also counts the moments other processes held the CPU;
 * CPU time does not, so a benchmark that runs its subjects one after another can report
 * both and compare CPU times when the machine's load changed between them.
 */

/** User + system CPU time consumed so far, milliseconds. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
