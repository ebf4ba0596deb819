/*
 * Kills a benchmark's servers when the benchmark itself dies, however it
 * dies (SIGKILL and a timeout's kill included, which no handler of its own
 * sees): forked with an IPC channel, it is sent the process-group leader of
 * each server the benchmark starts, and when the channel closes it sends
 * each group SIGTERM, then SIGKILL a few seconds later.
 */
const groups = new Set();
process.on('message', message => {
  if (message && typeof message.group === 'number') groups.add(message.group);
  if (message && typeof message.gone === 'number') groups.delete(message.gone);
});
process.on('disconnect', () => {
  const signal = sig => {
    for (const pid of groups) {
      try {
        process.kill(-pid, sig);
      } catch {
        // already gone
      }
    }
  };
  signal('SIGTERM');
  setTimeout(() => {
    signal('SIGKILL');
    process.exit(0);
  }, 5000);
});
