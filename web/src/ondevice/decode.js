// A photo file to upright RGBA pixels with transparency flattened, as the server's decoder
// gives them: EXIF orientation applied, colour profiles ignored (Pillow ignores them too).
import { OnDeviceError } from './errors.js';

/**
 * @param {Blob} file
 * @param {object} record the model's published `preprocessing` (`exif_orientation`,
 *   `alpha_background`)
 * @returns {Promise<ImageData>}
 */
export async function decodePhoto(file, record) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, {
      imageOrientation: record.exif_orientation === 'apply' ? 'from-image' : 'none',
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
    });
  } catch (error) {
    throw new OnDeviceError('undecodable_photo', 'this browser cannot decode the photo', { cause: error });
  }
  try {
    const { width, height } = bitmap;
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    const [r, g, b] = record.alpha_background;
    context.fillStyle = `rgb(${r} ${g} ${b})`;
    context.fillRect(0, 0, width, height);
    context.drawImage(bitmap, 0, 0);
    return context.getImageData(0, 0, width, height);
  } finally {
    bitmap.close();
  }
}
