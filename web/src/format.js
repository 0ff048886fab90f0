// Numbers as a shopper reads them.

/** "14.90" EUR -> "€14.90" in the reader's locale; the raw text if the currency is unknown. */
export function formatPrice(price, currency, locale = undefined) {
  const amount = Number(price);
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(amount);
  } catch {
    return `${price} ${currency}`;
  }
}

/** 0.6234 -> "62 %"; below 1 % one decimal, so small shares don't all read "0 %". */
export function formatPercent(fraction) {
  const percent = fraction * 100;
  const digits = percent > 0 && percent < 1 ? 1 : 0;
  return `${percent.toFixed(digits)} %`;
}

/** 12.345 -> "12 ms"; 1234 -> "1.2 s". */
export function formatDuration(ms) {
  if (ms >= 1000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms)} ms`;
}

/** 10485760 -> "10 MB" (binary megabytes, as the limit is set). */
export function formatBytes(bytes) {
  const mb = bytes / (1024 * 1024);
  if (mb >= 1) return `${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB`;
  return `${Math.ceil(bytes / 1024)} KB`;
}
