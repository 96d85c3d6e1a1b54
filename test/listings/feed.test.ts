import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { EventEnvelope, Listing } from '../../src/client/index.js';
import { emitAck, marketView } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import {
  BIG_METER,
  listingInput,
  recorder,
  registerMeter,
  type TestTrader,
  trader,
} from '../support/traders.js';

let node: TestHub;
let seller: TestTrader;
/** the seller's meter in each zone of the market: a listing's zone is its meter's */
const meterIn: Record<string, string> = {};
beforeAll(async () => {
  node = await startHub();
  seller = await trader(node.url, 'seller');
  meterIn['DE-North'] = seller.meterId;
  for (const zone of ['DE-South', 'NL'])
    meterIn[zone] = (await registerMeter(seller, { ...BIG_METER, zone })).id;
});
afterAll(async () => {
  seller?.close();
  await node?.stop();
});

describe('feed subscriptions', () => {
  test('each subscriber gets exactly the market events its filter matches, in id order', async () => {
    const watchers = {
      all: { filter: {} },
      solarOnly: { filter: { energyTypes: ['solar'] } },
      windNL: { filter: { energyTypes: ['wind'], zones: ['NL'] } },
      demand: { filter: { side: 'demand' as const } },
      twoZones: { filter: { zones: ['NL', 'DE-South'], side: 'supply' as const } },
    };
    const clients = await Promise.all(Object.keys(watchers).map((name) => trader(node.url, name)));
    const logs = clients.map((c) => recorder(c));
    const answers = await Promise.all(
      clients.map((c, i) => c.subscribeFeed(Object.values(watchers)[i]!.filter)),
    );
    expect(answers[1]).toEqual({ filter: { energyTypes: ['solar'] } });

    const posted: Listing[] = [];
    for (const [energyType, zone, side] of [
      ['solar', 'NL', 'supply'],
      ['wind', 'NL', 'supply'],
      ['wind', 'DE-North', 'demand'],
      ['hydro', 'DE-South', 'supply'],
      ['solar', 'DE-North', 'demand'],
    ] as const) {
      posted.push(
        await seller.createListing(listingInput({ energyType, zone, side, meterId: meterIn[zone] })),
      );
    }
    // a marker every watcher gets, so we know all earlier events have arrived
    const marker = await seller.createListing(
      listingInput({ energyType: 'other', zone: 'NL', side: 'supply', meterId: meterIn.NL }),
    );
    await Promise.all(
      logs.map((log, i) =>
        i === 1 || i === 2 || i === 3
          ? Promise.resolve()
          : log.next((e) => (e.data as Listing).id === marker.id),
      ),
    );
    // the filtered ones that do not match the marker: wait for their last expected event instead
    await logs[1]!.next((e) => (e.data as Listing).id === posted[4]!.id);
    await logs[2]!.next((e) => (e.data as Listing).id === posted[1]!.id);
    await logs[3]!.next((e) => (e.data as Listing).id === posted[4]!.id);

    const got = (i: number) =>
      logs[i]!.seen.filter((e) => e.type === 'listing.created').map((e) => (e.data as Listing).id);
    const ids = (...n: number[]) => n.map((k) => posted[k]!.id);
    expect(got(0)).toEqual([...ids(0, 1, 2, 3, 4), marker.id]);
    expect(got(1)).toEqual(ids(0, 4));
    expect(got(2)).toEqual(ids(1));
    expect(got(3)).toEqual(ids(2, 4));
    expect(got(4)).toEqual([...ids(0, 1, 3), marker.id]);
    for (const log of logs) {
      const order = log.seen.map((e: EventEnvelope) => BigInt(e.id));
      expect([...order].sort((a, b) => (a < b ? -1 : 1))).toEqual(order);
    }
    for (const c of clients) c.close();
  });

  test('the owner gets its own listing events without subscribing; unsubscribe stops the feed', async () => {
    const owner = await trader(node.url, 'owner');
    const watcher = await trader(node.url, 'watcher');
    const ownerLog = recorder(owner);
    const watcherLog = recorder(watcher);
    await watcher.subscribeFeed({});
    const first = await owner.createListing(listingInput());
    // events show no meterId, the owner's included
    expect((await ownerLog.next('listing.created')).data).toEqual(marketView(first));
    expect((await watcherLog.next('listing.created')).data).toEqual(marketView(first));

    await watcher.unsubscribeFeed();
    await watcher.subscribeFeed({ energyTypes: ['geothermal'] });
    const second = await owner.createListing(listingInput());
    await owner.cancelListing(second.id);
    await ownerLog.next('listing.closed');
    const third = await owner.createListing(listingInput({ energyType: 'geothermal' }));
    expect(
      (await watcherLog.next((e) => e.type === 'listing.created' && (e.data as Listing).id !== first.id))
        .data,
    ).toEqual(marketView(third));
    expect(watcherLog.seen.map((e) => (e.data as Listing).id)).not.toContain(second.id);
    owner.close();
    watcher.close();
  });

  test('a bad filter is VALIDATION_FAILED; a requestId is allowed but not needed', async () => {
    const c = await trader(node.url, 'bad');
    const socket = (c as unknown as { socket: Parameters<typeof emitAck>[0] }).socket;
    expect(
      await emitAck(socket, 'feed:subscribe', { requestId: crypto.randomUUID(), side: 'demand' }),
    ).toEqual({
      ok: true,
      data: { filter: { side: 'demand' } },
    });
    expect(await emitAck(socket, 'feed:unsubscribe', { requestId: crypto.randomUUID() })).toEqual({
      ok: true,
      data: {},
    });
    await expect(c.subscribeFeed({ energyTypes: ['coal'] })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(
      c.subscribeFeed({ zones: Array.from({ length: 21 }, (_, i) => `z${i}`) }),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    c.close();
  });
});
