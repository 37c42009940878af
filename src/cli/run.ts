/**
 * @module
 * The CLI entry: `kvdb <command> [args] [flags]`. Dispatches to the registry, prints
 * help and version, turns every failure into one line on stderr and an exit code
 * (0 ok, 1 failure, 2 usage), and closes the store the command opened.
 */
import pkg from "../../package.json" with { type: "json" };
import { parseCommandArgs, UsageError } from "./args.ts";
import { openStore } from "./connect.ts";
import { commandHelp, mainHelp } from "./help.ts";
import { processIO, type CliIO } from "./io.ts";
import { describeError, EXIT_OK, EXIT_USAGE } from "./output.ts";
import { COMMANDS, findCommand } from "./registry.ts";
import type { KvStore } from "./store.ts";

export const VERSION: string = pkg.version;

/** Runs one CLI invocation; resolves with the process exit code. */
export async function runCli(argv: string[], io: CliIO = processIO()): Promise<number> {
  let store: KvStore | undefined;
  let code: number;
  try {
    code = await dispatch(argv, io, async (open) => (store ??= await open()));
  } catch (e) {
    if (isBrokenPipe(e)) {
      // The reader went away (`kvdb export | head`): not an error, and nothing left to say.
      code = EXIT_OK;
    } else {
      const { line, exitCode } = describeError(e);
      io.stderr.write(line + "\n");
      code = exitCode;
    }
  } finally {
    if (store) {
      try {
        await store.close();
      } catch (e) {
        io.stderr.write(describeError(e).line + "\n");
        code = 1;
      }
    }
  }
  await io.stdout.flush().catch((e) => {
    if (!isBrokenPipe(e)) throw e;
  });
  await io.stderr.flush();
  return code!;
}

function isBrokenPipe(e: unknown): boolean {
  return (e as { code?: unknown })?.code === "EPIPE";
}

async function dispatch(
  argv: string[],
  io: CliIO,
  remember: (open: () => Promise<KvStore>) => Promise<KvStore>,
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr.write(mainHelp(COMMANDS, VERSION));
    return EXIT_USAGE;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" && rest[0] ? findCommand(rest[0]) : undefined;
    if (name === "help" && rest[0] && !topic) throw new UsageError(`unknown command '${rest[0]}' (see kvdb --help)`);
    io.stdout.write(topic ? commandHelp(topic) : mainHelp(COMMANDS, VERSION));
    return EXIT_OK;
  }
  if (name === "--version" || name === "-V") {
    io.stdout.write(`kvdb ${VERSION}\n`);
    return EXIT_OK;
  }
  const command = findCommand(name);
  if (!command) {
    throw new UsageError(name.startsWith("-") ? `unknown option '${name}' (see kvdb --help)` : `unknown command '${name}' (see kvdb --help)`);
  }
  const parsed = parseCommandArgs(name, rest, command.options ?? {}, io.env);
  if (parsed.common.help) {
    io.stdout.write(commandHelp(command));
    return EXIT_OK;
  }
  const n = parsed.positionals.length;
  if (n < command.args.min || n > command.args.max) {
    const expected = command.usage ? `expected ${command.usage}` : "expected no arguments";
    throw new UsageError(`${name}: ${expected}, got ${n} argument${n === 1 ? "" : "s"} (see kvdb ${name} --help)`);
  }
  return command.run({
    args: parsed.positionals,
    flags: parsed.flags,
    common: parsed.common,
    io,
    store: () => remember(() => openStore(parsed.common, io)),
  });
}
