// Bicubic resampling of an RGBA image as Pillow does it (Resample.c): a = -0.5, the filter
// widened by the scale when shrinking (antialias), 22-bit fixed-point weights, a horizontal
// pass rounded to bytes, then a vertical one. The server resizes with Pillow, so the same
// arithmetic here gives the model the same pixels (up to the two JPEG decoders).

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);

function bicubic(x) {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

/**
 * For each output pixel, the first source pixel and the fixed-point weights of the source
 * pixels it reads. `in0`, `in1`: the source box along this axis (Pillow passes it as floats).
 */
export function coefficients(inSize, in0, in1, outSize) {
  const box0 = Math.fround(in0);
  const scale = Math.fround(Math.fround(in1) - box0) / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 2 * filterScale;
  const ss = 1 / filterScale;
  const taps = [];
  for (let xx = 0; xx < outSize; xx += 1) {
    const center = box0 + (xx + 0.5) * scale;
    const min = Math.max(0, Math.trunc(center - support + 0.5));
    const max = Math.min(inSize, Math.trunc(center + support + 0.5));
    const weights = [];
    let sum = 0;
    for (let x = min; x < max; x += 1) {
      const w = bicubic((x - center + 0.5) * ss);
      weights.push(w);
      sum += w;
    }
    const fixed = weights.map((w) => {
      const k = sum !== 0 ? w / sum : w;
      return Math.trunc(k < 0 ? k * ONE - 0.5 : k * ONE + 0.5);
    });
    taps.push({ min, weights: fixed });
  }
  return taps;
}

function clip8(sum) {
  if (sum >= ONE * 256) return 255;
  if (sum <= 0) return 0;
  return Math.floor(sum / ONE);
}

/** One output pixel (RGB at `out[at]`) of a pass: the weighted source samples
 * `src[base + (tap.min + i) * stride]`, channel by channel. */
function convolve(src, tap, stride, base, out, at) {
  const { min, weights } = tap;
  let r = HALF;
  let g = HALF;
  let b = HALF;
  for (let i = 0; i < weights.length; i += 1) {
    const p = base + (min + i) * stride;
    r += src[p] * weights[i];
    g += src[p + 1] * weights[i];
    b += src[p + 2] * weights[i];
  }
  out[at] = clip8(r);
  out[at + 1] = clip8(g);
  out[at + 2] = clip8(b);
}

/**
 * Resamples the `box` [left, top, right, bottom] (source pixels, fractional) of an RGBA image
 * to `outWidth` x `outHeight` RGB. Pixels outside the box still feed the filter's edges.
 * @param {{data: Uint8ClampedArray | Uint8Array, width: number, height: number}} image RGBA
 * @param {[number, number, number, number]} box
 * @returns {Uint8Array} RGB, row by row
 */
export function resampleBicubic(image, box, outWidth, outHeight) {
  const { data, width, height } = image;
  const horizontal = coefficients(width, box[0], box[2], outWidth);
  const vertical = coefficients(height, box[1], box[3], outHeight);
  // Only the source rows the vertical pass reads go through the horizontal one.
  const firstRow = vertical[0].min;
  const last = vertical[outHeight - 1];
  const rows = last.min + last.weights.length - firstRow;
  const rowBytes = outWidth * 3;

  const temp = new Uint8Array(rowBytes * rows);
  for (let y = 0; y < rows; y += 1) {
    for (let xx = 0; xx < outWidth; xx += 1) {
      convolve(data, horizontal[xx], 4, (y + firstRow) * width * 4, temp, y * rowBytes + xx * 3);
    }
  }
  const out = new Uint8Array(rowBytes * outHeight);
  for (let yy = 0; yy < outHeight; yy += 1) {
    for (let xx = 0; xx < outWidth; xx += 1) {
      convolve(temp, vertical[yy], rowBytes, xx * 3 - firstRow * rowBytes, out, yy * rowBytes + xx * 3);
    }
  }
  return out;
}
