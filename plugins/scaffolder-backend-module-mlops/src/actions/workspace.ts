import path from 'node:path';
import { InputError } from '@backstage/errors';

/** `relative` inside the workspace; refuses paths that leave it. */
export function resolveInWorkspace(
  workspacePath: string,
  relative: string,
): string {
  const root = path.resolve(workspacePath);
  const resolved = path.resolve(root, relative);
  if (resolved !== root && !resolved.startsWith(`${root}${path.sep}`)) {
    throw new InputError(`${relative} is outside the workspace`);
  }
  return resolved;
}
