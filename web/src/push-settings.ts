// Notifications on this device (issue 21, PROTOCOL-PUSH.md "Web Push"): the hub's events as the
// browser's own notifications, through the service worker /sw.js (web/public/sw.js). Nothing is
// asked on load: the permission prompt, the worker's registration and the push subscription
// happen only when the trader clicks "Enable notifications on this device". The trader chooses
// which events (grouped) and whether to be told while a dashboard is open (`whileOnline`); the
// state says what is true: not supported, blocked by the browser, off, or on for this device.
// A clicked notification opens the negotiation it is about: in an open dashboard tab (the worker
// posts it the address, shown here without a reload) or in a new one at `/?swap=<id>`.
import './push.css';
import type { DashboardClient } from './session.js';
import { byId, describeError, h } from './ui.js';

/** The event groups a trader chooses from; the hub's default is all three. */
export const PUSH_GROUPS = [
  {
    key: 'offers',
    label: 'Offers waiting for my answer: new offers on my listings, counter-offers',
    events: ['swap.proposed', 'swap.countered'],
  },
  {
    key: 'answers',
    label: 'Answers to my offers: accepted, rejected, withdrawn, expired or voided',
    events: ['swap.accepted', 'swap.rejected', 'swap.withdrawn', 'swap.expired', 'swap.voided'],
  },
  {
    key: 'trades',
    label: 'My trades: curtailed by the grid operator, settled',
    events: ['trade.curtailed', 'trade.settled'],
  },
] as const;

export type PushState = 'checking' | 'unsupported' | 'blocked' | 'off' | 'on';

interface HubSubscription {
  id: string;
  endpoint: string;
  events: string[];
  whileOnline: boolean;
  createdAt: string;
}

const STATE_TEXT: Record<PushState, string> = {
  checking: 'Checking this browser…',
  unsupported:
    'This browser cannot show notifications from the hub (it has no service workers or push messaging).',
  blocked:
    'Your browser blocks notifications from this site. Allow them in the site settings (the icon beside the address), then enable them here.',
  off: 'Off on this device.',
  on: 'On for this device.',
};

const SUMMARY_TEXT: Record<PushState, string> = {
  checking: '…',
  unsupported: 'not supported',
  blocked: 'blocked',
  off: 'off',
  on: 'on',
};

export const SW_URL = '/sw.js';

export const pushSupported = (): boolean =>
  'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;

/** The bytes of a base64url string (the VAPID application server key). */
export function base64urlBytes(s: string): Uint8Array<ArrayBuffer> {
  const b64 = s
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(s.length / 4) * 4, '=');
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function sameBytes(a: ArrayBuffer | null | undefined, b: Uint8Array): boolean {
  if (!a || a.byteLength !== b.length) return false;
  const x = new Uint8Array(a);
  return x.every((v, i) => v === b[i]);
}

/** A sentence for a failed step: the browser's own words after ours. */
const because = (err: unknown): string => {
  const m = describeError(err).trim();
  return m ? ` (${m.replace(/\.$/, '')})` : '';
};

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T | undefined> =>
  Promise.race([p, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms))]);

/** The "Notifications" menu in the top bar. */
export class PushSettings {
  private readonly menu = byId<HTMLDetailsElement>('push-menu');
  private readonly stateLine = byId('push-state');
  private readonly summaryState = byId('push-summary-state');
  private readonly groups = byId<HTMLFieldSetElement>('push-events');
  private readonly whileOnline = byId<HTMLInputElement>('push-while-online');
  private readonly enable = byId<HTMLButtonElement>('push-enable');
  private readonly off = byId<HTMLButtonElement>('push-off');
  private readonly error = byId('push-error');
  private readonly saved = byId('push-saved');
  private state: PushState = 'checking';
  /** this device's subscription at the hub, when it is this trader's */
  private hub: HubSubscription | undefined;
  private working = false;

  constructor(private readonly client: DashboardClient) {
    this.groups.replaceChildren(
      h('legend', {}, 'Tell me about'),
      ...PUSH_GROUPS.map((g) =>
        h(
          'label',
          { class: 'choice' },
          h('input', { type: 'checkbox', name: g.key, checked: true, 'data-testid': `push-group-${g.key}` }),
          ` ${g.label}`,
        ),
      ),
    );
    this.enable.addEventListener('click', () => void this.run(() => this.turnOn()));
    this.off.addEventListener('click', () => void this.run(() => this.turnOff()));
    // while on, a changed choice is saved at once (the same endpoint again updates it)
    const changed = () => {
      this.error.textContent = '';
      this.saved.textContent = '';
      const none = this.events().length === 0;
      if (none) this.error.textContent = 'Choose at least one kind of notification, or turn them off.';
      this.enable.disabled = none || this.working;
      if (this.state === 'on' && !none) void this.run(() => this.save());
    };
    this.groups.addEventListener('change', changed);
    this.whileOnline.addEventListener('change', changed);
    // a menu: a click elsewhere closes it
    document.addEventListener('click', (e) => {
      if (this.menu.open && !this.menu.contains(e.target as Node)) this.menu.open = false;
    });
    this.menu.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.menu.open) {
        this.menu.open = false;
        this.menu.querySelector('summary')?.focus();
      }
    });
    this.show('checking');
    void this.check();
  }

  /** The state on load, from what the browser and the hub already have: nothing is asked. */
  async check(): Promise<void> {
    try {
      this.show(await this.current());
    } catch (err) {
      this.show('off');
      this.error.textContent = `Could not read this device's notification settings${because(err)}.`;
    }
  }

  private async current(): Promise<PushState> {
    this.hub = undefined;
    if (!pushSupported()) return 'unsupported';
    if (Notification.permission === 'denied') return 'blocked';
    const sub = await this.browserSubscription();
    if (!sub || Notification.permission !== 'granted') return 'off';
    // the browser's subscription may be another trader's of this browser, or gone at the hub
    const { items } = await this.client.rest<{ items: HubSubscription[] }>(
      'GET',
      '/api/v1/push/subscriptions',
    );
    this.hub = items.find((s) => s.endpoint === sub.endpoint);
    if (!this.hub) return 'off';
    this.fill(this.hub);
    return 'on';
  }

  private async browserSubscription(): Promise<PushSubscription | null> {
    const reg = await navigator.serviceWorker.getRegistration('/');
    return (await reg?.pushManager.getSubscription()) ?? null;
  }

  private events(): string[] {
    return PUSH_GROUPS.filter(
      (g) => (this.groups.elements.namedItem(g.key) as HTMLInputElement | null)?.checked,
    ).flatMap((g) => [...g.events]);
  }

  private fill(s: HubSubscription): void {
    for (const g of PUSH_GROUPS) {
      const box = this.groups.elements.namedItem(g.key) as HTMLInputElement;
      const some = g.events.filter((e) => s.events.includes(e)).length;
      box.checked = some > 0;
      // the API may have chosen part of a group: saving from here takes the whole group
      box.indeterminate = some > 0 && some < g.events.length;
    }
    this.whileOnline.checked = s.whileOnline;
  }

  private async run(step: () => Promise<void>): Promise<void> {
    if (this.working) return;
    this.working = true;
    this.error.textContent = '';
    this.saved.textContent = '';
    this.enable.disabled = true;
    this.off.disabled = true;
    this.menu.dataset.busy = 'true';
    try {
      await step();
    } finally {
      this.working = false;
      delete this.menu.dataset.busy;
      this.enable.disabled = this.events().length === 0;
      this.off.disabled = false;
    }
  }

  /**
   * The click: the permission first (while the click still counts as the trader's gesture), then
   * the worker, the push subscription with the hub's key, and the hub's record of it.
   */
  private async turnOn(): Promise<void> {
    if (!pushSupported()) return this.show('unsupported');
    const events = this.events();
    if (events.length === 0) {
      this.error.textContent = 'Choose at least one kind of notification.';
      return;
    }
    // granted already: the browser answers at once, without asking again
    const permission = await Notification.requestPermission();
    if (permission === 'denied') {
      this.show('blocked');
      this.error.textContent =
        'Notifications were not allowed: your browser blocks them for this site. Allow them in the site settings, then try again.';
      return;
    }
    if (permission !== 'granted') {
      this.show('off');
      this.error.textContent =
        'Notifications were not allowed: the browser’s question was closed without an answer. Click the button to be asked again.';
      return;
    }
    let reg: ServiceWorkerRegistration;
    try {
      await navigator.serviceWorker.register(SW_URL, { scope: '/' });
      // the worker must be active before it can subscribe
      reg = await navigator.serviceWorker.ready;
    } catch (err) {
      this.show('off');
      this.error.textContent = `The browser could not install the dashboard's notification worker${because(err)}.`;
      return;
    }
    let key: Uint8Array<ArrayBuffer>;
    try {
      key = base64urlBytes(
        (await this.client.rest<{ publicKey: string }>('GET', '/api/v1/push/key')).publicKey,
      );
    } catch (err) {
      this.show('off');
      this.error.textContent = `The hub's notification key could not be loaded${because(err)}. Try again later.`;
      return;
    }
    let sub = await reg.pushManager.getSubscription();
    // a subscription made for another key (the hub's key changed) cannot be used by the hub
    if (sub && !sameBytes(sub.options.applicationServerKey, key)) {
      await sub.unsubscribe().catch(() => {});
      sub = null;
    }
    const fresh = !sub;
    try {
      sub ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
    } catch (err) {
      this.show('off');
      this.error.textContent = `This browser could not subscribe to its push service${because(err)}. Private windows, and browsers without a push service, cannot receive notifications. They stay off on this device.`;
      return;
    }
    try {
      await this.post(sub, events);
    } catch (err) {
      // the hub does not know it: the browser's subscription would only wait for nothing
      if (fresh) await sub.unsubscribe().catch(() => {});
      this.show('off');
      this.error.textContent = `The hub did not save this device's subscription${because(err)}. Notifications stay off.`;
      return;
    }
    this.show('on');
  }

  private async post(sub: PushSubscription, events: string[]): Promise<void> {
    const json = sub.toJSON();
    this.hub = await this.client.rest<HubSubscription>('POST', '/api/v1/push/subscriptions', {
      endpoint: json.endpoint ?? sub.endpoint,
      keys: { p256dh: json.keys?.p256dh, auth: json.keys?.auth },
      events,
      whileOnline: this.whileOnline.checked,
    });
    this.fill(this.hub);
  }

  /** A changed choice while on: the same endpoint again, which updates it. */
  private async save(): Promise<void> {
    try {
      const sub = await this.browserSubscription();
      if (!sub) {
        this.show('off');
        this.error.textContent = 'This device’s subscription is gone: enable notifications again.';
        return;
      }
      await this.post(sub, this.events());
      this.saved.textContent = 'Saved.';
    } catch (err) {
      this.error.textContent = `Your choice was not saved${because(err)}.`;
    }
  }

  /** Off for this device: the hub forgets it and the browser unsubscribes. */
  private async turnOff(): Promise<void> {
    try {
      await this.forgetDevice();
      this.show('off');
    } catch (err) {
      this.error.textContent = `Notifications could not be turned off${because(err)}. Try again.`;
    }
  }

  private async forgetDevice(): Promise<void> {
    const sub = await this.browserSubscription();
    if (this.hub) {
      try {
        await this.client.rest('DELETE', `/api/v1/push/subscriptions/${encodeURIComponent(this.hub.id)}`);
      } catch (err) {
        // already gone at the hub (the push service said it expired): nothing to undo there
        if ((err as { code?: string }).code !== 'NOT_FOUND') throw err;
      }
      this.hub = undefined;
    }
    await sub?.unsubscribe();
  }

  /**
   * Logging out ends this trader's notifications on this device (another person may use the
   * browser next); bounded, so a slow answer never holds the logout.
   */
  async beforeLogout(): Promise<void> {
    if (this.state !== 'on') return;
    await withTimeout(
      this.forgetDevice().catch(() => {}),
      3_000,
    );
  }

  private show(state: PushState): void {
    this.state = state;
    this.menu.dataset.state = state;
    this.stateLine.dataset.state = state;
    this.stateLine.textContent = STATE_TEXT[state];
    this.summaryState.textContent = SUMMARY_TEXT[state];
    const possible = state === 'off' || state === 'on' || state === 'blocked';
    this.groups.disabled = !possible;
    this.whileOnline.disabled = !possible;
    // blocked: the button stays, a click says what to do (the browser will not ask again)
    this.enable.hidden = state === 'on' || state === 'unsupported' || state === 'checking';
    this.off.hidden = state !== 'on';
  }
}
