// What a zone of the market profile shows when its configuration gives only its id.

/** The contract's defaults: a zone given only its id. */
export const DEFAULT_ZONE = {
  timeZone: 'UTC',
  slotMinutes: 60,
  gateLeadMinutes: 60,
  minStepKwh: '0.001',
  priceTick: '0.0001',
  minPrice: '0.0000',
  maxPrice: '5.0000',
  capFactor: '0.5',
  fees: {
    wheelingBuyerPerKwh: '0.0250',
    wheelingSellerPerKwh: '0.0300',
    platformPercent: '1.0',
    platformCapPerKwh: '0.0042',
  },
  settlement: {
    method: 'min_of_two',
    allocation: 'pro_rata',
    delayMinutes: 120,
    shortPricePerKwh: '0.3000',
    longPricePerKwh: '0.0500',
  },
};
