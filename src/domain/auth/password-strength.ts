import { type FeedbackType, ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary as commonDictionary } from '@zxcvbn-ts/language-common';
import { dictionary as englishDictionary, translations } from '@zxcvbn-ts/language-en';

/** The lowest zxcvbn score a new password may have: 3 is "safely unguessable" (>= 10^8 guesses). */
export const MIN_PASSWORD_SCORE = 3;

/**
 * Characters of a password the estimator reads. Its cost grows steeply with length (a 128-character
 * password of symbols took ~0.8 s of CPU with the library's default of 256), and registration is open
 * to anyone; a password whose first 64 characters are unguessable is unguessable.
 */
const ANALYSED_CHARACTERS = 64;

/**
 * Spellings with l33t substitutions undone that are looked up (the library's default is 100: each
 * one is a full dictionary pass). Ten undo the usual `P@ssw0rd` and keep the worst case bounded.
 */
const L33T_VARIANTS = 10;

let estimator: ZxcvbnFactory | undefined;

/** Built once, on the first check: ranking the dictionaries takes a few hundred ms. */
function zxcvbn(): ZxcvbnFactory {
  estimator ??= new ZxcvbnFactory({
    translations: {
      ...translations,
      // the stock sentence ("personal or page related data") reads oddly on a registration form
      warnings: { ...translations.warnings, userInputs: 'It contains your email address or your name.' },
    },
    graphs: adjacencyGraphs,
    dictionary: { ...commonDictionary, ...englishDictionary },
    maxLength: ANALYSED_CHARACTERS,
    l33tMaxSubstitutions: L33T_VARIANTS,
  });
  return estimator;
}

/** Who sets the password: what of them a guesser would try first. */
export interface PasswordOwner {
  email: string;
  displayName: string;
}

/** The email, its local part and the display name, whole and by their words. */
function userInputs({ email, displayName }: PasswordOwner): string[] {
  const at = email.lastIndexOf('@');
  const local = at > 0 ? email.slice(0, at) : email;
  const words = [...local.split(/[._+-]+/), ...displayName.split(/[\s._+-]+/)].filter((w) => w.length >= 3);
  return [...new Set([email, local, displayName, ...words])];
}

function advice(feedback: FeedbackType): string {
  const parts = [feedback.warning, ...feedback.suggestions].filter((s): s is string => Boolean(s));
  if (parts.length === 0) parts.push('Use a longer password of several uncommon words.');
  return `This password is easy to guess. ${parts.join(' ')}`;
}

/**
 * Why `password` is too easy to guess for `owner` (a sentence a person can act on), or undefined
 * when it scores at least MIN_PASSWORD_SCORE. Synchronous, with a bounded cost (see
 * docs/decisions.md, "Password strength").
 */
export function weakPasswordReason(password: string, owner: PasswordOwner): string | undefined {
  const result = zxcvbn().check(password, userInputs(owner));
  return result.score >= MIN_PASSWORD_SCORE ? undefined : advice(result.feedback);
}
