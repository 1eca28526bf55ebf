/** app/events/route.ts in a Next.js app: GET /events?stream=clock */
import { sse } from '../../lib/sse.js';

// An event stream is never cached or prerendered, and needs the Node.js runtime.
export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export function GET(request: Request): Promise<Response> {
  return sse.fetch(request);
}
