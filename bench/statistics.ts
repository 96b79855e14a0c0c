/**
 * The median of some numbers (the mean of the two middle ones for an even count).
 */
export function median(values: number[]): number {
  if (!values.length) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/**
 * The geometric mean of positive numbers: the fair average of ratios.
 */
export function geometricMean(values: number[]): number {
  if (!values.length) return Number.NaN
  return Math.exp(values.reduce((sum, value) => sum + Math.log(value), 0) / values.length)
}

/**
 * The ratio of each pair measured in the same round, then their median.
 */
export function medianRatio(numerators: number[], denominators: number[]): number {
  return median(numerators.map((value, index) => value / denominators[index]))
}
