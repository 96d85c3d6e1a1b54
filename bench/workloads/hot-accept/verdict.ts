// Whether the burst oversold the listing: from the database, or over REST without one.
import pg from 'pg';
import type { HubClient } from '../../../src/client/index.js';

/** "12.345" kWh -> 12345 Wh, exactly */
export const wh = (kwh: string | number) => {
  const [i, f = ''] = String(kwh).split('.');
  return BigInt(i!) * 1000n + BigInt(f.padEnd(3, '0').slice(0, 3));
};

export interface Verdict {
  volumeWh: string;
  availableWh: string;
  status: string;
  acceptedWh: string;
  /** accepted volume - (volume - available): 0 when the books agree */
  oversoldWh: string;
  /** accepted volume beyond the listing's volume */
  overVolumeWh: string;
  swaps: Record<string, number>;
  source: 'postgres' | 'rest (no DATABASE_URL)';
}

export async function verifyInDatabase(url: string, listingId: string): Promise<Verdict> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const l = await c.query<{ volume_wh: string; available_wh: string; status: string }>(
      'SELECT volume_wh::text, available_wh::text, status FROM listings WHERE id = $1',
      [listingId],
    );
    const s = await c.query<{ status: string; n: string; wh: string }>(
      `SELECT status, count(*)::text AS n, coalesce(sum(volume_wh), 0)::text AS wh
       FROM swaps WHERE listing_id = $1 GROUP BY status`,
      [listingId],
    );
    const row = l.rows[0]!;
    const acceptedWh = BigInt(s.rows.find((r) => r.status === 'accepted')?.wh ?? '0');
    const volume = BigInt(row.volume_wh);
    const available = BigInt(row.available_wh);
    const over = acceptedWh - volume;
    return {
      volumeWh: row.volume_wh,
      availableWh: row.available_wh,
      status: row.status,
      acceptedWh: acceptedWh.toString(),
      oversoldWh: (acceptedWh - (volume - available)).toString(),
      overVolumeWh: (over > 0n ? over : 0n).toString(),
      swaps: Object.fromEntries(s.rows.map((r) => [r.status, Number(r.n)])),
      source: 'postgres',
    };
  } finally {
    await c.end();
  }
}

/** Without a database to query: the listing over REST and the accepted volume from the acks. */
export async function verifyOverRest(owner: HubClient, listingId: string, ackedWh: bigint): Promise<Verdict> {
  const l = await owner.rest<{ volumeKwh: string; availableKwh: string; status: string }>(
    'GET',
    `/api/v1/listings/${listingId}`,
  );
  const volume = wh(l.volumeKwh);
  const available = wh(l.availableKwh);
  const over = ackedWh - volume;
  return {
    volumeWh: volume.toString(),
    availableWh: available.toString(),
    status: l.status,
    acceptedWh: ackedWh.toString(),
    oversoldWh: (ackedWh - (volume - available)).toString(),
    overVolumeWh: (over > 0n ? over : 0n).toString(),
    swaps: {},
    source: 'rest (no DATABASE_URL)',
  };
}
