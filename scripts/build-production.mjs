#!/usr/bin/env node
/*
 * `npm run build:production`: Backstage's host build (`yarn build:backend`,
 * see https://backstage.io/docs/deployment/docker), for npm workspaces.
 *
 * Writes, as `backstage-cli package build` does for a backend package:
 *   packages/backend/dist/{bundle,skeleton}.tar.gz   the portal (backend, and
 *       the frontend app it serves through app-backend)
 *   packages/serving/dist/{bundle,skeleton}.tar.gz   loopline-serving, the
 *       standalone data plane
 * A bundle holds every local package the target needs, built and packed as
 * npm would publish it (publishConfig applied); the skeleton holds their
 * package.json files only, so an image can install the third-party
 * dependencies (`npm install --omit=dev`) in a layer of its own.
 *
 * Why not `backstage-cli package build` itself: it builds bundled packages
 * (the app) with `yarn run build` and copies `yarn.lock` into the bundle, and
 * this repository has neither yarn nor a yarn.lock. So the app is built with
 * npm first, and the CLI's own builder and packer then run with npm's lock.
 * Options: --skip-app (reuse packages/app/dist), --only=backend|serving.
 */
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(ROOT); // the CLI finds the workspace from the working directory
const require = createRequire(path.join(ROOT, 'package.json'));
// Internal modules of @backstage/cli's build module (no public API exposes
// them): a CLI upgrade that moves them fails this script, which the
// production smoke test runs in CI.
const cliBuild = '@backstage/cli-module-build/dist/lib';
const {
  buildPackage,
  buildPackages,
  getOutputsForRole,
} = require(`${cliBuild}/builder/packager.cjs.js`);
const { Output } = require(`${cliBuild}/builder/types.cjs.js`);
const {
  createDistWorkspace,
} = require(`${cliBuild}/packager/createDistWorkspace.cjs.js`);
// The CLI's own modules (dependencies of @backstage/cli), not re-implemented.
const { PackageGraph } = require('@backstage/cli-node');

const args = process.argv.slice(2);
const only = args.find(a => a.startsWith('--only='))?.slice('--only='.length);
const skipApp = args.includes('--skip-app');

const TARGETS = [
  { name: 'backend', dir: 'packages/backend', needsApp: true },
  { name: '@loopline/serving', dir: 'packages/serving', needsApp: false },
].filter(t => !only || t.dir.endsWith(`/${only}`));
if (TARGETS.length === 0) throw new Error(`--only=${only}: no such target`);

const step = (what, started = Date.now()) => ({
  done: () =>
    console.log(
      `[build] ${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`,
    ),
});

const workspace = await PackageGraph.listTargetPackages();
const graph = PackageGraph.fromPackages(workspace);

// 1. The frontend app, which the backend serves (it is a dependency of the
// backend package, bundled into the image as its dist folder).
if (TARGETS.some(t => t.needsApp) && !skipApp) {
  const s = step('app (frontend bundle)');
  const r = spawnSync('npm', ['run', 'build', '--workspace', 'app'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`building the app failed (${r.status})`);
  s.done();
}

// 2. Every local library the targets use, CommonJS only (no type
// declarations: a runtime bundle does not need them, as in the CLI's own
// backend build).
const local = new Set(
  graph.collectPackageNames(
    TARGETS.map(t => t.name),
    // A bundled package (the app) carries its dependencies inside its build.
    node =>
      node.packageJson.bundled
        ? undefined
        : node.publishedLocalDependencies.keys(),
  ),
);
const libraries = workspace.filter(pkg => {
  const role = pkg.packageJson.backstage?.role;
  return (
    local.has(pkg.packageJson.name) &&
    role &&
    role !== 'frontend' &&
    role !== 'backend'
  );
});
{
  const s = step(
    `libraries (${libraries.map(p => p.packageJson.name).join(', ')})`,
  );
  await buildPackages(
    libraries.map(pkg => {
      const outputs = getOutputsForRole(pkg.packageJson.backstage.role);
      outputs.delete(Output.types);
      return {
        targetDir: pkg.dir,
        packageJson: pkg.packageJson,
        outputs,
        logPrefix: `${path.relative(ROOT, pkg.dir)}: `,
        workspacePackages: workspace,
      };
    }),
  );
  s.done();
}

// 3. Each target: its own build (the backend's entry point), then the dist
// workspace packed into bundle.tar.gz beside skeleton.tar.gz.
for (const target of TARGETS) {
  const s = step(`${target.name} bundle`);
  const dir = path.join(ROOT, target.dir);
  const packageJson = JSON.parse(
    fs.readFileSync(path.join(dir, 'package.json'), 'utf8'),
  );
  if (packageJson.backstage?.role === 'backend') {
    await buildPackage({
      targetDir: dir,
      packageJson,
      outputs: new Set([Output.cjs]),
      workspacePackages: workspace,
    });
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-bundle-'));
  try {
    await createDistWorkspace([target.name], {
      targetDir: tmp,
      files: ['package.json', 'package-lock.json', '.npmrc'],
      skeleton: 'skeleton.tar.gz',
    });
    // As the CLI does: dist ends up holding the two archives only.
    const dist = path.join(dir, 'dist');
    fs.rmSync(dist, { recursive: true, force: true });
    fs.mkdirSync(dist);
    fs.renameSync(
      path.join(tmp, 'skeleton.tar.gz'),
      path.join(dist, 'skeleton.tar.gz'),
    );
    const packed = spawnSync(
      'tar',
      ['-czf', path.join(dist, 'bundle.tar.gz'), '-C', tmp, '.'],
      { stdio: 'inherit' },
    );
    if (packed.status !== 0) throw new Error('tar failed');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  s.done();
}
