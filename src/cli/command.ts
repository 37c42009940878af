/**
 * @module
 * The shape of a CLI command. Each command lives in `commands/<name>.ts` and is listed
 * in `registry.ts`; the runner parses its flags, checks its positional count, opens the
 * store on demand and closes it afterwards.
 */
import type { CommonFlags, OptionSpec } from "./args.ts";
import type { CliIO } from "./io.ts";
import type { KvStore } from "./store.ts";

export interface CommandContext {
  /** Positional arguments after the command name. */
  args: string[];
  /** The command's own flags (environment defaults applied). */
  flags: Record<string, string | boolean | undefined>;
  common: CommonFlags;
  io: CliIO;
  /** The database: through a running server or opened directly (decided on first call). */
  store(): Promise<KvStore>;
}

export interface Command {
  name: string;
  /** One line for `kvdb --help`. */
  summary: string;
  /** Arguments after the name, e.g. "KEY VALUE". */
  usage: string;
  /** Paragraph for `kvdb <name> --help`. */
  description?: string;
  options?: Record<string, OptionSpec>;
  /** Accepted number of positional arguments. */
  args: { min: number; max: number };
  /** Resolves with the exit code. */
  run(ctx: CommandContext): Promise<number>;
}
