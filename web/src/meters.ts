// The trader's meters (GET /api/v1/meters), shared by the meters panel, the post form and the
// offer dialog: loaded once after login, again after each change. A meter is named by its label,
// else by its external id. The refusals that name a meter (LIMIT_EXCEEDED) name it this way.
import { setMeterNamer } from './field-messages.js';
import type { Meter, MeterSlot } from './market-types.js';
import type { DashboardClient } from './session.js';

export interface NewMeter {
  externalId: string;
  zone: string;
  exportCapacityKw: string;
  importCapacityKw: string;
  label?: string;
}

/** "Roof PV (871685900012345678)", or the external id alone when the meter has no label. */
export const meterName = (m: Pick<Meter, 'label' | 'externalId'>): string =>
  m.label ? `${m.label} (${m.externalId})` : m.externalId;

export class MeterStore {
  private items: Meter[] = [];
  private loaded = false;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly client: DashboardClient) {
    setMeterNamer((id) => {
      const m = this.get(id);
      return m && meterName(m);
    });
  }

  get ready(): boolean {
    return this.loaded;
  }

  /** every meter, retired ones too, in the order they were registered */
  all(): Meter[] {
    return this.items;
  }

  active(): Meter[] {
    return this.items.filter((m) => m.status === 'active');
  }

  get(id: string): Meter | undefined {
    return this.items.find((m) => m.id === id);
  }

  onChange(fn: () => void): void {
    this.listeners.add(fn);
  }

  async load(): Promise<void> {
    const page = await this.client.rest<{ items: Meter[] }>('GET', '/api/v1/meters');
    this.items = page.items;
    this.loaded = true;
    this.changed();
  }

  /** POST /api/v1/meters; the list is reloaded after it (a failed reload keeps the new meter). */
  async add(body: NewMeter): Promise<Meter> {
    const m = await this.client.rest<Meter>('POST', '/api/v1/meters', body);
    this.put(m);
    void this.load().catch(() => {});
    return m;
  }

  /** DELETE /api/v1/meters/:id: retired (INVALID_STATE while it has active listings or unsettled trades). */
  async retire(id: string): Promise<Meter> {
    const m = await this.client.rest<Meter>('DELETE', `/api/v1/meters/${encodeURIComponent(id)}`);
    this.put(m);
    return m;
  }

  /** The meter's slots in [from, to) (both on its zone's grid, at most 7 days apart). */
  slots(id: string, from: Date, to: Date): Promise<MeterSlot[]> {
    const q = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
    return this.client
      .rest<{ items: MeterSlot[] }>('GET', `/api/v1/meters/${encodeURIComponent(id)}/slots?${q}`)
      .then((page) => page.items);
  }

  private put(m: Meter): void {
    const i = this.items.findIndex((x) => x.id === m.id);
    if (i >= 0) this.items[i] = m;
    else this.items.push(m);
    this.loaded = true;
    this.changed();
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }
}
