// The REST routes of PROTOCOL.md as `METHOD /path` (OpenAPI path syntax), for tests that walk them.

/** routes anyone may call */
export const PUBLIC_ROUTES = [
  'POST /api/v1/auth/register',
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/refresh',
];

/** routes that need an access token */
export const PROTECTED_ROUTES = [
  'POST /api/v1/auth/logout',
  'GET /api/v1/me',
  'GET /api/v1/listings',
  'POST /api/v1/listings',
  'GET /api/v1/listings/{id}',
  'DELETE /api/v1/listings/{id}',
  'GET /api/v1/swaps',
  'GET /api/v1/swaps/{id}',
  'GET /api/v1/trades',
  'GET /api/v1/events',
  // PROTOCOL-MARKET.md
  'GET /api/v1/meters',
  'POST /api/v1/meters',
  'GET /api/v1/meters/{id}',
  'DELETE /api/v1/meters/{id}',
  'GET /api/v1/meters/{id}/slots',
  'GET /api/v1/statements',
  'GET /api/v1/market/trades',
  'GET /api/v1/market/candles',
  'GET /api/v1/market/summary',
  // an operator's alone
  'POST /api/v1/operator/readings',
  'POST /api/v1/operator/curtailments',
  'GET /api/v1/operator/settlements',
];
