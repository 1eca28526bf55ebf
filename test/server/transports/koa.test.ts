import http from 'node:http';
import Koa from 'koa';
import { listen } from '../loopback.js';
import { transportSuite } from './suite.js';

transportSuite('Koa 3 (ctx.respond = false)', {
  async mount(sse) {
    const app = new Koa();
    app.use((ctx) => {
      // Koa must not answer on its own: the node transport owns ctx.res from here.
      ctx.respond = false;
      sse.handler(ctx.req, ctx.res);
    });
    const l = await listen(http.createServer(app.callback()));
    return { url: `${l.origin}/events`, close: l.close };
  },
});
