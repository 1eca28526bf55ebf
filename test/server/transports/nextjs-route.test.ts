import { serveRoute } from '../../../examples/nextjs-route/serve-route.js';
import { listen } from '../loopback.js';
import { transportSuite } from './suite.js';

// A Next.js App Router route file exports one function per method; each returns server.fetch().
transportSuite('Next.js-style route handler (server.fetch)', {
  frameworkAnswers405: true,
  async mount(sse) {
    const GET = (request: Request) => sse.fetch(request);
    const l = await listen(serveRoute('/events', { GET, HEAD: GET, OPTIONS: GET }));
    return { url: `${l.origin}/events`, close: l.close };
  },
});
