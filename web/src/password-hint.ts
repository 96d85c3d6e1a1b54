// Live feedback on a new password while it is typed. The hub is the judge (it refuses guessable
// passwords with VALIDATION_FAILED and a reason, shown at the field); the form says the same thing
// first, with the hub's own estimator and rules (src/domain/auth/password-strength.ts: zxcvbn-ts,
// score >= 3, the email and the display name as inputs). Its dictionaries are a chunk of their own,
// loaded by a dynamic import() when the registration form is shown or first typed into; until it is
// there (or if it cannot be loaded) a simple check stands in: length, repeats, runs, name or email.
import type { PasswordOwner } from '../../src/domain/auth/password-strength.js';

type Estimator = typeof import('../../src/domain/auth/password-strength.js');

/** Wait after the last keystroke before a check (one costs a few ms, the first a few hundred). */
const DEBOUNCE_MS = 150;
/** The hub's length rule (src/http/schemas.ts), checked before the estimator as the hub does. */
const MIN_LENGTH = 10;
const MAX_LENGTH = 128;

const EMPTY = 'At least 10 characters; avoid repeats, runs and your own name.';
export const STRONG_ENOUGH = 'Strong enough.';

let loading: Promise<Estimator> | undefined;

/** Starts loading the estimator's chunk (once); a failed load may be tried again later. */
export function loadEstimator(): Promise<Estimator> {
  loading ??= import('../../src/domain/auth/password-strength.js').catch((err: unknown) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

function lengthProblem(pw: string): string | undefined {
  if (pw.length < MIN_LENGTH)
    return `Too short: ${MIN_LENGTH - pw.length} more character${pw.length === MIN_LENGTH - 1 ? '' : 's'} at least.`;
  if (pw.length > MAX_LENGTH) return `Too long: at most ${MAX_LENGTH} characters.`;
  return undefined;
}

/** The stand-in while the estimator loads: what is wrong with `pw` in one sentence, or undefined. */
export function passwordProblem(pw: string, personal: string[] = []): string | undefined {
  const length = lengthProblem(pw);
  if (length) return length;
  const distinct = new Set(pw.toLowerCase()).size;
  if (distinct <= Math.max(2, Math.floor(pw.length / 4)))
    return 'Too many repeated characters: easy to guess.';
  if (/(.)\1\1\1/.test(pw)) return 'A character repeated four times in a row is easy to guess.';
  let run = 1;
  for (let i = 1; i < pw.length; i++) {
    const step = pw.charCodeAt(i) - pw.charCodeAt(i - 1);
    run = step === 1 || step === -1 ? run + 1 : 1;
    if (run >= 5) return 'A run like "abcde" or "12345" is easy to guess.';
  }
  const lower = pw.toLowerCase();
  for (const p of personal) {
    const part = p.toLowerCase().split('@')[0]?.trim() ?? '';
    if (part.length >= 4 && lower.includes(part)) return 'It contains your name or email: easy to guess.';
  }
  return undefined;
}

/** The password's verdict with the hub's estimator: its sentence, or undefined when it passes. */
export function estimatorProblem(estimator: Estimator, pw: string, owner: PasswordOwner): string | undefined {
  // as the hub reads them: the email trimmed and lower-cased (emailSchema), the name trimmed
  const who = { email: owner.email.trim().toLowerCase(), displayName: owner.displayName.trim() };
  return lengthProblem(pw) ?? estimator.weakPasswordReason(pw, who);
}

/**
 * Updates `hint` (aria-live) as `input` or the other fields of its form change; `owner` gives the
 * email and name typed so far. Returns `prepare`, to call when the form is shown: it loads the
 * estimator before the first keystroke. The submit button is never disabled by this.
 */
export function wirePasswordHint(
  input: HTMLInputElement,
  hint: HTMLElement,
  owner: () => PasswordOwner,
): { prepare: () => void } {
  let estimator: Estimator | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const show = (text: string, kind: '' | 'warn' | 'ok') => {
    if (hint.textContent !== text) hint.textContent = text;
    hint.dataset.kind = kind;
    hint.dataset.checker = estimator ? 'estimator' : 'simple';
  };
  const update = () => {
    clearTimeout(timer);
    const pw = input.value;
    if (!pw) return show(EMPTY, '');
    const who = owner();
    if (!estimator) {
      const problem = passwordProblem(pw, [who.email, who.displayName]);
      return show(
        problem ?? 'Looks reasonable. The hub also checks it against common passwords.',
        problem ? 'warn' : 'ok',
      );
    }
    const problem = estimatorProblem(estimator, pw, who);
    show(problem ?? STRONG_ENOUGH, problem ? 'warn' : 'ok');
  };
  const prepare = () => {
    if (estimator) return;
    loadEstimator().then(
      (loaded) => {
        estimator = loaded;
        update();
      },
      () => {}, // the simple check stays; the hub still judges on submit
    );
  };

  input.addEventListener('focus', prepare);
  (input.form ?? input).addEventListener('input', () => {
    prepare();
    if (estimator) {
      clearTimeout(timer);
      timer = setTimeout(update, DEBOUNCE_MS);
    } else update();
  });
  update();
  return { prepare };
}
