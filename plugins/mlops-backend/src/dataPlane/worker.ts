/**
 * The entry of a data-plane worker process (started by DataPlaneSupervisor
 * through Node's cluster). Its options come in LOOPLINE_DATA_PLANE_WORKER;
 * everything else (routing tables, token checks, artifacts) over IPC.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import { ControlPlaneLink, Channel } from './ControlPlaneLink';
import { DataPlaneServer } from './DataPlaneServer';
import type { DataPlaneWorkerOptions, WorkerMessage } from './protocol';

/** A plain logger for a process outside Backstage's logging: one JSON line per entry. */
export function consoleLogger(fields: Record<string, unknown>): LoggerService {
  const write =
    (level: string) =>
    (message: string, meta?: Error | Record<string, unknown>) => {
      const extra =
        meta instanceof Error
          ? { error: meta.message }
          : (meta as Record<string, unknown> | undefined);
      process.stderr.write(
        `${JSON.stringify({
          level,
          message,
          ...fields,
          ...extra,
          timestamp: new Date().toISOString(),
        })}\n`,
      );
    };
  const logger: LoggerService = {
    error: write('error'),
    warn: write('warn'),
    info: write('info'),
    debug: () => {},
    child: meta => consoleLogger({ ...fields, ...meta }),
  };
  return logger;
}

/** Runs one worker on this process's IPC channel until the channel closes or SIGTERM. */
export async function runDataPlaneWorker(
  options: DataPlaneWorkerOptions,
  channel: Channel = process as unknown as Channel,
): Promise<DataPlaneServer> {
  const logger = consoleLogger({
    plugin: 'mlops',
    service: 'data-plane',
    worker: options.workerId,
  });
  const link = new ControlPlaneLink(channel);
  const server = new DataPlaneServer(link, options, logger);
  await server.tableReady;
  const { port, grpcPort } = await server.listen();
  link.post({
    type: 'dataplane:listening',
    port,
    ...(grpcPort !== undefined ? { grpcPort } : {}),
    workerId: options.workerId,
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.close().catch(() => {});
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // The control plane is gone for good (the backend process ended).
  process.once('disconnect', stop);
  return server;
}

if (require.main === module) {
  const raw = process.env.LOOPLINE_DATA_PLANE_WORKER;
  if (!raw) {
    process.stderr.write('LOOPLINE_DATA_PLANE_WORKER is not set\n');
    process.exit(2);
  }
  const options: DataPlaneWorkerOptions = JSON.parse(raw);
  runDataPlaneWorker(options).catch(error => {
    process.stderr.write(
      `Data-plane worker failed to start: ${error?.stack ?? error}\n`,
    );
    // The supervisor names the cause (e.g. EADDRINUSE) in the backend's log.
    const failed: WorkerMessage = {
      type: 'dataplane:failed',
      message: String(error?.message ?? error),
      workerId: options.workerId,
    };
    if (process.connected && process.send) {
      process.send(failed, undefined, {}, () => process.exit(1));
    } else process.exit(1);
  });
}
