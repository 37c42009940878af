/**
 * @module
 * `npm run build`: compiles `src/main.ts` into the single executable `dist/kvdb`, with the
 * Swagger UI assets embedded (they are imported `with { type: "file" }` in
 * src/server/swagger.ts, which `--compile` bundles). The binary is written under a
 * temporary name and renamed into place, so a concurrent build or a running `dist/kvdb`
 * never sees a half-written file.
 *
 * Usage: bun scripts/build.ts [--outfile PATH]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";

const root = path.resolve(import.meta.dir, "..");
const { values } = parseArgs({ options: { outfile: { type: "string" } }, strict: true });
const outfile = path.resolve(root, values.outfile ?? "dist/kvdb");
const temp = `${outfile}.${process.pid}.tmp`;
fs.mkdirSync(path.dirname(outfile), { recursive: true });

const started = performance.now();
const build = Bun.spawnSync({
  cmd: [process.execPath, "build", "--compile", "--minify", path.join(root, "src/main.ts"), "--outfile", temp],
  cwd: root,
  stdout: "pipe",
  stderr: "pipe",
});
if (build.exitCode !== 0) {
  fs.rmSync(temp, { force: true });
  process.stderr.write(build.stdout.toString() + build.stderr.toString());
  console.error(`build failed (exit ${build.exitCode})`);
  process.exit(1);
}
fs.renameSync(temp, outfile);
const mib = (fs.statSync(outfile).size / 1024 / 1024).toFixed(1);
console.log(`built ${path.relative(process.cwd(), outfile) || outfile} (${mib} MiB) in ${Math.round(performance.now() - started)} ms`);
