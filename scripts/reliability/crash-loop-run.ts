/**
 * @module
 * The crash loop (`scripts/crash-loop.ts`; the short version runs in
 * `test/e2e/crash_loop.test.ts`). Each cycle on one data directory:
 *
 * 1. sometimes start the server and SIGKILL it blind during start-up (recovery itself
 *    must survive a crash);
 * 2. start `kvdb serve` with the indexes declared and, after a crash, run
 *    {@link checkAfterRestart} against the expected state;
 * 3. put the concurrent mixed load of crash-workload.ts on it and SIGKILL it at a random
 *    moment: after a random delay, or a few milliseconds after a client sends a
 *    `POST /compact` or an index rebuild (so kills land inside compactions and builds).
 *
 * After the last cycle the server is restarted, checked, stopped cleanly (exit 0),
 * started again and checked once more. The seed fixes every random choice; the timing of
 * concurrent requests (and so the exact moment of each kill) is not reproducible.
 */
import { seededRandom } from "../../test/support/random.ts";
import { ExpectedState } from "./expected-state.ts";
import { emptyCounters, runLoad, type RequestKind, type WorkloadOptions } from "./crash-workload.ts";
import { checkAfterRestart, type RestartCheck } from "./restart-check.ts";
import { spawnServer, startServer, type ServerChild, type ServerChildOptions } from "./server-child.ts";

export interface CrashLoopOptions extends WorkloadOptions {
  cycles: number;
  seed: number;
  dataDir: string;
  /** `kvdb` executable; undefined runs `bun src/main.ts`. */
  bin?: string;
  indexesFile: string;
  /** The kill comes uniformly between these many ms after the load starts. */
  killMinMs: number;
  killMaxMs: number;
  /** Chance per cycle of a blind kill during start-up (recovery). */
  startupKillChance: number;
  /** Stop after the first cycle with a violation (default true). */
  stopOnViolation?: boolean;
  /** Progress lines. */
  log?: (line: string) => void;
  /** A progress line every this many cycles (default 50). */
  progressEvery?: number;
}

export interface CrashLoopSummary {
  seed: number;
  cycles: number;
  /** SIGKILLs during load (one per cycle) and during start-up. */
  kills: number;
  startupKills: number;
  killsAfterCompact: number;
  killsAfterRebuild: number;
  /** Acknowledged write operations (batch ops counted one by one) and batches. */
  acknowledgedWrites: number;
  acknowledgedBatches: number;
  /** Key states compared after restarts, and of those the keys with an acknowledged write. */
  keyChecks: number;
  acknowledgedKeyChecks: number;
  inFlightApplied: number;
  inFlightNotApplied: number;
  /** In-flight batches checked all-or-nothing. */
  batchesChecked: number;
  pointReads: number;
  /** Index answers compared with scan and reference answers after restarts. */
  queriesCompared: number;
  /** Online checks under load: reads, own-prefix listings, queries (of which answered from an index). */
  onlineReads: number;
  onlineListings: number;
  onlineQueries: number;
  onlineIndexedQueries: number;
  compactions: number;
  rebuilds: number;
  requests: number;
  serverErrors: number;
  /** Acknowledged writes missing after a restart (must be 0). */
  writesLost: number;
  /** Every other violation: wrong values, torn batches, index ≠ scan, failed online checks (must be 0). */
  mismatches: number;
  /** Violations counted by kind (lost, mismatch, batch_torn, index_vs_scan, online checks…). */
  violationsByKind: Record<string, number>;
  /** The first violations, described. */
  violations: string[];
  maxIndexWaitMs: number;
  seconds: number;
  dataDir: string;
}

const SERVER_TROUBLE = new Set(["online_server_error", "online_connection_lost", "server_exited", "check_failed", "shutdown_failed"]);

export async function runCrashLoop(o: CrashLoopOptions): Promise<CrashLoopSummary> {
  const log = o.log ?? (() => {});
  const r = seededRandom(o.seed);
  const oracle = new ExpectedState();
  const started = performance.now();
  const s: CrashLoopSummary = {
    seed: o.seed, cycles: 0, kills: 0, startupKills: 0, killsAfterCompact: 0, killsAfterRebuild: 0, acknowledgedWrites: 0, acknowledgedBatches: 0,
    keyChecks: 0, acknowledgedKeyChecks: 0, inFlightApplied: 0, inFlightNotApplied: 0, batchesChecked: 0, pointReads: 0, queriesCompared: 0,
    onlineReads: 0, onlineListings: 0, onlineQueries: 0, onlineIndexedQueries: 0, compactions: 0, rebuilds: 0, requests: 0, serverErrors: 0,
    writesLost: 0, mismatches: 0, violationsByKind: {}, violations: [], maxIndexWaitMs: 0, seconds: 0, dataDir: o.dataDir,
  };
  const serverOptions: ServerChildOptions = { bin: o.bin, dataDir: o.dataDir, indexesFile: o.indexesFile, sync: "always" };
  let batchIds = 0;
  const note = (cycle: number, kind: string, what: string, server?: ServerChild) => {
    if (kind === "lost") s.writesLost++;
    else s.mismatches++;
    s.violationsByKind[kind] = (s.violationsByKind[kind] ?? 0) + 1;
    if (s.violations.length < 50) s.violations.push(`cycle ${cycle}: [${kind}] ${what}`);
    // The server's own words matter when it failed, not when an answer was wrong.
    if (server && SERVER_TROUBLE.has(kind) && s.violations.length < 5) log(`server output (tail):\n${server.output().slice(-3000)}`);
  };
  const record = (cycle: number, check: RestartCheck, server: ServerChild) => {
    const f = check.figures;
    s.keyChecks += f.keysChecked;
    s.acknowledgedKeyChecks += f.ackedKeysChecked;
    s.inFlightApplied += f.inFlightApplied;
    s.inFlightNotApplied += f.inFlightNotApplied;
    s.batchesChecked += f.batchesChecked;
    s.pointReads += check.pointReads;
    s.queriesCompared += check.queriesCompared;
    s.maxIndexWaitMs = Math.max(s.maxIndexWaitMs, check.indexWaitMs);
    for (const v of f.violations) note(cycle, v.kind, `${v.key}: ${v.detail}`, server);
    for (const p of check.problems) note(cycle, p.kind, p.text, server);
  };
  const violationCount = () => s.writesLost + s.mismatches;
  // A check that cannot complete (an index never ready, a request failing) is a violation too.
  const check = async (cycle: number, server: ServerChild) => {
    try {
      record(cycle, await checkAfterRestart(server.url, oracle, r), server);
    } catch (e) {
      note(cycle, "check_failed", `the check after the restart failed: ${(e as Error).message}`, server);
    }
  };

  for (let cycle = 0; cycle < o.cycles; cycle++) {
    const before = violationCount();
    if (cycle > 0 && r.chance(o.startupKillChance)) {
      const blind = spawnServer(serverOptions);
      await Bun.sleep(r.int(150));
      blind.proc.kill("SIGKILL");
      await blind.proc.exited;
      s.startupKills++;
    }
    const server = await startServer(serverOptions);
    if (cycle > 0) {
      await check(cycle, server);
      if (violationCount() > 0 && (o.stopOnViolation ?? true)) {
        await server.kill();
        s.cycles = cycle;
        break;
      }
    }

    // The load, and the kill.
    const trigger: RequestKind | "timer" = r.chance(0.15) ? "compact" : r.chance(0.15) ? "rebuild" : "timer";
    const killAfterMs = o.killMinMs + r.int(Math.max(1, o.killMaxMs - o.killMinMs));
    const killDelayAfterTrigger = r.int(25);
    let killed = false;
    let armed = false;
    const loadStarted = performance.now();
    const killNow = (why: "timer" | "compact" | "rebuild") => {
      if (killed) return;
      killed = true;
      if (why === "compact") s.killsAfterCompact++;
      if (why === "rebuild") s.killsAfterRebuild++;
      server.proc.kill("SIGKILL");
    };
    // A trigger that never fires still ends the load, a little later.
    const timer = setTimeout(() => killNow("timer"), trigger === "timer" ? killAfterMs : o.killMaxMs * 2);
    const counters = emptyCounters();
    await runLoad(o, {
      url: server.url,
      oracle,
      seed: o.seed,
      runId: cycle,
      killed: () => killed,
      onSend: (kind) => {
        if (kind === trigger && !armed && performance.now() - loadStarted >= o.killMinMs / 2) {
          armed = true;
          setTimeout(() => killNow(kind as "compact" | "rebuild"), killDelayAfterTrigger);
        }
      },
      counters,
      nextBatchId: () => batchIds++,
      lastRebuildAt: undefined,
    });
    clearTimeout(timer);
    killNow("timer"); // every client stopped early (each reported why): end the cycle anyway
    await server.proc.exited;
    s.kills++;
    if (server.proc.signalCode !== "SIGKILL") note(cycle, "server_exited", `the server exited by itself (code ${server.proc.exitCode}, signal ${server.proc.signalCode}) before the kill`, server);
    s.requests += counters.requests;
    s.onlineReads += counters.reads;
    s.onlineListings += counters.listings;
    s.onlineQueries += counters.queries;
    s.onlineIndexedQueries += counters.indexedQueries;
    s.compactions += counters.compactions;
    s.rebuilds += counters.rebuilds;
    s.serverErrors += counters.serverErrors;
    for (const v of counters.violations) note(cycle, `online_${v.kind}`, v.text, server);
    s.cycles = cycle + 1;
    s.acknowledgedWrites = oracle.acknowledgedOps;
    s.acknowledgedBatches = oracle.acknowledgedBatches;
    if (s.cycles % (o.progressEvery ?? 50) === 0) log(progressLine(s, performance.now() - started));
    if (violationCount() > before && (o.stopOnViolation ?? true)) break;
  }

  // Final: check the last crash, then a clean shutdown and one more check after it.
  if (violationCount() === 0 || !(o.stopOnViolation ?? true)) {
    for (const phase of ["after the last crash", "after a clean shutdown"]) {
      const server = await startServer(serverOptions);
      try {
        await check(s.cycles, server);
      } finally {
        const code = await server.stop();
        if (code !== 0) note(s.cycles, "shutdown_failed", `clean shutdown ${phase} exited ${code}`, server);
      }
    }
  }
  s.seconds = Math.round((performance.now() - started) / 100) / 10;
  return s;
}

export function progressLine(s: CrashLoopSummary, ms: number): string {
  return (
    `cycle ${s.cycles}: ${s.acknowledgedWrites} acknowledged writes, ${s.keyChecks} key checks, ${s.queriesCompared} index/scan comparisons, ` +
    `${s.compactions} compactions, ${s.rebuilds} rebuilds, lost ${s.writesLost}, mismatches ${s.mismatches} (${(ms / 1000).toFixed(1)} s)`
  );
}

/** The summary as the lines the script prints. */
export function summaryLines(s: CrashLoopSummary): string[] {
  return [
    `crash loop: seed ${s.seed}, ${s.cycles} cycles in ${s.seconds} s (data dir ${s.dataDir})`,
    `  kills: ${s.kills} during load (${s.killsAfterCompact} just after POST /compact, ${s.killsAfterRebuild} just after an index rebuild), ${s.startupKills} during start-up`,
    `  load: ${s.requests} requests, ${s.compactions} compactions, ${s.rebuilds} index rebuilds, ${s.serverErrors} 5xx`,
    `  acknowledged writes: ${s.acknowledgedWrites} ops (${s.acknowledgedBatches} batches)`,
    `  after restarts: ${s.keyChecks} key checks (${s.acknowledgedKeyChecks} with an acknowledged write), ${s.pointReads} point reads, ` +
      `in-flight writes applied ${s.inFlightApplied} / not applied ${s.inFlightNotApplied}, ${s.batchesChecked} in-flight batches checked all-or-nothing`,
    `  index vs scan: ${s.queriesCompared} comparisons after restarts; online ${s.onlineQueries} queries (${s.onlineIndexedQueries} from an index), ${s.onlineReads} reads, ${s.onlineListings} listings`,
    `  writes lost: ${s.writesLost}`,
    `  mismatches: ${s.mismatches}${s.mismatches + s.writesLost > 0 ? ` (by kind: ${JSON.stringify(s.violationsByKind)})` : ""}`,
    ...s.violations.map((v) => `  ! ${v}`),
  ];
}
