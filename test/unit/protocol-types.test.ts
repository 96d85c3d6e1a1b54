// The socket commands' types travel from one map (CommandMap in src/gateway/protocol.ts) to the
// event maps, the server's handlers, the bundled client and the dashboard. vitest runs these
// expectTypeOf calls as no-ops; `tsc -p tsconfig.json` (npm run typecheck) is what fails when the
// map, a handler and the client drift apart.
import { describe, expect, expectTypeOf, test } from 'vitest';
import type { z } from 'zod';
import { type HubClient, HubClientError, isErrorCode } from '../../src/client/index.js';
import type { CommandArgs, Lenient } from '../../src/client/types.js';
import { ERROR_STATUS, type ErrorCode } from '../../src/domain/errors.js';
import type { ListingView } from '../../src/domain/listing.js';
import type {
  answerCommand,
  cancelListingCommand,
  counterCommand,
  createListingCommand,
  FeedFilter,
  proposeCommand,
  withdrawCommand,
} from '../../src/domain/schemas.js';
import type { SwapView } from '../../src/domain/swap.js';
import type { feedSubscribeInput, refreshInput } from '../../src/gateway/command-schemas.js';
import type { CommandSpec } from '../../src/gateway/commands.js';
import type {
  Ack,
  ClientToServerEvents,
  CommandData,
  CommandInput,
  CommandMap,
  CommandName,
  CommandParsed,
} from '../../src/gateway/protocol.js';

type Without<T> = Omit<T, 'requestId'>;
type Arg<M extends keyof HubClient, I extends number = 0> = HubClient[M] extends (...a: infer P) => unknown
  ? P[I]
  : never;
type Result<M extends keyof HubClient> = HubClient[M] extends (...a: never[]) => infer R ? R : never;

describe('the command map', () => {
  test('lists the commands of PROTOCOL.md, each with its ack data', () => {
    expectTypeOf<CommandName>().toEqualTypeOf<
      | 'listing:create'
      | 'listing:cancel'
      | 'listing:amend'
      | 'swap:propose'
      | 'swap:counter'
      | 'swap:accept'
      | 'swap:reject'
      | 'swap:withdraw'
      | 'feed:subscribe'
      | 'feed:unsubscribe'
      | 'auth:refresh'
    >();
    expectTypeOf<CommandData<'listing:create'>>().toEqualTypeOf<ListingView>();
    expectTypeOf<CommandData<'listing:cancel'>>().toEqualTypeOf<ListingView>();
    expectTypeOf<CommandData<'listing:amend'>>().toEqualTypeOf<ListingView>();
    expectTypeOf<CommandData<'swap:propose'>>().toEqualTypeOf<SwapView>();
    expectTypeOf<CommandData<'swap:counter'>>().toEqualTypeOf<SwapView>();
    expectTypeOf<CommandData<'swap:accept'>>().toEqualTypeOf<SwapView>();
    expectTypeOf<CommandData<'swap:reject'>>().toEqualTypeOf<SwapView>();
    expectTypeOf<CommandData<'swap:withdraw'>>().toEqualTypeOf<SwapView>();
    expectTypeOf<CommandData<'feed:subscribe'>>().toEqualTypeOf<{ filter: FeedFilter }>();
    expectTypeOf<CommandData<'feed:unsubscribe'>>().toEqualTypeOf<Record<string, never>>();
    expectTypeOf<CommandData<'auth:refresh'>>().toEqualTypeOf<{ accessExpiresAt: string }>();
  });

  test('takes each input from its zod schema', () => {
    expectTypeOf<CommandInput<'listing:create'>>().toEqualTypeOf<z.input<typeof createListingCommand>>();
    expectTypeOf<CommandInput<'listing:cancel'>>().toEqualTypeOf<z.input<typeof cancelListingCommand>>();
    expectTypeOf<CommandInput<'swap:propose'>>().toEqualTypeOf<z.input<typeof proposeCommand>>();
    expectTypeOf<CommandInput<'swap:counter'>>().toEqualTypeOf<z.input<typeof counterCommand>>();
    expectTypeOf<CommandInput<'swap:accept'>>().toEqualTypeOf<z.input<typeof answerCommand>>();
    expectTypeOf<CommandInput<'swap:reject'>>().toEqualTypeOf<z.input<typeof answerCommand>>();
    expectTypeOf<CommandInput<'swap:withdraw'>>().toEqualTypeOf<z.input<typeof withdrawCommand>>();
    expectTypeOf<CommandInput<'feed:subscribe'>>().toEqualTypeOf<z.input<typeof feedSubscribeInput>>();
    expectTypeOf<CommandInput<'auth:refresh'>>().toEqualTypeOf<z.input<typeof refreshInput>>();
    // what a client sends is the schema's input (decimal strings or numbers, ISO times), not its output
    expectTypeOf<CommandInput<'swap:propose'>['volumeKwh']>().toEqualTypeOf<string | number>();
    expectTypeOf<CommandParsed<'swap:propose'>['volumeKwh']>().toEqualTypeOf<bigint>();
  });
});

describe('ClientToServerEvents', () => {
  test('is the map: payload its input, ack its data', () => {
    type Payloads = { [K in CommandName]: Parameters<ClientToServerEvents[K]>[0] };
    type Acks = { [K in CommandName]: Parameters<ClientToServerEvents[K]>[1] };
    expectTypeOf<Payloads>().toEqualTypeOf<{ [K in CommandName]: z.input<CommandMap[K]['schema']> }>();
    expectTypeOf<Acks>().toEqualTypeOf<{ [K in CommandName]: Ack<CommandMap[K]['data']> }>();
    expectTypeOf<Parameters<ClientToServerEvents['swap:accept']>[1]>().toEqualTypeOf<Ack<SwapView>>();
  });
});

describe('the server handlers', () => {
  test('run on the parsed input and resolve with the ack data of their command', () => {
    expectTypeOf<Parameters<CommandSpec<'swap:propose'>['run']>[0]>().toEqualTypeOf<
      z.output<typeof proposeCommand>
    >();
    expectTypeOf<ReturnType<CommandSpec<'swap:accept'>['run']>>().toEqualTypeOf<Promise<SwapView>>();
    expectTypeOf<ReturnType<CommandSpec<'listing:create'>['run']>>().toEqualTypeOf<Promise<ListingView>>();
    expectTypeOf<ReturnType<CommandSpec<'auth:refresh'>['run']>>().toEqualTypeOf<
      Promise<{ accessExpiresAt: string }>
    >();
  });

  test('a handler that answers the wrong data, or parses with the wrong schema, does not compile', () => {
    const swap = {} as SwapView;
    const listing = {} as ListingView;
    const answer = {} as typeof answerCommand;
    const propose = {} as typeof proposeCommand;
    const right: CommandSpec<'swap:accept'> = { schema: answer, run: async () => swap };
    const wrongData: CommandSpec<'swap:accept'> = {
      schema: answer,
      // @ts-expect-error swap:accept answers a swap, not a listing
      run: async () => listing,
    };
    const wrongSchema: CommandSpec<'swap:accept'> = {
      // @ts-expect-error swap:accept is not parsed by swap:propose's schema
      schema: propose,
      run: async () => swap,
    };
    expect([right, wrongData, wrongSchema]).toHaveLength(3);
  });
});

describe('the bundled client', () => {
  test("takes each command's input without requestId and resolves with its ack data", () => {
    expectTypeOf<Arg<'propose'>>().toEqualTypeOf<Without<z.input<typeof proposeCommand>>>();
    expectTypeOf<Arg<'counter'>>().toEqualTypeOf<Without<z.input<typeof counterCommand>>>();
    expectTypeOf<Arg<'cancelListing'>>().toEqualTypeOf<z.input<typeof cancelListingCommand>['listingId']>();
    expectTypeOf<Arg<'accept'>>().toEqualTypeOf<z.input<typeof answerCommand>['swapId']>();
    expectTypeOf<Arg<'accept', 1>>().toEqualTypeOf<z.input<typeof answerCommand>['round']>();
    expectTypeOf<Arg<'withdraw'>>().toEqualTypeOf<z.input<typeof withdrawCommand>['swapId']>();

    expectTypeOf<Result<'createListing'>>().toEqualTypeOf<Promise<ListingView>>();
    expectTypeOf<Result<'cancelListing'>>().toEqualTypeOf<Promise<ListingView>>();
    expectTypeOf<Result<'propose'>>().toEqualTypeOf<Promise<SwapView>>();
    expectTypeOf<Result<'counter'>>().toEqualTypeOf<Promise<SwapView>>();
    expectTypeOf<Result<'accept'>>().toEqualTypeOf<Promise<SwapView>>();
    expectTypeOf<Result<'reject'>>().toEqualTypeOf<Promise<SwapView>>();
    expectTypeOf<Result<'withdraw'>>().toEqualTypeOf<Promise<SwapView>>();
    expectTypeOf<Result<'subscribeFeed'>>().toEqualTypeOf<Promise<{ filter: FeedFilter }>>();
  });

  test('leaves closed sets of strings open (the hub validates them), and nothing else', () => {
    type Create = Without<z.input<typeof createListingCommand>>;
    type Subscribe = Without<z.input<typeof feedSubscribeInput>>;
    expectTypeOf<Arg<'createListing'>>().toEqualTypeOf<Lenient<Create>>();
    expectTypeOf<NonNullable<Arg<'subscribeFeed'>>>().toEqualTypeOf<Lenient<Subscribe>>();
    expectTypeOf<keyof Arg<'createListing'>>().toEqualTypeOf<keyof Create>();
    expectTypeOf<Create>().toExtend<Arg<'createListing'>>();
    expectTypeOf<Arg<'createListing'>['volumeKwh']>().toEqualTypeOf<Create['volumeKwh']>();
    expectTypeOf<{ energyType: string }>().toExtend<Pick<Arg<'createListing'>, 'energyType'>>();
    expectTypeOf<CommandArgs<'swap:propose'>>().toEqualTypeOf<Without<z.input<typeof proposeCommand>>>();
  });

  test('gives errors the closed union of protocol codes', () => {
    expectTypeOf<HubClientError['code']>().toEqualTypeOf<ErrorCode>();
    for (const code of Object.keys(ERROR_STATUS)) expect(isErrorCode(code)).toBe(true);
    expect(isErrorCode('NOT_A_CODE')).toBe(false);
    expect(isErrorCode('toString')).toBe(false);
    expect(new HubClientError('CONFLICT', 'taken').code).toBe('CONFLICT');
  });
});
