/**
 * Tells systemd the member is ready (`Type=notify` units) when NOTIFY_SOCKET is set. Node has
 * no unix datagram sockets, so this runs systemd's own `systemd-notify --ready` (the unit sets
 * `NotifyAccess=all` so a child's message counts). Without NOTIFY_SOCKET it does nothing.
 */
import { spawn } from 'node:child_process';
import type { Logger } from 'pino';

export function notifySystemdReady(logger: Logger): void {
  if (!process.env.NOTIFY_SOCKET) return;
  const child = spawn('systemd-notify', ['--ready', `--pid=${process.pid}`], { stdio: 'ignore' });
  child.on('error', (e) => logger.warn({ err: e }, 'could not notify systemd (is systemd-notify installed?)'));
  child.on('exit', (code) => {
    if (code !== 0) logger.warn({ code }, 'systemd-notify failed');
  });
}
