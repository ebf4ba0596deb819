/**
 * The third-party specifications that conformance tests read (KServe's CRD
 * and samples, the OIP examples, OpenLineage's schemas, ...), from one place:
 * `$LOOPLINE_SPECS_DIR`, else `shared/specs` beside the repository root (a
 * checkout in `<dir>/main` with the specs in `<dir>/shared`).
 *
 * A public clone has no specs folder. There the tests that need it are
 * reported as skipped with one line saying how to run them; when specs are
 * required (`LOOPLINE_SPECS_REQUIRED=true`, which `npm test` sets from `CI`)
 * a missing folder fails the run instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const HOW_TO =
  'set LOOPLINE_SPECS_DIR to the specs folder (or put it at ../shared/specs beside the repository) to run them';

function repositoryRoot(): string | undefined {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, '.ci'))) {
      return dir;
    }
    if (path.dirname(dir) === dir) {
      return undefined;
    }
  }
}

/** The specs folder, or undefined when there is none. */
export function specsDir(): string | undefined {
  const fromEnv = process.env.LOOPLINE_SPECS_DIR;
  const root = repositoryRoot();
  const dir = fromEnv
    ? path.resolve(fromEnv)
    : root && path.resolve(root, '..', 'shared', 'specs');
  return dir && fs.existsSync(dir) ? dir : undefined;
}

/** Whether a missing specs folder fails the run rather than skipping. */
export function specsRequired(): boolean {
  return (process.env.LOOPLINE_SPECS_REQUIRED ?? process.env.CI) === 'true';
}

/** The path of a file in the specs folder; throws when there is none. */
export function specPath(relativePath: string): string {
  const dir = specsDir();
  if (!dir) {
    throw new Error(`No specs folder: ${HOW_TO}`);
  }
  return path.join(dir, relativePath);
}

/** Reads a text file of the specs folder. */
export function readSpecText(relativePath: string): string {
  return fs.readFileSync(specPath(relativePath), 'utf8');
}

/** Reads a JSON file of the specs folder. */
export function readSpecJson(relativePath: string): any {
  return JSON.parse(readSpecText(relativePath));
}

/** Reads a YAML file of the specs folder (e.g. `kserve/canary.yaml`). */
export function readSpecYaml(relativePath: string): any {
  return parse(readSpecText(relativePath));
}

/**
 * `describe` for tests that read the specs folder: runs them when it is
 * there, fails under `LOOPLINE_SPECS_REQUIRED`/`CI`, and otherwise reports
 * them as skipped with one line saying how to run them.
 */
export function describeWithSpecs(name: string, fn: () => void): void {
  if (specsDir()) {
    describe(name, fn);
    return;
  }
  if (specsRequired()) {
    describe(name, () => {
      it('has the specs folder', () => {
        throw new Error(`The specs folder is missing: ${HOW_TO}`);
      });
    });
    return;
  }
  // One plain line, not console.warn: jest would add a stack trace to it.
  process.stderr.write(`Not run (no specs folder): "${name}"; ${HOW_TO}.\n`);
  describe.skip(name, fn);
}
