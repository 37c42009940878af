/**
 * @module
 * The scan access path: every key in the scope, in key order, from the database's
 * snapshot iterator (the engine's prefix iterator, so a scope never reads keys outside
 * it). A resumed query starts strictly after the cursor's key.
 */
import type { AccessPath, DocumentStream } from "./planner.ts";
import type { QuerySource } from "./source.ts";
import { resumeAfter } from "./cursor.ts";

export function scanAccessPath(source: QuerySource, scopePrefix: string): AccessPath {
  return {
    kind: "scan",
    index: null,
    estimate: Infinity,
    open(after): DocumentStream {
      const options = { prefix: scopePrefix === "" ? undefined : scopePrefix, start: after === undefined ? undefined : resumeAfter(after) };
      if (source.scanRaw) return { kind: "cursor", cursor: source.scanRaw(options) };
      return { kind: "entries", entries: source.scan(options) };
    },
    keysExamined: (docsExamined) => docsExamined,
  };
}
