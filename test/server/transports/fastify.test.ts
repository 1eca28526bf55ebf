import Fastify from 'fastify';
import { transportSuite } from './suite.js';

transportSuite('Fastify 5 (reply.hijack)', {
  async mount(sse) {
    // SSE connections never go idle: let close() cut them.
    const app = Fastify({ forceCloseConnections: true });
    app.all('/events', (req, reply) => {
      // Fastify steps aside; the node transport owns the raw response from here.
      reply.hijack();
      sse.handler(req.raw, reply.raw);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as import('node:net').AddressInfo;
    return { url: `http://127.0.0.1:${port}/events`, close: () => app.close() };
  },
});
