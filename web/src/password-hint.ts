// Live feedback on a new password while it is typed. The hub is the judge (it refuses guessable
// passwords with VALIDATION_FAILED and a reason, shown at the field); this only catches the plain
// cases early: length, repeated characters, runs like "abcd" or "1234", the trader's own name or email.

/** What is wrong with `pw` in one sentence, or undefined when nothing obvious is. */
export function passwordProblem(pw: string, personal: string[] = []): string | undefined {
  if (pw.length < 10)
    return `Too short: ${10 - pw.length} more character${pw.length === 9 ? '' : 's'} at least.`;
  if (pw.length > 128) return 'Too long: at most 128 characters.';
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

/** Updates `hint` as `input` changes; `personal` gives the name and email typed so far. */
export function wirePasswordHint(input: HTMLInputElement, hint: HTMLElement, personal: () => string[]): void {
  const update = () => {
    const pw = input.value;
    if (!pw) {
      hint.textContent = 'At least 10 characters; avoid repeats, runs and your own name.';
      hint.dataset.kind = '';
      return;
    }
    const problem = passwordProblem(pw, personal());
    hint.textContent = problem ?? 'Looks reasonable. The hub also checks it against common passwords.';
    hint.dataset.kind = problem ? 'warn' : 'ok';
  };
  input.addEventListener('input', update);
  update();
}
