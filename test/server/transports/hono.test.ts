import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { listen } from '../loopback.js';
import { transportSuite } from './suite.js';

transportSuite('Hono on @hono/node-server (server.fetch)', {
  async mount(sse) {
    const app = new Hono();
    app.all('/events', (c) => sse.fetch(c.req.raw));
    const l = await listen(createAdaptorServer({ fetch: app.fetch }) as Server);
    return { url: `${l.origin}/events`, close: l.close };
  },
});
