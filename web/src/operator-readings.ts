// The operator's readings upload: a CSV file (header meter,slot_start,exported_kwh,imported_kwh) sent
// as it is, as text/csv, to POST /api/v1/operator/readings. All or nothing: the answer is the number
// accepted, or every bad row in a table (row, field, message) with a sentence saying nothing was
// saved; readings of a settled slot cannot be replaced (INVALID_STATE, naming the rows).
import { HubClientError } from '../../src/client/index.js';
import { sentenceFor } from './field-messages.js';
import { hubFetch } from './hub-fetch.js';
import type { ReadingIssue } from './market-types.js';
import type { DashboardClient } from './session.js';
import { busy, byId, field, h, setContent, toast } from './ui.js';

/** Largest file sent (the hub takes up to 4 MB, 10,000 rows). */
const MAX_BYTES = 4 * 1024 * 1024;

const COLUMN_LABEL: Record<string, string> = {
  meter: 'meter',
  slot_start: 'slot_start',
  exported_kwh: 'exported_kwh',
  imported_kwh: 'imported_kwh',
  header: 'header',
  body: 'file',
  '': 'whole row',
};

export class ReadingsUpload {
  private readonly form = byId<HTMLFormElement>('readings-form');
  private readonly file = field<HTMLInputElement>(this.form, 'input[type=file]');
  private readonly result = byId('readings-result');
  private readonly issues = byId('readings-issues');

  constructor(private readonly client: DashboardClient) {
    const send = field<HTMLButtonElement>(this.form, 'button[type=submit]');
    this.file.addEventListener('change', () => this.clear());
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void busy(
        send,
        () => this.upload(),
        (err) => this.refused(err),
      );
    });
  }

  private clear(): void {
    this.result.textContent = '';
    delete this.result.dataset.kind;
    setContent(this.issues);
    this.issues.hidden = true;
  }

  private say(text: string, kind: 'ok' | 'error'): void {
    this.result.textContent = text;
    this.result.dataset.kind = kind;
  }

  private async upload(): Promise<void> {
    this.clear();
    const file = this.file.files?.[0];
    if (!file) {
      this.say('Choose a CSV file of readings first.', 'error');
      return;
    }
    if (file.size > MAX_BYTES) {
      this.say('This file is over 4 MB: split it into uploads of at most 10,000 readings.', 'error');
      return;
    }
    const text = await file.text();
    const res = await hubFetch(this.client, 'POST', '/api/v1/operator/readings', {
      body: text,
      contentType: 'text/csv',
    });
    const { accepted } = (await res.json()) as { accepted: number };
    this.say(
      `${accepted === 1 ? '1 reading' : `${accepted} readings`} accepted from ${file.name}. Slots whose meters are all read settle shortly.`,
      'ok',
    );
    toast({
      title: 'Readings accepted',
      body: `${accepted} from ${file.name}`,
      kind: 'success',
      timeoutMs: 4000,
    });
  }

  private refused(err: unknown): void {
    if (!(err instanceof HubClientError)) {
      this.say(sentenceFor(err), 'error');
      return;
    }
    if (err.code === 'VALIDATION_FAILED') {
      const issues = (err.details?.issues ?? []) as ReadingIssue[];
      const rows = new Set(issues.filter((i) => (i.row ?? 0) > 0).map((i) => i.row));
      const whole = issues.some((i) => !i.row);
      const what =
        rows.size > 0
          ? `${rows.size === 1 ? '1 row needs' : `${rows.size} rows need`} a change`
          : whole
            ? 'the file as a whole needs a change'
            : err.message;
      this.say(
        `Nothing was saved: ${what} (an upload is all or nothing). Fix ${rows.size > 1 ? 'them' : 'it'} and upload the file again.`,
        'error',
      );
      if (issues.length) this.table(issues);
      return;
    }
    if (err.code === 'INVALID_STATE') {
      const rows = (err.details?.rows ?? []) as number[];
      this.say(
        `Nothing was saved: ${rows.length ? `row${rows.length === 1 ? '' : 's'} ${rows.join(', ')} replace${rows.length === 1 ? 's' : ''}` : 'some rows replace'} readings of slots already settled, which cannot change. Remove ${rows.length === 1 ? 'that row' : 'those rows'} and upload again.`,
        'error',
      );
      return;
    }
    if (err.code === 'FORBIDDEN') {
      this.say('Only the grid operator can upload readings.', 'error');
      return;
    }
    this.say(`Nothing was saved: ${sentenceFor(err)}`, 'error');
  }

  /** The issues by row: row number (1 the first data row), the column, the hub's message. */
  private table(issues: ReadingIssue[]): void {
    const sorted = [...issues].sort((a, b) => (a.row ?? 0) - (b.row ?? 0));
    setContent(
      this.issues,
      h(
        'table',
        { class: 'grid readings-issues', 'data-testid': 'readings-issues' },
        h('caption', { class: 'sr-only' }, 'Rows of the file that need a change'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col', class: 'num' }, 'Row'),
            h('th', { scope: 'col' }, 'Field'),
            h('th', { scope: 'col' }, 'Problem'),
          ),
        ),
        h(
          'tbody',
          {},
          ...sorted.map((i) =>
            h(
              'tr',
              { 'data-testid': 'readings-issue', 'data-row': String(i.row ?? 0) },
              h(
                'td',
                { class: 'num mono', 'data-label': 'Row', 'data-testid': 'readings-issue-row' },
                i.row ? String(i.row) : '—',
              ),
              h(
                'td',
                { class: 'mono', 'data-label': 'Field', 'data-testid': 'readings-issue-field' },
                COLUMN_LABEL[i.path] ?? i.path,
              ),
              h('td', { 'data-label': 'Problem', 'data-testid': 'readings-issue-message' }, i.message),
            ),
          ),
        ),
      ),
      h(
        'p',
        { class: 'muted small' },
        'Row 1 is the first row after the header. The header is meter,slot_start,exported_kwh,imported_kwh.',
      ),
    );
    this.issues.hidden = false;
  }
}
