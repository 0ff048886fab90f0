// An upright RGBA photo to the model's input tensor, step by step as GET /models/{name}
// publishes in `preprocessing`: resize the short side, centre-crop, normalise, lay out. Every
// size and constant comes from that record, so a model with other numbers needs no new code.
import { OnDeviceError } from './errors.js';
import { resampleBicubic } from './resample.js';

/** What this code knows how to follow; a record asking for anything else is refused. */
const SUPPORTED = {
  channel_order: 'RGB',
  layout: 'NCHW',
  interpolation: 'bicubic',
  offset: 'floor((resized - crop) / 2)',
};

function unsupported(what) {
  return new OnDeviceError('unsupported_preprocessing', `the model asks for ${what}, which this page cannot do`);
}

/** Throws an OnDeviceError unless every step of `record` is one this page does. */
export function checkSupported(record) {
  const asked = {
    channel_order: record.channel_order,
    layout: record.layout,
    interpolation: record.resize.interpolation,
    offset: record.crop.offset,
  };
  for (const [step, value] of Object.entries(asked)) {
    if (value !== SUPPORTED[step]) throw unsupported(`${step} ${value}`);
  }
  if (!record.resize.antialias) throw unsupported('a resize without antialias');
  if (record.exif_orientation !== 'apply') {
    throw unsupported(`exif_orientation ${record.exif_orientation}`);
  }
}

/** [width, height] after scaling the short side to `shortSide`; the long side floored. */
export function resizedSize(width, height, shortSide) {
  const short = Math.max(1, Math.min(width, height));
  if (width <= height) return [shortSide, Math.max(shortSide, Math.floor((shortSide * height) / short))];
  return [Math.max(shortSide, Math.floor((shortSide * width) / short)), shortSide];
}

/** The source box [left, top, right, bottom] that becomes the centre crop of the resize. */
export function cropBox(width, height, record) {
  const [resizedW, resizedH] = resizedSize(width, height, record.resize.short_side);
  const { width: cropW, height: cropH } = record.crop;
  const left = Math.floor((resizedW - cropW) / 2);
  const top = Math.floor((resizedH - cropH) / 2);
  const sx = width / resizedW;
  const sy = height / resizedH;
  return [left * sx, top * sy, (left + cropW) * sx, (top + cropH) * sy];
}

/**
 * @param {{data: Uint8ClampedArray | Uint8Array, width: number, height: number}} image
 *   upright RGBA, alpha already flattened onto `record.alpha_background`
 * @param {object} record the model's published `preprocessing`
 * @returns {Float32Array} [1, 3, crop height, crop width], (pixel - mean[c]) / std[c]
 */
export function toInputTensor(image, record) {
  checkSupported(record);
  const { width, height } = record.crop;
  const rgb = resampleBicubic(image, cropBox(image.width, image.height, record), width, height);
  const { mean, std } = record.normalize;
  const plane = width * height;
  const tensor = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i += 1) {
    for (let c = 0; c < 3; c += 1) {
      tensor[c * plane + i] = (rgb[i * 3 + c] - mean[c]) / std[c];
    }
  }
  return tensor;
}
