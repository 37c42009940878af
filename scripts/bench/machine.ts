/**
 * @module
 * The machine facts every benchmark prints next to its numbers: cores, memory, CPU model,
 * runtime, temp dir, and the load average at start (the machine is shared, so a high
 * load explains noisy figures).
 */
import * as os from "node:os";

/** Lines describing this machine and its current load. */
export function machineLines(): string[] {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const load = os.loadavg().map((l) => l.toFixed(2)).join(" ");
  return [
    `machine: ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${cpu}`,
    `runtime: Bun ${Bun.version}, ${os.type()} ${os.release()}, temp dir ${os.tmpdir()}`,
    `load average at start (1/5/15 min): ${load}`,
  ];
}
