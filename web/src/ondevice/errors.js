// What can go wrong running the model in the browser, as codes the page can explain.

export class OnDeviceError extends Error {
  /**
   * @param {'undecodable_photo' | 'unsupported_preprocessing' | 'runtime_failed'} code
   * @param {string} message for developers (the console); the page words it for people
   * @param {{cause?: unknown}} [options]
   */
  constructor(code, message, options = {}) {
    super(message, options);
    this.name = 'OnDeviceError';
    this.code = code;
  }
}
