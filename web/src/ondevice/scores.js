// A model's output as the top classes a person reads, the way the worker turns it into
// predictions: the published activation over the outputs, then the k most likely.

/** Softmax, computed from the largest logit down so that exp() cannot overflow. */
export function softmax(logits) {
  let max = -Infinity;
  for (const value of logits) max = Math.max(max, value);
  const exps = Array.from(logits, (value) => Math.exp(value - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((value) => value / sum);
}

/**
 * @param {ArrayLike<number>} output the model's output for one photo
 * @param {string} activation the record's `output_activation`
 * @param {number} k how many classes
 * @param {string[]} labels class names by class id
 * @returns {{class_id: number, label: string, confidence: number}[]} most likely first
 */
export function topClasses(output, activation, k, labels) {
  if (activation !== 'softmax') throw new Error(`unknown output activation ${activation}`);
  const probabilities = softmax(output);
  return probabilities
    .map((confidence, classId) => ({ class_id: classId, label: labels[classId] ?? `class ${classId}`, confidence }))
    .sort((a, b) => b.confidence - a.confidence || a.class_id - b.class_id)
    .slice(0, k);
}
