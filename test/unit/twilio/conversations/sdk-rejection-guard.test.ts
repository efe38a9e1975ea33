import { EventEmitter } from 'node:events';
import { isSdkRejection, SdkRejectionGuard } from '../../../../src/twilio/conversations/sdk-rejection-guard';
import { memoryLogger } from './fakes';

class SyncError extends Error {
  override name = 'SyncError';
}

describe('SdkRejectionGuard', () => {
  it('recognises SDK errors by name, by stack and the SDK plain connection errors', () => {
    expect(isSdkRejection(new SyncError('Not found'))).toBe(true);
    const fromSdk = new Error('Fetch failed');
    fromSdk.stack = 'Error: Fetch failed\n    at x (/app/node_modules/twilio-sync/builds/lib.js:10:5)';
    expect(isSdkRejection(fromSdk)).toBe(true);
    expect(isSdkRejection({ terminal: true, message: 'Twilsock has disconnected.' })).toBe(true);
    expect(isSdkRejection(new Error('our own bug'))).toBe(false);
    expect(isSdkRejection('a string')).toBe(false);
  });

  it('swallows SDK rejections with a warning while installed, and only then', () => {
    const target = new EventEmitter();
    const { logger, lines } = memoryLogger();
    const rethrown: unknown[] = [];
    const guard = new SdkRejectionGuard(logger, target, (e) => rethrown.push(e));
    guard.install();
    guard.install();
    expect(target.listenerCount('unhandledRejection')).toBe(1);
    target.emit('unhandledRejection', new SyncError('Not found'));
    expect(guard.swallowed).toBe(1);
    expect(lines.filter((l) => l.level === 40)).toHaveLength(1);
    expect(rethrown).toEqual([]);
    guard.uninstall();
    expect(target.listenerCount('unhandledRejection')).toBe(0);
  });

  it('re-throws a foreign rejection when it is the only listener, as Node would', () => {
    const target = new EventEmitter();
    const rethrown: unknown[] = [];
    const guard = new SdkRejectionGuard(memoryLogger().logger, target, (e) => rethrown.push(e));
    guard.install();
    const bug = new Error('our own bug');
    target.emit('unhandledRejection', bug);
    expect(rethrown).toEqual([bug]);
    // With a host handler present, the host decides.
    target.on('unhandledRejection', () => undefined);
    target.emit('unhandledRejection', new Error('another'));
    expect(rethrown).toHaveLength(1);
    guard.uninstall();
  });
});
