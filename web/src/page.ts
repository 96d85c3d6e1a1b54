// One page of a cursor-paged REST list (GET /api/v1/listings, /swaps, /trades).
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
