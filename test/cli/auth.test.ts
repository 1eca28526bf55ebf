import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HubProcess, listen, publish, startHub, stopAll } from './support.js';

afterAll(stopAll);

const SECRET = 'a-long-enough-test-secret-for-hs256-0123456789';
const key = new TextEncoder().encode(SECRET);

function jwt(
  claims: Record<string, unknown>,
  opts: { exp?: string | number; secret?: Uint8Array } = {},
) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '10m')
    .sign(opts.secret ?? key);
}

describe('--publish-token', () => {
  let hub: HubProcess;
  beforeAll(async () => {
    hub = await startHub(['--publish-token', 's3cret']);
  });

  it('a publish without a token is 401, with a wrong one 403, with the right one 200', async () => {
    const none = await publish(hub.url, 't', 'x');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await none.text()).toMatch(/token is required to publish/);
    const wrong = await publish(hub.url, 't', 'x', { Authorization: 'Bearer s3cres' });
    expect(wrong.status).toBe(403);
    expect(await wrong.text()).toMatch(/not valid for publishing/);
    const longer = await publish(hub.url, 't', 'x', { Authorization: 'Bearer s3cret-and-more' });
    expect(longer.status).toBe(403);
    const basic = await publish(hub.url, 't', 'x', { Authorization: 'Basic czNjcmV0' });
    expect(basic.status).toBe(401);
    expect((await publish(hub.url, 't', 'x', { Authorization: 'Bearer s3cret' })).status).toBe(200);
  });

  it('subscribing needs no token', async () => {
    const sub = await listen(`${hub.url}/events?stream=t`);
    expect(sub.response.status).toBe(200);
    sub.close();
  });
});

describe('--jwt-secret', () => {
  let hub: HubProcess;
  beforeAll(async () => {
    hub = await startHub(['--jwt-secret', SECRET, '--publish-token', 'static']);
    expect(
      (await publish(hub.url, 'chat/room1', 'seed', { Authorization: 'Bearer static' })).status,
    ).toBe(200);
    expect(
      (await publish(hub.url, 'news', 'seed', { Authorization: 'Bearer static' })).status,
    ).toBe(200);
  });

  it('subscribers need a token; the header or ?token= both work within the claim', async () => {
    const none = await fetch(`${hub.url}/events?stream=chat/room1`);
    expect(none.status).toBe(401);
    expect(await none.text()).toMatch(/token is required to subscribe.*\?token=/);
    const token = await jwt({ ssekit: { subscribe: ['chat/*'] } });
    const viaHeader = await listen(`${hub.url}/events?stream=chat/room1`, {
      Authorization: `Bearer ${token}`,
    });
    expect(viaHeader.response.status).toBe(200);
    const viaQuery = await listen(`${hub.url}/events?stream=chat/room1&token=${token}`);
    expect(viaQuery.response.status).toBe(200);
    viaHeader.close();
    viaQuery.close();
  });

  it('a stream the claim does not list is 403, naming what the token allows', async () => {
    const token = await jwt({ ssekit: { subscribe: ['chat/*'] } });
    const res = await fetch(`${hub.url}/events?stream=news`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(
      /may not subscribe to stream "news" \(it allows \["chat\/\*"\]\)/,
    );
    const noList = await fetch(`${hub.url}/events?stream=news`, {
      headers: { Authorization: `Bearer ${await jwt({ sub: 'x' })}` },
    });
    expect(noList.status).toBe(403);
    expect(await noList.text()).toMatch(/no "subscribe" list/);
  });

  it('an expired token is 401 saying so', async () => {
    const token = await jwt(
      { ssekit: { subscribe: ['*'] } },
      { exp: Math.floor(Date.now() / 1000) - 60 },
    );
    const res = await fetch(`${hub.url}/events?stream=news`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(401);
    expect(await res.text()).toMatch(/expired/);
  });

  it('a token signed with another secret is 401 saying the signature does not verify', async () => {
    const token = await jwt(
      { ssekit: { subscribe: ['*'], publish: ['*'] } },
      { secret: new TextEncoder().encode(`${SECRET}-other`) },
    );
    const sub = await fetch(`${hub.url}/events?stream=news`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(sub.status).toBe(401);
    expect(await sub.text()).toMatch(/signature does not verify/);
    const pub = await publish(hub.url, 'news', 'x', { Authorization: `Bearer ${token}` });
    expect(pub.status).toBe(401);
  });

  it('publishing with a JWT follows its publish list; the static token still works', async () => {
    const token = await jwt({ ssekit: { subscribe: ['chat/*'], publish: ['chat/*'] } });
    const sub = await listen(`${hub.url}/events?stream=chat/room1`, {
      Authorization: `Bearer ${token}`,
    });
    const ok = await publish(hub.url, 'chat/room1', 'by jwt', { Authorization: `Bearer ${token}` });
    expect(ok.status).toBe(200);
    expect((await sub.waitFor(1))[0]!.data).toBe('by jwt');
    const wrongStream = await publish(hub.url, 'news', 'x', { Authorization: `Bearer ${token}` });
    expect(wrongStream.status).toBe(403);
    expect(await wrongStream.text()).toMatch(/may not publish to stream "news"/);
    const subscribeOnly = await jwt({ ssekit: { subscribe: ['*'] } });
    expect(
      (await publish(hub.url, 'chat/room1', 'x', { Authorization: `Bearer ${subscribeOnly}` }))
        .status,
    ).toBe(403);
    expect((await publish(hub.url, 'news', 'x', { Authorization: 'Bearer static' })).status).toBe(
      200,
    );
    sub.close();
  });
});

describe('--jwt-public-key', () => {
  it('verifies tokens signed with the private key (ES256), read from a PEM file', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const dir = mkdtempSync(join(tmpdir(), 'ssekit-jwt-'));
    const file = join(dir, 'public.pem');
    writeFileSync(file, await exportSPKI(publicKey));
    const hub = await startHub(['--jwt-public-key', file, '--allow-anonymous']);
    const sign = (claims: Record<string, unknown>, k = privateKey) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).setExpirationTime('5m').sign(k);
    const pubToken = await sign({ ssekit: { publish: ['feed'] } });
    expect((await publish(hub.url, 'feed', 'x')).status).toBe(401);
    expect(
      (await publish(hub.url, 'feed', 'x', { Authorization: `Bearer ${pubToken}` })).status,
    ).toBe(200);
    // --allow-anonymous: subscribers without a token get in.
    const anon = await listen(`${hub.url}/events?stream=feed`);
    expect(anon.response.status).toBe(200);
    anon.close();
    const other = await generateKeyPair('ES256');
    const forged = await sign({ ssekit: { publish: ['*'] } }, other.privateKey);
    const res = await publish(hub.url, 'feed', 'x', { Authorization: `Bearer ${forged}` });
    expect(res.status).toBe(401);
    expect(await res.text()).toMatch(/signature/);
    // An HMAC token cannot pass for one signed by the key pair.
    const hs = await jwt({ ssekit: { publish: ['*'] } });
    expect((await publish(hub.url, 'feed', 'x', { Authorization: `Bearer ${hs}` })).status).toBe(
      401,
    );
    await hub.stop();
  });
});
