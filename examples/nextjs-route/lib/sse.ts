import { SSEServer } from 'ssekit/server';

/**
 * One SSEServer per process. Kept on globalThis so that Next.js dev-mode reloads of this module
 * reuse it instead of starting a second one.
 */
const shared = globalThis as typeof globalThis & { ssekit?: SSEServer };

export const sse = (shared.ssekit ??= new SSEServer());
sse.createStream('clock');
