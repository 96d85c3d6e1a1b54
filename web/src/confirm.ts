// A question before an irreversible action with consequences for others (cancelling a listing
// voids its open offers): a modal alert dialog that says what will happen, focus on the safe choice.
import { h } from './ui.js';

export interface ConfirmOptions {
  title: string;
  body: string;
  confirmLabel: string;
  cancelLabel?: string;
}

/** Resolves true when the trader confirms, false on Keep, Escape or closing the dialog. */
export function confirmAction(opts: ConfirmOptions): Promise<boolean> {
  const back = document.activeElement as HTMLElement | null;
  const titleId = 'confirm-title';
  const bodyId = 'confirm-body';
  const keep = h(
    'button',
    { type: 'button', class: 'btn', 'data-testid': 'confirm-keep' },
    opts.cancelLabel ?? 'Keep it',
  );
  const yes = h(
    'button',
    { type: 'button', class: 'btn danger', 'data-testid': 'confirm-yes' },
    opts.confirmLabel,
  );
  const dialog = h(
    'dialog',
    {
      role: 'alertdialog',
      'aria-labelledby': titleId,
      'aria-describedby': bodyId,
      'data-testid': 'confirm-dialog',
    },
    h(
      'div',
      { class: 'stack dialog-form' },
      h('h2', { id: titleId }, opts.title),
      h('p', { id: bodyId }, opts.body),
      h('div', { class: 'dialog-actions' }, keep, yes),
    ),
  );
  document.body.append(dialog);
  return new Promise((resolve) => {
    const done = (answer: boolean) => {
      dialog.close();
      dialog.remove();
      if (back?.isConnected) back.focus();
      resolve(answer);
    };
    keep.addEventListener('click', () => done(false));
    yes.addEventListener('click', () => done(true));
    dialog.addEventListener('cancel', (ev) => {
      ev.preventDefault();
      done(false);
    });
    dialog.showModal();
    keep.focus();
  });
}
