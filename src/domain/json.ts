// Reading JSON text so that no number is rounded before it is validated (PROTOCOL.md, Conventions:
// a JSON number is accepted only if its text has at most 15 significant digits). Both edges read
// their JSON here: the REST body parser (src/http/json-body.ts) and the socket decoder
// (src/gateway/json-parser.ts).
import { parse as parseLossless } from 'lossless-json';

/** Most significant digits a JSON number may have: a double holds every such decimal exactly. */
export const MAX_SIGNIFICANT_DIGITS = 15;

/**
 * A JSON number whose text has more significant digits than a double holds exactly. It stands
 * where the number was so that the schemas refuse it (the quantity schema with a message saying
 * so, every other schema as not a number) instead of validating a rounded value.
 */
export class UnsafeNumber {
  constructor(
    /** the number as the sender wrote it */
    readonly text: string,
  ) {}
}

/** The message given where a quantity was sent as an UnsafeNumber. */
export const UNSAFE_NUMBER_MESSAGE = `a JSON number may have at most ${MAX_SIGNIFICANT_DIGITS} significant digits; send it as a decimal string`;

/**
 * Digits of a JSON number token's mantissa, leading zeros not counted: "0.0120" has 3, "1e5" 1,
 * "2.9999999999999999" 17. Trailing zeros count: they are digits the sender asked to be kept.
 */
export function significantDigits(numberText: string): number {
  let count = 0;
  let leading = true;
  for (let i = 0; i < numberText.length; i++) {
    const c = numberText.charCodeAt(i);
    if (c === 101 || c === 69) break; // e or E: the exponent is not part of the mantissa
    if (c < 48 || c > 57) continue; // sign or decimal point
    if (leading && c === 48) continue;
    leading = false;
    count++;
  }
  return count;
}

/** A number token's value: a number when a double holds it exactly, an UnsafeNumber otherwise. */
export function readNumber(numberText: string): number | UnsafeNumber {
  return significantDigits(numberText) <= MAX_SIGNIFICANT_DIGITS
    ? Number(numberText)
    : new UnsafeNumber(numberText);
}

/**
 * 16 digits with at most a decimal point between two of them. Every number token of more than 15
 * significant digits contains such a run, so text without one is read by JSON.parse unchanged.
 */
const LONG_DIGIT_RUN = /\d(?:\.?\d){15}/;
/**
 * 8 digits in a row: such a run has at least 8 on one side of its point. Written out, not `\d{8}`:
 * V8 skips ahead through a fixed-length pattern (about 30 ns instead of 160 on a typical command,
 * Node 20), so the common case costs little more than JSON.parse alone.
 */
const EIGHT_DIGITS = new RegExp('\\d'.repeat(8));

/** True when `text` may hold a number of more than 15 significant digits (or merely a long digit run in a string). */
export const mayHoldLongNumber = (text: string): boolean =>
  EIGHT_DIGITS.test(text) && LONG_DIGIT_RUN.test(text);

const LOSSLESS = {
  parseNumber: readNumber,
  // JSON.parse keeps the last of duplicate keys; lossless-json would throw: read both ways alike
  onDuplicateKey: ({ newValue }: { newValue: unknown }) => newValue,
};

/** Reads JSON text number by number from the text itself; the rest as JSON.parse would. */
export const readJsonLossless = (text: string): unknown => parseLossless(text, undefined, LOSSLESS);

/**
 * JSON.parse, except that a number of more than 15 significant digits becomes an UnsafeNumber.
 * Text without a long digit run (nearly every message) goes to JSON.parse itself; the rest is read
 * by lossless-json. Throws SyntaxError on invalid JSON, as JSON.parse does.
 */
export function readJson(text: string): unknown {
  return mayHoldLongNumber(text) ? readJsonLossless(text) : JSON.parse(text);
}
