import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { formatBytes, formatDuration, formatPercent, formatPrice } from '../src/format.js';

describe('format', () => {
  it('prices in their currency', () => {
    assert.equal(formatPrice('14.90', 'EUR', 'en-GB'), '€14.90');
    assert.equal(formatPrice('14.90', 'not a currency', 'en-GB'), '14.90 not a currency');
  });
  it('percentages, with a decimal for small shares', () => {
    assert.equal(formatPercent(0.6234), '62 %');
    assert.equal(formatPercent(0.0042), '0.4 %');
    assert.equal(formatPercent(0), '0 %');
  });
  it('durations and sizes', () => {
    assert.equal(formatDuration(12.4), '12 ms');
    assert.equal(formatDuration(1234), '1.2 s');
    assert.equal(formatBytes(10 * 1024 * 1024), '10 MB');
    assert.equal(formatBytes(1.5 * 1024 * 1024), '1.5 MB');
    assert.equal(formatBytes(41_000), '41 KB');
  });
});
