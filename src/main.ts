#!/usr/bin/env bun
/**
 * @module
 * The `kvdb` executable (also the entry compiled into `dist/kvdb`): runs the CLI and
 * exits with its code. `kvdb serve` returns only after a clean shutdown.
 */
import { runCli } from "./cli/run.ts";

const code = await runCli(process.argv.slice(2));
process.exit(code);
