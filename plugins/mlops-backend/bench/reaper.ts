import { ChildProcess, fork } from 'node:child_process';
import path from 'node:path';

/**
 * A process (bench/reaperProcess.js) that outlives this one to kill the servers it
 * started, in their own process groups, if this process dies without
 * stopping them. `watch` each detached child as it starts.
 */
export function startReaper(): { watch(child: ChildProcess): void } {
  const reaper = fork(path.join(__dirname, 'reaperProcess.js'), [], {
    detached: true,
    stdio: 'ignore',
  });
  reaper.unref();
  (reaper as any).channel?.unref();
  return {
    watch(child) {
      if (child.pid === undefined) return;
      const group = child.pid;
      reaper.send({ group });
      child.once('exit', () => {
        if (reaper.connected) reaper.send({ gone: group });
      });
    },
  };
}
