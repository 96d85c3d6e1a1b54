// Curtailment by an operator (PROTOCOL-MARKET.md): bad input refused with nothing applied, the
// Idempotency-Key, and a curtailment racing accepts on two nodes: the limits' ledger always equals
// the trades' contracted volumes.
import { QueryTypes } from 'sequelize';
import { describe, expect, test } from 'vitest';
import { HubClient } from '../../src/client/index.js';
import { PASSWORD } from '../support/client.js';
import { twoNodes } from '../support/hub.js';
import { postgresAvailable, redisAvailable } from '../support/services.js';
import { listingInput, trader, withMeter } from '../support/traders.js';

const ready = (await postgresAvailable('curtailment')) && (await redisAvailable('curtailment'));
const OPERATOR = 'curtailing.operator@example.test';

describe.skipIf(!ready)('curtailments', () => {
  const env = { OPERATOR_EMAILS: OPERATOR };
  const nodes = twoNodes({ a: env, b: env });

  const operator = async () => {
    const client = await HubClient.register(nodes.a.url, {
      email: OPERATOR,
      password: PASSWORD,
      displayName: 'Op',
    }).catch(() => HubClient.login(nodes.a.url, OPERATOR, PASSWORD));
    return withMeter(client);
  };
  const count = async (sql: string) =>
    (await nodes.a.hub.db!.sequelize.query<{ n: string }>(sql, { type: QueryTypes.SELECT }))[0]!.n;

  test('bad input is VALIDATION_FAILED at its field, a trader is FORBIDDEN; nothing is applied', async () => {
    const op = await operator();
    const someone = await trader(nodes.a.url, 'someone', false);
    const elsewhere = await trader(nodes.a.url, 'elsewhere', false, { zone: 'NL' });
    const input = listingInput();
    const good = {
      zone: 'DE-North',
      from: input.deliveryStart,
      to: input.deliveryEnd,
      reason: 'CONGESTION',
      factor: '0.5',
    };
    await expect(someone.rest('POST', '/api/v1/operator/curtailments', good)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    const shifted = new Date(Date.parse(input.deliveryStart) + 60_000).toISOString();
    for (const [patch, path] of [
      [{ zone: 'Atlantis' }, 'zone'],
      [{ zone: 'DE North' }, 'zone'],
      [{ from: shifted }, 'from'],
      [{ to: input.deliveryStart }, 'to'],
      [{ factor: '1.5' }, 'factor'],
      [{ factor: '-0.1' }, 'factor'],
      [{ factor: '0.12345' }, 'factor'],
      [{ reason: 'BORED' }, 'reason'],
      [{ meterExternalId: 'NO-SUCH-METER' }, 'meterExternalId'],
      [{ meterExternalId: 'bad id!' }, 'meterExternalId'],
      // a meter of another zone: not this zone's to curtail
      [{ meterExternalId: elsewhere.meterExternalId }, 'meterExternalId'],
      [{ extra: 1 }, ''],
    ] as const) {
      await expect(
        op.rest('POST', '/api/v1/operator/curtailments', { ...good, ...patch }),
      ).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        details: { issues: [expect.objectContaining({ path })] },
      });
    }
    expect(await count('SELECT count(*)::text AS n FROM curtailments')).toBe('0');
    // a report of October in Berlin: 31 days and the hour the clocks go back; 32 days are too many
    const october = '/api/v1/operator/settlements?zone=DE-North&from=2026-10-01T00:00:00%2B02:00';
    expect(await op.rest(`GET`, `${october}&to=2026-11-01T00:00:00%2B01:00`)).toEqual({ items: [] });
    await expect(op.rest('GET', `${october}&to=2026-11-02T00:00:00%2B01:00`)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { issues: [expect.objectContaining({ path: 'to' })] },
    });
    op.close();
    someone.close();
    elsewhere.close();
  });

  test('with an Idempotency-Key a repeat answers the same and curtails once', async () => {
    const op = await operator();
    const seller = await trader(nodes.a.url, 'seller');
    const buyer = await trader(nodes.b.url, 'buyer');
    // an operator reads any meter; another trader finds none
    expect(await op.rest('GET', `/api/v1/meters/${seller.meterId}`)).toMatchObject({ id: seller.meterId });
    await expect(buyer.rest('GET', `/api/v1/meters/${seller.meterId}`)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const listing = await seller.createListing(listingInput({ volumeKwh: '10' }));
    const s = await buyer.propose({ listingId: listing.id, volumeKwh: '10', pricePerKwh: '0.1' });
    await seller.accept(s.id, 1);
    const body = {
      zone: 'DE-North',
      meterExternalId: seller.meterExternalId,
      from: listing.deliveryStart,
      to: listing.deliveryEnd,
      reason: 'MAINTENANCE',
      factor: 0.5,
    };
    const key = { 'idempotency-key': crypto.randomUUID() };
    const first = await op.rest('POST', '/api/v1/operator/curtailments', body, key);
    const again = await op.rest('POST', '/api/v1/operator/curtailments', body, key);
    expect(first).toEqual({ affectedTrades: 1 });
    expect(again).toEqual(first);
    const [slot] = await nodes.a.hub.db!.sequelize.query<{ curtailed_wh: string }>(
      'SELECT curtailed_wh::text FROM trade_slots WHERE swap_id = $1',
      { bind: [s.id], type: QueryTypes.SELECT },
    );
    expect(slot!.curtailed_wh).toBe('5000');
    // the same key with another body is CONFLICT
    await expect(
      op.rest('POST', '/api/v1/operator/curtailments', { ...body, factor: 0.2 }, key),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    for (const t of [op, seller, buyer]) t.close();
  });

  test('a curtailment racing accepts on the other node: the ledger equals the contracted volumes', async () => {
    const op = await operator();
    const seller = await trader(nodes.a.url, 'race-seller', true, { zone: 'DE-South' });
    const onB = await withMeter(await HubClient.login(nodes.b.url, seller.user.email, PASSWORD), {
      id: seller.meterId,
    });
    await onB.connect();
    const listing = await seller.createListing(listingInput({ zone: 'DE-South', volumeKwh: '100' }));
    const buyers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => trader(nodes.b.url, `race-buyer${i}`, true, { zone: 'DE-South' })),
    );
    const swaps = await Promise.all(
      buyers.map((b) => b.propose({ listingId: listing.id, volumeKwh: '7', pricePerKwh: '0.1' })),
    );
    // half accepted first; the rest race the curtailment
    for (const s of swaps.slice(0, 5)) await seller.accept(s.id, 1);
    const racing = swaps.slice(5).map((s) => onB.accept(s.id, 1).catch((e: unknown) => e));
    const curtailed = op.rest<{ affectedTrades: number }>('POST', '/api/v1/operator/curtailments', {
      zone: 'DE-South',
      from: listing.deliveryStart,
      to: listing.deliveryEnd,
      reason: 'EMERGENCY',
      factor: '0.3',
    });
    await Promise.all([...racing, curtailed]);
    expect((await curtailed).affectedTrades).toBeGreaterThanOrEqual(5);
    const drift = await nodes.a.hub.db!.sequelize.query<{ meter_id: string; ledger: string; trades: string }>(
      `SELECT ms.meter_id, ms.contracted_wh::text AS ledger, coalesce(t.sum, 0)::text AS trades
       FROM meter_slots ms
       LEFT JOIN (SELECT m.meter_id, m.direction, ts.slot_start, sum(ts.volume_wh - ts.curtailed_wh) AS sum
                  FROM trade_slots ts JOIN swaps s ON s.id = ts.swap_id
                  CROSS JOIN LATERAL (VALUES (s.seller_meter_id, 'export'), (s.buyer_meter_id, 'import')) AS m(meter_id, direction)
                  GROUP BY 1, 2, 3) t
         ON t.meter_id = ms.meter_id AND t.direction = ms.direction AND t.slot_start = ms.slot_start
       WHERE ms.contracted_wh <> coalesce(t.sum, 0)`,
      { type: QueryTypes.SELECT },
    );
    expect(drift).toEqual([]);
    for (const t of [op, seller, onB, ...buyers]) t.close();
  });
});
