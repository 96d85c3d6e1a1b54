-- pgbench replay of one swap:propose as the hub sends it (statements captured from Sequelize's
-- log; see src/store/command-runner.ts, swap-repo.ts, listing-repo.ts, event-log.ts): the
-- idempotency look-up outside the transaction, then lock the listing, check for an open swap,
-- insert the swap, its first offer, the outbox event and the idempotency answer, commit.
-- Run with -M extended (the hub binds parameters: parse/bind/execute of unnamed statements) and
-- -D k=0 -D nlistings=N -D nbuyers=M on a database seeded by bench/workloads/negotiate.ts:
-- listings md5('l'||i)::uuid, buyers md5('b'||i)::uuid. Each client walks its own buyers over all
-- listings, so (listing, proposer) never repeats and the one-open-swap rule never trips.
\set li 1 + (:k % :nlistings)
\set bi 1 + :client_id * :nbuyers + ((:k / :nlistings) % :nbuyers)
\set k :k + 1
SELECT command, payload_hash, response FROM idempotency_keys WHERE user_id = md5('b' || (:bi)::int)::uuid AND key = gen_random_uuid()::text;
BEGIN;
SELECT id, owner_id, side, energy_type, volume_wh, available_wh, price_e4, currency, delivery_start, delivery_end, zone, description, status, version, created_at, updated_at FROM listings WHERE id = md5('l' || (:li)::int)::uuid FOR UPDATE \gset
SELECT id AS open_id FROM swaps WHERE listing_id = :id AND initiator_id = md5('b' || (:bi)::int)::uuid AND status = 'open';
INSERT INTO swaps (id, listing_id, initiator_id, recipient_id, buyer_id, seller_id, created_at, status, round, next_actor_id, volume_wh, price_e4, expires_at, accepted_at, close_reason, updated_at) VALUES (gen_random_uuid(), :id, md5('b' || (:bi)::int)::uuid, :owner_id, md5('b' || (:bi)::int)::uuid, :owner_id, now(), 'open', 1, :owner_id, 5000, 1000, now() + interval '10 minutes', NULL, NULL, now()) RETURNING id AS sid \gset
INSERT INTO offers (swap_id, round, author_id, volume_wh, price_e4, note, created_at) VALUES (:sid, 1, md5('b' || (:bi)::int)::uuid, 5000, 1000, '', now());
INSERT INTO events (id, type, at, user_a, user_b, data) VALUES ((pg_current_xact_id()::text::bigint << 16) + 0, 'swap.proposed', now(), md5('b' || (:bi)::int)::uuid, :owner_id, '{"id":"0b3f5c1e-8d5a-4c1b-9a57-2f0e6f1c9d41","listingId":"6a1b7f0e-2c3d-4e5f-8a9b-0c1d2e3f4a5b","initiatorId":"1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b","recipientId":"9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d","buyerId":"1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b","sellerId":"9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d","status":"open","round":1,"nextActorId":"9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d","volumeKwh":"5.000","pricePerKwh":"0.1000","expiresAt":"2026-11-26T10:10:00.000Z","createdAt":"2026-11-26T10:00:00.000Z","updatedAt":"2026-11-26T10:00:00.000Z"}'::jsonb);
INSERT INTO idempotency_keys (user_id, key, command, payload_hash, response) VALUES (md5('b' || (:bi)::int)::uuid, gen_random_uuid()::text, 'swap:' || 'propose', '\x9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'::bytea, '{"id":"0b3f5c1e-8d5a-4c1b-9a57-2f0e6f1c9d41","listingId":"6a1b7f0e-2c3d-4e5f-8a9b-0c1d2e3f4a5b","initiatorId":"1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b","recipientId":"9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d","buyerId":"1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b","sellerId":"9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d","status":"open","round":1,"nextActorId":"9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d","volumeKwh":"5.000","pricePerKwh":"0.1000","expiresAt":"2026-11-26T10:10:00.000Z","createdAt":"2026-11-26T10:00:00.000Z","updatedAt":"2026-11-26T10:00:00.000Z"}'::jsonb);
COMMIT;
