/**
 * @module
 * A {@link QuerySource} with `scanRaw` for tests: a copy of the database's entries taken
 * now, served through the synchronous raw cursor the executor prefers, so both executor
 * loops (raw cursor and async `scan`) run against the same data. Counts opened and
 * closed cursors, so tests can check that every cursor is closed.
 */
import type { Database, ScanOptions } from "../../src/types.ts";
import type { QuerySource, RawEntryCursor } from "../../src/query/source.ts";

export interface RawTestSource extends QuerySource {
  opened: number;
  closed: number;
}

export async function rawSnapshot(db: Pick<Database, "scan">): Promise<RawTestSource> {
  const entries: [Uint8Array, Uint8Array][] = [];
  for await (const [k, v] of db.scan()) entries.push([Buffer.from(k), v]);
  const source: RawTestSource = {
    opened: 0,
    closed: 0,
    scan() {
      throw new Error("the raw source serves scanRaw only");
    },
    scanRaw(options: Pick<ScanOptions, "prefix" | "start">): RawEntryCursor {
      const prefix = Buffer.from(options.prefix ?? "");
      const start = options.start === undefined ? undefined : Buffer.from(options.start);
      const inRange = ([k]: [Uint8Array, Uint8Array]) =>
        Buffer.from(k).subarray(0, prefix.length).equals(prefix) && (start === undefined || Buffer.compare(k, start) >= 0);
      const rows = entries.filter(inRange);
      let i = 0;
      let open = true;
      source.opened++;
      const check = () => {
        if (!open) throw new Error("raw cursor used after close");
      };
      return {
        valid: () => (check(), i < rows.length),
        key: () => (check(), rows[i][0]),
        value: () => (check(), rows[i][1]),
        next: () => {
          check();
          i++;
        },
        close: () => {
          check();
          open = false;
          source.closed++;
        },
      };
    },
  };
  return source;
}
