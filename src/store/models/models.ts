import {
  type CreationOptional,
  DataTypes,
  type InferAttributes,
  type InferCreationAttributes,
  type Model,
  type ModelAttributes,
  type ModelStatic,
  type Sequelize,
} from 'sequelize';

// A Sequelize model per table of the schema (src/store/db/migrations): the ORM is how the hub
// reads and writes accounts, logins, meters, the market's pages and the history (docs/decisions.md, "One
// style per concern"). Attributes are camelCase, columns snake_case (`underscored`). bigint
// columns read as text, as pg gives them: quantities stay exact. The schema itself is the
// migrations'; these models never sync.

export interface UserModel extends Model<InferAttributes<UserModel>, InferCreationAttributes<UserModel>> {
  id: string;
  email: string;
  passwordHash: string;
  displayName: string;
  createdAt: CreationOptional<Date>;
  disabledAt: CreationOptional<Date | null>;
}

export interface RefreshTokenModel
  extends Model<InferAttributes<RefreshTokenModel>, InferCreationAttributes<RefreshTokenModel>> {
  id: string;
  userId: string;
  familyId: string;
  tokenHash: Buffer;
  expiresAt: Date;
  spentAt: CreationOptional<Date | null>;
  revokedAt: CreationOptional<Date | null>;
  createdAt: CreationOptional<Date>;
  familyCreatedAt: CreationOptional<Date>;
}

export interface ListingModel
  extends Model<InferAttributes<ListingModel>, InferCreationAttributes<ListingModel>> {
  id: string;
  ownerId: string;
  ownerName: string;
  side: string;
  energyType: string;
  volumeWh: string;
  availableWh: string;
  priceE4: string;
  currency: string;
  deliveryStart: Date;
  deliveryEnd: Date;
  zone: string;
  description: string;
  status: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  meterId: string | null;
  slotMinutes: number | null;
  allOrNone: boolean;
  gateClosesAt: Date;
}

export interface SwapModel extends Model<InferAttributes<SwapModel>, InferCreationAttributes<SwapModel>> {
  id: string;
  listingId: string;
  initiatorId: string;
  initiatorName: string;
  recipientId: string;
  recipientName: string;
  buyerId: string;
  sellerId: string;
  status: string;
  round: number;
  nextActorId: string | null;
  volumeWh: string;
  priceE4: string;
  expiresAt: Date;
  acceptedAt: Date | null;
  closeReason: string | null;
  createdAt: Date;
  updatedAt: Date;
  sellerMeterId: string | null;
  buyerMeterId: string | null;
  sellerZone: string | null;
  buyerZone: string | null;
  fees: unknown;
  feeSchedule: unknown;
}

export interface OfferModel extends Model<InferAttributes<OfferModel>, InferCreationAttributes<OfferModel>> {
  swapId: string;
  round: number;
  authorId: string;
  volumeWh: string;
  priceE4: string;
  note: string;
  createdAt: Date;
  fees: unknown;
}

export interface EventModel extends Model<InferAttributes<EventModel>, InferCreationAttributes<EventModel>> {
  id: string;
  type: string;
  at: Date;
  userA: string | null;
  userB: string | null;
  data: unknown;
}

export interface OutboxCursorModel
  extends Model<InferAttributes<OutboxCursorModel>, InferCreationAttributes<OutboxCursorModel>> {
  name: string;
  lastId: string;
}

export interface IdempotencyKeyModel
  extends Model<InferAttributes<IdempotencyKeyModel>, InferCreationAttributes<IdempotencyKeyModel>> {
  userId: string;
  key: string;
  command: string;
  payloadHash: Buffer;
  response: unknown;
  createdAt: CreationOptional<Date>;
}

export interface MeterModel extends Model<InferAttributes<MeterModel>, InferCreationAttributes<MeterModel>> {
  id: string;
  ownerId: string;
  externalId: string;
  zone: string;
  exportCapacityW: string;
  importCapacityW: string;
  label: string;
  status: string;
  createdAt: Date;
  retiredAt: CreationOptional<Date | null>;
}

/** A trade on the public tape: nothing of its parties, listing or swap. */
export interface MarketTradeModel
  extends Model<InferAttributes<MarketTradeModel>, InferCreationAttributes<MarketTradeModel>> {
  id: string;
  zone: string;
  energyType: string;
  deliveryStart: Date;
  deliveryEnd: Date;
  volumeWh: string;
  priceE4: string;
  at: Date;
}

/** A meter's contracted volume in one slot and direction: the ledger its limit is held against. */
export interface MeterSlotModel
  extends Model<InferAttributes<MeterSlotModel>, InferCreationAttributes<MeterSlotModel>> {
  meterId: string;
  direction: string;
  slotStart: Date;
  contractedWh: string;
}

/** What a meter exported and imported in one slot (migration 0006), uploaded by an operator. */
export interface MeterReadingModel
  extends Model<InferAttributes<MeterReadingModel>, InferCreationAttributes<MeterReadingModel>> {
  meterId: string;
  slotStart: Date;
  exportedWh: string;
  importedWh: string;
  /** `uploaded`, or `missing`: written as 0 by a settlement that found none */
  source: string;
  uploadedAt: Date;
  /** set by the settlement that used it: from then on it cannot be replaced */
  settledAt: CreationOptional<Date | null>;
}

export interface Models {
  User: ModelStatic<UserModel>;
  RefreshToken: ModelStatic<RefreshTokenModel>;
  Listing: ModelStatic<ListingModel>;
  Swap: ModelStatic<SwapModel>;
  Offer: ModelStatic<OfferModel>;
  Event: ModelStatic<EventModel>;
  OutboxCursor: ModelStatic<OutboxCursorModel>;
  IdempotencyKey: ModelStatic<IdempotencyKeyModel>;
  Meter: ModelStatic<MeterModel>;
  MeterSlot: ModelStatic<MeterSlotModel>;
  MeterReading: ModelStatic<MeterReadingModel>;
  MarketTrade: ModelStatic<MarketTradeModel>;
}

const { BIGINT, BLOB, BOOLEAN, DATE, INTEGER, JSONB, TEXT, UUID } = DataTypes;
// fresh objects for each attribute: Sequelize writes into the definition it is given
const uuid = () => ({ type: UUID, allowNull: false });
const text = () => ({ type: TEXT, allowNull: false });
const time = () => ({ type: DATE, allowNull: false });
const maybeTime = () => ({ type: DATE });
const bigint = () => ({ type: BIGINT, allowNull: false });
/**
 * a NOT NULL column PostgreSQL fills in (DEFAULT now()) when an insert leaves it out: not null
 * in the table, optional to the model, which then leaves it out of its INSERT
 */
const defaultTime = () => ({ type: DATE });

function define<M extends Model>(
  sequelize: Sequelize,
  name: string,
  table: string,
  attributes: ModelAttributes<M>,
): ModelStatic<M> {
  return sequelize.define<M>(name, attributes, { tableName: table, underscored: true, timestamps: false });
}

function defineAll(sequelize: Sequelize): Models {
  const User = define<UserModel>(sequelize, 'User', 'users', {
    id: { ...uuid(), primaryKey: true },
    email: text(),
    passwordHash: text(),
    displayName: text(),
    createdAt: defaultTime(),
    disabledAt: maybeTime(),
  });
  const RefreshToken = define<RefreshTokenModel>(sequelize, 'RefreshToken', 'refresh_tokens', {
    id: { ...uuid(), primaryKey: true },
    userId: uuid(),
    familyId: uuid(),
    tokenHash: { type: BLOB, allowNull: false },
    expiresAt: time(),
    spentAt: maybeTime(),
    revokedAt: maybeTime(),
    createdAt: defaultTime(),
    familyCreatedAt: defaultTime(),
  });
  const Listing = define<ListingModel>(sequelize, 'Listing', 'listings', {
    id: { ...uuid(), primaryKey: true },
    ownerId: uuid(),
    ownerName: text(),
    side: text(),
    energyType: text(),
    volumeWh: bigint(),
    availableWh: bigint(),
    priceE4: bigint(),
    currency: text(),
    deliveryStart: time(),
    deliveryEnd: time(),
    zone: text(),
    description: text(),
    status: text(),
    version: { type: INTEGER, allowNull: false },
    createdAt: time(),
    updatedAt: time(),
    meterId: { type: UUID },
    slotMinutes: { type: INTEGER },
    allOrNone: { type: BOOLEAN, allowNull: false },
    gateClosesAt: time(),
  });
  const Swap = define<SwapModel>(sequelize, 'Swap', 'swaps', {
    id: { ...uuid(), primaryKey: true },
    listingId: uuid(),
    initiatorId: uuid(),
    initiatorName: text(),
    recipientId: uuid(),
    recipientName: text(),
    buyerId: uuid(),
    sellerId: uuid(),
    status: text(),
    round: { type: INTEGER, allowNull: false },
    nextActorId: { type: UUID },
    volumeWh: bigint(),
    priceE4: bigint(),
    expiresAt: time(),
    acceptedAt: maybeTime(),
    closeReason: { type: TEXT },
    createdAt: time(),
    updatedAt: time(),
    sellerMeterId: { type: UUID },
    buyerMeterId: { type: UUID },
    sellerZone: { type: TEXT },
    buyerZone: { type: TEXT },
    fees: { type: JSONB },
    feeSchedule: { type: JSONB },
  });
  const Offer = define<OfferModel>(sequelize, 'Offer', 'offers', {
    swapId: { ...uuid(), primaryKey: true },
    round: { type: INTEGER, allowNull: false, primaryKey: true },
    authorId: uuid(),
    volumeWh: bigint(),
    priceE4: bigint(),
    note: text(),
    createdAt: time(),
    fees: { type: JSONB },
  });
  const Event = define<EventModel>(sequelize, 'Event', 'events', {
    id: { ...bigint(), primaryKey: true },
    type: text(),
    at: time(),
    userA: { type: UUID },
    userB: { type: UUID },
    data: { type: JSONB, allowNull: false },
  });
  const OutboxCursor = define<OutboxCursorModel>(sequelize, 'OutboxCursor', 'outbox_cursor', {
    name: { ...text(), primaryKey: true },
    lastId: bigint(),
  });
  const IdempotencyKey = define<IdempotencyKeyModel>(sequelize, 'IdempotencyKey', 'idempotency_keys', {
    userId: { ...uuid(), primaryKey: true },
    key: { ...text(), primaryKey: true },
    command: text(),
    payloadHash: { type: BLOB, allowNull: false },
    response: { type: JSONB, allowNull: false },
    createdAt: defaultTime(),
  });
  const Meter = define<MeterModel>(sequelize, 'Meter', 'meters', {
    id: { ...uuid(), primaryKey: true },
    ownerId: uuid(),
    externalId: text(),
    zone: text(),
    exportCapacityW: bigint(),
    importCapacityW: bigint(),
    label: text(),
    status: text(),
    createdAt: time(),
    retiredAt: maybeTime(),
  });
  const MarketTrade = define<MarketTradeModel>(sequelize, 'MarketTrade', 'market_trades', {
    id: { ...uuid(), primaryKey: true },
    zone: text(),
    energyType: text(),
    deliveryStart: time(),
    deliveryEnd: time(),
    volumeWh: bigint(),
    priceE4: bigint(),
    at: time(),
  });
  const MeterSlot = define<MeterSlotModel>(sequelize, 'MeterSlot', 'meter_slots', {
    meterId: { ...uuid(), primaryKey: true },
    direction: { ...text(), primaryKey: true },
    slotStart: { ...time(), primaryKey: true },
    contractedWh: bigint(),
  });
  const MeterReading = define<MeterReadingModel>(sequelize, 'MeterReading', 'meter_readings', {
    meterId: { ...uuid(), primaryKey: true },
    slotStart: { ...time(), primaryKey: true },
    exportedWh: bigint(),
    importedWh: bigint(),
    source: text(),
    uploadedAt: time(),
    settledAt: maybeTime(),
  });

  User.hasMany(RefreshToken, { foreignKey: 'userId' });
  RefreshToken.belongsTo(User, { foreignKey: 'userId' });
  Listing.belongsTo(User, { as: 'owner', foreignKey: 'ownerId' });
  Swap.belongsTo(Listing, { foreignKey: 'listingId' });
  Listing.hasMany(Swap, { foreignKey: 'listingId' });
  Swap.hasMany(Offer, { foreignKey: 'swapId' });
  Offer.belongsTo(Swap, { foreignKey: 'swapId' });
  Meter.belongsTo(User, { as: 'owner', foreignKey: 'ownerId' });
  return {
    User,
    RefreshToken,
    Listing,
    Swap,
    Offer,
    Event,
    OutboxCursor,
    IdempotencyKey,
    Meter,
    MeterSlot,
    MeterReading,
    MarketTrade,
  };
}

/**
 * The models of `sequelize`'s database, defined on it the first time they are asked for: they live
 * in its own registry (`isDefined`, `model`), one set per database, never in this module.
 */
export function models(sequelize: Sequelize): Models {
  if (!sequelize.isDefined('User')) return defineAll(sequelize);
  const m = <M extends Model>(name: string) => sequelize.model(name) as ModelStatic<M>;
  return {
    User: m('User'),
    RefreshToken: m('RefreshToken'),
    Listing: m('Listing'),
    Swap: m('Swap'),
    Offer: m('Offer'),
    Event: m('Event'),
    OutboxCursor: m('OutboxCursor'),
    IdempotencyKey: m('IdempotencyKey'),
    Meter: m('Meter'),
    MeterSlot: m('MeterSlot'),
    MarketTrade: m('MarketTrade'),
    MeterReading: m('MeterReading'),
  };
}
