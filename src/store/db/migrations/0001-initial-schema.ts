import type { MigrationContext } from '../migrate.js';

/**
 * The whole schema of PROTOCOL.md v1. Quantities are integers of their smallest unit:
 * energy in Wh (kWh with 3 decimals), prices in 1/10,000 of the currency per kWh.
 */
export async function up({ context: { run } }: { context: MigrationContext }): Promise<void> {
  await run(`
    CREATE TABLE users (
      id            uuid PRIMARY KEY,
      email         text NOT NULL,
      password_hash text NOT NULL,
      display_name  text NOT NULL,
      created_at    timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX users_email_key ON users (email);

    -- Opaque refresh tokens, stored only as a SHA-256 hash. A family is one login; reuse of a
    -- spent token revokes the family.
    CREATE TABLE refresh_tokens (
      id          uuid PRIMARY KEY,
      user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      family_id   uuid NOT NULL,
      token_hash  bytea NOT NULL,
      expires_at  timestamptz NOT NULL,
      spent_at    timestamptz,
      revoked_at  timestamptz,
      created_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (token_hash);
    CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
    CREATE INDEX refresh_tokens_expiry_idx ON refresh_tokens (expires_at);

    CREATE TABLE listings (
      id             uuid PRIMARY KEY,
      owner_id       uuid NOT NULL REFERENCES users (id),
      side           text NOT NULL CHECK (side IN ('supply', 'demand')),
      energy_type    text NOT NULL
                     CHECK (energy_type IN ('solar', 'wind', 'hydro', 'biomass', 'geothermal', 'other')),
      volume_wh      bigint NOT NULL CHECK (volume_wh > 0),
      -- the last line of defence against overselling: never below zero, never above the volume
      available_wh   bigint NOT NULL CHECK (available_wh >= 0 AND available_wh <= volume_wh),
      price_e4       bigint NOT NULL CHECK (price_e4 >= 0),
      currency       text NOT NULL,
      delivery_start timestamptz NOT NULL,
      delivery_end   timestamptz NOT NULL,
      zone           text NOT NULL,
      description    text NOT NULL DEFAULT '',
      status         text NOT NULL CHECK (status IN ('active', 'filled', 'cancelled', 'expired')),
      version        integer NOT NULL DEFAULT 1,
      created_at     timestamptz NOT NULL,
      updated_at     timestamptz NOT NULL,
      CHECK (delivery_start < delivery_end)
    );
    -- market pages: newest first, optionally narrowed by energy type, zone or side
    CREATE INDEX listings_market_idx ON listings (status, created_at DESC, id DESC);
    CREATE INDEX listings_market_type_idx ON listings (status, energy_type, created_at DESC, id DESC);
    CREATE INDEX listings_market_zone_idx ON listings (status, zone, created_at DESC, id DESC);
    CREATE INDEX listings_owner_idx ON listings (owner_id, created_at DESC, id DESC);
    -- gate closure sweep
    CREATE INDEX listings_gate_idx ON listings (delivery_start) WHERE status = 'active';

    CREATE TABLE swaps (
      id            uuid PRIMARY KEY,
      listing_id    uuid NOT NULL REFERENCES listings (id),
      initiator_id  uuid NOT NULL REFERENCES users (id),
      recipient_id  uuid NOT NULL REFERENCES users (id),
      buyer_id      uuid NOT NULL REFERENCES users (id),
      seller_id     uuid NOT NULL REFERENCES users (id),
      status        text NOT NULL
                    CHECK (status IN ('open', 'accepted', 'rejected', 'withdrawn', 'expired', 'voided')),
      round         integer NOT NULL CHECK (round >= 1),
      next_actor_id uuid,
      volume_wh     bigint NOT NULL CHECK (volume_wh > 0),
      price_e4      bigint NOT NULL CHECK (price_e4 >= 0),
      expires_at    timestamptz NOT NULL,
      accepted_at   timestamptz,
      close_reason  text,
      created_at    timestamptz NOT NULL,
      updated_at    timestamptz NOT NULL,
      CHECK (initiator_id <> recipient_id)
    );
    -- one open swap per proposer and listing; also serves "open swaps of a listing"
    CREATE UNIQUE INDEX swaps_open_per_proposer_key ON swaps (listing_id, initiator_id) WHERE status = 'open';
    CREATE INDEX swaps_listing_idx ON swaps (listing_id, updated_at DESC, id DESC);
    CREATE INDEX swaps_expiry_idx ON swaps (expires_at) WHERE status = 'open';
    CREATE INDEX swaps_initiator_idx ON swaps (initiator_id, updated_at DESC, id DESC);
    CREATE INDEX swaps_recipient_idx ON swaps (recipient_id, updated_at DESC, id DESC);
    CREATE INDEX swaps_buyer_trades_idx ON swaps (buyer_id, accepted_at DESC, id DESC) WHERE status = 'accepted';
    CREATE INDEX swaps_seller_trades_idx ON swaps (seller_id, accepted_at DESC, id DESC) WHERE status = 'accepted';

    -- the negotiation thread: one row per round
    CREATE TABLE offers (
      swap_id    uuid NOT NULL REFERENCES swaps (id) ON DELETE CASCADE,
      round      integer NOT NULL,
      author_id  uuid NOT NULL REFERENCES users (id),
      volume_wh  bigint NOT NULL CHECK (volume_wh > 0),
      price_e4   bigint NOT NULL CHECK (price_e4 >= 0),
      note       text NOT NULL DEFAULT '',
      created_at timestamptz NOT NULL,
      PRIMARY KEY (swap_id, round)
    );

    -- The outbox and the history. id = (transaction id << 16) + position in the transaction,
    -- so ids order events by transaction and an id below the oldest running transaction is
    -- final (docs/delivery.md). user_a and user_b are the users the event is addressed to.
    CREATE TABLE events (
      id      bigint PRIMARY KEY,
      type    text NOT NULL,
      at      timestamptz NOT NULL,
      user_a  uuid,
      user_b  uuid,
      data    jsonb NOT NULL
    );
    CREATE INDEX events_user_a_idx ON events (user_a, id) WHERE user_a IS NOT NULL;
    CREATE INDEX events_user_b_idx ON events (user_b, id) WHERE user_b IS NOT NULL;

    -- how far the cluster's outbox relay has published
    CREATE TABLE outbox_cursor (
      name     text PRIMARY KEY,
      last_id  bigint NOT NULL
    );
    INSERT INTO outbox_cursor (name, last_id) VALUES ('relay', 0);

    -- answers of committed commands, by (user, requestId or Idempotency-Key), kept 24 hours
    CREATE TABLE idempotency_keys (
      user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      key          text NOT NULL,
      command      text NOT NULL,
      payload_hash bytea NOT NULL,
      response     jsonb NOT NULL,
      created_at   timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, key)
    );
    CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
  `);
}
